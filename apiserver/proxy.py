"""`pods/log` and `pods/exec`: the API server's hop to the kubelet that runs the pod.

Logs are streamed through as text/plain (chunked with `follow`). Exec speaks kubectl's
WebSocket protocol (`v5.channel.k8s.io`, `v4.channel.k8s.io`: binary frames whose first
byte is the channel) towards the client and a one-shot JSON call towards the kubelet:
stdin (when asked) is collected until the client closes it, the command runs, stdout and
stderr come back on channels 1 and 2, and the exit status on channel 3.
"""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import aiohttp
import orjson
from aiohttp import web

from apimachinery import errors
from apimachinery.portforward import parse_ports

PROTOCOLS = ("v5.channel.k8s.io", "v4.channel.k8s.io")


def pick_container(pod: dict[str, Any], requested: str) -> str:
    names = [c["name"] for c in (pod.get("spec") or {}).get("containers") or []]
    init_names = [c["name"] for c in (pod.get("spec") or {}).get("initContainers") or []]
    name = pod["metadata"]["name"]
    if requested:
        if requested not in names + init_names:
            raise errors.bad_request(f"container {requested} is not valid for pod {name}")
        return requested
    default = (pod["metadata"].get("annotations") or {}).get("kubectl.kubernetes.io/default-container")
    if default in names:
        return default
    if len(names) == 1:
        return names[0]
    raise errors.bad_request(f"a container name must be specified for pod {name}, choose one of: "
                             f"[{' '.join(names)}]" + (f" or one of the init containers: [{' '.join(init_names)}]"
                                                      if init_names else ""))


def kubelet_url(node: dict[str, Any] | None, node_name: str) -> str:
    status = (node or {}).get("status") or {}
    port = ((status.get("daemonEndpoints") or {}).get("kubeletEndpoint") or {}).get("Port")
    address = next((a["address"] for a in status.get("addresses") or [] if a.get("type") == "InternalIP"), "")
    if not port or not address:
        raise errors.service_unavailable(f'no kubelet serves node "{node_name}"')
    return f"http://{address}:{port}"


async def logs(request: web.Request, pod: dict[str, Any], base: str) -> web.StreamResponse:
    container = pick_container(pod, request.query.get("container", ""))
    meta = pod["metadata"]
    params = {k: request.query[k] for k in ("follow", "tailLines", "previous", "timestamps") if k in request.query}
    url = f"{base}/containerLogs/{meta['namespace']}/{meta['name']}/{container}"
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=5)
    try:
        async with aiohttp.ClientSession(timeout=timeout) as session, session.get(url, params=params) as upstream:
            if upstream.status >= 400:
                text = (await upstream.text()).strip()
                code = 404 if upstream.status == 404 else 400
                raise errors.StatusError(code, "NotFound" if code == 404 else "BadRequest", text)
            response = web.StreamResponse(headers={"Content-Type": "text/plain"})
            response.enable_chunked_encoding()
            await response.prepare(request)
            async for chunk in upstream.content.iter_any():
                await response.write(chunk)
            await response.write_eof()
            return response
    except aiohttp.ClientError as exc:
        raise errors.service_unavailable(f"cannot reach the kubelet on {base}: {exc}") from None


