"""The three patch types a Kubernetes API server accepts, and kubectl apply's three-way patch.

JSON merge patch (RFC 7386), JSON patch (RFC 6902, through the jsonpatch library), and
strategic merge patch with the merge keys Kubernetes declares in its struct tags and the
directives kubectl sends: `$patch` (replace/merge/delete), `$retainKeys`,
`$setElementOrder/<list>`, `$deleteFromPrimitiveList/<list>`, and null to delete a key.
Every failure is a PatchError with a clear message.
"""

from __future__ import annotations

import copy
from typing import Any

import jsonpatch

from apimachinery.errors import ApiMachineryError

Obj = dict[str, Any]
Path = tuple[str, ...]


class PatchError(ApiMachineryError):
    """A patch that cannot be applied."""


# ---- RFC 7386 / RFC 6902 -------------------------------------------------------------

def json_merge_patch(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = json_merge_patch(out.get(key), value)
    return out


def create_merge_patch(original: Any, modified: Any) -> Any:
    if not isinstance(original, dict) or not isinstance(modified, dict):
        return copy.deepcopy(modified)
    patch: Obj = {}
    for key in original.keys() - modified.keys():
        patch[key] = None
    for key, value in modified.items():
        if key not in original:
            patch[key] = copy.deepcopy(value)
        elif original[key] != value:
            patch[key] = create_merge_patch(original[key], value) if isinstance(value, dict) else copy.deepcopy(value)
    return patch


def json_patch(target: Any, operations: list[Any]) -> Any:
    try:
        return jsonpatch.JsonPatch(operations).apply(copy.deepcopy(target))
    except jsonpatch.JsonPatchConflict as exc:
        raise PatchError(f"the server rejected our request due to an error in our request: {exc}") from None
    except jsonpatch.JsonPatchTestFailed as exc:
        raise PatchError(f"testing value failed: {exc}") from None
    except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException, TypeError, KeyError, ValueError) as exc:
        raise PatchError(f"the patch is not a valid JSON patch: {exc}") from None


# ---- strategic merge patch metadata --------------------------------------------------

_MERGE_KEYS: dict[str, str] = {
    "containers": "name", "initContainers": "name", "ephemeralContainers": "name", "volumes": "name",
    "imagePullSecrets": "name", "env": "name", "volumeMounts": "mountPath", "volumeDevices": "devicePath",
    "ownerReferences": "uid", "conditions": "type", "hostAliases": "ip", "topologySpreadConstraints": "topologyKey",
    "schedulingGates": "name", "resourceClaims": "name", "addresses": "type", "podIPs": "ip", "hostIPs": "ip",
    "taints": "key",
}
_PRIMITIVE_MERGE = {"finalizers", "podCIDRs"}
_RETAIN_KEYS = {"strategy", "volumes"}


def merge_key(path: Path, field: str) -> str | None:
    if field == "ports":
        if len(path) >= 1 and path[-1] in ("containers", "initContainers", "ephemeralContainers"):
            return "containerPort"
        if path[-1:] == ("spec",) and "template" not in path:
            return "port"
        return "containerPort" if "containers" in path or "initContainers" in path else None
    if field == "addresses" and "subsets" in path:
        return None
    return _MERGE_KEYS.get(field)


def _path_of(path: Path, field: str) -> Path:
    return (*path, field)


def strategic_merge_patch(original: Obj, patch: Obj, kind_key: tuple[str, str] | None = None) -> Obj:
    if not isinstance(patch, dict):
        raise PatchError("a strategic merge patch must be a JSON object")
    return _merge_map(original or {}, patch, ())


def _merge_map(original: Any, patch: Obj, path: Path) -> Any:
    directive = patch.get("$patch")
    if directive == "delete":
        return None
    if directive == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if not k.startswith("$")}
    if directive not in (None, "merge"):
        raise PatchError(f"unknown patch type: {directive!r}")
    out: Obj = copy.deepcopy(original) if isinstance(original, dict) else {}
    orders: dict[str, list[Any]] = {}
    for key, value in patch.items():
        if key == "$patch":
            continue
        if key == "$retainKeys":
            continue
        if key.startswith("$setElementOrder/"):
            orders[key.split("/", 1)[1]] = value or []
            continue
        if key.startswith("$deleteFromPrimitiveList/"):
            field = key.split("/", 1)[1]
            out[field] = [v for v in out.get(field) or [] if v not in (value or [])]
            continue
        if key.startswith("$"):
            raise PatchError(f"unknown patch directive: {key!r}")
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict):
            merged = _merge_map(out.get(key), value, _path_of(path, key))
            if merged is None:
                out.pop(key, None)
            else:
                out[key] = merged
        elif isinstance(value, list):
            out[key] = _merge_list(out.get(key), value, path, key)
        else:
            out[key] = copy.deepcopy(value)
    for field, order in orders.items():
        if isinstance(out.get(field), list):
            out[field] = _reorder(out[field], order, merge_key(path, field))
    retain = patch.get("$retainKeys")
    if retain is not None:
        out = {k: v for k, v in out.items() if k in retain}
    return out


