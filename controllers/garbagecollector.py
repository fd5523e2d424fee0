"""Garbage collector: owners and dependents by ownerReferences, as semantics.md §1.12 says.

Every object of the collected kinds (namespaces included: their deletion finalizers are
ordinary metadata.finalizers) is indexed by its uid and by its owners' uids. A key names one
object and its sync does whichever applies:
- the object is being deleted with the `orphan` finalizer → strip its uid from every
  dependent's ownerReferences (the field goes when none is left), then drop the finalizer;
- with `foregroundDeletion` → delete the dependents (Foreground, so the cascade goes on)
  and drop the finalizer once no dependent blocks the owner's deletion;
- it has owners → keep it while one owner is solid (patching away dangling references),
  delete it in the foreground when its only owners wait for dependents, otherwise delete
  it (Background). An owner missing from the caches is confirmed with a live GET first,
  because caches lag.
"""

from __future__ import annotations

import logging
from typing import Any

from apimachinery.errors import StatusError
from apimachinery.resources import BY_KIND, ResourceInfo
from controllers.base import Controller, ControllerContext
from controllers.podutil import remove_owner_refs_patch
from kubeclient.informer import Informer, split_key

log = logging.getLogger(__name__)

# Namespaces too: a namespace deleted with propagationPolicy=Orphan or Foreground carries that
# finalizer in metadata.finalizers like any object, and only the collector removes it.
COLLECTED = ("deployments", "replicasets", "pods", "jobs", "services", "endpoints", "endpointslices", "nodes",
             "leases", "namespaces")


def uid_index(obj: dict[str, Any]) -> list[str]:
    return [obj["metadata"].get("uid", "")]


def owner_index(obj: dict[str, Any]) -> list[str]:
    return [ref.get("uid", "") for ref in obj["metadata"].get("ownerReferences") or []]


def resource_for_ref(ref: dict[str, Any]) -> ResourceInfo | None:
    api_version = ref.get("apiVersion", "")
    group = api_version.split("/")[0] if "/" in api_version else ""
    return BY_KIND.get((group, ref.get("kind", "")))


