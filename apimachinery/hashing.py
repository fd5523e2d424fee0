"""The pod-template-hash: 32-bit FNV-1a over a canonical serialization of the template,
collisionCount mixed in as Kubernetes does, rendered with the safe-encoding alphabet.

Go's exact value depends on Go struct printing and cannot be reproduced; what matters is
that the hash is stable across processes and ignores key order and null-versus-absent
(kubectl's undo patch carries `creationTimestamp: null`), so undo revives the old set.
"""

from __future__ import annotations

import json
from typing import Any

ALPHANUMS = "bcdfghjklmnpqrstvwxz2456789"
FNV_OFFSET = 0x811C9DC5
FNV_PRIME = 0x01000193


def fnv1a_32(data: bytes, seed: int = FNV_OFFSET) -> int:
    h = seed
    for byte in data:
        h = ((h ^ byte) * FNV_PRIME) & 0xFFFFFFFF
    return h


def safe_encode_string(s: str) -> str:
    return "".join(ALPHANUMS[ord(c) % len(ALPHANUMS)] for c in s)


def _canonical(value: Any) -> Any:
    if isinstance(value, dict):
        out = {k: _canonical(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v is not None and v != {} and v != []}
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    return value


def compute_hash(template: dict[str, Any], collision_count: int | None = None) -> str:
    h = fnv1a_32(json.dumps(_canonical(template), sort_keys=True, separators=(",", ":")).encode())
    if collision_count is not None:
        h = fnv1a_32(int(collision_count).to_bytes(4, "little") + b"\x00" * 4, h)
    return safe_encode_string(str(h))
