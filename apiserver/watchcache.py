"""One storage watch per resource, fanned out in process.

Without this every client watch would be its own storage watch and every `?resourceVersion=0`
list a storage scan. Like Kubernetes' cacher, each resource gets one `WatchCache`: it lists
its key prefix once, then follows a single storage watch, keeping

* the current objects (decoded once, wire bytes computed once) to serve lists and gets,
* a bounded ring of recent events so clients can resume a watch from a resourceVersion,
* the live client watchers, each fed from that single event stream.

Fan-out is synchronous on the event loop: applying a storage event, appending it to the
history and queueing it for every watcher happen without an `await` in between, which is
what makes "replay history, then live events" gap- and duplicate-free. Every watcher gets the
same `WatchEvent` objects (at most three variants per change: as is, as a selector-driven
ADDED, as a selector-driven DELETED), so the per-watcher cost is a prefix test, an optional
predicate call and a deque append. Each watcher's queue is bounded; a watcher that would
overflow it is cut off (its stream ends, the client re-watches) instead of growing memory or
slowing everyone else down.

Freshness: the cache's `revision` means "the cached state equals storage's state at this
revision". It advances with each applied event, and also when a consistent read asks for a
newer revision and a storage list proves nothing under the prefix changed in between (our
storage contract has no etcd-style progress notifications; other resources' writes raise the
global revision without producing events here).
"""

from __future__ import annotations

import asyncio
import bisect
import logging
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import orjson

from apiserver.codec import decode_from_storage, raw_with_rv
from apiserver.storage.interface import CompactedError, Event, Storage, StorageError

log = logging.getLogger(__name__)

Predicate = Callable[[dict[str, Any]], bool]

INITIAL_EVENTS_END_ANNOTATION = "k8s.io/initial-events-end"


@dataclass(frozen=True, slots=True)
class CachedObject:
    """One object as cached: `obj` has metadata.resourceVersion set and is shared — read-only."""

    key: str
    revision: int
    obj: dict[str, Any]
    raw: bytes


@dataclass(frozen=True, slots=True)
class WatchEvent:
    """One event as a client sees it. For DELETED, obj/raw are the last state with
    metadata.resourceVersion = the delete's revision. Shared between watchers — read-only."""

    type: str
    revision: int
    obj: dict[str, Any]
    raw: bytes
    prev: CachedObject | None


class TooOldResourceVersion(Exception):
    """The requested revision is older than the cache's history (→ 410 Gone / Expired)."""

    def __init__(self, requested: int, oldest: int) -> None:
        super().__init__(f"too old resource version: {requested} ({oldest})")
        self.requested = requested
        self.oldest = oldest


class TooLargeResourceVersion(TimeoutError):
    """The cache did not reach the requested revision in time (→ 504 Timeout)."""

    def __init__(self, requested: int, current: int) -> None:
        super().__init__(f"Too large resource version: {requested}, current: {current}")
        self.requested = requested
        self.current = current


def _cached(key: str, value: bytes, revision: int) -> CachedObject | None:
    """Stored bytes → CachedObject (decoded once, wire bytes spliced once); None if corrupt."""
    try:
        return CachedObject(key, revision, decode_from_storage(value, revision), raw_with_rv(value, revision))
    except orjson.JSONDecodeError:
        log.error("watch cache: undecodable value at %s (revision %d) skipped", key, revision)
        return None


def _restamped(obj: CachedObject, revision: int) -> CachedObject:
    """`obj`'s content with metadata.resourceVersion = `revision` (for DELETED events); the
    wire bytes are re-spliced, not re-encoded, when they have the codec's layout."""
    copied = dict(obj.obj)
    copied["metadata"] = {**(obj.obj.get("metadata") or {}), "resourceVersion": str(revision)}
    head = b'{"metadata":{"resourceVersion":"%d"' % obj.revision
    if obj.raw.startswith(head):
        raw = b'{"metadata":{"resourceVersion":"%d"' % revision + obj.raw[len(head):]
    else:
        raw = orjson.dumps(copied)
    return CachedObject(obj.key, revision, copied, raw)


