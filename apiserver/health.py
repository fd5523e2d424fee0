"""/healthz, /livez and /readyz as Kubernetes' server answers them: named checks, `?verbose`,
`?exclude=NAME`, one check at `/readyz/NAME`, and a storage probe so that a server whose etcd is
down says `[-]etcd failed` instead of answering 200 and failing every write.

readyz adds what decides whether traffic should come here (the watch caches are filled, the
server is not shutting down) to what livez checks.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from aiohttp import web

from apiserver.storage import Storage, StorageError

STORAGE_PROBE_TIMEOUT = 2.0  # Kubernetes' etcd health check gives a Get two seconds
HEALTH_KEY = "/registry/health"

Check = Callable[[], Awaitable[str | None]]  # → None when healthy, else why not


def checks_for(which: str, storage: Storage, ready: asyncio.Event, shutting_down: asyncio.Event) -> dict[str, Check]:
    async def ping() -> str | None:
        return None

    async def etcd() -> str | None:
        try:
            await asyncio.wait_for(storage.get(HEALTH_KEY), STORAGE_PROBE_TIMEOUT)
        except (StorageError, TimeoutError, OSError) as exc:
            return f"error getting data from etcd: {exc or type(exc).__name__}"
        return None

    async def informer_sync() -> str | None:
        return None if ready.is_set() else "informers not started yet"

    async def shutdown() -> str | None:
        return "process is shutting down" if shutting_down.is_set() else None

    checks: dict[str, Check] = {"ping": ping, "log": ping, "etcd": etcd}
    if which == "readyz":
        checks.update({"etcd-readiness": etcd, "informer-sync": informer_sync, "shutdown": shutdown})
    return checks


async def answer(request: web.Request, which: str, only: str, checks: dict[str, Check]) -> web.Response:
    if only:
        if only not in checks:
            return web.Response(status=404, text="404 page not found\n")
        failure = await checks[only]()
        if failure is None:
            return web.Response(text="ok", content_type="text/plain")
        return web.Response(status=500, text=f"internal server error: {failure}\n", content_type="text/plain")
    excluded = set(request.query.getall("exclude", []))
    selected = {name: check for name, check in checks.items() if name not in excluded}
    results = await asyncio.gather(*(check() for check in selected.values()))
    failed = any(result is not None for result in results)
    verbose = "verbose" in request.query
    if not failed and not verbose:
        return web.Response(text="ok", content_type="text/plain")
    lines = [f"[-]{name} failed: reason withheld" if result is not None else f"[+]{name} ok"
             for name, result in zip(selected, results, strict=True)]
    lines += [f"[+]{name} excluded: ok" for name in checks if name in excluded]
    lines.append(f"{which} check {'failed' if failed else 'passed'}")
    return web.Response(status=500 if failed else 200, text="\n".join(lines) + "\n", content_type="text/plain")
