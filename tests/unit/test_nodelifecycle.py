"""Condition → taint mapping and toleration arithmetic of the node lifecycle controller."""

from __future__ import annotations

import pytest

from apimachinery.scheduling import tolerates
from controllers.nodelifecycle import desired_taints, eviction_delay


def node(ready: str | None = "True", unschedulable: bool = False, **pressure: str) -> dict:
    conditions = [{"type": "Ready", "status": ready}] if ready else []
    conditions += [{"type": k, "status": v} for k, v in pressure.items()]
    return {"metadata": {"name": "n"}, "spec": {"unschedulable": unschedulable}, "status": {"conditions": conditions}}


@pytest.mark.parametrize(("obj", "expected"), [
    (node("True"), []),
    (node("False"), [("node.kubernetes.io/not-ready", "NoExecute"), ("node.kubernetes.io/not-ready", "NoSchedule")]),
    (node("Unknown"), [("node.kubernetes.io/unreachable", "NoExecute"),
                       ("node.kubernetes.io/unreachable", "NoSchedule")]),
    (node("True", MemoryPressure="True"), [("node.kubernetes.io/memory-pressure", "NoSchedule")]),
    (node("True", unschedulable=True), [("node.kubernetes.io/unschedulable", "NoSchedule")]),
])
def test_desired_taints(obj: dict, expected: list) -> None:
    assert desired_taints(obj) == expected


TAINT = {"key": "node.kubernetes.io/unreachable", "effect": "NoExecute"}


@pytest.mark.parametrize(("toleration", "result"), [
    ({"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"}, True),
    ({"key": "node.kubernetes.io/unreachable", "operator": "Exists"}, True),
    ({"operator": "Exists"}, True),
    ({"key": "node.kubernetes.io/not-ready", "operator": "Exists"}, False),
    ({"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoSchedule"}, False),
    ({"key": "node.kubernetes.io/unreachable", "value": "x"}, False),
])
def test_tolerates(toleration: dict, result: bool) -> None:
    assert tolerates(toleration, TAINT) is result


@pytest.mark.parametrize(("tolerations", "delay"), [
    ([], 0.0),
    ([{"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute",
       "tolerationSeconds": 300}], 300.0),
    ([{"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"}], None),
    ([{"operator": "Exists", "tolerationSeconds": 5},
      {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "tolerationSeconds": 30}], 5.0),
])
def test_eviction_delay(tolerations: list, delay: float | None) -> None:
    assert eviction_delay({"spec": {"tolerations": tolerations}}, [TAINT]) == delay
