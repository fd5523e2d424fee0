"""HTTP handlers: Kubernetes REST paths in, registry calls and Kubernetes-shaped answers out.

This layer owns everything a client can see on the wire and nothing about storage:
URL grammar, query parameters (parsed like Go's ParseBool), bodies (JSON or YAML, size
limit; typed clients' protobuf is decoded to the same dict), field validation modes,
content negotiation for Tables, list fast paths that join stored bytes, and chunked watch
streams.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
from aiohttp import web

from apimachinery import errors
from apimachinery.errors import StatusCause, StatusError
from apimachinery.fields import FieldSelectorError, check_supported, parse_field_selector, selectable_fields
from apimachinery.gofmt import go_quote
from apimachinery.labels import SelectorError, parse_selector
from apimachinery.patch import PatchError, json_merge_patch, json_patch, strategic_merge_patch
from apimachinery.scheme import type_errors, unknown_fields
from apiserver import printers
from apiserver.bodies import JSON, metadata_of, read_body, replace_lone_surrogates
from apiserver.registry import DeleteOptions, Registry, WriteResult
from apiserver.resources import ResourceInfo
from apiserver.storage import CompactedError, decode_continue, encode_continue
from apiserver.storage.interface import InvalidContinueError
from apiserver.watchcache import CachedObject, TooOldResourceVersion

log = logging.getLogger(__name__)

TABLE_CONTENT_TYPE = "application/json;as=Table;v=v1;g=meta.k8s.io"
_TRUE = {"1", "t", "T", "TRUE", "true", "True"}
_FALSE = {"0", "f", "F", "FALSE", "false", "False"}


def parse_bool(value: str | None, name: str = "") -> bool:
    """Go's strconv.ParseBool, which is what the real server uses for query booleans."""
    if value is None or value == "":
        return False
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise errors.bad_request(f'strconv.ParseBool: parsing "{value}": invalid syntax ({name})')


