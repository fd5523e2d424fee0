"""The exact API writes one Deployment `sync(key)` makes, for table-driven starting states.

Why: the rollout guarantees (never more than replicas + maxSurge pods, never fewer than
replicas - maxUnavailable available) are decided step by step in single syncs. These
tables pin each step against Kubernetes' rolling.go (reconcileNewReplicaSet,
reconcileOldReplicaSets, cleanupUnhealthyReplicas, scaleDownOldReplicaSetsForRollingUpdate),
sync.go (getNewReplicaSet revision renumbering, cleanupDeployment) and semantics.md §2.
"""

from __future__ import annotations

from typing import Any

import pytest

from apimachinery.hashing import compute_hash
from controllers.deployment import DeploymentController, util
from tests.unit.controller_fakes import FakeCluster, Write

NS = "default"
Obj = dict[str, Any]


def template(image: str) -> Obj:
    return {"metadata": {"labels": {"app": "web"}},
            "spec": {"restartPolicy": "Always", "containers": [{"name": "web", "image": image}]}}


def deployment(replicas: int, image: str = "web:2", surge: Any = "25%", unavailable: Any = "25%", *,
               revision: str = "1", history_limit: int | None = 10, paused: bool = False,
               status: Obj | None = None) -> Obj:
    spec: Obj = {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}}, "template": template(image),
                 "strategy": {"type": "RollingUpdate",
                              "rollingUpdate": {"maxSurge": surge, "maxUnavailable": unavailable}}}
    if history_limit is not None:
        spec["revisionHistoryLimit"] = history_limit
    if paused:
        spec["paused"] = True
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": NS, "uid": "web-uid", "generation": 1,
                         "annotations": {util.REVISION: revision}},
            "spec": spec, "status": status or {"observedGeneration": 1}}


def replica_set(d: Obj, image: str, replicas: int, *, available: int | None = None, revision: int = 1,
                created: str = "2026-01-01T00:00:00Z", status_replicas: int | None = None,
                observed: int = 1, deleting: bool = False, name: str = "") -> Obj:
    """A ReplicaSet of Deployment `d` running `image`, its annotations as the controller
    would have left them for d's current size."""
    pod_hash = compute_hash(template(image))
    tpl = template(image)
    tpl["metadata"]["labels"]["pod-template-hash"] = pod_hash
    available = replicas if available is None else available
    surge = util.max_surge(d)
    meta: Obj = {"name": name or f"web-{pod_hash}", "namespace": NS, "uid": f"rs-{image}-uid",
                 "generation": 1, "creationTimestamp": created,
                 "labels": {"app": "web", "pod-template-hash": pod_hash},
                 "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web",
                                      "uid": "web-uid", "controller": True, "blockOwnerDeletion": True}],
                 "annotations": {util.REVISION: str(revision),
                                 util.DESIRED_REPLICAS: str(util.replicas_of(d)),
                                 util.MAX_REPLICAS: str(util.replicas_of(d) + surge)}}
    if deleting:
        meta["deletionTimestamp"] = "2026-01-01T00:00:00Z"
        meta["finalizers"] = ["foregroundDeletion"]
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": meta,
            "spec": {"replicas": replicas, "minReadySeconds": 0,
                     "selector": {"matchLabels": {"app": "web", "pod-template-hash": pod_hash}}, "template": tpl},
            "status": {"replicas": replicas if status_replicas is None else status_replicas,
                       "readyReplicas": available, "availableReplicas": available, "observedGeneration": observed}}


async def sync_once(*objects: Obj) -> FakeCluster:
    cluster = FakeCluster()
    controller = DeploymentController(cluster.ctx)
    cluster.add(*objects)
    await controller.sync(f"{NS}/web")
    return cluster


def rs_writes(writes: list[Write]) -> list[tuple[str, str, int | None]]:
    """(verb, replica set, spec.replicas sent) for every ReplicaSet write, in order."""
    out: list[tuple[str, str, int | None]] = []
    for w in writes:
        if w.resource != "replicasets":
            continue
        size = (w.body or {}).get("spec", {}).get("replicas") if w.verb in ("create", "update") else None
        out.append((w.verb, w.name, size))
    return out


def new_name(image: str = "web:2") -> str:
    return f"web-{compute_hash(template(image))}"


def old_name(image: str = "web:1") -> str:
    return f"web-{compute_hash(template(image))}"


# ---- first step of a rolling update ----------------------------------------------------------------

