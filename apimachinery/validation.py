"""Kubernetes' API validation, with its field paths and messages, for the kinds kube-py serves.

kubectl prints a 422 as `The Deployment "web" is invalid: spec.template.spec.containers[0].image:
Required value`, and scripts and tests match on those strings, so the rules here follow
pkg/apis/core/validation, pkg/apis/apps/validation, pkg/apis/batch/validation and
apimachinery's objectmeta.go and util/validation, and the messages follow
util/validation/field/errors.go as of Kubernetes 1.32: complex bad values are shown with Go's
`%#v` (`map[string]string{"app":"x"}`, `intstr.IntOrString{Type:0, IntVal:0, StrVal:""}`).

Each `StatusCause` carries Kubernetes' reason (`FieldValueRequired`, `FieldValueInvalid`...),
the message without the field prefix (`Required value`, `Invalid value: "x": detail`) and the
field path. The input is the already-defaulted JSON object; nothing is mutated.

Kubernetes rules deliberately left out: a negative pod `terminationGracePeriodSeconds` (only a
warning upstream), node-port range and clusterIP range (the service allocator checks those,
as upstream), and the exact `cmp.Diff` text after the pod-update message.

The label-key/value and quantity checks below are private copies of Kubernetes' rules, kept
here until apimachinery.labels and apimachinery.quantity exist; they can then be swapped in.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from fractions import Fraction
from types import MappingProxyType
from typing import Any

from apimachinery.errors import StatusCause
from apimachinery.gofmt import go_quote, go_string_slice
from apimachinery.labels import validate_label_key, validate_label_value
from apimachinery.quantity import FORMAT_WRONG, QuantityError, parse_quantity

JSON = dict[str, Any]
KindKey = tuple[str, str]
Causes = list[StatusCause]
NameValidator = Callable[[str, bool], list[str]]

MAX_INT32 = 2**31 - 1
TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024
IMMUTABLE = "field is immutable"
NEGATIVE = "must be greater than or equal to 0"
PORT_PROTOCOLS = ("SCTP", "TCP", "UDP")
STANDARD_FINALIZERS = frozenset({"kubernetes", "orphan", "foregroundDeletion"})
CONTAINER_RESOURCES = frozenset({"cpu", "memory", "ephemeral-storage"})
SINGLE_SOURCE_VOLUME_KEYS = (
    "hostPath", "emptyDir", "gcePersistentDisk", "awsElasticBlockStore", "gitRepo", "secret", "nfs", "iscsi",
    "glusterfs", "persistentVolumeClaim", "rbd", "flexVolume", "cinder", "cephfs", "flocker", "downwardAPI", "fc",
    "azureFile", "configMap", "vsphereVolume", "quobyte", "azureDisk", "photonPersistentDisk", "projected",
    "portworxVolume", "scaleIO", "storageos", "csi", "ephemeral", "image",
)
UPDATABLE_POD_SPEC_FIELDS = ",".join((
    "`spec.containers[*].image`",
    "`spec.initContainers[*].image`",
    "`spec.activeDeadlineSeconds`",
    "`spec.tolerations` (only additions to existing tolerations)",
    "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)",
))

# ---- util/validation: formats and their messages --------------------------------------

DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DNS1123_SUBDOMAIN_FMT = DNS1123_LABEL_FMT + "(\\." + DNS1123_LABEL_FMT + ")*"
DNS1035_LABEL_FMT = "[a-z]([-a-z0-9]*[a-z0-9])?"
PERCENT_FMT = "[0-9]+%"
_DNS1123_LABEL = re.compile(f"^{DNS1123_LABEL_FMT}$")
_DNS1123_SUBDOMAIN = re.compile(f"^{DNS1123_SUBDOMAIN_FMT}$")
_DNS1035_LABEL = re.compile(f"^{DNS1035_LABEL_FMT}$")
_PERCENT = re.compile(f"^{PERCENT_FMT}$")
_PORT_NAME_CHARS = re.compile("^[-a-z0-9]+$")
_HAS_LETTER = re.compile("[a-z]")
_HTTP_HEADER_NAME = re.compile("^[-A-Za-z0-9]+$")


def max_len_error(length: int) -> str:
    return f"must be no more than {length} characters"


def regex_error(msg: str, fmt: str, *examples: str) -> str:
    """util/validation.RegexError: the message, examples and the regex, Kubernetes' wording."""
    if not examples:
        return f"{msg} (regex used for validation is '{fmt}')"
    shown = " or ".join(f"'{example}', " for example in examples)
    return f"{msg} (e.g. {shown}regex used for validation is '{fmt}')"


def inclusive_range_error(low: int, high: int) -> str:
    return f"must be between {low} and {high}, inclusive"


def is_dns1123_label(value: str) -> list[str]:
    errs = [max_len_error(63)] if len(value) > 63 else []
    if not _DNS1123_LABEL.fullmatch(value):
        if _DNS1123_SUBDOMAIN.fullmatch(value):
            errs.append("must not contain dots")
        else:
            errs.append(regex_error("a lowercase RFC 1123 label must consist of lower case alphanumeric characters "
                                    "or '-', and must start and end with an alphanumeric character",
                                    DNS1123_LABEL_FMT, "my-name", "123-abc"))
    return errs


def is_dns1123_subdomain(value: str) -> list[str]:
    errs = [max_len_error(253)] if len(value) > 253 else []
    if not _DNS1123_SUBDOMAIN.fullmatch(value):
        errs.append(regex_error("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
                                "characters, '-' or '.', and must start and end with an alphanumeric character",
                                DNS1123_SUBDOMAIN_FMT, "example.com"))
    return errs


def is_dns1035_label(value: str) -> list[str]:
    errs = [max_len_error(63)] if len(value) > 63 else []
    if not _DNS1035_LABEL.fullmatch(value):
        errs.append(regex_error("a DNS-1035 label must consist of lower case alphanumeric characters or '-', "
                                "start with an alphabetic character, and end with an alphanumeric character",
                                DNS1035_LABEL_FMT, "my-name", "abc-123"))
    return errs


def is_valid_port_num(port: int) -> list[str]:
    return [] if 1 <= port <= 65535 else [inclusive_range_error(1, 65535)]


def is_valid_port_name(port: str) -> list[str]:
    """IANA_SVC_NAME: at most 15 of [-a-z0-9], a letter, no `--`, no hyphen at either end."""
    errs = [max_len_error(15)] if len(port) > 15 else []
    if not _PORT_NAME_CHARS.fullmatch(port):
        errs.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
    if not _HAS_LETTER.search(port):
        errs.append("must contain at least one letter (a-z)")
    if "--" in port:
        errs.append("must not contain consecutive hyphens")
    if port and (port[0] == "-" or port[-1] == "-"):
        errs.append("must not begin or end with a hyphen")
    return errs


def is_valid_percent(value: str) -> list[str]:
    if _PERCENT.fullmatch(value):
        return []
    return [regex_error("a valid percent string must be a numeric string followed by an ending '%'",
                        PERCENT_FMT, "1%", "93%")]


def _mask_trailing_dash(name: str) -> str:
    """apimachinery's maskTrailingDash, quirk included: the last two characters become `a`."""
    return name[:-2] + "a" if len(name) > 1 and name.endswith("-") else name


def name_is_dns_subdomain(name: str, prefix: bool) -> list[str]:
    return is_dns1123_subdomain(_mask_trailing_dash(name) if prefix else name)


def name_is_dns_label(name: str, prefix: bool) -> list[str]:
    return is_dns1123_label(_mask_trailing_dash(name) if prefix else name)


def name_is_dns1035_label(name: str, prefix: bool) -> list[str]:
    return is_dns1035_label(_mask_trailing_dash(name) if prefix else name)


def path_segment_name(name: str, prefix: bool) -> list[str]:
    """What every stored name must satisfy (apimachinery api/validation/path)."""
    if not prefix and name in (".", ".."):
        return [f"may not be '{name}'"]
    return [f"may not contain '{bad}'" for bad in ("/", "%") if bad in name]


# ---- Go rendering of bad values (field.Error with 1.32's %v / %q / %#v) ------------------

