"""The seeded busybox image's networking tools in real runc containers: `wget` fetches a body
from an HTTP server on the node, by address and by a name the cluster DNS answers through the
pod's search path, `wget -T` works (Debian's busybox alone dies of SIGSEGV on it: it has no
FEATURE_WGET_TIMEOUT but still stores the value through a NULL pointer), and `nslookup`
resolves a Service name. The wrapper's option handling is also checked on the host."""

from __future__ import annotations

import asyncio
import io
import ipaddress
import os
import shutil
import subprocess
import tarfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from aiohttp import web

from kubelet.dns.records import Zone
from kubelet.dns.server import DnsServer, _bound, _Udp
from kubelet.runtime.interface import ContainerSpec
from kubelet.runtime.runc import RuncRuntime
from kubepy.registry import BUSYBOX, WGET_WRAPPER, push_busybox, seed_busybox
from tests.fixtures.apiserver import free_port
from tests.fixtures.images import RegistryServer

needs_root = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("runc") is None or not BUSYBOX.exists(),
    reason="runc containers need root (hack/install-system-packages.sh installs runc and busybox-static when root)")
BODY = b"hello from the node\n"


async def http_server(address: str, port: int) -> web.AppRunner:
    async def index(_: web.Request) -> web.Response:
        return web.Response(body=BODY)

    async def slow(_: web.Request) -> web.Response:
        await asyncio.sleep(30)
        return web.Response(body=BODY)

    app = web.Application()
    app.router.add_get("/", index)
    app.router.add_get("/slow", slow)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    await web.TCPSite(runner, address, port).start()
    return runner


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryServer]:
    server = RegistryServer(tmp_path_factory.mktemp("registry"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def image(registry: RegistryServer) -> str:
    return registry.push_busybox()


@pytest.fixture
async def pod(tmp_path: Path, image: str) -> AsyncIterator[tuple[RuncRuntime, str, str, int]]:
    """A running `sleep` container with a ClusterFirst-style resolv.conf naming a DNS server on
    the pod gateway, which answers `web.default.svc.cluster.local` with the gateway itself,
    where an HTTP server listens → (runtime, container id, gateway, HTTP port)."""
    octet = 100 + uuid.uuid4().int % 100
    cidr = f"10.{octet}.9.0/24"
    gateway = str(next(ipaddress.ip_network(cidr).hosts()))
    runtime = RuncRuntime(tmp_path / "node", node_name=f"bb-{uuid.uuid4().hex[:6]}", pod_cidr=cidr)
    services = {"web": {"metadata": {"name": "web"}, "spec": {"clusterIP": gateway}}}
    zone = Zone("cluster.local", lambda _ns, name: services.get(name), lambda _ns, _name: [])
    etc = tmp_path / "etc"
    etc.mkdir()
    (etc / "resolv.conf").write_text(f"search default.svc.cluster.local svc.cluster.local cluster.local\n"
                                     f"nameserver {gateway}\noptions ndots:5\n")
    (etc / "hosts").write_text("127.0.0.1\tlocalhost\n")
    mounts = [{"hostPath": str(etc / name), "containerPath": f"/etc/{name}"} for name in ("resolv.conf", "hosts")]
    transport = runner = None
    try:
        sandbox = await runtime.create_sandbox({"metadata": {"uid": "bb-pod"}})
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(lambda: _Udp(DnsServer(zone, [])),
                                                           sock=_bound(2, gateway, 53))
        port = free_port()
        runner = await http_server(gateway, port)
        spec = ContainerSpec(pod_uid="bb-pod", pod_name="caller", namespace="default", name="caller", image=image,
                             command=["sleep", "3600"], mounts=mounts)
        container = await runtime.start_container(sandbox, spec)
        yield runtime, container.id, gateway, port
    finally:
        if transport is not None:
            transport.close()
        if runner is not None:
            await runner.cleanup()
        await runtime.cleanup_node()


@needs_root
async def test_wget_by_address_and_by_service_name(pod: tuple[RuncRuntime, str, str, int]) -> None:
    runtime, cid, gateway, port = pod
    by_address = await runtime.exec(cid, ["wget", "-qO-", f"http://{gateway}:{port}/"], timeout=30)
    assert (by_address.exit_code, by_address.stdout) == (0, BODY), by_address
    by_name = await runtime.exec(cid, ["wget", "-qO-", f"http://web:{port}/"], timeout=30)
    assert (by_name.exit_code, by_name.stdout) == (0, BODY), by_name


@needs_root
async def test_wget_timeout_flag(pod: tuple[RuncRuntime, str, str, int]) -> None:
    runtime, cid, gateway, port = pod
    quick = await runtime.exec(cid, ["wget", "-T", "5", "-qO-", f"http://web:{port}/"], timeout=30)
    assert (quick.exit_code, quick.stdout) == (0, BODY), quick
    slow = await runtime.exec(cid, ["wget", "-qT", "1", "-O", "-", f"http://{gateway}:{port}/slow"], timeout=30)
    assert slow.exit_code == 1 and b"download timed out" in slow.stderr, slow


@needs_root
async def test_nslookup_resolves_a_service(pod: tuple[RuncRuntime, str, str, int]) -> None:
    runtime, cid, gateway, _ = pod
    result = await runtime.exec(cid, ["nslookup", "web.default.svc.cluster.local"], timeout=30)
    assert result.exit_code == 0, result
    assert b"Name:\tweb.default.svc.cluster.local" in result.stdout and f"Address: {gateway}".encode() in result.stdout


@pytest.fixture
def wrapper(tmp_path: Path) -> Path:
    if not BUSYBOX.exists():
        pytest.skip("busybox-static comes from hack/install-system-packages.sh, which installs it only when root")
    path = tmp_path / "wget"
    path.write_bytes(WGET_WRAPPER)
    path.chmod(0o755)
    return path


@pytest.mark.parametrize("flags", [["-T", "5", "-q", "-O", "-"], ["-qT", "5", "-O-"], ["-qT5", "-O", "-"],
                                   ["--timeout=5", "-qO-"], ["-q", "-O", "-"]])
async def test_wrapper_takes_the_timeout_flag(wrapper: Path, flags: list[str]) -> None:
    port = free_port()
    runner = await http_server("127.0.0.1", port)
    try:
        proc = await asyncio.create_subprocess_exec(str(BUSYBOX), "sh", str(wrapper), *flags,
                                                    f"http://127.0.0.1:{port}/", stdout=subprocess.PIPE,
                                                    stderr=subprocess.PIPE)
        out, err = await asyncio.wait_for(proc.communicate(), 30)
    finally:
        await runner.cleanup()
    assert (proc.returncode, out) == (0, BODY), err


@pytest.mark.skipif(shutil.which("docker-registry") is None or not BUSYBOX.exists(),
                    reason="hack/install-system-packages.sh installs docker-registry and busybox-static only when root")
def test_seeding_replaces_an_older_busybox(registry: RegistryServer) -> None:
    """A data dir seeded before the wget fix gets today's image under the same tags."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo("etc/old")
        tar.addfile(info, io.BytesIO(b""))
    push_busybox(registry.host, "busybox", "seeded-1", layer=buffer.getvalue())
    assert seed_busybox(registry.host, ("seeded-1", "seeded-2")) == \
        [f"{registry.host}/busybox:seeded-1", f"{registry.host}/busybox:seeded-2"]
    assert seed_busybox(registry.host, ("seeded-1", "seeded-2")) == []