def _merge_list(original: Any, patch: list[Any], path: Path, field: str) -> list[Any]:
    current = list(original) if isinstance(original, list) else []
    if field in _PRIMITIVE_MERGE:
        return current + [v for v in patch if v not in current]
    key = merge_key(path, field)
    if key is None or not all(isinstance(item, dict) for item in patch):
        return copy.deepcopy([item for item in patch if not (isinstance(item, dict) and "$patch" in item)])
    if any(item.get("$patch") == "replace" for item in patch):
        return [copy.deepcopy({k: v for k, v in i.items() if k != "$patch"}) for i in patch
                if i.get("$patch") != "replace"]
    for item in patch:
        if key not in item:
            raise PatchError(f"map: {item} does not contain declared merge key: {key}")
        index = next((i for i, c in enumerate(current) if isinstance(c, dict) and c.get(key) == item[key]), None)
        if item.get("$patch") == "delete":
            if index is not None:
                current.pop(index)
            continue
        if index is None:
            merged = _merge_map({}, item, _path_of(path, field))
            if merged is not None:
                current.append(merged)
        else:
            merged = _merge_map(current[index], item, _path_of(path, field))
            if merged is None:
                current.pop(index)
            else:
                current[index] = merged
    return current


def _reorder(items: list[Any], order: list[Any], key: str | None) -> list[Any]:
    if key is None:
        ranked = {repr(v): i for i, v in enumerate(order)}
        return sorted(items, key=lambda v: ranked.get(repr(v), len(order)))
    ranked = {o.get(key): i for i, o in enumerate(order) if isinstance(o, dict)}
    return sorted(items, key=lambda v: ranked.get(v.get(key) if isinstance(v, dict) else None, len(order)))


# ---- three-way patch (what kubectl apply sends) ----------------------------------------

def create_three_way_merge_patch(original: Obj | None, modified: Obj, current: Obj,
                                 kind_key: tuple[str, str] | None = None) -> Obj:
    """Deletions of what the user removed since `original`, plus changes current → modified."""
    return _three_way(original or {}, modified, current, ())


def _three_way(original: Obj, modified: Obj, current: Obj, path: Path) -> Obj:
    patch: Obj = {}
    for key in original:
        if key not in modified and key in current:
            patch[key] = None
    for key, value in modified.items():
        cur = current.get(key) if isinstance(current, dict) else None
        orig = original.get(key) if isinstance(original, dict) else None
        if isinstance(value, dict):
            sub = _three_way(orig if isinstance(orig, dict) else {}, value, cur if isinstance(cur, dict) else {},
                             _path_of(path, key))
            if sub:
                patch[key] = sub
        elif isinstance(value, list) and merge_key(path, key) and all(isinstance(v, dict) for v in value):
            sub_list = _three_way_list(orig if isinstance(orig, list) else [], value,
                                       cur if isinstance(cur, list) else [], path, key)
            if sub_list is not None:
                patch[key] = sub_list
                patch[f"$setElementOrder/{key}"] = [{merge_key(path, key): v.get(merge_key(path, key))}
                                                    for v in value]
        elif cur != value:
            patch[key] = copy.deepcopy(value)
    return patch


def _three_way_list(original: list[Obj], modified: list[Obj], current: list[Obj], path: Path,
                    field: str) -> list[Obj] | None:
    key = merge_key(path, field)
    assert key is not None
    by_key = {c.get(key): c for c in current}
    orig_keys = {o.get(key) for o in original}
    out: list[Obj] = []
    for item in modified:
        cur = by_key.get(item.get(key), {})
        orig = next((o for o in original if o.get(key) == item.get(key)), {})
        sub = _three_way(orig, item, cur, _path_of(path, field))
        if sub:
            sub[key] = item.get(key)
            out.append(sub)
    mod_keys = {m.get(key) for m in modified}
    for removed in orig_keys - mod_keys:
        if removed in by_key:
            out.append({"$patch": "delete", key: removed})
    return out or None
