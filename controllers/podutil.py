"""Pod and ownership helpers every workload controller shares (controller_utils.go).

Pure functions over pod dicts: activity, readiness and availability, controller
references, the deletion ranking the ReplicaSet controller uses on scale-down, and the
expectations that stop a controller from creating pods twice while its cache lags.
"""

from __future__ import annotations

import functools
import math
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from apimachinery.timeutil import now_rfc3339, parse_time  # noqa: F401 - the controllers import both from here
from apimachinery.validation import is_dns1123_subdomain

EXPECTATIONS_TIMEOUT = 300.0  # seconds, Kubernetes' ExpectationsTimeout
DELETION_COST = "controller.kubernetes.io/pod-deletion-cost"

Obj = dict[str, Any]


def is_pod_active(pod: Obj) -> bool:
    phase = (pod.get("status") or {}).get("phase")
    return phase not in ("Succeeded", "Failed") and not pod["metadata"].get("deletionTimestamp")


def pod_condition(pod: Obj, kind: str) -> Obj | None:
    for condition in (pod.get("status") or {}).get("conditions") or []:
        if condition.get("type") == kind:
            return condition
    return None


def is_pod_ready(pod: Obj) -> bool:
    condition = pod_condition(pod, "Ready")
    return bool(condition and condition.get("status") == "True")


def is_pod_available(pod: Obj, min_ready_seconds: int, now: datetime | None = None) -> bool:
    """Ready, and (minReadySeconds == 0 or Ready since strictly more than minReadySeconds)."""
    if not is_pod_ready(pod):
        return False
    if not min_ready_seconds:
        return True
    since = parse_time((pod_condition(pod, "Ready") or {}).get("lastTransitionTime"))
    if since is None:
        return False
    return (since.timestamp() + min_ready_seconds) < (now or datetime.now(UTC)).timestamp()


def controller_ref(obj: Obj) -> Obj | None:
    for ref in obj["metadata"].get("ownerReferences") or []:
        if ref.get("controller"):
            return ref
    return None