def go_value(value: Any) -> str:
    """A JSON scalar, string map or string list as field.Error prints it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return go_quote(value)
    if isinstance(value, dict):
        return go_string_map(value)
    if isinstance(value, list):
        return go_string_slice(value)
    return go_quote(str(value))


def go_string_map(value: Mapping[str, Any] | None) -> str:
    if value is None:
        return "map[string]string(nil)"
    items = ", ".join(f"{go_quote(str(k))}:{go_quote(str(v))}" for k, v in sorted(value.items()))
    return f"map[string]string{{{items}}}"




def go_int_or_string(value: Any) -> str:
    if isinstance(value, str):
        return f'intstr.IntOrString{{Type:1, IntVal:0, StrVal:{go_quote(value)}}}'
    number = value if isinstance(value, int) and not isinstance(value, bool) else 0
    return f'intstr.IntOrString{{Type:0, IntVal:{number}, StrVal:""}}'


def go_label_selector(selector: Any) -> str:
    selector = selector if isinstance(selector, dict) else {}
    expressions = selector.get("matchExpressions")
    if isinstance(expressions, list):
        rendered = ", ".join(
            f'v1.LabelSelectorRequirement{{Key:{go_quote(str(e.get("key", "")))}, '
            f'Operator:{go_quote(str(e.get("operator", "")))}, Values:{go_string_slice(e.get("values"))}}}'
            for e in _dicts(expressions))
        expr_text = f"[]v1.LabelSelectorRequirement{{{rendered}}}"
    else:
        expr_text = "[]v1.LabelSelectorRequirement(nil)"
    labels = selector.get("matchLabels")
    return f"v1.LabelSelector{{MatchLabels:{go_string_map(labels if isinstance(labels, dict) else None)}, " \
           f"MatchExpressions:{expr_text}}}"


def go_time(value: Any) -> str:
    """metav1.Time prints through time.Time.String()."""
    if not value:
        return "0001-01-01 00:00:00 +0000 UTC"
    try:
        moment = datetime.strptime(str(value), "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        return go_quote(str(value))
    return moment.strftime("%Y-%m-%d %H:%M:%S +0000 UTC")


# ---- field.Error constructors ---------------------------------------------------------


def required(path: str, detail: str = "") -> StatusCause:
    return StatusCause("FieldValueRequired", "Required value" + (f": {detail}" if detail else ""), path)


def invalid(path: str, bad: str, detail: str) -> StatusCause:
    """`bad` is already rendered (see `go_value`)."""
    return StatusCause("FieldValueInvalid", f"Invalid value: {bad}" + (f": {detail}" if detail else ""), path)


def not_supported(path: str, bad: str, valid: Sequence[str]) -> StatusCause:
    supported = ", ".join(go_quote(v) for v in valid)
    detail = f": supported values: {supported}" if valid else ""
    return StatusCause("FieldValueNotSupported", f"Unsupported value: {bad}{detail}", path)


def duplicate(path: str, bad: str) -> StatusCause:
    return StatusCause("FieldValueDuplicate", f"Duplicate value: {bad}", path)


def not_found(path: str, bad: str) -> StatusCause:
    return StatusCause("FieldValueNotFound", f"Not found: {bad}", path)


def forbidden(path: str, detail: str) -> StatusCause:
    return StatusCause("FieldValueForbidden", f"Forbidden: {detail}", path)


def too_long(path: str, limit: int) -> StatusCause:
    return StatusCause("FieldValueTooLong", f"Too long: may not be more than {limit} bytes", path)


# ---- JSON access ----------------------------------------------------------------------


def _dicts(value: Any) -> list[JSON]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _dict(value: Any) -> JSON:
    return value if isinstance(value, dict) else {}


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _nonnegative(value: Any, path: str) -> Causes:
    number = _int(value)
    return [invalid(path, str(number), NEGATIVE)] if number is not None and number < 0 else []


def _messages(path: str, value: str, messages: Iterable[str]) -> Causes:
    """One `Invalid value: "<value>": <message>` per message, as the format checks report them."""
    return [invalid(path, go_quote(value), message) for message in messages]


# ---- labels, annotations, selectors ---------------------------------------------------


def validate_labels(labels: Any, path: str) -> Causes:
    """metav1 validation.ValidateLabels; keys in sorted order (Go walks a map at random)."""
    causes: Causes = []
    if labels is None:
        return causes
    if not isinstance(labels, dict):
        return [StatusCause("FieldValueTypeInvalid", f"Invalid value: {go_value(labels)}: must be a map of strings",
                            path)]
    for key in sorted(labels, key=str):
        causes += _messages(path, str(key), validate_label_key(str(key)))
        value = labels[key]
        if not isinstance(value, str):
            causes.append(StatusCause("FieldValueTypeInvalid",
                                      f"Invalid value: {go_value(value)}: label values must be strings", path))
            continue
        causes += _messages(path, value, validate_label_value(value))
    return causes


def validate_annotations(annotations: Any, path: str) -> Causes:
    causes: Causes = []
    if not isinstance(annotations, dict):
        return causes
    total = 0
    for key in sorted(annotations, key=str):
        causes += _messages(path, str(key), validate_label_key(str(key).lower()))
        total += len(str(key).encode()) + len(str(annotations[key]).encode())
    if total > TOTAL_ANNOTATION_SIZE_LIMIT:
        causes.append(too_long(path, TOTAL_ANNOTATION_SIZE_LIMIT))
    return causes


def validate_label_selector(selector: Any, path: str) -> Causes:
    if not isinstance(selector, dict):
        return []
    causes = validate_labels(selector.get("matchLabels"), f"{path}.matchLabels")
    for i, expression in enumerate(_dicts(selector.get("matchExpressions"))):
        causes += _validate_selector_requirement(expression, f"{path}.matchExpressions[{i}]")
    return causes


def _validate_selector_requirement(expression: JSON, path: str) -> Causes:
    causes: Causes = []
    operator, values = expression.get("operator"), expression.get("values") or []
    if operator in ("In", "NotIn"):
        if not values:
            causes.append(required(f"{path}.values", "must be specified when `operator` is 'In' or 'NotIn'"))
    elif operator in ("Exists", "DoesNotExist"):
        if values:
            causes.append(forbidden(f"{path}.values",
                                    "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"))
    else:
        causes.append(invalid(f"{path}.operator", go_quote(_str(operator)), "not a valid selector operator"))
    key = _str(expression.get("key"))
    causes += _messages(f"{path}.key", key, validate_label_key(key))
    for i, value in enumerate(values if isinstance(values, list) else []):
        causes += _messages(f"{path}.values[{i}]", str(value), validate_label_value(str(value)))
    return causes


def selector_matches(selector: Any, labels: Mapping[str, Any]) -> bool:
    """LabelSelectorAsSelector(selector).Matches(labels): null matches nothing, {} everything."""
    if not isinstance(selector, dict):
        return False
    for key, value in _dict(selector.get("matchLabels")).items():
        if labels.get(key) != value:
            return False
    for expression in _dicts(selector.get("matchExpressions")):
        key, values = expression.get("key"), expression.get("values") or []
        operator, present = expression.get("operator"), key in labels
        if operator == "In" and not (present and labels[key] in values):
            return False
        if operator == "NotIn" and present and labels[key] in values:
            return False
        if (operator == "Exists") != present and operator in ("Exists", "DoesNotExist"):
            return False
    return True


def _selector_is_empty(selector: Any) -> bool:
    return isinstance(selector, dict) and not selector.get("matchLabels") and not selector.get("matchExpressions")


# ---- ObjectMeta -----------------------------------------------------------------------


def validate_object_meta(obj: JSON, *, namespaced: bool, name_fn: NameValidator) -> Causes:
    """apimachinery ValidateObjectMetaAccessor plus core's Kubernetes finalizer-name rule."""
    meta, path = _dict(obj.get("metadata")), "metadata"
    causes: Causes = []
    generate_name, name = _str(meta.get("generateName")), _str(meta.get("name"))
    if generate_name:
        causes += _messages(f"{path}.generateName", generate_name, name_fn(generate_name, True))
    if not name:
        causes.append(required(f"{path}.name", "name or generateName is required"))
    else:
        causes += _messages(f"{path}.name", name, name_fn(name, False))
    namespace = _str(meta.get("namespace"))
    if namespaced:
        if not namespace:
            causes.append(required(f"{path}.namespace"))
        else:
            causes += _messages(f"{path}.namespace", namespace, name_is_dns_label(namespace, False))
    elif namespace:
        causes.append(forbidden(f"{path}.namespace", "not allowed on this type"))
    causes += _nonnegative(meta.get("generation"), f"{path}.generation")
    causes += validate_labels(meta.get("labels"), f"{path}.labels")
    causes += validate_annotations(meta.get("annotations"), f"{path}.annotations")
    causes += _validate_owner_references(meta.get("ownerReferences"), f"{path}.ownerReferences")
    causes += _validate_finalizers(meta.get("finalizers"), f"{path}.finalizers")
    return causes


def _validate_owner_references(refs: Any, path: str) -> Causes:
    causes: Causes = []
    first_controller = ""
    for ref in _dicts(refs):
        api_version = _str(ref.get("apiVersion"))
        version = api_version.rsplit("/", 1)[-1]
        if not version:
            causes.append(invalid(f"{path}.apiVersion", go_quote(api_version), "version must not be empty"))
        for key in ("kind", "name", "uid"):
            if not _str(ref.get(key)):
                causes.append(invalid(f"{path}.{key}", go_quote(_str(ref.get(key))), "must not be empty"))
        if ref.get("controller") is True:
            current = f"{_str(ref.get('kind'))}/{_str(ref.get('name'))}"
            if first_controller:
                causes.append(invalid(path, "[]v1.OwnerReference{...}",
                                      "Only one reference can have Controller set to true. Found \"true\" in "
                                      f"references for {first_controller} and {current}"))
            else:
                first_controller = current
    return causes


def _validate_finalizers(finalizers: Any, path: str) -> Causes:
    causes: Causes = []
    names = [str(f) for f in finalizers] if isinstance(finalizers, list) else []
    for finalizer in names:
        causes += _messages(path, finalizer, validate_label_key(finalizer))
    if "orphan" in names and "foregroundDeletion" in names:
        causes.append(invalid(path, go_string_slice(names),
                              "finalizer orphan and foregroundDeletion cannot be both set"))
    for i, finalizer in enumerate(names):
        if "/" not in finalizer and finalizer not in STANDARD_FINALIZERS:
            causes.append(invalid(f"{path}[{i}]", go_quote(finalizer),
                                  "name is neither a standard finalizer name nor is it fully qualified"))
    return causes


def validate_object_meta_update(obj: JSON, old: JSON) -> Causes:
    """The update-only ObjectMeta rules (labels and the rest are checked with the object)."""
    meta, old_meta, path = _dict(obj.get("metadata")), _dict(old.get("metadata")), "metadata"
    causes: Causes = []
    if old_meta.get("deletionTimestamp"):
        old_finalizers = set(old_meta.get("finalizers") or [])
        added = sorted({str(f) for f in meta.get("finalizers") or []} - old_finalizers)
        if added:
            causes.append(forbidden(f"{path}.finalizers", "no new finalizers can be added if the object is being "
                                    f"deleted, found new finalizers {go_string_slice(added)}"))
    if not meta.get("resourceVersion"):
        causes.append(invalid(f"{path}.resourceVersion", go_quote(_str(meta.get("resourceVersion"))),
                              "must be specified for an update"))
    new_generation, old_generation = _int(meta.get("generation")) or 0, _int(old_meta.get("generation")) or 0
    if new_generation < old_generation:
        causes.append(invalid(f"{path}.generation", str(new_generation), "must not be decremented"))
    for key in ("name", "namespace", "uid"):
        if _str(meta.get(key)) != _str(old_meta.get(key)):
            causes.append(invalid(f"{path}.{key}", go_quote(_str(meta.get(key))), IMMUTABLE))
    for key in ("creationTimestamp", "deletionTimestamp"):
        if meta.get(key) != old_meta.get(key) and (meta.get(key) or old_meta.get(key)):
            rendered = go_time(meta.get(key)) if meta.get(key) or key == "creationTimestamp" else "null"
            causes.append(invalid(f"{path}.{key}", rendered, IMMUTABLE))
    if meta.get("deletionGracePeriodSeconds") != old_meta.get("deletionGracePeriodSeconds"):
        causes.append(invalid(f"{path}.deletionGracePeriodSeconds", go_value(meta.get("deletionGracePeriodSeconds")),
                              IMMUTABLE))
    return causes


