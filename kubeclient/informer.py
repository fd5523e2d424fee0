"""Informers: a list, then a watch from the list's resourceVersion, into an indexed cache.

This is client-go's reflector + indexer + shared informer, in one class. The cache is
the controller's view of the world; handlers only enqueue keys. A 410 Gone (history
compacted) or a broken stream relists and diffs the fresh list against the cache, so
handlers see the deletes they missed. A periodic resync re-delivers every object as an
update so level-triggered controllers converge even after a lost event.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from apimachinery.errors import StatusError
from apimachinery.resources import ResourceInfo
from kubeclient.rest import ApiClient, resource_of

log = logging.getLogger(__name__)

Obj = dict[str, Any]
IndexFunc = Callable[[Obj], list[str]]


def meta_key(obj: Obj) -> str:
    """`namespace/name`, or `name` for cluster-scoped objects (client-go's MetaNamespaceKeyFunc)."""
    meta = obj.get("metadata") or {}
    namespace = meta.get("namespace")
    return f"{namespace}/{meta['name']}" if namespace else meta["name"]


def split_key(key: str) -> tuple[str, str]:
    namespace, _, name = key.rpartition("/")
    return namespace, name


def namespace_index(obj: Obj) -> list[str]:
    return [(obj.get("metadata") or {}).get("namespace", "")]


@dataclass
class Handlers:
    on_add: Callable[[Obj], None] | None = None
    on_update: Callable[[Obj, Obj], None] | None = None
    on_delete: Callable[[Obj], None] | None = None


@dataclass
class Informer:
    client: ApiClient
    resource: ResourceInfo | str
    namespace: str = ""
    label_selector: str = ""
    field_selector: str = ""
    resync_period: float = 0.0
    store: dict[str, Obj] = field(default_factory=dict)
    synced: asyncio.Event = field(default_factory=asyncio.Event)
    _handlers: list[Handlers] = field(default_factory=list)
    _indexers: dict[str, IndexFunc] = field(default_factory=lambda: {"namespace": namespace_index})
    _indices: dict[str, dict[str, set[str]]] = field(default_factory=dict)
    _task: asyncio.Task[None] | None = None
    _resync_task: asyncio.Task[None] | None = None
    last_resource_version: str = ""

    def __post_init__(self) -> None:
        self.resource = resource_of(self.resource)
        self._indices = {name: {} for name in self._indexers}

    # ---- configuration -------------------------------------------------------------

    def add_handlers(self, on_add: Callable[[Obj], None] | None = None,
                     on_update: Callable[[Obj, Obj], None] | None = None,
                     on_delete: Callable[[Obj], None] | None = None) -> None:
        handlers = Handlers(on_add, on_update, on_delete)
        self._handlers.append(handlers)
        if self.synced.is_set() and on_add:
            for obj in list(self.store.values()):
                on_add(obj)

    def add_indexer(self, name: str, func: IndexFunc) -> None:
        self._indexers[name] = func
        index: dict[str, set[str]] = {}
        for key, obj in self.store.items():
            for value in func(obj):
                index.setdefault(value, set()).add(key)
        self._indices[name] = index

    # ---- reads ---------------------------------------------------------------------

    def get(self, key: str) -> Obj | None:
        return self.store.get(key)

    def list(self, namespace: str = "") -> list[Obj]:
        if not namespace:
            return list(self.store.values())
        return self.by_index("namespace", namespace)

    def by_index(self, name: str, value: str) -> list[Obj]:
        return [self.store[k] for k in sorted(self._indices[name].get(value, ())) if k in self.store]

    async def wait_synced(self, timeout: float = 60.0) -> None:
        await asyncio.wait_for(self.synced.wait(), timeout)

    # ---- lifecycle -----------------------------------------------------------------

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"informer-{self.resource.plural}")
            if self.resync_period > 0:
                self._resync_task = asyncio.create_task(self._resync_loop())

    async def stop(self) -> None:
        for task in (self._task, self._resync_task):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        self._task = self._resync_task = None

    async def _run(self) -> None:
        backoff = 0.2
        while True:
            try:
                await self._list_and_watch()
                backoff = 0.2
            except asyncio.CancelledError:
                raise
            except StatusError as exc:
                if exc.code == 410:
                    log.info("%s: watch history expired, relisting", self.resource.plural)
                    self.last_resource_version = ""
                    continue
                log.warning("%s informer: %s", self.resource.plural, exc)
            except Exception:  # noqa: BLE001 - an informer must outlive any single failure
                log.exception("%s informer failed", self.resource.plural)
            await asyncio.sleep(backoff * (1 + random.random()))
            backoff = min(backoff * 2, 30.0)

    async def _list_and_watch(self) -> None:
        if not self.last_resource_version or not self.synced.is_set():
            listing = await self.client.list_all(self.resource, self.namespace, label_selector=self.label_selector,
                                                 field_selector=self.field_selector)
            self._replace(listing.get("items") or [])
            self.last_resource_version = listing["metadata"]["resourceVersion"]
            self.synced.set()
        async for event in self.client.watch(self.resource, self.namespace,
                                             resource_version=self.last_resource_version,
                                             label_selector=self.label_selector,
                                             field_selector=self.field_selector,
                                             timeout_seconds=random.randint(300, 600)):
            obj = event["object"]
            rv = (obj.get("metadata") or {}).get("resourceVersion")
            kind = event["type"]
            if kind in ("ADDED", "MODIFIED"):
                self._upsert(obj)
            elif kind == "DELETED":
                self._remove(meta_key(obj), obj)
            if rv:
                self.last_resource_version = rv

    # ---- cache mutation ------------------------------------------------------------

    def _replace(self, items: list[Obj]) -> None:
        fresh = {meta_key(o): o for o in items}
        for key in [k for k in self.store if k not in fresh]:
            self._remove(key, self.store[key])
        for obj in fresh.values():
            self._upsert(obj)

    def _upsert(self, obj: Obj) -> None:
        key = meta_key(obj)
        old = self.store.get(key)
        if old is not None and old.get("metadata", {}).get("resourceVersion") == \
                obj.get("metadata", {}).get("resourceVersion"):
            return
        if old is not None:
            self._unindex(key, old)
        self.store[key] = obj
        self._index(key, obj)
        for h in self._handlers:
            if old is None and h.on_add:
                h.on_add(obj)
            elif old is not None and h.on_update:
                h.on_update(old, obj)

    def _remove(self, key: str, last: Obj) -> None:
        old = self.store.pop(key, None)
        if old is None:
            return
        self._unindex(key, old)
        for h in self._handlers:
            if h.on_delete:
                h.on_delete(last)

    def _index(self, key: str, obj: Obj) -> None:
        for name, func in self._indexers.items():
            for value in func(obj):
                self._indices[name].setdefault(value, set()).add(key)

    def _unindex(self, key: str, obj: Obj) -> None:
        for name, func in self._indexers.items():
            for value in func(obj):
                keys = self._indices[name].get(value)
                if keys:
                    keys.discard(key)
                    if not keys:
                        del self._indices[name][value]

    async def _resync_loop(self) -> None:
        while True:
            await asyncio.sleep(self.resync_period)
            for obj in list(self.store.values()):
                for h in self._handlers:
                    if h.on_update:
                        h.on_update(obj, obj)