# (replicas, maxSurge, maxUnavailable) → (new RS created at, old RS scaled to)
FIRST_STEP = [
    (10, "25%", "25%", 3, 8),   # surge ceil(2.5)=3; unavailable floor(2.5)=2
    (10, 0, 1, 0, 9),           # no surge: the new RS starts at 0, old loses maxUnavailable
    (10, 1, 0, 1, 10),          # no unavailability: old untouched until the new pod is available
    (3, 1, 1, 1, 2),
    (5, "50%", 0, 3, 5),        # surge ceil(2.5)=3
    (4, "25%", "25%", 1, 3),
    (1, "25%", "25%", 1, 1),    # 25% of 1: surge 1, unavailable 0
    (10, "0%", "0%", 0, 9),     # both resolve to 0: maxUnavailable becomes 1
    (2, "100%", "100%", 2, 0),  # everything at once
]


@pytest.mark.parametrize(("replicas", "surge", "unavailable", "new_size", "old_size"), FIRST_STEP)
async def test_template_change_first_sync(replicas: int, surge: Any, unavailable: Any, new_size: int,
                                          old_size: int) -> None:
    d = deployment(replicas, "web:2", surge, unavailable)
    old = replica_set(d, "web:1", replicas)
    cluster = await sync_once(d, old)

    expected: list[tuple[str, str, int | None]] = [("create", new_name(), new_size)]
    if old_size != replicas:
        expected.append(("update", old_name(), old_size))
    assert rs_writes(cluster.writes) == expected
    created = cluster.writes[0].body
    pod_hash = compute_hash(template("web:2"))
    assert created["metadata"]["labels"] == {"app": "web", "pod-template-hash": pod_hash}
    assert created["spec"]["selector"]["matchLabels"] == {"app": "web", "pod-template-hash": pod_hash}
    assert created["metadata"]["ownerReferences"][0]["uid"] == "web-uid"
    ann = created["metadata"]["annotations"]
    assert ann[util.REVISION] == "2"
    assert ann[util.DESIRED_REPLICAS] == str(replicas)
    assert ann[util.MAX_REPLICAS] == str(replicas + util.max_surge(d))
    # The Deployment's revision follows the new RS (through /status), then status is synced.
    status_writes = [w for w in cluster.writes if w.resource == "deployments"]
    assert [w.target for w in status_writes] == ["deployments/status", "deployments/status"]
    assert status_writes[0].body["metadata"]["annotations"][util.REVISION] == "2"
    assert [w.verb for w in cluster.writes if w.resource == "deployments" and not w.subresource] == []


# Mid-rollout: replicas 10, 25%/25% → maxTotal 13, minAvailable 8.
# (old spec, old available, new spec, new available) → expected RS writes.
MID_ROLLOUT = [
    # room under maxTotal: the new RS grows first, nothing else this sync
    pytest.param(8, 8, 3, 0, [("update", "new", 5)], id="new-rs-grows-to-surge-cap"),
    pytest.param(8, 8, 3, 3, [("update", "new", 5)], id="new-rs-grows-even-when-available"),
    # at maxTotal, new pods unavailable: nothing may go
    pytest.param(8, 8, 5, 0, [], id="at-cap-new-unavailable"),
    # at maxTotal, 2 new pods available: old loses exactly 2
    pytest.param(8, 8, 5, 2, [("update", "old", 6)], id="at-cap-two-new-available"),
    pytest.param(8, 8, 5, 5, [("update", "old", 3)], id="at-cap-all-new-available"),
    # unhealthy old pods go first (cleanupUnhealthyReplicas), then the availability budget
    pytest.param(8, 6, 5, 3, [("update", "old", 6), ("update", "old", 5)], id="unhealthy-old-then-available"),
    pytest.param(8, 5, 5, 0, [], id="unhealthy-old-but-no-budget"),
    # new RS above spec.replicas is scaled back down first
    pytest.param(0, 0, 12, 12, [("update", "new", 10)], id="new-rs-above-replicas"),
]


@pytest.mark.parametrize(("old_spec", "old_avail", "new_spec", "new_avail", "expected"), MID_ROLLOUT)
async def test_mid_rollout_step(old_spec: int, old_avail: int, new_spec: int, new_avail: int,
                                expected: list[tuple[str, str, int]]) -> None:
    d = deployment(10, revision="2")
    old = replica_set(d, "web:1", old_spec, available=old_avail, revision=1)
    new = replica_set(d, "web:2", new_spec, available=new_avail, revision=2, created="2026-01-01T00:01:00Z")
    cluster = await sync_once(d, old, new)
    names = {"old": old_name(), "new": new_name()}
    assert rs_writes(cluster.writes) == [(verb, names[which], size) for verb, which, size in expected]
    assert all(w.target == "deployments/status" for w in cluster.writes if w.resource == "deployments")


