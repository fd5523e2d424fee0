"""Deleting pods on a runc node (real containers from the seeded busybox image): after the
grace period the containers are stopped, the pod's last status before it disappears says
how each one ended (`sleep` as a container's PID 1 ignores SIGTERM, so SIGKILL: 137; a shell
that traps SIGTERM exits 0) with phase Failed or Succeeded, the phase never went back on the
way, and no container of the pod is left behind."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from apimachinery.errors import StatusError
from kubeclient.rest import ApiClient
from kubelet.kubelet import Kubelet
from kubelet.runtime.runc import RuncRuntime
from tests.fixtures.apiserver import ApiServerProcess, running_api_server
from tests.fixtures.images import RegistryServer
from tests.fixtures.podwatch import PodWatch, all_running, conditions, container_states, phase
from tests.fixtures.wait import eventually

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("runc") is None,
    reason="runc containers need root and runc (hack/install-system-packages.sh installs runc when root)")

Obj = dict[str, Any]


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    registry = RegistryServer(tmp_path_factory.mktemp("term-registry"))
    registry.start()
    try:
        yield registry.push_busybox()
    finally:
        registry.stop()


@pytest.fixture(scope="module")
def api_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServerProcess]:
    yield from running_api_server(tmp_path_factory.mktemp("term-runc-api"))


@pytest.fixture
async def node(api_server: ApiServerProcess, tmp_path: Path) -> AsyncIterator[tuple[ApiClient, RuncRuntime, str]]:
    stop = asyncio.Event()
    octet = 100 + uuid.uuid4().int % 100
    async with ApiClient(api_server.url) as client:
        name = f"term-{uuid.uuid4().hex[:6]}"
        runtime = RuncRuntime(tmp_path / "node", node_name=name, pod_cidr=f"10.{octet}.12.0/24")
        kubelet = Kubelet(client, name, runtime, capacity={"cpu": "4", "memory": "8Gi", "pods": "20"},
                          data_dir=tmp_path / "kubelet")
        task = asyncio.create_task(kubelet.run(stop))
        try:
            yield client, runtime, name
        finally:
            stop.set()
            await asyncio.wait_for(asyncio.gather(task, return_exceptions=True), 60)
            await runtime.cleanup_node()
            try:
                await client.delete("nodes", name)
            except StatusError:
                pass


@pytest.mark.parametrize(("command", "policy", "final_phase", "exit_codes"), [
    ("sleep 3600", "Always", "Failed", {137, 143}),
    ("trap 'exit 0' TERM; sleep 3600 & wait", "Never", "Succeeded", {0}),
])
async def test_deleted_pod_ends_terminal_before_it_is_removed(node: tuple[ApiClient, RuncRuntime, str], image: str,
                                                              command: str, policy: str, final_phase: str,
                                                              exit_codes: set[int]) -> None:
    client, runtime, node_name = node
    name = f"del-{uuid.uuid4().hex[:5]}"
    body = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"nodeName": node_name, "restartPolicy": policy, "terminationGracePeriodSeconds": 30,
                     "containers": [{"name": "main", "image": image, "command": ["sh", "-c", command]}]}}
    created = await client.create("pods", body, "default")
    async with PodWatch(client, "default", name, created["metadata"]["resourceVersion"]) as watch:
        await watch.until(all_running, 120, "Running")
        await client.delete("pods", name, "default", grace_period_seconds=3)
        last = await watch.gone(90)
    watch.assert_phase_never_went_back()
    assert phase(last) == final_phase, watch.phases()
    [state] = container_states(last)
    assert state["terminated"]["exitCode"] in exit_codes, state
    assert state["terminated"]["reason"] == ("Completed" if final_phase == "Succeeded" else "Error")
    [status] = last["status"]["containerStatuses"]
    assert (status["ready"], status["started"]) == (False, False)
    assert conditions(last)["Ready"]["status"] == "False"
    assert last["metadata"]["deletionGracePeriodSeconds"] == 3  # written before the final delete (grace 0)
    pod_uid = created["metadata"]["uid"]

    async def containers_removed() -> bool:
        return not [n for uid, n, _s in await runtime.list_containers() if uid == pod_uid]

    await eventually(containers_removed, 60, "the pod's containers removed after the final delete")
