"""`kube-py`: one entry point for every server-side component.

Subcommands follow the command contract in ARCHITECTURE.md. Components that have not
landed yet are not offered, so `--help` tells the truth about what runs.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

from apimachinery.errors import StatusError
from kubeclient.kubeconfig import KubeconfigError

DEFAULT_DATA_DIR = Path(os.environ.get("KUBE_PY_DATA_DIR", Path.home() / ".kube-py"))


def write_kubeconfig(path: Path, server: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "apiVersion: v1\nkind: Config\n"
        f"clusters:\n- name: kube-py\n  cluster:\n    server: {server}\n"
        "contexts:\n- name: kube-py\n  context:\n    cluster: kube-py\n    user: kube-py\n    namespace: default\n"
        "current-context: kube-py\n"
        "users:\n- name: kube-py\n  user: {}\n"
    )


def storage_url(args: argparse.Namespace) -> str:
    data_dir = Path(args.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    return args.storage or f"sqlite://{data_dir / 'state.db'}"


def client_from_args(args: argparse.Namespace):  # noqa: ANN201 - kubeclient imported lazily
    from kubeclient.rest import ApiClient

    if args.server:
        return ApiClient(args.server)
    return ApiClient.from_kubeconfig(args.kubeconfig or None)


def cmd_apiserver(args: argparse.Namespace) -> int:
    from apiserver.limits import InFlightLimit
    from apiserver.server import serve_apiserver

    inflight = InFlightLimit(args.max_requests_inflight, args.max_mutating_requests_inflight)
    asyncio.run(serve_apiserver(storage_url(args), args.bind_address, args.port, inflight))
    return 0


def cmd_controller_manager(args: argparse.Namespace) -> int:
    from apiserver.server import stop_event_on_signals
    from controllers.manager import run_controller_manager

    async def run() -> None:
        stop = stop_event_on_signals()
        async with client_from_args(args) as client:
            names = [n for n in args.controllers.split(",") if n] or None
            await run_controller_manager(client, names, leader_elect=args.leader_elect, stop=stop,
                                         node_monitor_grace_period=args.node_monitor_grace_period,
                                         cluster_cidr=args.cluster_cidr, node_cidr_mask_size=args.node_cidr_mask_size)

    asyncio.run(run())
    return 0


def cmd_scheduler(args: argparse.Namespace) -> int:
    from apiserver.server import stop_event_on_signals
    from scheduler.algorithm import Profile
    from scheduler.config import SchedulerConfig, load_config
    from scheduler.scheduler import DEFAULT_SCHEDULER, Scheduler

    config = load_config(args.config) if args.config else SchedulerConfig(DEFAULT_SCHEDULER, Profile.default())
    name = args.scheduler_name or config.scheduler_name

    async def run() -> None:
        stop = stop_event_on_signals()
        async with client_from_args(args) as client:
            if not args.leader_elect:
                await Scheduler(client, config.profile, scheduler_name=name).run(stop)
                return
            from kubeclient.leaderelection import LeaderElector

            elector = LeaderElector(client, "kube-scheduler")
            lead = asyncio.create_task(elector.run_forever(
                lambda: Scheduler(client, config.profile, scheduler_name=name).run(stop)))
            stopped = asyncio.create_task(stop.wait())
            await asyncio.wait({lead, stopped}, return_when=asyncio.FIRST_COMPLETED)
            for task in (lead, stopped):
                task.cancel()
            await asyncio.gather(lead, stopped, return_exceptions=True)
            await elector.release()

    asyncio.run(run())
    return 0


def make_runtime(driver: str, data_dir: Path, node_name: str, node_ip: str,  # noqa: ANN201 - lazy imports
                 *, pod_cidr: str = "", registry: str | None = None, insecure_registries: frozenset[str] = frozenset()):
    if driver == "fake":
        from kubelet.runtime.fake import FakeRuntime

        return FakeRuntime()
    if driver == "process":
        from kubelet.runtime.process import ProcessRuntime

        return ProcessRuntime(data_dir / "kubelet" / node_name / "containers", node_ip=node_ip)
    try:
        from kubelet.images import ImageStore
        from kubelet.runtime.runc import RuncRuntime
    except ImportError as exc:
        raise ValueError(f"the runc driver is not available: {exc}") from None
    registry = os.environ.get("KUBE_PY_REGISTRY", "") if registry is None else registry
    # HTTPS unless insecure: the --insecure-registry entries and loopback (kubelet/registryhosts.py)
    images = ImageStore(data_dir / "kubelet" / node_name / "images", registry, insecure_registries=insecure_registries)
    return RuncRuntime(data_dir / "kubelet" / node_name, node_name=node_name, node_ip=node_ip,
                       pod_cidr=pod_cidr, default_registry=registry, images=images)


def default_driver() -> tuple[str, str]:
    """runc when root and runc exist (and the driver is built), else process; says why."""
    import shutil
    from importlib.util import find_spec

    if os.geteuid() != 0:
        return "process", "not running as root"
    if shutil.which("runc") is None:
        return "process", "runc is not installed"
    if find_spec("kubelet.runtime.runc") is None:
        return "process", "the runc driver is not part of this build"
    if os.environ.get("KUBE_PY_REGISTRY"):
        return "runc", f"root and runc, images from KUBE_PY_REGISTRY={os.environ['KUBE_PY_REGISTRY']}"
    if shutil.which("docker-registry") is None:
        return "process", "no image registry: set KUBE_PY_REGISTRY=host:port or install docker-registry"
    return "runc", "root and runc; images from a private registry seeded with busybox"


def start_private_registry(data_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    """A docker-registry on a free loopback port for `up`, seeded with busybox; → (process, address)."""
    from kubepy import registry as images

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{probe.getsockname()[1]}"
    log = (data_dir / "registry.log").open("ab")
    proc = subprocess.Popen(images.registry_argv(data_dir / "registry", address), stdout=log, stderr=log)
    if not images.wait_until_serving(address):
        proc.kill()
        raise ValueError(f"the private image registry did not start (see {data_dir / 'registry.log'})")
    images.seed_busybox(address)
    return proc, address


def cmd_kubelet(args: argparse.Namespace) -> int:
    from apiserver.server import stop_event_on_signals
    from kubelet.kubelet import DnsSettings, Kubelet, parse_capacity
    from kubelet.registryhosts import parse_insecure_registries

    capacity = parse_capacity(args.capacity)
    data_dir = Path(args.data_dir)

    async def run() -> None:
        stop = stop_event_on_signals()
        runtime = make_runtime(args.driver, data_dir, args.node_name, args.node_ip, pod_cidr=args.pod_cidr,
                               registry=args.registry or None,
                               insecure_registries=parse_insecure_registries(args.insecure_registry))
        async with client_from_args(args) as client:
            dns = DnsSettings(serve=args.dns, cluster_dns=[ip for ip in args.cluster_dns.split(",") if ip],
                              cluster_domain=args.cluster_domain)
            kubelet = Kubelet(client, args.node_name, runtime, node_ip=args.node_ip, capacity=capacity,
                              port=args.port, pod_cidr=args.pod_cidr, data_dir=data_dir / "kubelet" / args.node_name,
                              dns=dns)
            if not args.proxy:
                await kubelet.run(stop)
                return
            from kubelet.proxy.proxier import ProxyConfig, run_proxy

            await asyncio.gather(kubelet.run(stop), run_proxy(client, stop, ProxyConfig(node_name=args.node_name)))

    asyncio.run(run())
    return 0


def cmd_dns(args: argparse.Namespace) -> int:
    from apiserver.server import stop_event_on_signals
    from kubelet.dns.server import DnsConfig, run_dns

    config = DnsConfig(address=args.address, port=args.port, domain=args.cluster_domain,
                       upstreams=[u for u in args.upstream.split(",") if u])

    async def run() -> None:
        stop = stop_event_on_signals()
        async with client_from_args(args) as client:
            await run_dns(client, stop, config)

    asyncio.run(run())
    return 0


def cmd_proxy(args: argparse.Namespace) -> int:
    from apiserver.server import stop_event_on_signals
    from kubelet.proxy.proxier import ProxyConfig, run_proxy

    config = ProxyConfig(node_name=args.node_name, cluster_cidr=args.cluster_cidr, sync_period=args.sync_period)

    async def run() -> None:
        stop = stop_event_on_signals()
        async with client_from_args(args) as client:
            await run_proxy(client, stop, config, cleanup_on_exit=args.cleanup_on_exit)

    asyncio.run(run())
    return 0


async def service_proxy(client: Any, stop: asyncio.Event, node_name: str) -> None:
    """`up --proxy`: Services reachable from this machine; Ctrl-C takes the rules away again."""
    from kubelet.proxy.proxier import ProxyConfig, run_proxy

    await run_proxy(client, stop, ProxyConfig(node_name=node_name), cleanup_on_exit=True)


def cmd_up(args: argparse.Namespace) -> int:
    from apiserver.server import start_apiserver, stop_event_on_signals
    from controllers.manager import run_controller_manager
    from kubeclient.rest import ApiClient
    from kubelet.kubelet import DnsSettings, Kubelet
    from kubelet.registryhosts import parse_insecure_registries
    from scheduler.scheduler import Scheduler

    data_dir = Path(args.data_dir)
    storage = storage_url(args)
    server = f"http://127.0.0.1:{args.port}"
    kubeconfig = data_dir / "kubeconfig"
    write_kubeconfig(kubeconfig, server)
    driver, why = (args.driver, "chosen with --driver") if args.driver else default_driver()
    node_name = args.node_name
    registry_proc, registry = None, os.environ.get("KUBE_PY_REGISTRY", "")
    if driver == "runc" and not registry:
        registry_proc, registry = start_private_registry(data_dir)
    insecure = parse_insecure_registries(args.insecure_registry) | ({registry} if registry_proc else set())

    async def run() -> None:
        stop = stop_event_on_signals()
        runner = await start_apiserver(storage, "127.0.0.1", args.port)
        print(f"kube-py is up: API server {server} (storage {storage})\n"
              f"  node {node_name} with the {driver} driver ({why}); scheduler and controller-manager running\n"
              + (f"  image registry {registry} (push images there; `busybox:1.36` means {registry}/busybox:1.36)\n"
                 if registry else "")
              + f"  kubectl --kubeconfig {kubeconfig} get nodes\n"
              "Ctrl-C stops everything; `kube-py up` again on the same data dir resumes the same state.", flush=True)
        try:
            async with ApiClient(server) as client:
                runtime = make_runtime(driver, data_dir, node_name, "127.0.0.1", registry=registry,
                                       insecure_registries=insecure)
                kubelet = Kubelet(client, node_name, runtime, data_dir=data_dir / "kubelet" / node_name,
                                  dns=DnsSettings(serve=runtime.isolated_rootfs))
                try:
                    await asyncio.gather(
                        run_controller_manager(client, leader_elect=False, stop=stop),
                        Scheduler(client).run(stop),
                        kubelet.run(stop),
                        *([service_proxy(client, stop, node_name)] if args.proxy else []),
                    )
                finally:
                    # Ctrl-C stops everything, pods included; the next `up` starts them again.
                    for uid, _name, status in await runtime.list_containers():
                        await runtime.remove_container(status.id)
                        await runtime.remove_sandbox(uid)
                    cleanup_node = getattr(runtime, "cleanup_node", None)
                    if cleanup_node is not None:
                        await cleanup_node()  # pod networks, the bridge, cgroups
        finally:
            await runner.cleanup()

    try:
        asyncio.run(run())
    finally:
        if registry_proc is not None:
            registry_proc.terminate()
            registry_proc.wait(10)
    return 0


def cmd_cluster(args: argparse.Namespace) -> int:
    import os as _os

    from kubepy.cluster import commands

    if _os.geteuid() != 0:
        raise ValueError("kube-py cluster needs root: its hosts are network namespaces")
    data_dir = Path(args.data_dir)
    if args.action == "up":
        commands.cluster_up(data_dir, args.nodes, args.control_planes, args.driver, args.registry,
                            args.node_monitor_grace_period)
        return 0
    state = commands.load(data_dir)
    if args.action == "down":
        commands.cluster_down(state)
    elif args.action == "status":
        print("\n".join(commands.cluster_status(state)))
    elif args.action in ("stop-host", "start-host"):
        host = state.host(args.host)
        act = commands.stop_host if args.action == "stop-host" else commands.start_host
        done = act(state, host, args.component)
        print(f"{host.name}: {'stopped' if args.action == 'stop-host' else 'started'} {', '.join(done)}")
    else:
        host = state.host(args.host)
        commands.set_cut(state, host, cut=args.action == "cut-host")
        print(f"{host.name}: {'cut off the network' if args.action == 'cut-host' else 'back on the network'}")
    return 0


def add_cluster_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    cluster = sub.add_parser("cluster", help="multi-host test cluster (hosts are network namespaces; root)")
    actions = cluster.add_subparsers(dest="action", required=True)
    default_dir = str(DEFAULT_DATA_DIR / "cluster")
    up = actions.add_parser("up", help="build the hosts and start etcd, the control plane and kubelets")
    up.add_argument("--nodes", type=int, default=3, help="worker hosts (default 3)")
    up.add_argument("--control-planes", type=int, default=1, choices=[1, 3])
    up.add_argument("--driver", choices=["runc", "process", "fake"], default="",
                    help="kubelet driver (default: runc when installed, else process)")
    up.add_argument("--registry", default="",
                    help="image registry host:port reachable from the hosts (default: start one on the bridge)")
    up.add_argument("--node-monitor-grace-period", type=float, default=None,
                    help="seconds before a silent node is NotReady (controller-manager; default 50)")
    for name, text in (("down", "remove every process, namespace, link, route and mount the cluster made"),
                       ("status", "hosts, addresses, processes and health")):
        actions.add_parser(name, help=text)
    for name, text in (("stop-host", "kill the host's processes (and its containers), like a power cut"),
                       ("start-host", "start the host's processes again"),
                       ("cut-host", "take the host's link down; its processes keep running"),
                       ("heal-host", "bring the host's link back up")):
        action = actions.add_parser(name, help=text)
        action.add_argument("host")
        if name in ("stop-host", "start-host"):
            action.add_argument("--component", default="", help="only this process, e.g. etcd or controller-manager")
    for action in actions.choices.values():
        action.add_argument("--data-dir", default=default_dir)
    cluster.set_defaults(func=cmd_cluster)


def parse_bool(value: str) -> bool:
    return value.lower() in ("1", "true", "yes")


def add_client_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--server", default="", help="API server URL, e.g. http://127.0.0.1:8080")
    parser.add_argument("--kubeconfig", default="", help="kubeconfig file (alternative to --server)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kube-py", description="A Kubernetes-style control plane in miniature.")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)

    up = sub.add_parser("up", help="all-in-one cluster in the foreground")
    up.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR))
    up.add_argument("--port", type=int, default=8080)
    up.add_argument("--storage", default="", help="sqlite:///path/state.db (default) or etcd://host:port[,...]")
    up.add_argument("--driver", choices=["runc", "process", "fake"], default="",
                    help="kubelet driver (default: runc when root and runc exist, else process)")
    up.add_argument("--proxy", action="store_true",
                    help="also run the service proxy (iptables rules in this machine's network namespace)")
    up.add_argument("--node-name", default=socket.gethostname().split(".")[0].lower() or "node-1")
    up.add_argument("--insecure-registry", action="append", default=[], metavar="HOST[:PORT]",
                    help="registry spoken to without TLS checks, plain HTTP if it has no TLS (repeatable or "
                         "comma list; loopback and the private registry `up` starts always are)")
    up.set_defaults(func=cmd_up)

    api = sub.add_parser("apiserver", help="the API server")
    api.add_argument("--storage", default="", help="sqlite:///path/state.db or etcd://host:port[,...]")
    api.add_argument("--bind-address", default="127.0.0.1")
    api.add_argument("--port", type=int, default=8080)
    api.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR))
    api.add_argument("--max-requests-inflight", type=int, default=400,
                     help="non-mutating requests served at once, 0 for no limit (429 beyond)")
    api.add_argument("--max-mutating-requests-inflight", type=int, default=200,
                     help="mutating requests served at once, 0 for no limit (429 beyond)")
    api.set_defaults(func=cmd_apiserver)

    cm = sub.add_parser("controller-manager", help="the controllers, behind leader election")
    add_client_flags(cm)
    cm.add_argument("--controllers", default="", help="comma-separated subset (default: all)")
    cm.add_argument("--leader-elect", type=parse_bool, default=True)
    cm.add_argument("--node-monitor-grace-period", type=float, default=None,
                    help="seconds without a node heartbeat before it is Unknown (default 50)")
    cm.add_argument("--cluster-cidr", default="", help="pod addresses, split into node pod CIDRs (default 10.244.0.0/16)")
    cm.add_argument("--node-cidr-mask-size", type=int, default=0, help="prefix length of each node's pod CIDR (24)")
    cm.set_defaults(func=cmd_controller_manager)

    kl = sub.add_parser("kubelet", help="the node agent")
    add_client_flags(kl)
    kl.add_argument("--node-name", required=True)
    kl.add_argument("--driver", choices=["runc", "process", "fake"], default="process")
    kl.add_argument("--capacity", default="", help="e.g. cpu=4,memory=8Gi,pods=110 (default: this machine)")
    kl.add_argument("--node-ip", default="127.0.0.1")
    kl.add_argument("--port", type=int, default=0, help="kubelet port for logs/exec (0 = any free port)")
    kl.add_argument("--pod-cidr", default="")
    kl.add_argument("--registry", default="", help="default image registry host:port (default: $KUBE_PY_REGISTRY)")
    kl.add_argument("--insecure-registry", action="append", default=[], metavar="HOST[:PORT]",
                    help="registry spoken to without TLS checks, plain HTTP if it has no TLS (host, host:port "
                         "or CIDR; repeatable or comma list; loopback addresses always are)")
    kl.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR))
    kl.add_argument("--proxy", action="store_true", help="also run the service proxy (iptables, this netns)")
    kl.add_argument("--dns", action="store_true",
                    help="also serve cluster DNS on the pod network's gateway (port 53) for this node's pods")
    kl.add_argument("--cluster-dns", default="", help="nameserver IPs for ClusterFirst pods (default with --dns: "
                                                      "the pod gateway)")
    kl.add_argument("--cluster-domain", default="cluster.local")
    kl.set_defaults(func=cmd_kubelet)

    dn = sub.add_parser("dns", help="cluster DNS: Service and pod names answered from the API")
    add_client_flags(dn)
    dn.add_argument("--address", default="127.0.0.1")
    dn.add_argument("--port", type=int, default=53)
    dn.add_argument("--cluster-domain", default="cluster.local")
    dn.add_argument("--upstream", default="", help="resolvers for other names, ip[:port],... "
                                                   "(default: /etc/resolv.conf)")
    dn.set_defaults(func=cmd_dns)

    px = sub.add_parser("proxy", help="the service proxy: iptables rules for Services in this network namespace")
    add_client_flags(px)
    px.add_argument("--node-name", default=socket.gethostname().split(".")[0].lower())
    px.add_argument("--cluster-cidr", default="", help="pod CIDR; other sources to a ClusterIP are masqueraded")
    px.add_argument("--sync-period", type=float, default=30.0, help="seconds between full syncs")
    px.add_argument("--cleanup-on-exit", action="store_true", help="remove the proxy's chains when stopping")
    px.set_defaults(func=cmd_proxy)

    sched = sub.add_parser("scheduler", help="binds pending pods to nodes")
    add_client_flags(sched)
    sched.add_argument("--config", default="", help="KubeSchedulerConfiguration-style YAML")
    sched.add_argument("--scheduler-name", default="", help="only pods naming this scheduler (default-scheduler)")
    sched.add_argument("--leader-elect", type=parse_bool, default=True)
    sched.set_defaults(func=cmd_scheduler)
    add_cluster_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args) or 0)
    except (OSError, StatusError, ValueError, KubeconfigError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
