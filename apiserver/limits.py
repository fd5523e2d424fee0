"""Connection and request limits, as Kubernetes' server sets them, so that slow or numerous
clients cannot hold the server: request headers must arrive within 32 s of a connection
opening (Go's ReadHeaderTimeout), an idle connection closes after 90 s (IdleTimeout), and at
most `--max-requests-inflight` reads and `--max-mutating-requests-inflight` writes are served
at once; beyond that a 429 with Retry-After (long-running requests such as watches, logs,
exec and port-forward are not counted, as in Kubernetes' MaxInFlightLimit filter).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web

from apimachinery.errors import StatusError

READ_HEADER_TIMEOUT = 32.0
IDLE_TIMEOUT = 90.0
MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
LONG_RUNNING_SUBRESOURCES = frozenset({"exec", "attach", "portforward", "proxy", "log"})


def is_long_running(request: web.Request) -> bool:
    """Kubernetes' BasicLongRunningRequestCheck: watches, and the streaming subresources."""
    if request.query.get("watch") in ("1", "true", "True") or "/watch/" in request.path:
        return True
    return request.path.rstrip("/").rsplit("/", 1)[-1] in LONG_RUNNING_SUBRESOURCES


def too_many_requests() -> StatusError:
    return StatusError(429, "TooManyRequests", "Too many requests, please try again later.",
                       retry_after_seconds=1, headers={"Retry-After": "1"})


@dataclass
class InFlightLimit:
    """Counts non-long-running requests; 0 as a limit means unlimited."""

    max_requests: int = 400
    max_mutating: int = 200
    reads: int = 0
    writes: int = 0

    def middleware(self) -> Callable[..., Awaitable[web.StreamResponse]]:
        @web.middleware
        async def limit(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                        ) -> web.StreamResponse:
            if is_long_running(request):
                return await handler(request)
            mutating = request.method in MUTATING
            current, cap = (self.writes, self.max_mutating) if mutating else (self.reads, self.max_requests)
            if cap and current >= cap:
                raise too_many_requests()
            self._add(mutating, 1)
            try:
                return await handler(request)
            finally:
                self._add(mutating, -1)

        return limit

    def _add(self, mutating: bool, delta: int) -> None:
        if mutating:
            self.writes += delta
        else:
            self.reads += delta


@dataclass
class HeaderDeadline:
    """Closes connections that have not delivered one complete request header within
    READ_HEADER_TIMEOUT of opening. (Between requests aiohttp's keep-alive timer, set to
    IDLE_TIMEOUT, closes a connection that sends nothing complete.)"""

    connections: Callable[[], list[web.RequestHandler]]
    timeout: float = READ_HEADER_TIMEOUT
    _opened: dict[int, float] = field(default_factory=dict)
    _task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        interval = min(1.0, self.timeout / 4)
        while True:
            await asyncio.sleep(interval)
            self.sweep(loop.time())

    def sweep(self, now: float) -> None:
        live = {id(handler): handler for handler in self.connections()}
        self._opened = {key: opened for key, opened in self._opened.items() if key in live}
        for key, handler in live.items():
            opened = self._opened.setdefault(key, now)
            if now - opened >= self.timeout and not has_started_a_request(handler):
                handler.force_close()


def has_started_a_request(handler: web.RequestHandler) -> bool:
    # aiohttp keeps these on the protocol; a connection that never completed a header has neither.
    return getattr(handler, "_request_count", 0) > 0 or getattr(handler, "_current_request", None) is not None
