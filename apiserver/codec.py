"""How objects are laid out in storage, and the fast path that avoids re-encoding them.

Kubernetes stores objects without `metadata.resourceVersion` and fills it from the
store's mod revision on every read. We do the same, and we always write `metadata` as
the first key, so serving stored bytes needs no decode/encode round trip: the revision
is spliced in right after the opening `{"metadata":{`.
"""

from __future__ import annotations

from typing import Any

import orjson

_HEAD = b'{"metadata":{'


def encode_for_storage(obj: dict[str, Any]) -> bytes:
    """Object → stored bytes: `metadata` first, resourceVersion removed."""
    meta = dict(obj.get("metadata") or {})
    meta.pop("resourceVersion", None)
    ordered: dict[str, Any] = {"metadata": meta}
    for k, v in obj.items():
        if k != "metadata":
            ordered[k] = v
    return orjson.dumps(ordered)


def raw_with_rv(value: bytes, revision: int) -> bytes:
    """Stored bytes → wire bytes with `metadata.resourceVersion` set, without decoding."""
    if value.startswith(_HEAD):
        rest = value[len(_HEAD):]
        sep = b"" if rest.startswith(b"}") else b","
        return b'{"metadata":{"resourceVersion":"%d"%s%s' % (revision, sep, rest)
    obj = orjson.loads(value)
    obj.setdefault("metadata", {})["resourceVersion"] = str(revision)
    return orjson.dumps(obj)


def decode_from_storage(value: bytes, revision: int) -> dict[str, Any]:
    """Stored bytes → object dict with `metadata.resourceVersion` set."""
    obj = orjson.loads(value)
    meta = obj.setdefault("metadata", {})
    meta["resourceVersion"] = str(revision)
    return obj
