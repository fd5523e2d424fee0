"""Services end to end: API server + endpoints controller + `kube-py proxy` in a private netns.

The proxy programs real iptables, so it only ever runs inside network namespaces this
module creates (prefix `kpt<random>`), never in the machine's own. The lab: a node netns
with a bridge (10.250.0.1/24), three backend netns each answering HTTP with its own name,
and a client netns standing in for another host. The proxy reaches the API server, which
listens on the root namespace's loopback, through a small relay whose listening socket
was opened inside the node netns. Every netns and process is removed even on failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from apimachinery.errors import StatusError
from kubeclient.rest import ApiClient
from kubelet.proxy.rules import ServicePort
from tests.fixtures.apiserver import ApiServerProcess, running_api_server
from tests.fixtures.wait import eventually

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not all(shutil.which(b) for b in ("ip", "iptables-restore", "iptables-save")),
    reason="needs root, iproute2 and iptables (network namespaces)")

REPO = Path(__file__).resolve().parents[2]
NODE_IP = "10.250.0.1"
BACKENDS = {"b1": "10.250.0.11", "b2": "10.250.0.12", "b3": "10.250.0.13"}
CLIENT_IP = "10.250.0.20"
BACKEND_PORT = 8080
CLONE_NEWNET = 0x40000000

SERVER = """
import http.server, socket, sys, threading
name = sys.argv[1].encode()
def udp():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("0.0.0.0", int(sys.argv[2])))
    while True:
        _, peer = sock.recvfrom(100)
        sock.sendto(name, peer)
threading.Thread(target=udp, daemon=True).start()
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = name + b" " + self.client_address[0].encode() if self.path == "/ip" else name
        self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(("0.0.0.0", int(sys.argv[2])), H).serve_forever()
"""

CLIENT = """
import json, sys, urllib.request
url, count = sys.argv[1], int(sys.argv[2])
seen = []
for _ in range(count):
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            seen.append(resp.read().decode())
    except Exception as exc:
        seen.append("error:" + type(exc).__name__)
print(json.dumps(seen))
"""

UDP_CLIENT = """
import json, socket, sys
target, port, source_port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
sock.bind(("0.0.0.0", source_port))
sock.settimeout(1)
seen = []
for _ in range(count):
    sock.sendto(b"ping", (target, port))
    try:
        seen.append(sock.recv(100).decode())
    except OSError as exc:
        seen.append("error:" + type(exc).__name__)
