"""The watch cache on the real embedded store: the same semantics as the unit tests, but with
SQLiteStorage's own watch (polling, batching, real revisions) underneath."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from apiserver.codec import encode_for_storage
from apiserver.storage import Storage
from apiserver.watchcache import CacheWatcher, TooOldResourceVersion, WatchCache, WatchEvent

sqlite = pytest.importorskip("apiserver.storage.sqlite")

PODS = "/registry/pods/"
WAIT = 10.0


def pod(name: str, labels: dict[str, str] | None = None, **spec: Any) -> bytes:
    return encode_for_storage({"apiVersion": "v1", "kind": "Pod",
                               "metadata": {"name": name, "namespace": "default", "labels": labels or {}},
                               "spec": spec})


def key(name: str) -> str:
    return f"{PODS}default/{name}"


async def put(store: Storage, name: str, labels: dict[str, str] | None = None, **spec: Any) -> int:
    current = await store.get(key(name))
    if current is None:
        return await store.create(key(name), pod(name, labels, **spec))
    return await store.update(key(name), pod(name, labels, **spec), current.mod_revision)


async def take(watcher: CacheWatcher, count: int, timeout: float = WAIT) -> list[WatchEvent]:
    events: list[WatchEvent] = []
    async with asyncio.timeout(timeout):
        async for event in watcher:
            events.append(event)
            if len(events) == count:
                break
    return events


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Storage]:
    backend: Storage = sqlite.SQLiteStorage(str(tmp_path / "state.db"))
    await backend.open()
    try:
        yield backend
    finally:
        await backend.close()


@pytest.fixture
async def cache(store: Storage) -> AsyncIterator[WatchCache]:
    wc = WatchCache(store, PODS, kind="Pod", api_version="v1", bookmark_interval=0.3)
    yield wc
    await wc.stop()


async def test_list_get_and_initial_events(store: Storage, cache: WatchCache) -> None:
    await put(store, "b")
    await put(store, "a")
    await store.create("/registry/services/default/s", pod("s"))
    await cache.start()
    items, revision = cache.list()
    assert [c.key for c in items] == [key("a"), key("b")]
    assert revision == await store.current_revision()
    cached = cache.get(key("a"))
    assert cached is not None and cached.obj["metadata"]["resourceVersion"] == str(cached.revision)
    async with cache.watch(PODS, 0, send_initial=True) as watcher:
        assert [(e.type, e.obj["metadata"]["name"]) for e in await take(watcher, 2)] == [("ADDED", "a"),
                                                                                        ("ADDED", "b")]


async def test_live_events_resume_and_delete_revision(store: Storage, cache: WatchCache) -> None:
    await cache.start()
    watcher = cache.watch(PODS, cache.revision)
    r1 = await put(store, "a", image="1")
    r2 = await put(store, "a", image="2")
    r3, _ = await store.delete(key("a"))
    events = await take(watcher, 3)
    assert [(e.type, e.revision) for e in events] == [("ADDED", r1), ("MODIFIED", r2), ("DELETED", r3)]
    deleted = events[2]
    assert deleted.obj["spec"] == {"image": "2"}
    assert orjson.loads(deleted.raw)["metadata"]["resourceVersion"] == str(r3)
    resumed = cache.watch(PODS, r1)
    assert [e.revision for e in await take(resumed, 2)] == [r2, r3]
    await watcher.close()
    await resumed.close()


async def test_too_old_before_cache_start(store: Storage) -> None:
    for name in ("a", "b", "c"):
        await put(store, name)
    cache = WatchCache(store, PODS)
    await cache.start()
    try:
        with pytest.raises(TooOldResourceVersion) as info:
            cache.watch(PODS, 1)
        assert str(info.value) == "too old resource version: 1 (3)"
    finally:
        await cache.stop()


async def test_fresh_after_other_prefix_writes(store: Storage, cache: WatchCache) -> None:
    await cache.start()
    await put(store, "a")
    for i in range(5):
        await store.create(f"/registry/services/default/s{i}", pod(f"s{i}"))
    await cache.wait_until_fresh(await store.current_revision(), timeout=WAIT)
    assert [c.key for c in cache.list()[0]] == [key("a")]


async def test_selector_transitions(store: Storage, cache: WatchCache) -> None:
    def web(obj: dict[str, Any]) -> bool:
        return (obj["metadata"].get("labels") or {}).get("app") == "web"

    await cache.start()
    watcher = cache.watch(PODS, 0, predicate=web)
    await put(store, "x", labels={"app": "db"})
    r_in = await put(store, "x", labels={"app": "web"})
    r_out = await put(store, "x", labels={"app": "db"})
    events = await take(watcher, 2)
    assert [(e.type, e.revision) for e in events] == [("ADDED", r_in), ("DELETED", r_out)]
    assert events[1].obj["metadata"]["labels"] == {"app": "web"}
    assert events[1].obj["metadata"]["resourceVersion"] == str(r_out)
    await watcher.close()


async def test_bookmark(store: Storage, cache: WatchCache) -> None:
    await cache.start()
    rev = await put(store, "a")
    await cache.wait_until_fresh(rev, timeout=WAIT)
    watcher = cache.watch(PODS, rev, bookmarks=True)
    (bookmark,) = await take(watcher, 1)
    assert bookmark.type == "BOOKMARK"
    assert bookmark.obj == {"kind": "Pod", "apiVersion": "v1", "metadata": {"resourceVersion": str(rev)}}
    await watcher.close()


async def test_hundred_watchers_latency(store: Storage, cache: WatchCache) -> None:
    await cache.start()
    watchers = [cache.watch(PODS, cache.revision) for _ in range(100)]
    count = 30
    written: dict[str, float] = {}
    latencies: list[float] = []

    async def consume(watcher: CacheWatcher) -> int:
        seen = 0
        async for event in watcher:
            latencies.append(time.perf_counter() - written[event.obj["spec"]["seq"]])
            seen += 1
            if seen == count:
                break
        return seen

    consumers = [asyncio.create_task(consume(w)) for w in watchers]
    for i in range(count):
        written[str(i)] = time.perf_counter()
        await put(store, f"p{i % 5}", seq=str(i))
        await asyncio.sleep(0.005)
    async with asyncio.timeout(60):
        assert await asyncio.gather(*consumers) == [count] * 100
    latencies.sort()
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
    print(f"\nSQLite watch delivery (write → watcher), 100 watchers x {count} events: "
          f"p50 {p50:.2f} ms, p99 {p99:.2f} ms")
    for watcher in watchers:
        await watcher.close()
