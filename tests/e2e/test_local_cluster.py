"""A whole local cluster: API server process + controller-manager, scheduler and a kubelet
with the `process` driver in the test's loop. Pods really run (as plain processes), and
the stock kubectl reads their logs, execs into them and watches rollouts complete."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import time
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
from tests.fixtures.apiserver import ApiServerProcess, free_port, running_api_server
from tests.fixtures.wait import eventually


@pytest.fixture(scope="module")
def api_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServerProcess]:
    yield from running_api_server(tmp_path_factory.mktemp("e2e-api"))


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


ECHO_SERVER = """
import socket, sys, threading
server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", int(sys.argv[1])))
server.listen(16)
def serve(conn):
    with conn:
        while data := conn.recv(65536):
            conn.sendall(data)
while True:
    threading.Thread(target=serve, args=(server.accept()[0],), daemon=True).start()
"""


async def test_stock_kubectl_port_forward(cluster: ApiClient, ns: str, api_server: ApiServerProcess,
                                          tmp_path: Path) -> None:
    """kubectl port-forward: its WebSocket-tunnelled SPDY session through the API server to the
    kubelet, two concurrent connections echoing a megabyte each, and a port nobody listens on
    reported on the error stream."""
    pod_port, local_port, dead_port, dead_local = free_port(), free_port(), free_port(), free_port()
    await cluster.create("pods", pod("echo", ["python3", "-c", ECHO_SERVER, str(pod_port)]), ns)
    await eventually(lambda: _is(phase(cluster, ns, "echo"), "Running"), what="echo server running")
    await eventually(lambda: _accepts(pod_port), what="echo server listening")
    cmd = ["kubectl", "--kubeconfig", str(api_server.kubeconfig), "--cache-dir", str(tmp_path / "cache"), "-n", ns,
           "port-forward", "pod/echo", f"{local_port}:{pod_port}", f"{dead_local}:{dead_port}"]
    forward = await asyncio.create_subprocess_exec(*cmd, stdout=asyncio.subprocess.PIPE,
                                                   stderr=asyncio.subprocess.PIPE,
                                                   env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})
    try:
        assert forward.stdout is not None
        first = await asyncio.wait_for(forward.stdout.readline(), 30)
        assert first.decode() == f"Forwarding from 127.0.0.1:{local_port} -> {pod_port}\n"
        payloads = [os.urandom(1 << 20), os.urandom(1 << 20)]
        echoed = await asyncio.gather(*(_echo(local_port, p) for p in payloads))
        assert echoed == payloads
        # Nothing listens on dead_port: the kubelet says so on the error stream, and kubectl
        # (client-go) then drops the whole session, as against a real cluster.
        _, writer = await asyncio.open_connection("127.0.0.1", dead_local)
        assert await asyncio.wait_for(forward.wait(), 30) == 1
        assert forward.stderr is not None
        err = (await forward.stderr.read()).decode()
        assert f"error forwarding port {dead_port} to pod echo" in err
        assert f"dial tcp4 127.0.0.1:{dead_port}: connect: connection refused" in err
        writer.close()
    finally:
        if forward.returncode is None:
            forward.terminate()
            await forward.wait()


async def _accepts(port: int) -> bool:
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return False
    writer.close()
    return True


async def _echo(port: int, payload: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(payload)
    await writer.drain()
    got = await asyncio.wait_for(reader.readexactly(len(payload)), 60)
    writer.close()
    return got


async def test_python_client_port_forward(cluster: ApiClient, ns: str, api_server: ApiServerProcess) -> None:
    """The official Python client's port-forward (the `v4.channel.k8s.io` channel protocol)."""
    from kubernetes import client as k8s
    from kubernetes import config as k8s_config
    from kubernetes.stream import portforward

    pod_port, dead_port = free_port(), free_port()
    await cluster.create("pods", pod("echo2", ["python3", "-c", ECHO_SERVER, str(pod_port)]), ns)
    await eventually(lambda: _is(phase(cluster, ns, "echo2"), "Running"), what="echo server running")
    await eventually(lambda: _accepts(pod_port), what="echo server listening")

    def forward() -> tuple[bytes, str | None]:
        api = k8s.CoreV1Api(k8s_config.new_client_from_config(str(api_server.kubeconfig)))
        pf = portforward(api.connect_get_namespaced_pod_portforward, "echo2", ns, ports=f"{pod_port},{dead_port}")
        sock = pf.socket(pod_port)
        sock.settimeout(30)
        payload = os.urandom(200_000)
        sock.sendall(payload)
        got = b""
        while len(got) < len(payload):
            got += sock.recv(65536)
        dead_error = None
        for _ in range(100):
            dead_error = pf.error(dead_port)
            if dead_error:
                break
            time.sleep(0.1)
        pf.close()
        return (got if got == payload else b"mismatch"), dead_error

    echoed, error = await asyncio.to_thread(forward)
    assert echoed != b"mismatch" and len(echoed) == 200_000
    assert error is not None and f"dial tcp4 127.0.0.1:{dead_port}: connect: connection refused" in error


async def test_port_forward_bad_ports_are_refused_before_the_upgrade(cluster: ApiClient, ns: str,
                                                                      api_server: ApiServerProcess) -> None:
    import aiohttp

    await cluster.create("pods", pod("idle", ["sleep", "3600"]), ns)
    await eventually(lambda: _is(phase(cluster, ns, "idle"), "Running"), what="idle running")
    url = f"{api_server.url.replace('http', 'ws', 1)}/api/v1/namespaces/{ns}/pods/idle/portforward"
    async with aiohttp.ClientSession() as session:
        for params, message in (({"ports": "http"}, 'unable to parse "http" as a port'),
                                ({}, 'query parameter "port" is required')):
            with pytest.raises(aiohttp.WSServerHandshakeError) as info:
                await session.ws_connect(url, protocols=("v4.channel.k8s.io",), params=params)
            assert info.value.status == 400
            async with session.get(url, params=params, headers={
                    "Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
                    "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
                    "Sec-WebSocket-Protocol": "v4.channel.k8s.io"}) as resp:
                assert resp.status == 400 and message in (await resp.json())["message"]
