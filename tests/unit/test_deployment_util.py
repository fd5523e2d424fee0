"""Table-driven checks of the Deployment arithmetic against semantics.md §2."""

from __future__ import annotations

from typing import Any

import pytest

from controllers.deployment import util


def deployment(replicas: int, surge: Any = "25%", unavailable: Any = "25%", strategy: str = "RollingUpdate") -> dict:
    spec: dict[str, Any] = {"replicas": replicas, "strategy": {"type": strategy}}
    if strategy == "RollingUpdate":
        spec["strategy"]["rollingUpdate"] = {"maxSurge": surge, "maxUnavailable": unavailable}
    return {"metadata": {"name": "d", "generation": 1, "uid": "d-uid"}, "spec": spec, "status": {}}


def rs(name: str, replicas: int, created: str = "2026-01-01T00:00:00Z", available: int = 0,
       annotations: dict[str, str] | None = None, template: dict | None = None) -> dict:
    return {"metadata": {"name": name, "uid": f"{name}-uid", "creationTimestamp": created,
                         "annotations": dict(annotations or {})},
            "spec": {"replicas": replicas, "template": template or {}},
            "status": {"replicas": replicas, "availableReplicas": available}}


@pytest.mark.parametrize(("replicas", "surge", "unavailable"), [(1, 1, 0), (3, 1, 0), (4, 1, 1), (10, 3, 2)])
def test_fenceposts_from_the_reference_table(replicas: int, surge: int, unavailable: int) -> None:
    d = deployment(replicas)
    assert util.max_surge(d) == surge
    assert util.max_unavailable(d) == unavailable


@pytest.mark.parametrize(("surge", "unavailable", "replicas", "expected"), [
    (0, 0, 5, (0, 1)),          # both zero: maxUnavailable becomes 1
    ("0%", "0%", 5, (0, 1)),
    (2, "50%", 5, (2, 2)),      # unavailable rounds down
    ("30%", 0, 5, (2, 0)),      # surge rounds up
])
def test_resolve_fenceposts(surge: Any, unavailable: Any, replicas: int, expected: tuple[int, int]) -> None:
    assert util.resolve_fenceposts(surge, unavailable, replicas) == expected


def test_max_unavailable_is_zero_for_recreate_and_zero_replicas() -> None:
    assert util.max_unavailable(deployment(0)) == 0
    assert util.max_unavailable(deployment(4, strategy="Recreate")) == 0
    assert util.max_surge(deployment(4, strategy="Recreate")) == 0


def test_new_rs_first_step_of_the_worked_example() -> None:
    """replicas 10, 25%/25%: the new ReplicaSet starts at 3 (maxTotal 13, current 10)."""
    d = deployment(10)
    old = rs("old", 10, available=10)
    assert util.new_rs_new_replicas(d, [old], None) == 3


def test_template_equality_ignores_hash_and_nulls() -> None:
    a = {"metadata": {"labels": {"app": "x", "pod-template-hash": "abc"}, "creationTimestamp": None},
         "spec": {"containers": [{"name": "c", "image": "i", "env": []}]}}
    b = {"metadata": {"labels": {"app": "x"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}
    assert util.equal_ignore_hash(a, b)
    b["spec"]["containers"][0]["image"] = "j"
    assert not util.equal_ignore_hash(a, b)


def test_find_new_rs_prefers_the_oldest_match() -> None:
    template = {"metadata": {"labels": {"app": "x"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}
    d = deployment(1)
    d["spec"]["template"] = template
    newer = rs("newer", 1, created="2026-01-02T00:00:00Z", template=template)
    older = rs("older", 1, created="2026-01-01T00:00:00Z", template=template)
    assert util.find_new_rs(d, [newer, older])["metadata"]["name"] == "older"


def test_revision_is_raised_never_lowered_and_history_recorded() -> None:
    d = deployment(1)
    d["metadata"]["annotations"] = {"kubernetes.io/change-cause": "v1", util.LAST_APPLIED: "{}"}
    revived = rs("a", 0, annotations={util.REVISION: "1"})
    assert util.set_new_rs_annotations(d, revived, 3, exists=True)
    ann = revived["metadata"]["annotations"]
    assert ann[util.REVISION] == "3" and ann[util.REVISION_HISTORY] == "1"
    assert ann["kubernetes.io/change-cause"] == "v1" and util.LAST_APPLIED not in ann
    assert not util.set_new_rs_annotations(d, revived, 2, exists=True)
    assert revived["metadata"]["annotations"][util.REVISION] == "3"


def test_proportional_scaling_example_from_the_docs() -> None:
    """old 8 + new 5 = 13 with maxSurge 3; replicas 10 → 15: old +3, new +2."""
    d = deployment(15, surge=3, unavailable=2)
    d["status"] = {"replicas": 13}
    old = rs("old", 8, annotations={util.MAX_REPLICAS: "13"})
    new = rs("new", 5, annotations={util.MAX_REPLICAS: "13"})
    assert util.proportion(old, d, 5, 0) == 3
    assert util.proportion(new, d, 5, 3) == 2


@pytest.mark.parametrize(("status", "complete"), [
    ({"updatedReplicas": 3, "replicas": 3, "availableReplicas": 3, "observedGeneration": 1}, True),
    ({"updatedReplicas": 3, "replicas": 4, "availableReplicas": 3, "observedGeneration": 1}, False),
    ({"updatedReplicas": 3, "replicas": 3, "availableReplicas": 2, "observedGeneration": 1}, False),
    ({"updatedReplicas": 3, "replicas": 3, "availableReplicas": 3, "observedGeneration": 0}, False),
])
def test_deployment_complete(status: dict, complete: bool) -> None:
    assert util.deployment_complete(deployment(3), status) is complete


def test_condition_keeps_transition_time_when_status_unchanged() -> None:
    status: dict = {}
    first = util.new_condition("Available", "True", "A", "m")
    first["lastTransitionTime"] = "2020-01-01T00:00:00Z"
    util.set_condition(status, first)
    util.set_condition(status, util.new_condition("Available", "True", "B", "m2"))
    assert status["conditions"][0]["reason"] == "B"
    assert status["conditions"][0]["lastTransitionTime"] == "2020-01-01T00:00:00Z"


def test_scaling_event_detection() -> None:
    d = deployment(5)
    assert util.has_scaling_event(d, [rs("a", 3, annotations={util.DESIRED_REPLICAS: "3"})])
    assert not util.has_scaling_event(d, [rs("a", 3, annotations={util.DESIRED_REPLICAS: "5"})])
