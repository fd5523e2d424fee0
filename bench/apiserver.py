"""API server benchmark: HTTP rates and watch latency beside baselines from the same run.

Machines are noisy, so every figure is printed next to a baseline measured in the same
run and as a ratio to it: creates against the raw store's create rate (the storage layer
called in-process, no HTTP), cached GETs (resourceVersion=0) against an aiohttp
hello-world on the same machine, and watch delivery latency from write acknowledgement
to arrival at each of 100 watchers.

    python bench/apiserver.py [--n 1000] [--stores sqlite,etcd]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from apiserver.storage import open_storage  # noqa: E402
from tests.fixtures.apiserver import ApiServerProcess, free_port  # noqa: E402

HELLO_APP = """
import sys
from aiohttp import web
async def hello(request):
    return web.Response(body=b'{"kind":"Status","status":"Success"}', content_type="application/json")
app = web.Application()
app.router.add_get("/{tail:.*}", hello)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
"""


def pod(name: str) -> bytes:
    return orjson.dumps({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"app": "bench"}},
        "spec": {"containers": [{"name": "main", "image": "busybox:1.36", "command": ["sleep", "3600"]}]},
    })


async def rate(n: int, in_flight: int, op: Callable[[int], Awaitable[None]]) -> float:
    counter = iter(range(n))

    async def worker() -> None:
        for i in counter:
            await op(i)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(in_flight)))
    return n / (time.perf_counter() - start)


async def raw_store_rates(url: str, n: int) -> dict[int, float]:
    store = open_storage(url)
    await store.open()
    try:
        out = {}
        for in_flight in (1, 16):
            prefix = f"/bench-raw/{in_flight}/"
            value = pod("x")
            out[in_flight] = await rate(n, in_flight, lambda i, p=prefix, v=value: store.create(f"{p}{i}", v))
        return out
    finally:
        await store.close()


async def hello_rates(n: int) -> dict[int, float]:
    port = free_port()
    proc = await asyncio.create_subprocess_exec(sys.executable, "-c", HELLO_APP, str(port))
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(200):
                try:
                    async with session.get(f"http://127.0.0.1:{port}/"):
                        break
                except aiohttp.ClientError:
                    await asyncio.sleep(0.05)

            async def get(_: int) -> None:
                async with session.get(f"http://127.0.0.1:{port}/api/v1/namespaces/default/pods/x") as r:
                    await r.read()

            return {f: await rate(n, f, get) for f in (1, 16)}
    finally:
        proc.terminate()
        await proc.wait()


async def http_rates(base: str, n: int) -> dict[str, dict[int, float]]:
    out: dict[str, dict[int, float]] = {"create": {}, "get (rv=0)": {}, "get (consistent)": {}, "list 100": {}}
    headers = {"Content-Type": "application/json"}
    async with aiohttp.ClientSession() as session:
        for in_flight in (1, 16):
            ns = f"bench-{in_flight}"
            async with session.post(f"{base}/api/v1/namespaces", data=orjson.dumps(
                    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}), headers=headers) as r:
                assert r.status == 201, await r.text()
            pods = f"{base}/api/v1/namespaces/{ns}/pods"

            async def create(i: int, url: str = pods) -> None:
                async with session.post(url, data=pod(f"p{i}"), headers=headers) as r:
                    assert r.status == 201, await r.text()
                    await r.read()

            async def get_cached(i: int, url: str = pods) -> None:
                async with session.get(f"{url}/p{i % 100}?resourceVersion=0") as r:
                    await r.read()

            async def get_fresh(i: int, url: str = pods) -> None:
                async with session.get(f"{url}/p{i % 100}") as r:
                    await r.read()

            async def list_some(_: int, url: str = pods) -> None:
                async with session.get(f"{url}?limit=100&resourceVersion=0") as r:
                    await r.read()

            out["create"][in_flight] = await rate(n, in_flight, create)
            out["get (rv=0)"][in_flight] = await rate(n, in_flight, get_cached)
            out["get (consistent)"][in_flight] = await rate(n, in_flight, get_fresh)
            out["list 100"][in_flight] = await rate(max(n // 10, 20), in_flight, list_some)
    return out


async def watch_latency(base: str, watchers: int = 100, events: int = 50) -> tuple[float, float]:
    """p50/p99 ms from a write's acknowledgement to its event arriving at each watcher."""
    headers = {"Content-Type": "application/json"}
    ns = "bench-watch"
    arrivals: dict[str, list[float]] = {}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        async with session.post(f"{base}/api/v1/namespaces", data=orjson.dumps(
                {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}), headers=headers) as r:
            await r.read()
        async with session.get(f"{base}/api/v1/namespaces/{ns}/pods") as r:
            rv = (await r.json())["metadata"]["resourceVersion"]
        ready = asyncio.Event()
        connected = 0

        async def watcher() -> None:
            nonlocal connected
            url = f"{base}/api/v1/namespaces/{ns}/pods?watch=1&resourceVersion={rv}&timeoutSeconds=120"
            async with session.get(url) as resp:
                connected += 1
                if connected == watchers:
                    ready.set()
                seen = 0
                async for line in resp.content:
                    name = orjson.loads(line)["object"]["metadata"]["name"]
                    arrivals.setdefault(name, []).append(time.perf_counter())
                    seen += 1
                    if seen == events:
                        return

        tasks = [asyncio.create_task(watcher()) for _ in range(watchers)]
        await asyncio.wait_for(ready.wait(), 60)
        await asyncio.sleep(0.2)
        acked: dict[str, float] = {}
        for i in range(events):
            name = f"w{i}"
            async with session.post(f"{base}/api/v1/namespaces/{ns}/pods", data=pod(name), headers=headers) as r:
                await r.read()
                acked[name] = time.perf_counter()
            await asyncio.sleep(0.02)
        await asyncio.wait_for(asyncio.gather(*tasks), 120)
    latencies = sorted(max(0.0, t - acked[name]) * 1000 for name, times in arrivals.items() for t in times)
    return statistics.median(latencies), latencies[int(len(latencies) * 0.99) - 1]


