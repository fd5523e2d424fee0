"""The kubelet's own HTTP endpoint, which the API server proxies `pods/log`, `pods/exec` and
`pods/portforward` to: container logs (streamed with `follow`), one-shot command
execution, and the WebSocket that carries a port-forward's SPDY session."""

from __future__ import annotations

import base64
import logging
from typing import TYPE_CHECKING

import aiohttp
import orjson
from aiohttp import web

from apimachinery.portforward import parse_ports
from kubelet.portforward import PortForwardSession, forward_channels
from kubelet.runtime.interface import DriverError
from kubelet.spdy import SpdyError

if TYPE_CHECKING:
    from kubelet.kubelet import Kubelet

log = logging.getLogger(__name__)
CHANNEL_PROTOCOL = "v4.channel.k8s.io"
PORT_FORWARD_PROTOCOLS = ("SPDY/3.1+portforward.k8s.io", CHANNEL_PROTOCOL)


def _find(kubelet: Kubelet, namespace: str, pod: str, container: str, previous: bool = False) -> str:
    for worker in kubelet.workers.values():
        meta = worker.pod["metadata"]
        if meta["namespace"] == namespace and meta["name"] == pod:
            for record in worker.init + worker.regular:
                if record.name == container:
                    if previous:
                        if not record.last_terminated:
                            raise web.HTTPBadRequest(text=f'previous terminated container "{container}" in pod '
                                                          f'"{pod}" not found')
                        return record.last_terminated.get("containerID", "")
                    if record.current is None:
                        raise web.HTTPBadRequest(text=f'container "{container}" in pod "{pod}" is waiting to start: '
                                                      f"{record.waiting_reason or 'ContainerCreating'}")
                    return record.current.id
            raise web.HTTPBadRequest(text=f"container {container} is not valid for pod {pod}")
    raise web.HTTPNotFound(text=f'pod "{pod}" not found on node {kubelet.node_name}')


async def _serve_spdy(ws: web.WebSocketResponse, session: PortForwardSession) -> None:
    """Feed the client's bytes to the SPDY session until either side ends it."""
    try:
        async for message in ws:
            if message.type != aiohttp.WSMsgType.BINARY or not await session.feed(message.data):
                break
    except SpdyError as exc:
        log.info("port-forward: the client broke the SPDY session: %s", exc)


async def build_server(kubelet: Kubelet, host: str, port: int) -> web.AppRunner:
    async def logs(request: web.Request) -> web.StreamResponse:
        ns, pod, container = request.match_info["ns"], request.match_info["pod"], request.match_info["container"]
        follow = request.query.get("follow", "") in ("1", "true", "True")
        tail = request.query.get("tailLines")
        cid = _find(kubelet, ns, pod, container, request.query.get("previous", "") in ("1", "true", "True"))
        response = web.StreamResponse(headers={"Content-Type": "text/plain"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        async for chunk in kubelet.runtime.logs(cid, follow=follow, tail_lines=int(tail) if tail else None):
            await response.write(chunk)
        await response.write_eof()
        return response

    async def exec_(request: web.Request) -> web.Response:
        ns, pod, container = request.match_info["ns"], request.match_info["pod"], request.match_info["container"]
        body = orjson.loads(await request.read() or b"{}")
        cid = _find(kubelet, ns, pod, container)
        stdin = base64.b64decode(body["stdin"]) if body.get("stdin") else None
        try:
            result = await kubelet.runtime.exec(cid, list(body.get("command") or []), stdin=stdin,
                                                timeout=body.get("timeout"))
        except DriverError as exc:
            return web.json_response({"error": str(exc)}, status=500)
        return web.json_response({"exitCode": result.exit_code, "stdout": base64.b64encode(result.stdout).decode(),
                                  "stderr": base64.b64encode(result.stderr).decode()})

    async def port_forward(request: web.Request) -> web.StreamResponse:
        ns, name = request.match_info["ns"], request.match_info["pod"]
        pod = next((w.pod for w in kubelet.workers.values()
                    if w.pod["metadata"]["namespace"] == ns and w.pod["metadata"]["name"] == name), None)
        if pod is None:
            raise web.HTTPNotFound(text=f'pod "{name}" not found on node {kubelet.node_name}')
        current = kubelet.pods.get(f"{ns}/{name}") or pod
        pod_ip = (current.get("status") or {}).get("podIP") or kubelet.node_ip
        uid = pod["metadata"].get("uid", "")
        ws = web.WebSocketResponse(protocols=PORT_FORWARD_PROTOCOLS, autoping=True, heartbeat=None)
        if ws.can_prepare(request).protocol == CHANNEL_PROTOCOL:
            try:
                ports = parse_ports(request.query.getall("ports", []))
            except ValueError as exc:
                raise web.HTTPBadRequest(text=str(exc)) from None
            await ws.prepare(request)
            await forward_channels(ws, pod_ip, name, uid, ports)
            return ws
        await ws.prepare(request)
        session = PortForwardSession(ws.send_bytes, pod_ip, name, uid)
        try:
            await _serve_spdy(ws, session)
        finally:
            await session.close()
            await ws.close()
        return ws

    async def healthz(_: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/containerLogs/{ns}/{pod}/{container}", logs)
    app.router.add_post("/exec/{ns}/{pod}/{container}", exec_)
    app.router.add_get("/portForward/{ns}/{pod}", port_forward)
    app.router.add_get("/healthz", healthz)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    return runner
