"""Deleting a pod on a real kubelet (process driver, real child processes, a real API server):
the containers are killed with the grace period, then the terminal status is written (every
container terminated with its exit code, phase Failed, or Succeeded when all exited 0), then
the pod is deleted with grace 0. The phase never goes back, also when a finalizer keeps the
pod after the kubelet is done with it (a new worker used to rewrite it as Pending), and a pod
deleted while its init container runs ends Failed too."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from kubeclient.rest import ApiClient
from kubelet import kubelet as kubelet_module
from kubelet.kubelet import Kubelet
from kubelet.podworker import PodWorker
from kubelet.runtime.process import ProcessRuntime
from tests.fixtures.apiserver import ApiServerProcess, running_api_server
from tests.fixtures.podwatch import PodWatch, all_running, conditions, container_states, phase
from tests.fixtures.wait import eventually

Obj = dict[str, Any]
IGNORES_TERM = "sleep 3600"
EXITS_0_ON_TERM = "trap 'exit 0' TERM; sleep 3600 & wait"


@pytest.fixture(scope="module")
def api_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServerProcess]:
    yield from running_api_server(tmp_path_factory.mktemp("termination-api"))


@dataclass
class Node:
    client: ApiClient
    name: str
    namespace: str
    kubelet: Kubelet

    async def create(self, name: str, command: str, *, policy: str = "Always", grace: int = 2,
                     init: str = "", finalizers: list[str] | None = None) -> Obj:
        spec: Obj = {"nodeName": self.name, "restartPolicy": policy, "terminationGracePeriodSeconds": grace,
                     "containers": [{"name": "main", "image": "busybox:1.36", "command": ["sh", "-c", command]}]}
        if init:
            spec["initContainers"] = [{"name": "setup", "image": "busybox:1.36", "command": ["sh", "-c", init]}]
        meta: Obj = {"name": name, **({"finalizers": finalizers} if finalizers else {})}
        return await self.client.create("pods", {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec},
                                        self.namespace)

    def watch(self, pod: Obj) -> PodWatch:
        return PodWatch(self.client, self.namespace, pod["metadata"]["name"], pod["metadata"]["resourceVersion"])


@pytest.fixture
async def node(api_server: ApiServerProcess, tmp_path: Path) -> AsyncIterator[Node]:
    tag = uuid.uuid4().hex[:6]
    namespace, name = f"term-{tag}", f"term-node-{tag}"
    stop = asyncio.Event()
    runtime = ProcessRuntime(tmp_path / "containers")
    async with ApiClient(api_server.url) as client:
        await client.create("namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
        kubelet = Kubelet(client, name, runtime, data_dir=tmp_path / "kubelet")
        task = asyncio.create_task(kubelet.run(stop))
        try:
            yield Node(client, name, namespace, kubelet)
        finally:
            stop.set()
            await asyncio.wait_for(asyncio.gather(task, return_exceptions=True), 60)
            for _uid, _name, status in await runtime.list_containers():
                await runtime.remove_container(status.id)
            await client.delete("nodes", name)


def terminated(obj: Obj, key: str = "containerStatuses") -> list[Obj]:
    return [s["terminated"] for s in container_states(obj, key) if "terminated" in s]


@pytest.mark.parametrize(("command", "policy", "final_phase", "exit_codes"), [
    (IGNORES_TERM, "Always", "Failed", {137, 143}),
    (EXITS_0_ON_TERM, "Never", "Succeeded", {0}),
])
async def test_a_deleted_pod_ends_terminal_with_exit_codes(node: Node, command: str, policy: str,
                                                           final_phase: str, exit_codes: set[int]) -> None:
    pod = await node.create(f"gone-{uuid.uuid4().hex[:5]}", command, policy=policy)
    async with node.watch(pod) as watch:
        await watch.until(all_running, 60, "Running")
        await node.client.delete("pods", pod["metadata"]["name"], node.namespace)
        last = await watch.gone(60)
    watch.assert_phase_never_went_back()
    assert phase(last) == final_phase, watch.phases()
    [state] = terminated(last)
    assert state["exitCode"] in exit_codes
    assert state["reason"] == ("Completed" if state["exitCode"] == 0 else "Error")
    [status] = last["status"]["containerStatuses"]
    assert (status["ready"], status["started"]) == (False, False)
    conds = conditions(last)
    reason = "PodCompleted" if final_phase == "Succeeded" else "PodFailed"
    for kind in ("Ready", "ContainersReady"):
        assert (conds[kind]["status"], conds[kind]["reason"]) == ("False", reason)
    # the terminal status was written before the final delete: the version that carried
    # deletionGracePeriodSeconds=2 went Running → terminal, never through Pending
    deleting = [phase(v) for v in watch.versions if v["metadata"].get("deletionTimestamp")]
    assert deleting[-1] == final_phase and "Pending" not in deleting


async def test_a_pod_kept_by_a_finalizer_is_not_rewritten_after_termination(node: Node,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[str] = []

    class CountedWorker(PodWorker):
        def __init__(self, kubelet: Kubelet, pod: Obj, *args: Any) -> None:
            started.append(pod["metadata"]["uid"])
            super().__init__(kubelet, pod, *args)

    monkeypatch.setattr(kubelet_module, "PodWorker", CountedWorker)
    pod = await node.create(f"kept-{uuid.uuid4().hex[:5]}", IGNORES_TERM, finalizers=["example.com/hold"])
    name, uid = pod["metadata"]["name"], pod["metadata"]["uid"]
    async with node.watch(pod) as watch:
        await watch.until(all_running, 60, "Running")
        await node.client.delete("pods", name, node.namespace)
        # the kubelet's final delete (grace 0) cannot remove it: the finalizer holds it
        await watch.until(lambda o: o["metadata"].get("deletionGracePeriodSeconds") == 0, 60, "final delete")

        async def worker_done() -> bool:
            return uid in node.kubelet.terminated and uid not in node.kubelet.workers

        await eventually(worker_done, 30, "the pod's worker finished termination")
        touched = await node.client.patch("pods", name, {"metadata": {"labels": {"poke": "1"}}}, node.namespace,
                                          patch_type="merge")
        rv = touched["metadata"]["resourceVersion"]

        async def kubelet_saw_it() -> bool:
            cached = node.kubelet.pods.get(f"{node.namespace}/{name}")
            return cached is not None and cached["metadata"]["resourceVersion"] == rv

        await eventually(kubelet_saw_it, 30, "the kubelet's informer has the touched pod")
        await eventually(worker_done, 30, "the kubelet left the pod alone")  # handlers ran with the cache update
        current = await node.client.get("pods", name, node.namespace)
        assert current["metadata"]["resourceVersion"] == rv, "the kubelet wrote to a pod it had terminated"
        assert started == [uid], "a terminated pod got a new worker"
        assert phase(current) == "Failed"
        assert [s["exitCode"] for s in terminated(current)] in ([143], [137])
        await node.client.patch("pods", name, {"metadata": {"finalizers": None}}, node.namespace, patch_type="merge")
        last = await watch.gone(60)
    watch.assert_phase_never_went_back()
    assert phase(last) == "Failed"

    async def forgotten() -> bool:
        return uid not in node.kubelet.terminated

    await eventually(forgotten, 30, "the kubelet forgets the pod once the API removed it")


async def test_a_pod_deleted_while_initializing_ends_failed(node: Node) -> None:
    pod = await node.create(f"init-{uuid.uuid4().hex[:5]}", "true", init=IGNORES_TERM)

    def initializing(obj: Obj) -> bool:
        return any("running" in s for s in container_states(obj, "initContainerStatuses"))

    async with node.watch(pod) as watch:
        await watch.until(initializing, 60, "init container running")
        await node.client.delete("pods", pod["metadata"]["name"], node.namespace)
        last = await watch.gone(60)
    watch.assert_phase_never_went_back()
    assert phase(last) == "Failed", watch.phases()
    assert [s["exitCode"] for s in terminated(last, "initContainerStatuses")] in ([143], [137])
    assert container_states(last) == [{"waiting": {"reason": "ContainerCreating"}}]  # it never started
    assert conditions(last)["Initialized"]["status"] == "False"
