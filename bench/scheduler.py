"""Scheduler benchmark: the algorithm alone at 100/1000/5000 nodes, and end to end.

End to end: N hollow nodes registered in a real API server (SQLite), the scheduler
running in-process, pods created as fast as the client can; we measure how fast they get
bound, beside the API server's own create rate measured in the same run (the bound the
scheduler cannot beat, since each bind is one write).

    python bench/scheduler.py [--pods 1000] [--nodes 100]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kubeclient.rest import ApiClient  # noqa: E402
from scheduler.algorithm import Profile  # noqa: E402
from scheduler.framework import NodeInfo  # noqa: E402
from scheduler.scheduler import Scheduler  # noqa: E402
from tests.fixtures.apiserver import ApiServerProcess  # noqa: E402


def node(i: int) -> dict:
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": f"hollow-{i}", "uid": f"uid-{i}", "labels": {"kubernetes.io/hostname": f"hollow-{i}"}},
            "spec": {},
            "status": {"allocatable": {"cpu": "32", "memory": "128Gi", "pods": "110"},
                       "capacity": {"cpu": "32", "memory": "128Gi", "pods": "110"},
                       "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                                       "lastHeartbeatTime": "2026-01-01T00:00:00Z",
                                       "lastTransitionTime": "2026-01-01T00:00:00Z"}]}}


def pod(i: int, namespace: str = "default") -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": f"p-{i}", "namespace": namespace, "uid": f"u{i}"},
            "spec": {"containers": [{"name": "c", "image": "busybox:1.36",
                                     "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}}]}}


def algorithm_rate(nodes: int, decisions: int) -> float:
    infos = [NodeInfo(node(i)) for i in range(nodes)]
    profile = Profile.default()
    start = time.perf_counter()
    for i in range(decisions):
        p = pod(i)
        decision = profile.schedule(p, infos)
        assert decision.node is not None
        p["spec"]["nodeName"] = decision.node
        infos[int(decision.node.rsplit("-", 1)[1])].add_pod(p)
    return decisions / (time.perf_counter() - start)


async def end_to_end(pods: int, nodes: int) -> tuple[float, float]:
    with tempfile.TemporaryDirectory(prefix="kp-sched-bench-") as tmp:
        server = ApiServerProcess(Path(tmp))
        server.start()
        try:
            async with ApiClient(server.url) as client:
                for i in range(nodes):
                    await client.create("nodes", node(i))
                for ns in ("raw", "bench"):
                    await client.create("namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                                       "metadata": {"name": ns}})
                create_rate = await create_pods(client, "raw", pods)
                scheduler = Scheduler(client)
                stop = asyncio.Event()
                task = asyncio.create_task(scheduler.run(stop))
                await scheduler.informers.wait_for_sync()
                start = time.perf_counter()
                await create_pods(client, "bench", pods)
                while True:
                    listing = await client.list("pods", "bench", field_selector="spec.nodeName=")
                    if not listing["items"]:
                        break
                    await asyncio.sleep(0.05)
                bind_rate = pods / (time.perf_counter() - start)
                stop.set()
                await task
                return create_rate, bind_rate
        finally:
            server.stop()


async def create_pods(client: ApiClient, namespace: str, count: int, in_flight: int = 16) -> float:
    numbers = iter(range(count))

    async def worker() -> None:
        for i in numbers:
            body = pod(i, namespace)
            del body["metadata"]["uid"]
            await client.create("pods", body, namespace)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(in_flight)))
    return count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, default=1000)
    parser.add_argument("--nodes", type=int, default=100)
    args = parser.parse_args()
    print("algorithm alone (decisions/s, assume included; target >= 1000 at 1000 nodes)")
    for nodes in (100, 1000, 5000):
        rate = algorithm_rate(nodes, 2000 if nodes < 5000 else 1000)
        print(f"  {nodes:>5} nodes: {rate:8.0f} decisions/s")
    create_rate, bind_rate = asyncio.run(end_to_end(args.pods, args.nodes))
    print(f"end to end, {args.pods} pods on {args.nodes} nodes (SQLite, 16 creates in flight)")
    print(f"  API server create rate:  {create_rate:8.0f} pods/s")
    print(f"  created → bound rate:    {bind_rate:8.0f} pods/s   ratio {bind_rate / create_rate:.2f} (target >= 0.8)")


if __name__ == "__main__":
    main()
