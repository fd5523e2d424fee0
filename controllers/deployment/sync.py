"""The Deployment sync steps every strategy shares (Kubernetes' deployment/sync.go).

Finding or creating the new ReplicaSet (with its pod-template-hash, revision and
annotations), scaling a ReplicaSet with its bookkeeping annotations and event,
proportional scaling on a scaling event, revision-history cleanup and the status.
"""

from __future__ import annotations

import copy
import logging
from typing import TYPE_CHECKING, Any

from apimachinery.errors import StatusError
from apimachinery.hashing import compute_hash
from controllers.deployment import util
from controllers.podutil import new_controller_ref

if TYPE_CHECKING:
    from controllers.deployment.controller import DeploymentController

log = logging.getLogger(__name__)
Obj = dict[str, Any]


async def get_all_rss_and_sync_revision(dc: DeploymentController, d: Obj, rss: list[Obj],
                                        create_if_missing: bool) -> tuple[Obj | None, list[Obj], list[Obj]]:
    """→ (new RS or None, old active RSs, all old RSs); creates/updates the new RS."""
    new_rs = util.find_new_rs(d, rss)
    _, all_old = util.old_replica_sets(rss, new_rs)
    new_rs = await get_new_replica_set(dc, d, rss, all_old, new_rs, create_if_missing)
    old_active, all_old = util.old_replica_sets(rss, new_rs)
    return new_rs, old_active, all_old


async def get_new_replica_set(dc: DeploymentController, d: Obj, rss: list[Obj], all_old: list[Obj],
                              existing: Obj | None, create_if_missing: bool) -> Obj | None:
    new_revision = util.max_revision(all_old) + 1
    if existing is not None:
        return await _sync_existing_new_rs(dc, d, existing, new_revision)
    if not create_if_missing:
        return None
    return await _create_new_rs(dc, d, rss, new_revision)


async def _sync_existing_new_rs(dc: DeploymentController, d: Obj, rs: Obj, new_revision: int) -> Obj:
    updated = copy.deepcopy(rs)
    changed = util.set_new_rs_annotations(d, updated, new_revision, exists=True)
    min_ready = (d.get("spec") or {}).get("minReadySeconds") or 0
    if ((updated.get("spec") or {}).get("minReadySeconds") or 0) != min_ready:
        updated["spec"]["minReadySeconds"] = min_ready
        changed = True
    if changed:
        updated = await dc.client.update("replicasets", updated, d["metadata"]["namespace"])
    await _sync_deployment_revision(dc, d, updated)
    status = copy.deepcopy(d.get("status") or {})
    if (d.get("spec") or {}).get("progressDeadlineSeconds") is not None and \
            util.condition(status, "Progressing") is None:
        util.set_condition(status, util.new_condition(
            "Progressing", "True", "FoundNewReplicaSet", f'Found new replica set "{updated["metadata"]["name"]}"'))
        await dc.write_status(d, status)
    return updated


async def _sync_deployment_revision(dc: DeploymentController, d: Obj, new_rs: Obj) -> None:
    """The Deployment's revision annotation follows its new ReplicaSet's (written via /status)."""
    wanted = (new_rs["metadata"].get("annotations") or {}).get(util.REVISION)
    if wanted and (d["metadata"].get("annotations") or {}).get(util.REVISION) != wanted:
        util.annotations_of(d)[util.REVISION] = wanted
        d.update(await dc.client.update_status("deployments", d, d["metadata"]["namespace"]))