def print_rows(title: str, rows: list[tuple[str, float, str, float]]) -> None:
    print(f"\n{title}")
    print(f"  {'measure':<34}{'ours':>12}   {'baseline':<30}{'base':>10}{'ratio':>8}")
    for name, ours, base_name, base in rows:
        ratio = f"{ours / base:.2f}" if base else "-"
        print(f"  {name:<34}{ours:>12.0f}   {base_name:<30}{base:>10.0f}{ratio:>8}")


async def bench_store(kind: str, n: int, hello: dict[int, float]) -> None:
    with tempfile.TemporaryDirectory(prefix="kp-bench-") as tmp:
        etcd = None
        if kind == "etcd":
            from tests.fixtures.etcd import EtcdServer

            etcd = EtcdServer(Path(tmp) / "etcd")
            etcd.start()
            storage_url = f"etcd://{etcd.endpoint}"
            raw_url = storage_url
        else:
            storage_url = f"sqlite://{tmp}/state.db"
            raw_url = f"sqlite://{tmp}/raw.db"
        server = ApiServerProcess(Path(tmp) / "api", storage_url)
        server.start()
        try:
            raw = await raw_store_rates(raw_url, n)
            ours = await http_rates(server.url, n)
            p50, p99 = await watch_latency(server.url)
        finally:
            server.stop()
            if etcd is not None:
                etcd.stop()
    rows = []
    for in_flight in (1, 16):
        rows.append((f"creates/s  ({in_flight} in flight)", ours["create"][in_flight],
                     f"raw store create ({in_flight})", raw[in_flight]))
        rows.append((f"GET rv=0/s ({in_flight} in flight)", ours["get (rv=0)"][in_flight],
                     f"aiohttp hello world ({in_flight})", hello[in_flight]))
        rows.append((f"GET consistent/s ({in_flight})", ours["get (consistent)"][in_flight],
                     f"aiohttp hello world ({in_flight})", hello[in_flight]))
        rows.append((f"LIST 100 pods/s ({in_flight})", ours["list 100"][in_flight],
                     f"aiohttp hello world ({in_flight})", hello[in_flight]))
    print_rows(f"[{kind}] API server over HTTP (ops/s)", rows)
    print(f"  watch delivery, 100 watchers x 50 events: p50 {p50:.1f} ms, p99 {p99:.1f} ms (target p99 <= 100 ms)")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--stores", default="sqlite,etcd")
    args = parser.parse_args()
    hello = await hello_rates(args.n)
    print(f"aiohttp hello world: {hello[1]:.0f}/s (1 in flight), {hello[16]:.0f}/s (16 in flight)")
    for kind in args.stores.split(","):
        await bench_store(kind, args.n, hello)


if __name__ == "__main__":
    asyncio.run(main())
