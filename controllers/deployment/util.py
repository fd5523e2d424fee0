"""Pure Deployment arithmetic and bookkeeping (Kubernetes' deployment/util/deployment_util.go).

No I/O here: fence-post resolution for maxSurge/maxUnavailable, revision annotations,
template equality that ignores the pod-template-hash and null-versus-absent, finding
the new and old ReplicaSets, proportional-scaling shares, and the progress predicates.
Everything is table-tested in tests/unit/test_deployment_util.py.
"""

from __future__ import annotations

import copy
import math
from datetime import UTC, datetime
from typing import Any

from controllers.podutil import parse_time

Obj = dict[str, Any]

REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
DESIRED_REPLICAS = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"
ROLLBACK_TO = "deprecated.deployment.rollback.to"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
HASH_LABEL = "pod-template-hash"
SKIPPED_ANNOTATIONS = frozenset({LAST_APPLIED, REVISION, REVISION_HISTORY, DESIRED_REPLICAS, MAX_REPLICAS,
                                 ROLLBACK_TO})
HISTORY_LIMIT_CHARS = 2000


def int_or_percent(value: Any, total: int, round_up: bool) -> int:
    """intstr.GetScaledValueFromIntOrPercent."""
    if value is None:
        return 0
    if isinstance(value, int):
        return value
    text = str(value)
    if text.endswith("%"):
        pct = int(text[:-1])
        scaled = pct * total / 100
        return math.ceil(scaled) if round_up else math.floor(scaled)
    return int(text)


