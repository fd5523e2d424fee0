"""`kube-py cluster up|down|status|stop-host|start-host|cut-host|heal-host`: a multi-host
test cluster on one machine, each host a network namespace (machine-notes §7, §11).

Control-plane hosts run an etcd member (three of them make a real 3-member cluster), an
API server on that etcd, and a controller-manager and a scheduler behind leader election;
worker hosts run one kubelet each with its own pod CIDR, routed host to host. Everything
is recorded in the ledger (`state.py`) before the next step, so `down` undoes it all.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kubepy.cluster import hostnet, processes
from kubepy.cluster.state import (
    API_PORT,
    ETCD_CLIENT_PORT,
    ETCD_PEER_PORT,
    KUBELET_PORT,
    REGISTRY_PORT,
    STATE_FILE,
    ClusterState,
    Component,
    Host,
    load_state,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
READY_TIMEOUT = 120.0


def kube_py(*args: str) -> list[str]:
    return [sys.executable, "-m", "kubepy.cli", *args]


def http_json(url: str, timeout: float = 2.0) -> Any:
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        return json.loads(resp.read() or b"null")


def http_ok(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status == 200
    except OSError:
        return False


def wait_for(check: Callable[[], bool], what: str, timeout: float = READY_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise RuntimeError(f"{what} not reached within {timeout:.0f}s (logs in the data dir's logs/)")


# ---- layout -------------------------------------------------------------------------


def plan_hosts(prefix: str, index: int, control_planes: int, workers: int) -> list[Host]:
    names = [(f"cp{i}", "control-plane", f"10.88.{index}.{10 + i}") for i in range(1, control_planes + 1)]
    names += [(f"node{i}", "worker", f"10.88.{index}.{100 + i}") for i in range(1, workers + 1)]
    hosts = []
    for name, role, address in names:
        pod_cidr = f"10.{128 + index}.{int(address.rsplit('.', 1)[1]) - 100}.0/24" if role == "worker" else ""
        hosts.append(Host(name=name, role=role, netns=f"{prefix}-{name}", veth=f"{prefix}{name}"[:15],
                          address=address, pod_cidr=pod_cidr))
    return hosts


def host_dir(state: ClusterState, host: Host) -> Path:
    return Path(state.data_dir) / "hosts" / host.name


def log_path(state: ClusterState, host_name: str, component: str) -> Path:
    return Path(state.data_dir) / "logs" / f"{host_name}-{component}.log"


def control_plane_components(state: ClusterState, host: Host, grace: float | None) -> list[Component]:
    cps = state.control_planes()
    folder = host_dir(state, host)
    initial = ",".join(f"{h.name}=http://{h.address}:{ETCD_PEER_PORT}" for h in cps)
    own = f"http://{host.address}"
    etcd = ["etcd", "--name", host.name, "--data-dir", str(folder / "etcd"),
            "--listen-client-urls", f"{own}:{ETCD_CLIENT_PORT}", "--advertise-client-urls", f"{own}:{ETCD_CLIENT_PORT}",
            "--listen-peer-urls", f"{own}:{ETCD_PEER_PORT}", "--initial-advertise-peer-urls", f"{own}:{ETCD_PEER_PORT}",
            "--initial-cluster", initial, "--initial-cluster-state", "new", "--initial-cluster-token", state.prefix]
    # The local member first: each API server prefers its own host's etcd, like kubeadm's stacked etcd.
    endpoints = [host] + [h for h in cps if h is not host]
    storage = "etcd://" + ",".join(f"{h.address}:{ETCD_CLIENT_PORT}" for h in endpoints)
    server = f"{own}:{API_PORT}"
    cm = kube_py("controller-manager", "--server", server, "--cluster-cidr", state.cluster_cidr)
    if grace is not None:
        cm += ["--node-monitor-grace-period", str(grace)]
    return [
        Component("etcd", etcd),
        Component("apiserver", kube_py("apiserver", "--storage", storage, "--bind-address", host.address,
                                       "--port", str(API_PORT), "--data-dir", str(folder))),
        Component("controller-manager", cm),
        Component("scheduler", kube_py("scheduler", "--server", server)),
    ]


def worker_components(state: ClusterState, host: Host) -> list[Component]:
    argv = kube_py("kubelet", "--server", state.server, "--node-name", host.name, "--driver", state.driver,
                   "--node-ip", host.address, "--port", str(KUBELET_PORT), "--pod-cidr", host.pod_cidr,
                   "--data-dir", str(host_dir(state, host)), "--proxy", "--dns")
    if state.registry:
        argv += ["--registry", state.registry]
    if any(c.name == "registry" for c in state.root_components):  # the plain-HTTP one start_registry ran
        argv += ["--insecure-registry", state.registry]
    return [Component("kubelet", argv)]


# ---- starting and stopping host processes -----------------------------------------------


def start_component(state: ClusterState, host: Host, component: Component) -> None:
    if processes.alive(component.pid, component.argv):
        return
    component.pid = processes.spawn(component.argv, log_path(state, host.name, component.name), netns=host.netns,
                                    hostname=host.name, env={"PYTHONPATH": str(REPO_ROOT)})
    state.save()


def pod_netns_inodes(state: ClusterState, host: Host) -> set[int]:
    """The namespaces of the pods this host's kubelet made (their names carry its prefix)."""
    if host.role != "worker":
        return set()
    from kubelet.network import PodNetwork

    network_dir = host_dir(state, host) / "kubelet" / host.name / "network"
    prefix = PodNetwork(host.name, host.pod_cidr, network_dir).prefix
    return {i for n in hostnet.netns_names(f"{prefix}-") if (i := processes.netns_inode(n)) is not None}


