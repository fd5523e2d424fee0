"""getPhase, container status shapes, the carry-over of the previous status, TerminatePod,
the phase and container-state guards and the conditions (semantics.md §5.2–§5.7),
table-driven over kubelet/status.py."""

from __future__ import annotations

from typing import Any

import pytest

from kubelet.podworker import field_ref_value, is_older
from kubelet.runtime.interface import ContainerStatus
from kubelet.status import (
    ContainerRecord,
    carry_over,
    container_status,
    generate_status,
    illegal_transition,
    initialized_count,
    next_phase,
    pod_conditions,
    pod_phase,
    terminate,
)

Obj = dict[str, Any]
LOST = {"exitCode": 137, "reason": "ContainerStatusUnknown",
        "message": "The container could not be located when the pod was terminated",
        "startedAt": None, "finishedAt": None}


def running(name: str = "c") -> ContainerRecord:
    return ContainerRecord(name, "img", ContainerStatus("x://1", name, "running", started_at="2026-01-01T00:00:00Z"),
                           waiting_reason="", ready=True, started=True)


def exited(code: int, name: str = "c") -> ContainerRecord:
    return ContainerRecord(name, "img", ContainerStatus("x://1", name, "exited", code, "Completed" if code == 0
                                                        else "Error", "2026-01-01T00:00:00Z",
                                                        "2026-01-01T00:00:01Z"), waiting_reason="")


def waiting(reason: str = "ContainerCreating", name: str = "c") -> ContainerRecord:
    return ContainerRecord(name, "img", None, waiting_reason=reason)


def crash_looping(code: int = 1, name: str = "c") -> ContainerRecord:
    record = exited(code, name)
    record.waiting_reason = "CrashLoopBackOff"
    record.last_terminated = {"exitCode": code, "reason": "Error"}  # the run before the current one
    return record


def spec_of(policy: str, init: list[ContainerRecord], regular: list[ContainerRecord]) -> Obj:
    spec: Obj = {"restartPolicy": policy, "containers": [{"name": r.name} for r in regular]}
    if init:
        spec["initContainers"] = [{"name": r.name} for r in init]
    return spec


def phase_of(policy: str, init: list[ContainerRecord], regular: list[ContainerRecord], terminal: bool) -> str:
    return pod_phase(spec_of(policy, init, regular), [container_status(r, init=True) for r in init],
                     [container_status(r) for r in regular], terminal)


@pytest.mark.parametrize(("policy", "init", "regular", "terminal", "phase"), [
    ("Always", [], [waiting()], False, "Pending"),
    ("Always", [], [running()], False, "Running"),
    ("Always", [], [running(), waiting(name="d")], False, "Pending"),
    ("Never", [], [exited(0)], False, "Succeeded"),
    ("Never", [], [exited(3)], False, "Failed"),
    ("OnFailure", [], [exited(3)], False, "Running"),
    ("OnFailure", [], [exited(0)], False, "Succeeded"),
    ("Always", [], [exited(0)], False, "Running"),
    ("Always", [], [crash_looping()], False, "Running"),
    ("Always", [], [waiting("ErrImagePull")], False, "Pending"),
    ("Always", [waiting(name="init")], [waiting()], False, "Pending"),
    ("Always", [running("init")], [waiting()], False, "Pending"),
    ("Never", [exited(1, "init")], [waiting()], False, "Failed"),
    ("Always", [crash_looping(name="init")], [waiting()], False, "Pending"),
    ("Always", [exited(0, "init")], [running()], False, "Running"),
    # being deleted: nothing restarts, whatever the restart policy
    ("Always", [], [exited(0)], True, "Succeeded"),
    ("Always", [], [exited(1)], True, "Failed"),
    ("Always", [], [exited(143)], True, "Failed"),
    ("Never", [], [exited(0)], True, "Succeeded"),
    ("OnFailure", [], [exited(137)], True, "Failed"),
    ("Always", [], [exited(0), exited(137, "d")], True, "Failed"),
    ("Always", [], [running()], True, "Running"),
    ("Always", [], [waiting()], True, "Pending"),
])
def test_pod_phase(policy: str, init: list, regular: list, terminal: bool, phase: str) -> None:
    assert phase_of(policy, init, regular, terminal) == phase


