"""`--config FILE`: a KubeSchedulerConfiguration-shaped YAML that enables, disables and
weighs plugins, sets percentageOfNodesToScore, and can load extra plugins by import path.

    apiVersion: kubescheduler.config.k8s.io/v1
    kind: KubeSchedulerConfiguration
    percentageOfNodesToScore: 0
    extraPlugins: ["mypackage.plugins:GpuFilter"]     # kube-py extension
    profiles:
    - schedulerName: default-scheduler
      plugins:
        filter: {disabled: [{name: NodePorts}]}
        score:  {enabled: [{name: NodeResourcesFit, weight: 5}], disabled: [{name: PodTopologySpread}]}
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from scheduler.algorithm import Profile
from scheduler.framework import Plugin
from scheduler.scheduler import DEFAULT_SCHEDULER


class ConfigError(ValueError):
    """A scheduler config that cannot be used; the message says where."""


@dataclass
class SchedulerConfig:
    scheduler_name: str
    profile: Profile


def _load_plugin(path: str) -> type[Plugin]:
    module_name, _, class_name = path.partition(":")
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"extraPlugins: cannot load {path!r}: {exc}") from None
    if not isinstance(cls, type) or not issubclass(cls, Plugin):
        raise ConfigError(f"extraPlugins: {path!r} is not a scheduler plugin class")
    return cls


def parse_config(data: dict[str, Any]) -> SchedulerConfig:
    if not isinstance(data, dict):
        raise ConfigError("scheduler config must be a mapping")
    extra = {cls.name: cls for cls in (_load_plugin(p) for p in data.get("extraPlugins") or [])}
    profiles = data.get("profiles") or [{}]
    first = profiles[0] or {}
    plugins = first.get("plugins") or {}
    disabled: set[str] = set()
    weights: dict[str, int] = {}
    for point in ("filter", "score", "multiPoint"):
        section = plugins.get(point) or {}
        disabled |= {p["name"] for p in section.get("disabled") or [] if p.get("name") != "*"}
        for p in section.get("enabled") or []:
            if point != "filter" and "weight" in p:
                weights[p["name"]] = int(p["weight"])
            disabled.discard(p["name"])
    try:
        profile = Profile.default(disabled=disabled, weights=weights,
                                  percentage=int(first.get("percentageOfNodesToScore",
                                                           data.get("percentageOfNodesToScore", 0)) or 0),
                                  extra=extra)
    except KeyError as exc:
        raise ConfigError(f"unknown plugin {exc}") from None
    return SchedulerConfig(first.get("schedulerName") or DEFAULT_SCHEDULER, profile)


def load_config(path: str | Path) -> SchedulerConfig:
    try:
        data = yaml.safe_load(Path(path).read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read scheduler config {path}: {exc}") from None
    return parse_config(data)