print(json.dumps(seen))
"""


def sh(*argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, check=check, timeout=30)


def listen_in_netns(netns: str) -> socket.socket:
    """A listening socket on 127.0.0.1 inside `netns`: setns is per thread, so a helper thread
    enters the namespace, opens the socket (which stays bound there) and exits."""
    made: dict[str, Any] = {}

    def enter_and_listen() -> None:
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            with open(f"/var/run/netns/{netns}") as handle:
                if libc.setns(handle.fileno(), CLONE_NEWNET) != 0:
                    raise OSError(ctypes.get_errno(), "setns")
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            sock.listen(64)
            made["sock"] = sock
        except OSError as exc:
            made["error"] = exc

    thread = threading.Thread(target=enter_and_listen)
    thread.start()
    thread.join()
    if "error" in made:
        raise made["error"]
    return made["sock"]


class Relay:
    """Forwards connections accepted inside the node netns to the API server in the root netns."""

    def __init__(self, listener: socket.socket, target: tuple[str, int]) -> None:
        self.listener = listener
        self.target = target
        self.port = listener.getsockname()[1]
        self.stopped = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.stopped:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                conn.close()
                continue
            for src, dst in ((conn, upstream), (upstream, conn)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self.stopped = True
        self.listener.close()


@dataclass
class Lab:
    prefix: str
    api: ApiServerProcess
    log_path: Path
    namespaces: list[str] = field(default_factory=list)
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    relay: Relay | None = None
    proxy: subprocess.Popen[bytes] | None = None

    @property
    def node(self) -> str:
        return f"{self.prefix}n"

    def netns(self, suffix: str) -> str:
        name = f"{self.prefix}{suffix}"
        sh("ip", "netns", "add", name)
        self.namespaces.append(name)
        sh("ip", "-n", name, "link", "set", "lo", "up")
        return name

    def attach(self, suffix: str, ip: str) -> str:
        name = self.netns(suffix)
        sh("ip", "-n", self.node, "link", "add", f"v{suffix}", "type", "veth", "peer", "name", "eth0", "netns", name)
        sh("ip", "-n", self.node, "link", "set", f"v{suffix}", "master", "kpbr0", "up")
        sh("ip", "-n", name, "addr", "add", f"{ip}/24", "dev", "eth0")
        sh("ip", "-n", name, "link", "set", "eth0", "up")
        sh("ip", "-n", name, "route", "add", "default", "via", NODE_IP)
        return name

    def build(self) -> None:
        node = self.netns("n")
        sh("ip", "netns", "exec", node, "sysctl", "-qw", "net.ipv4.ip_forward=1")
        sh("ip", "-n", node, "link", "add", "kpbr0", "type", "bridge")
        sh("ip", "-n", node, "addr", "add", f"{NODE_IP}/24", "dev", "kpbr0")
        sh("ip", "-n", node, "link", "set", "kpbr0", "up")
        sh("ip", "-n", node, "route", "add", "default", "dev", "kpbr0")
        for name, ip in BACKENDS.items():
            backend = self.attach(name, ip)
            self.procs.append(subprocess.Popen(
                ["ip", "netns", "exec", backend, sys.executable, "-c", SERVER, name, str(BACKEND_PORT)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        self.attach("c", CLIENT_IP)
        self.relay = Relay(listen_in_netns(node), ("127.0.0.1", self.api.port))

    def start_proxy(self) -> None:
        assert self.relay is not None
        log = self.log_path.open("ab")
        self.proxy = subprocess.Popen(
            ["ip", "netns", "exec", self.node, sys.executable, "-m", "kubepy.cli", "-v", "proxy",
             "--server", f"http://127.0.0.1:{self.relay.port}", "--node-name", "node-1", "--sync-period", "5"],
            stdout=log, stderr=subprocess.STDOUT, cwd=REPO, env={**os.environ, "PYTHONUNBUFFERED": "1"})

    def teardown(self) -> None:
        for proc in [self.proxy, *self.procs]:
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=5)
        if self.relay is not None:
            self.relay.close()
        for name in reversed(self.namespaces):
            sh("ip", "netns", "del", name, check=False)

    def nat_rules(self) -> str:
        return sh("ip", "netns", "exec", self.node, "iptables-save", "-t", "nat").stdout

    async def udp(self, ip: str, port: int, source_port: int, count: int) -> list[str]:
        """`count` datagrams from the client netns, all from one source port (one conntrack flow)."""
        proc = await asyncio.create_subprocess_exec(
            "ip", "netns", "exec", f"{self.prefix}c", sys.executable, "-c", UDP_CLIENT, ip, str(port),
            str(source_port), str(count), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(proc.communicate(), 120)
        assert proc.returncode == 0, err.decode()
        return json.loads(out)

    async def fetch(self, url: str, count: int, netns: str = "") -> list[str]:
        """`count` fresh connections to `url` from the node netns (or `netns`), answers in order."""
        proc = await asyncio.create_subprocess_exec(
            "ip", "netns", "exec", netns or self.node, sys.executable, "-c", CLIENT, url, str(count),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(proc.communicate(), 120)
        assert proc.returncode == 0, err.decode()
        return json.loads(out)


@pytest.fixture(scope="module")
def api_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServerProcess]:
    yield from running_api_server(tmp_path_factory.mktemp("services-api"))


@pytest.fixture(scope="module")
def lab(api_server: ApiServerProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    lab = Lab(f"kpt{uuid.uuid4().hex[:6]}", api_server, tmp_path_factory.mktemp("proxy") / "proxy.log")
    try:
        lab.build()
        lab.start_proxy()
        yield lab
    finally:
        lab.teardown()
        leftovers = [n for n in sh("ip", "netns", "list").stdout.split() if n.startswith(lab.prefix)]
        assert not leftovers, f"netns left behind: {leftovers}"
    log = lab.log_path.read_text(errors="replace") if lab.log_path.exists() else ""
    assert "proxy sync failed" not in log, log[-4000:]


@pytest.fixture
async def client(api_server: ApiServerProcess) -> AsyncIterator[ApiClient]:
    async with ApiClient(api_server.url) as api:
        yield api


@pytest.fixture
async def namespace(client: ApiClient) -> str:
    name = f"s-{uuid.uuid4().hex[:8]}"
    await client.create("namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    return name


@pytest.fixture
async def endpoints_controller(client: ApiClient) -> AsyncIterator[None]:
    """The controllers the proxy depends on: EndpointSlices from pods (whose node must be known)
    and mirrored from hand-made Endpoints, plus Endpoints for `get ep`."""
    from controllers.manager import run_controller_manager

    for node in ("node-1", "node-2"):  # the proxy runs as node-1; node-2 is another node's pods
        try:
            await client.create("nodes", {"apiVersion": "v1", "kind": "Node", "metadata": {"name": node}})
        except StatusError as exc:
            if exc.code != 409:
                raise
    stop = asyncio.Event()
    task = asyncio.create_task(run_controller_manager(
        client, ["endpoints", "endpointslice", "endpointslicemirroring"], leader_elect=False, stop=stop))
    yield
    stop.set()
    await asyncio.wait_for(asyncio.gather(task, return_exceptions=True), 30)


# ---- helpers ---------------------------------------------------------------------------


async def make_pod(client: ApiClient, namespace: str, name: str, *, port_name: str = "http",
                   labels: dict[str, str] | None = None, node: str = "node-1") -> None:
    pod = {"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": name, "labels": labels or {"app": "web"}},
           "spec": {"nodeName": node, "containers": [{
               "name": "web", "image": "busybox",
               "ports": [{"name": port_name, "containerPort": BACKEND_PORT, "protocol": "TCP"}]}]}}
    await client.create("pods", pod, namespace)
    await set_ready(client, namespace, name, True)


async def set_ready(client: ApiClient, namespace: str, name: str, ready: bool) -> None:
    status = "True" if ready else "False"
    ip = BACKENDS[name]
    patch = {"status": {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}],
                        "conditions": [{"type": "Ready", "status": status},
                                       {"type": "ContainersReady", "status": status}]}}
    await client.patch("pods", name, patch, namespace, patch_type="merge", subresource="status")


async def make_service(client: ApiClient, namespace: str, name: str, *, kind: str = "ClusterIP",
                       target_port: int | str = "http", selector: dict[str, str] | None = None,
                       node_port: int = 0, **spec: Any) -> dict[str, Any]:
    port: dict[str, Any] = {"name": "http", "port": 80, "targetPort": target_port, "protocol": "TCP"}
    if node_port:
        port["nodePort"] = node_port
    body: dict[str, Any] = {"type": kind, "ports": [port], **spec}
    if selector is not None:
        body["selector"] = selector
    return await client.create("services", {"apiVersion": "v1", "kind": "Service",
                                            "metadata": {"name": name}, "spec": body}, namespace)


def chain_of(service: dict[str, Any]) -> str:
    meta, spec = service["metadata"], service["spec"]
    return ServicePort(meta["namespace"], meta["name"], "http", "TCP", spec["clusterIP"], 80).svc_chain


async def wait_for_backends(lab: Lab, url: str, expected: set[str], netns: str = "") -> list[str]:
    """Wait until the proxy serves exactly `expected` (the rules follow the API asynchronously)."""
    answers: list[str] = []

    async def settled() -> bool:
        nonlocal answers
        answers = await lab.fetch(url, 12, netns)
        return set(answers) <= expected and not any(a.startswith("error") for a in answers)

    await eventually(settled, 20, f"{url} served only by {sorted(expected)}")
    return answers


# ---- tests -----------------------------------------------------------------------------


async def test_cluster_ip_balances_over_ready_pods_and_follows_readiness(
        lab: Lab, client: ApiClient, namespace: str, endpoints_controller: None) -> None:
    for name in BACKENDS:
        await make_pod(client, namespace, name)
    svc = await make_service(client, namespace, "web", selector={"app": "web"})
    url = f"http://{svc['spec']['clusterIP']}/"
    await wait_for_backends(lab, url, set(BACKENDS))

    seen = Counter(await lab.fetch(url, 60))
    assert set(seen) == set(BACKENDS), seen  # all three, no errors

    from_client = Counter(await lab.fetch(url, 15, f"{lab.prefix}c"))  # another host's traffic: PREROUTING
    assert set(from_client) <= set(BACKENDS) and sum(from_client.values()) == 15, from_client

    await set_ready(client, namespace, "b2", False)

    async def b2_not_ready() -> bool:
        ep = await client.get("endpoints", "web", namespace)
        not_ready = [a["ip"] for s in ep.get("subsets") or [] for a in s.get("notReadyAddresses") or []]
        return not_ready == [BACKENDS["b2"]]

    await eventually(b2_not_ready, 5, "b2 in notReadyAddresses")
    loop = asyncio.get_running_loop()
    started = loop.time()
    await wait_for_backends(lab, url, {"b1", "b3"})
    assert loop.time() - started < 5
    assert "b2" not in await lab.fetch(url, 30)

    await set_ready(client, namespace, "b2", True)
    await eventually(lambda: _serves(lab, url, "b2"), 10, "b2 back in rotation")

    chain = chain_of(svc)
    assert f":{chain} " in lab.nat_rules()
    await client.delete("services", "web", namespace)

    async def chains_gone() -> bool:
        return chain not in lab.nat_rules() and f"{namespace}/web" not in lab.nat_rules()

    await eventually(chains_gone, 10, "service chains removed")
    assert ":KP-SEP-" not in lab.nat_rules()


async def _serves(lab: Lab, url: str, backend: str) -> bool:
    return backend in await lab.fetch(url, 20)


async def test_node_port_answers_on_node_address(lab: Lab, client: ApiClient, namespace: str,
                                                 endpoints_controller: None) -> None:
    for name in BACKENDS:
        await make_pod(client, namespace, name)
    svc = await make_service(client, namespace, "np", kind="NodePort", selector={"app": "web"}, node_port=31080)
    assert svc["spec"]["ports"][0]["nodePort"] == 31080
    url = f"http://{NODE_IP}:31080/"
    await wait_for_backends(lab, url, set(BACKENDS))
    assert set(await lab.fetch(url, 45)) == set(BACKENDS)
    from_client = await lab.fetch(url, 30, f"{lab.prefix}c")
    assert set(from_client) == set(BACKENDS), from_client
    await client.delete("services", "np", namespace)
    await eventually(lambda: _nat_lacks(lab, "--dport 31080"), 10, "nodeport rule removed")


async def _nat_lacks(lab: Lab, text: str) -> bool:
    return text not in lab.nat_rules()


async def test_client_ip_affinity_sticks_to_one_backend(lab: Lab, client: ApiClient, namespace: str,
                                                        endpoints_controller: None) -> None:
    for name in BACKENDS:
        await make_pod(client, namespace, name)
    svc = await make_service(client, namespace, "sticky", selector={"app": "web"}, sessionAffinity="ClientIP")
    assert svc["spec"]["sessionAffinityConfig"] == {"clientIP": {"timeoutSeconds": 10800}}
    url = f"http://{svc['spec']['clusterIP']}/"
    await wait_for_backends(lab, url, set(BACKENDS))
    assert len(set(await lab.fetch(url, 20))) == 1


async def test_named_target_port_missing_on_a_pod_leaves_it_out(lab: Lab, client: ApiClient, namespace: str,
                                                                endpoints_controller: None) -> None:
    await make_pod(client, namespace, "b1")
    await make_pod(client, namespace, "b2")
    await make_pod(client, namespace, "b3", port_name="other")
    svc = await make_service(client, namespace, "named", selector={"app": "web"}, target_port="http")

    async def two_addresses() -> bool:
        try:
            ep = await client.get("endpoints", "named", namespace)
        except StatusError:
            return False
        ips = sorted(a["ip"] for s in ep.get("subsets") or [] for a in s.get("addresses") or [])
        ports = [p["port"] for s in ep.get("subsets") or [] for p in s["ports"]]
        return ips == [BACKENDS["b1"], BACKENDS["b2"]] and ports == [BACKEND_PORT]

    await eventually(two_addresses, 10, "endpoints without b3")
    url = f"http://{svc['spec']['clusterIP']}/"
    await wait_for_backends(lab, url, {"b1", "b2"})
    assert set(await lab.fetch(url, 30)) == {"b1", "b2"}


async def test_selectorless_service_with_manual_endpoints(lab: Lab, client: ApiClient, namespace: str,
                                                          endpoints_controller: None) -> None:
    svc = await make_service(client, namespace, "manual", target_port=BACKEND_PORT)
    endpoints = {"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "manual"},
                 "subsets": [{"addresses": [{"ip": BACKENDS["b3"]}],
                              "ports": [{"name": "http", "port": BACKEND_PORT, "protocol": "TCP"}]}]}
    created = await client.create("endpoints", endpoints, namespace)
    url = f"http://{svc['spec']['clusterIP']}/"
    await wait_for_backends(lab, url, {"b3"})
    # Touch the Service so the endpoints controller syncs it; the hand-made Endpoints must survive.
    await client.patch("services", "manual", {"metadata": {"labels": {"touched": "yes"}}}, namespace)
    await asyncio.sleep(1.0)
    current = await client.get("endpoints", "manual", namespace)
    assert current["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]
    assert current["subsets"] == created["subsets"]
    assert set(await lab.fetch(url, 10)) == {"b3"}


async def test_headless_and_external_name_get_no_rules(lab: Lab, client: ApiClient, namespace: str,
                                                       endpoints_controller: None) -> None:
    await make_pod(client, namespace, "b1")
    headless = await make_service(client, namespace, "hl", selector={"app": "web"}, clusterIP="None")
    assert headless["spec"]["clusterIP"] == "None"
    external = await client.create("services", {
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": "ext"},
        "spec": {"type": "ExternalName", "externalName": "example.com"}}, namespace)
    assert "clusterIP" not in external["spec"]
    with pytest.raises(StatusError) as missing:
        await client.create("services", {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "ext2"},
                                         "spec": {"type": "ExternalName"}}, namespace)
    assert missing.value.code == 422 and "spec.externalName: Required value" in str(missing.value)

    async def headless_endpoints() -> bool:
        try:
            ep = await client.get("endpoints", "hl", namespace)
        except StatusError:
            return False
        return [a["ip"] for s in ep.get("subsets") or [] for a in s.get("addresses") or []] == [BACKENDS["b1"]]

    await eventually(headless_endpoints, 10, "headless endpoints")
    await make_service(client, namespace, "marker", selector={"app": "web"})
    await eventually(lambda: _nat_has(lab, f"{namespace}/marker"), 10, "marker service programmed")
    rules = lab.nat_rules()
    assert f"{namespace}/hl" not in rules and f"{namespace}/ext" not in rules


async def _nat_has(lab: Lab, text: str) -> bool:
    return text in lab.nat_rules()


async def test_duplicate_node_port_is_422(client: ApiClient, namespace: str) -> None:
    await make_service(client, namespace, "first", kind="NodePort", selector={"app": "x"}, node_port=30080)
    with pytest.raises(StatusError) as dup:
        await make_service(client, namespace, "second", kind="NodePort", selector={"app": "x"}, node_port=30080)
    assert dup.value.code == 422
    assert str(dup.value) == ('Service "second" is invalid: spec.ports[0].nodePort: Invalid value: 30080: '
                              "provided port is already allocated")

    results = await asyncio.gather(*(make_service(client, namespace, f"race{i}", kind="NodePort",
                                                  selector={"app": "x"}, node_port=30090) for i in range(5)),
                                   return_exceptions=True)
    assert sum(isinstance(r, dict) for r in results) == 1
    assert all(r.code == 422 for r in results if isinstance(r, StatusError))

    await client.delete("services", "first", namespace)
    again = await make_service(client, namespace, "third", kind="NodePort", selector={"app": "x"}, node_port=30080)
    assert again["spec"]["ports"][0]["nodePort"] == 30080


async def test_cluster_ip_requests_and_type_changes(client: ApiClient, namespace: str) -> None:
    await make_service(client, namespace, "fixed", selector={"app": "x"}, clusterIP="10.96.7.7")
    with pytest.raises(StatusError) as taken:
        await make_service(client, namespace, "fixed2", selector={"app": "x"}, clusterIP="10.96.7.7")
    assert taken.value.code == 422
    assert "spec.clusterIPs: Invalid value: [\"10.96.7.7\"]: failed to allocate IP 10.96.7.7: provided IP is " \
           "already allocated" in str(taken.value)
    with pytest.raises(StatusError) as outside:
        await make_service(client, namespace, "fixed3", selector={"app": "x"}, clusterIP="192.168.0.1")
    assert outside.value.code == 422 and "not in the valid range" in str(outside.value)

    svc = await make_service(client, namespace, "grow", selector={"app": "x"})
    svc["spec"]["type"] = "NodePort"
    grown = await client.update("services", svc, namespace)
    assert 30000 <= grown["spec"]["ports"][0]["nodePort"] <= 32767
    grown["spec"]["type"] = "ClusterIP"
    shrunk = await client.update("services", grown, namespace)
    assert "nodePort" not in shrunk["spec"]["ports"][0]


async def test_terminating_pods_take_traffic_only_when_none_is_ready(
        lab: Lab, client: ApiClient, namespace: str, endpoints_controller: None) -> None:
    """KEP-1669 as kube-proxy does it: a terminating pod still serving leaves the rotation while
    another pod is ready, and drains the traffic when it is the last one left."""
    for name in ("b1", "b2"):
        await make_pod(client, namespace, name, labels={"app": "drain"})
    svc = await make_service(client, namespace, "drain", selector={"app": "drain"})
    url = f"http://{svc['spec']['clusterIP']}/"
    await wait_for_backends(lab, url, {"b1", "b2"})
    # No kubelet runs here, so a graceful delete leaves the pods terminating (and still ready).
    await client.delete("pods", "b1", namespace, grace_period_seconds=600)
    await wait_for_backends(lab, url, {"b2"})
    await client.delete("pods", "b2", namespace, grace_period_seconds=600)
    # b1 answers again only through the fallback: nothing is ready, both serve while terminating.
    await eventually(lambda: _serves(lab, url, "b1"), 20, "terminating b1 back in rotation")
    answers = await lab.fetch(url, 20)
    assert set(answers) <= {"b1", "b2"}, answers  # served, never rejected
    await set_ready(client, namespace, "b1", False)  # a terminating pod that stops serving drops out
    await wait_for_backends(lab, url, {"b2"})


async def test_udp_flows_to_a_removed_endpoint_are_flushed(
        lab: Lab, client: ApiClient, namespace: str, endpoints_controller: None) -> None:
    """A UDP client that keeps its source port keeps its conntrack flow; when its endpoint
    leaves, the proxy deletes the flow so the next datagram is balanced again."""
    for name in ("b1", "b2"):
        await make_pod(client, namespace, name, labels={"app": "udp"})
    svc = await client.create("services", {
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": "udp"},
        "spec": {"selector": {"app": "udp"},
                 "ports": [{"name": "dns", "port": 53, "targetPort": BACKEND_PORT, "protocol": "UDP"}]}}, namespace)
    ip = svc["spec"]["clusterIP"]

    async def answered() -> bool:
        return all(a in ("b1", "b2") for a in await lab.udp(ip, 53, 40053, 3))
    await eventually(answered, 20, "UDP service answering")
    first = (await lab.udp(ip, 53, 40053, 5))
    assert len(set(first)) == 1, first  # one flow, one backend
    sticky = first[0]
    other = "b2" if sticky == "b1" else "b1"

    await set_ready(client, namespace, sticky, False)

    async def moved() -> bool:
        return (await lab.udp(ip, 53, 40053, 1)) == [other]
    # Without the flush the flow would keep reaching the (still running) removed backend.
    await eventually(moved, 20, f"the flow leaves {sticky} for {other}")
    assert set(await lab.udp(ip, 53, 40053, 5)) == {other}


async def test_local_traffic_policies(lab: Lab, client: ApiClient, namespace: str,
                                     endpoints_controller: None) -> None:
    """internalTrafficPolicy/externalTrafficPolicy Local: only this node's endpoints (b1, b2 on
    node-1; b3 is on node-2), the client's own address kept on NodePorts, DROP without any."""
    for name, node in (("b1", "node-1"), ("b2", "node-1"), ("b3", "node-2")):
        await make_pod(client, namespace, name, labels={"app": "pol", "node": node}, node=node)
    internal = await make_service(client, namespace, "itp", selector={"app": "pol"}, internalTrafficPolicy="Local")
    url = f"http://{internal['spec']['clusterIP']}/"
    await wait_for_backends(lab, url, {"b1", "b2"})
    assert set(await lab.fetch(url, 30)) == {"b1", "b2"}

    external = await make_service(client, namespace, "etp", kind="NodePort", selector={"app": "pol"},
                                  externalTrafficPolicy="Local")
    node_port = external["spec"]["ports"][0]["nodePort"]
    node_url = f"http://{NODE_IP}:{node_port}/ip"
    answers = await wait_for_backends(lab, node_url, {f"b1 {CLIENT_IP}", f"b2 {CLIENT_IP}"}, f"{lab.prefix}c")
    assert answers, "the NodePort answered from this node's endpoints with the client's own address"
    cluster_ip_url = f"http://{external['spec']['clusterIP']}/"
    await eventually(lambda: _serves(lab, cluster_ip_url, "b3"), 20, "the ClusterIP still reaches b3")

    away = await make_service(client, namespace, "away", selector={"app": "pol", "node": "node-2"},
                              internalTrafficPolicy="Local")

    async def dropped() -> bool:
        return f"{namespace}/away:http has no local endpoints" in sh("ip", "netns", "exec", lab.node, "iptables-save",
                                                                 "-t", "filter").stdout
    await eventually(dropped, 20, "a DROP for the service without local endpoints")
    assert all(a.startswith("error") for a in await lab.fetch(f"http://{away['spec']['clusterIP']}/", 2))