async def test_surge_lowered_mid_rollout_writes_nothing() -> None:
    """Above the new maxTotal (10 + 1): the new RS cannot grow, and Kubernetes'
    scaleReplicaSetAndRecordEvent skips a same-size write (no annotation-only update)."""
    before = deployment(10, "web:2", 3, "25%")
    d = deployment(10, "web:2", 1, "25%", revision="2")
    old = replica_set(before, "web:1", 8, revision=1)
    new = replica_set(before, "web:2", 5, available=0, revision=2, created="2026-01-01T00:01:00Z")
    cluster = await sync_once(d, old, new)
    assert rs_writes(cluster.writes) == []


async def test_two_old_replica_sets_scale_down_oldest_first() -> None:
    d = deployment(10, "web:3", revision="3")
    oldest = replica_set(d, "web:1", 2, revision=1, created="2026-01-01T00:00:00Z")
    older = replica_set(d, "web:2", 6, revision=2, created="2026-01-01T00:01:00Z")
    new = replica_set(d, "web:3", 5, revision=3, created="2026-01-01T00:02:00Z")
    cluster = await sync_once(d, oldest, older, new)
    # maxScaledDown = 13 - 8 - 0 = 5; available 13 > 8 → remove 5, oldest first.
    assert rs_writes(cluster.writes) == [("update", old_name("web:1"), 0), ("update", old_name("web:2"), 3)]


async def test_rollout_steps_until_complete() -> None:
    """Sync, let the ReplicaSets report all their pods available, repeat: every step keeps
    total ≤ replicas + maxSurge and available ≥ replicas − maxUnavailable."""
    d = deployment(10, "web:2", "25%", "25%")
    cluster = FakeCluster()
    controller = DeploymentController(cluster.ctx)
    cluster.add(d, replica_set(d, "web:1", 10))
    for _ in range(20):
        await controller.sync(f"{NS}/web")
        rss = cluster.client.all("replicasets")
        assert sum(rs["spec"]["replicas"] for rs in rss) <= 13
        # pods still available once the scale-downs take effect, before any new pod is ready
        assert sum(min(rs["spec"]["replicas"], (rs.get("status") or {}).get("availableReplicas", 0))
                   for rs in rss) >= 8
        for rs in rss:  # a kubelet and a ReplicaSet controller at their fastest
            rs["status"] = {"replicas": rs["spec"]["replicas"], "readyReplicas": rs["spec"]["replicas"],
                            "availableReplicas": rs["spec"]["replicas"],
                            "observedGeneration": rs["metadata"]["generation"]}
            cluster.client.objects[("replicasets", NS, rs["metadata"]["name"])] = rs
        cluster.deliver()
    sizes = {rs["metadata"]["name"]: rs["spec"]["replicas"] for rs in cluster.client.all("replicasets")}
    assert sizes == {new_name(): 10, old_name(): 0}
    final = cluster.client.stored("deployments", NS, "web")
    assert final["status"]["updatedReplicas"] == 10 and final["status"]["availableReplicas"] == 10
    assert final["metadata"]["annotations"][util.REVISION] == "2"


# ---- rollback renumbering ---------------------------------------------------------------------------

async def test_rollback_renumbers_the_old_replica_set() -> None:
    d = deployment(3, "web:1", revision="2")  # template set back to revision 1's
    rev1 = replica_set(d, "web:1", 0, revision=1, created="2026-01-01T00:00:00Z")
    rev2 = replica_set(d, "web:2", 3, revision=2, created="2026-01-01T00:01:00Z")
    cluster = await sync_once(d, rev1, rev2)

    assert [w.verb for w in cluster.writes if w.resource == "replicasets"] == ["update", "update"]
    renumber, scale_up = [w for w in cluster.writes if w.resource == "replicasets"]
    assert renumber.name == old_name("web:1") and renumber.body["spec"]["replicas"] == 0
    assert renumber.body["metadata"]["annotations"][util.REVISION] == "3"
    assert renumber.body["metadata"]["annotations"][util.REVISION_HISTORY] == "1"
    # 3 replicas, 25%: surge 1, unavailable 0 → the revived RS grows by one, nothing else.
    assert (scale_up.name, scale_up.body["spec"]["replicas"]) == (old_name("web:1"), 1)
    assert not any(w.verb == "create" for w in cluster.writes)
    revision_write = next(w for w in cluster.writes if w.target == "deployments/status")
    assert revision_write.body["metadata"]["annotations"][util.REVISION] == "3"
    assert cluster.client.stored("deployments", NS, "web")["metadata"]["annotations"][util.REVISION] == "3"
    revived = cluster.client.stored("replicasets", NS, old_name("web:1"))
    assert revived["metadata"]["annotations"][util.REVISION] == "3"
    untouched = cluster.client.stored("replicasets", NS, old_name("web:2"))
    assert untouched["metadata"]["annotations"][util.REVISION] == "2"


