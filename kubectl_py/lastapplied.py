"""Client-side apply's bookkeeping: the last-applied annotation and the three-way patch.

The annotation value must be byte-identical to kubectl's (compact JSON with sorted keys,
HTML-escaped like Go's encoder, a trailing newline, `"annotations":{}` kept) so that kubectl and
kubectl-py can take turns applying the same manifest and both see `unchanged`.
The patch itself is apimachinery's strategic three-way merge patch, shared with the server.
"""

from __future__ import annotations

import copy
from typing import Any

from apimachinery.resources import ResourceInfo
from kubectl_py.errors import CliError
from kubectl_py.jsonpath import go_json

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
CHANGE_CAUSE = "kubernetes.io/change-cause"


def last_applied_value(obj: dict[str, Any]) -> str:
    """What kubectl stores: the manifest minus the annotation itself, as Go's json.Encoder writes it."""
    clean = copy.deepcopy(obj)
    meta = clean.setdefault("metadata", {})
    annotations = dict(meta.get("annotations") or {})
    annotations.pop(LAST_APPLIED, None)
    meta["annotations"] = annotations
    return go_json(clean) + "\n"


def with_last_applied(obj: dict[str, Any]) -> dict[str, Any]:
    """The `modified` object: the manifest with the annotation set."""
    value = last_applied_value(obj)
    out = copy.deepcopy(obj)
    out.setdefault("metadata", {})
    out["metadata"]["annotations"] = {**(out["metadata"].get("annotations") or {}), LAST_APPLIED: value}
    return out


def original_of(current: dict[str, Any]) -> dict[str, Any] | None:
    """The previously applied manifest stored on the live object, or None."""
    import json

    raw = ((current.get("metadata") or {}).get("annotations") or {}).get(LAST_APPLIED)
    if not raw:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def three_way_patch(original: dict[str, Any] | None, modified: dict[str, Any], current: dict[str, Any],
                    resource: ResourceInfo) -> dict[str, Any]:
    """kubectl's CreateThreeWayMergePatch(original, modified, current) with the type's merge keys."""
    try:
        from apimachinery import patch as smp
    except ImportError as exc:  # the shared engine ships with the API server
        raise CliError(f"strategic merge patch support is missing: {exc}") from None
    try:
        return smp.create_three_way_merge_patch(original, modified, current, (resource.group, resource.kind))
    except smp.PatchError as exc:
        raise CliError(f"unable to compute the apply patch: {exc}") from None


def template_images(obj: dict[str, Any]) -> str:
    """`nginx:1.26` or `web=nginx:1.26,side=busybox:1.36` for a workload's pod template."""
    spec = obj.get("spec") or {}
    containers = (((spec.get("template") or {}).get("spec")) or {}).get("containers") or []
    if len(containers) == 1:
        return str(containers[0].get("image", ""))
    return ",".join(f"{c.get('name')}={c.get('image')}" for c in containers)


def touches_template(patch: dict[str, Any]) -> bool:
    return isinstance(patch.get("spec"), dict) and "template" in patch["spec"]


def default_change_cause(verb: str, source: str, obj: dict[str, Any]) -> str:
    images = template_images(obj)
    where = "-f -" if source == "STDIN" else f"-f {source}"
    return f"kubectl-py {verb} {where}" + (f" (image {images})" if images else "")