async def _create_new_rs(dc: DeploymentController, d: Obj, rss: list[Obj], new_revision: int) -> Obj | None:
    spec = d.get("spec") or {}
    namespace = d["metadata"]["namespace"]
    collision = (d.get("status") or {}).get("collisionCount")
    template = copy.deepcopy(spec.get("template") or {})
    pod_hash = compute_hash(template, collision)
    template.setdefault("metadata", {}).setdefault("labels", {})[util.HASH_LABEL] = pod_hash
    selector = copy.deepcopy(spec.get("selector") or {})
    selector.setdefault("matchLabels", {})[util.HASH_LABEL] = pod_hash
    name = f"{d['metadata']['name']}-{pod_hash}"
    rs: Obj = {
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": name, "namespace": namespace, "ownerReferences": [new_controller_ref(d)],
                     "labels": dict(template["metadata"]["labels"])},
        "spec": {"replicas": 0, "minReadySeconds": spec.get("minReadySeconds") or 0, "selector": selector,
                 "template": template},
    }
    all_rss = list(rss)
    rs["spec"]["replicas"] = util.new_rs_new_replicas(d, all_rss, None)
    util.set_new_rs_annotations(d, rs, new_revision, exists=False)
    try:
        created = await dc.client.create("replicasets", rs, namespace)
    except StatusError as exc:
        if exc.code == 409 and exc.reason == "AlreadyExists":
            return await _handle_collision(dc, d, name, template)
        status = copy.deepcopy(d.get("status") or {})
        message = f'Failed to create new replica set "{name}": {exc}'
        dc.recorder.event(d, "Warning", "ReplicaSetCreateError", message)
        if spec.get("progressDeadlineSeconds") is not None:
            util.set_condition(status, util.new_condition("Progressing", "False", "ReplicaSetCreateError", message))
            await dc.write_status(d, status)
        raise
    if created["spec"]["replicas"] > 0:
        dc.recorder.event(d, "Normal", "ScalingReplicaSet",
                          f"Scaled up replica set {name} from 0 to {created['spec']['replicas']}")
    await _sync_deployment_revision(dc, d, created)
    if spec.get("progressDeadlineSeconds") is not None:
        status = copy.deepcopy(d.get("status") or {})
        util.set_condition(status, util.new_condition("Progressing", "True", "NewReplicaSetCreated",
                                                      f'Created new replica set "{name}"'))
        await dc.write_status(d, status)
    return created


async def _handle_collision(dc: DeploymentController, d: Obj, name: str, template: Obj) -> Obj | None:
    namespace = d["metadata"]["namespace"]
    existing = await dc.client.get("replicasets", name, namespace)
    ref = (existing["metadata"].get("ownerReferences") or [{}])[0]
    ours = ref.get("uid") == d["metadata"]["uid"]
    if ours and util.equal_ignore_hash((existing.get("spec") or {}).get("template") or {}, template):
        return existing
    status = copy.deepcopy(d.get("status") or {})
    status["collisionCount"] = int(status.get("collisionCount") or 0) + 1
    await dc.write_status(d, status)
    raise RuntimeError(f"hash collision for replica set {name}; collisionCount is now {status['collisionCount']}")


async def scale_replica_set(dc: DeploymentController, rs: Obj, new_size: int, d: Obj) -> tuple[bool, Obj]:
    """Resize with the desired/max annotations and the ScalingReplicaSet event."""
    old_size = util.replicas_of(rs)
    updated = copy.deepcopy(rs)
    size_changed = old_size != new_size
    ann_changed = util.set_replicas_annotations(updated, util.replicas_of(d), util.replicas_of(d) + util.max_surge(d))
    if not size_changed and not ann_changed:
        return False, rs
    updated["spec"]["replicas"] = new_size
    result = await dc.client.update("replicasets", updated, rs["metadata"]["namespace"])
    if size_changed:
        direction = "up" if new_size > old_size else "down"
        dc.recorder.event(d, "Normal", "ScalingReplicaSet",
                          f"Scaled {direction} replica set {rs['metadata']['name']} from {old_size} to {new_size}")
    return size_changed, result


async def scale(dc: DeploymentController, d: Obj, new_rs: Obj | None, old_rss: list[Obj]) -> None:
    """Sync a scaling event: one active RS takes it all, otherwise shares are proportional."""
    active = util.active_or_latest(new_rs, old_rss)
    replicas = util.replicas_of(d)
    if active is not None:
        if util.replicas_of(active) != replicas or util.has_scaling_event(d, [active]):
            await scale_replica_set(dc, active, replicas, d)
        return
    if util.is_saturated(d, new_rs):
        for rs in old_rss:
            if util.replicas_of(rs) > 0:
                await scale_replica_set(dc, rs, 0, d)
        return
    if not util.is_rolling(d):
        return
    all_rss = [rs for rs in ([new_rs] if new_rs else []) + old_rss if util.replicas_of(rs) > 0]
    allowed = replicas + util.max_surge(d) if replicas > 0 else 0
    to_add = allowed - util.total_replicas(all_rss)
    if to_add > 0:
        ordered = sorted(all_rss, key=lambda rs: (-util.replicas_of(rs), _neg_time(rs)))
    else:
        ordered = sorted(all_rss, key=lambda rs: (-util.replicas_of(rs), util.by_creation(rs)))
    sizes: dict[str, int] = {}
    added = 0
    for rs in ordered:
        share = util.proportion(rs, d, to_add, added) if to_add != 0 else 0
        sizes[rs["metadata"]["uid"]] = util.replicas_of(rs) + share
        added += share
    if ordered and to_add != added:
        first = ordered[0]["metadata"]["uid"]
        sizes[first] = max(0, sizes[first] + (to_add - added))
    for rs in ordered:
        await scale_replica_set(dc, rs, sizes[rs["metadata"]["uid"]], d)


