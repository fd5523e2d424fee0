"""The runc driver with real containers: an image pulled from a private registry, exit
codes, OOM kills under a memory limit, logs, exec, graceful stop, the pod network (two
containers share a network namespace; the node reaches the pod IP), and re-adoption."""

from __future__ import annotations

import asyncio
import os
import shutil
import urllib.request
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from kubelet.runtime.interface import ContainerSpec, DriverError
from kubelet.runtime.runc import RuncRuntime
from tests.fixtures.images import RegistryServer

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("runc") is None,
    reason="runc containers need root and runc (hack/install-system-packages.sh installs runc when root)")


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RegistryServer, str]]:
    server = RegistryServer(tmp_path_factory.mktemp("registry"))
    server.start()
    try:
        yield server, server.push_busybox()
    finally:
        server.stop()


@pytest.fixture
async def runtime(tmp_path: Path, registry: tuple[RegistryServer, str]) -> AsyncIterator[RuncRuntime]:
    octet = 100 + uuid.uuid4().int % 100
    driver = RuncRuntime(tmp_path / "node", node_name=f"rt-{uuid.uuid4().hex[:6]}", pod_cidr=f"10.{octet}.7.0/24")
    try:
        yield driver
    finally:
        await driver.cleanup_node()


def spec(image: str, name: str, *command: str, pod: str = "pod-a", **kwargs: object) -> ContainerSpec:
    return ContainerSpec(pod_uid=pod, pod_name="p", namespace="default", name=name, image=image,
                         command=list(command), **kwargs)  # type: ignore[arg-type]


async def exited(runtime: RuncRuntime, cid: str, timeout: float = 30) -> tuple[int | None, str]:
    for _ in range(int(timeout * 20)):
        status = await runtime.container_status(cid)
        if status.state == "exited":
            return status.exit_code, status.reason
        await asyncio.sleep(0.05)
    raise AssertionError("container did not exit")


async def test_pull_run_exit_codes_and_logs(runtime: RuncRuntime, registry: tuple[RegistryServer, str]) -> None:
    _, image = registry
    sandbox = await runtime.create_sandbox({"metadata": {"uid": "pod-a"}})
    ok = await runtime.start_container(sandbox, spec(image, "ok", "sh", "-c", "echo hello; hostname"))
    assert await exited(runtime, ok.id) == (0, "Completed")
    assert b"".join([c async for c in runtime.logs(ok.id)]).startswith(b"hello\n")
    bad = await runtime.start_container(sandbox, spec(image, "bad", "sh", "-c", "exit 7"))
    assert await exited(runtime, bad.id) == (7, "Error")
    assert ok.image_id.startswith("sha256:")


async def test_memory_limit_oom_kills(runtime: RuncRuntime, registry: tuple[RegistryServer, str]) -> None:
    _, image = registry
    sandbox = await runtime.create_sandbox({"metadata": {"uid": "pod-b"}})
    hog = await runtime.start_container(sandbox, spec(image, "hog", "awk", 'BEGIN{s="xxxxxxxx"; while(1) s=s s}',
                                                      pod="pod-b", limits={"memory": "32Mi"}))
    assert await exited(runtime, hog.id, timeout=60) == (137, "OOMKilled")


async def test_pod_network_exec_and_graceful_stop(runtime: RuncRuntime, registry: tuple[RegistryServer, str]) -> None:
    _, image = registry
    sandbox = await runtime.create_sandbox({"metadata": {"uid": "pod-c"}})
    assert sandbox.ip.startswith("10.")
    await runtime.start_container(sandbox, spec(image, "web", "httpd", "-f", "-p", "8080", "-h", "/var/www",
                                                      pod="pod-c"))
    sidecar = await runtime.start_container(sandbox, spec(image, "side", "sleep", "3600", pod="pod-c"))

    async def served() -> bytes:
        for _ in range(100):
            result = await runtime.exec(sidecar.id, ["wget", "-q", "-O", "-", "http://127.0.0.1:8080/index.html"])
            if result.exit_code == 0:
                return result.stdout
            await asyncio.sleep(0.1)
        raise AssertionError("the sidecar never reached the web container over the shared netns")

    assert await served() == b"hello from kube-py\n"
    body = await asyncio.to_thread(lambda: urllib.request.urlopen(f"http://{sandbox.ip}:8080/index.html",
                                                                  timeout=5).read())
    assert body == b"hello from kube-py\n"
    await runtime.stop_container(sidecar.id, grace_period=1)  # sleep ignores TERM: escalates to KILL
    assert (await runtime.container_status(sidecar.id)).exit_code == 137
    again = RuncRuntime(runtime.data_dir, node_name=runtime.node_name, pod_cidr=runtime.network.pod_cidr)
    adopted = {name: s.state for _, name, s in await again.list_containers()}
    assert adopted == {"web": "running", "side": "exited"}


async def test_missing_image_is_err_image_pull(runtime: RuncRuntime, registry: tuple[RegistryServer, str]) -> None:
    server, _ = registry
    with pytest.raises(DriverError) as info:
        await runtime.pull_image(f"{server.host}/nothing:here")
    assert info.value.reason == "ErrImagePull"
