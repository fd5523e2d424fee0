"""A node with the runc driver in a real cluster: pods are real containers from an image in
a private registry; the stock kubectl reads their logs and execs into them; probes gate
readiness; a memory limit OOM-kills; deleting a pod leaves no container or netns behind."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from apimachinery.errors import StatusError
from kubeclient.rest import ApiClient
from kubelet.kubelet import Kubelet
from kubelet.runtime.runc import RuncRuntime
from scheduler.scheduler import Scheduler
from tests.fixtures.apiserver import ApiServerProcess, running_api_server
from tests.fixtures.images import RegistryServer
from tests.fixtures.wait import eventually

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("runc") is None,
    reason="runc containers need root and runc (hack/install-system-packages.sh installs runc when root)")


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    registry = RegistryServer(tmp_path_factory.mktemp("e2e-registry"))
    registry.start()
    try:
        yield registry.push_busybox()
    finally:
        registry.stop()


@pytest.fixture(scope="module")
def api_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServerProcess]:
    yield from running_api_server(tmp_path_factory.mktemp("e2e-runc-api"))


@pytest.fixture
async def node(api_server: ApiServerProcess, tmp_path: Path) -> AsyncIterator[tuple[ApiClient, RuncRuntime]]:
    stop = asyncio.Event()
    octet = 100 + uuid.uuid4().int % 100
    async with ApiClient(api_server.url) as client:
        name = f"runc-{uuid.uuid4().hex[:6]}"
        runtime = RuncRuntime(tmp_path / "node", node_name=name, pod_cidr=f"10.{octet}.9.0/24")
        kubelet = Kubelet(client, name, runtime, capacity={"cpu": "4", "memory": "8Gi", "pods": "20"},
                          data_dir=tmp_path / "kubelet")
        tasks = [asyncio.create_task(Scheduler(client).run(stop)), asyncio.create_task(kubelet.run(stop))]
        try:
            yield client, runtime
        finally:
            stop.set()
            await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 60)
            await runtime.cleanup_node()
            try:
                await client.delete("nodes", name)
            except StatusError:
                pass


def pod(name: str, image: str, command: list[str], **extra: Any) -> dict[str, Any]:
    container = {"name": "main", "image": image, "command": command, **extra}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"terminationGracePeriodSeconds": 2, "restartPolicy": "Never", "containers": [container]}}


async def status_of(client: ApiClient, name: str) -> dict[str, Any]:
    return (await client.get("pods", name, "default")).get("status") or {}


async def test_real_container_logs_exec_probe_oom_and_cleanup(node: tuple[ApiClient, RuncRuntime], image: str,
                                                              api_server: ApiServerProcess, tmp_path: Path) -> None:
    client, runtime = node
    suffix = uuid.uuid4().hex[:5]
    web, hog = f"web-{suffix}", f"hog-{suffix}"
    probe = {"httpGet": {"path": "/index.html", "port": 8080}, "periodSeconds": 1}
    await client.create("pods", pod(web, image, ["sh", "-c", "echo serving; exec httpd -f -p 8080 -h /var/www"],
                                    readinessProbe=probe), "default")
    await client.create("pods", pod(hog, image, ["awk", 'BEGIN{s="xxxxxxxx"; while(1) s=s s}'],
                                    resources={"limits": {"memory": "16Mi"}}), "default")

    async def ready() -> bool:
        conditions = {c["type"]: c["status"] for c in (await status_of(client, web)).get("conditions") or []}
        return conditions.get("Ready") == "True"

    await eventually(ready, timeout=90, what="readiness probe passes")
    ip = (await status_of(client, web))["podIP"]
    assert ip.startswith("10.")

    async def oom_killed() -> bool:
        statuses = (await status_of(client, hog)).get("containerStatuses") or []
        terminated = (statuses[0].get("state") or {}).get("terminated") if statuses else None
        return bool(terminated) and terminated["reason"] == "OOMKilled"

    await eventually(oom_killed, timeout=90, what="OOMKilled under a 16Mi limit")
    assert (await status_of(client, hog))["phase"] == "Failed"

    def kubectl(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["kubectl", "--kubeconfig", str(api_server.kubeconfig), "--cache-dir",
                               str(tmp_path / "cache"), *args], capture_output=True, text=True, timeout=60,
                              env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})

    if shutil.which("kubectl"):
        logs = await asyncio.to_thread(kubectl, "logs", web)
        assert logs.stdout.startswith("serving"), logs.stderr
        result = await asyncio.to_thread(kubectl, "exec", web, "--", "sh", "-c", "hostname; exit 5")
        mine = await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "kubectl_py.main", "--kubeconfig",
                                                        str(api_server.kubeconfig), "logs", web],
                                       capture_output=True, text=True, timeout=60)
        assert mine.stdout.startswith("serving"), mine.stderr
        assert result.stdout.strip() == web and result.returncode == 5
    before = {uid for uid, _n, _s in await runtime.list_containers()}
    assert before
    for name in (web, hog):
        await client.delete("pods", name, "default")

    async def all_gone() -> bool:
        try:
            await client.get("pods", web, "default")
            return False
        except StatusError as exc:
            return exc.code == 404 and not await runtime.list_containers() and \
                not any(n.startswith(runtime.network.prefix) for n in os.listdir("/var/run/netns"))

    await eventually(all_gone, timeout=90, what="pods deleted, containers and netns removed")
    mounts = Path("/proc/mounts").read_text()
    assert str(runtime.data_dir) not in mounts, "no overlay mount left behind"
    ipam = runtime.network.state_dir / "ipam" / runtime.network.prefix
    leftover = [p.name for p in ipam.glob("*") if p.name[0].isdigit()] if ipam.exists() else []
    assert leftover == [], f"IP allocations left behind: {leftover}"


async def test_missing_image_backs_off(node: tuple[ApiClient, RuncRuntime], image: str) -> None:
    client, _runtime = node
    name = f"nope-{uuid.uuid4().hex[:5]}"
    missing = image.rsplit("/", 1)[0] + "/missing:1"
    await client.create("pods", pod(name, missing, ["true"]), "default")

    async def backing_off() -> bool:
        statuses = (await status_of(client, name)).get("containerStatuses") or []
        reason = ((statuses[0].get("state") or {}).get("waiting") or {}).get("reason") if statuses else None
        return reason == "ImagePullBackOff"

    await eventually(backing_off, timeout=60, what="ImagePullBackOff after ErrImagePull")
    await client.delete("pods", name, "default")


async def test_liveness_restart_and_pod_to_pod_traffic(node: tuple[ApiClient, RuncRuntime], image: str) -> None:
    client, _runtime = node
    suffix = uuid.uuid4().hex[:5]
    flaky, server, caller = f"flaky-{suffix}", f"server-{suffix}", f"caller-{suffix}"
    liveness = {"exec": {"command": ["cat", "/tmp/healthy"]}, "periodSeconds": 1, "failureThreshold": 1}
    body = pod(flaky, image, ["sh", "-c", "touch /tmp/healthy; sleep 2; rm /tmp/healthy; sleep 3600"],
               livenessProbe=liveness)
    body["spec"]["restartPolicy"] = "Always"
    await client.create("pods", body, "default")
    await client.create("pods", pod(server, image, ["httpd", "-f", "-p", "8080", "-h", "/var/www"]), "default")

    async def server_ip() -> str:
        return (await status_of(client, server)).get("podIP", "")

    await eventually(lambda: _truthy(server_ip()), timeout=90, what="server pod has an IP")
    ip = await server_ip()
    await client.create("pods", pod(caller, image, ["sh", "-c", f"until wget -q -O - http://{ip}:8080/; do sleep 0.2; done"]),
                        "default")

    async def caller_succeeded() -> bool:
        return (await status_of(client, caller)).get("phase") == "Succeeded"

    await eventually(caller_succeeded, timeout=90, what="one pod reached another by IP")

    async def restarted() -> bool:
        statuses = (await status_of(client, flaky)).get("containerStatuses") or []
        return bool(statuses) and statuses[0]["restartCount"] >= 1

    await eventually(restarted, timeout=90, what="liveness failure restarted the container")
    for name in (flaky, server, caller):
        await client.delete("pods", name, "default")


async def _truthy(value: Any) -> bool:
    return bool(await value)