async def test_kubelet_runs_the_proxy_and_cleanup_on_exit(lab: Lab, client: ApiClient, namespace: str,
                                                          tmp_path: Path, endpoints_controller: None) -> None:
    """`kube-py kubelet --proxy` programs its netns; `kube-py proxy --cleanup-on-exit` leaves none behind."""
    svc = await make_service(client, namespace, "kl", target_port=BACKEND_PORT)
    await client.create("endpoints", {"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "kl"},
                                      "subsets": [{"addresses": [{"ip": BACKENDS["b1"]}],
                                                   "ports": [{"name": "http", "port": BACKEND_PORT}]}]}, namespace)
    host = lab.netns("k")
    relay = Relay(listen_in_netns(host), ("127.0.0.1", lab.api.port))
    server = f"http://127.0.0.1:{relay.port}"
    chain = chain_of(svc)

    def saved() -> str:
        return sh("ip", "netns", "exec", host, "iptables-save").stdout

    log_path = tmp_path / "agent.log"
    agents: list[asyncio.subprocess.Process] = []

    async def run_until_synced(*argv: str) -> asyncio.subprocess.Process:
        with log_path.open("ab") as log:
            proc = await asyncio.create_subprocess_exec(
                "ip", "netns", "exec", host, sys.executable, "-m", "kubepy.cli", "-v", *argv, "--server", server,
                stdout=log, stderr=subprocess.STDOUT, cwd=REPO)
        agents.append(proc)

        async def synced() -> bool:
            assert proc.returncode is None, log_path.read_text()
            return "proxy rules synced" in log_path.read_text() and f":{chain} " in saved()

        await eventually(synced, 20, f"{argv[0]} programmed {chain}")
        return proc

    async def stop(proc: asyncio.subprocess.Process) -> int:
        proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(proc.wait(), 20)
        log_path.write_text("")
        return code

    try:
        kubelet = await run_until_synced("kubelet", "--node-name", f"{lab.prefix}-k", "--driver", "fake",
                                         "--proxy", "--data-dir", str(tmp_path / "data"))
        assert await stop(kubelet) == 0
        assert f":{chain} " in saved()  # a plain stop keeps the rules, as kube-proxy does
        proxy = await run_until_synced("proxy", "--cleanup-on-exit")
        assert await stop(proxy) == 0
        assert "KP-" not in saved()
    finally:
        for proc in agents:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        relay.close()
