"""Storage benchmark: our two backends beside their raw clients, measured in the same run.

For SQLite the baseline is a raw sqlite3 insert+commit loop with the same pragmas; for
etcd it is aetcd's own put and create-if-absent transaction. Printed as ops/s and as
ratios (ours / raw), plus watch delivery latency from write acknowledgement to event.

    python bench/storage.py [--n 2000] [--stores sqlite,etcd]
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from apiserver.storage import Storage, open_storage  # noqa: E402

VALUE = b"x" * 512


async def rate(n: int, in_flight: int, op: Callable[[int], Awaitable[object]]) -> float:
    numbers = iter(range(n))

    async def worker() -> None:
        for i in numbers:
            await op(i)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(in_flight)))
    return n / (time.perf_counter() - start)


async def ours(store: Storage, n: int) -> dict[str, float]:
    out: dict[str, float] = {}
    for flight in (1, 16):
        prefix = f"/registry/bench/{flight}/"
        out[f"create x{flight}"] = await rate(n, flight, lambda i, p=prefix: store.create(f"{p}{i:06d}", VALUE))
        revs = {kv.key: kv.mod_revision for kv in (await store.list(prefix)).items}

        async def update(i: int, p: str = prefix, revs: dict[str, int] = revs) -> None:
            key = f"{p}{i:06d}"
            revs[key] = await store.update(key, VALUE, revs[key])

        out[f"update x{flight}"] = await rate(n, flight, update)
        out[f"get x{flight}"] = await rate(n, flight, lambda i, p=prefix: store.get(f"{p}{i:06d}"))
        out[f"list 1000 x{flight}"] = await rate(max(n // 50, 10), flight,
                                                 lambda i, p=prefix: store.list(p, limit=1000))
    return out


async def watch_latency(store: Storage, count: int = 300) -> tuple[float, float]:
    prefix = "/registry/watchbench/"
    acked: dict[str, float] = {}
    seen: dict[str, float] = {}
    iterator = store.watch(prefix, 0)

    async def consume() -> None:
        async for event in iterator:
            seen[event.key] = time.perf_counter()
            if len(seen) == count:
                return

    task = asyncio.create_task(consume())
    await asyncio.sleep(0.3)
    for i in range(count):
        key = f"{prefix}{i}"
        await store.create(key, VALUE)
        acked[key] = time.perf_counter()
    await asyncio.wait_for(task, 60)
    await iterator.aclose()
    latencies = sorted(max(0.0, seen[k] - acked[k]) * 1000 for k in acked)
    return statistics.median(latencies), latencies[int(len(latencies) * 0.99) - 1]


def raw_sqlite(path: str, n: int) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE, value BLOB)")
    start = time.perf_counter()
    for i in range(n):
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO t (name, value) VALUES (?, ?)", (f"k{i}", VALUE))
        conn.execute("COMMIT")
    conn.close()
    return n / (time.perf_counter() - start)


async def raw_etcd(endpoint: str, n: int) -> dict[str, float]:
    import aetcd

    host, port = endpoint.split(":")
    client = aetcd.Client(host=host, port=int(port))
    await client.connect()
    out = {}
    for flight in (1, 16):
        out[f"put x{flight}"] = await rate(n, flight, lambda i, f=flight: client.put(f"/raw/put{f}/{i}".encode(), VALUE))

        async def txn(i: int, f: int = flight) -> None:
            key = f"/raw/txn{f}/{i}".encode()
            t = client.transactions
            await client.transaction(compare=[t.create(key) == 0], success=[t.put(key, VALUE)], failure=[])

        out[f"txn x{flight}"] = await rate(n, flight, txn)
    await client.close()
    return out


def show(title: str, rows: list[tuple[str, float, str, float]]) -> None:
    print(f"\n{title}")
    print(f"  {'operation':<22}{'ours/s':>10}   {'raw baseline':<24}{'raw/s':>10}{'ratio':>8}")
    for name, value, base_name, base in rows:
        ratio = f"{value / base:.2f}" if base else "-"
        print(f"  {name:<22}{value:>10.0f}   {base_name:<24}{base:>10.0f}{ratio:>8}")


async def bench_sqlite(n: int) -> None:
    with tempfile.TemporaryDirectory(prefix="kp-bench-") as tmp:
        raw = await asyncio.to_thread(raw_sqlite, f"{tmp}/raw.db", n)
        store = open_storage(f"sqlite://{tmp}/state.db")
        await store.open()
        try:
            figures = await ours(store, n)
            p50, p99 = await watch_latency(store)
        finally:
            await store.close()
    rows = [(k, v, "sqlite3 insert+commit x1" if "create" in k or "update" in k else "", raw if "create" in k
             or "update" in k else 0.0) for k, v in figures.items()]
    show("[sqlite] storage layer (ops/s)", rows)
    print(f"  watch delivery: p50 {p50:.2f} ms, p99 {p99:.2f} ms")


async def bench_etcd(n: int) -> None:
    from tests.fixtures.etcd import EtcdServer

    with tempfile.TemporaryDirectory(prefix="kp-bench-etcd-") as tmp:
        server = EtcdServer(Path(tmp))
        server.start()
        try:
            raw = await raw_etcd(server.endpoint, n)
            store = open_storage(f"etcd://{server.endpoint}")
            await store.open()
            try:
                figures = await ours(store, n)
                p50, p99 = await watch_latency(store)
            finally:
                await store.close()
        finally:
            server.stop()
    rows = []
    for key, value in figures.items():
        flight = key.rsplit(" ", 1)[1]
        base_name = f"aetcd txn {flight}" if key.startswith(("create", "update")) else \
            f"aetcd put {flight}" if key.startswith("get") else ""
        base = raw.get(base_name.replace("aetcd ", ""), 0.0) if base_name else 0.0
        rows.append((key, value, base_name, base))
    show("[etcd] storage layer (ops/s; etcd data on tmpfs when root)", rows)
    print(f"  watch delivery: p50 {p50:.2f} ms, p99 {p99:.2f} ms")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--stores", default="sqlite,etcd")
    args = parser.parse_args()
    if "sqlite" in args.stores:
        await bench_sqlite(args.n)
    if "etcd" in args.stores:
        await bench_etcd(args.n)


if __name__ == "__main__":
    asyncio.run(main())