# ---- quantities -----------------------------------------------------------------------


def _quantity(raw: Any) -> tuple[Fraction, str] | None:
    """(exact value, canonical string as resource.Quantity.String() prints it), or None when
    the text is not a quantity (ParseQuantity is strict: "2 " and "1Gi\n" are not)."""
    try:
        quantity = parse_quantity(raw)
    except QuantityError:
        return None
    return quantity.value, quantity.canonical()


QUANTITY_FORMAT_ERROR = FORMAT_WRONG


def _validate_resource_list(resources: Any, path: str, *, container: bool) -> tuple[Causes, dict[str, tuple]]:
    causes: Causes = []
    parsed: dict[str, tuple[Fraction, str]] = {}
    for name in sorted(_dict(resources), key=str):
        entry = f"{path}[{name}]"
        if container and "/" not in name and name not in CONTAINER_RESOURCES and not name.startswith("hugepages-"):
            causes.append(invalid(entry, go_quote(name), "must be a standard resource for containers"))
        quantity = _quantity(resources[name])
        if quantity is None:
            causes.append(invalid(entry, go_quote(str(resources[name])), QUANTITY_FORMAT_ERROR))
            continue
        if quantity[0] < 0:
            causes.append(invalid(entry, go_quote(quantity[1]), NEGATIVE))
        parsed[name] = quantity
    return causes, parsed


def validate_resource_requirements(resources: Any, path: str) -> Causes:
    resources = _dict(resources)
    limit_causes, limits = _validate_resource_list(resources.get("limits"), f"{path}.limits", container=True)
    request_causes, requests = _validate_resource_list(resources.get("requests"), f"{path}.requests", container=True)
    causes = limit_causes + request_causes
    for name, (value, text) in requests.items():
        if name in limits and value > limits[name][0]:
            causes.append(invalid(f"{path}.requests", go_quote(text),
                                  f"must be less than or equal to {name} limit of {limits[name][1]}"))
    return causes


# ---- containers -----------------------------------------------------------------------


def _validate_port_num_or_name(port: Any, path: str) -> Causes:
    if isinstance(port, str):
        return _messages(path, port, is_valid_port_name(port))
    number = _int(port) or 0
    return [invalid(path, str(number), message) for message in is_valid_port_num(number)]


def _validate_handler(handler: JSON, path: str) -> Causes:
    causes: Causes = []
    count = 0
    for kind in ("exec", "httpGet", "tcpSocket", "grpc", "sleep"):
        action = handler.get(kind)
        if action is None:
            continue
        if count:
            causes.append(forbidden(f"{path}.{kind}", "may not specify more than 1 handler type"))
            continue
        count += 1
        causes += _validate_action(kind, _dict(action), f"{path}.{kind}")
    if not count:
        causes.append(required(path, "must specify a handler type"))
    return causes


def _validate_action(kind: str, action: JSON, path: str) -> Causes:
    causes: Causes = []
    if kind == "exec" and not action.get("command"):
        causes.append(required(f"{path}.command"))
    elif kind == "httpGet":
        if not action.get("path"):
            causes.append(required(f"{path}.path"))
        causes += _validate_port_num_or_name(action.get("port"), f"{path}.port")
        if action.get("scheme") not in ("HTTP", "HTTPS"):
            causes.append(not_supported(f"{path}.scheme", go_quote(_str(action.get("scheme"))), ("HTTP", "HTTPS")))
        for header in _dicts(action.get("httpHeaders")):
            name = _str(header.get("name"))
            if not _HTTP_HEADER_NAME.fullmatch(name):
                causes.append(invalid(f"{path}.httpHeaders", go_quote(name), regex_error(
                    "a valid HTTP header must consist of alphanumeric characters or '-'", "[-A-Za-z0-9]+",
                    "X-Header-Name")))
    elif kind == "tcpSocket":
        causes += _validate_port_num_or_name(action.get("port"), f"{path}.port")
    elif kind == "grpc":
        port = _int(action.get("port")) or 0
        causes += [invalid(f"{path}.port", str(port), message) for message in is_valid_port_num(port)]
    return causes


def validate_probe(probe: Any, path: str, kind: str) -> Causes:
    """validateProbe plus the liveness/startup `successThreshold` 1 and readiness rules."""
    if not isinstance(probe, dict):
        return []
    causes = _validate_handler(probe, path)
    for key in ("initialDelaySeconds", "timeoutSeconds", "periodSeconds", "successThreshold", "failureThreshold"):
        causes += _nonnegative(probe.get(key), f"{path}.{key}")
    grace = _int(probe.get("terminationGracePeriodSeconds"))
    if kind == "readiness" and probe.get("terminationGracePeriodSeconds") is not None:
        causes.append(invalid(f"{path}.terminationGracePeriodSeconds", str(grace),
                              "must not be set for readinessProbes"))
    elif grace is not None and grace <= 0:
        causes.append(invalid(f"{path}.terminationGracePeriodSeconds", str(grace), "must be greater than 0"))
    if kind in ("liveness", "startup") and probe.get("successThreshold") != 1:
        causes.append(invalid(f"{path}.successThreshold", go_value(probe.get("successThreshold")), "must be 1"))
    return causes


def _validate_container_ports(ports: Any, path: str) -> Causes:
    causes: Causes = []
    names: set[str] = set()
    for i, port in enumerate(_dicts(ports)):
        entry = f"{path}[{i}]"
        name = _str(port.get("name"))
        if name:
            messages = is_valid_port_name(name)
            if messages:
                causes += _messages(f"{entry}.name", name, messages)
            elif name in names:
                causes.append(duplicate(f"{entry}.name", go_quote(name)))
            names.add(name)
        container_port = _int(port.get("containerPort")) or 0
        if not container_port:
            causes.append(required(f"{entry}.containerPort"))
        else:
            causes += [invalid(f"{entry}.containerPort", str(container_port), m)
                       for m in is_valid_port_num(container_port)]
        host_port = _int(port.get("hostPort")) or 0
        if host_port:
            causes += [invalid(f"{entry}.hostPort", str(host_port), m) for m in is_valid_port_num(host_port)]
        causes += _validate_protocol(port.get("protocol"), f"{entry}.protocol")
    return causes


def _validate_protocol(protocol: Any, path: str) -> Causes:
    if not protocol:
        return [required(path)]
    if protocol not in PORT_PROTOCOLS:
        return [not_supported(path, go_value(protocol), PORT_PROTOCOLS)]
    return []


def _validate_env(env: Any, path: str) -> Causes:
    causes: Causes = []
    for i, var in enumerate(_dicts(env)):
        name = _str(var.get("name"))
        if not name:
            causes.append(required(f"{path}[{i}].name"))
        elif any(ord(c) > 126 or ord(c) < 32 or c == "=" for c in name):
            causes.append(invalid(f"{path}[{i}].name", go_quote(name), "a valid environment variable name must "
                                  "consist only of printable ASCII characters other than '='"))
        if var.get("value") and var.get("valueFrom") is not None:
            causes.append(invalid(f"{path}[{i}].valueFrom", '""',
                                  "may not be specified when `value` is not empty"))
    return causes


def _validate_volume_mounts(mounts: Any, volumes: set[str], path: str) -> Causes:
    causes: Causes = []
    mount_points: set[str] = set()
    for i, mount in enumerate(_dicts(mounts)):
        entry = f"{path}[{i}]"
        name, mount_path = _str(mount.get("name")), _str(mount.get("mountPath"))
        if not name:
            causes.append(required(f"{entry}.name"))
        if name not in volumes:
            causes.append(not_found(f"{entry}.name", go_quote(name)))
        if not mount_path:
            causes.append(required(f"{entry}.mountPath"))
        if mount_path in mount_points:
            causes.append(invalid(f"{entry}.mountPath", go_quote(mount_path), "must be unique"))
        mount_points.add(mount_path)
    return causes


def _validate_pull_policy(policy: Any, path: str) -> Causes:
    if policy in ("Always", "IfNotPresent", "Never"):
        return []
    if not policy:
        return [required(path)]
    return [not_supported(path, go_value(policy), ("Always", "IfNotPresent", "Never"))]


def _validate_container_common(container: JSON, volumes: set[str], path: str) -> Causes:
    causes: Causes = []
    name = _str(container.get("name"))
    if not name:
        causes.append(required(f"{path}.name"))
    else:
        causes += _messages(f"{path}.name", name, is_dns1123_label(name))
    image = _str(container.get("image"))
    if image and image.strip() != image:
        causes.append(invalid(f"{path}.image", go_quote(image), "must not have leading or trailing whitespace"))
    policy = container.get("terminationMessagePolicy")
    if not policy:
        causes.append(required(f"{path}.terminationMessagePolicy", "must be 'File' or 'FallbackToLogsOnError'"))
    elif policy not in ("File", "FallbackToLogsOnError"):
        causes.append(invalid(f"{path}.terminationMessagePolicy", go_value(policy),
                              "must be 'File' or 'FallbackToLogsOnError'"))
    causes += _validate_container_ports(container.get("ports"), f"{path}.ports")
    causes += _validate_env(container.get("env"), f"{path}.env")
    causes += _validate_volume_mounts(container.get("volumeMounts"), volumes, f"{path}.volumeMounts")
    causes += _validate_pull_policy(container.get("imagePullPolicy"), f"{path}.imagePullPolicy")
    causes += validate_resource_requirements(container.get("resources"), f"{path}.resources")
    return causes


def _validate_probes(container: JSON, path: str) -> Causes:
    return (validate_probe(container.get("livenessProbe"), f"{path}.livenessProbe", "liveness")
            + validate_probe(container.get("readinessProbe"), f"{path}.readinessProbe", "readiness")
            + validate_probe(container.get("startupProbe"), f"{path}.startupProbe", "startup"))


def _validate_containers(containers: Any, volumes: set[str], path: str) -> Causes:
    items = _dicts(containers)
    if not items:
        return [required(path)]
    causes: Causes = []
    names: set[str] = set()
    for i, container in enumerate(items):
        entry = f"{path}[{i}]"
        causes += _validate_container_common(container, volumes, entry)
        name = _str(container.get("name"))
        if name in names:
            causes.append(duplicate(f"{entry}.name", go_quote(name)))
        names.add(name)
        if not _str(container.get("image")):
            causes.append(required(f"{entry}.image"))
        causes += _validate_probes(container, entry)
        if container.get("restartPolicy") is not None:
            causes.append(forbidden(f"{entry}.restartPolicy", "may not be set for non-init containers"))
    return causes


