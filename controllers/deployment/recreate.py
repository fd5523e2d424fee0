"""Recreate: every old pod gone before the new ReplicaSet gets any (semantics.md §2.6)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from controllers.deployment import progress, sync, util
from controllers.podutil import controller_ref

if TYPE_CHECKING:
    from controllers.deployment.controller import DeploymentController

Obj = dict[str, Any]


async def rollout_recreate(dc: DeploymentController, d: Obj, rss: list[Obj], pods: list[Obj]) -> None:
    new_rs, old_active, all_old = await sync.get_all_rss_and_sync_revision(dc, d, rss, create_if_missing=False)
    all_rss = ([new_rs] if new_rs else []) + all_old
    scaled = False
    for rs in old_active:
        changed, _ = await sync.scale_replica_set(dc, rs, 0, d)
        scaled |= changed
    if scaled:
        await progress.sync_rollout_status(dc, d, all_rss, new_rs)
        return
    if old_pods_running(new_rs, all_old, pods):
        await sync.sync_status_only(dc, d, new_rs, all_rss)
        return
    if new_rs is None:
        new_rs, old_active, all_old = await sync.get_all_rss_and_sync_revision(dc, d, rss, create_if_missing=True)
        all_rss = ([new_rs] if new_rs else []) + all_old
    if new_rs is not None and util.replicas_of(new_rs) != util.replicas_of(d):
        await sync.scale_replica_set(dc, new_rs, util.replicas_of(d), d)
    if util.deployment_complete(d, sync.calculate_status(d, all_rss, new_rs)):
        await sync.cleanup(dc, d, all_old)
    await progress.sync_rollout_status(dc, d, all_rss, new_rs)


def old_pods_running(new_rs: Obj | None, old_rss: list[Obj], pods: list[Obj]) -> bool:
    if sum(int((rs.get("status") or {}).get("replicas") or 0) for rs in old_rss) > 0:
        return True
    old_uids = {rs["metadata"]["uid"] for rs in old_rss}
    for pod in pods:
        ref = controller_ref(pod)
        if ref is None or ref.get("uid") not in old_uids:
            continue
        if (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed"):
            return True
    return False
