"""A recording fake API server and pre-filled informer caches for controller unit tests.

Why: a controller's contract is "one `sync(key)` reads the caches and writes the
difference". To assert the exact writes one sync makes, without a server process, the
controller gets a `FakeApiClient` (same verbs as `kubeclient.rest.ApiClient`) that keeps
objects in memory, answers like the API server would (uid, resourceVersion,
creationTimestamp, generateName, generation bumps, optimistic concurrency, uid
preconditions, patches through `apimachinery.patch`) and records every write as a
`Write`. Informers are the real `kubeclient.informer.Informer`s of a real
`InformerFactory`, with objects injected into their stores instead of listed and watched,
so indexers and event handlers run exactly as in production. Writes do not reach the
caches until the test calls `FakeCluster.deliver()`, the way a watch would deliver them.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from apimachinery.errors import StatusError, already_exists, conflict, not_found
from apimachinery.patch import json_merge_patch, json_patch, strategic_merge_patch
from apimachinery.resources import ResourceInfo
from apiserver.strategy import strategy_for
from controllers.base import ControllerContext
from kubeclient.factory import InformerFactory
from kubeclient.informer import Informer, meta_key
from kubeclient.rest import resource_of

Obj = dict[str, Any]
NOW = "2026-01-01T00:00:00Z"


@dataclass(frozen=True)
class Write:
    """One mutating API call: verb is create/update/patch/delete; body is the object sent,
    the patch, or the delete options."""

    verb: str
    resource: str
    namespace: str
    name: str
    body: Any = None
    subresource: str = ""
    patch_type: str = ""

    @property
    def target(self) -> str:
        """`resource[/subresource]`, e.g. `deployments/status`."""
        return f"{self.resource}/{self.subresource}" if self.subresource else self.resource


@dataclass
class RecordedEvent:
    kind: str
    name: str
    type: str
    reason: str
    message: str


class FakeRecorder:
    """EventRecorder stand-in: events land in a list synchronously instead of the API."""

    def __init__(self, component: str, sink: list[RecordedEvent]) -> None:
        self.component = component
        self.sink = sink

    def event(self, obj: Obj, event_type: str, reason: str, message: str, field_path: str = "") -> None:
        meta = obj.get("metadata") or {}
        self.sink.append(RecordedEvent(obj.get("kind", ""), meta.get("name", ""), event_type, reason, message))

    async def record(self, obj: Obj, event_type: str, reason: str, message: str, field_path: str = "") -> None:
        self.event(obj, event_type, reason, message, field_path)

    async def flush(self) -> None:
        return None


def _group_of(r: ResourceInfo) -> str:
    return r.group


class FakeApiClient:
    """In-memory API server with ApiClient's verbs; every write is appended to `writes`."""

    def __init__(self, clock: Callable[[], str] = lambda: NOW) -> None:
        self.objects: dict[tuple[str, str, str], Obj] = {}  # (plural, namespace, name) → object
        self.writes: list[Write] = []
        self.reads: list[tuple[str, str, str, str]] = []  # (verb, resource, namespace, name)
        self.clock = clock
        self._failures: dict[tuple[str, str], list[Any]] = {}  # (verb, resource) → [successes left, error]
        self._rv = itertools.count(1000)
        self._uid = itertools.count(1)
        self._suffix = itertools.count(1)

    # ---- seeding (not recorded) ----------------------------------------------------

    def put(self, obj: Obj) -> Obj:
        """Store an object as if it already existed (fills in defaults a server would)."""
        r = resource_of(obj["kind"])
        stored = copy.deepcopy(obj)
        meta = stored.setdefault("metadata", {})
        meta.setdefault("uid", f"{meta['name']}-uid")
        meta.setdefault("resourceVersion", str(next(self._rv)))
        meta.setdefault("creationTimestamp", NOW)
        meta.setdefault("generation", 1)
        stored.setdefault("apiVersion", r.api_version)
        self.objects[(r.plural, meta.get("namespace", ""), meta["name"])] = stored
        return copy.deepcopy(stored)

    def stored(self, resource: str, namespace: str, name: str) -> Obj | None:
        obj = self.objects.get((resource_of(resource).plural, namespace, name))
        return copy.deepcopy(obj) if obj is not None else None

    def all(self, resource: str) -> list[Obj]:
        plural = resource_of(resource).plural
        return [copy.deepcopy(o) for (p, _ns, _n), o in sorted(self.objects.items()) if p == plural]

    def writes_to(self, resource: str) -> list[Write]:
        return [w for w in self.writes if w.resource == resource]

    # ---- helpers -------------------------------------------------------------------

    def _key(self, r: ResourceInfo, namespace: str, name: str) -> tuple[str, str, str]:
        return r.plural, namespace if r.namespaced else "", name

    def _existing(self, r: ResourceInfo, namespace: str, name: str) -> Obj:
        obj = self.objects.get(self._key(r, namespace, name))
        if obj is None:
            raise not_found(r.plural, name, _group_of(r))
        return obj

    def fail(self, verb: str, resource: str, error: StatusError, after: int = 0) -> None:
        """Make the next `verb` on `resource` fail with `error`, after `after` more successes."""
        self._failures[(verb, resource_of(resource).plural)] = [after, error]

    def _maybe_fail(self, verb: str, r: ResourceInfo) -> None:
        entry = self._failures.get((verb, r.plural))
        if entry is None:
            return
        if entry[0] > 0:
            entry[0] -= 1
            return
        del self._failures[(verb, r.plural)]
        raise entry[1]

    def _bump(self, obj: Obj) -> None:
        obj["metadata"]["resourceVersion"] = str(next(self._rv))

    def _store(self, r: ResourceInfo, old: Obj, new: Obj, subresource: str) -> Obj:
        """Apply an update the way the registry strategies do: /status changes status (and,
        for Deployments, annotations); the main resource keeps status and bumps generation
        when spec changes."""
        result = copy.deepcopy(old)
        if subresource == "status":
            result["status"] = copy.deepcopy(new.get("status"))
            if r.kind == "Deployment":
                result["metadata"]["annotations"] = copy.deepcopy(new["metadata"].get("annotations"))
        else:
            for key, value in new.items():
                if key not in ("status", "metadata"):
                    result[key] = copy.deepcopy(value)
            for key in ("labels", "annotations", "ownerReferences", "finalizers"):
                if new["metadata"].get(key) is not None:
                    result["metadata"][key] = copy.deepcopy(new["metadata"][key])
                else:
                    result["metadata"].pop(key, None)
            strategy = strategy_for(r)
            if strategy.tracks_generation and any(result.get(k) != old.get(k) for k in strategy.spec_keys):
                result["metadata"]["generation"] = int(old["metadata"].get("generation") or 1) + 1
        if result == old:
            return copy.deepcopy(old)
        self._bump(result)
        if result["metadata"].get("deletionTimestamp") and not result["metadata"].get("finalizers"):
            self.objects.pop(self._key(r, result["metadata"].get("namespace", ""), result["metadata"]["name"]))
            return copy.deepcopy(result)
        self.objects[self._key(r, result["metadata"].get("namespace", ""), result["metadata"]["name"])] = result
        return copy.deepcopy(result)

    @staticmethod
    def _check_rv(r: ResourceInfo, stored: Obj, sent_rv: str | None) -> None:
        if sent_rv and sent_rv != stored["metadata"]["resourceVersion"]:
            raise conflict(r.plural, stored["metadata"]["name"], _group_of(r))

    # ---- reads ---------------------------------------------------------------------

    async def get(self, resource: ResourceInfo | str, name: str, namespace: str = "", *, subresource: str = "",
                  resource_version: str = "") -> Obj:
        r = resource_of(resource)
        self.reads.append(("get", r.plural, namespace, name))
        return copy.deepcopy(self._existing(r, namespace, name))

    async def list(self, resource: ResourceInfo | str, namespace: str = "", **_: Any) -> Obj:
        r = resource_of(resource)
        self.reads.append(("list", r.plural, namespace, ""))
        items = [copy.deepcopy(o) for (p, ns, _n), o in sorted(self.objects.items())
                 if p == r.plural and (not namespace or ns == namespace)]
        return {"kind": r.list_kind, "apiVersion": r.api_version, "items": items,
                "metadata": {"resourceVersion": str(next(self._rv))}}

    async def list_all(self, resource: ResourceInfo | str, namespace: str = "", **kwargs: Any) -> Obj:
        return await self.list(resource, namespace, **kwargs)

    async def watch(self, resource: ResourceInfo | str, namespace: str = "", **_: Any) -> AsyncIterator[Obj]:
        raise StatusError(503, "ServiceUnavailable", "the fake API client does not watch; use FakeCluster.deliver")
        yield {}  # pragma: no cover - makes this an async generator

    async def close(self) -> None:
        return None

    # ---- writes --------------------------------------------------------------------

    async def create(self, resource: ResourceInfo | str, obj: Obj, namespace: str = "", *, subresource: str = "",
                     name: str = "", **_: Any) -> Obj:
        r = resource_of(resource)
        ns = namespace or (obj.get("metadata") or {}).get("namespace", "")
        body = copy.deepcopy(obj)
        meta = body.setdefault("metadata", {})
        self.writes.append(Write("create", r.plural, ns, meta.get("name") or meta.get("generateName", ""),
                                 copy.deepcopy(obj), subresource))
        self._maybe_fail("create", r)
        if not meta.get("name"):
            meta["name"] = f"{meta['generateName']}{next(self._suffix):05d}"
        if self._key(r, ns, meta["name"]) in self.objects:
            raise already_exists(r.plural, meta["name"], _group_of(r))
        if r.namespaced:
            meta["namespace"] = ns
        meta.update(uid=f"uid-{next(self._uid)}", resourceVersion=str(next(self._rv)),
                    creationTimestamp=self.clock())
        if strategy_for(r).tracks_generation:
            meta["generation"] = 1
        body.setdefault("apiVersion", r.api_version)
        body.setdefault("kind", r.kind)
        self.objects[self._key(r, ns, meta["name"])] = body
        return copy.deepcopy(body)

    async def update(self, resource: ResourceInfo | str, obj: Obj, namespace: str = "", *, subresource: str = "",
                     **_: Any) -> Obj:
        r = resource_of(resource)
        meta = obj.get("metadata") or {}
        ns = namespace or meta.get("namespace", "")
        self.writes.append(Write("update", r.plural, ns, meta["name"], copy.deepcopy(obj), subresource))
        self._maybe_fail("update", r)
        stored = self._existing(r, ns, meta["name"])
        self._check_rv(r, stored, meta.get("resourceVersion"))
        return self._store(r, stored, obj, subresource)

    async def update_status(self, resource: ResourceInfo | str, obj: Obj, namespace: str = "") -> Obj:
        return await self.update(resource, obj, namespace, subresource="status")

    async def patch(self, resource: ResourceInfo | str, name: str, patch: Any, namespace: str = "", *,
                    patch_type: str = "strategic", subresource: str = "", **_: Any) -> Obj:
        r = resource_of(resource)
        self.writes.append(Write("patch", r.plural, namespace, name, copy.deepcopy(patch), subresource, patch_type))
        self._maybe_fail("patch", r)
        stored = self._existing(r, namespace, name)
        if patch_type == "strategic":
            patched = strategic_merge_patch(stored, patch)
        elif patch_type == "merge":
            patched = json_merge_patch(stored, patch)
        else:
            patched = json_patch(stored, patch)
        if isinstance(patch, dict):
            self._check_rv(r, stored, (patch.get("metadata") or {}).get("resourceVersion"))
        return self._store(r, stored, patched, subresource)

    async def delete(self, resource: ResourceInfo | str, name: str, namespace: str = "", *,
                     propagation_policy: str | None = None, grace_period_seconds: int | None = None,
                     preconditions: dict[str, str] | None = None, **_: Any) -> Obj:
        r = resource_of(resource)
        options: Obj = {}
        if propagation_policy:
            options["propagationPolicy"] = propagation_policy
        if grace_period_seconds is not None:
            options["gracePeriodSeconds"] = grace_period_seconds
        if preconditions:
            options["preconditions"] = dict(preconditions)
        self.writes.append(Write("delete", r.plural, namespace, name, options or None))
        self._maybe_fail("delete", r)
        stored = self._existing(r, namespace, name)
        if preconditions and preconditions.get("uid") and preconditions["uid"] != stored["metadata"]["uid"]:
            raise conflict(r.plural, name, _group_of(r),
                           f"Precondition failed: UID in precondition: {preconditions['uid']}, "
                           f"UID in object meta: {stored['metadata']['uid']}")
        if stored["metadata"].get("finalizers"):
            if not stored["metadata"].get("deletionTimestamp"):
                stored["metadata"]["deletionTimestamp"] = self.clock()
                self._bump(stored)
            return copy.deepcopy(stored)
        del self.objects[self._key(r, namespace, name)]
        return {"kind": "Status", "apiVersion": "v1", "status": "Success"}


