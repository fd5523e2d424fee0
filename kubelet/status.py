"""Pod status from container records: phase, conditions and containerStatuses.

Pure functions, so the rules of semantics.md §5.2–§5.5 (getPhase, the condition reasons,
the container state shapes the API and the Python client require) are table-tested
without a runtime.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kubelet.runtime.interface import ContainerStatus

Obj = dict[str, Any]


@dataclass
class ContainerRecord:
    """What the kubelet knows about one container of a pod across restarts."""

    name: str
    image: str
    current: ContainerStatus | None = None
    restart_count: int = 0
    last_terminated: Obj | None = None
    waiting_reason: str = "ContainerCreating"
    waiting_message: str = ""
    ready: bool = False
    started: bool = False
    probe_state: dict[str, Any] = field(default_factory=dict)

    @property
    def running(self) -> bool:
        return self.current is not None and self.current.state == "running"

    @property
    def exited(self) -> bool:
        return self.current is not None and self.current.state == "exited"

    @property
    def succeeded(self) -> bool:
        return self.exited and self.current is not None and self.current.exit_code == 0


def terminated_state(status: ContainerStatus) -> Obj:
    state: Obj = {"exitCode": status.exit_code if status.exit_code is not None else 0,
                  "reason": status.reason or ("Completed" if status.exit_code == 0 else "Error"),
                  "startedAt": status.started_at or None, "finishedAt": status.finished_at or None,
                  "containerID": status.id}
    return state


def container_status(record: ContainerRecord) -> Obj:
    out: Obj = {"name": record.name, "image": record.image, "imageID": "", "ready": record.ready,
                "restartCount": record.restart_count, "started": record.started and record.running}
    current = record.current
    if current is not None:
        out["containerID"] = current.id
        out["imageID"] = current.image_id
    if current is not None and current.state == "running" and not record.waiting_reason:
        out["state"] = {"running": {"startedAt": current.started_at}}
    elif current is not None and current.state == "exited" and not record.waiting_reason:
        out["state"] = {"terminated": terminated_state(current)}
    else:
        waiting: Obj = {"reason": record.waiting_reason or "ContainerCreating"}
        if record.waiting_message:
            waiting["message"] = record.waiting_message
        out["state"] = {"waiting": waiting}
    out["lastState"] = {"terminated": record.last_terminated} if record.last_terminated else {}
    return out


def pod_phase(spec: Obj, init: list[ContainerRecord], regular: list[ContainerRecord], terminal: bool) -> str:
    """getPhase (semantics.md §5.2)."""
    policy = spec.get("restartPolicy", "Always")
    init_failed = any(r.exited and not r.succeeded and r.waiting_reason == "" for r in init) or \
        any(r.last_terminated and r.last_terminated.get("exitCode") and not r.succeeded for r in init
            if r.waiting_reason)
    init_pending = any(not r.succeeded for r in init)
    if init_failed and policy == "Never":
        return "Failed"
    running = stopped = succeeded = waiting = unknown = 0
    for r in regular:
        if r.running and not r.waiting_reason:
            running += 1
        elif r.exited and not r.waiting_reason:
            stopped += 1
            succeeded += 1 if r.succeeded else 0
        elif r.last_terminated:
            stopped += 1
            succeeded += 1 if r.last_terminated.get("exitCode") == 0 else 0
        elif r.current is None and r.waiting_reason:
            waiting += 1
        else:
            unknown += 1
    if (init_pending and not any(r.current for r in regular)) or waiting:
        return "Pending"
    if running and not unknown:
        return "Running"
    if not running and stopped and not unknown:
        if terminal:
            return "Succeeded" if stopped == succeeded else "Failed"
        if policy == "Always":
            return "Running"
        if stopped == succeeded:
            return "Succeeded"
        return "Failed" if policy == "Never" else "Running"
    return "Pending"


def _condition(kind: str, ok: bool, previous: dict[str, Obj], now: str, reason: str = "",
               message: str = "") -> Obj:
    status = "True" if ok else "False"
    old = previous.get(kind)
    transition = old["lastTransitionTime"] if old and old.get("status") == status and old.get("lastTransitionTime") \
        else now
    cond: Obj = {"type": kind, "status": status, "lastProbeTime": None, "lastTransitionTime": transition}
    if not ok and reason:
        cond["reason"] = reason
        if message:
            cond["message"] = message
    elif ok and reason == "PodCompleted":
        cond["reason"] = reason
    return cond


def pod_conditions(pod: Obj, init: list[ContainerRecord], regular: list[ContainerRecord], phase: str,
                   sandbox_ready: bool, now: str) -> list[Obj]:
    previous = {c["type"]: c for c in (pod.get("status") or {}).get("conditions") or []}
    unready = [r.name for r in regular if not r.ready]
    incomplete = [r.name for r in init if not r.succeeded]
    completed = phase == "Succeeded"
    initialized = not incomplete or completed
    containers_ready = not unready and not completed
    gates = [g.get("conditionType") for g in (pod.get("spec") or {}).get("readinessGates") or []]
    gates_ok = all((previous.get(g) or {}).get("status") == "True" for g in gates)
    reason_unready = "PodCompleted" if completed else "ContainersNotReady"
    message = "" if completed else f"containers with unready status: [{' '.join(unready)}]"
    conditions = [
        _condition("PodReadyToStartContainers", sandbox_ready, previous, now),
        _condition("Initialized", initialized, previous, now, "ContainersNotInitialized",
                   f"containers with incomplete status: [{' '.join(incomplete)}]"),
        _condition("Ready", containers_ready and gates_ok, previous, now,
                   reason_unready if not containers_ready else "ReadinessGatesNotReady", message),
        _condition("ContainersReady", containers_ready, previous, now, reason_unready, message),
    ]
    if completed:
        conditions[1] = _condition("Initialized", True, previous, now, "PodCompleted")
    scheduled = previous.get("PodScheduled") or {"type": "PodScheduled", "status": "True", "lastProbeTime": None,
                                                 "lastTransitionTime": now}
    return [*conditions, scheduled]