def host_pids(state: ClusterState, host: Host) -> list[int]:
    recorded = [c.pid for c in host.components if processes.alive(c.pid, c.argv)]
    inodes = pod_netns_inodes(state, host)
    if (own := processes.netns_inode(host.netns)) is not None:
        inodes.add(own)
    return sorted(set(recorded) | set(processes.pids_in_netns(inodes)))


def stop_host(state: ClusterState, host: Host, component: str = "") -> list[str]:
    """Kill the host's processes (or one component) with SIGKILL, as a power cut would."""
    if component:
        chosen = host.component(component)
        if chosen is None:
            raise ValueError(f'host {host.name} runs no "{component}" '
                             f'(it runs: {", ".join(c.name for c in host.components)})')
        processes.kill_all([chosen.pid] if processes.alive(chosen.pid, chosen.argv) else [])
        return [component]
    processes.kill_all(host_pids(state, host))
    host.stopped = True
    state.save()
    return [c.name for c in host.components]


def start_host(state: ClusterState, host: Host, component: str = "") -> list[str]:
    chosen = [c for c in host.components if not component or c.name == component]
    if component and not chosen:
        raise ValueError(f'host {host.name} runs no "{component}"')
    for c in chosen:
        start_component(state, host, c)
    host.stopped = False
    state.save()
    return [c.name for c in chosen]


# ---- up -------------------------------------------------------------------------------


def default_driver() -> str:
    return "runc" if shutil.which("runc") else "process"


def preflight(driver: str) -> None:
    """Every program the cluster runs, checked before anything is made."""
    needed = ["ip", "nsenter", "unshare", "etcd", "iptables-restore"] + (["runc"] if driver == "runc" else [])
    missing = [name for name in needed if shutil.which(name) is None]
    if missing:
        raise ValueError(f"kube-py cluster needs {', '.join(missing)} (hack/install-system-packages.sh installs "
                         "them as root)")


