"""The aiohttp application: routing of Kubernetes paths, error rendering, start-up and shutdown.

Routing is done by hand instead of with aiohttp's router because Kubernetes' URL grammar
is ambiguous by design (`/api/v1/namespaces/x` is an object, `/api/v1/namespaces/x/pods`
a collection) and one parser for it keeps the rules in one place.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from apimachinery import errors
from apimachinery.errors import StatusError
from apiserver import discovery, health, openapi, reviews, subresources
from apiserver.aggregator.aggregator import Aggregator
from apiserver.allocators import ServiceAllocator
from apiserver.handlers import ResourceHandler, Target, json_response
from apiserver.limits import HeaderDeadline, InFlightLimit
from apiserver.registry import Registry, now_rfc3339, status_for_storage_error
from apiserver.resources import RESOURCES, ResourceInfo, group_versions, lookup
from apiserver.storage import KeyExistsError, Storage, StorageError
from apiserver.watchcache import WatchCache

log = logging.getLogger(__name__)

SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
NOT_FOUND_MESSAGE = "the server could not find the requested resource"


@dataclass
class ApiServer:
    storage: Storage
    handlers: dict[tuple[str, str, str], ResourceHandler] = field(default_factory=dict)
    caches: list[WatchCache] = field(default_factory=list)
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    shutting_down: asyncio.Event = field(default_factory=asyncio.Event)
    aggregator: Aggregator | None = None

    def handler_for(self, resource: ResourceInfo) -> ResourceHandler:
        return self.handlers[(resource.group, resource.version, resource.plural)]

    async def start(self) -> None:
        await self.storage.open()
        namespace_cache: WatchCache | None = None
        for resource in RESOURCES:
            if not resource.stored:
                continue
            cache = WatchCache(self.storage, resource.key_prefix(), kind=resource.kind,
                               api_version=resource.api_version)
            self.caches.append(cache)
            if resource.kind == "Namespace":
                namespace_cache = cache
            registry = Registry(resource, self.storage, cache)
            if resource.kind == "Service":
                allocator = ServiceAllocator(cache)
                registry.create_hooks.append(allocator.allocate)
                registry.update_hooks.append(allocator.allocate_update)
            self.handlers[(resource.group, resource.version, resource.plural)] = ResourceHandler(registry)
        assert namespace_cache is not None
        ns_resource = lookup("", "v1", "namespaces")
        assert ns_resource is not None

        def namespace_lookup(name: str) -> dict[str, Any] | None:
            cached = namespace_cache.get(ns_resource.key("", name))
            return cached.obj if cached else None

        for handler in self.handlers.values():
            handler.registry.namespace_lookup = namespace_lookup
        await asyncio.gather(*(cache.start() for cache in self.caches))
        await self.ensure_system_namespaces()
        await self.start_aggregator()
        self.ready.set()

    async def start_aggregator(self) -> None:
        def registry_of(plural: str, group: str = "") -> Registry:
            return self.handler_for(lookup(group, "v1", plural)).registry  # type: ignore[arg-type]

        def key_of(plural: str, namespace: str, name: str) -> str:
            group = "apiregistration.k8s.io" if plural == "apiservices" else ""
            return lookup(group, "v1", plural).key(namespace, name)  # type: ignore[union-attr]

        self.aggregator = Aggregator(registry_of("apiservices", "apiregistration.k8s.io"),
                                     registry_of("services").cache, registry_of("endpoints").cache, key_of)
        await self.aggregator.start(group_versions())

    async def stop_aggregator(self) -> None:
        if self.aggregator is not None:
            await self.aggregator.stop()
            self.aggregator = None

    async def ensure_system_namespaces(self) -> None:
        ns_handler = self.handler_for(lookup("", "v1", "namespaces"))  # type: ignore[arg-type]
        for name in SYSTEM_NAMESPACES:
            try:
                await ns_handler.registry.create("", {"apiVersion": "v1", "kind": "Namespace",
                                                      "metadata": {"name": name}})
            except StatusError as exc:
                if exc.code != 409:
                    raise
            except KeyExistsError:
                pass
        # The namespace cache must see them before namespaced creates are checked against it.
        await ns_handler.registry.cache.wait_until_fresh(await self.storage.current_revision(), timeout=10.0)

    async def stop(self) -> None:
        self.ready.clear()
        await self.stop_aggregator()
        await asyncio.gather(*(cache.stop() for cache in self.caches), return_exceptions=True)
        await self.storage.close()

    # ---- routing -------------------------------------------------------------------

    async def dispatch(self, request: web.Request) -> web.StreamResponse:
        parts = [p for p in request.path.split("/") if p]
        if not parts:
            return json_response({"paths": sorted(self.root_paths())})
        head = parts[0]
        if head in ("healthz", "livez", "readyz") and len(parts) <= 2:
            checks = health.checks_for(head, self.storage, self.ready, self.shutting_down)
            return await health.answer(request, head, parts[1] if len(parts) == 2 else "", checks)
        if head == "version" and len(parts) == 1:
            return json_response(discovery.version_info())
        if head == "openapi":
            return self.openapi(request, parts)
        if head == "api":
            return await self.api(request, parts)
        if head == "apis":
            return await self.apis(request, parts)
        raise StatusError(404, "NotFound", NOT_FOUND_MESSAGE)

    def root_paths(self) -> list[str]:
        paths = ["/api", "/api/v1", "/apis", "/healthz", "/livez", "/readyz", "/version", "/openapi/v2", "/openapi/v3"]
        served = list(group_versions())
        if self.aggregator is not None:
            served += [(a["spec"]["group"], a["spec"]["version"]) for a in self.aggregator.remote()]
        paths += list(dict.fromkeys(f"/apis/{g}" for g, _ in served if g)) + [f"/apis/{g}/{v}" for g, v in served if g]
        return paths

    def openapi(self, request: web.Request, parts: list[str]) -> web.Response:
        if parts[1:] == ["v2"]:
            if "protobuf" in request.headers.get("Accept", ""):
                return web.Response(body=openapi.openapi_v2_protobuf(), content_type=openapi.OPENAPI_V2_PROTOBUF)
            return json_response(openapi.openapi_v2_document())
        if parts[1:2] != ["v3"]:
            raise StatusError(404, "NotFound", NOT_FOUND_MESSAGE)
        rest = parts[2:]
        if not rest:
            return json_response(openapi.openapi_v3_root())
        if rest[0] == "api" and rest[1:] == ["v1"]:
            return json_response(openapi.openapi_v3_document("", "v1"))
        if rest[0] == "apis" and len(rest) == 3 and (rest[1], rest[2]) in group_versions():
            return json_response(openapi.openapi_v3_document(rest[1], rest[2]))
        raise StatusError(404, "NotFound", NOT_FOUND_MESSAGE)

    async def api(self, request: web.Request, parts: list[str]) -> web.StreamResponse:
        if len(parts) == 1:
            if _wants_aggregated(request):
                return json_response(discovery.aggregated_discovery(core=True),
                                     content_type=discovery.AGGREGATED_CONTENT_TYPE)
            return json_response(discovery.legacy_api_versions(request.host))
        if parts[1] != "v1":
            raise StatusError(404, "NotFound", NOT_FOUND_MESSAGE)
        if len(parts) == 2:
            return json_response(discovery.legacy_resource_list("", "v1"))
        return await self.resource_request(request, "", "v1", parts[2:])

    def _priority(self) -> Callable[[str], int]:
        priorities = self.aggregator.group_priorities() if self.aggregator else {}
        return lambda group: priorities.get(group, 0)

    async def apis(self, request: web.Request, parts: list[str]) -> web.StreamResponse:
        served = set(group_versions())
        if len(parts) == 1:
            if _wants_aggregated(request):
                remote = [(a["spec"]["group"], a["spec"]["version"], doc)
                          for a, doc in (self.aggregator.discovery_documents() if self.aggregator else [])]
                return json_response(discovery.aggregated_discovery(core=False, remote=remote, priority=self._priority()),
                                     content_type=discovery.AGGREGATED_CONTENT_TYPE)
            remote_groups = self.aggregator.remote_groups() if self.aggregator else []
            return json_response(discovery.legacy_api_group_list(remote_groups, self._priority()))
        group = parts[1]
        if not any(g == group for g, _ in served) or not group:
            return await self.aggregated(request, parts)
        if len(parts) == 2:
            return json_response(discovery.api_group(group))
        version = parts[2]
        if (group, version) not in served:
            return await self.aggregated(request, parts)
        if len(parts) == 3:
            return json_response(discovery.legacy_resource_list(group, version))
        return await self.resource_request(request, group, version, parts[3:])

    async def aggregated(self, request: web.Request, parts: list[str]) -> web.StreamResponse:
        """`/apis/<group>[/<version>/...]` of a group an APIService registers elsewhere."""
        if self.aggregator is None or not parts[1]:
            raise StatusError(404, "NotFound", NOT_FOUND_MESSAGE)
        if len(parts) == 2:
            doc = next((g for g in self.aggregator.remote_groups() if g["name"] == parts[1]), None)
            if doc is None:
                raise StatusError(404, "NotFound", NOT_FOUND_MESSAGE)
            return json_response({"kind": "APIGroup", "apiVersion": "v1", **doc})
        apiservice = self.aggregator.find(parts[1], parts[2])
        if apiservice is None:
            raise StatusError(404, "NotFound", NOT_FOUND_MESSAGE)
        return await self.aggregator.proxy(request, apiservice)

    def parse_target(self, group: str, version: str, rest: list[str]) -> Target:
        namespace = ""
        if rest[0] == "namespaces" and len(rest) >= 3:
            candidate = lookup(group, version, rest[2])
            if candidate is not None and candidate.namespaced:
                namespace, rest = rest[1], rest[2:]
        resource = lookup(group, version, rest[0])
        if resource is None or len(rest) > 3:
            raise StatusError(404, "NotFound", NOT_FOUND_MESSAGE)
        name = rest[1] if len(rest) > 1 else ""
        sub = rest[2] if len(rest) > 2 else ""
        if sub and sub not in {s.name for s in resource.subresources}:
            raise StatusError(404, "NotFound", NOT_FOUND_MESSAGE)
        if namespace and not resource.namespaced:
            raise StatusError(404, "NotFound", NOT_FOUND_MESSAGE)
        if resource.namespaced and not namespace and name:
            raise StatusError(404, "NotFound", NOT_FOUND_MESSAGE)
        return Target(resource, namespace, name, sub)

    async def resource_request(self, request: web.Request, group: str, version: str,
                               rest: list[str]) -> web.StreamResponse:
        target = self.parse_target(group, version, rest)
        try:
            return await self.serve_target(request, target)
        except StorageError as exc:
            # A race the registry did not absorb (the object went away or moved on between
            # two steps) is the client's 404/409, never a 500.
            raise status_for_storage_error(exc, target) from None

    async def serve_target(self, request: web.Request, target: Target) -> web.StreamResponse:
        method = request.method
        if target.resource.namespaced and not target.namespace and method != "GET":
            # The all-namespaces path of a namespaced resource serves list and watch only.
            raise errors.method_not_allowed(method, target.resource.plural)
        if not target.resource.stored:
            if method != "POST" or target.name:
                raise errors.method_not_allowed(method, target.resource.plural)
            return await reviews.create(request, target.resource)
        handler = self.handler_for(target.resource)
        if target.subresource in ("scale",):
            return await subresources.scale(handler, request, target)
        if target.subresource == "binding":
            return await subresources.binding(handler, request, target)
        if target.subresource == "finalize":
            return await subresources.finalize(handler, request, target)
        if target.subresource in ("log", "exec", "portforward"):
            nodes = self.handler_for(lookup("", "v1", "nodes"))  # type: ignore[arg-type]
            return await subresources.pod_proxy(handler, request, target, nodes)
        if not target.name:
            if method == "GET":
                return await handler.list(request, target)
            if method == "POST":
                return await handler.create(request, target)
            if method == "DELETE":
                return await handler.delete_collection(request, target)
            raise errors.method_not_allowed(method, target.resource.plural)
        if method == "GET":
            return await handler.get(request, target)
        if method == "PUT":
            return await handler.update(request, target)
        if method == "PATCH":
            return await handler.patch(request, target)
        if method == "DELETE" and not target.subresource:
            return await handler.delete(request, target)
        raise errors.method_not_allowed(method, target.resource.plural)


def _wants_aggregated(request: web.Request) -> bool:
    return "as=APIGroupDiscoveryList" in request.headers.get("Accept", "")


@web.middleware
async def status_errors(request: web.Request, handler: Any) -> web.StreamResponse:
    """Every failure leaves as a Kubernetes Status; unexpected ones are logged with traceback."""
    try:
        return await handler(request)
    except StatusError as exc:
        return status_response(exc)
    except web.HTTPRequestEntityTooLarge:
        err = errors.too_large()
        return json_response(err.to_status(), status=err.code)
    except web.HTTPException as exc:
        err = StatusError(exc.status, exc.reason.replace(" ", ""), NOT_FOUND_MESSAGE if exc.status == 404 else exc.text or "")
        return json_response(err.to_status(), status=err.code)
    except (asyncio.CancelledError, ConnectionResetError):
        raise
    except Exception as exc:  # noqa: BLE001 - the one place that turns surprises into a 500 Status
        log.exception("unhandled error serving %s %s", request.method, request.path)
        err = errors.internal(str(exc) or exc.__class__.__name__)
        return json_response(err.to_status(), status=err.code)


def status_response(err: StatusError) -> web.Response:
    """A Status that cannot itself fail: headers a client could have poisoned are dropped."""
    try:
        return json_response(err.to_status(), status=err.code, headers=err.headers)
    except Exception:  # noqa: BLE001 - the error path must always answer
        return json_response(errors.internal(err.reason or "error").to_status(), status=500)


async def _no_cache(request: web.Request, response: web.StreamResponse) -> None:
    response.headers.setdefault("Cache-Control", "no-cache, private")


def build_app(storage: Storage, inflight: InFlightLimit | None = None) -> web.Application:
    server = ApiServer(storage)
    inflight = inflight or InFlightLimit()
    app = web.Application(middlewares=[status_errors, inflight.middleware()], client_max_size=64 * 1024 * 1024)
    app["server"] = server
    # The runner that serves the app says which connections it holds (apiserver.server sets it).
    deadline = HeaderDeadline(lambda: app["connections"]() if "connections" in app else [])
    app.on_response_prepare.append(_no_cache)
    app.router.add_route("*", "/{tail:.*}", server.dispatch)

    async def on_startup(_: web.Application) -> None:
        await server.start()
        deadline.start()

    async def on_shutdown(_: web.Application) -> None:
        # Open watch streams would hold graceful shutdown until they time out: end them first.
        server.shutting_down.set()
        await server.stop_aggregator()
        await asyncio.gather(*(cache.stop() for cache in server.caches), return_exceptions=True)

    async def on_cleanup(_: web.Application) -> None:
        await deadline.stop()
        await server.stop()

    app.on_startup.append(on_startup)
    app.on_shutdown.append(on_shutdown)
    app.on_cleanup.append(on_cleanup)
    return app


__all__ = ["ApiServer", "build_app", "now_rfc3339"]