def new_controller_ref(owner: Obj) -> Obj:
    return {"apiVersion": owner["apiVersion"], "kind": owner["kind"], "name": owner["metadata"]["name"],
            "uid": owner["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}


def remove_owner_refs_patch(obj: Obj, uids: set[str]) -> Obj:
    """A JSON merge patch dropping the ownerReferences to `uids` (the garbage collector's
    deleteOwnerRefJSONMergePatch; controller_ref_manager's release does the same with a
    strategic patch). A merge patch replaces the list, so it carries what is kept, or null when
    nothing is: Kubernetes never keeps an empty `ownerReferences: []` (omitempty), the field goes.
    The resourceVersion makes the replace a compare-and-swap, so a concurrent change to the
    list conflicts instead of being lost."""
    meta = obj["metadata"]
    kept = [ref for ref in meta.get("ownerReferences") or [] if ref.get("uid") not in uids]
    return {"metadata": {"ownerReferences": kept or None, "resourceVersion": meta["resourceVersion"]}}


def pods_prefix(controller_name: str) -> str:
    """generateName for a controller's pods: `<name>-`, or the bare name if that is invalid."""
    prefix = f"{controller_name}-"
    return prefix if not is_dns1123_subdomain(prefix[:-1]) and len(prefix) <= 58 else controller_name


def pod_from_template(template: Obj, owner: Obj, generate_name: str) -> Obj:
    meta = template.get("metadata") or {}
    pod_meta: Obj = {"generateName": generate_name, "ownerReferences": [new_controller_ref(owner)]}
    for key in ("labels", "annotations", "finalizers"):
        if meta.get(key):
            pod_meta[key] = dict(meta[key]) if isinstance(meta[key], dict) else list(meta[key])
    return {"apiVersion": "v1", "kind": "Pod", "metadata": pod_meta, "spec": template.get("spec") or {}}


def max_restarts(pod: Obj) -> int:
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    return max((s.get("restartCount") or 0 for s in statuses), default=0)


def _log2_rank(moment: datetime, now: float) -> int:
    """floor(log2(age in ns)), -1 for a moment not in the past (logarithmicRankDiff)."""
    age_ns = (now - moment.timestamp()) * 1e9
    return int(math.log2(age_ns)) if age_ns > 0 else -1


def _compare_times(t1: datetime | None, t2: datetime | None, uid1: str, uid2: str, now: float) -> int | None:
    """<0: the first pod goes first; None: equal times, fall through to the next rule.
    A missing time goes first (afterOrZero); else the newer log2 bucket, and within one
    bucket the lower UID (LogarithmicScaleDown)."""
    if t1 == t2:
        return None
    if t1 is None or t2 is None:
        return -1 if t1 is None else 1
    diff = _log2_rank(t1, now) - _log2_rank(t2, now)
    if diff == 0:
        return (uid1 > uid2) - (uid1 < uid2)
    return diff


def _deletion_cost(pod: Obj) -> int:
    try:
        return int((pod["metadata"].get("annotations") or {}).get(DELETION_COST, "0"))
    except ValueError:
        return 0


def _phase_ordinal(pod: Obj) -> int:
    return {"Pending": 0, "Unknown": 1, "Running": 2}.get((pod.get("status") or {}).get("phase", ""), 0)


def _ready_time(pod: Obj) -> datetime | None:
    return parse_time((pod_condition(pod, "Ready") or {}).get("lastTransitionTime"))


def compare_for_deletion(a: Obj, b: Obj, rank_a: int, rank_b: int, now: float) -> int:
    """<0 when `a` should be deleted before `b` (ActivePodsWithRanks.Less, rule by rule).

    Unassigned < assigned; Pending < Unknown < Running; not ready < ready; lower deletion
    cost; higher co-location rank; more recently ready; more restarts; newer pods.
    """
    node_a, node_b = (a.get("spec") or {}).get("nodeName"), (b.get("spec") or {}).get("nodeName")
    if bool(node_a) != bool(node_b):
        return -1 if not node_a else 1
    for left, right in ((_phase_ordinal(a), _phase_ordinal(b)), (is_pod_ready(a), is_pod_ready(b)),
                        (_deletion_cost(a), _deletion_cost(b)), (rank_b, rank_a)):
        if left != right:
            return -1 if left < right else 1
    uid_a, uid_b = a["metadata"].get("uid", ""), b["metadata"].get("uid", "")
    if is_pod_ready(a) and is_pod_ready(b):
        ready = _compare_times(_ready_time(a), _ready_time(b), uid_a, uid_b, now)
        if ready is not None:
            return ready
    restarts_a, restarts_b = max_restarts(a), max_restarts(b)
    if restarts_a != restarts_b:
        return -1 if restarts_a > restarts_b else 1
    created = _compare_times(parse_time(a["metadata"].get("creationTimestamp")),
                             parse_time(b["metadata"].get("creationTimestamp")), uid_a, uid_b, now)
    return created or 0


def pods_to_delete(pods: list[Obj], count: int, related: list[Obj]) -> list[Obj]:
    """The `count` pods to delete: rank = active related pods on the same node."""
    per_node: dict[str, int] = {}
    for pod in related:
        node = (pod.get("spec") or {}).get("nodeName")
        if node and is_pod_active(pod):
            per_node[node] = per_node.get(node, 0) + 1
    now = time.time()
    ranks = {id(p): per_node.get((p.get("spec") or {}).get("nodeName") or "", 0) for p in pods}
    ranked = sorted(pods, key=functools.cmp_to_key(
        lambda a, b: compare_for_deletion(a, b, ranks[id(a)], ranks[id(b)], now)))
    return ranked[:count]


@dataclass
class _Expectation:
    add: int = 0
    delete: int = 0
    timestamp: float = field(default_factory=time.monotonic)
    deleting: set[str] = field(default_factory=set)  # uids whose deletion is still to be seen


class Expectations:
    """Per-controller-key counts of creates/deletes issued but not yet observed."""

    def __init__(self) -> None:
        self._records: dict[str, _Expectation] = {}

    def satisfied(self, key: str) -> bool:
        record = self._records.get(key)
        if record is None:
            return True
        if record.add <= 0 and record.delete <= 0:
            return True
        return time.monotonic() - record.timestamp > EXPECTATIONS_TIMEOUT

    def expect(self, key: str, add: int = 0, delete_uids: set[str] | None = None) -> None:
        uids = set(delete_uids or ())
        self._records[key] = _Expectation(add, len(uids), deleting=uids)

    def creation_observed(self, key: str) -> None:
        record = self._records.get(key)
        if record is not None:
            record.add -= 1

    def deletion_observed(self, key: str, uid: str) -> None:
        record = self._records.get(key)
        if record is not None and uid in record.deleting:
            record.deleting.discard(uid)
            record.delete -= 1

    def lower(self, key: str, add: int = 0, delete_uid: str = "") -> None:
        """A create or delete that failed will never be observed."""
        record = self._records.get(key)
        if record is None:
            return
        record.add -= add
        if delete_uid:
            self.deletion_observed(key, delete_uid)

    def forget(self, key: str) -> None:
        self._records.pop(key, None)