def _validate_init_containers(init_containers: Any, containers: Any, volumes: set[str], path: str) -> Causes:
    causes: Causes = []
    names = {_str(c.get("name")) for c in _dicts(containers)}
    for i, container in enumerate(_dicts(init_containers)):
        entry = f"{path}[{i}]"
        causes += _validate_container_common(container, volumes, entry)
        if not _str(container.get("image")):
            causes.append(required(f"{entry}.image"))
        restart = container.get("restartPolicy")
        if restart is not None and restart != "Always":
            causes.append(not_supported(f"{entry}.restartPolicy", go_value(restart), ("Always",)))
        name = _str(container.get("name"))
        if name in names:
            causes.append(duplicate(f"{entry}.name", go_quote(name)))
        elif name:
            names.add(name)
        if restart == "Always":
            causes += _validate_probes(container, entry)
            continue
        for key in ("lifecycle", "livenessProbe", "readinessProbe", "startupProbe"):
            if container.get(key) is not None:
                causes.append(forbidden(f"{entry}.{key}",
                                        "may not be set for init containers without restartPolicy=Always"))
    return causes


# ---- volumes --------------------------------------------------------------------------


def _validate_volumes(volumes: Any, path: str) -> tuple[set[str], Causes]:
    causes: Causes = []
    valid: set[str] = set()
    for i, volume in enumerate(_dicts(volumes)):
        entry = f"{path}[{i}]"
        errors = _validate_volume_source(volume, entry)
        name = _str(volume.get("name"))
        if not name:
            errors.append(required(f"{entry}.name"))
        else:
            errors += _messages(f"{entry}.name", name, is_dns1123_label(name))
        if name in valid:
            errors.append(duplicate(f"{entry}.name", go_quote(name)))
        if errors:
            causes += errors
        else:
            valid.add(name)
    return valid, causes


def _validate_volume_source(volume: JSON, path: str) -> Causes:
    causes: Causes = []
    sources = [key for key in SINGLE_SOURCE_VOLUME_KEYS if volume.get(key) is not None]
    if not sources:
        return [required(path, "must specify a volume type")]
    causes += [forbidden(f"{path}.{extra}", "may not specify more than 1 volume type") for extra in sources[1:]]
    source, body = sources[0], _dict(volume.get(sources[0]))
    required_names = {"configMap": "name", "secret": "secretName", "hostPath": "path",
                      "persistentVolumeClaim": "claimName"}
    if source in required_names and not body.get(required_names[source]):
        causes.append(required(f"{path}.{source}.{required_names[source]}"))
    mode = _int(body.get("defaultMode"))
    if source in ("configMap", "secret", "downwardAPI", "projected") and mode is not None and not 0 <= mode <= 0o777:
        causes.append(invalid(f"{path}.{source}.defaultMode", str(mode),
                              "must be a number between 0 and 0777 (octal), both inclusive"))
    return causes


# ---- pod spec -------------------------------------------------------------------------


def _validate_tolerations(tolerations: Any, path: str) -> Causes:
    causes: Causes = []
    for i, toleration in enumerate(_dicts(tolerations)):
        entry = f"{path}[{i}]"
        key, operator = _str(toleration.get("key")), _str(toleration.get("operator"))
        effect, value = _str(toleration.get("effect")), _str(toleration.get("value"))
        if key:
            causes += _messages(f"{entry}.key", key, validate_label_key(key))
        if not key and operator != "Exists":
            causes.append(invalid(f"{entry}.operator", go_quote(operator), "operator must be Exists when `key` is "
                                  "empty, which means \"match all values and all keys\""))
        if toleration.get("tolerationSeconds") is not None and effect != "NoExecute":
            causes.append(invalid(f"{entry}.effect", go_quote(effect),
                                  "effect must be 'NoExecute' when `tolerationSeconds` is set"))
        if operator in ("Equal", ""):
            causes += _messages(f"{entry}.operator", value, validate_label_value(value))
        elif operator == "Exists":
            if value:
                causes.append(invalid(f"{entry}.operator", "core.Toleration{...}",
                                      "value must be empty when `operator` is 'Exists'"))
        else:
            causes.append(not_supported(f"{entry}.operator", go_quote(operator), ("Equal", "Exists")))
        if effect:
            causes += _validate_taint_effect(effect, f"{entry}.effect")
    return causes


def _validate_taint_effect(effect: str, path: str) -> Causes:
    valid = ("NoSchedule", "PreferNoSchedule", "NoExecute")
    return [] if effect in valid else [not_supported(path, go_quote(effect), valid)]


def _validate_enum(value: Any, path: str, valid: Sequence[str]) -> Causes:
    if value in valid:
        return []
    if not value:
        return [required(path)]
    return [not_supported(path, go_value(value), valid)]


def validate_pod_spec(spec: JSON, path: str) -> Causes:
    """ValidatePodSpec: the rules shared by pods and pod templates."""
    volumes, causes = _validate_volumes(spec.get("volumes"), f"{path}.volumes")
    causes += _validate_containers(spec.get("containers"), volumes, f"{path}.containers")
    causes += _validate_init_containers(spec.get("initContainers"), spec.get("containers"), volumes,
                                        f"{path}.initContainers")
    causes += _validate_enum(spec.get("restartPolicy"), f"{path}.restartPolicy", ("Always", "OnFailure", "Never"))
    causes += _validate_enum(spec.get("dnsPolicy"), f"{path}.dnsPolicy",
                             ("ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"))
    causes += validate_labels(spec.get("nodeSelector"), f"{path}.nodeSelector")
    for key in ("serviceAccountName", "nodeName", "priorityClassName"):
        value = _str(spec.get(key))
        if value:
            causes += _messages(f"{path}.{key}", value, is_dns1123_subdomain(value))
    deadline = _int(spec.get("activeDeadlineSeconds"))
    if deadline is not None and not 1 <= deadline <= MAX_INT32:
        causes.append(invalid(f"{path}.activeDeadlineSeconds", str(deadline), inclusive_range_error(1, MAX_INT32)))
    for key in ("hostname", "subdomain"):
        value = _str(spec.get(key))
        if value:
            causes += _messages(f"{path}.{key}", value, is_dns1123_label(value))
    causes += _validate_tolerations(spec.get("tolerations"), f"{path}.tolerations")
    if spec.get("preemptionPolicy") is not None:
        causes += _validate_enum(spec.get("preemptionPolicy"), f"{path}.preemptionPolicy",
                                 ("Never", "PreemptLowerPriority"))
    return causes


def validate_pod_template(template: Any, path: str) -> Causes:
    """ValidatePodTemplateSpec: note Kubernetes' `<path>.labels`, without `metadata`."""
    template = _dict(template)
    meta = _dict(template.get("metadata"))
    causes = validate_labels(meta.get("labels"), f"{path}.labels")
    causes += validate_annotations(meta.get("annotations"), f"{path}.annotations")
    causes += validate_pod_spec(_dict(template.get("spec")), f"{path}.spec")
    if _dict(template.get("spec")).get("ephemeralContainers"):
        causes.append(forbidden(f"{path}.spec.ephemeralContainers", "ephemeral containers not allowed in pod template"))
    return causes


def _validate_pod(pod: JSON, old: JSON | None) -> Causes:
    causes = validate_object_meta(pod, namespaced=True, name_fn=name_is_dns_subdomain)
    spec = _dict(pod.get("spec"))
    causes += validate_pod_spec(spec, "spec")
    if old is None:
        if spec.get("ephemeralContainers"):
            causes.append(forbidden("spec.ephemeralContainers", "cannot be set on create"))
        if spec.get("nodeName") and spec.get("schedulingGates"):
            causes.append(forbidden("spec.nodeName", "cannot be set until all schedulingGates have been cleared"))
        return causes
    return validate_object_meta_update(pod, old) + causes + _validate_pod_update(spec, _dict(old.get("spec")))


def _validate_pod_update(spec: JSON, old_spec: JSON) -> Causes:
    causes: Causes = []
    for key in ("containers", "initContainers"):
        new_items, old_items = _dicts(spec.get(key)), _dicts(old_spec.get(key))
        if len(new_items) != len(old_items):
            return causes + [forbidden(f"spec.{key}", "pod updates may not add or remove containers")]
    deadline, old_deadline = _int(spec.get("activeDeadlineSeconds")), _int(old_spec.get("activeDeadlineSeconds"))
    if deadline is not None:
        if deadline < 0 or deadline > MAX_INT32:
            return causes + [invalid("spec.activeDeadlineSeconds", str(deadline), inclusive_range_error(0, MAX_INT32))]
        if old_deadline is not None and old_deadline < deadline:
            return causes + [invalid("spec.activeDeadlineSeconds", str(deadline),
                                     "must be less than or equal to previous value")]
    elif old_deadline is not None:
        causes.append(invalid("spec.activeDeadlineSeconds", "null", "must not update from a positive integer to "
                                                                    "nil value"))
    causes += _validate_only_added_tolerations(spec.get("tolerations"), old_spec.get("tolerations"))
    if semantic(spec) == semantic(old_spec):
        return causes
    munged = _munge_updatable_pod_fields(spec, old_spec)
    if semantic(munged) != semantic(old_spec):
        causes.append(forbidden("spec", f"pod updates may not change fields other than {UPDATABLE_POD_SPEC_FIELDS}\n"
                                        + _spec_diff(old_spec, munged)))
    return causes


def _validate_only_added_tolerations(new: Any, old: Any) -> Causes:
    new_items = _dicts(new)
    for existing in _dicts(old):
        stripped = {k: v for k, v in existing.items() if k != "tolerationSeconds"}
        if not any({k: v for k, v in item.items() if k != "tolerationSeconds"} == stripped for item in new_items):
            return [forbidden("spec.tolerations", "existing toleration can not be modified except its "
                                                  "tolerationSeconds")]
    return []