async def test_second_rollback_appends_to_revision_history() -> None:
    d = deployment(3, "web:1", revision="4")
    rev_a = replica_set(d, "web:1", 0, revision=3)
    rev_a["metadata"]["annotations"][util.REVISION_HISTORY] = "1"
    rev_b = replica_set(d, "web:2", 3, revision=4, created="2026-01-01T00:01:00Z")
    cluster = await sync_once(d, rev_a, rev_b)
    renumber = next(w for w in cluster.writes if w.resource == "replicasets")
    assert renumber.body["metadata"]["annotations"][util.REVISION] == "5"
    assert renumber.body["metadata"]["annotations"][util.REVISION_HISTORY] == "1,3"


# ---- history cleanup --------------------------------------------------------------------------------

def history(limit: int, tweak: dict[int, dict[str, Any]] | None = None, paused: bool = False) -> list[Obj]:
    """A complete Deployment at revision 6 with five old ReplicaSets at 0 replicas, revisions
    1..5, created in an order unrelated to their revisions (cleanup sorts by revision)."""
    done = {"observedGeneration": 1, "replicas": 3, "updatedReplicas": 3, "readyReplicas": 3,
            "availableReplicas": 3}
    d = deployment(3, "web:6", revision="6", history_limit=limit, paused=paused, status=done)
    created = {1: "05", 2: "03", 3: "01", 4: "04", 5: "02"}
    objects = [d, replica_set(d, "web:6", 3, revision=6, created="2026-01-01T00:09:00Z")]
    for rev in range(1, 6):
        options = (tweak or {}).get(rev, {})
        objects.append(replica_set(d, f"web:{rev}", 0, revision=rev, created=f"2026-01-01T00:{created[rev]}:00Z",
                                   **options))
    return objects


CLEANUP = [
    pytest.param(2, {}, False, [1, 2, 3], id="three-oldest-by-revision"),
    pytest.param(2, {1: {"deleting": True}}, False, [2, 3], id="being-deleted-is-not-a-candidate"),
    pytest.param(2, {3: {"observed": 0}}, False, [1, 2], id="unobserved-generation-skipped-uses-a-slot"),
    pytest.param(2, {2: {"status_replicas": 1}}, True, [1, 3], id="pods-left-skipped-uses-a-slot"),
    pytest.param(0, {}, False, [1, 2, 3, 4, 5], id="limit-zero-deletes-all"),
    pytest.param(5, {}, False, [], id="within-limit"),
    pytest.param(2, {}, True, [1, 2, 3], id="paused-deployments-clean-up-too"),
]


@pytest.mark.parametrize(("limit", "tweak", "paused", "deleted"), CLEANUP)
async def test_history_cleanup(limit: int, tweak: dict[int, dict[str, Any]], paused: bool,
                               deleted: list[int]) -> None:
    cluster = await sync_once(*history(limit, tweak, paused))
    deletes = [w for w in cluster.writes if w.verb == "delete"]
    assert [w.name for w in deletes] == [old_name(f"web:{rev}") for rev in deleted]
    assert all(w.resource == "replicasets" for w in deletes)
    assert not [w for w in cluster.writes if w.resource == "replicasets" and w.verb != "delete"]


async def test_no_cleanup_while_the_rollout_is_incomplete() -> None:
    objects = history(2)
    objects[1]["status"]["availableReplicas"] = 2  # the new RS is not fully available yet
    cluster = await sync_once(*objects)
    assert not [w for w in cluster.writes if w.verb == "delete"]


# ---- scaling events ---------------------------------------------------------------------------------

async def test_scaling_event_mid_rollout_is_proportional() -> None:
    """semantics.md §2.7: old 8 + new 5, replicas 10 → 15 with maxSurge 3: +3 old, +2 new."""
    d = deployment(15, "web:2", 3, 2, revision="2")
    before = deployment(10, "web:2", 3, 2)
    old = replica_set(before, "web:1", 8, available=8, revision=1)
    new = replica_set(before, "web:2", 5, available=0, revision=2, created="2026-01-01T00:01:00Z")
    cluster = await sync_once(d, old, new)
    assert sorted(rs_writes(cluster.writes)) == sorted([("update", old_name(), 11), ("update", new_name(), 7)])
    for w in cluster.writes:
        if w.resource == "replicasets":
            assert w.body["metadata"]["annotations"][util.DESIRED_REPLICAS] == "15"
            assert w.body["metadata"]["annotations"][util.MAX_REPLICAS] == "18"


async def test_paused_deployment_does_not_roll_out() -> None:
    d = deployment(3, "web:2", paused=True)
    cluster = await sync_once(d, replica_set(d, "web:1", 3))
    assert rs_writes(cluster.writes) == []
