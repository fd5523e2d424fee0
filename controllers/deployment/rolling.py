"""RollingUpdate: scale the new ReplicaSet up within maxSurge, the old ones down within
maxUnavailable, one step per sync (Kubernetes' deployment/rolling.go, semantics.md §2.5)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from controllers.deployment import progress, sync, util

if TYPE_CHECKING:
    from controllers.deployment.controller import DeploymentController

Obj = dict[str, Any]


async def rollout_rolling(dc: DeploymentController, d: Obj, rss: list[Obj]) -> None:
    new_rs, old_active, all_old = await sync.get_all_rss_and_sync_revision(dc, d, rss, create_if_missing=True)
    all_rss = ([new_rs] if new_rs else []) + all_old
    if await reconcile_new_replica_set(dc, d, all_rss, new_rs):
        await progress.sync_rollout_status(dc, d, all_rss, new_rs)
        return
    if await reconcile_old_replica_sets(dc, d, all_rss, old_active, new_rs):
        await progress.sync_rollout_status(dc, d, all_rss, new_rs)
        return
    if util.deployment_complete(d, sync.calculate_status(d, all_rss, new_rs)):
        await sync.cleanup(dc, d, all_old)
    await progress.sync_rollout_status(dc, d, all_rss, new_rs)


async def reconcile_new_replica_set(dc: DeploymentController, d: Obj, all_rss: list[Obj],
                                    new_rs: Obj | None) -> bool:
    if new_rs is None:
        return False
    replicas = util.replicas_of(d)
    if util.replicas_of(new_rs) == replicas:
        return False
    if util.replicas_of(new_rs) > replicas:
        scaled, _ = await sync.scale_replica_set(dc, new_rs, replicas, d)
        return scaled
    target = util.new_rs_new_replicas(d, all_rss, new_rs)
    if target == util.replicas_of(new_rs):
        return False  # scaleReplicaSetAndRecordEvent: no write when the size stays
    scaled, _ = await sync.scale_replica_set(dc, new_rs, target, d)
    return scaled


async def reconcile_old_replica_sets(dc: DeploymentController, d: Obj, all_rss: list[Obj], old_active: list[Obj],
                                     new_rs: Obj | None) -> bool:
    if util.total_replicas(old_active) == 0:
        return False
    min_available = util.replicas_of(d) - util.max_unavailable(d)
    new_unavailable = 0
    if new_rs is not None:
        new_unavailable = util.replicas_of(new_rs) - int((new_rs.get("status") or {}).get("availableReplicas") or 0)
    max_scaled_down = util.total_replicas(all_rss) - min_available - new_unavailable
    if max_scaled_down <= 0:
        return False
    old_sorted = sorted(old_active, key=util.by_creation)
    cleaned, old_sorted = await cleanup_unhealthy_replicas(dc, d, old_sorted, max_scaled_down)
    all_after = ([new_rs] if new_rs else []) + old_sorted
    scaled_down = await scale_down_old_for_rolling_update(dc, d, all_after, old_sorted)
    return cleaned + scaled_down > 0


async def cleanup_unhealthy_replicas(dc: DeploymentController, d: Obj, old_sorted: list[Obj],
                                     max_cleanup: int) -> tuple[int, list[Obj]]:
    total = 0
    result: list[Obj] = []
    for rs in old_sorted:
        if total >= max_cleanup or util.replicas_of(rs) == 0:
            result.append(rs)
            continue
        available = int((rs.get("status") or {}).get("availableReplicas") or 0)
        unhealthy = util.replicas_of(rs) - available
        if unhealthy <= 0:
            result.append(rs)
            continue
        step = min(max_cleanup - total, unhealthy)
        _, updated = await sync.scale_replica_set(dc, rs, util.replicas_of(rs) - step, d)
        total += step
        result.append(updated)
    return total, result


async def scale_down_old_for_rolling_update(dc: DeploymentController, d: Obj, all_rss: list[Obj],
                                            old_sorted: list[Obj]) -> int:
    min_available = util.replicas_of(d) - util.max_unavailable(d)
    # Capped by spec: a ReplicaSet just scaled down still reports the pods it is deleting as
    # available until its controller writes status, and counting them would let this sync
    # scale down again below minAvailable (seen in tests/.../test_rollout_guarantees.py).
    available = sum(min(util.replicas_of(rs), int((rs.get("status") or {}).get("availableReplicas") or 0))
                    for rs in all_rss)
    if available <= min_available:
        return 0
    total_scale_down = available - min_available
    total = 0
    for rs in old_sorted:
        if total >= total_scale_down:
            break
        if util.replicas_of(rs) == 0:
            continue
        step = min(util.replicas_of(rs), total_scale_down - total)
        await sync.scale_replica_set(dc, rs, util.replicas_of(rs) - step, d)
        total += step
    return total
