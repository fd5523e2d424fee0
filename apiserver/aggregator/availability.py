"""The Available condition of every APIService (kube-aggregator's availability controllers).

A local APIService is always available. A remote one is checked against its Service and
Endpoints (`resolve.precheck`), then its backend must answer `GET /apis/<group>/<version>`
with a 2xx within 5 seconds on at least one of five attempts, as the Go controller does;
the answer is kept as the group-version's discovery document. Every APIService is
re-checked every 30 seconds and whenever its Service or Endpoints change.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson

from apimachinery.errors import StatusError
from apimachinery.timeutil import now_rfc3339
from apiserver.aggregator.apiservices import service_of, with_condition
from apiserver.aggregator.proxy import tls_context
from apiserver.aggregator.resolve import Location, Unresolvable, locate, precheck
from apiserver.strategy import local_available_condition
from apiserver.watchcache import WatchCache
from kubeclient.workqueue import ShutDown, WorkQueue

log = logging.getLogger(__name__)

Obj = dict[str, Any]
RESYNC_SECONDS = 30.0
PROBE_ATTEMPTS = 5
PROBE_TIMEOUT = 5.0
# The probe speaks for the aggregator itself, with rights everywhere (system:masters).
PROBE_IDENTITY = [("X-Remote-User", "system:kube-aggregator"), ("X-Remote-Group", "system:masters")]


@dataclass(frozen=True)
class ProbeResult:
    error: str  # "" = passed
    document: Obj | None = None  # the backend's APIResourceList, when it sent one


Prober = Callable[[Location, Obj, str], Awaitable[ProbeResult]]
StatusWriter = Callable[[str, Callable[[Obj], Obj]], Awaitable[None]]


def discovery_path(apiservice: Obj) -> str:
    spec = apiservice.get("spec") or {}
    if apiservice["metadata"]["name"] == "v1.":
        return f"/api/{spec.get('version', '')}"
    return f"/apis/{spec.get('group', '')}/{spec.get('version', '')}"


def _go_error(url: str, exc: BaseException) -> str:
    if isinstance(exc, aiohttp.ClientConnectorError):
        reason = "connection refused" if isinstance(exc.os_error, ConnectionRefusedError) else str(exc.os_error)
        return f'Get "{url}": dial tcp {exc.host}:{exc.port}: connect: {reason}'
    if isinstance(exc, TimeoutError):
        return f'Get "{url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)'
    return f'Get "{url}": {exc}'


async def _attempt(session: aiohttp.ClientSession, location: Location, context: ssl.SSLContext,
                   path: str) -> ProbeResult:
    url = location.url(path)
    try:
        async with asyncio.timeout(PROBE_TIMEOUT + 1), session.get(
                url, ssl=context, server_hostname=location.server_name, headers=PROBE_IDENTITY,
                allow_redirects=False, timeout=aiohttp.ClientTimeout(total=PROBE_TIMEOUT)) as response:
            body = await response.read()
            if not 200 <= response.status < 300:
                return ProbeResult(f"failing or missing response from {url}: bad status from {url}: "
                                   f"{response.status}")
    except (aiohttp.ClientError, ssl.SSLError, OSError, TimeoutError) as exc:
        return ProbeResult(f"failing or missing response from {url}: {_go_error(url, exc)}")
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        document = None
    return ProbeResult("", document if isinstance(document, dict) else None)


def http_prober(session: aiohttp.ClientSession) -> Prober:
    async def probe(location: Location, spec: Obj, path: str) -> ProbeResult:
        context = tls_context({**spec, "insecureSkipTLSVerify": True})  # the Go probe does not verify either
        results = await asyncio.gather(*(_attempt(session, location, context, path) for _ in range(PROBE_ATTEMPTS)))
        return next((r for r in results if not r.error), results[-1])
    return probe


class AvailabilityController:
    """An informer-fed queue of APIService names and one idempotent `sync(name)`."""

    def __init__(self, apiservices: WatchCache, services: WatchCache, endpoints: WatchCache,
                 key_of: Callable[[str, str, str], str], write_status: StatusWriter, prober: Prober,
                 resync_seconds: float = RESYNC_SECONDS) -> None:
        self.apiservices, self.services, self.endpoints = apiservices, services, endpoints
        self.key_of = key_of  # (plural, namespace, name) → storage key
        self.write_status = write_status
        self.prober = prober
        self.resync_seconds = resync_seconds
        self.queue = WorkQueue()
        self.documents: dict[str, Obj] = {}  # APIService name → the backend's APIResourceList

    def _apiservice(self, name: str) -> Obj | None:
        cached = self.apiservices.get(self.key_of("apiservices", "", name))
        return cached.obj if cached else None

    def _object(self, cache: WatchCache, plural: str, namespace: str, name: str) -> Obj | None:
        cached = cache.get(self.key_of(plural, namespace, name))
        return cached.obj if cached else None

    async def sync(self, name: str) -> None:
        apiservice = self._apiservice(name)
        if apiservice is None:
            self.documents.pop(name, None)
            return
        ref = service_of(apiservice)
        if ref is None:
            wanted = local_available_condition(now_rfc3339())
        else:
            wanted = await self._remote_condition(name, apiservice, ref)
        if self._unchanged(apiservice, wanted):
            return

        def set_condition(current: Obj) -> Obj:
            new = copy.deepcopy(current)
            new["status"] = with_condition(current.get("status") or {}, {**wanted, "lastTransitionTime": now_rfc3339()})
            return new

        with contextlib.suppress(StatusError):  # gone meanwhile: its delete event ends the story
            await self.write_status(name, set_condition)

    @staticmethod
    def _unchanged(apiservice: Obj, wanted: Obj) -> bool:
        for cond in (apiservice.get("status") or {}).get("conditions") or []:
            if cond.get("type") == wanted["type"]:
                return all(cond.get(k, "") == wanted.get(k, "") for k in ("status", "reason", "message"))
        return False

    async def _remote_condition(self, name: str, apiservice: Obj, ref: Obj) -> Obj:
        namespace, service_name = ref.get("namespace", ""), ref.get("name", "")
        service = self._object(self.services, "services", namespace, service_name)
        endpoints = self._object(self.endpoints, "endpoints", namespace, service_name)
        failed = precheck(ref, service, endpoints)
        if failed is not None:
            self.documents.pop(name, None)
            return failed
        try:
            location = locate(ref, service, endpoints)
        except Unresolvable as exc:
            self.documents.pop(name, None)
            return {"type": "Available", "status": "False", "reason": "FailedDiscoveryCheck", "message": str(exc)}
        result = await self.prober(location, apiservice.get("spec") or {}, discovery_path(apiservice))
        if result.error:
            self.documents.pop(name, None)
            self.queue.add_after(name, self.resync_seconds)
            return {"type": "Available", "status": "False", "reason": "FailedDiscoveryCheck", "message": result.error}
        if result.document is not None:
            self.documents[name] = result.document
        return {"type": "Available", "status": "True", "reason": "Passed", "message": "all checks passed"}

    # ---- feeding the queue ------------------------------------------------------------

    def _names_for_service(self, namespace: str, name: str) -> list[str]:
        names = []
        for cached in self.apiservices.list()[0]:
            ref = service_of(cached.obj) or {}
            if (ref.get("namespace"), ref.get("name")) == (namespace, name):
                names.append(cached.obj["metadata"]["name"])
        return names

    async def _follow(self, cache: WatchCache, names_of: Callable[[Obj], list[str]]) -> None:
        while True:
            await cache.wait_ready()
            try:
                async with cache.watch("", 0, send_initial=True) as watcher:
                    async for event in watcher:
                        for name in names_of(event.obj):
                            self.queue.add(name)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - a watch the cache ended is simply reopened
                log.debug("aggregator: watch ended, reopening", exc_info=True)
            await asyncio.sleep(0.1)

    async def _resync(self) -> None:
        while True:
            await asyncio.sleep(self.resync_seconds)
            for cached in self.apiservices.list()[0]:
                self.queue.add(cached.obj["metadata"]["name"])

    async def _worker(self) -> None:
        while True:
            try:
                name = await self.queue.get()
            except ShutDown:
                return
            try:
                await self.sync(str(name))
                self.queue.forget(name)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - retried with backoff like any controller
                log.exception("aggregator: sync %s failed", name)
                self.queue.add_rate_limited(name)
            finally:
                self.queue.done(name)

    async def run(self) -> None:
        def owner(obj: Obj) -> list[str]:
            meta = obj.get("metadata") or {}
            return self._names_for_service(meta.get("namespace", ""), meta.get("name", ""))

        tasks = [asyncio.create_task(self._follow(self.apiservices, lambda o: [o["metadata"]["name"]])),
                 asyncio.create_task(self._follow(self.services, owner)),
                 asyncio.create_task(self._follow(self.endpoints, owner)),
                 asyncio.create_task(self._resync()),
                 *(asyncio.create_task(self._worker()) for _ in range(2))]
        try:
            await asyncio.gather(*tasks)
        finally:
            await self.queue.shutdown()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
