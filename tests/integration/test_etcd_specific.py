"""What only the etcd backend has to survive: etcd going away under a connected client.

A watch must resume from the last delivered revision + 1 after etcd restarts (or is
killed), with nothing lost or repeated; unary calls must work again once etcd is back and
fail with StorageUnavailableError (not hang) while it is gone; a dead first endpoint must
not stop the client from using the next one; compaction done by another client must be
learned. Every test starts its own etcd (free ports, private tmpfs) and waits for
conditions, never for wall-clock time.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from apiserver.storage import CompactedError, Event, StorageUnavailableError
from apiserver.storage.etcd import EtcdStorage
from tests.fixtures.etcd import EtcdServer, free_port

pytestmark = pytest.mark.etcd
P = "/registry/pods/"


@pytest.fixture
def etcd_server(tmp_path: Path) -> Iterator[EtcdServer]:
    server = EtcdServer(tmp_path / "etcd")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def store(etcd_server: EtcdServer) -> AsyncIterator[EtcdStorage]:
    storage = EtcdStorage([etcd_server.endpoint], dial_timeout=2.0)
    await storage.open()
    try:
        yield storage
    finally:
        await storage.close()


class Collector:
    """Consumes a watch in a task; tests wait until it holds N events (or see why it ended)."""

    def __init__(self, storage: EtcdStorage, prefix: str, from_revision: int) -> None:
        self.events: list[Event] = []
        self.error: BaseException | None = None
        self.ended = False
        self.iterator = storage.watch(prefix, from_revision)
        self.changed = asyncio.Condition()
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        try:
            async for event in self.iterator:
                async with self.changed:
                    self.events.append(event)
                    self.changed.notify_all()
        except Exception as exc:  # noqa: BLE001 - handed to the waiting test
            self.error = exc
        finally:
            async with self.changed:
                self.ended = True
                self.changed.notify_all()

    async def wait_for(self, count: int, timeout: float = 30.0) -> list[Event]:
        async def reached() -> None:
            async with self.changed:
                await self.changed.wait_for(lambda: len(self.events) >= count or self.ended)

        await asyncio.wait_for(reached(), timeout)
        if len(self.events) < count:
            raise AssertionError(f"watch ended after {len(self.events)} of {count} events") from self.error
        return list(self.events)

    async def stop(self) -> None:
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)
        await self.iterator.aclose()


def assert_complete(events: list[Event], first_revision: int, count: int) -> None:
    revisions = [e.revision for e in events]
    assert revisions == list(range(first_revision, first_revision + count)), revisions


@pytest.mark.parametrize("how", ["restart", "kill"])
async def test_watch_survives_etcd_restart_without_losing_events(etcd_server: EtcdServer, store: EtcdStorage,
                                                                 how: str) -> None:
    first = await store.create(P + "k0", b"0")
    for i in range(1, 5):
        await store.create(f"{P}k{i}", str(i).encode())
    watch = Collector(store, P, first)
    try:
        await watch.wait_for(5)
        # Written while the watch is established but possibly not yet delivered.
        for i in range(5, 8):
            await store.create(f"{P}k{i}", str(i).encode())
        if how == "kill":
            await asyncio.to_thread(etcd_server.kill)
            await asyncio.to_thread(etcd_server.start)
        else:
            await asyncio.to_thread(etcd_server.restart)
        # Written after etcd came back; the first may need the client to reconnect.
        rev = await store.update(P + "k0", b"after", first)
        await store.delete(P + "k1")
        for i in range(8, 10):
            await store.create(f"{P}k{i}", str(i).encode())
        events = await watch.wait_for(12)
    finally:
        await watch.stop()
    assert_complete(events, first, 12)
    assert [e.key for e in events[:8]] == [f"{P}k{i}" for i in range(8)]
    assert events[8].revision == rev and events[8].value == b"after" and events[8].prev_value == b"0"
    assert events[9].type == "DELETE" and events[9].prev_value == b"1" and events[9].value is None


async def test_watch_resumes_while_etcd_is_down_for_a_while(etcd_server: EtcdServer, store: EtcdStorage) -> None:
    start = await store.current_revision() + 1
    watch = Collector(store, P, start)
    try:
        await store.create(P + "a", b"1")
        await watch.wait_for(1)
        await asyncio.to_thread(etcd_server.stop, keep_data=True)
        # The watch keeps retrying (with back-off) while every endpoint refuses connections.
        with pytest.raises(StorageUnavailableError):
            await store.get(P + "a")
        await asyncio.to_thread(etcd_server.start)
        await store.create(P + "b", b"2")
        events = await watch.wait_for(2)
    finally:
        await watch.stop()
    assert [e.key for e in events] == [P + "a", P + "b"]
    assert_complete(events, start, 2)


async def test_unary_calls_work_after_restart(etcd_server: EtcdServer, store: EtcdStorage) -> None:
    rev = await store.create(P + "x", b"1")
    await asyncio.to_thread(etcd_server.restart)
    assert (await store.get(P + "x")).value == b"1"
    rev2 = await store.update(P + "x", b"2", rev)
    assert rev2 == rev + 1
    assert [kv.key for kv in (await store.list(P)).items] == [P + "x"]
    await asyncio.to_thread(etcd_server.kill)
    await asyncio.to_thread(etcd_server.start)
    assert await store.create(P + "y", b"1") == rev2 + 1
    assert (await store.get(P + "x", revision=rev)).value == b"1"


async def test_calls_fail_fast_with_storage_unavailable_while_etcd_is_down(etcd_server: EtcdServer,
                                                                           store: EtcdStorage) -> None:
    await asyncio.to_thread(etcd_server.stop, keep_data=True)
    # dial_timeout=2: bounded, and the test timeout would catch a hang.
    with pytest.raises(StorageUnavailableError):
        await store.create(P + "z", b"1")
    with pytest.raises(StorageUnavailableError):
        await store.list(P)


async def test_dead_first_endpoint_is_skipped(etcd_server: EtcdServer) -> None:
    dead = f"127.0.0.1:{free_port()}"
    storage = EtcdStorage([dead, etcd_server.endpoint], dial_timeout=2.0)
    await storage.open()
    try:
        rev = await storage.create(P + "a", b"1")
        assert (await storage.get(P + "a")).mod_revision == rev
        watch = Collector(storage, P, rev)
        try:
            assert [e.key for e in await watch.wait_for(1)] == [P + "a"]
        finally:
            await watch.stop()
    finally:
        await storage.close()


async def test_all_endpoints_dead_fails_open(tmp_path: Path) -> None:
    storage = EtcdStorage([f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"], dial_timeout=1.0)
    with pytest.raises(StorageUnavailableError):
        await storage.open()
    await storage.close()


async def test_compaction_by_another_client_is_learned(etcd_server: EtcdServer, store: EtcdStorage) -> None:
    r1 = await store.create(P + "c", b"1")
    r2 = await store.update(P + "c", b"2", r1)
    r3 = await store.update(P + "c", b"3", r2)
    r4 = await store.update(P + "c", b"4", r3)
    await store.compact(r2)
    assert await store.compacted_revision() == r2
    other = EtcdStorage([etcd_server.endpoint])
    await other.open()
    try:
        assert await other.compacted_revision() == r2  # learned at open from etcd itself
        with pytest.raises(CompactedError):
            await other.get(P + "c", revision=r1)
        assert (await other.get(P + "c", revision=r3)).value == b"3"
        await store.compact(r4)  # `other` only finds out from etcd's answers
        with pytest.raises(CompactedError) as info:
            async for _ in other.watch(P, r3):
                pass
        assert info.value.compacted == r4
        assert await other.compacted_revision() == r4
        with pytest.raises(CompactedError):
            await other.list(P, revision=r4)
    finally:
        await other.close()


async def test_watch_from_zero_sees_only_later_changes_and_close_ends_it(store: EtcdStorage) -> None:
    await store.create(P + "old", b"1")
    iterator = store.watch(P, 0)
    first = asyncio.ensure_future(anext(iterator))
    # The watch resolves "now" when first iterated; wait until its stream is registered.
    while not store._watch_calls:  # noqa: SLF001 - test-only peek to avoid a sleep
        await asyncio.sleep(0.01)
    rev = await store.create(P + "new", b"2")
    event = await asyncio.wait_for(first, 10)
    assert (event.key, event.revision) == (P + "new", rev)
    nxt = asyncio.ensure_future(anext(iterator))
    await store.close()
    with pytest.raises(StopAsyncIteration):
        await asyncio.wait_for(nxt, 10)


async def test_watch_delivers_every_event_of_a_multi_key_revision(etcd_server: EtcdServer,
                                                                  store: EtcdStorage) -> None:
    """Other etcd clients may write several keys in one transaction (one revision)."""
    import aetcd

    start = await store.current_revision() + 1
    host, port = etcd_server.endpoint.rsplit(":", 1)
    async with aetcd.Client(host=host, port=int(port)) as raw:
        t = raw.transactions
        await raw.transaction(compare=[], success=[t.put(f"{P}m1".encode(), b"1"), t.put(f"{P}m2".encode(), b"2")],
                              failure=[])
    after = await store.create(P + "m3", b"3")
    watch = Collector(store, P, start)
    try:
        events = await watch.wait_for(3)
    finally:
        await watch.stop()
    assert [(e.key, e.revision) for e in events] == [(P + "m1", start), (P + "m2", start), (P + "m3", after)]