def resolve_fenceposts(max_surge: Any, max_unavailable: Any, replicas: int) -> tuple[int, int]:
    surge = int_or_percent(max_surge, replicas, True)
    unavailable = int_or_percent(max_unavailable, replicas, False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


def is_rolling(d: Obj) -> bool:
    return ((d.get("spec") or {}).get("strategy") or {}).get("type", "RollingUpdate") == "RollingUpdate"


def replicas_of(obj: Obj) -> int:
    return int((obj.get("spec") or {}).get("replicas") or 0)


def _rolling_params(d: Obj) -> tuple[Any, Any]:
    ru = ((d.get("spec") or {}).get("strategy") or {}).get("rollingUpdate") or {}
    return ru.get("maxSurge", "25%"), ru.get("maxUnavailable", "25%")


def max_surge(d: Obj) -> int:
    if not is_rolling(d):
        return 0
    surge, _ = resolve_fenceposts(*_rolling_params(d), replicas_of(d))
    return surge


def max_unavailable(d: Obj) -> int:
    replicas = replicas_of(d)
    if not is_rolling(d) or replicas == 0:
        return 0
    _, unavailable = resolve_fenceposts(*_rolling_params(d), replicas)
    return min(unavailable, replicas)


def revision(obj: Obj) -> int:
    try:
        return int((obj["metadata"].get("annotations") or {}).get(REVISION, "0"))
    except ValueError:
        return 0


def max_revision(replica_sets: list[Obj]) -> int:
    return max((revision(rs) for rs in replica_sets), default=0)


def normalize(value: Any) -> Any:
    """Drop nulls and empty maps/lists so null-versus-absent never makes templates differ."""
    if isinstance(value, dict):
        out = {k: normalize(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v is not None and v != {} and v != []}
    if isinstance(value, list):
        return [normalize(v) for v in value]
    return value


def without_hash(template: Obj) -> Obj:
    t = copy.deepcopy(template or {})
    labels = (t.get("metadata") or {}).get("labels")
    if labels:
        labels.pop(HASH_LABEL, None)
    return normalize(t)


def equal_ignore_hash(a: Obj, b: Obj) -> bool:
    return without_hash(a) == without_hash(b)


def by_creation(rs: Obj) -> tuple[str, str]:
    meta = rs["metadata"]
    return meta.get("creationTimestamp", ""), meta["name"]


def find_new_rs(d: Obj, replica_sets: list[Obj]) -> Obj | None:
    template = (d.get("spec") or {}).get("template") or {}
    for rs in sorted(replica_sets, key=by_creation):
        if equal_ignore_hash((rs.get("spec") or {}).get("template") or {}, template):
            return rs
    return None


def old_replica_sets(replica_sets: list[Obj], new_rs: Obj | None) -> tuple[list[Obj], list[Obj]]:
    """(old ReplicaSets with pods, all old ReplicaSets)."""
    new_uid = new_rs["metadata"]["uid"] if new_rs else None
    all_old = [rs for rs in replica_sets if rs["metadata"]["uid"] != new_uid]
    return [rs for rs in all_old if replicas_of(rs) > 0], all_old


def active_or_latest(new_rs: Obj | None, old: list[Obj]) -> Obj | None:
    active = [rs for rs in ([new_rs] if new_rs else []) + old if replicas_of(rs) > 0]
    if len(active) == 1:
        return active[0]
    if not active:
        candidates = ([new_rs] if new_rs else []) + old
        return max(candidates, key=by_creation) if candidates else None
    return None


def total_replicas(replica_sets: list[Obj]) -> int:
    return sum(replicas_of(rs) for rs in replica_sets)


def status_sum(replica_sets: list[Obj], field: str) -> int:
    return sum(int((rs.get("status") or {}).get(field) or 0) for rs in replica_sets)


def new_rs_new_replicas(d: Obj, all_rss: list[Obj], new_rs: Obj | None) -> int:
    """NewRSNewReplicas: what the new ReplicaSet should be scaled to now."""
    replicas = replicas_of(d)
    current_new = replicas_of(new_rs) if new_rs else 0
    if not is_rolling(d):
        return replicas
    max_total = replicas + max_surge(d)
    current = total_replicas(all_rss)
    if current >= max_total:
        return current_new
    scale_up = min(max_total - current, replicas - current_new)
    return current_new + max(0, scale_up)


def annotations_of(obj: Obj) -> dict[str, str]:
    """The object's annotations map, created when absent or null."""
    if obj["metadata"].get("annotations") is None:
        obj["metadata"]["annotations"] = {}
    return obj["metadata"]["annotations"]


def copy_deployment_annotations(d: Obj, rs: Obj) -> bool:
    """Copy the Deployment's annotations, except the skip list, onto the ReplicaSet."""
    changed = False
    rs_ann = annotations_of(rs)
    for key, value in (d["metadata"].get("annotations") or {}).items():
        if key in SKIPPED_ANNOTATIONS:
            continue
        if rs_ann.get(key) != value:
            rs_ann[key] = value
            changed = True
    return changed


def set_new_rs_annotations(d: Obj, rs: Obj, new_revision: int, exists: bool) -> bool:
    """Revision (only ever raised, with the old number kept in revision-history) plus the
    copied annotations (SetNewReplicaSetAnnotations)."""
    changed = copy_deployment_annotations(d, rs)
    ann = annotations_of(rs)
    old = ann.get(REVISION, "")
    try:
        old_number = int(old) if old else 0
    except ValueError:
        old_number = 0
    if old_number < new_revision:
        ann[REVISION] = str(new_revision)
        changed = True
        if old:
            history = [h for h in ann.get(REVISION_HISTORY, "").split(",") if h] + [old]
            text = ",".join(history)
            while len(text) > HISTORY_LIMIT_CHARS and len(history) > 1:
                history = history[1:]
                text = ",".join(history)
            ann[REVISION_HISTORY] = text
    if not exists:
        changed |= set_replicas_annotations(rs, replicas_of(d), replicas_of(d) + max_surge(d))
    return changed


def set_replicas_annotations(rs: Obj, desired: int, maximum: int) -> bool:
    ann = annotations_of(rs)
    changed = False
    for key, value in ((DESIRED_REPLICAS, str(desired)), (MAX_REPLICAS, str(maximum))):
        if ann.get(key) != value:
            ann[key] = value
            changed = True
    return changed


def is_saturated(d: Obj, rs: Obj | None) -> bool:
    if rs is None:
        return False
    desired = (rs["metadata"].get("annotations") or {}).get(DESIRED_REPLICAS)
    return replicas_of(rs) == replicas_of(d) and desired == str(replicas_of(d)) and \
        int((rs.get("status") or {}).get("availableReplicas") or 0) == replicas_of(d)


def has_scaling_event(d: Obj, active: list[Obj]) -> bool:
    """Some active ReplicaSet's desired-replicas annotation differs from spec.replicas."""
    for rs in active:
        desired = (rs["metadata"].get("annotations") or {}).get(DESIRED_REPLICAS)
        if desired is not None and desired != str(replicas_of(d)):
            return True
    return False


def proportion(rs: Obj, d: Obj, to_add: int, added: int) -> int:
    """GetProportion: this ReplicaSet's share of a scaling event, bounded by what is left."""
    if rs is None or to_add == 0:
        return 0
    fraction = replica_set_fraction(rs, d)
    allowed = to_add - added
    return min(fraction, allowed) if to_add > 0 else max(fraction, allowed)


def replica_set_fraction(rs: Obj, d: Obj) -> int:
    if replicas_of(d) == 0:
        return -replicas_of(rs)
    allowed = replicas_of(d) + max_surge(d)
    annotated = (rs["metadata"].get("annotations") or {}).get(MAX_REPLICAS)
    try:
        previous_max = int(annotated) if annotated is not None else 0
    except ValueError:
        previous_max = 0
    if not previous_max:
        previous_max = int((d.get("status") or {}).get("replicas") or 0)
    if not previous_max:
        return 0
    new_size = round(replicas_of(rs) * allowed / previous_max + 1e-9)
    return int(new_size) - replicas_of(rs)


# ---- conditions and progress -------------------------------------------------------

def now_rfc3339() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def condition(status: Obj, kind: str) -> Obj | None:
    for c in status.get("conditions") or []:
        if c.get("type") == kind:
            return c
    return None


def new_condition(kind: str, state: str, reason: str, message: str) -> Obj:
    now = now_rfc3339()
    return {"type": kind, "status": state, "lastUpdateTime": now, "lastTransitionTime": now, "reason": reason,
            "message": message}


def set_condition(status: Obj, cond: Obj) -> None:
    """Same status and reason: keep the old one. Same status: keep lastTransitionTime."""
    current = condition(status, cond["type"])
    if current is not None and current.get("status") == cond["status"] and current.get("reason") == cond["reason"]:
        return
    if current is not None and current.get("status") == cond["status"]:
        cond["lastTransitionTime"] = current.get("lastTransitionTime", cond["lastTransitionTime"])
    status["conditions"] = [c for c in status.get("conditions") or [] if c.get("type") != cond["type"]] + [cond]


def remove_condition(status: Obj, kind: str) -> None:
    conditions = [c for c in status.get("conditions") or [] if c.get("type") != kind]
    if conditions:
        status["conditions"] = conditions
    else:
        status.pop("conditions", None)


def deployment_complete(d: Obj, status: Obj) -> bool:
    replicas = replicas_of(d)
    return (int(status.get("updatedReplicas") or 0) == replicas and int(status.get("replicas") or 0) == replicas
            and int(status.get("availableReplicas") or 0) == replicas
            and int(status.get("observedGeneration") or 0) >= int(d["metadata"].get("generation") or 0))


def deployment_progressing(d: Obj, new_status: Obj) -> bool:
    old = d.get("status") or {}
    old_old = int(old.get("replicas") or 0) - int(old.get("updatedReplicas") or 0)
    new_old = int(new_status.get("replicas") or 0) - int(new_status.get("updatedReplicas") or 0)
    return (int(new_status.get("updatedReplicas") or 0) > int(old.get("updatedReplicas") or 0)
            or new_old < old_old
            or int(new_status.get("readyReplicas") or 0) > int(old.get("readyReplicas") or 0)
            or int(new_status.get("availableReplicas") or 0) > int(old.get("availableReplicas") or 0))


def deployment_timed_out(d: Obj, status: Obj, now: datetime | None = None) -> bool:
    deadline = (d.get("spec") or {}).get("progressDeadlineSeconds")
    if deadline is None:
        return False
    progressing = condition(status, "Progressing")
    if progressing is None or progressing.get("reason") == "NewReplicaSetAvailable":
        return False
    if progressing.get("reason") == "ProgressDeadlineExceeded":
        return True
    updated = parse_time(progressing.get("lastUpdateTime"))
    if updated is None:
        return False
    return updated.timestamp() + deadline < (now or datetime.now(UTC)).timestamp()
