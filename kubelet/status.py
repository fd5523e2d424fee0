"""Pod status from container records: phase, conditions and containerStatuses.

Pure functions, so the rules of semantics.md §5.2–§5.5 and §5.7 are table-tested without
a runtime. They follow the kubelet's own split:

- `container_status` is convertContainerStatus plus the waiting overlay (a container the
  kubelet will restart shows its waiting reason, the run that just ended as `lastState`);
  a pod being deleted restarts nothing, so it shows how each container really ended.
- `carry_over` is how convertToAPIContainerStatuses uses the previous status for a
  container the runtime does not know (a restarted kubelet, a worker made anew): a
  terminated state is kept, a running one becomes a `ContainerStatusUnknown` termination,
  so the pod never falls back to Pending/ContainerCreating.
- `pod_phase` is getPhase over the API container statuses; `next_phase` the rule that a
  phase never goes back (nothing leaves Succeeded/Failed, Running never returns to Pending).
- `terminate` is the status manager's TerminatePod: every container of a terminated pod
  ends `terminated` and the phase is Succeeded or Failed (the kubelet does this for
  deleted pods since 1.27), so the final DELETE only ever removes a terminal pod.
- `illegal_transition` is checkContainerStateTransition: under restartPolicy Never (or
  OnFailure after exit 0) a terminated container never turns back into a waiting or
  running one; a status that would say so is not written.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from kubelet.runtime.interface import ContainerStatus

Obj = dict[str, Any]

TERMINAL_PHASES = ("Succeeded", "Failed")
CONTAINER_CREATING = "ContainerCreating"  # the default waiting reason before a container exists
STATUS_UNKNOWN = "ContainerStatusUnknown"
LOST_WHEN_TERMINATED = "The container could not be located when the pod was terminated"
LOST_WHEN_DELETED = "The container could not be located when the pod was deleted.  The container used to be Running"
LOST_EXIT_CODE = 137


@dataclass
class ContainerRecord:
    """What the kubelet knows about one container of a pod across restarts."""

    name: str
    image: str
    current: ContainerStatus | None = None
    restart_count: int = 0
    last_terminated: Obj | None = None
    waiting_reason: str = CONTAINER_CREATING
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

    @property
    def known(self) -> bool:
        """Does the runtime know this container (running or exited)? If not, the previous
        API status is all there is to say about it."""
        return self.running or self.exited


# ---- one container ---------------------------------------------------------------------


def terminated_state(status: ContainerStatus) -> Obj:
    state: Obj = {"exitCode": status.exit_code if status.exit_code is not None else 0,
                  "reason": status.reason or ("Completed" if status.exit_code == 0 else "Error"),
                  "startedAt": status.started_at or None, "finishedAt": status.finished_at or None,
                  "containerID": status.id}
    return state


def lost_state(message: str) -> Obj:
    """The termination Kubernetes records for a container whose real end is unknown."""
    return {"exitCode": LOST_EXIT_CODE, "reason": STATUS_UNKNOWN, "message": message,
            "startedAt": None, "finishedAt": None}


def container_status(record: ContainerRecord, *, deleting: bool = False, init: bool = False) -> Obj:
    """The API status of one container. While the pod is deleted nothing is restarted, so
    waiting reasons (CrashLoopBackOff, ImagePullBackOff) give way to how it ended. An init
    container that exited 0 is `ready`, as the prober manager reports it."""
    current = record.current
    waiting_reason = "" if deleting and record.exited else record.waiting_reason
    if deleting and current is None:
        waiting_reason = CONTAINER_CREATING  # a deleted pod's unstarted container only waits
    last = record.last_terminated
    if record.running and not waiting_reason:
        assert current is not None
        state: Obj = {"running": {"startedAt": current.started_at}}
    elif record.exited and not waiting_reason:
        assert current is not None
        state = {"terminated": terminated_state(current)}
    else:
        waiting: Obj = {"reason": waiting_reason or CONTAINER_CREATING}
        if record.waiting_message and waiting_reason == record.waiting_reason:
            waiting["message"] = record.waiting_message
        state = {"waiting": waiting}
        if record.exited:
            assert current is not None
            last = terminated_state(current)  # the run that just ended, as the kubelet moves it
    if init:
        ready = "terminated" in state and state["terminated"]["exitCode"] == 0
    else:
        ready = record.ready and "running" in state
    out: Obj = {"name": record.name, "image": record.image, "imageID": "", "ready": ready,
                "restartCount": record.restart_count, "started": record.started and "running" in state}
    if current is not None:
        out["containerID"] = current.id
        out["imageID"] = current.image_id
    out["state"] = state
    out["lastState"] = {"terminated": last} if last else {}
    return out


def carry_over(status: Obj, previous: Obj | None, *, known: bool, deleting: bool) -> Obj:
    """The previous API status of a container the runtime does not know: a terminated state
    stands; otherwise its restart count and last termination are kept, and if it was running
    (and nothing else is known) it terminated with ContainerStatusUnknown, so the pod counts
    it as stopped rather than as never started (convertToAPIContainerStatuses)."""
    if known or not previous:
        return status
    old_state = previous.get("state") or {}
    if "terminated" in old_state:
        return copy.deepcopy(previous)
    out = {**status, "restartCount": int(previous.get("restartCount") or 0),
           "lastState": copy.deepcopy(previous.get("lastState") or {})}
    waiting_by_default = ((out.get("state") or {}).get("waiting") or {}).get("reason") == CONTAINER_CREATING
    if "running" in old_state and waiting_by_default and not out["lastState"].get("terminated"):
        out["lastState"] = {"terminated": lost_state(LOST_WHEN_DELETED)}
        if not deleting:
            out["restartCount"] += 1  # not deleted, so it has been restarted
    return out


def converted(records: list[ContainerRecord], previous: list[Obj] | None, *, deleting: bool,
              init: bool = False) -> list[Obj]:
    """The API statuses of a list of containers, with what the previous status knew."""
    old = {s.get("name"): s for s in previous or []}
    return [carry_over(container_status(r, deleting=deleting, init=init), old.get(r.name), known=r.known,
                       deleting=deleting) for r in records]


# ---- phase -----------------------------------------------------------------------------


def _by_name(statuses: list[Obj]) -> dict[str, Obj]:
    return {s.get("name", ""): s for s in statuses}


def _exit_code(state: Obj | None) -> int:
    return int((state or {}).get("exitCode") or 0)


def any_regular_started(spec: Obj, statuses: list[Obj]) -> bool:
    """HasAnyRegularContainerStarted: some regular container is running or has terminated."""
    names = {c.get("name") for c in spec.get("containers") or []}
    return any(s.get("name") in names and ({"running", "terminated"} & set(s.get("state") or {}))
               for s in statuses)


def pod_phase(spec: Obj, init_statuses: list[Obj], statuses: list[Obj], terminal: bool) -> str:
    """getPhase (semantics.md §5.2) over the API container statuses. `terminal`: the pod is
    being deleted, so no container restarts whatever the restart policy says."""
    policy = spec.get("restartPolicy", "Always")
    init_by, by = _by_name(init_statuses), _by_name(statuses)
    pending_init = failed_init = 0
    for container in spec.get("initContainers") or []:
        status = init_by.get(container.get("name", ""))
        state = (status or {}).get("state") or {}
        last = ((status or {}).get("lastState") or {}).get("terminated")
        if "terminated" in state:
            failed_init += 1 if _exit_code(state["terminated"]) != 0 else 0
        elif "waiting" in state and last is not None:
            failed_init += 1 if _exit_code(last) != 0 else 0
        else:  # no status, running, or waiting to start for the first time
            pending_init += 1
    running = waiting = stopped = succeeded = unknown = 0
    for container in spec.get("containers") or []:
        status = by.get(container.get("name", ""))
        state = (status or {}).get("state") or {}
        if status is None or not state:
            unknown += 1
        elif "running" in state:
            running += 1
        elif "terminated" in state:
            stopped += 1
            succeeded += 1 if _exit_code(state["terminated"]) == 0 else 0
        elif ((status.get("lastState") or {}).get("terminated")) is not None:
            stopped += 1
        else:
            waiting += 1
    if failed_init and policy == "Never":
        return "Failed"
    if (pending_init and not any_regular_started(spec, statuses)) or waiting:
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


def next_phase(old: str, new: str) -> str:
    """A phase never goes back: nothing leaves Succeeded or Failed, Running never becomes
    Pending again (generateAPIPodStatus' three-way merge and the status manager's guard)."""
    if old in TERMINAL_PHASES:
        return old
    if old == "Running" and new == "Pending":
        return old
    return new


# ---- termination -----------------------------------------------------------------------


def has_initialized(spec: Obj, init_statuses: list[Obj], statuses: list[Obj]) -> bool:
    """hasPodInitialized: is there evidence that the regular containers ever started?"""
    if not spec.get("initContainers"):
        return True
    for status in statuses:
        if (status.get("lastState") or {}).get("terminated") or "waiting" not in (status.get("state") or {}):
            return True
    if init_statuses:
        last = init_statuses[-1]
        for state in (last.get("lastState") or {}, last.get("state") or {}):
            if "terminated" in state and _exit_code(state["terminated"]) == 0:
                return True
    return False


def initialized_count(init_statuses: list[Obj]) -> int:
    """initializedContainers: the init containers that have tried to start at least once
    (all but a trailing run of first-time waiters), and always the first."""
    for index in range(len(init_statuses) - 1, -1, -1):
        status = init_statuses[index]
        if "waiting" not in (status.get("state") or {}) or (status.get("lastState") or {}).get("terminated"):
            return index + 1
    return 1 if init_statuses else 0


def _ended(status: Obj) -> Obj:
    if "terminated" in (status.get("state") or {}):
        return status
    return {**status, "state": {"terminated": lost_state(LOST_WHEN_TERMINATED)}, "ready": False, "started": False}


def terminate(spec: Obj, phase: str, init_statuses: list[Obj],
              statuses: list[Obj]) -> tuple[str, list[Obj], list[Obj]]:
    """TerminatePod: once the containers are stopped, a container with no terminated state
    (one never seen to end) ends as ContainerStatusUnknown, exit 137, so the pod is not
    described as successful by accident; regular containers only if the pod got that far.
    A phase that is not yet terminal becomes Failed."""
    if has_initialized(spec, init_statuses, statuses):
        statuses = [_ended(s) for s in statuses]
    count = initialized_count(init_statuses)
    init_statuses = [_ended(s) for s in init_statuses[:count]] + init_statuses[count:]
    if phase not in TERMINAL_PHASES:
        phase = "Failed"
    return phase, init_statuses, statuses


def illegal_transition(old: list[Obj], new: list[Obj], policy: str) -> str:
    """checkContainerStateTransition: "" if allowed, else why the update must not be written."""
    if policy == "Always":
        return ""
    now = _by_name(new)
    for status in old:
        terminated = (status.get("state") or {}).get("terminated")
        if terminated is None or (_exit_code(terminated) != 0 and policy == "OnFailure"):
            continue
        replacement = now.get(status.get("name", ""))
        if replacement is not None and "terminated" not in (replacement.get("state") or {}):
            return f"terminated container {status.get('name')} attempted illegal transition to non-terminated state"
    return ""


# ---- conditions ------------------------------------------------------------------------


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


def _names(names: list[str]) -> str:
    return f"[{' '.join(names)}]"  # Go's %s of a []string


def _gate_problems(spec: Obj, previous: dict[str, Obj]) -> list[str]:
    problems = []
    for gate in spec.get("readinessGates") or []:
        kind = gate.get("conditionType", "")
        condition = previous.get(kind)
        if condition is None:
            problems.append(f'corresponding condition of pod readiness gate "{kind}" does not exist.')
        elif condition.get("status") != "True":
            problems.append(f'the status of pod readiness gate "{kind}" is not "True", but {condition.get("status")}')
    return problems


def pod_conditions(pod: Obj, init_statuses: list[Obj], statuses: list[Obj], phase: str,
                   sandbox_ready: bool, now: str) -> list[Obj]:
    """The kubelet's conditions (status/generate.go): a Succeeded pod's Ready and
    ContainersReady are False with PodCompleted, a Failed pod's with PodFailed."""
    spec = pod.get("spec") or {}
    previous = {c["type"]: c for c in (pod.get("status") or {}).get("conditions") or []}
    unready = [s["name"] for s in statuses if not s.get("ready")]
    incomplete = [s["name"] for s in init_statuses if not s.get("ready")]
    if phase in TERMINAL_PHASES:
        ready_reason, ready_message, containers_ready = \
            ("PodCompleted" if phase == "Succeeded" else "PodFailed"), "", False
    else:
        ready_reason, ready_message = "ContainersNotReady", f"containers with unready status: {_names(unready)}"
        containers_ready = not unready
    if phase == "Succeeded":
        initialized = _condition("Initialized", True, previous, now, "PodCompleted")
    else:
        initialized = _condition("Initialized", not incomplete or any_regular_started(spec, statuses), previous, now,
                                 "ContainersNotInitialized", f"containers with incomplete status: {_names(incomplete)}")
    gates = _gate_problems(spec, previous)
    if not containers_ready:
        ready = _condition("Ready", False, previous, now, ready_reason, ready_message)
    else:
        ready = _condition("Ready", not gates, previous, now, "ReadinessGatesNotReady", ", ".join(gates))
    scheduled = previous.get("PodScheduled") or {"type": "PodScheduled", "status": "True", "lastProbeTime": None,
                                                 "lastTransitionTime": now}
    return [
        _condition("PodReadyToStartContainers", sandbox_ready, previous, now),
        initialized,
        ready,
        _condition("ContainersReady", containers_ready, previous, now, ready_reason, ready_message),
        scheduled,
    ]


