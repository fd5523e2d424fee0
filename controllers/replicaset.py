"""ReplicaSet controller: keep `spec.replicas` active pods, report status (semantics.md §3).

One sync per ReplicaSet key: claim pods (adopt matching orphans, release owned pods that
stopped matching), create or delete the difference — creates in slow-start batches of
1, 2, 4, … and never while earlier creates or deletes are unobserved (expectations), and
deletes by Kubernetes' ranking — then write status through `/status`.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from apimachinery.errors import StatusError
from apimachinery.labels import SelectorError, selector_from_label_selector
from controllers.base import Controller, ControllerContext
from controllers.podutil import (
    Expectations,
    controller_ref,
    is_pod_active,
    is_pod_available,
    is_pod_ready,
    new_controller_ref,
    now_rfc3339,
    pod_from_template,
    pods_prefix,
    pods_to_delete,
    remove_owner_refs_patch,
)
from kubeclient.informer import meta_key, split_key

log = logging.getLogger(__name__)

BURST_REPLICAS = 500
Obj = dict[str, Any]


def owner_uid_index(obj: Obj) -> list[str]:
    ref = controller_ref(obj)
    return [ref["uid"]] if ref else []


class ReplicaSetController(Controller):
    name = "replicaset-controller"
    workers = 4

    def __init__(self, ctx: ControllerContext) -> None:
        super().__init__(ctx)
        self.recorder = ctx.recorder(self.name)
        self.expectations = Expectations()
        self.rs_informer = ctx.informers.informer("replicasets")
        self.pod_informer = ctx.informers.informer("pods")
        self.rs_informer.add_indexer("uid", lambda o: [o["metadata"].get("uid", "")])
        self.pod_informer.add_indexer("controller-uid", owner_uid_index)
        self.rs_informer.add_handlers(on_add=self.enqueue, on_update=lambda _o, n: self.enqueue(n),
                                      on_delete=self._rs_deleted)
        self.pod_informer.add_handlers(on_add=self._pod_added, on_update=self._pod_updated,
                                       on_delete=self._pod_deleted)

    # ---- event handlers ------------------------------------------------------------

    def _rs_deleted(self, rs: Obj) -> None:
        self.expectations.forget(meta_key(rs))

    def _owner_key(self, pod: Obj) -> str | None:
        ref = controller_ref(pod)
        if ref is None or ref.get("kind") != "ReplicaSet":
            return None
        owners = self.rs_informer.by_index("uid", ref["uid"])
        return meta_key(owners[0]) if owners else None

    def _pod_added(self, pod: Obj) -> None:
        key = self._owner_key(pod)
        if key is not None:
            self.expectations.creation_observed(key)
            if pod["metadata"].get("deletionTimestamp"):
                self.expectations.deletion_observed(key, pod["metadata"].get("uid", ""))
            self.queue.add(key)
        else:
            self._enqueue_matching(pod)

    def _pod_updated(self, old: Obj, new: Obj) -> None:
        key = self._owner_key(new)
        if new["metadata"].get("deletionTimestamp") and key is not None:
            self.expectations.deletion_observed(key, new["metadata"].get("uid", ""))
        old_key = self._owner_key(old)
        if old_key is not None and old_key != key:
            self.queue.add(old_key)
        if key is not None:
            self.queue.add(key)
            ready_changed = is_pod_ready(old) != is_pod_ready(new)
            rs = self.rs_informer.get(key)
            min_ready = ((rs or {}).get("spec") or {}).get("minReadySeconds") or 0
            if ready_changed and min_ready:
                self.queue.add_after(key, min_ready + 1)
        elif (old["metadata"].get("labels") != new["metadata"].get("labels")) or old_key is not None:
            self._enqueue_matching(new)

    def _pod_deleted(self, pod: Obj) -> None:
        key = self._owner_key(pod)
        if key is not None:
            self.expectations.deletion_observed(key, pod["metadata"].get("uid", ""))
            self.queue.add(key)

    def _enqueue_matching(self, pod: Obj) -> None:
        if not is_pod_active(pod):
            return
        labels = pod["metadata"].get("labels") or {}
        for rs in self.rs_informer.list(pod["metadata"].get("namespace", "")):
            selector = self._selector(rs)
            if selector is not None and not selector.empty() and selector.matches(labels):
                self.enqueue(rs)

    @staticmethod
    def _selector(rs: Obj) -> Any:
        try:
            return selector_from_label_selector((rs.get("spec") or {}).get("selector"))
        except SelectorError:
            return None

    # ---- sync ----------------------------------------------------------------------

    async def sync(self, key: str) -> None:
        rs = self.rs_informer.get(key)
        if rs is None:
            self.expectations.forget(key)
            return
        namespace, _ = split_key(key)
        selector = self._selector(rs)
        if selector is None:
            log.warning("replicaset %s has an invalid selector", key)
            return
        pods = await self._claim_pods(rs, selector, namespace)
        active = [p for p in pods if is_pod_active(p)]
        manage_error: str = ""
        if self.expectations.satisfied(key) and not rs["metadata"].get("deletionTimestamp"):
            manage_error = await self._manage(rs, active, key)
        await self._update_status(rs, pods, active, manage_error)
        if manage_error:
            raise RuntimeError(manage_error)

    async def _claim_pods(self, rs: Obj, selector: Any, namespace: str) -> list[Obj]:
        uid = rs["metadata"]["uid"]
        owned: list[Obj] = []
        for pod in self.pod_informer.list(namespace):
            labels = pod["metadata"].get("labels") or {}
            ref = controller_ref(pod)
            matches = not selector.empty() and selector.matches(labels)
            if ref is not None and ref.get("uid") == uid:
                if matches:
                    owned.append(pod)
                elif not rs["metadata"].get("deletionTimestamp"):
                    await self._release(pod, uid)
            elif ref is None and matches and is_pod_active(pod) and not rs["metadata"].get("deletionTimestamp"):
                if await self._adopt(rs, pod):
                    owned.append(pod)
        return owned

    async def _adopt(self, rs: Obj, pod: Obj) -> bool:
        try:
            fresh = await self.client.get("replicasets", rs["metadata"]["name"], rs["metadata"]["namespace"])
        except StatusError:
            return False
        if fresh["metadata"].get("uid") != rs["metadata"]["uid"] or fresh["metadata"].get("deletionTimestamp"):
            return False
        patch = {"metadata": {"ownerReferences": [new_controller_ref(rs)]}}
        try:
            await self.client.patch("pods", pod["metadata"]["name"], patch, pod["metadata"]["namespace"])
            return True
        except StatusError as exc:
            log.debug("adopting %s: %s", pod["metadata"]["name"], exc)
            return False

    async def _release(self, pod: Obj, owner_uid: str) -> None:
        """ReleasePod; a pod left with no owner has no ownerReferences field at all."""
        try:
            await self.client.patch("pods", pod["metadata"]["name"], remove_owner_refs_patch(pod, {owner_uid}),
                                    pod["metadata"]["namespace"], patch_type="merge")
        except StatusError as exc:
            if exc.code != 404:
                raise

    async def _manage(self, rs: Obj, active: list[Obj], key: str) -> str:
        wanted = int((rs.get("spec") or {}).get("replicas", 1))
        diff = len(active) - wanted
        if diff < 0:
            return await self._create_pods(rs, min(-diff, BURST_REPLICAS), key)
        if diff > 0:
            return await self._delete_pods(rs, active, min(diff, BURST_REPLICAS), key)
        return ""

    async def _create_pods(self, rs: Obj, count: int, key: str) -> str:
        self.expectations.expect(key, add=count)
        template = (rs.get("spec") or {}).get("template") or {}
        namespace = rs["metadata"]["namespace"]
        body = pod_from_template(template, rs, pods_prefix(rs["metadata"]["name"]))
        remaining, batch, error = count, 1, ""
        while remaining > 0 and not error:
            size = min(batch, remaining)
            results = await asyncio.gather(*(self.client.create("pods", body, namespace) for _ in range(size)),
                                           return_exceptions=True)
            for result in results:
                if isinstance(result, BaseException):
                    self.expectations.lower(key, add=1)
                    if isinstance(result, StatusError) and any(c.type == "NamespaceTerminating"
                                                               for c in result.causes):
                        continue
                    error = f"Error creating: {result}"
                    self.recorder.event(rs, "Warning", "FailedCreate", error)
                else:
                    self.recorder.event(rs, "Normal", "SuccessfulCreate", f"Created pod: {result['metadata']['name']}")
            remaining -= size
            batch *= 2
        if remaining > 0:
            self.expectations.lower(key, add=remaining)  # skipped: retried on a later sync
        return error

    async def _delete_pods(self, rs: Obj, active: list[Obj], count: int, key: str) -> str:
        related = self._related_pods(rs)
        victims = pods_to_delete(active, count, related)
        self.expectations.expect(key, delete_uids={p["metadata"]["uid"] for p in victims})
        results = await asyncio.gather(*(self.client.delete("pods", p["metadata"]["name"], p["metadata"]["namespace"])
                                         for p in victims), return_exceptions=True)
        error = ""
        for pod, result in zip(victims, results, strict=True):
            if isinstance(result, BaseException):
                self.expectations.lower(key, delete_uid=pod["metadata"]["uid"])
                if isinstance(result, StatusError) and result.code == 404:
                    continue
                error = f"Error deleting: {result}"
                self.recorder.event(rs, "Warning", "FailedDelete", error)
            else:
                self.recorder.event(rs, "Normal", "SuccessfulDelete", f"Deleted pod: {pod['metadata']['name']}")
        return error

    def _related_pods(self, rs: Obj) -> list[Obj]:
        """Active pods of every ReplicaSet with the same controller (the same Deployment)."""
        owner = controller_ref(rs)
        siblings = [rs]
        if owner is not None:
            siblings = [s for s in self.rs_informer.list(rs["metadata"]["namespace"])
                        if (controller_ref(s) or {}).get("uid") == owner["uid"]]
        return [p for s in siblings for p in self.pod_informer.by_index("controller-uid", s["metadata"]["uid"])]

    async def _update_status(self, rs: Obj, pods: list[Obj], active: list[Obj], manage_error: str) -> None:
        spec = rs.get("spec") or {}
        template_labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
        min_ready = spec.get("minReadySeconds") or 0
        old = rs.get("status") or {}
        status: Obj = {
            "replicas": len(active),
            "fullyLabeledReplicas": sum(1 for p in active if template_labels.items()
                                        <= (p["metadata"].get("labels") or {}).items()),
            "readyReplicas": sum(1 for p in active if is_pod_ready(p)),
            "availableReplicas": sum(1 for p in active if is_pod_available(p, min_ready)),
            "observedGeneration": rs["metadata"].get("generation", 0),
        }
        terminating = sum(1 for p in pods if p["metadata"].get("deletionTimestamp"))
        if terminating:
            status["terminatingReplicas"] = terminating
        conditions = [c for c in old.get("conditions") or [] if c.get("type") != "ReplicaFailure"]
        if manage_error:
            reason = "FailedCreate" if manage_error.startswith("Error creating") else "FailedDelete"
            conditions.append({"type": "ReplicaFailure", "status": "True", "lastTransitionTime": now_rfc3339(),
                               "reason": reason, "message": manage_error})
        if conditions:
            status["conditions"] = conditions
        status = {k: v for k, v in status.items() if v or k in ("replicas",)}
        if status == {k: v for k, v in old.items() if v or k in ("replicas",)}:
            return
        body = dict(rs)
        body["status"] = status
        try:
            await self.client.update_status("replicasets", body, rs["metadata"]["namespace"])
        except StatusError as exc:
            if exc.code not in (404, 409):
                raise
            if exc.code == 409:
                self.queue.add(meta_key(rs))
        if min_ready and status.get("readyReplicas", 0) > status.get("availableReplicas", 0):
            self.queue.add_after(meta_key(rs), min_ready + 1)
