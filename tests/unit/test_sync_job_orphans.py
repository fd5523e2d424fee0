"""Pods whose Job is gone lose the `batch.kubernetes.io/job-tracking` finalizer: the Job
controller's orphan-pod keys (Kubernetes' orphanQueue, syncOrphanPod, cleanupPodFinalizers),
and a Job being deleted creates nothing and lets its pods' finalizers go.

Why: the Job's own sync returns at once when the Job is gone, so without these a deleted Job,
or the namespace holding it, leaves its pods Terminating for ever.
"""

from __future__ import annotations

from typing import Any

import pytest

from controllers.job import ORPHAN_POD, TRACKING_FINALIZER, JobController, is_orphan_pod
from kubeclient.workqueue import WorkQueue
from tests.unit.controller_fakes import FakeCluster
from tests.unit.test_sync_job import NS, job, pod

Obj = dict[str, Any]
FINISHED = {"conditions": [{"type": "Complete", "status": "True"}]}


def controlled_by(kind: str = "Job", api_version: str = "batch/v1") -> Obj:
    p = pod("p", tracked=True)
    p["metadata"]["ownerReferences"] = [{"apiVersion": api_version, "kind": kind, "name": "work", "uid": "job-uid",
                                         "controller": True}]
    return p


def uncontrolled() -> Obj:
    p = pod("p", tracked=True)
    p["metadata"]["ownerReferences"] = [{"apiVersion": "batch/v1", "kind": "Job", "name": "work", "uid": "job-uid"}]
    return p


ORPHANS = [
    pytest.param(controlled_by(), job(), False, id="live-job-keeps-it"),
    pytest.param(controlled_by(), None, True, id="job-gone"),
    pytest.param(controlled_by(), {**job(), "status": FINISHED}, True, id="job-finished"),
    pytest.param(uncontrolled(), None, True, id="no-controller-reference"),
    pytest.param(controlled_by("ReplicaSet", "apps/v1"), None, False, id="another-kind-controls-it"),
    pytest.param(controlled_by("Job", "batch/v2"), None, False, id="not-a-batch-v1-job"),
]


@pytest.mark.parametrize(("pod_", "job_", "orphan"), ORPHANS)
def test_is_orphan_pod(pod_: Obj, job_: Obj | None, orphan: bool) -> None:
    assert is_orphan_pod(pod_, job_) is orphan


def delete_job(cluster: FakeCluster) -> None:
    """The Job leaves the server and the watch delivers DELETED to the cache."""
    cluster.client.objects.pop(("jobs", NS, "work"))
    informer = cluster.informer("jobs")
    informer._remove(f"{NS}/work", informer.store[f"{NS}/work"])


async def test_deleting_a_job_queues_its_pods_and_their_finalizers_come_off() -> None:
    cluster = FakeCluster()
    controller = JobController(cluster.ctx)
    cluster.add(job(), pod("a", tracked=True), pod("b", tracked=True), pod("c"))
    controller.queue = WorkQueue()
    delete_job(cluster)
    await controller.sync(f"{NS}/work")  # the Job's own key: gone, nothing to do
    assert cluster.writes == []
    for name in ("a", "b", "c"):
        await controller.sync(f"{ORPHAN_POD}{NS}/{name}")
    assert [(w.verb, w.resource, w.name, w.patch_type) for w in cluster.writes] == [
        ("patch", "pods", "a", "merge"), ("patch", "pods", "b", "merge")]
    assert all(not (p["metadata"].get("finalizers")) for p in cluster.client.all("pods"))


async def test_job_delete_event_enqueues_orphan_keys_for_pods_holding_the_finalizer() -> None:
    cluster = FakeCluster()
    controller = JobController(cluster.ctx)
    cluster.add(job(), pod("a", tracked=True), pod("c"))
    controller.queue = WorkQueue()
    delete_job(cluster)
    queued = [await controller.queue.get() for _ in range(len(controller.queue))]
    assert f"{ORPHAN_POD}{NS}/a" in queued and f"{ORPHAN_POD}{NS}/c" not in queued


async def test_orphan_key_leaves_a_pod_whose_job_is_back_in_the_cache() -> None:
    cluster = FakeCluster()
    controller = JobController(cluster.ctx)
    cluster.add(job(), pod("a", tracked=True))
    await controller.sync(f"{ORPHAN_POD}{NS}/a")
    assert cluster.writes == []


async def test_pod_event_of_an_orphan_queues_it() -> None:
    """A pod stripped of its owner by the garbage collector (Orphan delete) still holds the finalizer."""
    cluster = FakeCluster()
    controller = JobController(cluster.ctx)
    controller.queue = WorkQueue()
    orphan = pod("a", tracked=True)
    orphan["metadata"].pop("ownerReferences")
    cluster.add(orphan)
    assert f"{ORPHAN_POD}{NS}/a" in [await controller.queue.get() for _ in range(len(controller.queue))]
    await controller.sync(f"{ORPHAN_POD}{NS}/a")
    assert [(w.verb, w.name) for w in cluster.writes] == [("patch", "a")]
    assert "finalizers" not in cluster.client.stored("pods", NS, "a")["metadata"]


async def test_a_job_being_deleted_creates_nothing_and_releases_its_pods() -> None:
    deleting = job(completions=3, parallelism=3)
    deleting["metadata"].update(deletionTimestamp="2026-01-01T00:00:00Z", finalizers=["foregroundDeletion"])
    cluster = FakeCluster()
    controller = JobController(cluster.ctx)
    cluster.add(deleting, pod("a", tracked=True))
    controller.queue = WorkQueue()
    await controller.sync(f"{NS}/work")
    assert not [w for w in cluster.writes if w.verb == "create"]
    assert [(w.verb, w.name) for w in cluster.writes if w.resource == "pods"] == [("patch", "a")]
    assert TRACKING_FINALIZER not in (cluster.client.stored("pods", NS, "a")["metadata"].get("finalizers") or [])
