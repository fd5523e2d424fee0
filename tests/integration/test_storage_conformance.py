"""One storage contract, two backends (embedded SQLite and a real etcd): the same tests.

CAS under concurrency, create races, ordered and complete watches under concurrent
writers, watch resume, consistent pagination at a revision, 410 after compaction, and
(SQLite) crash safety with kill -9 of a writer process.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from apiserver.storage import (
    CompactedError,
    ConflictError,
    Event,
    KeyExistsError,
    KeyNotFoundError,
    Storage,
)

P = "/registry/pods/"


async def collect(storage: Storage, prefix: str, from_revision: int, count: int, timeout: float = 30) -> list[Event]:
    events: list[Event] = []
    iterator = storage.watch(prefix, from_revision)

    async def run() -> None:
        async for event in iterator:
            events.append(event)
            if len(events) >= count:
                return

    try:
        await asyncio.wait_for(run(), timeout)
    finally:
        await iterator.aclose()
    return events


async def test_basic_crud_and_errors(storage: Storage) -> None:
    r1 = await storage.create(P + "a", b"1")
    assert (await storage.get(P + "a")).value == b"1"
    with pytest.raises(KeyExistsError):
        await storage.create(P + "a", b"again")
    r2 = await storage.update(P + "a", b"2", r1)
    assert r2 > r1
    with pytest.raises(ConflictError) as info:
        await storage.update(P + "a", b"stale", r1)
    assert info.value.current is not None and info.value.current.value == b"2"
    with pytest.raises(ConflictError):
        await storage.delete(P + "a", expected_revision=r1)
    r3, last = await storage.delete(P + "a", expected_revision=r2)
    assert r3 > r2 and last.value == b"2"
    assert await storage.get(P + "a") is None
    with pytest.raises(KeyNotFoundError):
        await storage.delete(P + "a")
    with pytest.raises(ConflictError) as gone:
        await storage.update(P + "a", b"x", r2)
    assert gone.value.current is None
    assert await storage.current_revision() >= r3


async def test_revision_rises_by_one_per_write_across_keys(storage: Storage) -> None:
    revisions = [await storage.create(f"{P}k{i}", b"v") for i in range(5)]
    revisions.append(await storage.update(f"{P}k0", b"w", revisions[0]))
    assert revisions == list(range(revisions[0], revisions[0] + 6))


async def test_concurrent_cas_one_winner_per_round(storage: Storage) -> None:
    rev = await storage.create(P + "counter", b"0")
    for round_number in range(5):
        results = await asyncio.gather(*(storage.update(P + "counter", f"{round_number}:{i}".encode(), rev)
                                         for i in range(20)), return_exceptions=True)
        winners = [r for r in results if isinstance(r, int)]
        assert len(winners) == 1, results
        assert all(isinstance(r, ConflictError) for r in results if not isinstance(r, int))
        rev = winners[0]
    assert (await storage.get(P + "counter")).mod_revision == rev


async def test_create_if_absent_race(storage: Storage) -> None:
    results = await asyncio.gather(*(storage.create(P + "race", str(i).encode()) for i in range(20)),
                                   return_exceptions=True)
    assert sum(isinstance(r, int) for r in results) == 1
    assert sum(isinstance(r, KeyExistsError) for r in results) == 19


async def test_watch_sees_every_write_in_order_under_concurrent_writers(storage: Storage) -> None:
    start = await storage.current_revision() + 1
    writers, per_writer = 8, 25

    async def writer(w: int) -> None:
        rev = await storage.create(f"{P}w{w}", b"0")
        for i in range(1, per_writer):
            rev = await storage.update(f"{P}w{w}", str(i).encode(), rev)

    watch = asyncio.create_task(collect(storage, P, start, writers * per_writer))
    await asyncio.sleep(0.2)
    await asyncio.gather(*(writer(w) for w in range(writers)))
    events = await watch
    revisions = [e.revision for e in events]
    assert revisions == sorted(revisions) and len(set(revisions)) == len(revisions) == writers * per_writer
    last: dict[str, bytes] = {}
    for event in events:
        assert event.prev_value == last.get(event.key)
        last[event.key] = event.value


async def test_watch_resumes_from_a_revision_then_goes_live(storage: Storage) -> None:
    first = await storage.create(P + "r1", b"a")
    await storage.create(P + "r2", b"b")
    await storage.delete(P + "r1")
    watch = asyncio.create_task(collect(storage, P, first, 4))
    await asyncio.sleep(0.2)
    await storage.create(P + "r3", b"c")
    events = await watch
    assert [(e.type, e.key) for e in events] == [("PUT", P + "r1"), ("PUT", P + "r2"), ("DELETE", P + "r1"),
                                                 ("PUT", P + "r3")]
    assert events[2].prev_value == b"a" and events[2].value is None


async def test_watch_prefix_does_not_leak_neighbours(storage: Storage) -> None:
    start = await storage.current_revision() + 1
    await storage.create("/registry/podsx/other", b"no")
    await storage.create(P + "mine", b"yes")
    events = await collect(storage, P, start, 1)
    assert [e.key for e in events] == [P + "mine"]


async def test_pagination_is_consistent_at_the_first_page_revision(storage: Storage) -> None:
    for i in range(10):
        await storage.create(f"{P}default/p{i:02d}", b"v")
    page = await storage.list(P, limit=4)
    assert [kv.key[-3:] for kv in page.items] == ["p00", "p01", "p02", "p03"]
    assert page.continue_token and page.remaining_count == 6
    await storage.create(f"{P}default/p05a", b"late")
    await storage.delete(f"{P}default/p09")
    rest = []
    token = page.continue_token
    while token:
        next_page = await storage.list(P, limit=4, continue_token=token)
        assert next_page.revision == page.revision
        rest += [kv.key[-3:] for kv in next_page.items]
        token = next_page.continue_token
    assert rest == [f"p{i:02d}" for i in range(4, 10)]
    now = await storage.list(P)
    assert len(now.items) == 10 and now.revision > page.revision


async def test_list_at_an_exact_older_revision(storage: Storage) -> None:
    r1 = await storage.create(P + "x", b"1")
    await storage.update(P + "x", b"2", r1)
    old = await storage.list(P, revision=r1)
    assert [kv.value for kv in old.items] == [b"1"]


async def test_compaction_makes_old_revisions_gone(storage: Storage) -> None:
    r1 = await storage.create(P + "c", b"1")
    r2 = await storage.update(P + "c", b"2", r1)
    r3 = await storage.update(P + "c", b"3", r2)
    page = await storage.list(P, limit=1)
    await storage.create(P + "d", b"x")
    await storage.compact(r3)
    with pytest.raises(CompactedError):
        await collect(storage, P, r1, 1, timeout=10)
    assert (await storage.get(P + "c")).value == b"3"
    if page.continue_token:
        with pytest.raises(CompactedError):
            await storage.list(P, limit=1, continue_token=page.continue_token)
    with pytest.raises(CompactedError):
        await storage.list(P, revision=r2)


CRASH_WRITER = textwrap.dedent("""
    import asyncio, sys
    sys.path.insert(0, sys.argv[2])
    from apiserver.storage.sqlite import SQLiteStorage
    async def main():
        s = SQLiteStorage(sys.argv[1], compact_interval=0)
        await s.open()
        i = 0
        while True:
            await s.create(f"/registry/pods/crash/{i}", (f"value-{i}" * 50).encode())
            print(i, flush=True)
            i += 1
    asyncio.run(main())