def _neg_time(rs: Obj) -> tuple[int, ...]:
    """Newest first: invert the creation time string's characters for sorting."""
    return tuple(-ord(c) for c in rs["metadata"].get("creationTimestamp", "") + rs["metadata"]["name"])


async def cleanup(dc: DeploymentController, d: Obj, old_rss: list[Obj]) -> None:
    limit = (d.get("spec") or {}).get("revisionHistoryLimit")
    if limit is None:
        return
    candidates = [rs for rs in old_rss if not rs["metadata"].get("deletionTimestamp")]
    diff = len(candidates) - int(limit)
    if diff <= 0:
        return
    candidates.sort(key=lambda rs: (util.revision(rs), util.by_creation(rs)))
    for rs in candidates[:diff]:
        status = rs.get("status") or {}
        if util.replicas_of(rs) != 0 or int(status.get("replicas") or 0) != 0 or \
                int(status.get("observedGeneration") or 0) < int(rs["metadata"].get("generation") or 0):
            continue
        try:
            await dc.client.delete("replicasets", rs["metadata"]["name"], rs["metadata"]["namespace"],
                                   propagation_policy="Background")
        except StatusError as exc:
            if exc.code != 404:
                raise


def calculate_status(d: Obj, all_rss: list[Obj], new_rs: Obj | None) -> Obj:
    old = d.get("status") or {}
    available = util.status_sum(all_rss, "availableReplicas")
    status: Obj = {
        "observedGeneration": d["metadata"].get("generation", 0),
        "replicas": util.status_sum(all_rss, "replicas"),
        "updatedReplicas": int(((new_rs or {}).get("status") or {}).get("replicas") or 0),
        "readyReplicas": util.status_sum(all_rss, "readyReplicas"),
        "availableReplicas": available,
        "unavailableReplicas": max(0, util.total_replicas(all_rss) - available),
    }
    if old.get("collisionCount") is not None:
        status["collisionCount"] = old["collisionCount"]
    status["conditions"] = copy.deepcopy(old.get("conditions") or [])
    min_available = util.replicas_of(d) - util.max_unavailable(d)
    if available >= min_available:
        util.set_condition(status, util.new_condition("Available", "True", "MinimumReplicasAvailable",
                                                      "Deployment has minimum availability."))
    else:
        util.set_condition(status, util.new_condition("Available", "False", "MinimumReplicasUnavailable",
                                                      "Deployment does not have minimum availability."))
    return status


async def sync_status_only(dc: DeploymentController, d: Obj, new_rs: Obj | None, all_rss: list[Obj]) -> None:
    status = calculate_status(d, all_rss, new_rs)
    await dc.write_status(d, status)


async def sync(dc: DeploymentController, d: Obj, rss: list[Obj]) -> None:
    """Scale and clean up without rolling out (paused deployments and scaling events)."""
    new_rs, old_active, all_old = await get_all_rss_and_sync_revision(dc, d, rss, create_if_missing=False)
    await scale(dc, d, new_rs, old_active)
    rollback_in_flight = util.ROLLBACK_TO in (d["metadata"].get("annotations") or {})
    if (d.get("spec") or {}).get("paused") and not rollback_in_flight:  # sync.go: paused, no rollback
        await cleanup(dc, d, all_old)
    all_rss = ([new_rs] if new_rs else []) + all_old
    await sync_status_only(dc, d, new_rs, all_rss)
