"""Field selectors: `=`, `==`, `!=` over the few fields each kind exposes (semantics.md §1.8).
Asking for any other field is a 400 `field label not supported: <name>`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from apimachinery.errors import ApiMachineryError


class FieldSelectorError(ApiMachineryError):
    """A field selector that cannot be parsed or names an unsupported field."""


@dataclass(frozen=True)
class FieldSelector:
    requirements: tuple[tuple[str, str, str], ...] = ()

    def matches(self, fields: Mapping[str, str]) -> bool:
        for name, op, value in self.requirements:
            actual = fields.get(name, "")
            if (op == "!=") == (actual == value):
                return False
        return True

    def empty(self) -> bool:
        return not self.requirements

    def fields(self) -> set[str]:
        return {name for name, _, _ in self.requirements}

    def __str__(self) -> str:
        return ",".join(f"{n}{op}{v}" for n, op, v in self.requirements)


def _split(text: str) -> list[str]:
    """Split on unescaped commas; `\\,` `\\=` `\\\\` escape."""
    parts, current, escaped = [], [], False
    for ch in text:
        if escaped:
            current.append(ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == ",":
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts


def parse_field_selector(text: str) -> FieldSelector:
    requirements = []
    for part in _split(text or ""):
        if not part:
            continue
        for op in ("!=", "==", "="):
            if op in part:
                name, value = part.split(op, 1)
                if not name:
                    raise FieldSelectorError(f"invalid selector: '{text}'; can't understand '{part}'")
                requirements.append((name.strip(), "!=" if op == "!=" else "=", value))
                break
        else:
            raise FieldSelectorError(f"invalid selector: '{text}'; can't understand '{part}'")
    return FieldSelector(tuple(requirements))


def _get(obj: Mapping[str, Any], path: str) -> str:
    node: Any = obj
    for part in path.split("."):
        node = node.get(part) if isinstance(node, Mapping) else None
    if isinstance(node, bool):
        return "true" if node else "false"
    return "" if node is None else str(node)


NAMESPACED = {"Pod", "ReplicaSet", "Deployment", "Job", "Event", "Service", "Endpoints", "Lease"}
EXTRA_FIELDS: dict[str, tuple[str, ...]] = {
    "Pod": ("spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
            "spec.hostNetwork", "status.phase", "status.podIP", "status.nominatedNodeName"),
    "Node": ("spec.unschedulable",),
    "ReplicaSet": ("status.replicas",),
    "Job": ("status.successful",),
    "Namespace": ("status.phase",),
    "Service": ("spec.clusterIP", "spec.type"),
    "Event": ("involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid",
              "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath", "reason",
              "reportingComponent", "source", "type"),
}


def selectable_fields(kind: str, obj: Mapping[str, Any]) -> dict[str, str]:
    meta = obj.get("metadata") or {}
    fields = {"metadata.name": meta.get("name", "")}
    if kind in NAMESPACED:
        fields["metadata.namespace"] = meta.get("namespace", "")
    for name in EXTRA_FIELDS.get(kind, ()):
        if name == "source":
            fields[name] = _get(obj, "source.component")
        elif name == "status.successful":
            fields[name] = _get(obj, "status.succeeded")
        elif name == "spec.unschedulable" or name == "spec.hostNetwork":
            fields[name] = _get(obj, name) or "false"
        else:
            fields[name] = _get(obj, name)
    return fields


def check_supported(kind: str, selector: FieldSelector) -> None:
    allowed = {"metadata.name"} | ({"metadata.namespace"} if kind in NAMESPACED else set()) | \
        set(EXTRA_FIELDS.get(kind, ()))
    for name in sorted(selector.fields()):
        if name not in allowed:
            raise FieldSelectorError(f"field label not supported: {name}")