class _Change:
    """One applied storage event plus its client-facing variants, each built at most once."""

    __slots__ = ("key", "revision", "cur", "prev", "_event", "_added", "_deleted")

    def __init__(self, key: str, revision: int, cur: CachedObject | None, prev: CachedObject | None) -> None:
        self.key = key
        self.revision = revision
        self.cur = cur
        self.prev = prev
        self._added: WatchEvent | None = None
        self._deleted: WatchEvent | None = None
        if cur is None:
            self._event = self.deleted()
        else:
            self._event = WatchEvent("ADDED" if prev is None else "MODIFIED", revision, cur.obj, cur.raw, prev)

    @property
    def event(self) -> WatchEvent:
        """The event for an unfiltered watcher."""
        return self._event

    def deleted(self) -> WatchEvent:
        """DELETED carrying the previous content at this change's revision."""
        if self._deleted is None:
            assert self.prev is not None
            gone = _restamped(self.prev, self.revision)
            self._deleted = WatchEvent("DELETED", self.revision, gone.obj, gone.raw, self.prev)
        return self._deleted

    def added(self) -> WatchEvent:
        """ADDED for a watcher whose filter the object just started to match."""
        if self._added is None:
            assert self.cur is not None
            self._added = WatchEvent("ADDED", self.revision, self.cur.obj, self.cur.raw, self.prev)
        return self._added

    def event_for(self, predicate: Predicate | None) -> WatchEvent | None:
        """The event a watcher with this filter sees (selector transitions), or None."""
        if predicate is None:
            return self._event
        was_in = self.prev is not None and predicate(self.prev.obj)
        is_in = self.cur is not None and predicate(self.cur.obj)
        if is_in:
            return self._event if was_in else self.added()
        return self.deleted() if was_in else None


class CacheWatcher:
    """One client watch: an async iterator of WatchEvent, fed by the cache's dispatcher.

    Events come first from a backlog (synthetic ADDED for the initial state, or replayed
    history), then from a bounded live queue. When the queue would overflow, or the cache
    rebuilds or stops, the watcher is terminated: it yields what it holds, then ends.
    """

    def __init__(self, cache: WatchCache, prefix: str, from_revision: int, predicate: Predicate | None,
                 backlog: Iterator[WatchEvent] | None, bookmarks: bool, initial_events_end: bool,
                 queue_size: int) -> None:
        self._cache = cache
        self._prefix = prefix
        self._min_revision = from_revision
        self._predicate = predicate
        self._backlog = backlog
        self._bookmarks = bookmarks
        self._initial_events_end = initial_events_end
        self._queue: deque[WatchEvent] = deque()
        self._queue_size = queue_size
        self._waiter: asyncio.Future[None] | None = None
        self._last_yield = time.monotonic()
        self.terminated: str | None = None  # why the stream ended: closed|slow|rebuild|stopped

    # ---- fed by the cache (synchronous, never blocks) ----------------------------------

    def _offer(self, change: _Change) -> None:
        if self._prefix and not change.key.startswith(self._prefix):
            return
        if change.revision <= self._min_revision:
            return
        event = change.event_for(self._predicate)
        if event is None:
            return
        if len(self._queue) >= self._queue_size:
            self._terminate("slow")
            return
        self._queue.append(event)
        self._wake()

    def _terminate(self, reason: str) -> None:
        if self.terminated is None:
            self.terminated = reason
            self._cache._forget(self)
            if reason == "slow":
                log.info("watch cache %s: watcher cut off: %d events queued", self._cache.prefix, len(self._queue))
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # ---- consumed by the client --------------------------------------------------------

    def __aiter__(self) -> CacheWatcher:
        return self

    async def __anext__(self) -> WatchEvent:
        while True:
            event = self._next_ready()
            if event is not None:
                self._last_yield = time.monotonic()
                return event
            if self.terminated is not None:
                raise StopAsyncIteration
            bookmark = await self._wait()
            if bookmark is not None:
                self._last_yield = time.monotonic()
                return bookmark

    def _next_ready(self) -> WatchEvent | None:
        if self._backlog is not None:
            event = next(self._backlog, None)
            if event is not None:
                return event
            self._backlog = None
            if self._initial_events_end and self._bookmarks:
                # The snapshot's revision: live events queued meanwhile come after it.
                return self._cache._bookmark(self._min_revision, initial_events_end=True)
        if self._queue:
            return self._queue.popleft()
        return None

    async def _wait(self) -> WatchEvent | None:
        """Sleep until something is queued; a BOOKMARK if idle for the bookmark interval."""
        self._waiter = asyncio.get_running_loop().create_future()
        try:
            if not self._bookmarks:
                await self._waiter
                return None
            delay = self._last_yield + self._cache.bookmark_interval - time.monotonic()
            if delay > 0:
                try:
                    async with asyncio.timeout(delay):
                        await self._waiter
                    return None
                except TimeoutError:
                    pass
            revision = self._cache.revision
            if self._queue or self.terminated is not None or revision < self._min_revision:
                self._last_yield = time.monotonic()
                return None
            # Queue empty: every event up to `revision` has been offered, so this RV is safe.
            return self._cache._bookmark(revision)
        finally:
            self._waiter = None

    async def close(self) -> None:
        """Stop receiving events; idempotent."""
        self._queue.clear()
        self._backlog = None
        self._terminate("closed")

    async def __aenter__(self) -> CacheWatcher:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.close()


