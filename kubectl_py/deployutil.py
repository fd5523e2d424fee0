"""What kubectl's rollout commands compute from a Deployment and its ReplicaSets.

Pure functions over API objects (kubectl's pkg/util/deployment and polymorphichelpers):
which ReplicaSets a Deployment owns, which one is new, the revision table, the rollback
patch, and the `rollout status` message. Kept apart from I/O so they are unit-tested on
recorded objects.
"""

from __future__ import annotations

import copy
import difflib
from dataclasses import dataclass
from typing import Any

from kubectl_py.describers import pod_template_text
from kubectl_py.printers import to_yaml
from kubectl_py.tabwriter import tabbed

REVISION = "deployment.kubernetes.io/revision"
CHANGE_CAUSE = "kubernetes.io/change-cause"
HASH_LABEL = "pod-template-hash"
ANNOTATIONS_TO_SKIP = frozenset({
    "kubectl.kubernetes.io/last-applied-configuration",
    REVISION,
    "deployment.kubernetes.io/revision-history",
    "deployment.kubernetes.io/desired-replicas",
    "deployment.kubernetes.io/max-replicas",
    "deprecated.deployment.rollback.to",
})


class RolloutError(Exception):
    pass


def revision_of(obj: dict[str, Any]) -> int | None:
    raw = ((obj.get("metadata") or {}).get("annotations") or {}).get(REVISION)
    try:
        return int(raw) if raw is not None else None
    except ValueError:
        return None


