"""What the two EndpointSlice controllers share: finding a Service's slices, writing a plan,
and not trusting a cache that has not yet seen their own writes.

Why the tracker: informers lag writes. A sync that ran on a cache without the slice the
previous sync created would create a second one. Like Kubernetes' endpointSliceTracker,
the writer remembers the generation each write produced (0 for a delete), and a sync
whose cache is older raises StaleCache, which the worker retries with back-off.
"""

from __future__ import annotations

from typing import Any

from apimachinery.errors import StatusError
from controllers.base import Controller, ControllerContext, RetryLater
from controllers.endpointslice.reconciler import LABEL_MANAGED_BY, LABEL_SERVICE_NAME, Plan
from kubeclient.informer import Informer, split_key
from kubeclient.rest import ApiClient

Obj = dict[str, Any]
SERVICE_INDEX = "service"


class StaleCache(RetryLater):
    """The slice informer has not yet seen this controller's last writes; retry shortly."""


def service_slice_index(obj: Obj) -> list[str]:
    """`namespace/service` for slices labelled with their service."""
    meta = obj["metadata"]
    service = (meta.get("labels") or {}).get(LABEL_SERVICE_NAME)
    return [f"{meta.get('namespace', '')}/{service}"] if service else []


def owner_ref(obj: Obj, kind: str) -> Obj:
    meta = obj["metadata"]
    return {"apiVersion": "v1", "kind": kind, "name": meta["name"], "uid": meta.get("uid", ""),
            "controller": True, "blockOwnerDeletion": True}


def owned_by(slice_: Obj, owner: Obj) -> bool:
    uid = owner["metadata"].get("uid")
    return any(ref.get("uid") == uid for ref in slice_["metadata"].get("ownerReferences") or [])


class SliceWriter:
    """Applies a Plan and remembers the generation each write produced (the tracker)."""

    def __init__(self, client: ApiClient, slices: Informer) -> None:
        self.client = client
        self.slices = slices
        self.expected: dict[str, dict[str, int]] = {}  # owner key → slice name → generation (0 = deleted)

    def check_fresh(self, owner_key: str) -> None:
        namespace, _ = split_key(owner_key)
        for name, generation in (self.expected.get(owner_key) or {}).items():
            cached = self.slices.get(f"{namespace}/{name}")
            seen = cached["metadata"].get("generation", 0) if cached else 0
            if (generation == 0 and cached is not None) or (generation and seen < generation):
                raise StaleCache(f"EndpointSlice informer cache is out of date for {owner_key}")
        self.expected.pop(owner_key, None)

    def forget(self, slice_: Obj, owner_key: str) -> None:
        """A slice deleted by anyone is no longer awaited."""
        expected = self.expected.get(owner_key)
        if expected is not None and expected.get(slice_["metadata"]["name"]):
            expected[slice_["metadata"]["name"]] = 0

    async def apply(self, owner_key: str, plan: Plan) -> None:
        namespace, _ = split_key(owner_key)
        expected = self.expected.setdefault(owner_key, {})
        for slice_ in plan.create:
            created = await self.client.create("endpointslices", slice_, namespace)
            expected[created["metadata"]["name"]] = created["metadata"].get("generation", 1)
        for slice_ in plan.update:
            updated = await self.client.update("endpointslices", slice_, namespace)
            expected[updated["metadata"]["name"]] = updated["metadata"].get("generation", 1)
        for slice_ in plan.delete:
            try:
                await self.client.delete("endpointslices", slice_["metadata"]["name"], namespace)
            except StatusError as exc:
                if exc.code != 404:
                    raise
            expected[slice_["metadata"]["name"]] = 0


class SliceController(Controller):
    """A controller that owns the slices labelled `managed-by: <managed_by>`: a change to one
    of them (by anyone) puts its Service's key back on the queue."""

    managed_by = ""

    def __init__(self, ctx: ControllerContext) -> None:
        super().__init__(ctx)
        self.slices: Informer = ctx.informers.informer("endpointslices")
        self.slices.add_indexer(SERVICE_INDEX, service_slice_index)
        self.writer = SliceWriter(self.client, self.slices)
        self.slices.add_handlers(on_add=self._slice_changed, on_update=lambda _o, n: self._slice_changed(n),
                                 on_delete=self._slice_deleted)

    def owned_slices(self, key: str) -> list[Obj]:
        return [s for s in self.slices.by_index(SERVICE_INDEX, key)
                if (s["metadata"].get("labels") or {}).get(LABEL_MANAGED_BY) == self.managed_by]

    def _owner_key(self, slice_: Obj) -> str | None:
        labels = slice_["metadata"].get("labels") or {}
        if labels.get(LABEL_MANAGED_BY) == self.managed_by and labels.get(LABEL_SERVICE_NAME):
            return f"{slice_['metadata'].get('namespace', '')}/{labels[LABEL_SERVICE_NAME]}"
        return None

    def _slice_changed(self, slice_: Obj) -> None:
        key = self._owner_key(slice_)
        if key:
            self.queue.add(key)

    def _slice_deleted(self, slice_: Obj) -> None:
        key = self._owner_key(slice_)
        if key:
            self.writer.forget(slice_, key)
            self.queue.add(key)
