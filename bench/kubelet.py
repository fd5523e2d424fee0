"""Kubelet benchmark: pod create → Running latency with the runc driver (image cached),
p50/p99 over 50 pods, beside the process driver measured in the same run.

Needs root and runc (the runc part is skipped with a message otherwise).

    python bench/kubelet.py [--pods 50]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kubeclient.rest import ApiClient  # noqa: E402
from kubelet.kubelet import Kubelet  # noqa: E402
from kubelet.runtime.interface import Runtime  # noqa: E402
from kubelet.runtime.process import ProcessRuntime  # noqa: E402
from kubelet.runtime.runc import RuncRuntime  # noqa: E402
from tests.fixtures.apiserver import ApiServerProcess  # noqa: E402
from tests.fixtures.images import RegistryServer  # noqa: E402


async def latencies(client: ApiClient, runtime: Runtime, image: str, pods: int, tmp: Path) -> list[float]:
    node = f"bench-{uuid.uuid4().hex[:5]}"
    stop = asyncio.Event()
    kubelet = Kubelet(client, node, runtime, capacity={"cpu": "64", "memory": "64Gi", "pods": "200"},
                      data_dir=tmp / node)
    task = asyncio.create_task(kubelet.run(stop))
    namespace = node
    await client.create("namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    await asyncio.sleep(1)
    warm = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "warm"},
            "spec": {"nodeName": node, "containers": [{"name": "c", "image": image, "command": ["sleep", "600"]}]}}
    await client.create("pods", warm, namespace)  # pulls the image once
    while ((await client.get("pods", "warm", namespace)).get("status") or {}).get("phase") != "Running":
        await asyncio.sleep(0.05)
    results = []
    for i in range(pods):
        body = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": f"p{i}"},
                "spec": {"nodeName": node, "terminationGracePeriodSeconds": 0,
                         "containers": [{"name": "c", "image": image, "command": ["sleep", "600"]}]}}
        start = time.perf_counter()
        await client.create("pods", body, namespace)
        while ((await client.get("pods", f"p{i}", namespace)).get("status") or {}).get("phase") != "Running":
            await asyncio.sleep(0.01)
        results.append((time.perf_counter() - start) * 1000)
    for i in range(pods):
        await client.delete("pods", f"p{i}", namespace, grace_period_seconds=0)
    await client.delete("pods", "warm", namespace, grace_period_seconds=0)
    await asyncio.sleep(2)
    stop.set()
    await task
    return results


def summary(name: str, values: list[float]) -> str:
    values = sorted(values)
    p99 = values[max(0, int(len(values) * 0.99) - 1)]
    return f"  {name:<16} p50 {statistics.median(values):7.1f} ms   p99 {p99:7.1f} ms   (n={len(values)})"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kp-kubelet-bench-") as tmp_name:
        tmp = Path(tmp_name)
        server = ApiServerProcess(tmp / "api")
        server.start()
        registry = None
        try:
            async with ApiClient(server.url) as client:
                print("pod create -> Running (targets with runc: p50 <= 300 ms, p99 <= 1 s)")
                process = await latencies(client, ProcessRuntime(tmp / "proc"), "busybox:1.36", args.pods, tmp)
                print(summary("process driver", process))
                if os.geteuid() == 0 and shutil.which("runc"):
                    registry = RegistryServer(tmp / "registry")
                    registry.start()
                    image = registry.push_busybox()
                    runtime = RuncRuntime(tmp / "runc", node_name="bench", pod_cidr="10.233.1.0/24")
                    try:
                        runc = await latencies(client, runtime, image, args.pods, tmp)
                    finally:
                        await runtime.cleanup_node()
                    print(summary("runc driver", runc))
                else:
                    print("  runc driver      skipped: needs root and runc")
        finally:
            if registry is not None:
                registry.stop()
            server.stop()


if __name__ == "__main__":
    asyncio.run(main())