def _munge_updatable_pod_fields(spec: JSON, old_spec: JSON) -> JSON:
    """The new spec with every field a pod update may change set back to its old value."""
    munged = dict(spec)
    for key in ("containers", "initContainers"):
        if key in spec:
            munged[key] = [_with_image_of(container, old)
                           for container, old in zip(_dicts(spec[key]), _dicts(old_spec.get(key)), strict=False)]
    for key in ("activeDeadlineSeconds", "tolerations"):
        munged.pop(key, None)
        if key in old_spec:
            munged[key] = old_spec[key]
    old_grace = _int(old_spec.get("terminationGracePeriodSeconds"))
    if old_grace is not None and old_grace < 0 and spec.get("terminationGracePeriodSeconds") == 1:
        munged["terminationGracePeriodSeconds"] = old_grace
    return munged


def _with_image_of(container: JSON, old: JSON) -> JSON:
    merged = {key: value for key, value in container.items() if key != "image"}
    if "image" in old:
        merged["image"] = old["image"]
    return merged


def semantic(value: Any) -> Any:
    """apiequality.Semantic: null, empty lists and empty maps equal absent ones."""
    if isinstance(value, dict):
        cleaned = {key: semantic(item) for key, item in value.items()}
        return {key: item for key, item in cleaned.items() if item not in (None, [], {})}
    if isinstance(value, list):
        return [semantic(item) for item in value]
    return value


def _spec_diff(old: JSON, new: JSON) -> str:
    """A short `cmp.Diff`-style listing of the top-level PodSpec fields that differ."""
    lines = ["  core.PodSpec{"]
    for key in sorted(set(old) | set(new)):
        if old.get(key) != new.get(key):
            field = key[:1].upper() + key[1:]
            lines.append(f"- \t{field}: {_short(old.get(key))},")
            lines.append(f"+ \t{field}: {_short(new.get(key))},")
    lines.append("  }")
    return "\n".join(lines) + "\n"


def _short(value: Any) -> str:
    if value is None:
        return "nil"
    return go_value(value) if not isinstance(value, dict | list) else json.dumps(value, sort_keys=True)


# ---- apps -----------------------------------------------------------------------------


def _validate_workload_selector(selector: Any) -> tuple[Causes, bool]:
    """Selector required and valid; the flag says whether it parses (LabelSelectorAsSelector),
    without which Kubernetes skips the pod template entirely."""
    if selector is None:
        return [required("spec.selector")], True
    causes = validate_label_selector(selector, "spec.selector")
    if _selector_is_empty(selector):
        return causes + [invalid("spec.selector", go_label_selector(selector),
                                 "empty selector is invalid for deployment")], True
    if causes:
        return causes + [invalid("spec.selector", go_label_selector(selector), "invalid label selector")], False
    return causes, True


def _validate_template_for_replica_set(spec: JSON) -> Causes:
    template = _dict(spec.get("template"))
    labels = _dict(template.get("metadata")).get("labels")
    selector = spec.get("selector")
    causes: Causes = []
    if not _selector_is_empty(selector) and not selector_matches(selector, _dict(labels)):
        causes.append(invalid("spec.template.metadata.labels",
                              go_string_map(labels if isinstance(labels, dict) else None),
                              "`selector` does not match template `labels`"))
    causes += validate_pod_template(template, "spec.template")
    template_spec = _dict(template.get("spec"))
    if template_spec.get("restartPolicy") != "Always":
        causes.append(not_supported("spec.template.spec.restartPolicy", go_value(template_spec.get("restartPolicy")),
                                    ("Always",)))
    if template_spec.get("activeDeadlineSeconds") is not None:
        causes.append(forbidden("spec.template.spec.activeDeadlineSeconds",
                                "activeDeadlineSeconds in ReplicaSet is not Supported"))
    return causes


def _validate_selector_and_template(spec: JSON) -> Causes:
    causes, parses = _validate_workload_selector(spec.get("selector"))
    return causes + _validate_template_for_replica_set(spec) if parses else causes


def _percent_value(value: Any) -> int | None:
    if isinstance(value, str) and not is_valid_percent(value):
        return int(value[:-1])
    return None


def _int_or_percent_value(value: Any) -> int:
    percent = _percent_value(value)
    if percent is not None:
        return percent
    if isinstance(value, str):
        return int(value) if value.lstrip("-").isdigit() else 0
    return _int(value) or 0


def _validate_positive_int_or_percent(value: Any, path: str) -> Causes:
    if isinstance(value, str):
        return [invalid(path, go_int_or_string(value), message) for message in is_valid_percent(value)]
    number = _int(value) or 0
    return [invalid(path, str(number), NEGATIVE)] if number < 0 else []


def _validate_strategy(strategy: JSON) -> Causes:
    path = "spec.strategy"
    kind = strategy.get("type")
    if kind == "Recreate":
        if strategy.get("rollingUpdate") is not None:
            return [forbidden(f"{path}.rollingUpdate", "may not be specified when strategy `type` is 'Recreate'")]
        return []
    if kind != "RollingUpdate":
        rolling = "(*apps.RollingUpdateDeployment)(nil)" if strategy.get("rollingUpdate") is None \
            else "(*apps.RollingUpdateDeployment)(0xc000000000)"
        return [not_supported(path, f"apps.DeploymentStrategy{{Type:{go_quote(_str(kind))}, RollingUpdate:{rolling}}}",
                              ("Recreate", "RollingUpdate"))]
    rolling_update = strategy.get("rollingUpdate")
    if not isinstance(rolling_update, dict):
        return [required(f"{path}.rollingUpdate", "this should be defaulted and never be nil")]
    path = f"{path}.rollingUpdate"
    max_unavailable, max_surge = rolling_update.get("maxUnavailable"), rolling_update.get("maxSurge")
    causes = _validate_positive_int_or_percent(max_unavailable, f"{path}.maxUnavailable")
    causes += _validate_positive_int_or_percent(max_surge, f"{path}.maxSurge")
    if _int_or_percent_value(max_unavailable) == 0 and _int_or_percent_value(max_surge) == 0:
        causes.append(invalid(f"{path}.maxUnavailable", go_int_or_string(max_unavailable),
                              "may not be 0 when `maxSurge` is 0"))
    percent = _percent_value(max_unavailable)
    if percent is not None and percent > 100:
        causes.append(invalid(f"{path}.maxUnavailable", go_int_or_string(max_unavailable),
                              "must not be greater than 100%"))
    return causes


def _validate_deployment(deployment: JSON, old: JSON | None) -> Causes:
    causes = validate_object_meta(deployment, namespaced=True, name_fn=name_is_dns_subdomain)
    spec = _dict(deployment.get("spec"))
    causes += _nonnegative(spec.get("replicas"), "spec.replicas")
    causes += _validate_selector_and_template(spec)
    causes += _validate_strategy(_dict(spec.get("strategy")))
    causes += _nonnegative(spec.get("minReadySeconds"), "spec.minReadySeconds")
    causes += _nonnegative(spec.get("revisionHistoryLimit"), "spec.revisionHistoryLimit")
    if isinstance(spec.get("rollbackTo"), dict):
        causes += _nonnegative(spec["rollbackTo"].get("revision"), "spec.rollback.revision")
    deadline = _int(spec.get("progressDeadlineSeconds"))
    if deadline is not None:
        causes += _nonnegative(deadline, "spec.progressDeadlineSeconds")
        if deadline <= (_int(spec.get("minReadySeconds")) or 0):
            causes.append(invalid("spec.progressDeadlineSeconds", str(deadline), "must be greater than minReadySeconds"))
    return _with_update(causes, deployment, old, _validate_selector_immutable)


def _validate_replica_set(replica_set: JSON, old: JSON | None) -> Causes:
    causes = validate_object_meta(replica_set, namespaced=True, name_fn=name_is_dns_subdomain)
    spec = _dict(replica_set.get("spec"))
    causes += _nonnegative(spec.get("replicas"), "spec.replicas")
    causes += _nonnegative(spec.get("minReadySeconds"), "spec.minReadySeconds")
    causes += _validate_selector_and_template(spec)
    return _with_update(causes, replica_set, old, _validate_selector_immutable)


def _validate_selector_immutable(obj: JSON, old: JSON) -> Causes:
    selector, old_selector = _dict(obj.get("spec")).get("selector"), _dict(old.get("spec")).get("selector")
    if semantic(selector) != semantic(old_selector):
        return [invalid("spec.selector", go_label_selector(selector), IMMUTABLE)]
    return []


def _with_update(causes: Causes, obj: JSON, old: JSON | None, update: Callable[[JSON, JSON], Causes]) -> Causes:
    if old is None:
        return causes
    return validate_object_meta_update(obj, old) + causes + update(obj, old)


# ---- batch ----------------------------------------------------------------------------


def _validate_job(job: JSON, old: JSON | None) -> Causes:
    causes = validate_object_meta(job, namespaced=True, name_fn=name_is_dns_subdomain)
    spec = _dict(job.get("spec"))
    for key in ("parallelism", "completions", "activeDeadlineSeconds", "backoffLimit", "ttlSecondsAfterFinished",
                "backoffLimitPerIndex", "maxFailedIndexes"):
        causes += _nonnegative(spec.get(key), f"spec.{key}")
    mode = spec.get("completionMode")
    if mode is not None and mode not in ("NonIndexed", "Indexed"):
        causes.append(not_supported("spec.completionMode", go_value(mode), ("NonIndexed", "Indexed")))
    if mode == "Indexed" and spec.get("completions") is None:
        causes.append(required("spec.completions", "when completion mode is Indexed"))
    replacement = spec.get("podReplacementPolicy")
    if replacement is not None:
        valid = ("Failed",) if spec.get("podFailurePolicy") is not None else ("Failed", "TerminatingOrFailed")
        if replacement not in valid:
            causes.append(not_supported("spec.podReplacementPolicy", go_value(replacement), valid))
    template = _dict(spec.get("template"))
    causes += validate_pod_template(template, "spec.template")
    restart = _dict(template.get("spec")).get("restartPolicy")
    if restart in ("Always", "", None):
        causes.append(required("spec.template.spec.restartPolicy", 'valid values: "OnFailure", "Never"'))
    elif restart not in ("OnFailure", "Never"):
        causes.append(not_supported("spec.template.spec.restartPolicy", go_value(restart), ("OnFailure", "Never")))
    selector = spec.get("selector")
    if selector is None:
        causes.append(required("spec.selector"))
    else:
        causes += validate_label_selector(selector, "spec.selector")
    labels = _dict(template.get("metadata")).get("labels")
    if not selector_matches(selector, _dict(labels)):
        causes.append(invalid("spec.template.metadata.labels",
                              go_string_map(labels if isinstance(labels, dict) else None),
                              "`selector` does not match template `labels`"))
    return _with_update(causes, job, old, _validate_job_update)


