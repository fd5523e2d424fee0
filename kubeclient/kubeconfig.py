"""kubeconfig loading with kubectl's precedence.

`--kubeconfig FILE` (that file only) beats `$KUBECONFIG` (a merged list, first value of
each name wins), which beats `~/.kube/config`, which beats the kubeconfig `kube-py up`
writes into its data dir. `--server` overrides the server of whatever was chosen.
"""

from __future__ import annotations

import base64
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

DATA_DIR_KUBECONFIG = Path(os.environ.get("KUBE_PY_DATA_DIR", Path.home() / ".kube-py")) / "kubeconfig"


class KubeconfigError(Exception):
    """A kubeconfig that cannot be used, with kubectl's wording where there is one."""


@dataclass
class ClusterConfig:
    server: str
    namespace: str = "default"
    token: str = ""
    ca_file: str = ""
    insecure: bool = False
    context: str = ""


def kubeconfig_paths(explicit: str | Path | None = None) -> list[Path]:
    if explicit:
        return [Path(explicit)]
    env = os.environ.get("KUBECONFIG", "")
    if env:
        return [Path(p) for p in env.split(os.pathsep) if p]
    home = Path.home() / ".kube" / "config"
    if home.exists():
        return [home]
    return [DATA_DIR_KUBECONFIG]


def merged_config(paths: list[Path]) -> dict[str, Any]:
    merged: dict[str, Any] = {"clusters": [], "contexts": [], "users": [], "current-context": ""}
    for path in paths:
        if not path.exists():
            continue
        try:
            data = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as exc:
            raise KubeconfigError(f"error loading config file \"{path}\": {exc}") from None
        for section in ("clusters", "contexts", "users"):
            known = {item.get("name") for item in merged[section]}
            merged[section] += [item for item in data.get(section) or [] if item.get("name") not in known]
        if not merged["current-context"]:
            merged["current-context"] = data.get("current-context", "")
    return merged


def _named(items: list[dict[str, Any]], name: str, what: str) -> dict[str, Any]:
    for item in items:
        if item.get("name") == name:
            return item.get(what) or {}
    return {}


def _ca_file(cluster: dict[str, Any]) -> str:
    if cluster.get("certificate-authority"):
        return str(cluster["certificate-authority"])
    data = cluster.get("certificate-authority-data")
    if not data:
        return ""
    handle = tempfile.NamedTemporaryFile(prefix="kp-ca-", suffix=".crt", delete=False)  # noqa: SIM115
    with handle:
        handle.write(base64.b64decode(data))
    return handle.name


def load_config(explicit: str | Path | None = None, context: str = "", server: str = "") -> ClusterConfig:
    paths = kubeconfig_paths(explicit)
    if explicit and not Path(explicit).exists():
        raise KubeconfigError(f'stat {explicit}: no such file or directory')
    config = merged_config(paths)
    name = context or config.get("current-context", "")
    if context and not any(c.get("name") == context for c in config["contexts"]):
        raise KubeconfigError(f'context was not found for specified context: {context}')
    ctx = _named(config["contexts"], name, "context")
    cluster = _named(config["clusters"], ctx.get("cluster", ""), "cluster")
    user = _named(config["users"], ctx.get("user", ""), "user")
    chosen_server = server or cluster.get("server", "")
    if not chosen_server:
        raise KubeconfigError("The connection to the server localhost:8080 was refused - did you specify the "
                              "right host or port?")
    token = user.get("token", "")
    if not token and user.get("tokenFile"):
        token = Path(user["tokenFile"]).read_text().strip()
    return ClusterConfig(server=chosen_server, namespace=ctx.get("namespace") or "default", token=token,
                         ca_file=_ca_file(cluster), insecure=bool(cluster.get("insecure-skip-tls-verify")),
                         context=name)
