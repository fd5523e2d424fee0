"""etcd v3 storage over gRPC with aetcd (machine-notes §5.6).

Create is a transaction on `create_revision == 0`, update and delete on
`mod_revision == expected`; the store's revision is the object's resourceVersion. Lists
use the raw Range RPC for limit and revision. A watch that breaks (etcd restarted) is
re-established from the last revision seen + 1, so no event is lost; a compacted start
revision becomes CompactedError (→ 410 Gone).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import aetcd
import grpc
from aetcd import rpc

from apiserver.storage.interface import (
    CompactedError,
    ConflictError,
    Event,
    KeyExistsError,
    KeyNotFoundError,
    KeyValue,
    ListResult,
    Storage,
    StorageUnavailableError,
    decode_continue,
    encode_continue,
)

log = logging.getLogger(__name__)
RETRIES = 20


def prefix_end(prefix: bytes) -> bytes:
    return aetcd.utils.prefix_range_end(prefix)


def _kv(kv: Any) -> KeyValue:
    return KeyValue(kv.key.decode(), bytes(kv.value), int(kv.mod_revision), int(kv.create_revision))


class EtcdStorage(Storage):
    def __init__(self, endpoints: list[str], *, dial_timeout: float = 5.0) -> None:
        if not endpoints:
            raise ValueError("etcd storage needs at least one endpoint host:port")
        self.endpoints = endpoints
        self.dial_timeout = dial_timeout
        self._client: aetcd.Client | None = None
        self._index = 0
        self._compacted = 0
        self._closed = False
        self._lock = asyncio.Lock()

    # ---- connection ------------------------------------------------------------------

    def _new_client(self, endpoint: str) -> aetcd.Client:
        host, _, port = endpoint.rpartition(":")
        return aetcd.Client(host=host or "127.0.0.1", port=int(port or 2379), timeout=int(self.dial_timeout) or None)

    async def open(self) -> None:
        last_error: Exception | None = None
        for offset in range(len(self.endpoints)):
            index = (self._index + offset) % len(self.endpoints)
            client = self._new_client(self.endpoints[index])
            try:
                await client.connect()
                await client.status()
            except Exception as exc:  # noqa: BLE001 - try the next endpoint
                last_error = exc
                await _quiet_close(client)
                continue
            self._client, self._index = client, index
            return
        raise StorageUnavailableError(f"no etcd endpoint answers ({', '.join(self.endpoints)}): {last_error}")

    async def close(self) -> None:
        self._closed = True
        if self._client is not None:
            await _quiet_close(self._client)
            self._client = None

    async def _call(self, fn: Any) -> Any:
        """Run `fn(client)`; on connection failures fail over / reconnect and retry."""
        delay = 0.1
        for attempt in range(RETRIES):
            if self._client is None:
                try:
                    await self.open()
                except StorageUnavailableError:
                    if attempt == RETRIES - 1:
                        raise
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 1.0)
                    continue
            client = self._client
            assert client is not None
            try:
                return await fn(client)
            except aetcd.RevisionCompactedError:
                raise
            except (aetcd.ConnectionFailedError, aetcd.ConnectionTimeoutError, aetcd.InternalError) as exc:
                log.info("etcd call failed (%s); reconnecting", exc)
                async with self._lock:
                    if self._client is client:
                        await _quiet_close(client)
                        self._client = None
                        self._index = (self._index + 1) % len(self.endpoints)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)
        raise StorageUnavailableError("etcd did not answer")

    # ---- reads -----------------------------------------------------------------------

    async def current_revision(self) -> int:
        async def call(c: aetcd.Client) -> int:
            resp = await c.kvstub.Range(rpc.RangeRequest(key=b"\x00", limit=1, keys_only=True), timeout=10)
            return int(resp.header.revision)

        return await self._call(call)

    async def compacted_revision(self) -> int:
        return self._compacted

    async def _range(self, key: bytes, range_end: bytes, limit: int = 0, revision: int = 0) -> Any:
        async def call(c: aetcd.Client) -> Any:
            return await c.kvstub.Range(rpc.RangeRequest(key=key, range_end=range_end, limit=limit, revision=revision,
                                                         sort_order=rpc.RangeRequest.ASCEND,
                                                         sort_target=rpc.RangeRequest.KEY), timeout=30)

        try:
            return await self._call(call)
        except aetcd.RevisionCompactedError as exc:
            raise CompactedError(revision, getattr(exc, "compacted_revision", revision)) from None
        except (aetcd.ClientError, grpc.aio.AioRpcError) as exc:
            if "compacted" in str(exc):
                raise CompactedError(revision, self._compacted) from None
            raise

    async def get(self, key: str, revision: int = 0) -> KeyValue | None:
        resp = await self._range(key.encode(), b"", 1, revision)
        return _kv(resp.kvs[0]) if resp.kvs else None

    async def list(self, prefix: str, limit: int = 0, continue_token: str = "", revision: int = 0) -> ListResult:
        start = prefix
        if continue_token:
            revision, start = decode_continue(continue_token, prefix)
        end = prefix_end(prefix.encode())
        resp = await self._range(start.encode(), end, limit + 1 if limit else 0, revision)
        at = revision or int(resp.header.revision)
        items = [_kv(kv) for kv in resp.kvs]
        if limit and (len(items) > limit or resp.more):
            items = items[:limit]
            remaining = int(resp.count) - limit
            return ListResult(items, at, encode_continue(at, items[-1].key, prefix), max(remaining, 0))
        return ListResult(items, at)

    # ---- writes ----------------------------------------------------------------------

    async def create(self, key: str, value: bytes) -> int:
        k = key.encode()

        async def call(c: aetcd.Client) -> tuple[bool, Any]:
            t = c.transactions
            return await c.transaction(compare=[t.create(k) == 0], success=[t.put(k, value)], failure=[])

        ok, responses = await self._call(call)
        if not ok:
            raise KeyExistsError(key)
        return int(responses[0].response_put.header.revision)

    async def update(self, key: str, value: bytes, expected_revision: int) -> int:
        k = key.encode()

        async def call(c: aetcd.Client) -> tuple[bool, Any]:
            t = c.transactions
            return await c.transaction(compare=[t.mod(k) == expected_revision], success=[t.put(k, value)],
                                       failure=[t.get(k)])

        ok, responses = await self._call(call)
        if not ok:
            found = responses[0] if responses else []
            current = _kv(found[0][1]) if found else None
            raise ConflictError(key, current)
        return int(responses[0].response_put.header.revision)

    async def delete(self, key: str, expected_revision: int | None = None) -> tuple[int, KeyValue]:
        k = key.encode()

        async def call(c: aetcd.Client) -> tuple[bool, Any]:
            t = c.transactions
            compare = [t.mod(k) == expected_revision] if expected_revision is not None else [t.create(k) > 0]
            return await c.transaction(compare=compare, success=[t.get(k), t.delete(k)], failure=[t.get(k)])

        ok, responses = await self._call(call)
        found = responses[0] if responses else []
        if not ok:
            if not found:
                raise KeyNotFoundError(key)
            raise ConflictError(key, _kv(found[0][1]))
        if not found:
            raise KeyNotFoundError(key)
        return int(responses[1].response_delete_range.header.revision), _kv(found[0][1])

    # ---- watch -----------------------------------------------------------------------

    async def watch(self, prefix: str, from_revision: int) -> AsyncIterator[Event]:
        if not from_revision:
            from_revision = await self.current_revision() + 1
        next_revision = from_revision
        key, end = prefix.encode(), prefix_end(prefix.encode())
        delay = 0.2
        while not self._closed:
            try:
                client = self._client
                if client is None:
                    await self.open()
                    client = self._client
                assert client is not None
                stream = await client.watch(key, range_end=end, start_revision=next_revision, prev_kv=True)
                try:
                    async for event in stream:
                        kv = event.kv
                        revision = int(kv.mod_revision)
                        if revision < next_revision:
                            continue
                        prev = event.prev_kv
                        prev_value = bytes(prev.value) if prev is not None and prev.key else None
                        prev_rev = int(prev.mod_revision) if prev is not None and prev.key else 0
                        if event.kind == aetcd.EventKind.DELETE:
                            yield Event("DELETE", kv.key.decode(), None, prev_value, revision,
                                        int(prev.create_revision) if prev_rev else 0, prev_rev)
                        else:
                            yield Event("PUT", kv.key.decode(), bytes(kv.value), prev_value, revision,
                                        int(kv.create_revision), prev_rev)
                        next_revision = revision + 1
                        delay = 0.2
                finally:
                    await _quiet_cancel(stream)
            except aetcd.RevisionCompactedError as exc:
                raise CompactedError(next_revision, getattr(exc, "compacted_revision", next_revision)) from None
            except (aetcd.ConnectionFailedError, aetcd.ConnectionTimeoutError, aetcd.InternalError,
                    StorageUnavailableError) as exc:
                log.info("etcd watch on %s broke (%s); resuming from %d", prefix, exc, next_revision)
                async with self._lock:
                    if self._client is not None:
                        await _quiet_close(self._client)
                        self._client = None
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)

    async def compact(self, revision: int) -> None:
        async def call(c: aetcd.Client) -> None:
            await c.compact(revision, physical=True)

        await self._call(call)
        self._compacted = max(self._compacted, revision)


async def _quiet_close(client: aetcd.Client) -> None:
    try:
        await client.close()
    except Exception:  # noqa: BLE001 - closing a broken connection may fail; it is gone either way
        log.debug("closing etcd client failed", exc_info=True)


async def _quiet_cancel(stream: Any) -> None:
    try:
        await stream.cancel()
    except Exception:  # noqa: BLE001 - the stream may already be dead
        log.debug("cancelling etcd watch failed", exc_info=True)