def parse_int(value: str | None, name: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise errors.bad_request(f'strconv.ParseInt: parsing "{value}": invalid syntax ({name})') from None


def encode_json(body: Any) -> bytes:
    """Kubernetes' JSON serializer ends every document with a newline; clients compare bodies.
    A string that cannot be UTF-8 (echoed client input) is written with U+FFFD, as Go would."""
    try:
        return orjson.dumps(body, option=orjson.OPT_APPEND_NEWLINE)
    except orjson.JSONEncodeError:
        return orjson.dumps(replace_lone_surrogates(body), option=orjson.OPT_APPEND_NEWLINE)


def json_response(body: bytes | dict[str, Any], status: int = 200, content_type: str = JSON,
                  headers: dict[str, str] | None = None) -> web.Response:
    raw = body if isinstance(body, bytes) else encode_json(body)
    return web.Response(body=raw, status=status, headers={"Content-Type": content_type, **(headers or {})})


def wants_table(request: web.Request) -> bool:
    accept = request.headers.get("Accept", "")
    return any("as=Table" in part and "g=meta.k8s.io" in part for part in accept.split(","))


@dataclass
class Target:
    """What a resource URL names."""

    resource: ResourceInfo
    namespace: str  # "" = cluster-scoped or all namespaces
    name: str
    subresource: str


@dataclass
class Filters:
    label: Any = None
    field: Any = None

    def predicate(self, kind: str) -> Callable[[dict[str, Any]], bool] | None:
        if self.label is None and self.field is None:
            return None

        def match(obj: dict[str, Any]) -> bool:
            if self.label is not None and not self.label.matches((obj.get("metadata") or {}).get("labels") or {}):
                return False
            return self.field is None or self.field.matches(selectable_fields(kind, obj))

        return match


def parse_filters(request: web.Request, kind: str) -> Filters:
    filters = Filters()
    label = request.query.get("labelSelector", "")
    field = request.query.get("fieldSelector", "")
    try:
        if label:
            filters.label = parse_selector(label)
        if field:
            filters.field = parse_field_selector(field)
            check_supported(kind, filters.field)
    except (SelectorError, FieldSelectorError) as exc:
        raise errors.bad_request(str(exc)) from None
    return filters


def check_fields(request: web.Request, kind_key: tuple[str, str], obj: dict[str, Any]) -> list[str]:
    """Type errors → 400; unknown fields per `fieldValidation` (Strict/Warn/Ignore) → warnings."""
    if not isinstance(obj, dict):
        raise errors.bad_request("the body of the request was in an unknown format")
    problems = type_errors(kind_key, obj)
    if obj.get("metadata") is None:
        obj["metadata"] = {}  # JSON null decodes to Go's zero ObjectMeta
    if problems:
        raise errors.bad_request("; ".join(message for _, message in problems))
    mode = request.query.get("fieldValidation", "Warn")
    if mode not in ("Strict", "Warn", "Ignore"):
        raise errors.bad_request(f'fieldValidation parameter unsupported: "{mode}"; expected one of '
                                 '"Ignore", "Warn", or "Strict"')
    unknown = unknown_fields(kind_key, obj, prune=mode != "Strict")
    if not unknown or mode == "Ignore":
        return []
    if mode == "Strict":
        raise errors.bad_request("strict decoding error: " + ", ".join(f'unknown field "{p}"' for p in unknown))
    return [f'unknown field "{p}"' for p in unknown]


def warning_headers(warnings: list[str]) -> dict[str, str]:
    """RFC 7234 Warning values as net.NewWarningHeader writes them: the text strconv.Quote'd, so
    client input (a field name with a newline) can never break the header; text that is not
    valid UTF-8 is dropped, as Kubernetes drops it."""
    values = [f"299 - {go_quote(w)}" for w in warnings if _valid_utf8(w)]
    return {"Warning": ", ".join(values)} if values else {}


def _valid_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_watch_options(watch_list: bool, send_initial: bool, bookmarks: bool, match: str) -> None:
    """ValidateListOptions for a watch (WatchList, KEP-3157): sendInitialEvents goes with
    resourceVersionMatch=NotOlderThan and, when true, with bookmarks."""
    causes: list[StatusCause] = []
    if watch_list and match != "NotOlderThan":
        causes.append(StatusCause("FieldValueForbidden", "Forbidden: sendInitialEvents requires setting "
                                  "resourceVersionMatch to NotOlderThan", "resourceVersionMatch"))
    if match and not watch_list:
        causes.append(StatusCause("FieldValueForbidden", "Forbidden: resourceVersionMatch is forbidden for watch "
                                  "unless sendInitialEvents is provided", "resourceVersionMatch"))
    if match and match != "NotOlderThan":
        causes.append(StatusCause("FieldValueNotSupported", f'Unsupported value: "{match}": supported values: '
                                  '"NotOlderThan"', "resourceVersionMatch"))
    if watch_list and send_initial and not bookmarks:
        causes.append(StatusCause("FieldValueForbidden", "Forbidden: sendInitialEvents requires setting "
                                  "allowWatchBookmarks to true", "allowWatchBookmarks"))
    if causes:
        raise errors.invalid("ListOptions", "", causes, "meta.k8s.io")


def is_dry_run(request: web.Request) -> bool:
    values = request.query.getall("dryRun", [])
    for value in values:
        if value != "All":
            raise errors.bad_request(f'Invalid dryRun: "{value}": supported values: "All"')
    return bool(values)


class ResourceHandler:
    """All verbs of one resource."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.resource = registry.resource

    # ---- helpers -------------------------------------------------------------------

    def sub_prefix(self, namespace: str) -> str:
        return self.resource.key_prefix(namespace) if namespace else self.resource.key_prefix()

    def render_object(self, request: web.Request, obj: dict[str, Any], raw: bytes | None = None,
                      status: int = 200, warnings: list[str] | None = None) -> web.Response:
        headers = warning_headers(warnings or [])
        if wants_table(request):
            table = printers.to_table(self.resource, [obj], list_meta={},
                                      include_object=request.query.get("includeObject", "Metadata"))
            return json_response(table, status, TABLE_CONTENT_TYPE, headers)
        return json_response(raw if raw is not None else obj, status, headers=headers)

    def render_write(self, request: web.Request, result: WriteResult, warnings: list[str]) -> web.Response:
        return self.render_object(request, result.obj, status=201 if result.created else 200, warnings=warnings)

    # ---- reads ---------------------------------------------------------------------

    async def get(self, request: web.Request, target: Target) -> web.Response:
        rv = request.query.get("resourceVersion", "")
        key = self.resource.key(target.namespace, target.name)
        if rv:
            await self.wait_fresh(rv)
            cached = self.registry.cache.get(key)
            if cached is None:
                raise errors.not_found(self.resource.plural, target.name, self.resource.group)
            return self.render_object(request, cached.obj, cached.raw)
        kv = await self.registry.get_kv(target.namespace, target.name)
        from apiserver.codec import raw_with_rv

        raw = raw_with_rv(kv.value, kv.mod_revision)
        if wants_table(request):
            return self.render_object(request, orjson.loads(raw))
        return json_response(raw)

    async def wait_fresh(self, rv: str) -> None:
        revision = parse_int(rv, "resourceVersion") or 0
        if revision > 0:
            try:
                await self.registry.cache.wait_until_fresh(revision, timeout=3.0)
            except TimeoutError:
                raise errors.timeout(f"Too large resource version: {revision}, current: "
                                     f"{self.registry.cache.revision}") from None

    async def list(self, request: web.Request, target: Target) -> web.StreamResponse:
        if parse_bool(request.query.get("watch"), "watch"):
            return await self.watch(request, target)
        filters = parse_filters(request, self.resource.kind)
        predicate = filters.predicate(self.resource.kind)
        limit = max(parse_int(request.query.get("limit"), "limit") or 0, 0)  # <= 0: no limit, as Kubernetes
        token = request.query.get("continue", "")
        rv = request.query.get("resourceVersion", "")
        match = request.query.get("resourceVersionMatch", "")
        prefix = self.sub_prefix(target.namespace)
        if token or match == "Exact":
            items, revision, next_token, remaining = await self.list_from_storage(
                prefix, limit, token, rv if match == "Exact" else "", predicate, filters)
        else:
            if rv == "":
                await self.registry.cache.wait_until_fresh(await self.registry.storage.current_revision(),
                                                           timeout=10.0)
            else:
                await self.wait_fresh(rv)
            snapshot, revision = self.registry.cache.list(prefix)
            items = [c for c in snapshot if predicate is None or predicate(c.obj)]
            next_token, remaining = "", None
            if limit and len(items) > limit:
                remaining = len(items) - limit if predicate is None else None
                items = items[:limit]
                next_token = encode_continue(revision, items[-1].key, prefix)
        return self.render_list(request, items, revision, next_token, remaining)

    async def list_from_storage(self, prefix: str, limit: int, token: str, rv: str,
                                predicate: Callable[[dict[str, Any]], bool] | None,
                                filters: Filters) -> tuple[list[CachedObject], int, str, int | None]:
        from apiserver.codec import raw_with_rv

        revision = parse_int(rv, "resourceVersion") or 0
        collected: list[CachedObject] = []
        next_token = token
        remaining: int | None = None
        try:
            if token:
                decode_continue(token, prefix)
            while True:
                page = await self.registry.storage.list(prefix, limit=limit, continue_token=next_token,
                                                        revision=0 if next_token else revision)
                revision = page.revision
                for kv in page.items:
                    raw = raw_with_rv(kv.value, kv.mod_revision)
                    obj = orjson.loads(raw)
                    if predicate is None or predicate(obj):
                        collected.append(CachedObject(kv.key, kv.mod_revision, obj, raw))
                next_token = page.continue_token
                remaining = page.remaining_count if predicate is None else None
                if not next_token or not limit or len(collected) >= limit:
                    break
        except InvalidContinueError as exc:
            raise errors.bad_request(str(exc)) from None
        except CompactedError:
            if token:
                raise errors.gone("The provided continue parameter is too old to display a consistent list "
                                  "result. You can start a new list without the continue parameter, or use "
                                  "the continue token in this response to retrieve the remainder of the "
                                  "results. Continuing with the provided token results in an inconsistent "
                                  "list - objects that were created, modified, or deleted between the time "
                                  "the first chunk was returned and now may show up in the list.") from None
            raise errors.gone("The resourceVersion for the provided list is too old.") from None
        if limit and len(collected) > limit:
            collected = collected[:limit]
            next_token = encode_continue(revision, collected[-1].key, prefix)
        return collected, revision, next_token, remaining

    def render_list(self, request: web.Request, items: list[CachedObject], revision: int,
                    next_token: str, remaining: int | None) -> web.Response:
        list_meta: dict[str, Any] = {"resourceVersion": str(revision)}
        if next_token:
            list_meta["continue"] = next_token
            if remaining is not None:
                list_meta["remainingItemCount"] = remaining
        if wants_table(request):
            table = printers.to_table(self.resource, [c.obj for c in items], list_meta=list_meta,
                                      include_object=request.query.get("includeObject", "Metadata"))
            return json_response(table, content_type=TABLE_CONTENT_TYPE)
        head = orjson.dumps({"kind": self.resource.list_kind, "apiVersion": self.resource.api_version,
                             "metadata": list_meta})
        body = head[:-1] + b',"items":[' + b",".join(c.raw for c in items) + b"]}"
        return json_response(body)

    # ---- watch ---------------------------------------------------------------------

    async def watch(self, request: web.Request, target: Target) -> web.StreamResponse:
        filters = parse_filters(request, self.resource.kind)
        if target.name:  # legacy /watch/.../name style or GET name?watch=1
            filters.field = parse_field_selector(f"metadata.name={target.name}")
        predicate = filters.predicate(self.resource.kind)
        rv = request.query.get("resourceVersion", "")
        send_initial = rv in ("", "0")
        bookmarks = parse_bool(request.query.get("allowWatchBookmarks"), "allowWatchBookmarks")
        watch_list = request.query.get("sendInitialEvents") is not None
        if watch_list:
            send_initial = parse_bool(request.query.get("sendInitialEvents"), "sendInitialEvents")
        check_watch_options(watch_list, send_initial, bookmarks, request.query.get("resourceVersionMatch", ""))
        timeout = parse_int(request.query.get("timeoutSeconds"), "timeoutSeconds")
        if timeout is None:
            timeout = int(1800 * (1 + random.random()))
        from_revision = parse_int(rv, "resourceVersion") or 0
        if from_revision:
            await self.wait_fresh(rv)
        table = wants_table(request)
        include_object = request.query.get("includeObject", "Metadata")
        response = web.StreamResponse(status=200, headers={"Content-Type": JSON})
        response.enable_chunked_encoding()
        try:
            watcher = self.registry.cache.watch(self.sub_prefix(target.namespace), from_revision,
                                                predicate=predicate, send_initial=send_initial,
                                                bookmarks=bookmarks, initial_events_end=watch_list)
        except TooOldResourceVersion as exc:
            await response.prepare(request)
            status = errors.gone(str(exc)).to_status()
            await response.write(orjson.dumps({"type": "ERROR", "object": status}) + b"\n")
            return response
        await response.prepare(request)
        first_table = True
        try:
            async with asyncio.timeout(timeout):
                async for event in watcher:
                    if table and event.type not in ("BOOKMARK", "ERROR"):
                        rendered = printers.to_table(self.resource, [event.obj],
                                                     list_meta={"resourceVersion": str(event.revision)},
                                                     include_object=include_object)
                        if not first_table:
                            rendered["columnDefinitions"] = []
                        first_table = False
                        line = orjson.dumps({"type": event.type, "object": rendered})
                    else:
                        line = b'{"type":"' + event.type.encode() + b'","object":' + event.raw + b"}"
                    await response.write(line + b"\n")
        except TimeoutError:
            pass
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            await watcher.close()
        return response

    # ---- writes --------------------------------------------------------------------

    async def create(self, request: web.Request, target: Target) -> web.Response:
        body = await read_body(request)
        if body is None:
            raise errors.bad_request("the body of the request was empty")
        self.check_kind(body)
        warnings = check_fields(request, self.registry.kind_key, body)
        namespace = target.namespace if self.resource.namespaced else ""
        if self.resource.namespaced and not namespace:
            namespace = (body.get("metadata") or {}).get("namespace") or ""
            if not namespace:
                raise errors.bad_request("the server could not find the requested resource")
        result = await self.registry.create(namespace, body, dry_run=is_dry_run(request))
        return self.render_write(request, result, warnings)

    def check_kind(self, body: Any) -> None:
        if not isinstance(body, dict):
            raise errors.bad_request("the body of the request was in an unknown format")
        kind, api_version = body.get("kind"), body.get("apiVersion")
        if kind and kind != self.resource.kind:
            raise errors.bad_request(f"the kind of the provided object ({kind}) does not match the kind "
                                     f"served at this path ({self.resource.kind})")
        if api_version and api_version != self.resource.api_version:
            raise errors.bad_request(f"the API version in the data ({api_version}) does not match the expected "
                                     f"API version ({self.resource.api_version})")

    async def update(self, request: web.Request, target: Target) -> web.Response:
        body = await read_body(request)
        if body is None:
            raise errors.bad_request("the body of the request was empty")
        self.check_kind(body)
        warnings = check_fields(request, self.registry.kind_key, body)
        result = await self.registry.update(target.namespace, target.name, body, subresource=target.subresource,
                                            dry_run=is_dry_run(request))
        return self.render_write(request, result, warnings)

    async def patch(self, request: web.Request, target: Target) -> web.Response:
        content_type = request.headers.get("Content-Type", "").split(";")[0].strip()
        body = await read_body(request)
        if body is None:
            raise errors.bad_request("the body of the request was empty")
        apply_patch = content_type == "application/apply-patch+yaml"
        if content_type not in ("application/strategic-merge-patch+json", "application/merge-patch+json",
                                "application/json-patch+json") and not apply_patch:
            raise errors.unsupported_media_type(content_type)
        dry_run = is_dry_run(request)
        if apply_patch:
            exists = await self.registry.storage.get(self.resource.key(target.namespace, target.name))
            if exists is None:
                self.check_kind(body)
                warnings = check_fields(request, self.registry.kind_key, body)
                body.setdefault("metadata", {})["name"] = target.name
                result = await self.registry.create(target.namespace, body, dry_run=dry_run)
                return self.render_write(request, result, warnings)
        warnings: list[str] = []
        pinned_rv = bool(metadata_of(body).get("resourceVersion"))

        def mutate(current: dict[str, Any]) -> dict[str, Any]:
            patched = apply_patch_body(content_type, current, body, self.registry.kind_key)
            warnings[:] = check_fields(request, self.registry.kind_key, patched)
            return self.registry.apply_update(patched, current, subresource=target.subresource)

        result = await self.registry.guaranteed_update(target.namespace, target.name, mutate, dry_run=dry_run,
                                                       allow_retry=not pinned_rv)
        return self.render_write(request, result, warnings)

    async def delete(self, request: web.Request, target: Target) -> web.Response:
        options = await delete_options(request)
        result = await self.registry.delete(target.namespace, target.name, options)
        if result.deleted and not self.resource.returns_deleted_object:
            meta = result.obj["metadata"]
            details = {"name": meta["name"], "group": self.resource.group, "kind": self.resource.plural,
                       "uid": meta.get("uid", "")}
            if not details["group"]:
                del details["group"]  # omitempty, as metav1.StatusDetails
            return json_response({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                                  "details": details})
        return json_response(result.obj)

    async def delete_collection(self, request: web.Request, target: Target) -> web.Response:
        if "deletecollection" not in self.resource.verbs:
            raise errors.method_not_allowed("deletecollection", self.resource.plural)
        options = await delete_options(request)
        filters = parse_filters(request, self.resource.kind)
        predicate = filters.predicate(self.resource.kind)
        await self.registry.cache.wait_until_fresh(await self.registry.storage.current_revision(), timeout=10.0)
        snapshot, revision = self.registry.cache.list(self.sub_prefix(target.namespace))
        deleted: list[dict[str, Any]] = []
        for cached in snapshot:
            if predicate is not None and not predicate(cached.obj):
                continue
            meta = cached.obj["metadata"]
            try:
                result = await self.registry.delete(meta.get("namespace", ""), meta["name"], copy.copy(options))
            except StatusError as exc:
                if exc.code == 404:
                    continue
                raise
            deleted.append(result.obj)
        return json_response({"kind": self.resource.list_kind, "apiVersion": self.resource.api_version,
                              "metadata": {"resourceVersion": str(revision)}, "items": deleted})


def apply_patch_body(content_type: str, current: dict[str, Any], body: Any, kind_key: tuple[str, str]) -> dict[str, Any]:
    try:
        if content_type == "application/json-patch+json":
            if not isinstance(body, list):
                raise errors.bad_request("json: cannot unmarshal object into Go value of type jsonpatch.Patch")
            return json_patch(current, body)
        if not isinstance(body, dict):
            raise errors.bad_request("the body of the request was in an unknown format: expected a JSON object")
        if content_type == "application/merge-patch+json":
            return json_merge_patch(current, body)
        return strategic_merge_patch(current, body, kind_key)
    except PatchError as exc:
        if content_type == "application/json-patch+json":
            raise StatusError(422, "Invalid", str(exc)) from None
        raise errors.bad_request(str(exc)) from None


async def delete_options(request: web.Request) -> DeleteOptions:
    body = await read_body(request)
    if body is not None and not isinstance(body, dict):
        raise errors.bad_request("the body of the request was in an unknown format")
    body = dict(body or {})
    grace = parse_int(request.query.get("gracePeriodSeconds"), "gracePeriodSeconds")
    if grace is not None:
        body.setdefault("gracePeriodSeconds", grace)
    if request.query.get("propagationPolicy"):
        body.setdefault("propagationPolicy", request.query["propagationPolicy"])
    if request.query.get("orphanDependents") is not None:
        body.setdefault("orphanDependents", parse_bool(request.query["orphanDependents"], "orphanDependents"))
    return DeleteOptions.from_dict(body, dry_run=is_dry_run(request))