""")


def write_then_kill(db: Path, writes: int) -> int:
    """Run a writer process, SIGKILL it mid-load; → the last acknowledged write."""
    proc = subprocess.Popen([sys.executable, "-c", CRASH_WRITER, str(db), str(Path(__file__).resolve().parents[2])],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    acknowledged = -1
    for line in proc.stdout:
        acknowledged = int(line)
        if acknowledged >= writes:
            break
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    return acknowledged


@pytest.mark.parametrize("storage", ["sqlite"], indirect=True)
async def test_sqlite_survives_kill_9_mid_load(storage: Storage, tmp_path: Path) -> None:
    """Every write the killed process acknowledged is there, whole; the store still works."""
    from apiserver.storage.sqlite import SQLiteStorage

    db = tmp_path / "crash.db"
    acknowledged = await asyncio.to_thread(write_then_kill, db, 300)
    reopened = SQLiteStorage(str(db), compact_interval=0)
    await reopened.open()
    try:
        listing = await reopened.list("/registry/pods/crash/")
        stored = {kv.key: kv.value for kv in listing.items}
        for i in range(acknowledged + 1):
            assert stored[f"/registry/pods/crash/{i}"] == (f"value-{i}" * 50).encode()
        await reopened.create("/registry/pods/crash/after", b"ok")
    finally:
        await reopened.close()