def test_a_container_without_any_status_is_unknown() -> None:
    spec = {"restartPolicy": "Always", "containers": [{"name": "c"}, {"name": "d"}]}
    assert pod_phase(spec, [], [container_status(running())], False) == "Pending"


def test_container_status_shapes() -> None:
    status = container_status(running())
    assert status["state"] == {"running": {"startedAt": "2026-01-01T00:00:00Z"}}
    assert status["ready"] and status["started"] and status["restartCount"] == 0 and status["containerID"] == "x://1"
    done = container_status(exited(2))
    assert (done["state"]["terminated"]["exitCode"], done["state"]["terminated"]["reason"]) == (2, "Error")
    assert (done["ready"], done["started"]) == (False, False)
    pending = container_status(waiting())
    assert pending["state"] == {"waiting": {"reason": "ContainerCreating"}} and pending["imageID"] == ""


def test_a_waiting_container_shows_the_run_that_just_ended_as_last_state() -> None:
    loop = container_status(crash_looping(3))
    assert loop["state"] == {"waiting": {"reason": "CrashLoopBackOff"}}
    assert loop["lastState"]["terminated"]["exitCode"] == 3
    assert loop["lastState"]["terminated"]["finishedAt"] == "2026-01-01T00:00:01Z"


@pytest.mark.parametrize(("record", "state"), [
    (crash_looping(0), {"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": "2026-01-01T00:00:00Z",
                                       "finishedAt": "2026-01-01T00:00:01Z", "containerID": "x://1"}}),
    (waiting("ImagePullBackOff"), {"waiting": {"reason": "ContainerCreating"}}),
    (waiting("CreateContainerConfigError"), {"waiting": {"reason": "ContainerCreating"}}),
])
def test_a_deleted_pod_restarts_nothing_so_waiting_reasons_give_way(record: ContainerRecord, state: Obj) -> None:
    assert container_status(record, deleting=True)["state"] == state


def test_init_containers_that_exited_0_are_ready() -> None:
    assert container_status(exited(0, "init"), init=True)["ready"] is True
    assert container_status(exited(1, "init"), init=True)["ready"] is False
    assert container_status(running("init"), init=True)["ready"] is False


def old_status(state: Obj, restarts: int = 0, last: Obj | None = None) -> Obj:
    return {"name": "c", "image": "img", "imageID": "sha256:1", "containerID": "x://old", "ready": False,
            "restartCount": restarts, "started": False, "state": state,
            "lastState": {"terminated": last} if last else {}}


RUNNING = {"running": {"startedAt": "2026-01-01T00:00:00Z"}}
TERMINATED = {"terminated": {"exitCode": 143, "reason": "Error", "containerID": "x://old"}}
LOST_WHILE_RUNNING = {"exitCode": 137, "reason": "ContainerStatusUnknown",
                      "message": "The container could not be located when the pod was deleted.  "
                                 "The container used to be Running", "startedAt": None, "finishedAt": None}


@pytest.mark.parametrize(("previous", "deleting", "state", "restarts", "last"), [
    (None, False, {"waiting": {"reason": "ContainerCreating"}}, 0, {}),
    (old_status(TERMINATED, 2), False, TERMINATED, 2, {}),
    (old_status(TERMINATED, 2), True, TERMINATED, 2, {}),
    (old_status(RUNNING, 1), False, {"waiting": {"reason": "ContainerCreating"}}, 2,
     {"terminated": LOST_WHILE_RUNNING}),
    (old_status(RUNNING, 1), True, {"waiting": {"reason": "ContainerCreating"}}, 1,
     {"terminated": LOST_WHILE_RUNNING}),
    (old_status(RUNNING, 1, {"exitCode": 1}), False, {"waiting": {"reason": "ContainerCreating"}}, 1,
     {"terminated": {"exitCode": 1}}),
    (old_status({"waiting": {"reason": "ErrImagePull"}}, 0), False, {"waiting": {"reason": "ContainerCreating"}},
     0, {}),
])
def test_carry_over_for_a_container_the_runtime_does_not_know(previous: Obj | None, deleting: bool, state: Obj,
                                                               restarts: int, last: Obj) -> None:
    out = carry_over(container_status(waiting()), previous, known=False, deleting=deleting)
    assert (out["state"], out["restartCount"], out["lastState"]) == (state, restarts, last)


