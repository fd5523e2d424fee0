"""The storage contract every backend implements, and the conformance suite checks.

Kubernetes' semantics come straight from etcd: one global revision that every write
raises by one, an object's resourceVersion = the mod revision of its key, compare-and-swap
updates on that revision, and ordered watches from a revision that fail with "too old"
once history is compacted. Backends store opaque bytes (the object's JSON); putting the
revision into `metadata.resourceVersion` is the API server's job, not the store's.
"""

from __future__ import annotations

import base64
import json
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Literal


class StorageError(Exception):
    """Base of every storage failure."""


class KeyExistsError(StorageError):
    def __init__(self, key: str) -> None:
        super().__init__(f"key exists: {key}")
        self.key = key


class KeyNotFoundError(StorageError):
    def __init__(self, key: str) -> None:
        super().__init__(f"key not found: {key}")
        self.key = key


class ConflictError(StorageError):
    """A compare-and-swap failed; `current` is what is stored now (None if deleted)."""

    def __init__(self, key: str, current: KeyValue | None) -> None:
        super().__init__(f"revision mismatch on {key}")
        self.key = key
        self.current = current


class CompactedError(StorageError):
    """The requested revision is older than the compaction point (→ HTTP 410)."""

    def __init__(self, requested: int, compacted: int) -> None:
        super().__init__(f"revision {requested} was compacted (oldest available {compacted + 1})")
        self.requested = requested
        self.compacted = compacted


class StorageUnavailableError(StorageError):
    """The backend cannot be reached right now (→ HTTP 503 / 500)."""


class InvalidContinueError(StorageError):
    """A continue token that is malformed, or belongs to another prefix."""


@dataclass(frozen=True, slots=True)
class KeyValue:
    key: str
    value: bytes
    mod_revision: int
    create_revision: int


@dataclass(frozen=True, slots=True)
class Event:
    """One change. `revision` is the revision of this write (for DELETE: the delete's revision).

    `value` is None for DELETE; `prev_value` is None for a create. `prev_revision` is the
    mod revision of `prev_value` (0 when there is none).
    """

    type: Literal["PUT", "DELETE"]
    key: str
    value: bytes | None
    prev_value: bytes | None
    revision: int
    create_revision: int
    prev_revision: int = 0


@dataclass(frozen=True, slots=True)
class ListResult:
    items: list[KeyValue]
    revision: int  # the revision the list was read at
    continue_token: str = ""  # non-empty when more items follow
    remaining_count: int | None = None  # items after this page, when known


def encode_continue(revision: int, start_after_key: str, prefix: str) -> str:
    """Kubernetes' continue token: base64url(JSON{v, rv, start}) with start relative to prefix."""
    start = start_after_key[len(prefix):] if start_after_key.startswith(prefix) else start_after_key
    payload = json.dumps({"v": "meta.k8s.io/v1", "rv": revision, "start": start + "\x00"}, separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def decode_continue(token: str, prefix: str) -> tuple[int, str]:
    """→ (revision, absolute key to start at, inclusive). Raises InvalidContinueError."""
    try:
        padded = token + "=" * (-len(token) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        version, revision, start = data["v"], int(data["rv"]), str(data["start"])
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidContinueError(f"continue key is not valid: {exc}") from exc
    if version != "meta.k8s.io/v1":
        raise InvalidContinueError(f"continue key is not valid: incorrect encoded start resourceVersion (version {version})")
    if revision == 0 or not start or ".." in start.split("/") or start.startswith("/"):
        raise InvalidContinueError("continue key is not valid: incorrect encoded start resourceVersion or key")
    return revision, prefix + start


class Storage(ABC):
    """One async key-value store with a global revision. All methods are coroutines safe to
    call concurrently from one event loop; none blocks the loop."""

    @abstractmethod
    async def open(self) -> None:
        """Connect / create schema. Must be called before anything else."""

    @abstractmethod
    async def close(self) -> None:
        """Release connections; ends every open watch."""

    @abstractmethod
    async def current_revision(self) -> int:
        """The newest revision in the store (0 for an empty store)."""

    @abstractmethod
    async def get(self, key: str, revision: int = 0) -> KeyValue | None:
        """The key's value now, or at `revision` when non-zero (CompactedError if too old)."""

    @abstractmethod
    async def list(self, prefix: str, limit: int = 0, continue_token: str = "", revision: int = 0) -> ListResult:
        """Keys under `prefix` in key order. `limit` 0 means all. With `continue_token` the
        page is read at the token's revision (CompactedError if compacted). `revision` non-zero
        reads exactly that revision. `ListResult.revision` is the revision read at."""

    @abstractmethod
    async def create(self, key: str, value: bytes) -> int:
        """Create the key if absent → the new revision. KeyExistsError if it exists."""

    @abstractmethod
    async def update(self, key: str, value: bytes, expected_revision: int) -> int:
        """Replace the value if the key's mod revision equals `expected_revision` → the new
        revision. ConflictError (with the current value) on mismatch, including when the key
        is gone."""

    @abstractmethod
    async def delete(self, key: str, expected_revision: int | None = None) -> tuple[int, KeyValue]:
        """Delete → (delete revision, last value). KeyNotFoundError if absent; ConflictError if
        `expected_revision` is given and differs."""

    @abstractmethod
    def watch(self, prefix: str, from_revision: int) -> AsyncIterator[Event]:
        """Ordered events for keys under `prefix` with revision >= `from_revision`
        (0 = only changes after now). Raises CompactedError (before or during iteration)
        when `from_revision` is older than the compaction point. Never loses an event; the
        iterator ends only when the consumer stops it (aclose) or the store closes."""

    @abstractmethod
    async def compact(self, revision: int) -> None:
        """Forget history up to and including `revision` (never the latest value of a key)."""

    @abstractmethod
    async def compacted_revision(self) -> int:
        """The revision history is compacted up to (0 when never compacted)."""
