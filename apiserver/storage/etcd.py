"""etcd v3 storage over gRPC with aetcd (machine-notes §5.6), the way the Kubernetes API server uses etcd.

Why each piece looks the way it does:

* Writes are single transactions, so etcd itself decides races: create compares
  `create_revision == 0`, update and CAS-delete compare `mod_revision == expected` (a failed
  update reads the current value in the same transaction, for the ConflictError). The
  revision etcd stamps on the write is the object's resourceVersion.
* Reads use the raw `KV.Range` RPC (aetcd's helpers hide limit and revision): one Range
  gives a page, its `count` (→ remainingItemCount) and the header revision; later pages
  are read at the first page's revision via the continue token.
* Watches use the raw `Watch` stream, one per call (aetcd's shared watcher can hang when a
  stream ends cleanly and hides progress notifications). A broken stream (etcd restarted,
  endpoint died) is re-created from the last delivered revision + 1, so no event is lost
  or repeated; etcd's "compacted" answer becomes CompactedError (→ 410 Gone).
* Connections: the first endpoint that answers wins; a connection failure drops that
  channel and the next attempt starts at the next endpoint. Reads retry for up to
  `dial_timeout`; a write is retried only when the failure proves it never reached etcd
  (connection refused), because a write that timed out may have been applied, and
  repeating it would turn our own success into KeyExistsError/ConflictError. Anything
  still failing becomes StorageUnavailableError.
* etcd reports compaction only through errors: we remember what we compacted and what
  etcd told us (a watch's `compact_revision`), and, like the SQLite backend, refuse reads
  at or below that revision.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

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
    StorageError,
    StorageUnavailableError,
    decode_continue,
    encode_continue,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

# gRPC channel options: reconnect quickly after an etcd restart (the default backoff grows
# to two minutes), notice a dead peer under an idle watch, and allow large lists.
CHANNEL_OPTIONS: dict[str, Any] = {
    "grpc.initial_reconnect_backoff_ms": 100,
    "grpc.min_reconnect_backoff_ms": 100,
    "grpc.max_reconnect_backoff_ms": 1000,
    "grpc.keepalive_time_ms": 10_000,  # etcd's enforcement minimum is 5 s
    "grpc.keepalive_timeout_ms": 5_000,
    "grpc.max_receive_message_length": -1,
    "grpc.max_send_message_length": -1,
}
# Errors that say "this connection is not working" (fail over / reconnect and maybe retry).
CONNECTION_CODES = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.CANCELLED}
# Details that prove the request never reached a member that could apply it.
NOT_SENT_MARKERS = ("failed to connect", "connection refused", "connections to all backends failing",
                    "dns resolution failed", "etcdserver: no leader", "channel is closed")
CLOSE_GRACE = 2.0  # seconds in-flight calls on a dropped channel get to finish
WATCH_BACKOFF_MAX = 2.0
COMPACTION_PROBE_TIMEOUT = 2.0


def range_end(prefix: bytes) -> bytes:
    """The etcd range end that covers every key starting with `prefix` ("\\0" = all keys)."""
    return aetcd.utils.prefix_range_end(prefix) if prefix else b"\x00"


def _kv(kv: Any) -> KeyValue:
    # protobuf already hands out bytes and ints; lists convert thousands of these, so no copies
    return KeyValue(kv.key.decode(), kv.value, kv.mod_revision, kv.create_revision)


def _event(ev: Any) -> Event:
    kv = ev.kv
    prev = ev.prev_kv if ev.HasField("prev_kv") else None
    prev_value = bytes(prev.value) if prev is not None else None
    prev_revision = int(prev.mod_revision) if prev is not None else 0
    if ev.type == rpc.Event.DELETE:
        create_revision = int(prev.create_revision) if prev is not None else 0
        return Event("DELETE", kv.key.decode(), None, prev_value, int(kv.mod_revision), create_revision, prev_revision)
    return Event("PUT", kv.key.decode(), bytes(kv.value), prev_value, int(kv.mod_revision), int(kv.create_revision),
                 prev_revision)


def _split_endpoint(endpoint: str) -> tuple[str, int]:
    """"host:port", "http://host:port" or "[::1]:port" → (host, port); port defaults to 2379."""
    address = endpoint.strip().removeprefix("http://").removeprefix("https://").rstrip("/")
    host, sep, port = address.rpartition(":")
    if not sep or host.endswith(":") or (host.startswith("[") is not host.endswith("]")):
        return address, 2379
    return host or "127.0.0.1", int(port)


def _is_connection_error(exc: BaseException) -> bool:
    if isinstance(exc, grpc.aio.AioRpcError):
        return exc.code() in CONNECTION_CODES
    return isinstance(exc, grpc.aio.UsageError)  # the channel was closed under us (dropped by another task)


def _never_sent(exc: BaseException) -> bool:
    if isinstance(exc, grpc.aio.UsageError):
        return True
    details = (exc.details() or "").lower() if isinstance(exc, grpc.aio.AioRpcError) else ""
    return isinstance(exc, grpc.aio.AioRpcError) and exc.code() == grpc.StatusCode.UNAVAILABLE and any(
        marker in details for marker in NOT_SENT_MARKERS)


def _cancelled_by_caller() -> bool:
    """Whether a CancelledError is a real task cancellation, as opposed to grpc.aio cancelling
    a call because its channel was closed (which it also reports as CancelledError)."""
    task = asyncio.current_task()
    return task is None or task.cancelling() > 0


def _details(exc: BaseException) -> str:
    if isinstance(exc, grpc.aio.AioRpcError):
        return f"{exc.code().name}: {exc.details()}"
    return str(exc) or type(exc).__name__


@dataclass(eq=False)
class _Connection:
    """One gRPC channel to one etcd endpoint (aetcd owns the channel and the KV stub)."""

    endpoint: str
    index: int
    client: aetcd.Client

    @property
    def kv(self) -> Any:
        return self.client.kvstub

    def watch_stub(self) -> Any:
        return rpc.WatchStub(self.client.channel)


class EtcdStorage(Storage):
    """The Storage contract on one etcd cluster, reached through any of `endpoints` ("host:port")."""

    def __init__(self, endpoints: list[str], *, dial_timeout: float = 5.0, request_timeout: float = 15.0) -> None:
        if not endpoints:
            raise ValueError("etcd storage needs at least one endpoint host:port")
        self.endpoints = list(endpoints)
        self.dial_timeout = dial_timeout
        self.request_timeout = request_timeout
        self._conn: _Connection | None = None
        self._next_index = 0
        self._connect_lock = asyncio.Lock()
        self._compacted = 0
        self._closed = asyncio.Event()
        self._watch_calls: set[Any] = set()
        self._closers: set[asyncio.Task[None]] = set()

    # ---- connection ------------------------------------------------------------------

    async def open(self) -> None:
        if self._closed.is_set():
            raise StorageUnavailableError("etcd storage is closed")
        await self._connection()
        await self._learn_initial_compaction()

    async def close(self) -> None:
        if self._closed.is_set():
            return
        self._closed.set()
        for call in list(self._watch_calls):
            call.cancel()
        conn, self._conn = self._conn, None
        if conn is not None:
            await self._close_connection(conn, grace=None)
        if self._closers:
            await asyncio.gather(*self._closers, return_exceptions=True)

    async def _connection(self) -> _Connection:
        """The current connection, or a new one to the first endpoint (from the next one in
        turn) that answers a Range within `dial_timeout`. StorageUnavailableError if none does."""
        conn = self._conn
        if conn is not None:
            return conn
        async with self._connect_lock:
            if self._conn is not None:
                return self._conn
            if self._closed.is_set():
                raise StorageUnavailableError("etcd storage is closed")
            errors: list[str] = []
            count = len(self.endpoints)
            for offset in range(count):
                index = (self._next_index + offset) % count
                endpoint = self.endpoints[index]
                host, port = _split_endpoint(endpoint)
                client = aetcd.Client(host=host, port=port, options=CHANNEL_OPTIONS)
                candidate = _Connection(endpoint, index, client)
                try:
                    await client.connect()  # creates the channel; the Range below really dials
                    await client.kvstub.Range(rpc.RangeRequest(key=b"\x00", count_only=True),
                                              timeout=self.dial_timeout)
                except (grpc.aio.AioRpcError, aetcd.ClientError, OSError) as exc:
                    errors.append(f"{endpoint}: {_details(exc)}")
                    await self._close_connection(candidate, grace=None)
                    continue
                if self._closed.is_set():  # close() ran while we were dialling
                    await self._close_connection(candidate, grace=None)
                    raise StorageUnavailableError("etcd storage is closed")
                if index != self._next_index or errors:
                    log.info("etcd: connected to %s", endpoint)
                self._conn, self._next_index = candidate, index
                return candidate
            raise StorageUnavailableError(f"no etcd endpoint answers: {'; '.join(errors)}")

    def _drop(self, conn: _Connection, reason: BaseException) -> None:
        """Forget a failing connection; the next call reconnects, starting at the next endpoint.
        Its channel closes in the background after CLOSE_GRACE so other in-flight calls finish."""
        if self._conn is not conn:
            return
        log.info("etcd: connection to %s failed (%s); reconnecting", conn.endpoint, _details(reason))
        self._conn = None
        self._next_index = (conn.index + 1) % len(self.endpoints)
        task = asyncio.get_running_loop().create_task(self._close_connection(conn, grace=CLOSE_GRACE))
        self._closers.add(task)
        task.add_done_callback(self._closers.discard)

    @staticmethod
    async def _close_connection(conn: _Connection, grace: float | None) -> None:
        channel = conn.client.channel
        if channel is None:
            return
        try:
            await channel.close(grace)
        except Exception:  # noqa: BLE001 - a broken channel may fail to close; it is gone either way
            log.debug("closing etcd channel to %s failed", conn.endpoint, exc_info=True)

    async def _unary(self, call: Callable[[_Connection], Awaitable[T]], *, idempotent: bool) -> T:
        """Run one RPC with reconnect, fail-over and (see module doc) bounded retries."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.dial_timeout
        delay = 0.05
        while True:
            if self._closed.is_set():
                raise StorageUnavailableError("etcd storage is closed")
            try:
                conn = await self._connection()
            except StorageUnavailableError:
                if loop.time() + delay >= deadline:
                    raise
                await asyncio.sleep(delay)
                delay = min(delay * 2, 0.5)
                continue
            try:
                return await call(conn)
            except (grpc.aio.AioRpcError, grpc.aio.UsageError) as exc:
                if not _is_connection_error(exc):
                    raise
                self._drop(conn, exc)
                if not (idempotent or _never_sent(exc)):
                    raise StorageUnavailableError(f"etcd write outcome unknown ({_details(exc)})") from exc
                if loop.time() + delay >= deadline:
                    raise StorageUnavailableError(f"etcd unavailable: {_details(exc)}") from exc
            except asyncio.CancelledError:
                if _cancelled_by_caller():
                    raise
                # grpc.aio cancels calls whose channel is closed (close() or a dropped connection)
                if self._closed.is_set():
                    raise StorageUnavailableError("etcd storage is closed") from None
                if not idempotent:
                    raise StorageUnavailableError("etcd write outcome unknown (its channel was closed)") from None
                if loop.time() + delay >= deadline:
                    raise StorageUnavailableError("etcd unavailable: channel closed") from None
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.5)

    async def _range(self, request: Any) -> Any:
        """A Range RPC; etcd's "compacted" / "future revision" answers become storage errors."""
        revision = int(request.revision)
        if revision and revision <= self._compacted:
            raise CompactedError(revision, self._compacted)

        async def call(conn: _Connection) -> Any:
            return await conn.kv.Range(request, timeout=self.request_timeout)

        try:
            return await self._unary(call, idempotent=True)
        except grpc.aio.AioRpcError as exc:
            raise await self._storage_error(exc, revision) from exc

    async def _storage_error(self, exc: grpc.aio.AioRpcError, revision: int) -> StorageError:
        details = exc.details() or ""
        if exc.code() == grpc.StatusCode.OUT_OF_RANGE and "compacted" in details:
            self._compacted = max(self._compacted, revision)
            await self._probe_compaction(revision)
            return CompactedError(revision, self._compacted)
        if exc.code() == grpc.StatusCode.OUT_OF_RANGE and "future revision" in details:
            return StorageError(f"revision {revision} is newer than the store's current revision")
        return StorageError(f"etcd: {_details(exc)}")

    async def _learn_initial_compaction(self) -> None:
        """etcd has no API for "compacted up to": a read at revision 1 fails once anything was
        compacted, and then a watch from 1 is answered with the exact compaction revision."""
        try:
            await self._range(rpc.RangeRequest(key=b"\x00", count_only=True, revision=1))
        except CompactedError:
            pass  # _storage_error probed and recorded it
        except StorageError:
            pass  # a store at revision 0 cannot exist; anything else is not ours to judge here

    async def _probe_compaction(self, compacted_revision: int) -> None:
        """Ask etcd for its compaction revision by watching from a revision known to be gone."""
        try:
            await self._watch_compaction(compacted_revision)
        except asyncio.CancelledError:
            if _cancelled_by_caller():
                raise
        except Exception:  # noqa: BLE001 - best effort: the caller already knows a lower bound
            log.debug("etcd compaction probe failed", exc_info=True)

    async def _watch_compaction(self, compacted_revision: int) -> None:
        conn = await self._connection()
        call = conn.watch_stub().Watch(timeout=COMPACTION_PROBE_TIMEOUT)
        try:
            create = rpc.WatchCreateRequest(key=b"\x00", start_revision=max(compacted_revision, 1))
            await call.write(rpc.WatchRequest(create_request=create))
            async with asyncio.timeout(COMPACTION_PROBE_TIMEOUT):
                while True:
                    response = await call.read()
                    if response is grpc.aio.EOF or response.events:
                        return
                    if response.compact_revision:
                        self._compacted = max(self._compacted, int(response.compact_revision))
                        return
        finally:
            call.cancel()

    # ---- reads -----------------------------------------------------------------------

    async def current_revision(self) -> int:
        response = await self._range(rpc.RangeRequest(key=b"\x00", count_only=True))
        return int(response.header.revision)

    async def compacted_revision(self) -> int:
        return self._compacted

    async def get(self, key: str, revision: int = 0) -> KeyValue | None:
        response = await self._range(rpc.RangeRequest(key=key.encode(), revision=revision))
        return _kv(response.kvs[0]) if response.kvs else None

    async def list(self, prefix: str, limit: int = 0, continue_token: str = "", revision: int = 0) -> ListResult:
        start = prefix
        if continue_token:
            revision, start = decode_continue(continue_token, prefix)
        raw_prefix = prefix.encode()
        response = await self._range(rpc.RangeRequest(key=start.encode() or b"\x00", range_end=range_end(raw_prefix),
                                                      limit=max(limit, 0), revision=revision))
        at = revision or int(response.header.revision)
        items = [_kv(kv) for kv in response.kvs]
        if limit and response.more and items:
            remaining = max(int(response.count) - len(items), 0)
            return ListResult(items, at, encode_continue(at, items[-1].key, prefix), remaining)
        return ListResult(items, at)

    # ---- writes ----------------------------------------------------------------------

    async def _txn(self, request: Any) -> Any:
        async def call(conn: _Connection) -> Any:
            return await conn.kv.Txn(request, timeout=self.request_timeout)

        try:
            return await self._unary(call, idempotent=False)
        except grpc.aio.AioRpcError as exc:
            raise await self._storage_error(exc, 0) from exc

    async def create(self, key: str, value: bytes) -> int:
        k = key.encode()
        response = await self._txn(rpc.TxnRequest(
            compare=[rpc.Compare(key=k, target=rpc.Compare.CREATE, result=rpc.Compare.EQUAL, create_revision=0)],
            success=[rpc.RequestOp(request_put=rpc.PutRequest(key=k, value=value))],
        ))
        if not response.succeeded:
            raise KeyExistsError(key)
        return int(response.header.revision)

    async def update(self, key: str, value: bytes, expected_revision: int) -> int:
        k = key.encode()
        response = await self._txn(rpc.TxnRequest(
            compare=[rpc.Compare(key=k, target=rpc.Compare.MOD, result=rpc.Compare.EQUAL,
                                 mod_revision=expected_revision),
                     # an absent key has mod_revision 0: never let an update create it
                     rpc.Compare(key=k, target=rpc.Compare.CREATE, result=rpc.Compare.GREATER, create_revision=0)],
            success=[rpc.RequestOp(request_put=rpc.PutRequest(key=k, value=value))],
            failure=[rpc.RequestOp(request_range=rpc.RangeRequest(key=k))],
        ))
        if not response.succeeded:
            found = response.responses[0].response_range.kvs
            raise ConflictError(key, _kv(found[0]) if found else None)
        return int(response.header.revision)

    async def delete(self, key: str, expected_revision: int | None = None) -> tuple[int, KeyValue]:
        k = key.encode()
        delete_op = rpc.RequestOp(request_delete_range=rpc.DeleteRangeRequest(key=k, prev_kv=True))
        compare = [rpc.Compare(key=k, target=rpc.Compare.CREATE, result=rpc.Compare.GREATER, create_revision=0)]
        if expected_revision is not None:
            compare.append(rpc.Compare(key=k, target=rpc.Compare.MOD, result=rpc.Compare.EQUAL,
                                       mod_revision=expected_revision))
        response = await self._txn(rpc.TxnRequest(
            compare=compare, success=[delete_op], failure=[rpc.RequestOp(request_range=rpc.RangeRequest(key=k))]))
        if not response.succeeded:
            found = response.responses[0].response_range.kvs
            if not found:
                raise KeyNotFoundError(key)
            raise ConflictError(key, _kv(found[0]))
        deleted = response.responses[0].response_delete_range
        if not deleted.prev_kvs:
            raise KeyNotFoundError(key)
        return int(response.header.revision), _kv(deleted.prev_kvs[0])

    async def compact(self, revision: int) -> None:
        if revision <= self._compacted:
            return

        async def call(conn: _Connection) -> Any:
            return await conn.kv.Compact(rpc.CompactionRequest(revision=revision, physical=True),
                                         timeout=self.request_timeout)

        try:
            await self._unary(call, idempotent=True)
        except grpc.aio.AioRpcError as exc:
            details = exc.details() or ""
            if exc.code() != grpc.StatusCode.OUT_OF_RANGE or "compacted" not in details:
                raise await self._storage_error(exc, revision) from exc
            await self._probe_compaction(revision)  # someone compacted further already
        self._compacted = max(self._compacted, revision)

    # ---- watch -----------------------------------------------------------------------

    async def watch(self, prefix: str, from_revision: int) -> AsyncIterator[Event]:
        if from_revision and from_revision <= self._compacted:
            raise CompactedError(from_revision, self._compacted)
        if not from_revision:
            from_revision = await self.current_revision() + 1
        next_revision = from_revision
        key = prefix.encode() or b"\x00"
        end = range_end(prefix.encode())
        backoff = 0.05
        while not self._closed.is_set():
            try:
                conn = await self._connection()
            except StorageUnavailableError as exc:
                log.info("etcd watch on %s: %s; retrying in %.2fs", prefix, exc, backoff)
                await self._sleep_unless_closed(backoff)
                backoff = min(backoff * 2, WATCH_BACKOFF_MAX)
                continue
            call = conn.watch_stub().Watch()
            self._watch_calls.add(call)
            try:
                create = rpc.WatchCreateRequest(key=key, range_end=end, start_revision=next_revision, prev_kv=True,
                                                progress_notify=True)
                await call.write(rpc.WatchRequest(create_request=create))
                while True:
                    response = await call.read()
                    if response is grpc.aio.EOF:
                        log.info("etcd watch on %s: stream ended; resuming from %d", prefix, next_revision)
                        break
                    if response.compact_revision:
                        self._compacted = max(self._compacted, int(response.compact_revision))
                        raise CompactedError(next_revision, int(response.compact_revision))
                    if response.canceled:
                        log.info("etcd watch on %s canceled by etcd (%s); resuming from %d", prefix,
                                 response.cancel_reason, next_revision)
                        break
                    backoff = 0.05
                    if not response.events:
                        if not response.created:  # a progress notification: everything up to here was sent
                            next_revision = max(next_revision, int(response.header.revision) + 1)
                        continue
                    # One response holds whole revisions (a multi-key transaction shares one
                    # revision), so the resume point moves only after the whole response.
                    last = next_revision - 1
                    for ev in response.events:
                        event = _event(ev)
                        last = max(last, event.revision)
                        yield event
                    next_revision = last + 1
                    if self._closed.is_set():
                        return
            except (grpc.aio.AioRpcError, grpc.aio.UsageError) as exc:
                if self._closed.is_set():
                    return
                if not _is_connection_error(exc):
                    raise StorageError(f"etcd watch on {prefix}: {_details(exc)}") from exc
                log.info("etcd watch on %s broke (%s); resuming from %d", prefix, _details(exc), next_revision)
                self._drop(conn, exc)
            except asyncio.CancelledError:
                if _cancelled_by_caller():
                    raise
                if self._closed.is_set():
                    return
                log.info("etcd watch on %s: stream cancelled; resuming from %d", prefix, next_revision)
            finally:
                self._watch_calls.discard(call)
                call.cancel()
            await self._sleep_unless_closed(backoff)
            backoff = min(backoff * 2, WATCH_BACKOFF_MAX)

    async def _sleep_unless_closed(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._closed.wait(), seconds)