def test_a_known_container_is_what_the_runtime_says() -> None:
    fresh = container_status(running())
    assert carry_over(fresh, old_status(TERMINATED, 5), known=True, deleting=False) == fresh


@pytest.mark.parametrize(("old", "new", "result"), [
    ("", "Pending", "Pending"),
    ("Pending", "Running", "Running"),
    ("Running", "Pending", "Running"),
    ("Running", "Failed", "Failed"),
    ("Running", "Succeeded", "Succeeded"),
    ("Succeeded", "Pending", "Succeeded"),
    ("Succeeded", "Running", "Succeeded"),
    ("Succeeded", "Failed", "Succeeded"),
    ("Failed", "Pending", "Failed"),
    ("Failed", "Succeeded", "Failed"),
])
def test_a_phase_never_goes_back(old: str, new: str, result: str) -> None:
    assert next_phase(old, new) == result


def statuses(*states: Obj, last: Obj | None = None) -> list[Obj]:
    return [{"name": f"c{i}", "state": s, "lastState": {"terminated": last} if last else {}, "ready": False,
             "started": False} for i, s in enumerate(states)]


WAITING = {"waiting": {"reason": "ContainerCreating"}}
DONE = {"terminated": {"exitCode": 0, "reason": "Completed"}}
KILLED = {"terminated": {"exitCode": 137, "reason": "Error"}}


@pytest.mark.parametrize(("init", "regular", "phase", "want_init", "want_regular", "want_phase"), [
    # no init containers: whatever has not ended is a failure
    ([], [KILLED], "Failed", [], [KILLED], "Failed"),
    ([], [DONE], "Succeeded", [], [DONE], "Succeeded"),
    ([], [WAITING], "Pending", [], [{"terminated": LOST}], "Failed"),
    ([], [DONE, WAITING], "Pending", [], [DONE, {"terminated": LOST}], "Failed"),
    ([], [RUNNING], "Running", [], [{"terminated": LOST}], "Failed"),
    # init containers: regular ones only once the pod initialized
    ([KILLED], [WAITING], "Pending", [KILLED], [WAITING], "Failed"),
    ([DONE, WAITING], [WAITING], "Pending", [DONE, WAITING], [WAITING], "Failed"),
    ([DONE, RUNNING, WAITING], [WAITING], "Pending", [DONE, {"terminated": LOST}, WAITING], [WAITING], "Failed"),
    ([WAITING, WAITING], [WAITING], "Pending", [{"terminated": LOST}, WAITING], [WAITING], "Failed"),
    ([DONE], [WAITING], "Pending", [DONE], [{"terminated": LOST}], "Failed"),
])
def test_terminate_pod(init: list[Obj], regular: list[Obj], phase: str, want_init: list[Obj],
                       want_regular: list[Obj], want_phase: str) -> None:
    spec = {"initContainers": [{"name": f"i{i}"} for i in range(len(init))],
            "containers": [{"name": f"c{i}"} for i in range(len(regular))]}
    got_phase, got_init, got_regular = terminate(spec, phase, statuses(*init), statuses(*regular))
    assert [s["state"] for s in got_init] == want_init
    assert [s["state"] for s in got_regular] == want_regular
    assert got_phase == want_phase
    assert not any(s["ready"] or s["started"] for s in got_regular)


