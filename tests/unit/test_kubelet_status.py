"""getPhase and container status shapes (semantics.md §5.2–§5.3), table-driven."""

from __future__ import annotations

import pytest

from kubelet.podworker import field_ref_value
from kubelet.runtime.interface import ContainerStatus
from kubelet.status import ContainerRecord, container_status, pod_conditions, pod_phase


def running(name: str = "c") -> ContainerRecord:
    return ContainerRecord(name, "img", ContainerStatus("x://1", name, "running", started_at="2026-01-01T00:00:00Z"),
                           waiting_reason="", ready=True, started=True)


def exited(code: int, name: str = "c") -> ContainerRecord:
    return ContainerRecord(name, "img", ContainerStatus("x://1", name, "exited", code, "Completed" if code == 0
                                                        else "Error", "2026-01-01T00:00:00Z",
                                                        "2026-01-01T00:00:01Z"), waiting_reason="")


def waiting(reason: str = "ContainerCreating", name: str = "c") -> ContainerRecord:
    return ContainerRecord(name, "img", None, waiting_reason=reason)


def crash_looping(name: str = "c") -> ContainerRecord:
    record = exited(1, name)
    record.waiting_reason = "CrashLoopBackOff"
    record.last_terminated = {"exitCode": 1, "reason": "Error"}
    return record


@pytest.mark.parametrize(("policy", "init", "regular", "terminal", "phase"), [
    ("Always", [], [waiting()], False, "Pending"),
    ("Always", [], [running()], False, "Running"),
    ("Always", [], [running(), waiting(name="d")], False, "Pending"),
    ("Never", [], [exited(0)], False, "Succeeded"),
    ("Never", [], [exited(3)], False, "Failed"),
    ("OnFailure", [], [exited(3)], False, "Running"),
    ("OnFailure", [], [exited(0)], False, "Succeeded"),
    ("Always", [], [exited(0)], False, "Running"),
    ("Always", [], [exited(0)], True, "Succeeded"),
    ("Always", [], [exited(1)], True, "Failed"),
    ("Always", [], [crash_looping()], False, "Running"),
    ("Always", [waiting(name="init")], [waiting()], False, "Pending"),
    ("Never", [exited(1, "init")], [waiting()], False, "Failed"),
])
def test_pod_phase(policy: str, init: list, regular: list, terminal: bool, phase: str) -> None:
    assert pod_phase({"restartPolicy": policy}, init, regular, terminal) == phase


def test_container_status_shapes() -> None:
    status = container_status(running())
    assert status["state"] == {"running": {"startedAt": "2026-01-01T00:00:00Z"}}
    assert status["ready"] and status["restartCount"] == 0 and status["containerID"] == "x://1"
    done = container_status(exited(2))["state"]["terminated"]
    assert (done["exitCode"], done["reason"]) == (2, "Error")
    loop = container_status(crash_looping())
    assert loop["state"] == {"waiting": {"reason": "CrashLoopBackOff"}}
    assert loop["lastState"] == {"terminated": {"exitCode": 1, "reason": "Error"}}
    pending = container_status(waiting())
    assert pending["state"] == {"waiting": {"reason": "ContainerCreating"}} and pending["imageID"] == ""


def test_conditions_for_unready_and_completed_pods() -> None:
    pod = {"spec": {}, "status": {"conditions": [{"type": "PodScheduled", "status": "True",
                                                  "lastTransitionTime": "t0"}]}}
    not_ready = waiting()
    conds = {c["type"]: c for c in pod_conditions(pod, [], [not_ready], "Pending", True, "t1")}
    assert conds["Ready"]["status"] == "False" and conds["Ready"]["reason"] == "ContainersNotReady"
    assert conds["Ready"]["message"] == "containers with unready status: [c]"
    assert conds["PodScheduled"]["lastTransitionTime"] == "t0"
    done = {c["type"]: c for c in pod_conditions(pod, [], [exited(0)], "Succeeded", True, "t1")}
    assert done["Ready"]["reason"] == "PodCompleted" and done["Initialized"]["status"] == "True"


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
