"""Progressing / Available conditions and the progress deadline (semantics.md §2.10)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from controllers.deployment import sync, util
from controllers.podutil import parse_time

if TYPE_CHECKING:
    from controllers.deployment.controller import DeploymentController

Obj = dict[str, Any]


async def sync_rollout_status(dc: DeploymentController, d: Obj, all_rss: list[Obj], new_rs: Obj | None) -> None:
    status = sync.calculate_status(d, all_rss, new_rs)
    spec = d.get("spec") or {}
    if spec.get("progressDeadlineSeconds") is None:
        util.remove_condition(status, "Progressing")
    else:
        update_progressing(d, status, new_rs)
    copy_replica_failure(status, all_rss)
    await dc.write_status(d, status)
    requeue_for_deadline(dc, d, status)


def update_progressing(d: Obj, status: Obj, new_rs: Obj | None) -> None:
    current = util.condition(status, "Progressing")
    name = new_rs["metadata"]["name"] if new_rs else ""
    if new_rs is not None and util.deployment_complete(d, status):
        util.set_condition(status, util.new_condition("Progressing", "True", "NewReplicaSetAvailable",
                                                      f'ReplicaSet "{name}" has successfully progressed.'))
    elif new_rs is not None and util.deployment_progressing(d, status):
        cond = util.new_condition("Progressing", "True", "ReplicaSetUpdated", f'ReplicaSet "{name}" is progressing.')
        if current is not None and current.get("status") == "True":
            cond["lastTransitionTime"] = current.get("lastTransitionTime", cond["lastTransitionTime"])
        status["conditions"] = [c for c in status.get("conditions") or [] if c.get("type") != "Progressing"] + [cond]
    elif new_rs is not None and util.deployment_timed_out(d, status):
        util.set_condition(status, util.new_condition("Progressing", "False", "ProgressDeadlineExceeded",
                                                      f'ReplicaSet "{name}" has timed out progressing.'))


def copy_replica_failure(status: Obj, all_rss: list[Obj]) -> None:
    for rs in all_rss:
        failure = util.condition(rs.get("status") or {}, "ReplicaFailure")
        if failure is not None:
            util.set_condition(status, util.new_condition("ReplicaFailure", failure.get("status", "True"),
                                                          failure.get("reason", ""), failure.get("message", "")))
            return
    util.remove_condition(status, "ReplicaFailure")


def requeue_for_deadline(dc: DeploymentController, d: Obj, status: Obj) -> None:
    deadline = (d.get("spec") or {}).get("progressDeadlineSeconds")
    progressing = util.condition(status, "Progressing")
    if deadline is None or progressing is None or progressing.get("reason") in (
            "NewReplicaSetAvailable", "ProgressDeadlineExceeded"):
        return
    updated = parse_time(progressing.get("lastUpdateTime"))
    if updated is None:
        return
    delay = updated.timestamp() + deadline - datetime.now(UTC).timestamp() + 1
    dc.enqueue_after(d, max(delay, 1.0))
