"""Opt-in automatic rollback, beyond Kubernetes: a Deployment annotated
`kube-py.io/auto-rollback: "true"` whose rollout exceeded its progress deadline is undone
the way `kubectl rollout undo` would undo it (the previous revision's template written
back), and an event says why.

The ReplicaSet that failed is marked `kube-py.io/rollout-failed: "true"`, and marked
ReplicaSets are never rollback targets, so two broken revisions cannot ping-pong forever.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from controllers.deployment import util

if TYPE_CHECKING:
    from controllers.deployment.controller import DeploymentController

Obj = dict[str, Any]
AUTO_ROLLBACK = "kube-py.io/auto-rollback"
ROLLOUT_FAILED = "kube-py.io/rollout-failed"
HASH_LABEL = "pod-template-hash"


def wants_auto_rollback(d: Obj) -> bool:
    return ((d["metadata"].get("annotations") or {}).get(AUTO_ROLLBACK) or "").lower() == "true"


def deadline_exceeded(d: Obj) -> bool:
    progressing = util.condition(d.get("status") or {}, "Progressing")
    return progressing is not None and progressing.get("reason") == "ProgressDeadlineExceeded"


def rollback_target(new_rs: Obj, replica_sets: list[Obj]) -> Obj | None:
    """The newest earlier revision that never failed, or None."""
    candidates = [rs for rs in replica_sets
                  if rs["metadata"]["uid"] != new_rs["metadata"]["uid"] and util.revision(rs) > 0
                  and (rs["metadata"].get("annotations") or {}).get(ROLLOUT_FAILED) != "true"
                  and not rs["metadata"].get("deletionTimestamp")]
    return max(candidates, key=util.revision, default=None)


def template_of(rs: Obj) -> Obj:
    template = copy.deepcopy((rs.get("spec") or {}).get("template") or {})
    labels = (template.get("metadata") or {}).get("labels") or {}
    labels.pop(HASH_LABEL, None)
    return template


async def maybe_auto_rollback(dc: DeploymentController, d: Obj, replica_sets: list[Obj], new_rs: Obj | None) -> bool:
    """Roll back if this Deployment asked for it and its rollout timed out; → True if it did."""
    if new_rs is None or not wants_auto_rollback(d) or not deadline_exceeded(d) or (d.get("spec") or {}).get("paused"):
        return False
    if (new_rs["metadata"].get("annotations") or {}).get(ROLLOUT_FAILED) == "true":
        return False  # already rolled away from it once; a human decides now
    reason = util.condition(d["status"], "Progressing").get("message", "")  # type: ignore[union-attr]
    namespace, name = d["metadata"]["namespace"], d["metadata"]["name"]
    await dc.client.patch("replicasets", new_rs["metadata"]["name"],
                          {"metadata": {"annotations": {ROLLOUT_FAILED: "true"}}}, namespace, patch_type="merge")
    target = rollback_target(new_rs, replica_sets)
    if target is None:
        dc.recorder.event(d, "Warning", "AutoRollbackSkipped",
                          f"Progress deadline exceeded ({reason}) but there is no earlier revision to roll back to")
        return True
    body = copy.deepcopy(d)
    body["spec"]["template"] = template_of(target)
    await dc.client.update("deployments", body, namespace)
    dc.recorder.event(d, "Warning", "DeploymentRollback",
                      f'Rolled back deployment "{name}" to revision {util.revision(target)}: {reason} '
                      f"({AUTO_ROLLBACK} is set)")
    return True