def cluster_up(data_dir: Path, workers: int, control_planes: int, driver: str, registry: str,
               grace: float | None, out: Callable[[str], None] = print) -> ClusterState:
    if (data_dir / STATE_FILE).exists():
        raise ValueError(f"a cluster is already recorded in {data_dir}; run `kube-py cluster down` first")
    if control_planes not in (1, 3):
        raise ValueError("--control-planes must be 1 or 3")
    if workers < 1:
        raise ValueError("--nodes must be at least 1")
    preflight(driver or default_driver())
    data_dir.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(data_dir / "hosts", ignore_errors=True)
    index = hostnet.pick_subnet_index(set())
    prefix = f"kc{secrets.token_hex(2)}"
    state = ClusterState(prefix=prefix, data_dir=str(data_dir.resolve()), bridge=f"{prefix}br",
                         subnet=f"10.88.{index}.0/24", gateway=f"10.88.{index}.1",
                         cluster_cidr=f"10.{128 + index}.0.0/16", driver=driver or default_driver())
    state.hosts = plan_hosts(prefix, index, control_planes, workers)
    state.save()
    started = time.monotonic()
    try:
        build_network(state)
        start_registry(state, registry)
        start_control_plane(state, grace)
        start_workers(state)
    except BaseException:
        out("cluster up failed; removing what was made")
        cluster_down(state, out=lambda _line: None)
        raise
    from kubepy.cli import write_kubeconfig

    write_kubeconfig(data_dir / "kubeconfig", state.server)
    out(f"cluster {prefix} is up in {time.monotonic() - started:.1f}s: {control_planes} control-plane "
        f"host(s), {workers} worker(s), {state.driver} driver, API server {state.server}")
    out(f"  kubectl --kubeconfig {data_dir / 'kubeconfig'} get nodes")
    if state.registry:
        out(f"  image registry {state.registry} (push images there; `busybox:1.36` means {state.registry}/busybox:1.36)")
    return state


def build_network(state: ClusterState) -> None:
    hostnet.create_bridge(state.bridge, f"{state.gateway}/24")
    state.bridge_created = True
    state.save()
    for host in state.hosts:
        hostnet.create_host_netns(host.netns, host.veth, state.bridge, f"{host.address}/24", state.gateway)
    for host in state.workers():
        state.root_routes.append(host.pod_cidr)
        state.save()
        hostnet.add_route(host.pod_cidr, host.address)
        for other in state.hosts:
            if other is not host:
                hostnet.add_route(host.pod_cidr, host.address, netns=other.netns)


def start_registry(state: ClusterState, registry: str) -> None:
    if registry:
        state.registry = registry
        state.save()
        return
    if shutil.which("docker-registry") is None:
        return
    from kubepy import registry as images

    address = f"{state.gateway}:{REGISTRY_PORT}"
    component = Component("registry", images.registry_argv(Path(state.data_dir) / "registry", address))
    component.pid = processes.spawn(component.argv, log_path(state, "root", "registry"))
    state.root_components.append(component)
    state.registry = address
    state.save()
    wait_for(lambda: images.wait_until_serving(address, 1.0), "the image registry answering")
    images.seed_busybox(address)


def start_control_plane(state: ClusterState, grace: float | None) -> None:
    cps = state.control_planes()
    for host in cps:
        host.components = control_plane_components(state, host, grace)
        state.save()
        start_component(state, host, host.components[0])  # etcd members first: they wait for each other
    for host in cps:
        wait_for(lambda h=host: etcd_healthy(h), f"etcd on {host.name} healthy")
    for host in cps:
        start_component(state, host, host.component("apiserver"))  # type: ignore[arg-type]
    for host in cps:
        wait_for(lambda h=host: http_ok(f"http://{h.address}:{API_PORT}/readyz"), f"the API server on {host.name}")
        for name in ("controller-manager", "scheduler"):
            start_component(state, host, host.component(name))  # type: ignore[arg-type]


def start_workers(state: ClusterState) -> None:
    for host in state.workers():
        host.components = worker_components(state, host)
        start_component(state, host, host.components[0])
    wait_for(lambda: len(ready_nodes(state)) == len(state.workers()), f"{len(state.workers())} nodes Ready")


def etcd_healthy(host: Host) -> bool:
    try:
        return str(http_json(f"http://{host.address}:{ETCD_CLIENT_PORT}/health").get("health")) == "true"
    except (OSError, ValueError, AttributeError):
        return False


def ready_nodes(state: ClusterState) -> set[str]:
    for cp in state.control_planes():
        try:
            nodes = http_json(f"http://{cp.address}:{API_PORT}/api/v1/nodes")
        except (OSError, ValueError):
            continue
        return {n["metadata"]["name"] for n in nodes.get("items") or []
                if any(c.get("type") == "Ready" and c.get("status") == "True"
                       for c in (n.get("status") or {}).get("conditions") or [])}
    return set()