def test_initialized_count_keeps_at_least_the_first() -> None:
    assert initialized_count([]) == 0
    assert initialized_count(statuses(WAITING, WAITING)) == 1
    assert initialized_count(statuses(DONE, RUNNING, WAITING)) == 2
    assert initialized_count(statuses(DONE, WAITING, last=KILLED["terminated"])) == 2


@pytest.mark.parametrize(("policy", "old", "new", "illegal"), [
    ("Never", TERMINATED, WAITING, True),
    ("Never", TERMINATED, RUNNING, True),
    ("Never", TERMINATED, KILLED, False),
    ("Never", RUNNING, WAITING, False),
    ("OnFailure", DONE, WAITING, True),
    ("OnFailure", KILLED, WAITING, False),
    ("Always", DONE, WAITING, False),
])
def test_terminated_containers_stay_terminated(policy: str, old: Obj, new: Obj, illegal: bool) -> None:
    problem = illegal_transition(statuses(old), statuses(new), policy)
    assert bool(problem) is illegal
    if illegal:
        assert problem == "terminated container c0 attempted illegal transition to non-terminated state"


def conditions_of(pod: Obj, regular: list[ContainerRecord], phase: str, init: list[ContainerRecord] | None = None,
                  ) -> dict[str, Obj]:
    found = pod_conditions(pod, [container_status(r, init=True) for r in init or []],
                           [container_status(r) for r in regular], phase, True, "t1")
    return {c["type"]: c for c in found}


POD = {"spec": {}, "status": {"conditions": [{"type": "PodScheduled", "status": "True", "lastTransitionTime": "t0"}]}}


def test_conditions_for_unready_pods() -> None:
    conds = conditions_of(POD, [waiting()], "Pending")
    assert conds["Ready"]["status"] == "False" and conds["Ready"]["reason"] == "ContainersNotReady"
    assert conds["Ready"]["message"] == "containers with unready status: [c]"
    assert conds["PodScheduled"]["lastTransitionTime"] == "t0"
    assert conds["PodReadyToStartContainers"]["status"] == "True"


@pytest.mark.parametrize(("phase", "reason"), [("Succeeded", "PodCompleted"), ("Failed", "PodFailed")])
def test_a_terminal_pod_is_not_ready_with_the_phase_as_reason(phase: str, reason: str) -> None:
    conds = conditions_of(POD, [exited(0 if phase == "Succeeded" else 143)], phase)
    for kind in ("Ready", "ContainersReady"):
        assert (conds[kind]["status"], conds[kind]["reason"]) == ("False", reason)
        assert "message" not in conds[kind]
    assert conds["Initialized"]["status"] == "True"
    if phase == "Succeeded":
        assert conds["Initialized"]["reason"] == "PodCompleted"


def test_initialized_once_init_containers_completed_or_a_regular_one_started() -> None:
    pending = conditions_of(POD, [waiting()], "Pending", [running("init")])["Initialized"]
    assert (pending["status"], pending["message"]) == ("False", "containers with incomplete status: [init]")
    assert conditions_of(POD, [running()], "Running", [exited(0, "init")])["Initialized"]["status"] == "True"
    assert conditions_of(POD, [crash_looping()], "Running", [crash_looping(name="init")])["Initialized"][
        "status"] == "False"


@pytest.mark.parametrize(("gates", "message"), [
    ([], ""),
    ([{"type": "example.com/lb", "status": "False"}],
     'the status of pod readiness gate "example.com/lb" is not "True", but False'),
    (None, 'corresponding condition of pod readiness gate "example.com/lb" does not exist.'),
])
def test_readiness_gates(gates: list[Obj] | None, message: str) -> None:
    pod = {"spec": {"readinessGates": [{"conditionType": "example.com/lb"}]},
           "status": {"conditions": [{"type": "example.com/lb", "status": "True"}] if gates == [] else gates or []}}
    ready = conditions_of(pod, [running()], "Running")["Ready"]
    assert ready["status"] == ("True" if not message else "False")
    if message:
        assert (ready["reason"], ready["message"]) == ("ReadinessGatesNotReady", message)


