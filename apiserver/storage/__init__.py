"""Storage backends behind one async interface; see `interface.py` for the contract."""

from apiserver.storage.interface import (
    CompactedError,
    ConflictError,
    Event,
    KeyExistsError,
    KeyNotFoundError,
    KeyValue,
    ListResult,
    Storage,
    StorageError,
    StorageUnavailableError,
    decode_continue,
    encode_continue,
)

__all__ = [
    "CompactedError",
    "ConflictError",
    "Event",
    "KeyExistsError",
    "KeyNotFoundError",
    "KeyValue",
    "ListResult",
    "Storage",
    "StorageError",
    "StorageUnavailableError",
    "decode_continue",
    "encode_continue",
    "open_storage",
]


def open_storage(url: str) -> Storage:
    """`sqlite:///path/state.db` or `etcd://host:2379[,host:2379...]` → an unopened backend."""
    if url.startswith("sqlite://"):
        from apiserver.storage.sqlite import SQLiteStorage

        return SQLiteStorage(url.removeprefix("sqlite://"))
    if url.startswith("etcd://"):
        from apiserver.storage.etcd import EtcdStorage

        return EtcdStorage([e for e in url.removeprefix("etcd://").split(",") if e])
    raise ValueError(f"unknown storage URL {url!r}: expected sqlite:///path/state.db or etcd://host:port[,...]")
