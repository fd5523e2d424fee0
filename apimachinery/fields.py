"""Field selectors, as k8s.io/apimachinery `pkg/fields` parses them and the registries serve them.

The kubelet lists its pods with `?fieldSelector=spec.nodeName=<node>`, the scheduler skips
finished pods with `status.phase!=Succeeded,status.phase!=Failed`, and `kubectl get events
--field-selector involvedObject.name=web` narrows events. This module ports:

* `fields.ParseSelector`: comma-separated terms, ANDed; only `=`, `==` and `!=`; the first
  operator in a term splits it (no escaping on the left); in values `\\,`, `\\=` and `\\\\`
  are escapes and a bare `,` or `=` is an error; values may be empty; terms are sorted;
* per kind, the fields each registry exposes (`ToSelectableFields` / the field-label conversion
  functions, semantics.md §1.8), with values rendered as Go renders them (`"true"`, `"0"`);
* the API server's refusal of any other field: `field label not supported: <name>` (a 400).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from apimachinery.errors import ApiMachineryError

EQUALS, DOUBLE_EQUALS, NOT_EQUALS = "=", "==", "!="
_TERM_OPERATORS = (NOT_EQUALS, DOUBLE_EQUALS, EQUALS)  # "==" before "=": no stray "=" in the value


class FieldSelectorError(ApiMachineryError):
    """A field selector that cannot be parsed, or names a field the kind does not support."""


@dataclass(frozen=True)
class FieldSelector:
    """An AND of `(field, op, value)` terms, op being `=` or `!=` (`==` is stored as `=`)."""

    requirements: tuple[tuple[str, str, str], ...] = ()

    def __post_init__(self) -> None:
        terms = tuple(tuple(term) for term in self.requirements)
        for term in terms:
            if len(term) != 3 or not all(isinstance(part, str) for part in term) or term[1] not in (EQUALS,
                                                                                                    NOT_EQUALS):
                raise FieldSelectorError(f"a field selector term is (field, '=' or '!=', value), not {term!r}")
        object.__setattr__(self, "requirements", terms)

    def matches(self, fields: Mapping[str, str]) -> bool:
        """hasTerm / notHasTerm: a field the object does not have reads as ""."""
        for name, op, value in self.requirements:
            if (fields.get(name, "") == value) != (op == EQUALS):
                return False
        return True

    def empty(self) -> bool:
        return not self.requirements

    def fields(self) -> set[str]:
        return {name for name, _, _ in self.requirements}

    def requires_exact_match(self, name: str) -> str | None:
        """RequiresExactMatch: the value an `=` term pins `name` to, or None."""
        for field, op, value in self.requirements:
            if field == name and op == EQUALS:
                return value
        return None

    def __str__(self) -> str:
        return ",".join(f"{name}{op}{escape_value(value)}" for name, op, value in self.requirements)


def escape_value(value: str) -> str:
    """fields.EscapeValue: `\\` then `,` and `=` get a backslash."""
    return value.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=")


def unescape_value(value: str) -> str:
    """fields.UnescapeValue, with its errors."""
    out: list[str] = []
    escaped = False
    for char in value:
        if escaped:
            if char not in "\\,=":
                raise FieldSelectorError(f"invalid field selector: invalid escape sequence: \\{char}")
            out.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char in ",=":
            # Go prints the rune with %v, i.e. as its code point.
            raise FieldSelectorError(f"invalid field selector: unescaped character in value: {ord(char)}")
        else:
            out.append(char)
    if escaped:
        raise FieldSelectorError("invalid field selector: invalid escape sequence: \\")
    return "".join(out)


def _split_terms(text: str) -> list[str]:
    """splitTerms: split on commas not preceded by a backslash; escapes stay in the terms."""
    if not text:
        return []
    terms, start, escaped = [], 0, False
    for i, char in enumerate(text):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == ",":
            terms.append(text[start:i])
            start = i + 1
    terms.append(text[start:])
    return terms


def _split_term(term: str) -> tuple[str, str, str] | None:
    """splitTerm: the first operator occurrence splits; the left side is taken literally."""
    for i in range(len(term)):
        for op in _TERM_OPERATORS:
            if term.startswith(op, i):
                return term[:i], op, term[i + len(op):]
    return None


def parse_field_selector(text: str) -> FieldSelector:
    """fields.ParseSelector: `spec.nodeName=n1,status.phase!=Failed`; "" selects everything."""
    if not isinstance(text, str):
        raise FieldSelectorError(f"a field selector must be a string, not {type(text).__name__}")
    requirements: list[tuple[str, str, str]] = []
    for part in sorted(_split_terms(text)):
        if not part:
            continue
        split = _split_term(part)
        if split is None:
            raise FieldSelectorError(f"invalid selector: '{text}'; can't understand '{part}'")
        name, op, raw_value = split
        requirements.append((name, NOT_EQUALS if op == NOT_EQUALS else EQUALS, unescape_value(raw_value)))
    return FieldSelector(tuple(requirements))


# ---- the fields each kind exposes ----------------------------------------------------------

_CLUSTER_SCOPED = frozenset({
    "Node", "Namespace", "PersistentVolume", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition",
    "StorageClass", "PriorityClass", "APIService", "CSINode", "CSIDriver", "VolumeAttachment", "RuntimeClass",
    "IngressClass", "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration", "ComponentStatus",
    "CertificateSigningRequest", "FlowSchema", "PriorityLevelConfiguration",
})

_KIND_FIELDS: dict[str, tuple[str, ...]] = {
    "Pod": ("spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
            "spec.hostNetwork", "status.phase", "status.podIP", "status.nominatedNodeName"),
    "Node": ("spec.unschedulable",),
    "ReplicaSet": ("status.replicas",),
    "Job": ("status.successful",),
    "Event": ("involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid",
              "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath",
              "reason", "reportingComponent", "source", "type"),
    "Namespace": ("status.phase",),
    "Service": ("spec.clusterIP", "spec.type"),
}


def is_namespaced(kind: str) -> bool:
    """Whether `kind` lives in a namespace (and so has a `metadata.namespace` field)."""
    return kind not in _CLUSTER_SCOPED


def supported_fields(kind: str) -> tuple[str, ...]:
    """Every field name `kind` can be selected on, metadata first."""
    meta = ("metadata.name", "metadata.namespace") if is_namespaced(kind) else ("metadata.name",)
    return meta + _KIND_FIELDS.get(kind, ())


def _get(obj: Mapping[str, Any], path: str) -> Any:
    node: Any = obj
    for part in path.split("."):
        node = node.get(part) if isinstance(node, Mapping) else None
    return node


def _string(value: Any) -> str:
    """A string field; absent (or not a string) reads as Go's zero value ""."""
    return value if isinstance(value, str) else ""


