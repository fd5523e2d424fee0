"""Storage benchmark: both backends beside their raw clients, measured in the same run.

Why "beside the raw client": absolute numbers on a shared 2-vCPU VM swing by 2x between
runs, but the ratio ours / raw (same machine, same moment, same server) shows what the
storage layer itself costs (raw runs before and after ours; the two are averaged). Baselines: for SQLite a plain sqlite3 table with the same
pragmas (WAL, synchronous=NORMAL) driven synchronously in one thread; for etcd aetcd's own
put / transaction / get / get_prefix against the same etcd (started by the test fixture
class, data on a private tmpfs when root). Watch delivery latency is measured from the
write's acknowledgement to the event arriving at a consumer task. Not part of `make test`.

    python bench/storage.py [--n 2000] [--stores sqlite,etcd]
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from apiserver.storage import Storage  # noqa: E402
from apiserver.storage.etcd import EtcdStorage  # noqa: E402
from apiserver.storage.sqlite import SQLiteStorage  # noqa: E402

VALUE = b"x" * 512
FLIGHTS = (1, 16)
LIST_KEYS = 1000
WATCH_SAMPLES = 500


@dataclass
class Latency:
    ack_p50: float
    ack_p99: float
    send_p50: float
    send_p99: float


@dataclass
class Row:
    operation: str
    flight: int
    ours: float
    raw_name: str
    raw: float


async def rate(n: int, in_flight: int, op: Callable[[int], Awaitable[object]]) -> float:
    """ops/s for n calls of op(i), with `in_flight` concurrent callers."""
    numbers = iter(range(n))

    async def worker() -> None:
        for i in numbers:
            await op(i)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(in_flight)))
    return n / (time.perf_counter() - start)


def sync_rate(n: int, op: Callable[[int], object]) -> float:
    start = time.perf_counter()
    for i in range(n):
        op(i)
    return n / (time.perf_counter() - start)


# ---- ours ----------------------------------------------------------------------------


async def measure_ours(store: Storage, n: int) -> dict[tuple[str, int], float]:
    out: dict[tuple[str, int], float] = {}
    list_prefix = "/registry/benchlist/"
    await rate(LIST_KEYS, 16, lambda i: store.create(f"{list_prefix}{i:06d}", VALUE))
    for flight in FLIGHTS:
        prefix = f"/registry/bench{flight}/"
        out["create", flight] = await rate(n, flight, lambda i, p=prefix: store.create(f"{p}{i:06d}", VALUE))
        revisions = {kv.key: kv.mod_revision for kv in (await store.list(prefix)).items}

        async def update(i: int, p: str = prefix, revisions: dict[str, int] = revisions) -> None:
            key = f"{p}{i:06d}"
            revisions[key] = await store.update(key, VALUE, revisions[key])

        out["update", flight] = await rate(n, flight, update)
        out["get", flight] = await rate(n, flight, lambda i, p=prefix: store.get(f"{p}{i:06d}"))
        lists = max(n // 40, 20)
        out[f"list {LIST_KEYS}", flight] = await rate(lists, flight, lambda i: store.list(list_prefix))
    return out


async def watch_latency(store: Storage) -> Latency:
    """Delivery of a create's event to a consumer task, from the write's acknowledgement
    (negative = the event was there first, counted as 0) and from issuing the write."""
    prefix = "/registry/watchbench/"
    received: dict[str, float] = {}
    arrived = asyncio.Event()
    iterator = store.watch(prefix, await store.current_revision() + 1)

    async def consume() -> None:
        async for event in iterator:
            received[event.key] = time.perf_counter()
            arrived.set()

    task = asyncio.create_task(consume())
    from_ack: list[float] = []
    from_send: list[float] = []
    try:
        for i in range(-20, WATCH_SAMPLES):  # the first 20 warm the stream up and are not counted
            key = f"{prefix}{i + 20:06d}"
            sent = time.perf_counter()
            await store.create(key, VALUE)
            acked = time.perf_counter()
            while key not in received:
                arrived.clear()
                await asyncio.wait_for(arrived.wait(), 30)
            if i >= 0:
                from_ack.append(max(0.0, received[key] - acked) * 1000)
                from_send.append((received[key] - sent) * 1000)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await iterator.aclose()
    return Latency(percentile(from_ack, 50), percentile(from_ack, 99), percentile(from_send, 50),
                   percentile(from_send, 99))


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * pct / 100))]


# ---- raw baselines -------------------------------------------------------------------


def raw_sqlite(path: str, n: int) -> dict[str, float]:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE, value BLOB)")

    def write(sql: str, args: tuple[object, ...]) -> None:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(sql, args)
        conn.execute("COMMIT")

    out = {
        "insert+commit": sync_rate(n, lambda i: write("INSERT INTO t (name, value) VALUES (?, ?)", (f"k{i:06d}", VALUE))),
        "update+commit": sync_rate(n, lambda i: write("UPDATE t SET value = ? WHERE name = ?", (VALUE, f"k{i:06d}"))),
        "select 1": sync_rate(n, lambda i: conn.execute("SELECT value FROM t WHERE name = ?",
                                                       (f"k{i:06d}",)).fetchone()),
    }
    conn.execute("CREATE TABLE l (name TEXT PRIMARY KEY, value BLOB)")
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO l VALUES (?, ?)", ((f"k{i:06d}", VALUE) for i in range(LIST_KEYS)))
    conn.execute("COMMIT")
    out[f"select {LIST_KEYS}"] = sync_rate(max(n // 40, 20), lambda i: conn.execute(
        "SELECT name, value FROM l ORDER BY name").fetchall())
    conn.close()
    return out


async def raw_etcd(endpoint: str, n: int, run: str) -> dict[tuple[str, int], float]:
    import aetcd

    host, port = endpoint.rsplit(":", 1)
    client = aetcd.Client(host=host, port=int(port))
    await client.connect()
    t = client.transactions
    out: dict[tuple[str, int], float] = {}
    try:
        list_prefix = f"/raw/{run}/list/".encode()
        await rate(LIST_KEYS, 16, lambda i: client.put(list_prefix + b"%06d" % i, VALUE))
        for flight in FLIGHTS:
            base = f"/raw/{run}/{flight}/".encode()
            out["put", flight] = await rate(n, flight, lambda i, b=base: client.put(b + b"put%06d" % i, VALUE))

            async def create(i: int, b: bytes = base) -> None:
                key = b + b"txn%06d" % i
                await client.transaction(compare=[t.create(key) == 0], success=[t.put(key, VALUE)], failure=[])

            out["txn create", flight] = await rate(n, flight, create)
            revisions = {bytes(kv.key): kv.mod_revision for kv in await client.get_prefix(base + b"txn")}

            async def cas(i: int, b: bytes = base, revisions: dict[bytes, int] = revisions) -> None:
                key = b + b"txn%06d" % i
                ok, responses = await client.transaction(compare=[t.mod(key) == revisions[key]],
                                                         success=[t.put(key, VALUE)], failure=[t.get(key)])
                assert ok
                revisions[key] = responses[0].response_put.header.revision

            out["txn CAS", flight] = await rate(n, flight, cas)
            out["get", flight] = await rate(n, flight, lambda i, b=base: client.get(b + b"txn%06d" % i))

            async def get_prefix(i: int) -> None:
                list(await client.get_prefix(list_prefix))  # decoded, as our list decodes every item

            out[f"get_prefix {LIST_KEYS}", flight] = await rate(max(n // 40, 20), flight, get_prefix)
    finally:
        await client.close()
    return out


# ---- output --------------------------------------------------------------------------


def show(title: str, rows: list[Row], latency: Latency) -> None:
    print(f"\n{title}")
    print(f"  {'operation':<12}{'in flight':>10}{'ours/s':>10}   {'raw client':<28}{'raw/s':>10}{'ours/raw':>10}")
    for row in rows:
        print(f"  {row.operation:<12}{row.flight:>10}{row.ours:>10.0f}   {row.raw_name:<28}{row.raw:>10.0f}"
              f"{row.ours / row.raw:>10.2f}")
    print(f"  watch delivery, write ack → event: p50 {latency.ack_p50:.2f} ms, p99 {latency.ack_p99:.2f} ms"
          f"  (write issued → event: p50 {latency.send_p50:.2f} ms, p99 {latency.send_p99:.2f} ms)")


async def bench_sqlite(n: int) -> None:
    with tempfile.TemporaryDirectory(prefix="kp-bench-sqlite-") as tmp:
        before = await asyncio.to_thread(raw_sqlite, f"{tmp}/raw-a.db", n)
        store = SQLiteStorage(f"{tmp}/state.db", compact_interval=0)
        await store.open()
        try:
            ours = await measure_ours(store, n)
            latency = await watch_latency(store)
        finally:
            await store.close()
        after = await asyncio.to_thread(raw_sqlite, f"{tmp}/raw-b.db", n)
        raw = {key: (before[key] + after[key]) / 2 for key in before}
    baseline = {"create": "insert+commit", "update": "update+commit", "get": "select 1",
                f"list {LIST_KEYS}": f"select {LIST_KEYS}"}
    rows = [Row(op, flight, value, f"sqlite3 {baseline[op]} (x1)", raw[baseline[op]])
            for (op, flight), value in ours.items()]
    show("[sqlite] WAL, synchronous=NORMAL, temp dir on disk", rows, latency)


async def bench_etcd(n: int) -> None:
    from tests.fixtures.etcd import EtcdServer

    with tempfile.TemporaryDirectory(prefix="kp-bench-etcd-") as tmp:
        server = EtcdServer(Path(tmp))
        await asyncio.to_thread(server.start)
        try:
            # Raw before and after ours, averaged: etcd gets faster as it warms up
            # (and slower as its database grows), so neither side gets the kinder moment.
            before = await raw_etcd(server.endpoint, n, "a")
            store = EtcdStorage([server.endpoint])
            await store.open()
            try:
                ours = await measure_ours(store, n)
                latency = await watch_latency(store)
            finally:
                await store.close()
            after = await raw_etcd(server.endpoint, n, "b")
            raw = {key: (before[key] + after[key]) / 2 for key in before}
            where = "tmpfs" if server.mounted else "disk"
        finally:
            await asyncio.to_thread(server.stop)
    baseline = {"create": "txn create", "update": "txn CAS", "get": "get",
                f"list {LIST_KEYS}": f"get_prefix {LIST_KEYS}"}
    rows = []
    for (op, flight), value in ours.items():
        rows.append(Row(op, flight, value, f"aetcd {baseline[op]}", raw[baseline[op], flight]))
        if op == "create":
            rows.append(Row("  (vs put)", flight, value, "aetcd put", raw["put", flight]))
    show(f"[etcd] 3.4, single member, data on {where}", rows, latency)


async def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="operations per measurement")
    parser.add_argument("--stores", default="sqlite,etcd")
    args = parser.parse_args()
    started = time.perf_counter()
    stores = args.stores.split(",")
    if "sqlite" in stores:
        await bench_sqlite(args.n)
    if "etcd" in stores:
        await bench_etcd(args.n)
    print(f"\n(n={args.n}; {time.perf_counter() - started:.0f} s in total)")


if __name__ == "__main__":
    asyncio.run(main())
