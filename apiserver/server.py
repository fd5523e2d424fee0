"""Running the API server process: bind, serve until SIGTERM/SIGINT, shut down cleanly."""

from __future__ import annotations

import asyncio
import logging
import signal

from aiohttp import web

from apiserver.app import build_app
from apiserver.limits import IDLE_TIMEOUT, InFlightLimit
from apiserver.storage import open_storage

log = logging.getLogger("kube-py.apiserver")


async def start_apiserver(storage_url: str, host: str, port: int,
                          inflight: InFlightLimit | None = None) -> web.AppRunner:
    app = build_app(open_storage(storage_url), inflight)
    # Kubernetes' server never decodes a request's Content-Encoding: a gzip body is bytes to the
    # JSON decoder (a 400). aiohttp's decoder would instead fail mid-request and drop the connection.
    runner = web.AppRunner(app, handle_signals=False, access_log=None, auto_decompress=False,
                           keepalive_timeout=IDLE_TIMEOUT)
    app["connections"] = lambda: runner.server.connections if runner.server is not None else []
    await runner.setup()
    site = web.TCPSite(runner, host, port, reuse_address=True)
    await site.start()
    log.info("apiserver listening on http://%s:%d (storage %s)", host, port, storage_url)
    return runner


def stop_event_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def serve_apiserver(storage_url: str, host: str, port: int, inflight: InFlightLimit | None = None) -> None:
    stop = stop_event_on_signals()
    runner = await start_apiserver(storage_url, host, port, inflight)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