def _validate_job_update(job: JSON, old: JSON) -> Causes:
    spec, old_spec = _dict(job.get("spec")), _dict(old.get("spec"))
    causes = _validate_completions_update(spec, old_spec)
    causes += _validate_selector_immutable(job, old)
    template, old_template = _dict(spec.get("template")), _dict(old_spec.get("template"))
    if _job_may_mutate_scheduling(old):
        template, old_template = _without_scheduling_directives(template), _without_scheduling_directives(old_template)
    if semantic(template) != semantic(old_template):
        causes.append(invalid("spec.template", "core.PodTemplateSpec{...}", IMMUTABLE))
    for key in ("completionMode", "podFailurePolicy", "backoffLimitPerIndex", "managedBy", "successPolicy"):
        if spec.get(key) != old_spec.get(key):
            causes.append(invalid(f"spec.{key}", go_value(spec.get(key)) if not isinstance(spec.get(key), dict)
                                  else "{...}", IMMUTABLE))
    return causes


def _validate_completions_update(spec: JSON, old_spec: JSON) -> Causes:
    """Completions are immutable, except that an Indexed Job may scale them together with
    parallelism (ElasticIndexedJob)."""
    completions = spec.get("completions")
    if completions == old_spec.get("completions"):
        return []
    if spec.get("completionMode") != "Indexed":
        return [invalid("spec.completions", go_value(completions), IMMUTABLE)]
    if completions is not None and completions != spec.get("parallelism"):
        return [invalid("spec.completions", go_value(completions),
                        "can only be modified in tandem with spec.parallelism")]
    return []


def _job_may_mutate_scheduling(old: JSON) -> bool:
    """Scheduling directives may change while a Job is suspended and has never started."""
    return bool(_dict(old.get("spec")).get("suspend")) and not _dict(old.get("status")).get("startTime")


def _without_scheduling_directives(template: JSON) -> JSON:
    meta = {k: v for k, v in _dict(template.get("metadata")).items() if k not in ("labels", "annotations")}
    spec = {k: v for k, v in _dict(template.get("spec")).items()
            if k not in ("nodeSelector", "affinity", "tolerations", "schedulingGates")}
    return {**template, "metadata": meta, "spec": spec}


# ---- services -------------------------------------------------------------------------


def _cluster_ips(spec: JSON) -> list[str]:
    """The strategy keeps clusterIP and clusterIPs in step; validate the list it would store."""
    ips = spec.get("clusterIPs")
    if isinstance(ips, list) and ips:
        return [str(ip) for ip in ips]
    return [spec["clusterIP"]] if _str(spec.get("clusterIP")) else []


def _is_valid_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


IP_FORMAT_ERROR = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"


def _validate_service_port(port: JSON, require_name: bool, names: set[str], path: str) -> Causes:
    causes: Causes = []
    name = _str(port.get("name"))
    if require_name and not name:
        causes.append(required(f"{path}.name"))
    elif name:
        causes += _messages(f"{path}.name", name, is_dns1123_label(name))
        if name in names:
            causes.append(duplicate(f"{path}.name", go_quote(name)))
        names.add(name)
    number = _int(port.get("port")) or 0
    causes += [invalid(f"{path}.port", str(number), m) for m in is_valid_port_num(number)]
    causes += _validate_protocol(port.get("protocol"), f"{path}.protocol")
    causes += _validate_port_num_or_name(port.get("targetPort"), f"{path}.targetPort")
    app_protocol = port.get("appProtocol")
    if app_protocol is not None:
        causes += _messages(f"{path}.appProtocol", str(app_protocol), validate_label_key(str(app_protocol)))
    return causes


def _go_service_port(port: JSON) -> str:
    return (f'core.ServicePort{{Name:"", Protocol:{go_quote(_str(port.get("protocol")))}, '
            f'AppProtocol:(*string)(nil), Port:{_int(port.get("port")) or 0}, '
            f'TargetPort:intstr.IntOrString{{Type:0, IntVal:0, StrVal:""}}, NodePort:0}}')


def _validate_service_type_rules(spec: JSON, kind: Any, ips: list[str]) -> Causes:
    causes: Causes = []
    headless = ips == ["None"]
    if kind == "LoadBalancer":
        for i, port in enumerate(_dicts(spec.get("ports"))):
            if port.get("port") == 10250:
                causes.append(invalid(f"spec.ports[{i}]", "10250",
                                      "may not expose port 10250 externally since it is used by kubelet"))
    if kind in ("LoadBalancer", "NodePort") and headless:
        causes.append(invalid("spec.clusterIPs[0]", '"None"', f"may not be set to 'None' for {kind} services"))
    if kind == "ExternalName":
        if ips:
            causes.append(forbidden("spec.clusterIPs", "may not be set for ExternalName services"))
        if spec.get("ipFamilies"):
            causes.append(forbidden("spec.ipFamilies", "may not be set for ExternalName services"))
        if spec.get("ipFamilyPolicy") is not None:
            causes.append(forbidden("spec.ipFamilyPolicy", "may not be set for ExternalName services"))
        cname = _str(spec.get("externalName")).removesuffix(".")
        if cname:
            causes += _messages("spec.externalName", cname, is_dns1123_subdomain(cname))
        else:
            causes.append(required("spec.externalName"))
    return causes


def _validate_service_ports(spec: JSON, kind: Any) -> Causes:
    causes: Causes = []
    ports = _dicts(spec.get("ports"))
    names: set[str] = set()
    seen_node_ports: set[tuple[str, int]] = set()
    seen_ports: set[tuple[str, int]] = set()
    for i, port in enumerate(ports):
        path = f"spec.ports[{i}]"
        causes += _validate_service_port(port, len(ports) > 1, names, path)
        node_port = _int(port.get("nodePort")) or 0
        if node_port and kind == "ClusterIP":
            causes.append(forbidden(f"{path}.nodePort", "may not be used when `type` is 'ClusterIP'"))
        elif node_port and kind in ("NodePort", "LoadBalancer") and not 30000 <= node_port <= 32767:
            causes.append(invalid(f"{path}.nodePort", str(node_port), "provided port is not in the valid range. "
                                                                      "The range of valid ports is 30000-32767"))
        if node_port:
            key = (_str(port.get("protocol")), node_port)
            if key in seen_node_ports:
                causes.append(duplicate(f"{path}.nodePort", str(node_port)))
            seen_node_ports.add(key)
        key = (_str(port.get("protocol")), _int(port.get("port")) or 0)
        if key in seen_ports:
            causes.append(duplicate(path, _go_service_port(port)))
        seen_ports.add(key)
    return causes


def _validate_cluster_ips(spec: JSON, ips: list[str]) -> Causes:
    causes: Causes = []
    cluster_ip = _str(spec.get("clusterIP"))
    listed = spec.get("clusterIPs") if isinstance(spec.get("clusterIPs"), list) else []
    if cluster_ip and listed and listed[0] != cluster_ip:
        causes.append(invalid("spec.clusterIPs", go_string_slice(listed), "first value must match `clusterIP`"))
    elif not cluster_ip and listed:
        causes.append(invalid("spec.clusterIPs", go_string_slice(listed),
                              "must be empty when `clusterIP` is not specified"))
    for i, ip in enumerate(ips):
        if i == 0 and ip == "None":
            if len(ips) > 1:
                causes.append(invalid("spec.clusterIPs", go_string_slice(ips), "'None' must be the first and only "
                                                                                "value"))
            continue
        if not _is_valid_ip(ip):
            causes.append(invalid(f"spec.clusterIPs[{i}]", go_quote(ip), IP_FORMAT_ERROR))
    if len(ips) > 2:
        causes.append(invalid("spec.clusterIPs", go_string_slice(ips), "may only hold up to 2 values"))
    families = spec.get("ipFamilies") if isinstance(spec.get("ipFamilies"), list) else []
    seen: set[str] = set()
    for i, family in enumerate(families):
        if family not in ("IPv4", "IPv6"):
            causes.append(not_supported(f"spec.ipFamilies[{i}]", go_value(family), ("IPv4", "IPv6")))
        if family in seen:
            causes.append(duplicate(f"spec.ipFamilies[{i}]", go_value(family)))
        seen.add(str(family))
    policy = spec.get("ipFamilyPolicy")
    if policy is not None and policy not in ("PreferDualStack", "RequireDualStack", "SingleStack"):
        causes.append(not_supported("spec.ipFamilyPolicy", go_value(policy),
                                    ("PreferDualStack", "RequireDualStack", "SingleStack")))
    return causes


def _validate_traffic_policies(spec: JSON, kind: Any) -> Causes:
    causes: Causes = []
    external = kind in ("NodePort", "LoadBalancer") or (kind == "ClusterIP" and bool(spec.get("externalIPs")))
    policy = spec.get("externalTrafficPolicy")
    if not external:
        if policy:
            causes.append(invalid("spec.externalTrafficPolicy", go_value(policy),
                                  "may only be set for externally-accessible services"))
    elif not policy:
        causes.append(required("spec.externalTrafficPolicy"))
    elif policy not in ("Cluster", "Local"):
        causes.append(not_supported("spec.externalTrafficPolicy", go_value(policy), ("Cluster", "Local")))
    internal = spec.get("internalTrafficPolicy")
    if internal is None and kind in ("ClusterIP", "NodePort", "LoadBalancer"):
        causes.append(required("spec.internalTrafficPolicy"))
    elif internal is not None and internal not in ("Cluster", "Local"):
        causes.append(not_supported("spec.internalTrafficPolicy", go_value(internal), ("Cluster", "Local")))
    return causes


