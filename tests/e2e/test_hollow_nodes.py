"""One process serves 100 hollow nodes with the fake driver (kubemark's idea): every node
registers and renews its Lease, and 100 pods are scheduled across them and run."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from kubeclient.rest import ApiClient
from kubelet.kubelet import Kubelet
from kubelet.runtime.fake import FakeRuntime
from scheduler.scheduler import Scheduler
from tests.fixtures.apiserver import ApiServerProcess, running_api_server
from tests.fixtures.wait import eventually

NODES = 100


@pytest.fixture(scope="module")
def api_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServerProcess]:
    yield from running_api_server(tmp_path_factory.mktemp("hollow-api"))


async def test_hundred_hollow_nodes_run_pods(api_server: ApiServerProcess, tmp_path: Path) -> None:
    tag = uuid.uuid4().hex[:5]
    stop = asyncio.Event()
    async with ApiClient(api_server.url) as client:
        kubelets = [Kubelet(client, f"hollow-{tag}-{i}", FakeRuntime(), capacity={"cpu": "2", "memory": "4Gi",
                                                                                  "pods": "10"},
                            data_dir=tmp_path / str(i)) for i in range(NODES)]
        tasks = [asyncio.create_task(k.run(stop)) for k in kubelets]
        tasks.append(asyncio.create_task(Scheduler(client).run(stop)))
        try:
            async def all_registered() -> bool:
                nodes = (await client.list("nodes", label_selector=""))["items"]
                leases = (await client.list("leases", "kube-node-lease"))["items"]
                ours = [n for n in nodes if n["metadata"]["name"].startswith(f"hollow-{tag}-")]
                return len(ours) == NODES and \
                    len([lease for lease in leases if lease["metadata"]["name"].startswith(f"hollow-{tag}-")]) == NODES

            await eventually(all_registered, timeout=120, what="100 nodes and leases")
            await client.create("namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": tag}})
            for i in range(NODES):
                await client.create("pods", {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": f"p{i}"},
                                             "spec": {"containers": [{"name": "c", "image": "pause",
                                                                      "resources": {"requests": {"cpu": "500m"}}}]}},
                                    tag)

            async def all_running() -> bool:
                pods = (await client.list("pods", tag))["items"]
                return len(pods) == NODES and all((p.get("status") or {}).get("phase") == "Running" for p in pods)

            await eventually(all_running, timeout=180, what="100 pods running on hollow nodes")
            placed = {p["spec"]["nodeName"] for p in (await client.list("pods", tag))["items"]}
            assert len(placed) > NODES // 4, "pods spread over the hollow nodes"
        finally:
            stop.set()
            await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 120)
