"""The downward API: pod fields and container resources as the kubelet resolves them, for
env `fieldRef`/`resourceFieldRef` and for downwardAPI (and projected) volume files.

Pure functions, table-tested: podFieldSelectorRuntimeValue and fieldpath.FormatMap
(`key="value"` lines, sorted) for fields, ExtractContainerResourceValue for resources
(rounded up by the divisor; unset limits default to the node's allocatable).
"""

from __future__ import annotations

import json
import math
from typing import Any

from apimachinery.quantity import QuantityError, parse_quantity

Obj = dict[str, Any]


class DownwardError(Exception):
    """A field or resource the kubelet cannot resolve (Kubernetes fails the container or mount)."""


def format_map(mapping: dict[str, Any] | None) -> str:
    """fieldpath.FormatMap: `key="value"` per line in key order, no trailing newline."""
    return "\n".join(f"{key}={json.dumps(str(value), ensure_ascii=False)}"
                     for key, value in sorted((mapping or {}).items()))


def field_ref_value(pod: Obj, path: str, node_name: str, node_ip: str, pod_ip: str) -> str | None:
    """The downward API's `fieldRef` paths, as the kubelet resolves them; None for unknown ones."""
    meta = pod.get("metadata") or {}
    spec = pod.get("spec") or {}
    for prefix, mapping in (("metadata.labels", meta.get("labels")), ("metadata.annotations", meta.get("annotations"))):
        if path.startswith(prefix + "['") and path.endswith("']"):
            return str((mapping or {}).get(path[len(prefix) + 2:-2], ""))
        if path == prefix:
            return format_map(mapping)
    grace = spec.get("terminationGracePeriodSeconds")
    simple = {"metadata.name": meta.get("name"), "metadata.namespace": meta.get("namespace"),
              "metadata.uid": meta.get("uid"), "spec.nodeName": node_name,
              "spec.serviceAccountName": spec.get("serviceAccountName"),
              "spec.terminationGracePeriodSeconds": str(30 if grace is None else grace),
              "status.podIP": pod_ip, "status.podIPs": pod_ip, "status.hostIP": node_ip, "status.hostIPs": node_ip}
    if path in simple:
        return str(simple[path] or "")
    return None


def resource_field_value(selector: Obj, container: Obj, allocatable: dict[str, str]) -> str:
    """ExtractContainerResourceValue: `limits.cpu` etc. of `container`, divided by the divisor
    and rounded up; a limit the container does not set is the node's allocatable."""
    resource = str(selector.get("resource") or "")
    kind, _, name = resource.partition(".")
    if kind not in ("limits", "requests") or not name:
        raise DownwardError(f"unsupported container resource : {resource}")
    resources = container.get("resources") or {}
    values = dict(resources.get(kind) or {})
    if kind == "limits" and name not in values and name in allocatable:
        values[name] = allocatable[name]
    try:
        quantity = parse_quantity(values.get(name, "0"))
        divisor = parse_quantity(selector.get("divisor") or "0")
        if divisor.is_zero():
            divisor = parse_quantity("1")
        if name == "cpu":
            return str(math.ceil(quantity.milli_value() / divisor.milli_value()))
        return str(math.ceil(quantity.value_int() / divisor.value_int()))
    except (QuantityError, ZeroDivisionError) as exc:
        raise DownwardError(f"unsupported container resource : {resource}: {exc}") from exc


def container_named(pod: Obj, name: str) -> Obj | None:
    spec = pod.get("spec") or {}
    for container in (spec.get("initContainers") or []) + (spec.get("containers") or []):
        if container.get("name") == name:
            return container
    return None
