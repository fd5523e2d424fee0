"""The exact API writes one ReplicaSet `sync(key)` makes: which pods a scale-down deletes
(Kubernetes' ActivePodsWithRanks ordering) and what a scale-up creates (slow-start
batches, owner references, labels, generateName, expectations).

Why: which pod dies on a scale-down decides whether a rollout keeps serving; these tables
pin controller_utils.go's ranking and replica_set.go's manageReplicas (semantics.md §3).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from apimachinery.errors import StatusError
from controllers.replicaset import ReplicaSetController
from tests.unit.controller_fakes import FakeCluster, iso

NS = "default"
Obj = dict[str, Any]
DEPLOY_REF = {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "uid": "web-uid", "controller": True,
              "blockOwnerDeletion": True}


def ago(seconds: float) -> str:
    return iso(datetime.now(UTC) - timedelta(seconds=seconds))


def replica_set(replicas: int, name: str = "web-abc", uid: str = "rs-uid") -> Obj:
    labels = {"app": "web", "pod-template-hash": name.rsplit("-", 1)[-1]}
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": name, "namespace": NS, "uid": uid, "generation": 1, "labels": dict(labels),
                         "ownerReferences": [dict(DEPLOY_REF)]},
            "spec": {"replicas": replicas, "selector": {"matchLabels": dict(labels)},
                     "template": {"metadata": {"labels": dict(labels), "annotations": {"note": "from-template"}},
                                  "spec": {"containers": [{"name": "web", "image": "web:1"}]}}},
            "status": {"replicas": 0, "observedGeneration": 1}}


def pod(name: str, node: str | None = "n1", phase: str = "Running", ready: bool = True, ready_ago: float = 3600,
        restarts: int = 0, created_ago: float = 7200, cost: int | None = None, owner: str = "rs-uid",
        rs_name: str = "web-abc", deleting: bool = False) -> Obj:
    meta: Obj = {"name": name, "namespace": NS, "uid": f"uid-{name}", "creationTimestamp": ago(created_ago),
                 "labels": {"app": "web", "pod-template-hash": rs_name.rsplit("-", 1)[-1]},
                 "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": rs_name, "uid": owner,
                                      "controller": True, "blockOwnerDeletion": True}]}
    if cost is not None:
        meta["annotations"] = {"controller.kubernetes.io/pod-deletion-cost": str(cost)}
    if deleting:
        meta["deletionTimestamp"] = ago(1)
        meta["finalizers"] = ["example.com/hold"]
    status: Obj = {"phase": phase,
                   "conditions": [{"type": "Ready", "status": "True" if ready else "False",
                                   "lastTransitionTime": ago(ready_ago)}],
                   "containerStatuses": [{"name": "web", "restartCount": restarts, "ready": ready}]}
    spec: Obj = {"containers": [{"name": "web", "image": "web:1"}]}
    if node:
        spec["nodeName"] = node
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec, "status": status}


async def sync_once(rs: Obj, *objects: Obj) -> tuple[FakeCluster, ReplicaSetController]:
    cluster = FakeCluster()
    controller = ReplicaSetController(cluster.ctx)
    cluster.add(rs, *objects)
    await controller.sync(f"{NS}/{rs['metadata']['name']}")
    return cluster, controller


def deleted(cluster: FakeCluster) -> list[str]:
    return sorted(w.name for w in cluster.writes if w.verb == "delete" and w.resource == "pods")


# ---- scale-down ranking -------------------------------------------------------------------------------

RANKING = [
    pytest.param([pod("assigned"), pod("unassigned", node=None, phase="Pending", ready=False)], ["unassigned"],
                 id="unassigned-first"),
    pytest.param([pod("running", node="n1"), pod("unknown", node="n2", phase="Unknown", ready=False),
                  pod("pending", node="n3", phase="Pending", ready=False)], ["pending", "unknown"],
                 id="pending-then-unknown-before-running"),
    pytest.param([pod("ready", node="n1"), pod("not-ready", node="n2", ready=False)], ["not-ready"],
                 id="not-ready-first"),
    pytest.param([pod("cheap", node="n1", cost=-5), pod("default", node="n2"), pod("dear", node="n3", cost=100)],
                 ["cheap", "default"], id="lower-deletion-cost-first"),
    pytest.param([pod("a", node="n1", restarts=0), pod("b", node="n1", restarts=2), pod("c", node="n1", restarts=1),
                  pod("alone", node="n2", restarts=9)], ["b", "c"], id="doubled-up-node-first-then-restarts"),
    pytest.param([pod("fresh", node="n1", ready_ago=10), pod("old", node="n2", ready_ago=100000)], ["fresh"],
                 id="more-recently-ready-first"),
    # Ready 100 s and 110 s ago: the same log2 bucket, so UIDs decide before restart counts do.
    pytest.param([pod("a", node="n1", ready_ago=100, restarts=0), pod("b", node="n2", ready_ago=110, restarts=5)],
                 ["a"], id="same-ready-bucket-then-uid"),
    pytest.param([pod("calm", node="n1", restarts=1), pod("crashy", node="n2", restarts=7)], ["crashy"],
                 id="same-ready-time-more-restarts-first"),
    pytest.param([pod("newer", node="n1", ready=False, created_ago=10),
                  pod("older", node="n2", ready=False, created_ago=100000)], ["newer"], id="newer-first"),
]


@pytest.mark.parametrize(("pods", "expected"), RANKING)
async def test_scale_down_deletes_by_rank(pods: list[Obj], expected: list[str]) -> None:
    cluster, _ = await sync_once(replica_set(len(pods) - len(expected)), *pods)
    assert deleted(cluster) == sorted(expected)
    assert [w.verb for w in cluster.writes if w.resource == "pods"] == ["delete"] * len(expected)
    assert all(w.body is None for w in cluster.writes if w.verb == "delete")
    assert [w.reason for w in cluster.events] == ["SuccessfulDelete"] * len(expected)


async def test_rank_counts_pods_of_sibling_replica_sets() -> None:
    """getIndirectlyRelatedPods: pods of any ReplicaSet of the same Deployment share a node's rank."""
    sibling = replica_set(0, name="web-old", uid="sibling-uid")
    mine = [pod("x", node="n1", restarts=3), pod("y", node="n2")]
    theirs = [pod(f"s{i}", node="n2", owner="sibling-uid", rs_name="web-old") for i in range(2)]
    cluster, _ = await sync_once(replica_set(1), sibling, *mine, *theirs)
    assert deleted(cluster) == ["y"]