async def exec_(request: web.Request, pod: dict[str, Any], base: str) -> web.StreamResponse:
    if request.headers.get("Upgrade", "").lower() != "websocket":
        raise errors.bad_request("Upgrade request required")
    container = pick_container(pod, request.query.get("container", ""))
    command = request.query.getall("command", [])
    if not command:
        raise errors.bad_request("you must specify at least 1 command")
    want_stdin = request.query.get("stdin", "") in ("1", "true", "True")
    ws = web.WebSocketResponse(protocols=PROTOCOLS, autoping=True, heartbeat=None)
    await ws.prepare(request)
    stdin = bytearray()
    if want_stdin:
        async for message in ws:
            if message.type != aiohttp.WSMsgType.BINARY or not message.data:
                if message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.ERROR):
                    break
                continue
            channel, payload = message.data[0], message.data[1:]
            if channel == 0:
                stdin.extend(payload)
            elif channel == 255:
                break
    meta = pod["metadata"]
    url = f"{base}/exec/{meta['namespace']}/{meta['name']}/{container}"
    body = {"command": command, "stdin": base64.b64encode(bytes(stdin)).decode() if want_stdin else ""}
    try:
        async with aiohttp.ClientSession() as session, session.post(url, data=orjson.dumps(body)) as upstream:
            result = await upstream.json(content_type=None)
            if upstream.status >= 400:
                raise aiohttp.ClientError(result.get("error") or await upstream.text())
    except aiohttp.ClientError as exc:
        await ws.send_bytes(b"\x03" + orjson.dumps({"metadata": {}, "status": "Failure", "message": str(exc),
                                                    "reason": "InternalError"}))
        await ws.close()
        return ws
    for channel, key in ((1, "stdout"), (2, "stderr")):
        data = base64.b64decode(result.get(key) or "")
        if data:
            await ws.send_bytes(bytes([channel]) + data)
    code = int(result.get("exitCode", 0))
    if code == 0:
        status = {"metadata": {}, "status": "Success"}
    else:
        status = {"metadata": {}, "status": "Failure",
                  "message": f"command terminated with non-zero exit code: error executing command {command}, "
                             f"exit code {code}",
                  "reason": "NonZeroExitCode",
                  "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]}}
    await ws.send_bytes(b"\x03" + orjson.dumps(status))
    await ws.close()
    return ws


# kubectl tunnels SPDY through the WebSocket; the Python client speaks the channel protocol.
PORT_FORWARD_PROTOCOLS = ("SPDY/3.1+portforward.k8s.io", "v4.channel.k8s.io")


def _offered(request: web.Request) -> str:
    offered = [p.strip() for p in request.headers.get("Sec-WebSocket-Protocol", "").split(",")]
    return next((p for p in offered if p in PORT_FORWARD_PROTOCOLS), "")


async def port_forward(request: web.Request, pod: dict[str, Any], base: str) -> web.StreamResponse:
    """Relay the client's WebSocket to the kubelet, byte for byte, in the protocol it chose."""
    if request.headers.get("Upgrade", "").lower() != "websocket":
        raise errors.bad_request("Upgrade request required")
    protocol = _offered(request)
    if not protocol:
        raise errors.bad_request(f"no supported port-forward protocol offered (supported: "
                                 f"{', '.join(PORT_FORWARD_PROTOCOLS)})")
    if protocol == "v4.channel.k8s.io":
        try:
            parse_ports(request.query.getall("ports", []))
        except ValueError as exc:
            raise errors.bad_request(str(exc)) from None
    meta = pod["metadata"]
    url = f"{base.replace('http://', 'ws://', 1)}/portForward/{meta['namespace']}/{meta['name']}"
    async with aiohttp.ClientSession() as session:
        try:
            upstream = await session.ws_connect(url, protocols=(protocol,), autoping=True,
                                                params=[(k, v) for k, v in request.query.items() if k == "ports"])
        except aiohttp.ClientError as exc:
            raise errors.service_unavailable(f"cannot reach the kubelet on {base}: {exc}") from None
        ws = web.WebSocketResponse(protocols=(protocol,), autoping=True, heartbeat=None)
        await ws.prepare(request)

        async def pump(source: Any, sink: Any) -> None:
            async for message in source:
                if message.type != aiohttp.WSMsgType.BINARY:
                    break
                await sink.send_bytes(message.data)
            await sink.close()

        tasks = [asyncio.create_task(pump(ws, upstream)), asyncio.create_task(pump(upstream, ws))]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await upstream.close()
            await ws.close()
        return ws