class WatchCache:
    """The cached state, event history and watchers of one resource's key prefix."""

    def __init__(self, storage: Storage, prefix: str, *, capacity: int = 10_000,
                 watcher_queue_size: int = 1000, kind: str = "", api_version: str = "",
                 bookmark_interval: float = 60.0) -> None:
        self.storage = storage
        self.prefix = prefix
        self.kind = kind
        self.api_version = api_version
        self.bookmark_interval = bookmark_interval
        self._capacity = capacity
        self._watcher_queue_size = watcher_queue_size
        self._objects: dict[str, CachedObject] = {}
        self._keys: list[str] = []  # sorted keys of _objects, for prefix range lists
        self._history: deque[_Change] = deque(maxlen=capacity)
        self._floor = 0  # smallest from_revision the history can serve
        self._revision = 0
        self._watchers: set[CacheWatcher] = set()
        self._fresh_waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._probe_lock = asyncio.Lock()
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    # ---- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Load the prefix, then follow it with one storage watch in the background."""
        self._stopping = False
        await self._relist()
        self._task = asyncio.create_task(self._run(), name=f"watchcache {self.prefix}")

    async def stop(self) -> None:
        """Stop the storage watch and end every client watch."""
        self._stopping = True
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
        self._terminate_all("stopped")
        self._ready.clear()

    async def wait_ready(self) -> None:
        await self._ready.wait()

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    @property
    def revision(self) -> int:
        """The storage revision the cached state corresponds to."""
        return self._revision

    # ---- reads -------------------------------------------------------------------------

    def list(self, sub_prefix: str = "") -> tuple[list[CachedObject], int]:
        """Objects whose key starts with `sub_prefix` (all when empty), sorted by key, and the
        revision they are a snapshot of."""
        keys = self._keys
        if not sub_prefix:
            chosen = keys
        else:
            start = bisect.bisect_left(keys, sub_prefix)
            end = bisect.bisect_left(keys, sub_prefix + "\U0010ffff", start)
            chosen = keys[start:end]
        objects = self._objects
        return [objects[k] for k in chosen], self._revision

    def get(self, key: str) -> CachedObject | None:
        return self._objects.get(key)

    async def wait_until_fresh(self, revision: int, timeout: float) -> None:
        """Return once the cache reflects storage at `revision` or later; TooLargeResourceVersion
        (a TimeoutError) if that does not happen within `timeout` seconds."""
        if self._revision >= revision and self._ready.is_set():
            return
        try:
            async with asyncio.timeout(timeout):
                await self._ready.wait()
                await self._catch_up(revision)
        except TimeoutError:
            raise TooLargeResourceVersion(revision, self._revision) from None

    # ---- watch -------------------------------------------------------------------------

    def watch(self, sub_prefix: str, from_revision: int, *, predicate: Predicate | None = None,
              send_initial: bool = False, bookmarks: bool = False,
              initial_events_end: bool = False) -> CacheWatcher:
        """A watcher of keys under `sub_prefix` ("" = all).

        send_initial: synthetic ADDED for every matching object now, then live events.
        Otherwise: buffered events after `from_revision` (0 = none), then live events.
        initial_events_end (with send_initial and bookmarks): a BOOKMARK annotated
        `k8s.io/initial-events-end: "true"` after the initial events.
        Raises TooOldResourceVersion when history no longer reaches back to `from_revision`.
        """
        backlog: Iterator[WatchEvent] | None
        min_revision = from_revision
        if send_initial:
            snapshot, revision = self.list(sub_prefix)
            backlog = _initial_events(snapshot, predicate)
            min_revision = revision
        elif from_revision > 0:
            if from_revision < self._floor:
                raise TooOldResourceVersion(from_revision, self._floor)
            backlog = _replayed_events(self._changes_after(from_revision), sub_prefix, predicate)
            min_revision = max(from_revision, self._revision)
        else:
            backlog = None
            min_revision = self._revision
        watcher = CacheWatcher(self, sub_prefix, min_revision, predicate, backlog, bookmarks,
                               initial_events_end and send_initial, self._watcher_queue_size)
        self._watchers.add(watcher)
        return watcher

    @property
    def watcher_count(self) -> int:
        return len(self._watchers)

    def _changes_after(self, revision: int) -> list[_Change]:
        newer: list[_Change] = []
        for change in reversed(self._history):
            if change.revision <= revision:
                break
            newer.append(change)
        newer.reverse()
        return newer

    def _forget(self, watcher: CacheWatcher) -> None:
        self._watchers.discard(watcher)

    def _terminate_all(self, reason: str) -> None:
        for watcher in list(self._watchers):
            watcher._terminate(reason)
        self._watchers.clear()

    def _bookmark(self, revision: int, *, initial_events_end: bool = False) -> WatchEvent:
        meta: dict[str, Any] = {"resourceVersion": str(revision)}
        if initial_events_end:
            meta["annotations"] = {INITIAL_EVENTS_END_ANNOTATION: "true"}
        obj: dict[str, Any] = {"kind": self.kind, "apiVersion": self.api_version, "metadata": meta}
        return WatchEvent("BOOKMARK", revision, obj, orjson.dumps(obj), None)

    # ---- following storage ---------------------------------------------------------------

    async def _run(self) -> None:
        """Follow the storage watch; on compaction or an unexpected end, re-list and rebuild."""
        backoff = 0.05
        while not self._stopping:
            try:
                await self._follow()
                log.warning("watch cache %s: storage watch ended at revision %d; re-listing",
                            self.prefix, self._revision)
            except CompactedError as exc:
                log.warning("watch cache %s: fell behind compaction (%s); re-listing", self.prefix, exc)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("watch cache %s: storage watch failed; re-listing", self.prefix)
            while not self._stopping:
                await asyncio.sleep(backoff)
                try:
                    await self._relist()
                    backoff = 0.05
                    break
                except asyncio.CancelledError:
                    raise
                except StorageError as exc:
                    backoff = min(backoff * 2, 5.0)
                    log.warning("watch cache %s: re-list failed (%s); retrying in %.2fs",
                                self.prefix, exc, backoff)

    async def _follow(self) -> None:
        stream = self.storage.watch(self.prefix, self._revision + 1)
        try:
            async for event in stream:
                self._apply(event)
        finally:
            aclose = getattr(stream, "aclose", None)
            if aclose is not None:
                await aclose()

    async def _relist(self) -> None:
        """Replace the state with a fresh storage list; current watchers must re-watch."""
        result = await self.storage.list(self.prefix)
        objects: dict[str, CachedObject] = {}
        for kv in result.items:
            cached = _cached(kv.key, kv.value, kv.mod_revision)
            if cached is not None:
                objects[kv.key] = cached
        rebuilding = self._ready.is_set()
        self._objects = objects
        self._keys = sorted(objects)
        self._history.clear()
        self._floor = result.revision
        self._revision = result.revision
        self._terminate_all("rebuild")
        self._ready.set()
        self._resolve_fresh()
        if rebuilding:
            log.warning("watch cache %s: rebuilt at revision %d with %d objects",
                        self.prefix, result.revision, len(objects))

    def _apply(self, event: Event) -> None:
        """Apply one storage event to the state, the history and every watcher — no awaits."""
        if event.revision <= self._revision:
            return  # already reflected (the state was proven equal at a later revision)
        key = event.key
        prev = self._objects.get(key)
        if event.type == "PUT" and event.value is not None:
            cur = _cached(key, event.value, event.revision)
            if cur is None:
                self._revision = event.revision
                return
            if prev is None:
                bisect.insort(self._keys, key)
            self._objects[key] = cur
        else:
            cur = None
            if prev is None:
                if event.prev_value is None:
                    self._revision = event.revision
                    return
                prev = _cached(key, event.prev_value, event.prev_revision)
                if prev is None:
                    self._revision = event.revision
                    return
            else:
                del self._objects[key]
                index = bisect.bisect_left(self._keys, key)
                if index < len(self._keys) and self._keys[index] == key:
                    del self._keys[index]
        change = _Change(key, event.revision, cur, prev)
        if len(self._history) == self._capacity:
            self._floor = max(self._floor, self._history[0].revision)
        self._history.append(change)
        self._revision = event.revision
        for watcher in tuple(self._watchers):
            watcher._offer(change)
        self._resolve_fresh()

    # ---- freshness ---------------------------------------------------------------------

    async def _catch_up(self, target: int) -> None:
        """Wait for the watch to reach `target`, or prove via a storage list that the
        cached state already equals storage at a revision >= `target`."""
        delay = 0.01
        while self._revision < target:
            if await self._probe(target):
                return
            await self._wait_revision(target, delay)
            delay = min(delay * 2, 0.5)

    async def _probe(self, target: int) -> bool:
        async with self._probe_lock:
            if self._revision >= target:
                return True
            try:
                result = await self.storage.list(self.prefix)
            except StorageError as exc:
                log.debug("watch cache %s: freshness probe failed: %s", self.prefix, exc)
                return False
            if self._revision >= target:
                return True
            if result.revision < target or result.revision <= self._revision:
                return False
            if len(result.items) != len(self._objects):
                return False
            objects = self._objects
            for kv in result.items:
                cached = objects.get(kv.key)
                if cached is None or cached.revision != kv.mod_revision:
                    return False
            self._revision = result.revision
            self._resolve_fresh()
            return True

    async def _wait_revision(self, target: int, timeout: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (target, future)
        self._fresh_waiters.append(entry)
        try:
            async with asyncio.timeout(timeout):
                await future
        except TimeoutError:
            pass
        finally:
            if entry in self._fresh_waiters:
                self._fresh_waiters.remove(entry)

    def _resolve_fresh(self) -> None:
        if not self._fresh_waiters:
            return
        pending: list[tuple[int, asyncio.Future[None]]] = []
        for target, future in self._fresh_waiters:
            if target <= self._revision:
                if not future.done():
                    future.set_result(None)
            else:
                pending.append((target, future))
        self._fresh_waiters = pending


def _initial_events(snapshot: list[CachedObject], predicate: Predicate | None) -> Iterator[WatchEvent]:
    for cached in snapshot:
        if predicate is None or predicate(cached.obj):
            yield WatchEvent("ADDED", cached.revision, cached.obj, cached.raw, None)


def _replayed_events(changes: list[_Change], prefix: str, predicate: Predicate | None) -> Iterator[WatchEvent]:
    for change in changes:
        if prefix and not change.key.startswith(prefix):
            continue
        event = change.event_for(predicate)
        if event is not None:
            yield event