async def test_terminating_and_finished_pods_are_not_counted() -> None:
    pods = [pod("live"), pod("going", deleting=True), pod("done", phase="Succeeded", ready=False)]
    cluster, _ = await sync_once(replica_set(2), *pods)
    assert [(w.verb, w.resource) for w in cluster.writes if w.resource == "pods"] == [("create", "pods")]
    status = next(w for w in cluster.writes if w.target == "replicasets/status").body["status"]
    assert status["replicas"] == 1 and status["terminatingReplicas"] == 1


# ---- scale-up -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("replicas", [1, 3, 5, 8])
async def test_scale_up_creates_exactly_the_missing_pods(replicas: int) -> None:
    existing = [pod("p0")]
    cluster, _ = await sync_once(replica_set(replicas), *existing)
    creates = [w for w in cluster.writes if w.verb == "create"]
    assert len(creates) == replicas - 1
    for w in creates:
        assert (w.resource, w.namespace, w.name) == ("pods", NS, "web-abc-")
        meta = w.body["metadata"]
        assert meta["generateName"] == "web-abc-" and "name" not in meta
        assert meta["labels"] == {"app": "web", "pod-template-hash": "abc"}
        assert meta["annotations"] == {"note": "from-template"}
        assert meta["ownerReferences"] == [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-abc",
                                            "uid": "rs-uid", "controller": True, "blockOwnerDeletion": True}]
        assert w.body["spec"] == {"containers": [{"name": "web", "image": "web:1"}]}
    # status is written once, after the creates, from the cache as it was
    assert [w.target for w in cluster.writes if w.verb != "create"] == ["replicasets/status"]


async def test_slow_start_stops_at_the_first_failing_batch() -> None:
    """Batches 1, 2, 4: the second create fails, so batch 2 finishes and batch 3 never starts."""
    cluster = FakeCluster()
    controller = ReplicaSetController(cluster.ctx)
    cluster.add(replica_set(7))
    cluster.client.fail("create", "pods", StatusError(500, "InternalError", "boom"), after=1)
    with pytest.raises(RuntimeError, match="Error creating"):
        await controller.sync(f"{NS}/web-abc")
    assert [w.verb for w in cluster.writes if w.resource == "pods"] == ["create"] * 3
    assert len(cluster.client.all("pods")) == 2
    status = next(w for w in cluster.writes if w.target == "replicasets/status").body["status"]
    failure = next(c for c in status["conditions"] if c["type"] == "ReplicaFailure")
    assert failure["reason"] == "FailedCreate" and failure["status"] == "True"
    assert sorted(e.reason for e in cluster.events) == ["FailedCreate", "SuccessfulCreate", "SuccessfulCreate"]
    # The two created pods are expected; once the informer shows them, the next sync makes the other 5.
    cluster.clear()
    await controller.sync(f"{NS}/web-abc")
    assert [w for w in cluster.writes if w.resource == "pods"] == []
    cluster.deliver("pods")
    await controller.sync(f"{NS}/web-abc")
    assert [w.verb for w in cluster.writes if w.resource == "pods"] == ["create"] * 5


async def test_expectations_stop_a_second_sync_from_creating_twice() -> None:
    cluster, controller = await sync_once(replica_set(3))
    assert len([w for w in cluster.writes if w.verb == "create"]) == 3
    cluster.clear()
    await controller.sync(f"{NS}/web-abc")  # the cache has not seen the new pods yet
    assert [w for w in cluster.writes if w.resource == "pods"] == []
    cluster.deliver()
    cluster.clear()
    await controller.sync(f"{NS}/web-abc")
    assert [w for w in cluster.writes if w.resource == "pods"] == []


async def test_orphan_is_adopted_with_a_live_get_first() -> None:
    orphan = pod("orphan")
    orphan["metadata"].pop("ownerReferences")
    cluster, _ = await sync_once(replica_set(1), orphan)
    assert ("get", "replicasets", NS, "web-abc") in cluster.client.reads
    patch = next(w for w in cluster.writes if w.verb == "patch")
    assert (patch.resource, patch.name, patch.patch_type) == ("pods", "orphan", "strategic")
    assert patch.body["metadata"]["ownerReferences"][0]["uid"] == "rs-uid"
    assert not [w for w in cluster.writes if w.verb in ("create", "delete")]