# ---- down -------------------------------------------------------------------------------


def cluster_down(state: ClusterState, out: Callable[[str], None] = print) -> None:
    """Undo everything in the ledger, in reverse: processes, containers, namespaces, routes,
    the bridge. Every step tolerates what is already gone."""
    for host in state.hosts:
        processes.kill_all(host_pids(state, host))
    processes.kill_all([c.pid for c in state.root_components if processes.alive(c.pid, c.argv)])
    for host in state.workers():
        cleanup_worker_runtime(state, host)
    for destination in state.root_routes:
        hostnet.del_route(destination)
    for host in state.hosts:
        hostnet.delete_netns(host.netns)
        hostnet.delete_link(host.veth)
    for name in hostnet.netns_names(f"{state.prefix}-"):
        hostnet.delete_netns(name)
    if state.bridge_created:
        hostnet.delete_link(state.bridge)
    unmount_under(Path(state.data_dir))
    shutil.rmtree(Path(state.data_dir) / "hosts", ignore_errors=True)
    shutil.rmtree(Path(state.data_dir) / "registry", ignore_errors=True)
    (Path(state.data_dir) / "kubeconfig").unlink(missing_ok=True)
    state.path.unlink(missing_ok=True)
    out(f"cluster {state.prefix} is down: processes, namespaces, links, routes and mounts removed "
        f"(logs kept in {Path(state.data_dir) / 'logs'})")


def cleanup_worker_runtime(state: ClusterState, host: Host) -> None:
    """Containers, overlay mounts, cgroups and pod namespaces left by a runc kubelet."""
    if state.driver != "runc":
        return
    node_dir = host_dir(state, host) / "kubelet" / host.name
    if not node_dir.is_dir():
        return
    from kubelet.runtime.runc import RuncRuntime

    runtime = RuncRuntime(node_dir, node_name=host.name, pod_cidr=host.pod_cidr)
    asyncio.run(runtime.cleanup_node())


def unmount_under(folder: Path) -> None:
    mounts = [line.split()[1] for line in Path("/proc/self/mounts").read_text().splitlines()]
    root = str(folder.resolve())
    for target in sorted((m for m in mounts if m == root or m.startswith(root + "/")), key=len, reverse=True):
        subprocess.run(["umount", "-l", target], capture_output=True)


# ---- status -----------------------------------------------------------------------------


def component_health(state: ClusterState, host: Host, component: Component) -> str:
    if not processes.alive(component.pid, component.argv):
        return "stopped"
    if host.cut:
        return "running"
    if component.name == "etcd":
        return "healthy" if etcd_healthy(host) else "unhealthy"
    if component.name == "apiserver":
        return "ready" if http_ok(f"http://{host.address}:{API_PORT}/readyz") else "not-ready"
    return "running"


def cluster_status(state: ClusterState) -> list[str]:
    ready = ready_nodes(state)
    rows = [("HOST", "ROLE", "ADDRESS", "STATE", "NODE", "PROCESSES")]
    for host in state.hosts:
        procs = " ".join(f"{c.name}={component_health(state, host, c)}({c.pid})" for c in host.components)
        condition = "cut" if host.cut else ("stopped" if host.stopped else "up")
        node = ("Ready" if host.name in ready else "NotReady") if host.role == "worker" else "-"
        rows.append((host.name, host.role, host.address, condition, node, procs))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    lines = [f"cluster {state.prefix}: API server {state.server}, driver {state.driver}, "
             f"registry {state.registry or 'none'}, data {state.data_dir}"]
    lines += ["   ".join(c.ljust(w) for c, w in zip(r[:-1], widths, strict=True)) + "   " + r[-1] for r in rows]
    return lines


def set_cut(state: ClusterState, host: Host, cut: bool) -> None:
    hostnet.set_link(host.veth, up=not cut)
    host.cut = cut
    state.save()


def load(data_dir: Path) -> ClusterState:
    return load_state(data_dir)
