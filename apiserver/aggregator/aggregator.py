"""The aggregator as the API server uses it: local registration at start, which groups are
served elsewhere, their discovery documents, and the proxy hop for their paths."""

from __future__ import annotations

import asyncio
import copy
import logging
from collections.abc import Callable, Iterable
from typing import Any

import aiohttp
from aiohttp import web

from apimachinery.errors import StatusError
from apiserver.aggregator import apiservices as api
from apiserver.aggregator.availability import AvailabilityController, http_prober
from apiserver.aggregator.proxy import forward, plain_error, tls_context
from apiserver.aggregator.resolve import Unresolvable, locate
from apiserver.registry import DeleteOptions, Registry
from apiserver.watchcache import WatchCache

log = logging.getLogger(__name__)

Obj = dict[str, Any]
# kube-py has no authentication yet: every request is system:anonymous (see reviews.ANONYMOUS).
ANONYMOUS_USER, ANONYMOUS_GROUPS = "system:anonymous", ("system:unauthenticated",)


class Aggregator:
    def __init__(self, registry: Registry, services: WatchCache, endpoints: WatchCache,
                 key_of: Callable[[str, str, str], str]) -> None:
        self.registry = registry
        self.cache = registry.cache
        self.key_of = key_of
        self.session: aiohttp.ClientSession | None = None
        self.controller: AvailabilityController | None = None
        self._services, self._endpoints = services, endpoints
        self._task: asyncio.Task[None] | None = None
        self.served: frozenset[tuple[str, str]] = frozenset()  # what kube-py serves itself

    # ---- lifecycle --------------------------------------------------------------------

    async def start(self, served: Iterable[tuple[str, str]]) -> None:
        self.served = frozenset(served)
        self.session = aiohttp.ClientSession(auto_decompress=False,
                                             timeout=aiohttp.ClientTimeout(total=None, sock_connect=5))
        await self.register_local(self.served)
        self.controller = AvailabilityController(self.cache, self._services, self._endpoints, self.key_of,
                                                 self._write_status, http_prober(self.session))
        self._task = asyncio.create_task(self.controller.run(), name="apiservice-availability")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self.session is not None:
            await self.session.close()

    async def register_local(self, served: Iterable[tuple[str, str]]) -> None:
        """The autoregister controller's "sync on start": create or correct the local
        APIServices, remove start-managed ones for group-versions no longer served."""
        desired = {d["metadata"]["name"]: d for d in api.desired_local(served)}
        for name, wanted in desired.items():
            try:
                current = await self.registry.get("", name)
            except StatusError as exc:
                if exc.code != 404:
                    raise
                await self.registry.create("", copy.deepcopy(wanted))
                continue
            if current.get("spec") != wanted["spec"]:
                await self.registry.update("", name, {**current, "spec": wanted["spec"]})
        objects, _ = self.cache.list()
        for cached in objects:
            meta = cached.obj["metadata"]
            if (meta.get("labels") or {}).get(api.AUTOMANAGED_LABEL) == "onstart" and meta["name"] not in desired:
                await self.registry.delete("", meta["name"], DeleteOptions())

    async def _write_status(self, name: str, mutate: Callable[[Obj], Obj]) -> None:
        def as_status_update(current: Obj) -> Obj:
            return self.registry.apply_update(mutate(current), current, subresource="status")
        await self.registry.guaranteed_update("", name, as_status_update)

    # ---- what is served elsewhere -----------------------------------------------------

    def remote(self) -> list[Obj]:
        """APIServices with a Service for group-versions kube-py does not serve itself."""
        return [c.obj for c in self.cache.list()[0] if api.service_of(c.obj) is not None
                and ((c.obj.get("spec") or {}).get("group", ""), (c.obj.get("spec") or {}).get("version", ""))
                not in self.served]

    def find(self, group: str, version: str) -> Obj | None:
        return next((a for a in self.remote() if (a["spec"].get("group"), a["spec"].get("version"))
                     == (group, version)), None)

    def remote_groups(self) -> list[Obj]:
        """APIGroup entries for `/apis`, in the aggregator's priority order."""
        groups = []
        for name, members in api.sorted_by_priority(self.remote()):
            versions = [{"groupVersion": f"{name}/{a['spec']['version']}", "version": a["spec"]["version"]}
                        for a in members]
            groups.append({"name": name, "versions": versions, "preferredVersion": versions[0]})
        return groups

    def group_priorities(self) -> dict[str, int]:
        """Each group's highest groupPriorityMinimum, local and remote (the aggregator's first)."""
        priorities: dict[str, int] = {}
        for (group, _), (priority, _) in api.LOCAL_PRIORITIES.items():
            priorities[group] = max(priorities.get(group, 0), priority)
        for a in self.remote():
            group = a["spec"].get("group", "")
            priorities[group] = max(priorities.get(group, 0), int(a["spec"].get("groupPriorityMinimum") or 0))
        priorities[api.GROUP] = api.APIREGISTRATION_PRIORITY
        return priorities

    def discovery_documents(self) -> list[tuple[Obj, Obj]]:
        """(APIService, its backend's APIResourceList) for the available remote group-versions."""
        documents = self.controller.documents if self.controller else {}
        return [(a, documents[a["metadata"]["name"]]) for a in self.remote()
                if api.is_available(a) and a["metadata"]["name"] in documents]

    # ---- the proxy hop ----------------------------------------------------------------

    def _object(self, plural: str, namespace: str, name: str) -> Obj | None:
        cache = self._services if plural == "services" else self._endpoints
        cached = cache.get(self.key_of(plural, namespace, name))
        return cached.obj if cached else None

    async def proxy(self, request: web.Request, apiservice: Obj) -> web.StreamResponse:
        if not api.is_available(apiservice) or self.session is None:
            return plain_error("service unavailable", 503)
        ref = api.service_of(apiservice) or {}
        namespace, name = ref.get("namespace", ""), ref.get("name", "")
        try:
            location = locate(ref, self._object("services", namespace, name), self._object("endpoints", namespace, name))
        except Unresolvable:
            return plain_error("service unavailable", 503)
        return await forward(self.session, request, location, tls_context(apiservice.get("spec") or {}),
                             ANONYMOUS_USER, ANONYMOUS_GROUPS)