@dataclass
class FakeCluster:
    """A FakeApiClient, a real InformerFactory over it, and a ControllerContext for both.

    `add(...)` seeds objects into the fake server and the informer caches; the controller
    under test then reads the caches in `sync` and writes to the fake. `deliver()` copies
    the server's current state into the caches (firing handlers), like a watch catching up.
    """

    client: FakeApiClient = field(default_factory=FakeApiClient)
    events: list[RecordedEvent] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.informers = InformerFactory(self.client)  # type: ignore[arg-type]
        self.ctx = ControllerContext(self.client, self.informers,  # type: ignore[arg-type]
                                     recorder_factory=lambda component: FakeRecorder(component, self.events))

    def informer(self, resource: str) -> Informer:
        informer = self.informers.informer(resource)
        informer.synced.set()
        return informer

    def add(self, *objects: Obj) -> list[Obj]:
        stored = [self.client.put(obj) for obj in objects]
        for obj in stored:
            self.informer(obj["kind"])._upsert(copy.deepcopy(obj))
        return stored

    def deliver(self, *resources: str) -> None:
        """Make the caches of `resources` (default: every informer) match the fake server."""
        for informer in list(self.informers._informers.values()):
            assert isinstance(informer.resource, ResourceInfo)
            if resources and informer.resource.plural not in resources:
                continue
            informer._replace(self.client.all(informer.resource.plural))

    @property
    def writes(self) -> list[Write]:
        return self.client.writes

    def clear(self) -> None:
        self.client.writes.clear()
        self.client.reads.clear()
        self.events.clear()


# ---- object builders -------------------------------------------------------------------

def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def meta_key_of(obj: Obj) -> str:
    return meta_key(obj)
