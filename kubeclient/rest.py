"""Async REST client for the kube-py API server (client-go's rest + dynamic client, small).

Objects are plain JSON dicts; paths come from `apimachinery.resources`, so the client
needs no discovery. Non-2xx answers raise `StatusError` rebuilt from the server's
Status body, so callers branch on `.code` / `.reason` exactly as the server meant them.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import orjson

from apimachinery.errors import StatusCause, StatusError
from apimachinery.resources import ResourceInfo, resolve
from kubeclient.kubeconfig import ClusterConfig, load_config

PATCH_TYPES = {
    "strategic": "application/strategic-merge-patch+json",
    "merge": "application/merge-patch+json",
    "json": "application/json-patch+json",
    "apply": "application/apply-patch+yaml",
}


def resource_of(resource: ResourceInfo | str) -> ResourceInfo:
    return resource if isinstance(resource, ResourceInfo) else resolve(resource)


def object_path(resource: ResourceInfo, namespace: str = "", name: str = "", subresource: str = "") -> str:
    path = resource.base_path()
    if resource.namespaced and namespace:
        path += f"/namespaces/{namespace}"
    path += f"/{resource.plural}"
    if name:
        path += f"/{name}"
    if subresource:
        path += f"/{subresource}"
    return path


def status_error(code: int, body: bytes) -> StatusError:
    try:
        status = orjson.loads(body)
    except orjson.JSONDecodeError:
        status = {}
    if not isinstance(status, dict) or status.get("kind") != "Status":
        text = body.decode(errors="replace").strip() or f"HTTP {code}"
        return StatusError(code, "Unknown", f"the server responded with HTTP {code}: {text[:200]}")
    details = status.get("details") or {}
    causes = [StatusCause(c.get("reason", ""), c.get("message", ""), c.get("field", ""))
              for c in details.get("causes") or []]
    return StatusError(int(status.get("code") or code), status.get("reason") or "Unknown",
                       status.get("message") or "", name=details.get("name", ""), group=details.get("group", ""),
                       kind=details.get("kind", ""), causes=causes,
                       retry_after_seconds=details.get("retryAfterSeconds"))


@dataclass
class Response:
    status: int
    body: bytes
    headers: dict[str, str]

    def json(self) -> Any:
        return orjson.loads(self.body) if self.body else None

    @property
    def warnings(self) -> list[str]:
        raw = self.headers.get("Warning", "")
        return [w.split(" - ", 1)[-1].strip().strip('"') for w in raw.split(", 299") if w] if raw else []


class ApiClient:
    """One connection pool to one API server. Use as `async with ApiClient(...) as api:`."""

    def __init__(self, server: str, *, token: str = "", ca_file: str = "", insecure: bool = False,
                 timeout: float = 30.0, user_agent: str = "kube-py") -> None:
        self.server = server.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.user_agent = user_agent
        self._ssl: ssl.SSLContext | bool = True
        if self.server.startswith("https://"):
            if insecure:
                self._ssl = False
            elif ca_file:
                self._ssl = ssl.create_default_context(cafile=ca_file)
        self._session: aiohttp.ClientSession | None = None

    @classmethod
    def from_config(cls, config: ClusterConfig, **kwargs: Any) -> ApiClient:
        return cls(config.server, token=config.token, ca_file=config.ca_file, insecure=config.insecure, **kwargs)

    @classmethod
    def from_kubeconfig(cls, path: str | Path | None = None, context: str = "", **kwargs: Any) -> ApiClient:
        return cls.from_config(load_config(path, context), **kwargs)

    async def __aenter__(self) -> ApiClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            headers = {"User-Agent": self.user_agent, "Accept": "application/json"}
            if self.token:
                headers["Authorization"] = f"Bearer {self.token}"
            self._session = aiohttp.ClientSession(headers=headers, json_serialize=lambda o: orjson.dumps(o).decode(),
                                                  connector=aiohttp.TCPConnector(limit=0, ssl=self._ssl))
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def request(self, method: str, path: str, *, params: dict[str, Any] | None = None, body: Any = None,
                      content_type: str = "application/json", headers: dict[str, str] | None = None,
                      request_timeout: float | None = None) -> Response:
        data = None if body is None else (body if isinstance(body, bytes) else orjson.dumps(body))
        hdrs = {"Content-Type": content_type, **(headers or {})} if data is not None else dict(headers or {})
        query = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in (params or {}).items()
                 if v not in (None, "")}
        try:
            async with self.session.request(method, self.server + path, params=query, data=data, headers=hdrs,
                                            timeout=aiohttp.ClientTimeout(total=request_timeout or self.timeout)) as resp:
                raw = await resp.read()
                result = Response(resp.status, raw, dict(resp.headers))
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise StatusError(503, "ServiceUnavailable", f"cannot reach {self.server}: {exc or type(exc).__name__}") \
                from exc
        if result.status >= 400:
            raise status_error(result.status, result.body)
        return result

    # ---- typed verbs -------------------------------------------------------------------

    async def get(self, resource: ResourceInfo | str, name: str, namespace: str = "", *, subresource: str = "",
                  resource_version: str = "") -> dict[str, Any]:
        r = resource_of(resource)
        resp = await self.request("GET", object_path(r, namespace, name, subresource),
                                  params={"resourceVersion": resource_version})
        return resp.json()

    async def list(self, resource: ResourceInfo | str, namespace: str = "", *, label_selector: str = "",
                   field_selector: str = "", limit: int = 0, continue_token: str = "",
                   resource_version: str = "") -> dict[str, Any]:
        r = resource_of(resource)
        resp = await self.request("GET", object_path(r, namespace), params={
            "labelSelector": label_selector, "fieldSelector": field_selector, "limit": limit or None,
            "continue": continue_token, "resourceVersion": resource_version})
        return resp.json()

    async def list_all(self, resource: ResourceInfo | str, namespace: str = "", *, label_selector: str = "",
                       field_selector: str = "", page_size: int = 500) -> dict[str, Any]:
        """Every page of a list joined, with the first page's resourceVersion."""
        first = await self.list(resource, namespace, label_selector=label_selector, field_selector=field_selector,
                                limit=page_size)
        items = list(first.get("items") or [])
        token = (first.get("metadata") or {}).get("continue", "")
        while token:
            page = await self.list(resource, namespace, label_selector=label_selector,
                                   field_selector=field_selector, limit=page_size, continue_token=token)
            items.extend(page.get("items") or [])
            token = (page.get("metadata") or {}).get("continue", "")
        first["items"] = items
        first.setdefault("metadata", {}).pop("continue", None)
        return first

    async def create(self, resource: ResourceInfo | str, obj: dict[str, Any], namespace: str = "", *,
                     subresource: str = "", name: str = "", dry_run: bool = False,
                     field_validation: str = "") -> dict[str, Any]:
        r = resource_of(resource)
        ns = namespace or (obj.get("metadata") or {}).get("namespace", "")
        resp = await self.request("POST", object_path(r, ns, name, subresource), body=obj,
                                  params={"dryRun": "All" if dry_run else None, "fieldValidation": field_validation})
        return resp.json()

    async def update(self, resource: ResourceInfo | str, obj: dict[str, Any], namespace: str = "", *,
                     subresource: str = "", dry_run: bool = False, field_validation: str = "") -> dict[str, Any]:
        r = resource_of(resource)
        meta = obj.get("metadata") or {}
        resp = await self.request("PUT", object_path(r, namespace or meta.get("namespace", ""), meta["name"],
                                                     subresource), body=obj,
                                  params={"dryRun": "All" if dry_run else None, "fieldValidation": field_validation})
        return resp.json()

    async def update_status(self, resource: ResourceInfo | str, obj: dict[str, Any], namespace: str = "") -> dict[str, Any]:
        return await self.update(resource, obj, namespace, subresource="status")

    async def patch(self, resource: ResourceInfo | str, name: str, patch: Any, namespace: str = "", *,
                    patch_type: str = "strategic", subresource: str = "", dry_run: bool = False,
                    field_manager: str = "", field_validation: str = "") -> dict[str, Any]:
        r = resource_of(resource)
        resp = await self.request("PATCH", object_path(r, namespace, name, subresource), body=patch,
                                  content_type=PATCH_TYPES[patch_type],
                                  params={"dryRun": "All" if dry_run else None, "fieldManager": field_manager,
                                          "fieldValidation": field_validation})
        return resp.json()

    async def delete(self, resource: ResourceInfo | str, name: str, namespace: str = "", *,
                     propagation_policy: str | None = None, grace_period_seconds: int | None = None,
                     preconditions: dict[str, str] | None = None, dry_run: bool = False) -> dict[str, Any]:
        r = resource_of(resource)
        options: dict[str, Any] = {}
        if propagation_policy:
            options["propagationPolicy"] = propagation_policy
        if grace_period_seconds is not None:
            options["gracePeriodSeconds"] = grace_period_seconds
        if preconditions:
            options["preconditions"] = preconditions
        if dry_run:
            options["dryRun"] = ["All"]
        resp = await self.request("DELETE", object_path(r, namespace, name), body=options or None)
        return resp.json()

    async def watch(self, resource: ResourceInfo | str, namespace: str = "", *, resource_version: str = "",
                    label_selector: str = "", field_selector: str = "", timeout_seconds: int | None = None,
                    allow_bookmarks: bool = True) -> AsyncIterator[dict[str, Any]]:
        """Watch events as dicts `{"type", "object"}`; ends when the server ends the stream.
        An ERROR event is raised as StatusError (410 → the caller relists)."""
        r = resource_of(resource)
        params = {"resourceVersion": resource_version, "labelSelector": label_selector,
                  "fieldSelector": field_selector, "timeoutSeconds": timeout_seconds,
                  "allowWatchBookmarks": "true" if allow_bookmarks else None}
        async for event in self.watch_path(object_path(r, namespace), params):
            yield event

    async def watch_path(self, path: str, params: dict[str, Any],
                         accept: str = "application/json") -> AsyncIterator[dict[str, Any]]:
        """The event stream of `path?watch=true&params`, asking for `accept` (kubectl's
        `get -w` wants Table rows)."""
        query = {k: str(v) for k, v in {**params, "watch": "true"}.items() if v not in (None, "")}
        timeout = aiohttp.ClientTimeout(total=None, sock_read=None)
        try:
            async with self.session.get(self.server + path, params=query, headers={"Accept": accept},
                                        timeout=timeout) as resp:
                if resp.status >= 400:
                    raise status_error(resp.status, await resp.read())
                async for line in resp.content:
                    if not line.strip():
                        continue
                    event = orjson.loads(line)
                    if event.get("type") == "ERROR":
                        obj = event.get("object") or {}
                        raise status_error(int(obj.get("code") or 500), orjson.dumps(obj))
                    yield event
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise StatusError(503, "ServiceUnavailable", f"watch to {self.server} broke: {exc}") from exc
