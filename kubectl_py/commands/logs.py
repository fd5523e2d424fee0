"""`logs` and `exec`: streams from a container, through the API server.

logs streams `pods/<name>/log` (chunked when following); exec speaks the WebSocket
`v5.channel.k8s.io` protocol (one channel byte per binary frame; 1 stdout, 2 stderr, 3 status,
255 close) and exits with the remote command's exit code, as kubectl does.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

import aiohttp

from apimachinery.errors import StatusError
from kubeclient.rest import status_error
from kubectl_py.builder import call, parse_targets, path_for
from kubectl_py.describers import format_selector
from kubectl_py.errors import CliError, UsageError
from kubectl_py.session import Session

DEFAULT_CONTAINER = "kubectl.kubernetes.io/default-container"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("logs", help="Print the logs for a container in a pod", command="logs")
    p.add_argument("target", metavar="POD | TYPE/NAME")
    p.add_argument("container_arg", nargs="?", default="", metavar="CONTAINER")
    p.add_argument("-c", "--container", default="")
    p.add_argument("-f", "--follow", action="store_true")
    p.add_argument("--tail", type=int, default=-1)
    p.add_argument("-p", "--previous", action="store_true")
    p.add_argument("--since", default="", help="Only logs newer than a duration like 5s, 2m, 3h")
    p.add_argument("--timestamps", action="store_true")
    p.add_argument("--limit-bytes", type=int, default=0)
    p.add_argument("--all-containers", action="store_true")
    p.set_defaults(handler=run_logs)

    e = sub.add_parser("exec", help="Execute a command in a container", command="exec")
    e.add_argument("target", metavar="POD | TYPE/NAME")
    e.add_argument("-c", "--container", default="")
    e.add_argument("-i", "--stdin", action="store_true")
    e.add_argument("-t", "--tty", action="store_true")
    e.add_argument("-q", "--quiet", action="store_true")
    e.set_defaults(handler=run_exec)


async def resolve_pod(session: Session, target: str) -> dict[str, Any]:
    """A pod, or the first pod of a workload given as `deploy/web` (kubectl's attachablePodForObject)."""
    pods = await session.resolver.resolve("pods")
    if "/" not in target:
        return await call(session, "GET", path_for(pods, session.namespace, target))
    (resolved,) = await parse_targets(session, [target], "logs")
    if resolved.resource.kind == "Pod":
        return await call(session, "GET", path_for(pods, session.namespace, resolved.names[0]))
    owner = await call(session, "GET", path_for(resolved.resource, session.namespace, resolved.names[0]))
    selector = format_selector((owner.get("spec") or {}).get("selector"))
    listing = await call(session, "GET", path_for(pods, session.namespace), params={"labelSelector": selector})
    items = sorted(listing.get("items") or [], key=lambda p: p["metadata"].get("creationTimestamp", ""))
    if not items:
        raise CliError(f"no pods found for {target}")
    if len(items) > 1:
        session.warn(f"Found {len(items)} pods, using pod/{items[0]['metadata']['name']}")
    return items[0]


def pick_container(session: Session, pod: dict[str, Any], wanted: str, quiet: bool = False) -> str:
    names = [c["name"] for c in (pod.get("spec") or {}).get("containers") or []]
    if wanted:
        return wanted
    default = ((pod.get("metadata") or {}).get("annotations") or {}).get(DEFAULT_CONTAINER)
    if default and default in names:
        return default
    if len(names) > 1 and not quiet:
        session.warn(f'Defaulted container "{names[0]}" out of: {", ".join(names)}')
    return names[0] if names else ""


def since_seconds(text: str) -> int | None:
    if not text:
        return None
    from kubectl_py.session import parse_timeout

    return max(1, int(parse_timeout(text)))


async def run_logs(session: Session, args: argparse.Namespace) -> int:
    pod = await resolve_pod(session, args.target)
    name = pod["metadata"]["name"]
    containers = [c["name"] for c in (pod.get("spec") or {}).get("containers") or []] if args.all_containers \
        else [pick_container(session, pod, args.container or args.container_arg)]
    pods = await session.resolver.resolve("pods")
    for container in containers:
        params = {"container": container, "follow": "true" if args.follow else None,
                  "tailLines": args.tail if args.tail >= 0 else None, "previous": "true" if args.previous else None,
                  "sinceSeconds": since_seconds(args.since), "timestamps": "true" if args.timestamps else None,
                  "limitBytes": args.limit_bytes or None}
        await stream_log(session, path_for(pods, session.namespace, name, "log"), params)
    return 0


async def stream_log(session: Session, path: str, params: dict[str, Any]) -> None:
    api = session.api
    query = {k: str(v) for k, v in params.items() if v not in (None, "")}
    try:
        async with api.session.get(api.server + path, params=query, headers={"Accept": "*/*"},
                                   timeout=aiohttp.ClientTimeout(total=None, sock_read=None)) as resp:
            if resp.status >= 400:
                raise status_error(resp.status, await resp.read())
            async for chunk in resp.content.iter_any():
                session.out.write(chunk.decode(errors="replace"))
                session.out.flush()
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise StatusError(503, "ServiceUnavailable", f"cannot reach {api.server}: {exc}") from exc


async def run_exec(session: Session, args: argparse.Namespace) -> int:
    command = list(args.after_dashes)
    if not command:
        raise UsageError("you must specify at least one command for the container", "exec")
    pod = await resolve_pod(session, args.target)
    phase = (pod.get("status") or {}).get("phase")
    if phase in ("Succeeded", "Failed"):
        raise CliError(f"cannot exec into a container in a completed pod; current phase is {phase}")
    container = pick_container(session, pod, args.container, args.quiet)
    pods = await session.resolver.resolve("pods")
    query: list[tuple[str, str]] = [("command", c) for c in command]
    query += [("container", container), ("stdout", "true")]
    if args.stdin:
        query.append(("stdin", "true"))
    if args.tty:
        query.append(("tty", "true"))
    else:
        query.append(("stderr", "true"))
    url = session.api.server + path_for(pods, session.namespace, pod["metadata"]["name"], "exec")
    url = url.replace("http://", "ws://", 1).replace("https://", "wss://", 1)
    return await exec_websocket(session, url, query, args.stdin)


def exit_code_of(status: dict[str, Any]) -> tuple[int, str]:
    """The remote command's exit code and kubectl's message from a channel-3 Status."""
    if status.get("status") == "Success":
        return 0, ""
    if status.get("reason") == "NonZeroExitCode":
        for cause in (status.get("details") or {}).get("causes") or []:
            if cause.get("reason") == "ExitCode":
                code = int(cause.get("message") or 1)
                return code, f"command terminated with exit code {code}"
    return 1, f"error: {status.get('message', 'exec failed')}"


async def exec_websocket(session: Session, url: str, query: list[tuple[str, str]], with_stdin: bool) -> int:
    api = session.api
    try:
        ws = await api.session.ws_connect(url, params=query, protocols=("v5.channel.k8s.io", "v4.channel.k8s.io"),
                                          autoping=True, heartbeat=5.0)
    except aiohttp.WSServerHandshakeError as exc:
        raise StatusError(exc.status, "BadRequest", f"unable to upgrade connection: {exc.message}") from None
    except aiohttp.ClientError as exc:
        raise StatusError(503, "ServiceUnavailable", f"cannot reach {api.server}: {exc}") from None
    stdin_task = asyncio.create_task(_pump_stdin(session, ws)) if with_stdin else None
    code, message = 0, ""
    try:
        async for msg in ws:
            if msg.type != aiohttp.WSMsgType.BINARY or not msg.data:
                continue
            channel, payload = msg.data[0], msg.data[1:]
            if channel == 1:
                session.out.write(payload.decode(errors="replace"))
                session.out.flush()
            elif channel == 2:
                session.err.write(payload.decode(errors="replace"))
                session.err.flush()
            elif channel == 3:
                try:
                    code, message = exit_code_of(json.loads(payload or b"{}"))
                except ValueError:
                    code, message = 1, payload.decode(errors="replace")
    finally:
        if stdin_task is not None:
            stdin_task.cancel()
        await ws.close()
    if message:
        raise CliError(message, exit_code=code, raw=True)
    return code


async def _pump_stdin(session: Session, ws: aiohttp.ClientWebSocketResponse) -> None:
    stream = session.streams.inp
    reader = getattr(stream, "buffer", None)
    while True:
        data = await asyncio.to_thread(reader.read1 if reader is not None and hasattr(reader, "read1")
                                       else (lambda n: stream.read(n).encode()), 4096)
        if not data:
            await ws.send_bytes(bytes([255, 0]))
            return
        await ws.send_bytes(b"\x00" + data)
