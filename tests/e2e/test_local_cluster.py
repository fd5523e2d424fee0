"""A whole local cluster: API server process + controller-manager, scheduler and a kubelet
with the `process` driver in the test's loop. Pods really run (as plain processes), and
the stock kubectl reads their logs, execs into them and watches rollouts complete."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from apimachinery.errors import StatusError
from controllers.manager import run_controller_manager
from kubeclient.rest import ApiClient
from kubelet.kubelet import Kubelet
from kubelet.runtime.process import ProcessRuntime
from scheduler.scheduler import Scheduler
from tests.fixtures.apiserver import ApiServerProcess
from tests.fixtures.wait import eventually


@pytest.fixture(scope="module")
def api_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServerProcess]:
    server = ApiServerProcess(tmp_path_factory.mktemp("e2e-api"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def cluster(api_server: ApiServerProcess, tmp_path: Path) -> AsyncIterator[ApiClient]:
    stop = asyncio.Event()
    async with ApiClient(api_server.url) as client:
        node = f"e2e-{uuid.uuid4().hex[:6]}"
        runtime = ProcessRuntime(tmp_path / "containers")
        kubelet = Kubelet(client, node, runtime, capacity={"cpu": "4", "memory": "8Gi", "pods": "20"},
                          data_dir=tmp_path / "kubelet")
        tasks = [asyncio.create_task(run_controller_manager(client, leader_elect=False, stop=stop)),
                 asyncio.create_task(Scheduler(client).run(stop)),
                 asyncio.create_task(kubelet.run(stop))]
        try:
            yield client
        finally:
            stop.set()
            await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 60)
            for _uid, _name, status in await runtime.list_containers():
                await runtime.remove_container(status.id)
            try:
                await client.delete("nodes", node)
            except StatusError:
                pass


@pytest.fixture
async def ns(cluster: ApiClient) -> str:
    name = f"e2e-{uuid.uuid4().hex[:8]}"
    await cluster.create("namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    return name


def pod(name: str, command: list[str], restart: str = "Always", **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"app": name}},
            "spec": {"restartPolicy": restart, "terminationGracePeriodSeconds": 2,
                     "containers": [{"name": "main", "image": "busybox:1.36", "command": command}], **spec}}


async def phase(client: ApiClient, namespace: str, name: str) -> str:
    return ((await client.get("pods", name, namespace)).get("status") or {}).get("phase", "")


async def test_pod_runs_becomes_ready_and_is_deleted(cluster: ApiClient, ns: str) -> None:
    await cluster.create("pods", pod("sleeper", ["sh", "-c", "echo started; sleep 3600"]), ns)

    async def ready() -> bool:
        current = await cluster.get("pods", "sleeper", ns)
        conds = {c["type"]: c["status"] for c in (current.get("status") or {}).get("conditions") or []}
        return current["status"].get("phase") == "Running" and conds.get("Ready") == "True"

    await eventually(ready, what="pod Running and Ready")
    running = await cluster.get("pods", "sleeper", ns)
    assert running["spec"]["nodeName"].startswith("e2e-")
    status = running["status"]["containerStatuses"][0]
    assert status["ready"] and status["restartCount"] == 0 and "running" in status["state"]
    await cluster.delete("pods", "sleeper", ns)

    async def gone() -> bool:
        try:
            await cluster.get("pods", "sleeper", ns)
            return False
        except StatusError as exc:
            return exc.code == 404

    await eventually(gone, what="pod removed after graceful stop")


async def test_exit_codes_and_restart_policies(cluster: ApiClient, ns: str) -> None:
    await cluster.create("pods", pod("ok", ["sh", "-c", "exit 0"], restart="Never"), ns)
    await cluster.create("pods", pod("bad", ["sh", "-c", "exit 3"], restart="Never"), ns)

    async def finished() -> bool:
        return await phase(cluster, ns, "ok") == "Succeeded" and await phase(cluster, ns, "bad") == "Failed"

    await eventually(finished, what="terminal phases")
    bad = await cluster.get("pods", "bad", ns)
    terminated = bad["status"]["containerStatuses"][0]["state"]["terminated"]
    assert terminated["exitCode"] == 3 and terminated["reason"] == "Error"

    await cluster.create("pods", pod("loop", ["sh", "-c", "exit 1"], restart="Always"), ns)

    async def crash_looping() -> bool:
        current = await cluster.get("pods", "loop", ns)
        statuses = (current.get("status") or {}).get("containerStatuses") or []
        return bool(statuses) and statuses[0]["restartCount"] >= 1 and \
            statuses[0]["state"].get("waiting", {}).get("reason") == "CrashLoopBackOff"

    await eventually(crash_looping, what="CrashLoopBackOff after a restart")


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="the stock kubectl ships with the machine image")
async def test_stock_kubectl_logs_exec_and_rollout(cluster: ApiClient, ns: str, api_server: ApiServerProcess,
                                                   tmp_path: Path) -> None:
    async def kubectl(*args: str) -> subprocess.CompletedProcess[str]:
        cmd = ["kubectl", "--kubeconfig", str(api_server.kubeconfig), "--cache-dir", str(tmp_path / "cache"),
               "-n", ns, *args]
        return await asyncio.to_thread(subprocess.run, cmd, capture_output=True, text=True, timeout=120,
                                       env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})

    await cluster.create("pods", pod("talker", ["sh", "-c", "echo one; echo two; sleep 3600"]), ns)
    await eventually(lambda: _is(phase(cluster, ns, "talker"), "Running"), what="talker running")

    async def logged() -> bool:
        return (await kubectl("logs", "talker")).stdout == "one\ntwo\n"

    await eventually(logged, what="kubectl logs")
    assert (await kubectl("logs", "talker", "--tail=1")).stdout == "two\n"
    result = await kubectl("exec", "talker", "--", "sh", "-c", "echo out; echo err >&2; exit 3")
    assert result.stdout == "out\n" and "err" in result.stderr
    assert result.returncode == 3

    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
                  "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                           "template": {"metadata": {"labels": {"app": "web"}},
                                        "spec": {"terminationGracePeriodSeconds": 2, "containers": [
                                            {"name": "web", "image": "busybox:1.36",
                                             "command": ["sh", "-c", "sleep 3600"]}]}}}}
    await cluster.create("deployments", deployment, ns)
    status = await kubectl("rollout", "status", "deployment/web", "--timeout=120s")
    assert status.returncode == 0, status.stderr
    assert 'deployment "web" successfully rolled out' in status.stdout
    table = await kubectl("get", "pods", "-l", "app=web")
    rows = [line.split() for line in table.stdout.splitlines()[1:]]
    assert len(rows) == 2 and all(r[1] == "1/1" and r[2] == "Running" for r in rows)


async def _is(value: Any, expected: Any) -> bool:
    return (await value) == expected


async def test_kubectl_py_logs_and_exec(cluster: ApiClient, ns: str, api_server: ApiServerProcess,
                                        tmp_path: Path) -> None:
    import sys

    await cluster.create("pods", pod("chatty", ["sh", "-c", "echo alpha; echo beta; sleep 3600"]), ns)
    await eventually(lambda: _is(phase(cluster, ns, "chatty"), "Running"), what="chatty running")

    async def kubectl_py(*args: str) -> subprocess.CompletedProcess[str]:
        cmd = [sys.executable, "-m", "kubectl_py.main", "--kubeconfig", str(api_server.kubeconfig), "-n", ns, *args]
        return await asyncio.to_thread(subprocess.run, cmd, capture_output=True, text=True, timeout=60,
                                       cwd=str(Path(__file__).resolve().parents[2]))

    async def logged() -> bool:
        return (await kubectl_py("logs", "chatty")).stdout == "alpha\nbeta\n"

    await eventually(logged, what="kubectl-py logs")
    assert (await kubectl_py("logs", "chatty", "--tail=1")).stdout == "beta\n"
    result = await kubectl_py("exec", "chatty", "--", "sh", "-c", "echo out; exit 4")
    assert result.stdout == "out\n"
    assert result.returncode == 4, result.stderr
