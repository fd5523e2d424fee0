"""Connection and request limits on a real aiohttp server over real sockets: a connection that
dribbles its headers is closed at the header deadline, one that completes its request is
served; requests beyond the in-flight limit get 429 with Retry-After, watches are not counted."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from apiserver.app import status_errors
from apiserver.limits import HeaderDeadline, InFlightLimit
from tests.fixtures.apiserver import free_port


@pytest.fixture
async def held() -> asyncio.Event:
    return asyncio.Event()


@pytest.fixture
async def server(held: asyncio.Event) -> AsyncIterator[tuple[int, InFlightLimit]]:
    async def slow(_: web.Request) -> web.Response:
        await held.wait()
        return web.Response(text="done")

    limit = InFlightLimit(max_requests=1, max_mutating=1)
    app = web.Application(middlewares=[status_errors, limit.middleware()])
    app.router.add_route("*", "/{tail:.*}", slow)
    runner = web.AppRunner(app, keepalive_timeout=30)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    deadline = HeaderDeadline(lambda: runner.server.connections if runner.server else [], timeout=0.5)
    deadline.start()
    try:
        yield port, limit
    finally:
        held.set()
        await deadline.stop()
        await runner.cleanup()


async def test_dribbled_headers_are_cut_off(server: tuple[int, InFlightLimit], held: asyncio.Event) -> None:
    port, _ = server
    held.set()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /api HTTP/1.1\r\nHost: x\r\n")  # never the blank line that ends the headers
    await writer.drain()
    assert await asyncio.wait_for(reader.read(), timeout=10) == b""  # closed by the server
    writer.close()

    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /api HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), timeout=10)
    assert answer.startswith(b"HTTP/1.1 200") and answer.endswith(b"done")
    writer.close()


async def test_beyond_inflight_limit_is_429(server: tuple[int, InFlightLimit], held: asyncio.Event) -> None:
    port, limit = server
    base = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession() as session:
        first = asyncio.ensure_future(session.get(f"{base}/api/v1/pods"))
        write = asyncio.ensure_future(session.post(f"{base}/api/v1/namespaces/x/pods", data=b"{}"))
        watch = asyncio.ensure_future(session.get(f"{base}/api/v1/pods?watch=1"))
        while (limit.reads, limit.writes) != (1, 1):  # until both counted requests are being served
            await asyncio.sleep(0.01)
        async with session.get(f"{base}/api/v1/nodes") as rejected:
            assert rejected.status == 429
            assert rejected.headers["Retry-After"] == "1"
            body = await rejected.json()
            assert body["reason"] == "TooManyRequests" and body["details"]["retryAfterSeconds"] == 1
        async with session.delete(f"{base}/api/v1/namespaces/x/pods/p") as rejected_write:
            assert rejected_write.status == 429
        held.set()
        for task in (first, write, watch):
            response = await task
            assert response.status == 200
            response.release()