def _validate_service(service: JSON, old: JSON | None) -> Causes:
    causes = validate_object_meta(service, namespaced=True, name_fn=name_is_dns1035_label)
    spec = _dict(service.get("spec"))
    kind, ips = spec.get("type"), _cluster_ips(spec)
    if not _dicts(spec.get("ports")) and ips != ["None"] and kind != "ExternalName":
        causes.append(required("spec.ports"))
    causes += _validate_service_type_rules(spec, kind, ips)
    causes += _validate_service_ports(spec, kind)
    if spec.get("selector") is not None:
        causes += validate_labels(spec.get("selector"), "spec.selector")
    affinity = spec.get("sessionAffinity")
    causes += _validate_enum(affinity, "spec.sessionAffinity", ("ClientIP", "None"))
    if affinity == "None" and spec.get("sessionAffinityConfig") is not None:
        causes.append(forbidden("spec.sessionAffinityConfig", "must not be set when session affinity is None"))
    if kind != "ExternalName":
        causes += _validate_cluster_ips(spec, ips)
    for i, ip in enumerate(spec.get("externalIPs") or []):
        if not _is_valid_ip(str(ip)):
            causes.append(invalid(f"spec.externalIPs[{i}]", go_quote(str(ip)), IP_FORMAT_ERROR))
    causes += _validate_enum(kind, "spec.type", ("ClusterIP", "ExternalName", "LoadBalancer", "NodePort"))
    causes += _validate_traffic_policies(spec, kind)
    return _with_update(causes, service, old, _validate_service_update)


def _validate_service_update(service: JSON, old: JSON) -> Causes:
    spec, old_spec = _dict(service.get("spec")), _dict(old.get("spec"))
    if "ExternalName" in (spec.get("type"), old_spec.get("type")):
        return []
    new_ips, old_ips = _cluster_ips(spec), _cluster_ips(old_spec)
    if new_ips == ["None"] and old_ips == ["None"]:
        return []
    causes: Causes = []
    if len(new_ips) == len(old_ips):
        causes += [invalid(f"spec.clusterIPs[{i}]", go_string_slice(new_ips), "may not change once set")
                   for i, ip in enumerate(old_ips) if ip != new_ips[i]]
    elif len(old_ips) > len(new_ips):
        if not new_ips:
            causes.append(invalid("spec.clusterIPs[0]", go_string_slice(new_ips), "primary clusterIP can not be unset"))
        elif new_ips[0] != old_ips[0]:
            causes.append(invalid("spec.clusterIPs[0]", go_string_slice(new_ips), "may not change once set"))
    elif old_ips and new_ips[0] != old_ips[0]:
        causes.append(invalid("spec.clusterIPs[0]", go_string_slice(new_ips), "may not change once set"))
    return causes


# ---- the other core kinds -------------------------------------------------------------


def _validate_namespace(namespace: JSON, old: JSON | None) -> Causes:
    causes = validate_object_meta(namespace, namespaced=False, name_fn=name_is_dns_label)
    finalizers = _dict(namespace.get("spec")).get("finalizers")
    for finalizer in [str(f) for f in finalizers] if isinstance(finalizers, list) else []:
        causes += _messages("spec.finalizers", finalizer, validate_label_key(finalizer))
        if "/" not in finalizer and finalizer not in STANDARD_FINALIZERS:
            causes.append(invalid("spec.finalizers", go_quote(finalizer),
                                  "name is neither a standard finalizer name nor is it fully qualified"))
    return _with_update(causes, namespace, old, lambda _new, _old: [])


def _go_taint(taint: JSON) -> str:
    return (f'core.Taint{{Key:{go_quote(_str(taint.get("key")))}, Value:{go_quote(_str(taint.get("value")))}, '
            f'Effect:{go_quote(_str(taint.get("effect")))}, TimeAdded:<nil>}}')


def _validate_node(node: JSON, old: JSON | None) -> Causes:
    causes = validate_object_meta(node, namespaced=False, name_fn=name_is_dns_subdomain)
    spec = _dict(node.get("spec"))
    seen: set[tuple[str, str]] = set()
    for i, taint in enumerate(_dicts(spec.get("taints"))):
        path = f"metadata.taints[{i}]"  # sic: Kubernetes roots node taint errors at metadata
        key, value, effect = _str(taint.get("key")), _str(taint.get("value")), _str(taint.get("effect"))
        causes += _messages(f"{path}.key", key, validate_label_key(key))
        value_errors = validate_label_value(value)
        if value_errors:
            causes.append(invalid(f"{path}.value", go_quote(value), ";".join(value_errors)))
        causes += [required(f"{path}.effect")] if not effect else _validate_taint_effect(effect, f"{path}.effect")
        if (key, effect) in seen:
            causes.append(StatusCause("FieldValueDuplicate", f"Duplicate value: {_go_taint(taint)}: taints must be "
                                                             "unique by key and effect pair", path))
        seen.add((key, effect))
    status = _dict(node.get("status"))
    for section in ("capacity", "allocatable"):
        for name in sorted(_dict(status.get(section)), key=str):
            raw = status[section][name]
            quantity = _quantity(raw)
            if quantity is None:
                causes.append(invalid(f"status.{section}.{name}", go_quote(str(raw)), QUANTITY_FORMAT_ERROR))
            elif quantity[0] < 0:
                causes.append(invalid(f"status.{section}.{name}", go_quote(quantity[1]), NEGATIVE))
    return _with_update(causes, node, old, _validate_node_update)


def _validate_node_update(node: JSON, old: JSON) -> Causes:
    spec, old_spec = _dict(node.get("spec")), _dict(old.get("spec"))
    causes: Causes = []
    old_cidrs = old_spec.get("podCIDRs") or []
    if old_cidrs and old_cidrs != (spec.get("podCIDRs") or []):
        causes.append(forbidden("spec.podCIDRs", 'node updates may not change podCIDR except from "" to valid'))
    if old_spec.get("providerID") and old_spec.get("providerID") != spec.get("providerID"):
        causes.append(forbidden("spec.providerID", 'node updates may not change providerID except from "" to valid'))
    return causes


def _validate_endpoint_ip(ip: str, path: str) -> Causes:
    """ValidateEndpointIP: an endpoint may not be an address no pod could have."""
    parsed = ipaddress.ip_address(ip)
    messages = []
    if parsed.is_unspecified:
        messages.append(f"may not be unspecified ({ip})")
    if parsed.is_loopback:
        messages.append("may not be in the loopback range (127.0.0.0/8, ::1/128)")
    if parsed.is_link_local:
        messages.append("may not be in the link-local range (169.254.0.0/16, fe80::/10)")
    if parsed in ipaddress.ip_network("224.0.0.0/24") or parsed in ipaddress.ip_network("ff02::/16"):
        messages.append("may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)")
    return [invalid(path, go_quote(ip), m) for m in messages]


def _validate_endpoint_address(address: JSON, path: str) -> Causes:
    causes: Causes = []
    ip = _str(address.get("ip"))
    if not _is_valid_ip(ip):
        causes.append(invalid(f"{path}.ip", go_quote(ip), IP_FORMAT_ERROR))
    else:
        causes += _validate_endpoint_ip(ip, f"{path}.ip")
    hostname = _str(address.get("hostname"))
    if hostname:
        causes += _messages(f"{path}.hostname", hostname, is_dns1123_label(hostname))
    node_name = address.get("nodeName")
    if node_name is not None:
        causes += _messages(f"{path}.nodeName", str(node_name), is_dns1123_subdomain(str(node_name)))
    return causes


def _validate_endpoints(endpoints: JSON, old: JSON | None) -> Causes:
    causes = validate_object_meta(endpoints, namespaced=True, name_fn=name_is_dns_subdomain)
    for i, subset in enumerate(_dicts(endpoints.get("subsets"))):
        path = f"subsets[{i}]"
        if not subset.get("addresses") and not subset.get("notReadyAddresses"):
            causes.append(required(path, "must specify `addresses` or `notReadyAddresses`"))
        for key in ("addresses", "notReadyAddresses"):
            for j, address in enumerate(_dicts(subset.get(key))):
                causes += _validate_endpoint_address(address, f"{path}.{key}[{j}]")
        ports = _dicts(subset.get("ports"))
        for j, port in enumerate(ports):
            port_path = f"{path}.ports[{j}]"
            name = _str(port.get("name"))
            if len(ports) > 1 and not name:
                causes.append(required(f"{port_path}.name"))
            elif name:
                causes += _messages(f"{port_path}.name", name, is_dns1123_label(name))
            number = _int(port.get("port")) or 0
            causes += [invalid(f"{port_path}.port", str(number), m) for m in is_valid_port_num(number)]
            causes += _validate_protocol(port.get("protocol"), f"{port_path}.protocol")
    return _with_update(causes, endpoints, old, lambda _new, _old: [])


ENDPOINT_SLICE_ADDRESS_TYPES = ("FQDN", "IPv4", "IPv6")
MAX_SLICE_ENDPOINTS, MAX_ENDPOINT_ADDRESSES, MAX_SLICE_PORTS, MAX_ZONE_HINTS = 1000, 100, 20000, 8


def _validate_endpoint_slice(slice_: JSON, old: JSON | None) -> Causes:
    """discovery/validation ValidateEndpointSlice{Create,Update}."""
    causes = validate_object_meta(slice_, namespaced=True, name_fn=name_is_dns_subdomain)
    address_type = _str(slice_.get("addressType"))
    if not address_type:
        causes.append(required("addressType"))
    elif address_type not in ENDPOINT_SLICE_ADDRESS_TYPES:
        causes.append(not_supported("addressType", go_quote(address_type), ENDPOINT_SLICE_ADDRESS_TYPES))
    causes += _validate_slice_endpoints(slice_.get("endpoints"), address_type)
    causes += _validate_slice_ports(slice_.get("ports"))

    def immutable_address_type(new: JSON, old_slice: JSON) -> Causes:
        if new.get("addressType") != old_slice.get("addressType"):
            return [invalid("addressType", go_quote(address_type), IMMUTABLE)]
        return []
    return _with_update(causes, slice_, old, immutable_address_type)


def too_many(path: str, actual: int, limit: int) -> StatusCause:
    return StatusCause("FieldValueTooMany", f"Too many: {actual}: must have at most {limit} "
                                            f"{'item' if limit == 1 else 'items'}", path)


