"""The exact API calls one TTL-after-finished `sync(key)` makes (ttlafterfinished_controller.go).

Why: the controller deletes user data on a timer; it must delete exactly the expired,
finished Job it re-read (uid precondition, Foreground so its pods go first), and
otherwise only requeue for the time left.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from controllers.manager import CONTROLLERS
from controllers.ttlafterfinished import TTLAfterFinishedController
from kubeclient.workqueue import WorkQueue
from tests.unit.controller_fakes import FakeCluster, iso

NS = "default"
NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
Obj = dict[str, Any]


def job(ttl: int | None, finished_ago: float | None, condition: str = "Complete", deleting: bool = False) -> Obj:
    spec: Obj = {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "i"}]}}}
    if ttl is not None:
        spec["ttlSecondsAfterFinished"] = ttl
    status: Obj = {}
    if finished_ago is not None:
        status["conditions"] = [{"type": condition, "status": "True",
                                 "lastTransitionTime": iso(NOW - timedelta(seconds=finished_ago))}]
    meta: Obj = {"name": "work", "namespace": NS, "uid": "job-uid"}
    if deleting:
        meta["deletionTimestamp"] = iso(NOW)
        meta["finalizers"] = ["foregroundDeletion"]
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": meta, "spec": spec, "status": status}


async def sync_once(*objects: Obj) -> tuple[FakeCluster, TTLAfterFinishedController]:
    cluster = FakeCluster()
    controller = TTLAfterFinishedController(cluster.ctx, clock=lambda: NOW)
    cluster.add(*objects)
    controller.queue = WorkQueue()  # only what sync itself schedules
    await controller.sync(f"{NS}/work")
    return cluster, controller


def requeued_in(controller: TTLAfterFinishedController) -> float | None:
    import asyncio

    handle = controller.queue._waiting.get(f"{NS}/work")
    return None if handle is None else handle.when() - asyncio.get_running_loop().time()


def test_registered_and_on_by_default() -> None:
    assert CONTROLLERS["ttl-after-finished"] is TTLAfterFinishedController


CASES = [
    # (ttl, finished seconds ago, condition, deleting) → deleted?, requeue delay
    pytest.param(0, 0, "Complete", False, True, None, id="ttl-0-deletes-at-once"),
    pytest.param(100, 100, "Complete", False, True, None, id="exactly-expired"),
    pytest.param(100, 250, "Failed", False, True, None, id="failed-jobs-too"),
    pytest.param(100, 40, "Complete", False, False, 60, id="not-yet-requeued-for-the-rest"),
    pytest.param(10, -5, "Complete", False, False, 15, id="finished-in-the-future-deferred"),
    pytest.param(None, 1000, "Complete", False, False, None, id="no-ttl-kept"),
    pytest.param(0, None, "Complete", False, False, None, id="unfinished-kept"),
    pytest.param(0, 100, "Suspended", False, False, None, id="other-conditions-do-not-finish"),
    pytest.param(0, 100, "Complete", True, False, None, id="already-being-deleted"),
]


@pytest.mark.parametrize(("ttl", "finished_ago", "condition", "deleting", "deleted", "requeue"), CASES)
async def test_sync(ttl: int | None, finished_ago: float | None, condition: str, deleting: bool, deleted: bool,
                    requeue: float | None) -> None:
    cluster, controller = await sync_once(job(ttl, finished_ago, condition, deleting))
    if deleted:
        assert [(w.verb, w.resource, w.namespace, w.name, w.body) for w in cluster.writes] == [
            ("delete", "jobs", NS, "work", {"propagationPolicy": "Foreground", "preconditions": {"uid": "job-uid"}})]
        assert ("get", "jobs", NS, "work") in cluster.client.reads  # re-read before deleting
    else:
        assert cluster.writes == []
        assert cluster.client.reads == []
    delay = requeued_in(controller)
    if requeue is None:
        assert delay is None
    else:
        assert delay is not None and requeue - 0.5 <= delay <= requeue + 0.01


async def test_completion_time_is_the_fallback_finish_time() -> None:
    finished = job(30, None)
    finished["status"] = {"conditions": [{"type": "Complete", "status": "True"}],
                          "completionTime": iso(NOW - timedelta(seconds=10))}
    cluster, controller = await sync_once(finished)
    assert cluster.writes == [] and 19.5 <= (requeued_in(controller) or 0) <= 20.01


async def test_ttl_raised_since_the_cache_saw_it_is_respected() -> None:
    """The cache says expired; the fresh GET says ttl is now an hour: no delete, requeue."""
    cluster = FakeCluster()
    controller = TTLAfterFinishedController(cluster.ctx, clock=lambda: NOW)
    cluster.add(job(0, 10))
    controller.queue = WorkQueue()
    stored = cluster.client.objects[("jobs", NS, "work")]
    stored["spec"]["ttlSecondsAfterFinished"] = 3600
    await controller.sync(f"{NS}/work")
    assert cluster.writes == []
    assert 3589 <= (requeued_in(controller) or 0) <= 3590.01


async def test_a_replaced_job_is_not_deleted_by_the_old_uid() -> None:
    """Deleted and re-created under the same name since the cache saw it: the fresh object's
    uid goes into the precondition, and it is only deleted if it has expired itself."""
    cluster = FakeCluster()
    controller = TTLAfterFinishedController(cluster.ctx, clock=lambda: NOW)
    cluster.add(job(0, 10))
    controller.queue = WorkQueue()
    del cluster.client.objects[("jobs", NS, "work")]
    cluster.client.put(job(0, None) | {"metadata": {"name": "work", "namespace": NS, "uid": "new-uid"}})
    await controller.sync(f"{NS}/work")
    assert cluster.writes == []
    assert cluster.client.stored("jobs", NS, "work")["metadata"]["uid"] == "new-uid"


async def test_gone_job_is_a_no_op() -> None:
    cluster = FakeCluster()
    controller = TTLAfterFinishedController(cluster.ctx, clock=lambda: NOW)
    cluster.add(job(0, 10))
    del cluster.client.objects[("jobs", NS, "work")]
    await controller.sync(f"{NS}/work")
    assert cluster.writes == []
    await controller.sync(f"{NS}/missing")
    assert cluster.writes == []


async def test_only_finished_jobs_with_a_ttl_are_enqueued() -> None:
    cluster = FakeCluster()
    controller = TTLAfterFinishedController(cluster.ctx, clock=lambda: NOW)
    cluster.add(job(5, None))
    assert len(controller.queue) == 0
    finished = job(5, 1)
    finished["metadata"]["resourceVersion"] = "9999"
    cluster.informer("jobs")._upsert(finished)
    assert len(controller.queue) == 1
