"""The exact API writes one Job `sync(key)` makes: pod creation, failure back-off, the
backoffLimit and the two-phase terminal sequence (semantics.md §4).

Why: a Job's outcome is decided by counting, and counting mistakes (a replacement pod too
early, a failure counted twice, a Failed condition before the pods are gone) only show as
the writes of single syncs. Kubernetes' job_controller.go and backoff_utils.go are the
reference.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from controllers.job import (
    COMPLETION_INDEX,
    TRACKING_FINALIZER,
    JobController,
    backoff_delay,
    format_indexes,
    parse_indexes,
)
from kubeclient.workqueue import WorkQueue
from tests.unit.controller_fakes import FakeCluster, iso

NS = "default"
Obj = dict[str, Any]


def ago(seconds: float) -> str:
    return iso(datetime.now(UTC) - timedelta(seconds=seconds))


def job(*, completions: int | None = 1, parallelism: int = 1, backoff_limit: int = 6, status: Obj | None = None,
        restart_policy: str = "Never") -> Obj:
    labels = {"batch.kubernetes.io/controller-uid": "job-uid", "batch.kubernetes.io/job-name": "work"}
    spec: Obj = {"parallelism": parallelism, "backoffLimit": backoff_limit,
                 "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": "job-uid"}},
                 "template": {"metadata": {"labels": labels},
                              "spec": {"restartPolicy": restart_policy,
                                       "containers": [{"name": "work", "image": "busybox:1.36"}]}}}
    if completions is not None:
        spec["completions"] = completions
    return {"apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": "work", "namespace": NS, "uid": "job-uid", "generation": 1},
            "spec": spec, "status": status if status is not None else {"startTime": ago(600)}}


def pod(name: str, phase: str = "Running", finished_ago: float | None = None, tracked: bool = False,
        restarts: int = 0) -> Obj:
    meta: Obj = {"name": name, "namespace": NS, "uid": f"uid-{name}", "creationTimestamp": ago(900),
                 "labels": {"batch.kubernetes.io/controller-uid": "job-uid"},
                 "ownerReferences": [{"apiVersion": "batch/v1", "kind": "Job", "name": "work", "uid": "job-uid",
                                      "controller": True, "blockOwnerDeletion": True}]}
    if tracked:
        meta["finalizers"] = [TRACKING_FINALIZER]
    state: Obj = {"running": {"startedAt": ago(900)}}
    if finished_ago is not None:
        state = {"terminated": {"exitCode": 0 if phase == "Succeeded" else 1, "finishedAt": ago(finished_ago)}}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta,
            "spec": {"nodeName": "n1", "containers": [{"name": "work", "image": "busybox:1.36"}]},
            "status": {"phase": phase, "containerStatuses": [{"name": "work", "restartCount": restarts,
                                                              "state": state}]}}


async def sync_once(*objects: Obj) -> tuple[FakeCluster, JobController]:
    cluster = FakeCluster()
    controller = JobController(cluster.ctx)
    cluster.add(*objects)
    controller.queue = WorkQueue()  # drop what seeding the caches enqueued; keep what sync schedules
    await controller.sync(f"{NS}/work")
    return cluster, controller


def true_conditions(status: Obj) -> dict[str, str]:
    return {c["type"]: c.get("reason", "") for c in status.get("conditions") or [] if c["status"] == "True"}


def pending_delay(controller: JobController, key: str = f"{NS}/work") -> float | None:
    """Seconds until the queue hands `key` out again, or None if it is not scheduled."""
    import asyncio

    handle = controller.queue._waiting.get(key)
    return None if handle is None else handle.when() - asyncio.get_running_loop().time()


# ---- creating pods --------------------------------------------------------------------------------

@pytest.mark.parametrize(("completions", "parallelism", "succeeded", "created"), [
    (1, 1, 0, 1), (5, 2, 0, 2), (5, 3, 4, 1), (None, 3, 0, 3), (3, 8, 0, 3)])
async def test_first_sync_creates_the_wanted_pods(completions: int | None, parallelism: int, succeeded: int,
                                                  created: int) -> None:
    cluster, _ = await sync_once(job(completions=completions, parallelism=parallelism,
                                     status={"startTime": ago(5), "succeeded": succeeded}))
    creates = [w for w in cluster.writes if w.verb == "create"]
    assert len(creates) == created
    for w in creates:
        meta = w.body["metadata"]
        assert meta["generateName"] == "work-"
        assert meta["finalizers"] == [TRACKING_FINALIZER]
        assert meta["ownerReferences"][0]["uid"] == "job-uid" and meta["ownerReferences"][0]["controller"]
        assert meta["labels"]["batch.kubernetes.io/controller-uid"] == "job-uid"
    assert [w.target for w in cluster.writes if w.verb != "create"] == ["jobs/status"]


async def test_start_time_is_set_on_the_first_sync() -> None:
    cluster, _ = await sync_once(job(status={}))
    status = next(w for w in cluster.writes if w.target == "jobs/status").body["status"]
    assert status["startTime"] and status["active"] == 1  # manageJob counts the pod it just created


# ---- failure back-off --------------------------------------------------------------------------------

@pytest.mark.parametrize("failures", [0, 1, 2, 3, 7, 8, 20])
def test_backoff_delay_doubles_from_ten_seconds_capped_at_ten_minutes(failures: int) -> None:
    expected = 0.0 if failures == 0 else min(10.0 * 2 ** (failures - 1), 600.0)
    assert backoff_delay(failures) == expected


# (failed pods' finishedAt ages, succeeded pods' ages) → seconds until the replacement, or 0 = now
BACKOFF = [
    pytest.param([2], [], 8, id="first-failure-waits-10s"),
    pytest.param([30, 5], [], 15, id="second-failure-waits-20s-from-the-latest"),
    pytest.param([60, 50, 3], [], 37, id="third-failure-waits-40s"),
    pytest.param([100, 3], [50], 7, id="a-success-resets-the-count"),
    pytest.param([15], [], 0, id="back-off-over-create-now"),
]


@pytest.mark.parametrize(("failed_ago", "succeeded_ago", "wait"), BACKOFF)
async def test_replacement_waits_for_the_backoff(failed_ago: list[int], succeeded_ago: list[int],
                                                 wait: float) -> None:
    pods = [pod(f"f{i}", "Failed", finished_ago=a) for i, a in enumerate(failed_ago)]
    pods += [pod(f"s{i}", "Succeeded", finished_ago=a) for i, a in enumerate(succeeded_ago)]
    counted = {"startTime": ago(600), "failed": len(failed_ago), "succeeded": len(succeeded_ago), "active": 0,
               "ready": 0, "terminating": 0}
    cluster, controller = await sync_once(job(completions=len(succeeded_ago) + 1, status=counted), *pods)
    creates = [w for w in cluster.writes if w.verb == "create"]
    if wait:
        assert creates == []
        delay = pending_delay(controller)
        assert delay is not None and wait - 1.5 <= delay <= wait + 0.5
        assert cluster.writes == []  # nothing changed: status is not rewritten either
    else:
        assert len(creates) == 1


# ---- backoffLimit and the terminal sequence ------------------------------------------------------------

async def test_backoff_limit_exceeded_sets_failure_target_and_deletes_active_pods() -> None:
    counted = {"startTime": ago(600), "failed": 3, "succeeded": 0, "active": 1, "ready": 0, "terminating": 0}
    cluster, _ = await sync_once(job(backoff_limit=2, status=counted), pod("running", tracked=True),
                                 pod("f0", "Failed", finished_ago=100))
    assert [(w.verb, w.target, w.name) for w in cluster.writes] == [
        ("delete", "pods", "running"), ("update", "jobs/status", "work")]
    status = cluster.writes[-1].body["status"]
    assert true_conditions(status) == {"FailureTarget": "BackoffLimitExceeded"}  # Failed waits for the pods
    assert status["active"] == 0  # the deleted pod no longer counts as active
    target = next(c for c in status["conditions"] if c["type"] == "FailureTarget")
    assert target["message"] == "Job has reached the specified backoff limit"


async def test_terminal_sequence_ends_in_failed_once_no_pod_is_left() -> None:
    """FailureTarget → the deleted pod is counted as failed (uncounted → finalizer off →
    failed+1) → Failed, one write-set per sync, each sync seeing what the last one wrote."""
    counted = {"startTime": ago(600), "failed": 1, "succeeded": 0, "active": 1, "ready": 0, "terminating": 0}
    cluster = FakeCluster()
    controller = JobController(cluster.ctx)
    cluster.add(job(backoff_limit=0, status=counted), pod("running", tracked=True))
    steps: list[list[tuple[str, str, str]]] = []
    warnings: list[str] = []
    for _ in range(5):
        cluster.clear()
        await controller.sync(f"{NS}/work")
        steps.append([(w.verb, w.target, w.name) for w in cluster.writes])
        warnings += [e.reason for e in cluster.events if e.type == "Warning"]
        cluster.deliver()
    assert steps == [
        [("delete", "pods", "running"), ("update", "jobs/status", "work")],   # FailureTarget, pod terminating
        [("update", "jobs/status", "work")],                                 # pod uid → uncountedTerminatedPods
        [("patch", "pods", "running"), ("update", "jobs/status", "work")],   # finalizer off, failed += 1
        [("update", "jobs/status", "work")],                                 # Failed
        [],                                                                  # finished: nothing more
    ]
    final = cluster.client.stored("jobs", NS, "work")["status"]
    assert true_conditions(final) == {"FailureTarget": "BackoffLimitExceeded", "Failed": "BackoffLimitExceeded"}
    assert final["failed"] == 2 and final["active"] == 0
    assert cluster.client.all("pods") == []
    assert warnings == ["BackoffLimitExceeded"]


@pytest.mark.parametrize(("failed", "limit", "fails"), [(6, 6, False), (7, 6, True), (0, 0, False), (1, 0, True)])
async def test_backoff_limit_is_strictly_greater(failed: int, limit: int, fails: bool) -> None:
    counted = {"startTime": ago(600), "failed": failed, "succeeded": 0, "active": 0, "ready": 0, "terminating": 0}
    cluster, _ = await sync_once(job(backoff_limit=limit, status=counted))
    status = cluster.client.stored("jobs", NS, "work")["status"]
    if fails:
        assert true_conditions(status) == {"FailureTarget": "BackoffLimitExceeded", "Failed": "BackoffLimitExceeded"}
        assert not [w for w in cluster.writes if w.verb == "create"]
    else:
        assert "Failed" not in true_conditions(status)


@pytest.mark.parametrize(("restarts", "limit", "fails"), [(2, 3, False), (3, 3, True), (1, 0, True)])
async def test_on_failure_restarts_count_against_the_limit(restarts: int, limit: int, fails: bool) -> None:
    counted = {"startTime": ago(600), "failed": 0, "succeeded": 0, "active": 1, "ready": 0, "terminating": 0}
    cluster, _ = await sync_once(job(backoff_limit=limit, status=counted, restart_policy="OnFailure"),
                                 pod("crashy", restarts=restarts))
    deletes = [w.name for w in cluster.writes if w.verb == "delete"]
    assert deletes == (["crashy"] if fails else [])
    status = cluster.client.stored("jobs", NS, "work")["status"]
    assert ("FailureTarget" in true_conditions(status)) == fails


async def test_success_counts_then_completes() -> None:
    cluster = FakeCluster()
    controller = JobController(cluster.ctx)
    cluster.add(job(status={"startTime": ago(600), "active": 1}), pod("ok", "Succeeded", finished_ago=1, tracked=True))
    for _ in range(4):
        await controller.sync(f"{NS}/work")
        cluster.deliver()
    final = cluster.client.stored("jobs", NS, "work")["status"]
    assert true_conditions(final) == {"SuccessCriteriaMet": "CompletionsReached", "Complete": "CompletionsReached"}
    assert final["succeeded"] == 1 and final["completionTime"]
    assert cluster.client.stored("pods", NS, "ok")["metadata"].get("finalizers") is None


# ---- Indexed completion mode -----------------------------------------------------------------------

def indexed_job(completions: int, parallelism: int, completed: str = "") -> Obj:
    obj = job(completions=completions, parallelism=parallelism,
              status={"startTime": ago(600), "succeeded": len(parse_indexes(completed)), "active": 0, "ready": 0,
                      "failed": 0, "terminating": 0, **({"completedIndexes": completed} if completed else {})})
    obj["spec"]["completionMode"] = "Indexed"
    return obj


def indexed_pod(name: str, index: int, phase: str = "Running", tracked: bool = True) -> Obj:
    obj = pod(name, phase, finished_ago=1 if phase in ("Succeeded", "Failed") else None, tracked=tracked)
    obj["metadata"]["annotations"] = {COMPLETION_INDEX: str(index)}
    obj["metadata"]["labels"][COMPLETION_INDEX] = str(index)
    return obj


@pytest.mark.parametrize(("completions", "parallelism", "completed", "running", "created"), [
    (3, 3, "", [], [0, 1, 2]),
    (5, 3, "0,2", [1], [3, 4]),       # the missing indices, lowest first
    (5, 2, "", [3], [0]),             # parallelism caps the count
    (4, 4, "0-2", [], [3]),
    (4, 4, "0-3", [], []),            # all done: nothing to create
])
async def test_indexed_creates_the_missing_indices(completions: int, parallelism: int, completed: str,
                                                   running: list[int], created: list[int]) -> None:
    pods = [indexed_pod(f"r{i}", i) for i in running]
    cluster, _ = await sync_once(indexed_job(completions, parallelism, completed), *pods)
    creates = [w.body for w in cluster.writes if w.verb == "create"]
    assert [int(b["metadata"]["annotations"][COMPLETION_INDEX]) for b in creates] == created
    for body, index in zip(creates, created, strict=True):
        assert body["metadata"]["labels"][COMPLETION_INDEX] == str(index)
        assert body["metadata"]["generateName"] == f"work-{index}-"
        assert body["spec"]["hostname"] == f"work-{index}"
        assert body["spec"]["containers"][0]["env"] == [{"name": "JOB_COMPLETION_INDEX", "valueFrom": {
            "fieldRef": {"fieldPath": f"metadata.annotations['{COMPLETION_INDEX}']"}}}]
        assert body["metadata"]["finalizers"] == [TRACKING_FINALIZER]


async def test_indexed_duplicates_and_completed_indices_are_deleted() -> None:
    pods = [indexed_pod("dup-a", 1), indexed_pod("dup-b", 1), indexed_pod("done-again", 0), indexed_pod("ok", 2)]
    pods[1]["status"]["conditions"] = [{"type": "Ready", "status": "True", "lastTransitionTime": ago(60)}]
    cluster, _ = await sync_once(indexed_job(3, 3, "0"), *pods)
    assert sorted(w.name for w in cluster.writes if w.verb == "delete") == ["done-again", "dup-a"]
    assert not [w for w in cluster.writes if w.verb == "create"]


async def test_indexed_successes_count_by_index_and_complete() -> None:
    cluster = FakeCluster()
    controller = JobController(cluster.ctx)
    cluster.add(indexed_job(3, 3, "0"), indexed_pod("one", 1, "Succeeded"), indexed_pod("one-again", 1, "Succeeded"),
                indexed_pod("two", 2, "Succeeded"))
    await controller.sync(f"{NS}/work")
    first = cluster.client.stored("jobs", NS, "work")["status"]
    assert (first["completedIndexes"], first["succeeded"]) == ("0-2", 3)
    assert "uncountedTerminatedPods" not in first
    assert not [w for w in cluster.writes if w.resource == "pods"]  # finalizers only after the status write
    for _ in range(3):
        cluster.deliver()
        await controller.sync(f"{NS}/work")
    final = cluster.client.stored("jobs", NS, "work")["status"]
    assert true_conditions(final) == {"SuccessCriteriaMet": "CompletionsReached", "Complete": "CompletionsReached"}
    assert final["succeeded"] == 3
    assert all(not p["metadata"].get("finalizers") for p in cluster.client.all("pods"))


@pytest.mark.parametrize(("text", "indexes"), [("", set()), ("0", {0}), ("1,3-5", {1, 3, 4, 5}),
                                               ("0-2,4,6-7", {0, 1, 2, 4, 6, 7})])
def test_completed_indexes_round_trip(text: str, indexes: set[int]) -> None:
    assert parse_indexes(text) == indexes
    assert format_indexes(indexes) == text