def owned_replicasets(deployment: dict[str, Any], replicasets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    uid = (deployment.get("metadata") or {}).get("uid")
    return [rs for rs in replicasets
            if any(ref.get("controller") and ref.get("uid") == uid
                   for ref in (rs.get("metadata") or {}).get("ownerReferences") or [])]


def _prune(value: Any) -> Any:
    """Semantic equality: null, empty maps and empty lists are the same as absent."""
    if isinstance(value, dict):
        out = {k: _prune(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v not in (None, {}, [])}
    if isinstance(value, list):
        return [_prune(v) for v in value]
    return value


def without_hash(template: dict[str, Any]) -> dict[str, Any]:
    clean = copy.deepcopy(template or {})
    labels = (clean.get("metadata") or {}).get("labels")
    if isinstance(labels, dict):
        labels.pop(HASH_LABEL, None)
    return clean


def equal_ignore_hash(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return _prune(without_hash(a)) == _prune(without_hash(b))


def split_replicasets(deployment: dict[str, Any], owned: list[dict[str, Any]]) \
        -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """(new RS, old RSs) as deploymentutil.GetAllReplicaSets: the new one's template matches.
    The oldest match wins, as FindNewReplicaSet sorts by creation time."""
    template = (deployment.get("spec") or {}).get("template") or {}
    ordered = sorted(owned, key=lambda rs: ((rs.get("metadata") or {}).get("creationTimestamp") or "",
                                            (rs.get("metadata") or {}).get("name") or ""))
    new = next((rs for rs in ordered if equal_ignore_hash((rs.get("spec") or {}).get("template") or {}, template)),
               None)
    return new, [rs for rs in ordered if rs is not new]


@dataclass
class HistoryEntry:
    revision: int
    template: dict[str, Any]
    change_cause: str


def history(owned: list[dict[str, Any]]) -> dict[int, HistoryEntry]:
    entries: dict[int, HistoryEntry] = {}
    for rs in owned:
        revision = revision_of(rs)
        if revision is None:
            continue
        template = copy.deepcopy((rs.get("spec") or {}).get("template") or {})
        cause = ((rs.get("metadata") or {}).get("annotations") or {}).get(CHANGE_CAUSE, "")
        if cause:
            template.setdefault("metadata", {}).setdefault("annotations", {})[CHANGE_CAUSE] = cause
        entries[revision] = HistoryEntry(revision, template, cause)
    return entries


def history_table(entries: dict[int, HistoryEntry]) -> str:
    if not entries:
        return "No rollout history found."
    rows = [["REVISION", "CHANGE-CAUSE"]] + [[str(r), entries[r].change_cause or "<none>"] for r in sorted(entries)]
    return tabbed(rows)


def history_revision(entries: dict[int, HistoryEntry], revision: int) -> str:
    if revision not in entries:
        raise RolloutError("unable to find the specified revision")
    return pod_template_text(entries[revision].template)


def history_diff(entries: dict[int, HistoryEntry], a: int, b: int) -> str:
    """Beyond kubectl: a unified diff of two revisions' pod templates (YAML, hash label removed)."""
    for revision in (a, b):
        if revision not in entries:
            raise RolloutError(f"unable to find specified revision {revision} in history")
    left = to_yaml(_diffable(entries[a].template)).splitlines(keepends=True)
    right = to_yaml(_diffable(entries[b].template)).splitlines(keepends=True)
    return "".join(difflib.unified_diff(left, right, f"revision {a}", f"revision {b}"))


def _diffable(template: dict[str, Any]) -> dict[str, Any]:
    clean = without_hash(template)
    annotations = (clean.get("metadata") or {}).get("annotations") or {}
    annotations.pop(CHANGE_CAUSE, None)
    if not annotations and "metadata" in clean:
        clean["metadata"].pop("annotations", None)
    return clean


def rollback_target(deployment: dict[str, Any], owned: list[dict[str, Any]], to_revision: int) -> dict[str, Any]:
    """kubectl's deploymentRevision: the RS of that revision, or the second newest for 0."""
    if to_revision < 0:
        raise RolloutError(f"unable to find specified revision {to_revision} in history")
    latest: tuple[int, dict[str, Any] | None] = (-1, None)
    previous: tuple[int, dict[str, Any] | None] = (-1, None)
    for rs in owned:
        revision = revision_of(rs)
        if revision is None:
            continue
        if to_revision == 0:
            if latest[0] < revision:
                previous, latest = latest, (revision, rs)
            elif previous[0] < revision:
                previous = (revision, rs)
        elif revision == to_revision:
            return rs
    if to_revision > 0:
        raise RolloutError(f"unable to find specified revision {to_revision} in history")
    if previous[1] is None:
        name = (deployment.get("metadata") or {}).get("name")
        raise RolloutError(f'no rollout history found for deployment "{name}"')
    return previous[1]


def rollback_patch(deployment: dict[str, Any], rs: dict[str, Any]) -> list[dict[str, Any]]:
    """The JSON patch kubectl sends: the RS template (no hash label) and the merged annotations."""
    template = without_hash((rs.get("spec") or {}).get("template") or {})
    template.setdefault("metadata", {})
    template["metadata"] = {"creationTimestamp": None, **template["metadata"]}
    current = (deployment.get("metadata") or {}).get("annotations") or {}
    annotations = {k: v for k, v in current.items() if k in ANNOTATIONS_TO_SKIP}
    for key, value in ((rs.get("metadata") or {}).get("annotations") or {}).items():
        if key not in ANNOTATIONS_TO_SKIP:
            annotations[key] = value
    return [{"op": "replace", "path": "/spec/template", "value": template},
            {"op": "replace", "path": "/metadata/annotations", "value": annotations}]


@dataclass
class RolloutState:
    message: str
    done: bool


def rollout_status(deployment: dict[str, Any], revision: int = 0) -> RolloutState:
    """kubectl's DeploymentStatusViewer.Status; raises RolloutError on a failed rollout."""
    meta, spec, status = deployment.get("metadata") or {}, deployment.get("spec") or {}, \
        deployment.get("status") or {}
    name = meta.get("name")
    if revision > 0:
        current = revision_of(deployment)
        if current is None:
            raise RolloutError("cannot get the revision of deployment: no revision annotation")
        if current != revision:
            raise RolloutError(f"desired revision ({revision}) is different from the running revision ({current})")
    if meta.get("generation", 0) <= status.get("observedGeneration", 0):
        for condition in status.get("conditions") or []:
            if condition.get("type") == "Progressing" and condition.get("reason") == "ProgressDeadlineExceeded":
                raise RolloutError(f'deployment "{name}" exceeded its progress deadline')
        replicas = spec.get("replicas", 1)
        updated = status.get("updatedReplicas", 0)
        total = status.get("replicas", 0)
        available = status.get("availableReplicas", 0)
        if updated < replicas:
            return RolloutState(f'Waiting for deployment "{name}" rollout to finish: {updated} out of {replicas} '
                                "new replicas have been updated...", False)
        if total > updated:
            return RolloutState(f'Waiting for deployment "{name}" rollout to finish: {total - updated} old '
                                "replicas are pending termination...", False)
        if available < updated:
            return RolloutState(f'Waiting for deployment "{name}" rollout to finish: {available} of {updated} '
                                "updated replicas are available...", False)
        return RolloutState(f'deployment "{name}" successfully rolled out', True)
    return RolloutState("Waiting for deployment spec update to be observed...", False)