def _validate_slice_endpoints(endpoints: Any, address_type: str) -> Causes:
    entries = _dicts(endpoints)
    if len(entries) > MAX_SLICE_ENDPOINTS:
        return [too_many("endpoints", len(entries), MAX_SLICE_ENDPOINTS)]
    causes: Causes = []
    for i, endpoint in enumerate(entries):
        path = f"endpoints[{i}]"
        addresses = [a for a in endpoint.get("addresses") or [] if isinstance(a, str)]
        if not addresses:
            causes.append(required(f"{path}.addresses", "must contain at least 1 address"))
        elif len(addresses) > MAX_ENDPOINT_ADDRESSES:
            causes.append(too_many(f"{path}.addresses", len(addresses), MAX_ENDPOINT_ADDRESSES))
        for j, address in enumerate(addresses):
            causes += _validate_slice_address(address, address_type, f"{path}.addresses[{j}]")
        node_name = endpoint.get("nodeName")
        if isinstance(node_name, str):
            causes += _messages(f"{path}.nodeName", node_name, is_dns1123_subdomain(node_name))
        topology = endpoint.get("deprecatedTopology")
        if isinstance(topology, dict) and topology:
            causes += validate_labels(topology, f"{path}.deprecatedTopology")
        hostname = endpoint.get("hostname")
        if isinstance(hostname, str):
            causes += _messages(f"{path}.hostname", hostname, is_dns1123_label(hostname))
        causes += _validate_zone_hints(_dict(endpoint.get("hints")).get("forZones"), f"{path}.hints.forZones")
    return causes


def _validate_slice_address(address: str, address_type: str, path: str) -> Causes:
    if address_type in ("IPv4", "IPv6"):
        version = 4 if address_type == "IPv4" else 6
        try:
            parsed = ipaddress.ip_address(address)
        except ValueError:
            parsed = None
        if parsed is None or parsed.version != version:
            return [invalid(path, go_quote(address), f"must be a valid {address_type} address")]
        return _validate_endpoint_ip(address, path)
    if address_type == "FQDN":
        return _validate_fqdn(address, path)
    return []


def _validate_fqdn(name: str, path: str) -> Causes:
    """util/validation.IsFullyQualifiedDomainName."""
    if not name:
        return [required(path)]
    name = name.removesuffix(".")
    errors = is_dns1123_subdomain(name)
    if errors:
        return _messages(path, name, errors)
    labels = name.split(".")
    if len(labels) < 2:
        return _messages(path, name, ["should be a domain with at least two segments separated by dots"])
    return [cause for label in labels for cause in _messages(path, label, is_dns1123_label(label))]


def _validate_zone_hints(zones: Any, path: str) -> Causes:
    entries = _dicts(zones)
    if len(entries) > MAX_ZONE_HINTS:
        return [too_many(path, len(entries), MAX_ZONE_HINTS)]
    causes: Causes = []
    seen: set[str] = set()
    for i, zone in enumerate(entries):
        name = _str(zone.get("name"))
        if name in seen:
            causes.append(duplicate(f"{path}[{i}].name", go_quote(name)))
        seen.add(name)
        causes += _messages(f"{path}[{i}].name", name, validate_label_value(name))
    return causes


def _validate_slice_ports(ports: Any) -> Causes:
    entries = _dicts(ports)
    if len(entries) > MAX_SLICE_PORTS:
        return [too_many("ports", len(entries), MAX_SLICE_PORTS)]
    causes: Causes = []
    names: set[str] = set()
    for i, port in enumerate(entries):
        path = f"ports[{i}]"
        name = _str(port.get("name"))
        if name:
            causes += _messages(f"{path}.name", name, is_dns1123_label(name))
        if name in names:
            causes.append(duplicate(f"{path}.name", go_quote(name)))
        names.add(name)
        protocol = port.get("protocol")
        if protocol is None:
            causes.append(required(f"{path}.protocol"))
        elif protocol not in PORT_PROTOCOLS:
            causes.append(not_supported(f"{path}.protocol", go_quote(str(protocol)), PORT_PROTOCOLS))
        app_protocol = port.get("appProtocol")
        if isinstance(app_protocol, str):
            causes += _messages(f"{path}.appProtocol", app_protocol, validate_label_key(app_protocol))
    return causes


def _validate_event(event: JSON, old: JSON | None) -> Causes:
    """core/v1 Events get only the legacy checks and the generic name rules (validation.go
    stops there "for backwards compatibility")."""
    meta, involved = _dict(event.get("metadata")), _dict(event.get("involvedObject"))
    namespace, involved_namespace = _str(meta.get("namespace")), _str(involved.get("namespace"))
    causes: Causes = []
    mismatch = invalid("involvedObject.namespace", go_quote(involved_namespace), "does not match event.namespace")
    if not event.get("eventTime"):
        if (not involved_namespace and namespace not in ("", "default")) or \
                (involved_namespace and namespace != involved_namespace):
            causes.append(mismatch)
    else:
        if not involved_namespace and namespace not in ("default", "kube-system"):
            causes.append(mismatch)
        for key, limit in (("reportingComponent", 0), ("reportingInstance", 128), ("action", 128), ("reason", 128)):
            value = _str(event.get(key))
            if not value:
                causes.append(required(key))
            elif limit and len(value) > limit:
                causes.append(invalid(key, '""', f"can have at most {limit} characters"))
        if len(_str(event.get("message"))) > 1024:
            causes.append(invalid("message", '""', "can have at most 1024 characters"))
    causes += _messages("namespace", namespace, is_dns1123_subdomain(namespace))
    causes += validate_object_meta(event, namespaced=True, name_fn=path_segment_name)
    return _with_update(causes, event, old, lambda _new, _old: [])


def _validate_lease(lease: JSON, old: JSON | None) -> Causes:
    causes = validate_object_meta(lease, namespaced=True, name_fn=name_is_dns_subdomain)
    spec = _dict(lease.get("spec"))
    duration = _int(spec.get("leaseDurationSeconds"))
    if duration is not None and duration <= 0:
        causes.append(invalid("spec.leaseDurationSeconds", str(duration), "must be greater than 0"))
    transitions = _int(spec.get("leaseTransitions"))
    if transitions is not None and transitions < 0:
        causes.append(invalid("spec.leaseTransitions", str(transitions), NEGATIVE))
    return _with_update(causes, lease, old, lambda _new, _old: [])


# ---- apiregistration.k8s.io ------------------------------------------------------------


def _validate_apiservice(apiservice: JSON, old: JSON | None) -> Causes:
    """kube-aggregator's ValidateAPIService (+ the status conditions' values on every write)."""
    spec = _dict(apiservice.get("spec"))
    group, version = _str(spec.get("group")), _str(spec.get("version"))
    required_name = f"{version}.{group}"

    def name_fn(name: str, prefix: bool) -> list[str]:
        return path_segment_name(name, prefix) or (
            [] if name == required_name else [f'must be `spec.version+"."+spec.group`: "{required_name}"'])

    causes = validate_object_meta(apiservice, namespaced=False, name_fn=name_fn)
    if not group and version != "v1":
        causes.append(required("spec.group", "only v1 may have an empty group and it better be legacy kube"))
    if group:
        causes += _messages("spec.group", group, is_dns1123_subdomain(group))
    causes += _messages("spec.version", version, is_dns1035_label(version))
    group_priority, version_priority = _int(spec.get("groupPriorityMinimum")) or 0, _int(spec.get("versionPriority")) or 0
    if not 0 < group_priority <= 20000:
        causes.append(invalid("spec.groupPriorityMinimum", str(group_priority), "must be positive and less than 20000"))
    if not 0 < version_priority <= 1000:
        causes.append(invalid("spec.versionPriority", str(version_priority), "must be positive and less than 1000"))
    causes += _validate_apiservice_service(spec)
    for i, condition in enumerate(_dicts(_dict(apiservice.get("status")).get("conditions"))):
        if condition.get("status") not in ("True", "False", "Unknown"):
            causes.append(not_supported(f"status.conditions[{i}].status", go_quote(_str(condition.get("status"))),
                                        ["True", "False", "Unknown"]))
    return _with_update(causes, apiservice, old, lambda _new, _old: [])


def _validate_apiservice_service(spec: JSON) -> Causes:
    ca_bundle, insecure = _str(spec.get("caBundle")), spec.get("insecureSkipTLSVerify") is True
    service = spec.get("service")
    if not isinstance(service, dict):
        causes: Causes = []
        if ca_bundle:
            causes.append(invalid("spec.caBundle", go_quote(f"{len(_ca_bundle_bytes(ca_bundle))} bytes"),
                                  "local APIServices may not have a caBundle"))
        if insecure:
            causes.append(invalid("spec.insecureSkipTLSVerify", "true",
                                  "local APIServices may not have insecureSkipTLSVerify"))
        return causes
    causes = []
    if not _str(service.get("namespace")):
        causes.append(required("spec.service.namespace"))
    if not _str(service.get("name")):
        causes.append(required("spec.service.name"))
    if insecure and ca_bundle:
        causes.append(invalid("spec.insecureSkipTLSVerify", "true", "may not be true if caBundle is present"))
    return causes


def _ca_bundle_bytes(ca_bundle: str) -> bytes:
    """caBundle is `[]byte`: base64 in JSON."""
    try:
        return base64.b64decode(ca_bundle, validate=True)
    except ValueError:
        return ca_bundle.encode()


def _validate_generic(obj: JSON, old: JSON | None) -> Causes:
    causes = validate_object_meta(obj, namespaced=bool(_dict(obj.get("metadata")).get("namespace")),
                                  name_fn=path_segment_name)
    return _with_update(causes, obj, old, lambda _new, _old: [])


_VALIDATORS: Mapping[KindKey, Callable[[JSON, JSON | None], Causes]] = MappingProxyType({
    ("", "Pod"): _validate_pod,
    ("", "Service"): _validate_service,
    ("", "Namespace"): _validate_namespace,
    ("", "Node"): _validate_node,
    ("", "Endpoints"): _validate_endpoints,
    ("", "Event"): _validate_event,
    ("apps", "Deployment"): _validate_deployment,
    ("apps", "ReplicaSet"): _validate_replica_set,
    ("batch", "Job"): _validate_job,
    ("coordination.k8s.io", "Lease"): _validate_lease,
    ("discovery.k8s.io", "EndpointSlice"): _validate_endpoint_slice,
    ("apiregistration.k8s.io", "APIService"): _validate_apiservice,
})


def validate(kind_key: KindKey, obj: JSON, old: JSON | None = None) -> list[StatusCause]:
    """Every validation error for `obj` of kind `(group, kind)`; `old` is the stored object on
    update. An empty list means valid."""
    return _VALIDATORS.get(kind_key, _validate_generic)(obj, old)
