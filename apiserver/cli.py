"""`kube-py`: one entry point for every server-side component.

Subcommands follow the command contract in ARCHITECTURE.md. Components that have not
landed yet are not offered, so `--help` tells the truth about what runs.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from pathlib import Path

from aiohttp import web

from apiserver.app import build_app

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


async def serve_apiserver(storage_url: str, host: str, port: int, *, on_ready: str = "") -> None:
    from apiserver.storage import open_storage

    app = build_app(open_storage(storage_url))
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port, reuse_address=True)
    await site.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    logging.getLogger("kube-py").info("apiserver listening on http://%s:%d (storage %s)", host, port, storage_url)
    if on_ready:
        print(on_ready, flush=True)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def cmd_apiserver(args: argparse.Namespace) -> int:
    data_dir = Path(args.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    storage = args.storage or f"sqlite://{data_dir / 'state.db'}"
    asyncio.run(serve_apiserver(storage, args.bind_address, args.port))
    return 0


def cmd_up(args: argparse.Namespace) -> int:
    data_dir = Path(args.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    storage = args.storage or f"sqlite://{data_dir / 'state.db'}"
    server = f"http://127.0.0.1:{args.port}"
    kubeconfig = data_dir / "kubeconfig"
    write_kubeconfig(kubeconfig, server)
    banner = (
        f"kube-py is up: API server {server} (storage {storage}).\n"
        f"  kubectl --kubeconfig {kubeconfig} get namespaces\n"
        "The scheduler, controller-manager and kubelet join `up` as they land; today it runs the API server.\n"
        "Ctrl-C stops it; running `kube-py up` again on the same data dir resumes the same state."
    )
    asyncio.run(serve_apiserver(storage, "127.0.0.1", args.port, on_ready=banner))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kube-py", description="A Kubernetes-style control plane in miniature.")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)

    up = sub.add_parser("up", help="all-in-one cluster in the foreground")
    up.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR))
    up.add_argument("--port", type=int, default=8080)
    up.add_argument("--storage", default="", help="sqlite:///path/state.db (default) or etcd://host:port[,...]")
    up.add_argument("--driver", choices=["runc", "process", "fake"], default=None,
                    help="kubelet driver (the kubelet is not part of this release yet)")
    up.set_defaults(func=cmd_up)

    api = sub.add_parser("apiserver", help="the API server")
    api.add_argument("--storage", default="", help="sqlite:///path/state.db or etcd://host:port[,...]")
    api.add_argument("--bind-address", default="127.0.0.1")
    api.add_argument("--port", type=int, default=8080)
    api.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR))
    api.set_defaults(func=cmd_apiserver)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args) or 0)
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