def _bool(value: Any) -> str:
    """strconv.FormatBool / fmt.Sprint of a bool; absent is false."""
    return "true" if value is True else "false"


def _int(value: Any) -> str:
    """strconv.Itoa of an int32 status counter; absent is 0."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else "0"


def _pod_ip(obj: Mapping[str, Any]) -> str:
    """The first `status.podIPs` entry, as the internal type holds it; else `status.podIP`."""
    pod_ips = _get(obj, "status.podIPs")
    if isinstance(pod_ips, list) and pod_ips and isinstance(pod_ips[0], Mapping):
        return _string(pod_ips[0].get("ip"))
    return _string(_get(obj, "status.podIP"))


def _event_source(obj: Mapping[str, Any]) -> str:
    """`source` is source.component, falling back to reportingComponent when that is empty."""
    return _string(_get(obj, "source.component")) or _string(obj.get("reportingComponent"))


def _kind_values(kind: str, obj: Mapping[str, Any]) -> dict[str, str]:
    if kind == "Pod":
        values = {name: _string(_get(obj, name)) for name in _KIND_FIELDS["Pod"]}
        values["spec.hostNetwork"] = _bool(_get(obj, "spec.hostNetwork"))
        values["status.podIP"] = _pod_ip(obj)
        return values
    if kind == "Node":
        return {"spec.unschedulable": _bool(_get(obj, "spec.unschedulable"))}
    if kind == "ReplicaSet":
        return {"status.replicas": _int(_get(obj, "status.replicas"))}
    if kind == "Job":
        return {"status.successful": _int(_get(obj, "status.succeeded"))}
    if kind == "Event":
        values = {name: _string(_get(obj, name)) for name in _KIND_FIELDS["Event"]}
        values["source"] = _event_source(obj)
        return values
    return {name: _string(_get(obj, name)) for name in _KIND_FIELDS.get(kind, ())}


def selectable_fields(kind: str, obj: Mapping[str, Any]) -> dict[str, str]:
    """ToSelectableFields: field name -> the string a selector compares against."""
    if not isinstance(obj, Mapping):
        raise FieldSelectorError(f"selectable fields need an object, not {type(obj).__name__}")
    meta = obj.get("metadata")
    meta = meta if isinstance(meta, Mapping) else {}
    values = {"metadata.name": _string(meta.get("name"))}
    if is_namespaced(kind):
        values["metadata.namespace"] = _string(meta.get("namespace"))
    values.update(_kind_values(kind, obj))
    return values


def check_supported(kind: str, selector: FieldSelector) -> None:
    """The field-label conversion: any field `kind` does not expose is refused."""
    allowed = set(supported_fields(kind))
    for name, _, _ in selector.requirements:
        if name not in allowed:
            raise FieldSelectorError(f"field label not supported: {name}")
