"""Namespace controller: empties a terminating namespace, then lets it go.

A deleted Namespace stays `Terminating` while its `spec.finalizers` holds `kubernetes`.
This controller deletes every namespaced object in it (collection deletes, resource by
resource), reports progress in the namespace's conditions, and once nothing is left
removes `kubernetes` through the `/finalize` subresource, after which the API server
removes the namespace (semantics.md §1.13).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from apimachinery.errors import StatusError
from apimachinery.resources import RESOURCES, ResourceInfo
from controllers.base import Controller, ControllerContext
from kubeclient.rest import object_path

log = logging.getLogger(__name__)

FINALIZER = "kubernetes"
DELETION_DELAY = 5.0  # Kubernetes' namespaceDeletionGracePeriod
REQUEUE_WHILE_CONTENT_REMAINS = 2.0


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class NamespaceController(Controller):
    name = "namespace-controller"

    def __init__(self, ctx: ControllerContext, deletion_delay: float = DELETION_DELAY) -> None:
        super().__init__(ctx)
        self.deletion_delay = deletion_delay
        self.namespaces = ctx.informers.informer("namespaces")
        self.namespaces.add_handlers(on_add=self._maybe_enqueue, on_update=lambda _o, n: self._maybe_enqueue(n))

    def _maybe_enqueue(self, ns: dict[str, Any]) -> None:
        if ns["metadata"].get("deletionTimestamp"):
            self.enqueue_after(ns, self.deletion_delay)

    async def sync(self, key: str) -> None:
        ns = self.namespaces.get(key)
        if ns is None or not ns["metadata"].get("deletionTimestamp"):
            return
        if FINALIZER not in ((ns.get("spec") or {}).get("finalizers") or []):
            return
        remaining = await self._delete_content(key)
        if remaining:
            await self._set_condition(ns, remaining)
            self.queue.add_after(key, REQUEUE_WHILE_CONTENT_REMAINS)
            return
        finalizers = [f for f in ns["spec"]["finalizers"] if f != FINALIZER]
        body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": key}, "spec": {"finalizers": finalizers}}
        await self.client.request("PUT", object_path(_namespaces(), "", key, "finalize"), body=body)
        log.info("namespace %s is empty; finalized", key)

    async def _delete_content(self, namespace: str) -> dict[str, int]:
        remaining: dict[str, int] = {}
        for resource in RESOURCES:
            if not resource.namespaced:
                continue
            try:
                if "deletecollection" in resource.verbs:
                    await self.client.request("DELETE", object_path(resource, namespace),
                                              body={"propagationPolicy": "Background"})
                listing = await self.client.list(resource, namespace)
            except StatusError as exc:
                if exc.code == 404:
                    continue
                raise
            items = listing.get("items") or []
            for item in items:
                if not item["metadata"].get("deletionTimestamp"):
                    try:
                        await self.client.delete(resource, item["metadata"]["name"], namespace,
                                                 propagation_policy="Background")
                    except StatusError as exc:
                        if exc.code != 404:
                            raise
            if items:
                remaining[f"{resource.plural}.{resource.group}" if resource.group else resource.plural] = len(items)
        return remaining

    async def _set_condition(self, ns: dict[str, Any], remaining: dict[str, int]) -> None:
        message = "Some resources are remaining: " + ", ".join(
            f"{name} has {count} resource instances" for name, count in sorted(remaining.items()))
        conditions = [c for c in (ns.get("status") or {}).get("conditions") or []
                      if c.get("type") != "NamespaceContentRemaining"]
        conditions.append({"type": "NamespaceContentRemaining", "status": "True", "lastTransitionTime": _now(),
                           "reason": "SomeResourcesRemain", "message": message})
        try:
            await self.client.patch("namespaces", ns["metadata"]["name"], {"status": {"conditions": conditions}},
                                    subresource="status", patch_type="merge")
        except StatusError as exc:
            log.debug("namespace %s status: %s", ns["metadata"]["name"], exc)


def _namespaces() -> ResourceInfo:
    return next(r for r in RESOURCES if r.plural == "namespaces")