# ---- the whole status ------------------------------------------------------------------


def generate_status(pod: Obj, init: list[ContainerRecord], regular: list[ContainerRecord], *, terminal: bool,
                    sandbox_ready: bool, now: str) -> Obj:
    """generateAPIPodStatus, and TerminatePod when `terminal` (the containers have been
    killed): phase, conditions and container statuses, never going back from what the pod's
    current status says. A terminated pod's sandbox is being torn down, so it is no longer
    ready to start containers."""
    spec, old = pod.get("spec") or {}, pod.get("status") or {}
    deleting = bool((pod.get("metadata") or {}).get("deletionTimestamp"))
    statuses = converted(regular, old.get("containerStatuses"), deleting=deleting)
    init_statuses = converted(init, old.get("initContainerStatuses"), deleting=deleting, init=True)
    phase = pod_phase(spec, init_statuses, statuses, terminal)
    if terminal:
        phase, init_statuses, statuses = terminate(spec, phase, init_statuses, statuses)
    phase = next_phase(old.get("phase", ""), phase)
    status: Obj = {"phase": phase,
                   "conditions": pod_conditions(pod, init_statuses, statuses, phase, sandbox_ready and not terminal,
                                                now),
                   "containerStatuses": statuses}
    if init:
        status["initContainerStatuses"] = init_statuses
    return status
