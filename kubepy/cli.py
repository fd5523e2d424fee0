"""`kube-py`: one entry point for every server-side component.

Subcommands follow the command contract in ARCHITECTURE.md. Components that have not
landed yet are not offered, so `--help` tells the truth about what runs.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from pathlib import Path

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
    from apiserver.server import serve_apiserver

    asyncio.run(serve_apiserver(storage_url(args), args.bind_address, args.port))
    return 0


def cmd_controller_manager(args: argparse.Namespace) -> int:
    from apiserver.server import stop_event_on_signals
    from controllers.manager import run_controller_manager

    async def run() -> None:
        stop = stop_event_on_signals()
        async with client_from_args(args) as client:
            names = [n for n in args.controllers.split(",") if n] or None
            await run_controller_manager(client, names, leader_elect=args.leader_elect, stop=stop)

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
            await Scheduler(client, config.profile, scheduler_name=name).run(stop)

    asyncio.run(run())
    return 0


def cmd_up(args: argparse.Namespace) -> int:
    from apiserver.server import start_apiserver, stop_event_on_signals
    from controllers.manager import run_controller_manager
    from kubeclient.rest import ApiClient

    data_dir = Path(args.data_dir)
    storage = storage_url(args)
    server = f"http://127.0.0.1:{args.port}"
    kubeconfig = data_dir / "kubeconfig"
    write_kubeconfig(kubeconfig, server)

    async def run() -> None:
        stop = stop_event_on_signals()
        runner = await start_apiserver(storage, "127.0.0.1", args.port)
        print(f"kube-py is up: API server {server} (storage {storage}), controller-manager running.\n"
              f"  kubectl --kubeconfig {kubeconfig} get namespaces\n"
              "The scheduler and kubelet join `up` as they land.\n"
              "Ctrl-C stops everything; `kube-py up` again on the same data dir resumes the same state.", flush=True)
        try:
            async with ApiClient(server) as client:
                await run_controller_manager(client, leader_elect=False, stop=stop)
        finally:
            await runner.cleanup()

    asyncio.run(run())
    return 0


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
    up.set_defaults(func=cmd_up)

    api = sub.add_parser("apiserver", help="the API server")
    api.add_argument("--storage", default="", help="sqlite:///path/state.db or etcd://host:port[,...]")
    api.add_argument("--bind-address", default="127.0.0.1")
    api.add_argument("--port", type=int, default=8080)
    api.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR))
    api.set_defaults(func=cmd_apiserver)

    cm = sub.add_parser("controller-manager", help="the controllers, behind leader election")
    add_client_flags(cm)
    cm.add_argument("--controllers", default="", help="comma-separated subset (default: all)")
    cm.add_argument("--leader-elect", type=lambda v: v.lower() in ("1", "true", "yes"), default=True)
    cm.set_defaults(func=cmd_controller_manager)

    sched = sub.add_parser("scheduler", help="binds pending pods to nodes")
    add_client_flags(sched)
    sched.add_argument("--config", default="", help="KubeSchedulerConfiguration-style YAML")
    sched.add_argument("--scheduler-name", default="", help="only pods naming this scheduler (default-scheduler)")
    sched.set_defaults(func=cmd_scheduler)
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
