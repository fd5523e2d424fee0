"""The watch cache against a small in-memory Storage, so its semantics (replay, selector
transitions, bookmarks, slow-watcher cut-off, rebuilds) are checked without a backend."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest

from apiserver.codec import encode_for_storage
from apiserver.storage.interface import (
    CompactedError,
    ConflictError,
    Event,
    KeyExistsError,
    KeyNotFoundError,
    KeyValue,
    ListResult,
    Storage,
)
from apiserver.watchcache import (
    CacheWatcher,
    TooLargeResourceVersion,
    TooOldResourceVersion,
    WatchCache,
    WatchEvent,
)

PODS = "/registry/pods/"
WAIT = 5.0


class FakeStorage(Storage):
    """Revisioned in-memory KV with an event log; just enough of the contract for the cache."""

    def __init__(self) -> None:
        self.revision = 0
        self.compacted = 0
        self.data: dict[str, KeyValue] = {}
        self.log: list[Event] = []  # log[i].revision == i + 1
        self.lists = 0
        self.watches_opened = 0
        self._changed = asyncio.Event()
        self._generation = 0
        self._failure: Exception | None = None

    async def open(self) -> None:
        pass

    async def close(self) -> None:
        self.end_watches()

    async def current_revision(self) -> int:
        return self.revision

    async def get(self, key: str, revision: int = 0) -> KeyValue | None:
        return self.data.get(key)

    async def list(self, prefix: str, limit: int = 0, continue_token: str = "", revision: int = 0) -> ListResult:
        self.lists += 1
        items = [kv for k, kv in sorted(self.data.items()) if k.startswith(prefix)]
        return ListResult(items, self.revision)

    def _write(self, event: Event, kv: KeyValue | None) -> int:
        self.revision = event.revision
        if kv is None:
            self.data.pop(event.key, None)
        else:
            self.data[event.key] = kv
        self.log.append(event)
        self._changed.set()
        self._changed = asyncio.Event()
        return event.revision

    async def create(self, key: str, value: bytes) -> int:
        if key in self.data:
            raise KeyExistsError(key)
        rev = self.revision + 1
        return self._write(Event("PUT", key, value, None, rev, rev), KeyValue(key, value, rev, rev))

    async def update(self, key: str, value: bytes, expected_revision: int) -> int:
        cur = self.data.get(key)
        if cur is None or cur.mod_revision != expected_revision:
            raise ConflictError(key, cur)
        rev = self.revision + 1
        event = Event("PUT", key, value, cur.value, rev, cur.create_revision, cur.mod_revision)
        return self._write(event, KeyValue(key, value, rev, cur.create_revision))

    async def delete(self, key: str, expected_revision: int | None = None) -> tuple[int, KeyValue]:
        cur = self.data.get(key)
        if cur is None:
            raise KeyNotFoundError(key)
        rev = self.revision + 1
        self._write(Event("DELETE", key, None, cur.value, rev, cur.create_revision, cur.mod_revision), None)
        return rev, cur

    def watch(self, prefix: str, from_revision: int) -> AsyncIterator[Event]:
        return self._watch(prefix, from_revision)

    async def _watch(self, prefix: str, from_revision: int) -> AsyncIterator[Event]:
        if from_revision and from_revision <= self.compacted:
            raise CompactedError(from_revision, self.compacted)
        self.watches_opened += 1
        position = from_revision or self.revision + 1
        generation = self._generation
        while True:
            changed = self._changed
            while position <= self.revision:
                event = self.log[position - 1]
                position += 1
                if event.key.startswith(prefix):
                    yield event
            if generation != self._generation:
                if self._failure is not None:
                    raise self._failure
                return
            await changed.wait()

    async def compact(self, revision: int) -> None:
        self.compacted = max(self.compacted, revision)

    async def compacted_revision(self) -> int:
        return self.compacted

    def end_watches(self, failure: Exception | None = None) -> None:
        """Make every open watch end (or raise `failure`) at its next wake-up."""
        self._failure = failure
        self._generation += 1
        self._changed.set()
        self._changed = asyncio.Event()


def pod(name: str, ns: str = "default", labels: dict[str, str] | None = None, **spec: Any) -> bytes:
    return encode_for_storage({"apiVersion": "v1", "kind": "Pod",
                               "metadata": {"name": name, "namespace": ns, "labels": labels or {}},
                               "spec": spec})


def key(name: str, ns: str = "default") -> str:
    return f"{PODS}{ns}/{name}"


async def put(store: FakeStorage, name: str, ns: str = "default", labels: dict[str, str] | None = None,
              **spec: Any) -> int:
    current = store.data.get(key(name, ns))
    if current is None:
        return await store.create(key(name, ns), pod(name, ns, labels, **spec))
    return await store.update(key(name, ns), pod(name, ns, labels, **spec), current.mod_revision)


async def take(watcher: CacheWatcher, count: int, timeout: float = WAIT) -> list[WatchEvent]:
    events: list[WatchEvent] = []
    async with asyncio.timeout(timeout):
        async for event in watcher:
            events.append(event)
            if len(events) == count:
                break
    return events


async def drain(watcher: CacheWatcher, timeout: float = WAIT) -> list[WatchEvent]:
    """Everything until the watcher ends."""
    async with asyncio.timeout(timeout):
        return [event async for event in watcher]


async def nothing_more(watcher: CacheWatcher, wait: float = 0.2) -> bool:
    try:
        async with asyncio.timeout(wait):
            await watcher.__anext__()
    except TimeoutError:
        return True
    return False


async def eventually(condition: Any, timeout: float = WAIT) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)


@pytest.fixture
async def store() -> FakeStorage:
    return FakeStorage()


@pytest.fixture
async def cache(store: FakeStorage) -> AsyncIterator[WatchCache]:
    wc = WatchCache(store, PODS, capacity=100, watcher_queue_size=1000, kind="Pod", api_version="v1",
                    bookmark_interval=0.2)
    yield wc
    await wc.stop()


def rv(event: WatchEvent) -> str:
    return event.obj["metadata"]["resourceVersion"]


# ---- list / get ------------------------------------------------------------------------


async def test_initial_list_and_get(store: FakeStorage, cache: WatchCache) -> None:
    await put(store, "b")
    await put(store, "a", ns="kube-system")
    await put(store, "c")
    await store.create("/registry/services/default/x", pod("x"))
    await cache.start()
    await cache.wait_ready()
    items, revision = cache.list()
    assert [c.key for c in items] == [key("b"), key("c"), key("a", "kube-system")]
    assert revision == store.revision == 4
    assert cache.revision == 4
    assert [c.key for c in cache.list(f"{PODS}default/")[0]] == [key("b"), key("c")]
    got = cache.get(key("c"))
    assert got is not None and got.revision == 3
    assert got.obj["metadata"]["resourceVersion"] == "3"
    assert orjson.loads(got.raw) == got.obj
    assert cache.get(key("zzz")) is None


async def test_live_writes_reach_list_and_get(store: FakeStorage, cache: WatchCache) -> None:
    await cache.start()
    rev = await put(store, "a", image="one")
    await cache.wait_until_fresh(rev, timeout=WAIT)
    assert cache.get(key("a")).obj["spec"] == {"image": "one"}
    rev = await put(store, "a", image="two")
    await cache.wait_until_fresh(rev, timeout=WAIT)
    assert cache.get(key("a")).obj["spec"] == {"image": "two"}
    rev, _ = await store.delete(key("a"))
    await cache.wait_until_fresh(rev, timeout=WAIT)
    assert cache.get(key("a")) is None
    assert cache.list() == ([], rev)


async def test_fresh_across_other_resources_writes(store: FakeStorage, cache: WatchCache) -> None:
    await put(store, "a")
    await cache.start()
    for i in range(3):
        await store.create(f"/registry/services/default/s{i}", pod(f"s{i}"))
    await cache.wait_until_fresh(store.revision, timeout=WAIT)  # proven by a list, no pod event
    assert cache.revision == store.revision
    assert [c.key for c in cache.list()[0]] == [key("a")]
    rev = await put(store, "b")
    await cache.wait_until_fresh(rev, timeout=WAIT)
    assert cache.get(key("b")) is not None


async def test_too_large_resource_version(store: FakeStorage, cache: WatchCache) -> None:
    await cache.start()
    with pytest.raises(TooLargeResourceVersion) as info:
        await cache.wait_until_fresh(store.revision + 10, timeout=0.2)
    assert isinstance(info.value, TimeoutError)
    assert str(info.value) == f"Too large resource version: {store.revision + 10}, current: {store.revision}"


# ---- watch -----------------------------------------------------------------------------


async def test_send_initial_gives_synthetic_added_then_live(store: FakeStorage, cache: WatchCache) -> None:
    await put(store, "a")
    await put(store, "b")
    await cache.start()
    async with cache.watch(PODS, 0, send_initial=True) as watcher:
        initial = await take(watcher, 2)
        assert [(e.type, e.obj["metadata"]["name"], rv(e)) for e in initial] == [("ADDED", "a", "1"),
                                                                                   ("ADDED", "b", "2")]
        rev = await put(store, "a", image="x")
        (modified,) = await take(watcher, 1)
        assert (modified.type, modified.revision, rv(modified)) == ("MODIFIED", rev, str(rev))
        assert modified.prev is not None and modified.prev.revision == 1
        assert await nothing_more(watcher)


async def test_resume_from_revision_no_gap_no_duplicate(store: FakeStorage, cache: WatchCache) -> None:
    await cache.start()
    revs = [await put(store, name) for name in ("a", "b", "c")]
    await cache.wait_until_fresh(revs[-1], timeout=WAIT)
    watcher = cache.watch(PODS, revs[0])
    live = await put(store, "d")
    events = await take(watcher, 3)
    assert [(e.type, e.revision) for e in events] == [("ADDED", revs[1]), ("ADDED", revs[2]), ("ADDED", live)]
    assert await nothing_more(watcher)
    await watcher.close()


async def test_watch_from_current_revision_gets_only_new(store: FakeStorage, cache: WatchCache) -> None:
    await put(store, "a")
    await cache.start()
    watcher = cache.watch(PODS, cache.revision)
    assert await nothing_more(watcher)
    rev = await put(store, "a", image="y")
    assert [(e.type, e.revision) for e in await take(watcher, 1)] == [("MODIFIED", rev)]
    await watcher.close()


async def test_sub_prefix_watch(store: FakeStorage, cache: WatchCache) -> None:
    await cache.start()
    watcher = cache.watch(f"{PODS}kube-system/", 0)
    await put(store, "a")
    rev = await put(store, "b", ns="kube-system")
    (event,) = await take(watcher, 1)
    assert (event.obj["metadata"]["name"], event.revision) == ("b", rev)
    assert await nothing_more(watcher)
    await watcher.close()


async def test_too_old_resource_version(store: FakeStorage) -> None:
    cache = WatchCache(store, PODS, capacity=3)
    await put(store, "seed")
    await cache.start()
    for i in range(6):
        await put(store, f"p{i}")
    await cache.wait_until_fresh(store.revision, timeout=WAIT)
    # Events 2..7 happened; the ring holds 5, 6, 7, so resuming needs from_revision >= 4.
    with pytest.raises(TooOldResourceVersion) as info:
        cache.watch(PODS, 3)
    assert str(info.value) == "too old resource version: 3 (4)"
    assert (info.value.requested, info.value.oldest) == (3, 4)
    watcher = cache.watch(PODS, 4)
    assert [e.revision for e in await take(watcher, 3)] == [5, 6, 7]
    await watcher.close()
    # Older than the start revision, with nothing buffered: too old as well.
    fresh = WatchCache(store, PODS)
    await fresh.start()
    with pytest.raises(TooOldResourceVersion):
        fresh.watch(PODS, 1)
    await fresh.stop()
    await cache.stop()


async def test_predicate_transitions(store: FakeStorage, cache: WatchCache) -> None:
    def web(obj: dict[str, Any]) -> bool:
        return (obj["metadata"].get("labels") or {}).get("app") == "web"

    await put(store, "unrelated")
    await cache.start()
    watcher = cache.watch(PODS, 0, predicate=web)
    r_out = await put(store, "x", labels={"app": "db"})            # out → nothing
    r_in = await put(store, "x", labels={"app": "web"})            # out → in: ADDED
    r_mod = await put(store, "x", labels={"app": "web"}, image="2")  # in → in: MODIFIED
    r_leave = await put(store, "x", labels={"app": "db"}, image="3")  # in → out: DELETED (old content)
    await put(store, "x", labels={"app": "db"}, image="4")         # out → out: nothing
    await store.delete(key("x"))                                   # deleted while out: nothing
    events = await take(watcher, 3)
    assert [(e.type, e.revision) for e in events] == [("ADDED", r_in), ("MODIFIED", r_mod), ("DELETED", r_leave)]
    deleted = events[2]
    assert deleted.obj["metadata"]["labels"] == {"app": "web"}
    assert deleted.obj["spec"] == {"image": "2"}
    assert rv(deleted) == str(r_leave)
    assert orjson.loads(deleted.raw) == deleted.obj
    assert r_out < r_in
    assert await nothing_more(watcher)
    # Replaying the same history gives the same transitions.
    replay = cache.watch(PODS, r_out - 1, predicate=web)
    assert [(e.type, e.revision) for e in await take(replay, 3)] == [(e.type, e.revision) for e in events]
    assert await nothing_more(replay)
    await watcher.close()
    await replay.close()


async def test_deleted_carries_delete_revision(store: FakeStorage, cache: WatchCache) -> None:
    await put(store, "a", image="last")
    await cache.start()
    watcher = cache.watch(PODS, cache.revision)
    rev, _ = await store.delete(key("a"))
    (event,) = await take(watcher, 1)
    assert (event.type, event.revision, rv(event)) == ("DELETED", rev, str(rev))
    assert event.obj["spec"] == {"image": "last"}
    assert orjson.loads(event.raw)["metadata"]["resourceVersion"] == str(rev)
    assert event.prev is not None and event.prev.revision == 1
    await watcher.close()


async def test_watchers_share_event_objects(store: FakeStorage, cache: WatchCache) -> None:
    await cache.start()
    first, second = cache.watch(PODS, 0), cache.watch(PODS, 0)
    await put(store, "a")
    (a,), (b,) = await take(first, 1), await take(second, 1)
    assert a is b
    await first.close()
    await second.close()


async def test_slow_watcher_is_cut_off_fast_one_gets_everything(store: FakeStorage) -> None:
    cache = WatchCache(store, PODS, watcher_queue_size=5)
    await cache.start()
    slow = cache.watch(PODS, 0)
    fast = cache.watch(PODS, 0)
    received: list[WatchEvent] = []

    async def consume() -> None:
        async for event in fast:
            received.append(event)
            if len(received) == 20:
                return

    consumer = asyncio.create_task(consume())
    for i in range(20):
        await put(store, f"p{i}")
        await asyncio.sleep(0)  # let the fast consumer run, as a live client would
    async with asyncio.timeout(WAIT):
        await consumer
    assert [e.revision for e in received] == list(range(1, 21))
    assert slow.terminated == "slow"
    leftovers = await drain(slow)
    assert [e.revision for e in leftovers] == [1, 2, 3, 4, 5]  # what it held, then the end
    assert cache.watcher_count == 1
    await fast.close()
    assert cache.watcher_count == 0
    await cache.stop()


async def test_bookmarks_when_idle(store: FakeStorage, cache: WatchCache) -> None:
    await put(store, "a")
    await cache.start()
    watcher = cache.watch(PODS, cache.revision, bookmarks=True)
    (bookmark,) = await take(watcher, 1)
    assert bookmark.type == "BOOKMARK"
    assert bookmark.obj == {"kind": "Pod", "apiVersion": "v1", "metadata": {"resourceVersion": "1"}}
    assert orjson.loads(bookmark.raw) == bookmark.obj
    rev = await put(store, "b")
    event, bookmark = await take(watcher, 2)
    assert (event.type, bookmark.type, rv(bookmark)) == ("ADDED", "BOOKMARK", str(rev))
    plain = cache.watch(PODS, cache.revision)
    assert await nothing_more(plain, 0.5)
    await watcher.close()
    await plain.close()


async def test_initial_events_end_bookmark(store: FakeStorage, cache: WatchCache) -> None:
    await put(store, "a")
    await put(store, "b")
    await cache.start()
    watcher = cache.watch(PODS, 0, send_initial=True, bookmarks=True, initial_events_end=True)
    events = await take(watcher, 3)
    assert [e.type for e in events] == ["ADDED", "ADDED", "BOOKMARK"]
    assert events[2].obj["metadata"] == {"resourceVersion": "2",
                                         "annotations": {"k8s.io/initial-events-end": "true"}}
    await watcher.close()


async def test_storage_watch_end_rebuilds(store: FakeStorage, cache: WatchCache) -> None:
    await put(store, "a")
    await cache.start()
    watcher = cache.watch(PODS, 0)
    await eventually(lambda: store.watches_opened == 1)
    lists = store.lists
    store.end_watches()
    assert await drain(watcher) == []
    assert watcher.terminated == "rebuild"
    await eventually(lambda: store.lists > lists and cache.ready)
    rev = await put(store, "b")
    await cache.wait_until_fresh(rev, timeout=WAIT)
    assert [c.key for c in cache.list()[0]] == [key("a"), key("b")]


async def test_compaction_during_watch_rebuilds(store: FakeStorage, cache: WatchCache) -> None:
    await cache.start()
    watcher = cache.watch(PODS, 0)
    rev = await put(store, "a")
    await cache.wait_until_fresh(rev, timeout=WAIT)
    store.end_watches(CompactedError(rev, rev))
    assert [e.type for e in await drain(watcher)] == ["ADDED"]  # what it held, then the end
    assert watcher.terminated == "rebuild"
    rev = await put(store, "b")
    await cache.wait_until_fresh(rev, timeout=WAIT)
    resumed = cache.watch(PODS, cache.revision)
    rev = await put(store, "c")
    assert [e.revision for e in await take(resumed, 1)] == [rev]
    await resumed.close()


async def test_stop_ends_watchers(store: FakeStorage, cache: WatchCache) -> None:
    await cache.start()
    watcher = cache.watch(PODS, 0)
    waiting = asyncio.create_task(drain(watcher))
    await asyncio.sleep(0.05)
    await cache.stop()
    assert await waiting == []
    assert watcher.terminated == "stopped"


async def test_hundred_watchers_all_get_every_event(store: FakeStorage, cache: WatchCache) -> None:
    await cache.start()
    watchers = [cache.watch(PODS, 0) for _ in range(100)]
    written: dict[int, float] = {}
    latencies: list[float] = []
    events_per_watcher = 50

    async def consume(watcher: CacheWatcher) -> list[int]:
        seen: list[int] = []
        async for event in watcher:
            latencies.append(time.perf_counter() - written[event.revision])
            seen.append(event.revision)
            if len(seen) == events_per_watcher:
                break
        return seen

    consumers = [asyncio.create_task(consume(w)) for w in watchers]
    for i in range(events_per_watcher):
        written[store.revision + 1] = time.perf_counter()
        await put(store, f"p{i % 10}", image=str(i))
        await asyncio.sleep(0.002)
    async with asyncio.timeout(30):
        results = await asyncio.gather(*consumers)
    expected = list(range(1, events_per_watcher + 1))
    assert all(seen == expected for seen in results)
    latencies.sort()
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
    print(f"\nwatch delivery, 100 watchers x {events_per_watcher} events: p50 {p50:.2f} ms, p99 {p99:.2f} ms")
    for watcher in watchers:
        await watcher.close()


async def test_watchers_joining_mid_stream_see_no_gap_or_duplicate(store: FakeStorage, cache: WatchCache) -> None:
    await cache.start()
    total = 120
    joined: list[tuple[int, CacheWatcher]] = []

    async def writer() -> None:
        for i in range(total):
            await put(store, f"p{i % 7}", image=str(i))
            if i % 3 == 0:
                await asyncio.sleep(0)

    async def joiner() -> None:
        while store.revision < total:
            start = cache.revision - 5  # a little history, then live
            if start > 0:
                joined.append((start, cache.watch(PODS, start)))
            await asyncio.sleep(0)

    await asyncio.gather(writer(), joiner())
    assert len(joined) > 10
    for start, watcher in joined:
        events = await take(watcher, total - start)
        assert [e.revision for e in events] == list(range(start + 1, total + 1))
        assert await nothing_more(watcher, 0.01)
        await watcher.close()
