"""Deployment controller: the informer-fed queue and the one `sync(key)` (deployment_controller.go).

The sync order follows Kubernetes' syncDeployment: a selector-less Deployment only gets a
`SelectingAll` warning; a deleted one only status; paused ones scale and clean up without
rolling; a scaling event scales proportionally; everything else rolls by its strategy.
The steps themselves live in sync.py, rolling.py, recreate.py and progress.py.
"""

from __future__ import annotations

import copy
import logging
from typing import Any

from apimachinery.errors import StatusError
from apimachinery.labels import SelectorError, selector_from_label_selector
from controllers.base import Controller, ControllerContext
from controllers.deployment import sync, util
from controllers.deployment.autorollback import maybe_auto_rollback
from controllers.deployment.recreate import rollout_recreate
from controllers.deployment.rolling import rollout_rolling
from controllers.podutil import controller_ref, new_controller_ref, remove_owner_refs_patch

log = logging.getLogger(__name__)
Obj = dict[str, Any]


def controller_uid(obj: Obj) -> list[str]:
    ref = controller_ref(obj)
    return [ref["uid"]] if ref else []


class DeploymentController(Controller):
    name = "deployment-controller"
    workers = 4

    def __init__(self, ctx: ControllerContext) -> None:
        super().__init__(ctx)
        self.recorder = ctx.recorder(self.name)
        self.deployments = ctx.informers.informer("deployments")
        self.replicasets = ctx.informers.informer("replicasets")
        self.pods = ctx.informers.informer("pods")
        self.deployments.add_indexer("uid", lambda o: [o["metadata"].get("uid", "")])
        self.replicasets.add_indexer("controller-uid", controller_uid)
        self.pods.add_indexer("controller-uid", controller_uid)
        self.deployments.add_handlers(on_add=self.enqueue, on_update=lambda _o, n: self.enqueue(n),
                                      on_delete=self.enqueue)
        self.replicasets.add_handlers(on_add=self._rs_changed, on_update=lambda _o, n: self._rs_changed(n),
                                      on_delete=self._rs_changed)
        self.pods.add_handlers(on_delete=self._pod_deleted)

    # ---- event handlers ------------------------------------------------------------

    def _owner(self, obj: Obj) -> Obj | None:
        ref = controller_ref(obj)
        if ref is None or ref.get("kind") != "Deployment":
            return None
        found = self.deployments.by_index("uid", ref["uid"])
        return found[0] if found else None

    def _rs_changed(self, rs: Obj) -> None:
        owner = self._owner(rs)
        if owner is not None:
            self.enqueue(owner)
            return
        if controller_ref(rs) is None:
            labels = rs["metadata"].get("labels") or {}
            for d in self.deployments.list(rs["metadata"].get("namespace", "")):
                selector = _selector(d)
                if selector is not None and not selector.empty() and selector.matches(labels):
                    self.enqueue(d)

    def _pod_deleted(self, pod: Obj) -> None:
        ref = controller_ref(pod)
        if ref is None or ref.get("kind") != "ReplicaSet":
            return
        for rs in self.replicasets.list(pod["metadata"].get("namespace", "")):
            if rs["metadata"].get("uid") == ref["uid"]:
                owner = self._owner(rs)
                if owner is not None and not util.is_rolling(owner):
                    self.enqueue(owner)

    # ---- status writes -------------------------------------------------------------

    async def write_status(self, d: Obj, status: Obj) -> None:
        """Write status when it differs; `d` is refreshed in place with the server's answer."""
        if status == (d.get("status") or {}):
            return
        body = copy.deepcopy(d)
        body["status"] = status
        d.update(await self.client.update_status("deployments", body, d["metadata"]["namespace"]))

    # ---- sync ----------------------------------------------------------------------

    async def sync(self, key: str) -> None:
        cached = self.deployments.get(key)
        if cached is None:
            return
        d = copy.deepcopy(cached)
        selector = _selector(d)
        if selector is None or selector.empty():
            self.recorder.event(d, "Warning", "SelectingAll",
                                "This deployment is selecting all pods. A non-empty selector is required.")
            status = copy.deepcopy(d.get("status") or {})
            if int(status.get("observedGeneration") or 0) < int(d["metadata"].get("generation") or 0):
                status["observedGeneration"] = d["metadata"]["generation"]
                await self.write_status(d, status)
            return
        try:
            rss = await self._claim_replica_sets(d, selector)
        except StatusError as exc:
            if exc.code == 404:
                return
            raise
        if d["metadata"].get("deletionTimestamp"):
            new_rs = util.find_new_rs(d, rss)
            await sync.sync_status_only(self, d, new_rs, rss)
            return
        await self._check_paused_conditions(d)
        if (d.get("spec") or {}).get("paused"):
            await sync.sync(self, d, rss)
            return
        new_rs = util.find_new_rs(d, rss)
        if await maybe_auto_rollback(self, d, rss, new_rs):
            return  # the template changed; its update event brings the next sync
        old_active, _ = util.old_replica_sets(rss, new_rs)
        active = [rs for rs in ([new_rs] if new_rs else []) + old_active if util.replicas_of(rs) > 0]
        if util.has_scaling_event(d, active):
            await sync.sync(self, d, rss)
            return
        if util.is_rolling(d):
            await rollout_rolling(self, d, rss)
        else:
            pods = [p for rs in rss for p in self.pods.by_index("controller-uid", rs["metadata"]["uid"])]
            await rollout_recreate(self, d, rss, pods)

    async def _claim_replica_sets(self, d: Obj, selector: Any) -> list[Obj]:
        uid = d["metadata"]["uid"]
        claimed: list[Obj] = []
        for rs in self.replicasets.list(d["metadata"]["namespace"]):
            ref = controller_ref(rs)
            matches = selector.matches(rs["metadata"].get("labels") or {})
            if ref is not None and ref.get("uid") == uid:
                if matches or d["metadata"].get("deletionTimestamp"):
                    claimed.append(rs)
                else:
                    await self._release(rs, uid)
            elif ref is None and matches and not d["metadata"].get("deletionTimestamp"):
                fresh = await self.client.get("deployments", d["metadata"]["name"], d["metadata"]["namespace"])
                if fresh["metadata"].get("uid") != uid or fresh["metadata"].get("deletionTimestamp"):
                    continue
                adopted = await self._patch_owner(rs, new_controller_ref(d))
                if adopted is not None:
                    claimed.append(adopted)
        return claimed

    async def _release(self, rs: Obj, owner_uid: str) -> None:
        """ReleaseReplicaSet; a ReplicaSet left with no owner has no ownerReferences field at all."""
        try:
            await self.client.patch("replicasets", rs["metadata"]["name"], remove_owner_refs_patch(rs, {owner_uid}),
                                    rs["metadata"]["namespace"], patch_type="merge")
        except StatusError as exc:
            if exc.code != 404:
                raise

    async def _patch_owner(self, rs: Obj, ref_patch: Obj) -> Obj | None:
        try:
            return await self.client.patch("replicasets", rs["metadata"]["name"],
                                           {"metadata": {"ownerReferences": [ref_patch]}},
                                           rs["metadata"]["namespace"])
        except StatusError as exc:
            if exc.code == 404:
                return None
            raise

    async def _check_paused_conditions(self, d: Obj) -> None:
        if (d.get("spec") or {}).get("progressDeadlineSeconds") is None:
            return
        status = copy.deepcopy(d.get("status") or {})
        current = util.condition(status, "Progressing")
        if current is not None and current.get("reason") == "ProgressDeadlineExceeded":
            return
        paused = bool((d.get("spec") or {}).get("paused"))
        if paused and (current is None or current.get("reason") != "DeploymentPaused"):
            util.set_condition(status, util.new_condition("Progressing", "Unknown", "DeploymentPaused",
                                                          "Deployment is paused"))
        elif not paused and current is not None and current.get("reason") == "DeploymentPaused":
            util.set_condition(status, util.new_condition("Progressing", "Unknown", "DeploymentResumed",
                                                          "Deployment is resumed"))
        else:
            return
        await self.write_status(d, status)


def _selector(d: Obj) -> Any:
    try:
        return selector_from_label_selector((d.get("spec") or {}).get("selector"))
    except SelectorError:
        return None