def deleted_pod(policy: str, phase: str, previous: list[Obj] | None = None) -> Obj:
    return {"metadata": {"deletionTimestamp": "2026-01-01T00:01:00Z"},
            "spec": {"restartPolicy": policy, "containers": [{"name": "c"}]},
            "status": {"phase": phase, "containerStatuses": previous or []}}


@pytest.mark.parametrize(("policy", "record", "phase", "exit_code"), [
    ("Always", exited(143), "Failed", 143),
    ("Always", exited(137), "Failed", 137),
    ("Never", exited(0), "Succeeded", 0),
    ("Always", exited(0), "Succeeded", 0),
    ("OnFailure", crash_looping(1), "Failed", 1),
])
def test_the_terminal_status_of_a_deleted_pod(policy: str, record: ContainerRecord, phase: str,
                                              exit_code: int) -> None:
    status = generate_status(deleted_pod(policy, "Running"), [], [record], terminal=True, sandbox_ready=True,
                             now="t1")
    container = status["containerStatuses"][0]
    assert status["phase"] == phase
    assert container["state"]["terminated"]["exitCode"] == exit_code
    assert (container["ready"], container["started"]) == (False, False)
    conds = {c["type"]: c["status"] for c in status["conditions"]}
    assert conds["Ready"] == conds["ContainersReady"] == conds["PodReadyToStartContainers"] == "False"


def test_a_worker_that_knows_nothing_keeps_the_terminal_status_it_finds() -> None:
    """A pod kept by a finalizer, seen again by a worker with no containers: still Failed."""
    previous = [old_status(TERMINATED)]
    for terminal in (False, True):
        status = generate_status(deleted_pod("Always", "Failed", previous), [], [waiting()], terminal=terminal,
                                 sandbox_ready=False, now="t1")
        assert status["phase"] == "Failed"
        assert status["containerStatuses"][0]["state"] == TERMINATED


def test_a_running_container_lost_by_the_runtime_does_not_make_the_pod_pending() -> None:
    pod = {"metadata": {}, "spec": {"restartPolicy": "Always", "containers": [{"name": "c"}]},
           "status": {"phase": "Running", "containerStatuses": [old_status(RUNNING)]}}
    status = generate_status(pod, [], [waiting()], terminal=False, sandbox_ready=True, now="t1")
    assert status["phase"] == "Running"
    assert status["containerStatuses"][0]["lastState"] == {"terminated": LOST_WHILE_RUNNING}


@pytest.mark.parametrize(("candidate", "held", "older"), [
    ("5", "7", True),
    ("7", "7", False),
    ("9", "7", False),
    ("", "7", False),
    ("opaque", "7", False),
])
def test_a_stale_copy_of_the_pod_does_not_replace_a_newer_one(candidate: str, held: str, older: bool) -> None:
    assert is_older({"metadata": {"resourceVersion": candidate}}, {"metadata": {"resourceVersion": held}}) is older


@pytest.mark.parametrize(("path", "expected"), [
    ("metadata.name", "web-0"),
    ("metadata.namespace", "prod"),
    ("metadata.uid", "u-1"),
    ("metadata.labels['app']", "web"),
    ("metadata.labels['missing']", ""),
    ("metadata.annotations['batch.kubernetes.io/job-completion-index']", "2"),
    ("spec.nodeName", "node1"),
    ("spec.serviceAccountName", "default"),
    ("status.podIP", "10.244.1.5"),
    ("status.hostIP", "10.88.1.101"),
    ("spec.unknownField", None),
])
def test_downward_api_field_refs(path: str, expected: str | None) -> None:
    pod = {"metadata": {"name": "web-0", "namespace": "prod", "uid": "u-1", "labels": {"app": "web"},
                        "annotations": {"batch.kubernetes.io/job-completion-index": "2"}},
           "spec": {"serviceAccountName": "default"}}
    assert field_ref_value(pod, path, "node1", "10.88.1.101", "10.244.1.5") == expected