class GarbageCollector(Controller):
    name = "garbage-collector"
    workers = 4

    def __init__(self, ctx: ControllerContext) -> None:
        super().__init__(ctx)
        self.informers: dict[str, Informer] = {}
        for plural in COLLECTED:
            informer = ctx.informers.informer(plural)
            informer.add_indexer("uid", uid_index)
            informer.add_indexer("owner", owner_index)
            informer.add_handlers(
                on_add=lambda o, p=plural: self._changed(p, o),
                on_update=lambda _old, new, p=plural: self._changed(p, new),
                on_delete=lambda o, p=plural: self._deleted(p, o),
            )
            self.informers[plural] = informer

    # ---- event plumbing ------------------------------------------------------------

    @staticmethod
    def _key(plural: str, obj: dict[str, Any]) -> str:
        meta = obj["metadata"]
        return f"{plural}|{meta.get('namespace', '')}/{meta['name']}"

    def _changed(self, plural: str, obj: dict[str, Any]) -> None:
        meta = obj["metadata"]
        if meta.get("ownerReferences") or meta.get("deletionTimestamp"):
            self.queue.add(self._key(plural, obj))
        for ref in meta.get("ownerReferences") or []:
            owner = self._find(ref.get("uid", ""))
            if owner is not None and owner[1]["metadata"].get("deletionTimestamp"):
                self.queue.add(self._key(owner[0], owner[1]))

    def _deleted(self, plural: str, obj: dict[str, Any]) -> None:
        uid = obj["metadata"].get("uid", "")
        for dep_plural, dependent in self._dependents(uid):
            self.queue.add(self._key(dep_plural, dependent))
        self._changed(plural, obj)

    def _find(self, uid: str) -> tuple[str, dict[str, Any]] | None:
        for plural, informer in self.informers.items():
            found = informer.by_index("uid", uid)
            if found:
                return plural, found[0]
        return None

    def _dependents(self, uid: str) -> list[tuple[str, dict[str, Any]]]:
        return [(plural, dep) for plural, informer in self.informers.items() for dep in informer.by_index("owner", uid)]

    # ---- sync ----------------------------------------------------------------------

    async def sync(self, key: str) -> None:
        plural, _, ref = key.partition("|")
        namespace, name = split_key(ref)
        obj = self.informers[plural].get(f"{namespace}/{name}" if namespace else name)
        if obj is None:
            return
        meta = obj["metadata"]
        finalizers = meta.get("finalizers") or []
        if meta.get("deletionTimestamp") and "orphan" in finalizers:
            await self._orphan_dependents(plural, obj)
            return
        if meta.get("deletionTimestamp") and "foregroundDeletion" in finalizers:
            await self._delete_dependents_in_foreground(plural, obj)
            return
        if meta.get("ownerReferences"):
            await self._attempt_to_delete(plural, obj)

    async def _orphan_dependents(self, plural: str, owner: dict[str, Any]) -> None:
        uid = owner["metadata"]["uid"]
        for dep_plural, dependent in self._dependents(uid):
            await self._remove_owner_refs(dep_plural, dependent, {uid})
        await self._remove_finalizer(plural, owner, "orphan")

    async def _delete_dependents_in_foreground(self, plural: str, owner: dict[str, Any]) -> None:
        uid = owner["metadata"]["uid"]
        blocking = 0
        for dep_plural, dependent in self._dependents(uid):
            refs = [r for r in dependent["metadata"].get("ownerReferences") or [] if r.get("uid") == uid]
            if any(r.get("blockOwnerDeletion") for r in refs):
                blocking += 1
            if not dependent["metadata"].get("deletionTimestamp"):
                await self._delete(dep_plural, dependent, "Foreground")
        if blocking == 0:
            await self._remove_finalizer(plural, owner, "foregroundDeletion")

    async def _attempt_to_delete(self, plural: str, obj: dict[str, Any]) -> None:
        if obj["metadata"].get("deletionTimestamp"):
            return
        solid, dangling, waiting = [], [], []
        for ref in obj["metadata"].get("ownerReferences") or []:
            state = await self._classify(ref, obj["metadata"].get("namespace", ""))
            {"solid": solid, "dangling": dangling, "waiting": waiting}[state].append(ref)
        if solid:
            stale = {r["uid"] for r in dangling + waiting}
            if stale:
                await self._remove_owner_refs(plural, obj, stale)
            return
        if waiting:
            await self._delete(plural, obj, "Foreground")
            return
        finalizers = obj["metadata"].get("finalizers") or []
        policy = None if {"orphan", "foregroundDeletion"} & set(finalizers) else "Background"
        await self._delete(plural, obj, policy)

    async def _classify(self, ref: dict[str, Any], namespace: str) -> str:
        found = self._find(ref.get("uid", ""))
        owner = found[1] if found else await self._live_owner(ref, namespace)
        if owner is None or owner["metadata"].get("uid") != ref.get("uid"):
            return "dangling"
        meta = owner["metadata"]
        if meta.get("deletionTimestamp") and "foregroundDeletion" in (meta.get("finalizers") or []):
            return "waiting"
        return "solid"

    async def _live_owner(self, ref: dict[str, Any], namespace: str) -> dict[str, Any] | None:
        resource = resource_for_ref(ref)
        if resource is None:
            return None  # an owner of a kind we do not serve cannot exist
        try:
            return await self.client.get(resource, ref.get("name", ""), namespace if resource.namespaced else "")
        except StatusError as exc:
            if exc.code == 404:
                return None
            raise

    # ---- writes --------------------------------------------------------------------

    async def _delete(self, plural: str, obj: dict[str, Any], policy: str | None) -> None:
        meta = obj["metadata"]
        log.info("garbage collecting %s %s/%s (%s)", plural, meta.get("namespace", ""), meta["name"],
                 policy or "own finalizers")
        try:
            await self.client.delete(plural, meta["name"], meta.get("namespace", ""), propagation_policy=policy,
                                     preconditions={"uid": meta["uid"]})
        except StatusError as exc:
            if exc.code not in (404, 409):
                raise

    async def _remove_owner_refs(self, plural: str, obj: dict[str, Any], uids: set[str]) -> None:
        """Patch the live object, not the cached one (Kubernetes reads the dependent's metadata
        first too): the merge patch replaces the whole list under its resourceVersion."""
        meta = obj["metadata"]
        try:
            live = await self.client.get(plural, meta["name"], meta.get("namespace", ""))
            if live["metadata"].get("uid") != meta.get("uid"):
                return  # replaced by a namesake: not the dependent we looked at
            if not {r.get("uid") for r in live["metadata"].get("ownerReferences") or []} & uids:
                return
            await self.client.patch(plural, meta["name"], remove_owner_refs_patch(live, uids),
                                    meta.get("namespace", ""), patch_type="merge")
        except StatusError as exc:
            if exc.code != 404:
                raise

    async def _remove_finalizer(self, plural: str, obj: dict[str, Any], finalizer: str) -> None:
        meta = obj["metadata"]
        remaining = [f for f in meta.get("finalizers") or [] if f != finalizer]
        patch = {"metadata": {"finalizers": remaining or None, "resourceVersion": meta["resourceVersion"]}}
        try:
            await self.client.patch(plural, meta["name"], patch, meta.get("namespace", ""), patch_type="merge")
        except StatusError as exc:
            if exc.code != 404:
                raise
