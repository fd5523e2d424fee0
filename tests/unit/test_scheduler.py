"""Scheduler plugins (table-driven), node sampling, FitError messages, and the queue's
backoff with a fake clock."""

from __future__ import annotations

from typing import Any

import pytest

from scheduler.algorithm import Profile, fit_error_message, num_feasible_nodes_to_find
from scheduler.framework import CycleState, NodeInfo, pod_requests
from scheduler.plugins import (
    NodeAffinity,
    NodeName,
    NodePorts,
    NodeReady,
    NodeResourcesBalancedAllocation,
    NodeResourcesFit,
    NodeUnschedulable,
    TaintToleration,
)
from scheduler.queue import SchedulingQueue


def node(name: str, cpu: str = "4", memory: str = "8Gi", pods: int = 110, labels: dict | None = None,
         taints: list | None = None, unschedulable: bool = False, ready: str = "True") -> NodeInfo:
    return NodeInfo({"metadata": {"name": name, "uid": f"uid-{name}", "labels": labels or {}},
                     "spec": {"taints": taints or [], "unschedulable": unschedulable},
                     "status": {"allocatable": {"cpu": cpu, "memory": memory, "pods": str(pods)},
                                "conditions": [{"type": "Ready", "status": ready}]}})


def pod(name: str = "p", cpu: str | None = None, memory: str | None = None, **spec: Any) -> dict:
    requests = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v}
    container: dict[str, Any] = {"name": "c", "image": "i", "resources": {"requests": requests} if requests else {}}
    if "ports" in spec:
        container["ports"] = spec.pop("ports")
    return {"metadata": {"name": name, "namespace": "default", "uid": f"uid-{name}"},
            "spec": {"containers": [container], **spec}}


def check(plugin, p: dict, n: NodeInfo) -> list[str]:  # noqa: ANN001 - any filter plugin
    state = CycleState(p)
    plugin.pre_filter(state, [n])
    return plugin.filter(state, n)


@pytest.mark.parametrize(("p", "n", "reasons"), [
    (pod(cpu="1"), node("a", cpu="2"), []),
    (pod(cpu="3"), node("a", cpu="2"), ["Insufficient cpu"]),
    (pod(cpu="3", memory="16Gi"), node("a", cpu="2"), ["Insufficient cpu", "Insufficient memory"]),
    (pod(), node("a", pods=0), ["Too many pods"]),
])
def test_node_resources_fit(p: dict, n: NodeInfo, reasons: list[str]) -> None:
    assert check(NodeResourcesFit(), p, n) == reasons


def test_resources_count_assumed_and_existing_pods() -> None:
    n = node("a", cpu="2")
    n.add_pod(pod("x", cpu="1500m"))
    assert check(NodeResourcesFit(), pod(cpu="600m"), n) == ["Insufficient cpu"]
    n.remove_pod(pod("x", cpu="1500m"))
    assert check(NodeResourcesFit(), pod(cpu="600m"), n) == []


def test_init_containers_max_rule() -> None:
    p = pod(cpu="100m")
    p["spec"]["initContainers"] = [{"name": "i", "image": "i", "resources": {"requests": {"cpu": "1"}}}]
    assert pod_requests(p).milli_cpu == 1000


@pytest.mark.parametrize(("p", "n", "reasons"), [
    (pod(), node("a", taints=[{"key": "k", "effect": "NoSchedule"}]), ["node(s) had untolerated taint(s)"]),
    (pod(tolerations=[{"key": "k", "operator": "Exists"}]), node("a", taints=[{"key": "k", "effect": "NoSchedule"}]), []),
    (pod(), node("a", taints=[{"key": "k", "effect": "PreferNoSchedule"}]), []),
])
def test_taint_toleration(p: dict, n: NodeInfo, reasons: list[str]) -> None:
    assert check(TaintToleration(), p, n) == reasons


@pytest.mark.parametrize(("p", "n", "reasons"), [
    (pod(nodeSelector={"disk": "ssd"}), node("a", labels={"disk": "ssd"}), []),
    (pod(nodeSelector={"disk": "ssd"}), node("a", labels={"disk": "hdd"}),
     ["node(s) didn't match Pod's node affinity/selector"]),
    (pod(affinity={"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a", "b"]}]}]}}}),
     node("a", labels={"zone": "b"}), []),
    (pod(affinity={"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": "zone", "operator": "NotIn", "values": ["b"]}]}]}}}),
     node("a", labels={"zone": "b"}), ["node(s) didn't match Pod's node affinity/selector"]),
])
def test_node_affinity(p: dict, n: NodeInfo, reasons: list[str]) -> None:
    assert check(NodeAffinity(), p, n) == reasons


def test_simple_filters() -> None:
    assert check(NodeUnschedulable(), pod(), node("a", unschedulable=True)) == ["node(s) were unschedulable"]
    assert check(NodeName(), pod(nodeName="b"), node("a")) == ["node(s) didn't match the requested node name"]
    assert check(NodeReady(), pod(), node("a", ready="False")) == ["node(s) were not ready"]
    n = node("a")
    n.add_pod(pod("web", ports=[{"containerPort": 80, "hostPort": 8080}]))
    assert check(NodePorts(), pod(ports=[{"containerPort": 80, "hostPort": 8080}]), n) == \
        ["node(s) didn't have free ports for the requested pod ports"]


def test_least_allocated_prefers_the_emptier_node() -> None:
    busy, idle = node("busy"), node("idle")
    busy.add_pod(pod("x", cpu="3", memory="6Gi"))
    decision = Profile.default().schedule(pod(cpu="500m", memory="512Mi"), [busy, idle])
    assert decision.node == "idle"


def test_balanced_allocation_score() -> None:
    state = CycleState(pod(cpu="1", memory="1Gi"))
    plugin = NodeResourcesBalancedAllocation()
    plugin.pre_filter(state, [])
    balanced = plugin.score(state, node("a", cpu="4", memory="4Gi"))
    skewed = plugin.score(state, node("b", cpu="4", memory="64Gi"))
    assert balanced > skewed


@pytest.mark.parametrize(("total", "expected"), [(50, 50), (100, 100), (500, 230), (1000, 420), (5000, 500),
                                                 (6000, 300)])
def test_num_feasible_nodes(total: int, expected: int) -> None:
    assert num_feasible_nodes_to_find(total) == expected


def test_fit_error_message_format() -> None:
    diagnosis = {"a": ["Insufficient cpu"], "b": ["node(s) didn't match Pod's node affinity/selector"],
                 "c": ["node(s) didn't match Pod's node affinity/selector"]}
    assert fit_error_message(3, diagnosis) == \
        "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't match Pod's node affinity/selector."


def test_unschedulable_pod_reports_every_node() -> None:
    decision = Profile.default().schedule(pod(cpu="64"), [node("a"), node("b")])
    assert decision.node is None
    assert fit_error_message(2, decision.diagnosis) == "0/2 nodes are available: 2 Insufficient cpu."


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_queue_priority_then_fifo() -> None:
    clock = FakeClock()
    queue = SchedulingQueue(clock=clock)
    queue.add(pod("low"))
    clock.now += 1
    queue.add(pod("high", priority=10))
    clock.now += 1
    queue.add(pod("low2"))
    assert [queue.pop_nowait()["metadata"]["name"] for _ in range(3)] == ["high", "low", "low2"]


def test_queue_backoff_doubles_to_ten_seconds() -> None:
    clock = FakeClock()
    queue = SchedulingQueue(clock=clock)
    assert [queue.backoff_duration(a) for a in (1, 2, 3, 4, 5, 6)] == [1, 2, 4, 8, 10, 10]
    queue.add(pod("p"))
    popped = queue.pop_nowait()
    queue.error(popped)
    assert queue.pop_nowait() is None
    clock.now += 1.0
    assert queue.pop_nowait()["metadata"]["name"] == "p"


def test_unschedulable_waits_for_a_cluster_event_or_five_minutes() -> None:
    clock = FakeClock()
    queue = SchedulingQueue(clock=clock)
    queue.add(pod("p"))
    queue.unschedulable(queue.pop_nowait())
    clock.now += 60
    assert queue.pop_nowait() is None
    queue.move_all_to_active_or_backoff()
    again = queue.pop_nowait()
    assert again["metadata"]["name"] == "p"
    queue.unschedulable(again)
    clock.now += 301
    assert queue.pop_nowait()["metadata"]["name"] == "p"


def test_event_during_cycle_sends_pod_to_backoff_not_limbo() -> None:
    clock = FakeClock()
    queue = SchedulingQueue(clock=clock)
    queue.add(pod("p"))
    popped = queue.pop_nowait()
    queue.move_all_to_active_or_backoff()  # e.g. a node was added while we were deciding
    queue.unschedulable(popped)
    clock.now += 1.0
    assert queue.pop_nowait()["metadata"]["name"] == "p"


def test_config_file_disables_and_weighs_plugins(tmp_path) -> None:  # noqa: ANN001 - pytest's tmp_path
    from scheduler.config import ConfigError, load_config

    path = tmp_path / "sched.yaml"
    path.write_text(
        "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n"
        "profiles:\n- schedulerName: custom\n  plugins:\n"
        "    filter: {disabled: [{name: NodeResourcesFit}]}\n"
        "    score: {enabled: [{name: NodeResourcesBalancedAllocation, weight: 7}]}\n")
    config = load_config(path)
    assert config.scheduler_name == "custom"
    assert "NodeResourcesFit" not in [p.name for p in config.profile.filters]
    assert dict((p.name, w) for p, w in config.profile.scores)["NodeResourcesBalancedAllocation"] == 7
    decision = config.profile.schedule(pod(cpu="64"), [node("a", cpu="1")])
    assert decision.node == "a", "with the fit filter disabled the oversized pod is placed"
    path.write_text("extraPlugins: ['nowhere:Nothing']\n")
    with pytest.raises(ConfigError, match="cannot load"):
        load_config(path)


# ---- PreFilter/PreScore skips: plugins that cannot change the outcome are left out ----

def _skip_pod(**spec: object) -> dict:
    return {"metadata": {"name": "p", "namespace": "d", "ownerReferences": spec.pop("owners", [])},
            "spec": {"containers": [{"name": "c", "image": "i", "ports": spec.pop("ports", [])}], **spec}}


@pytest.mark.parametrize(("plugin", "pod", "skips_filter", "skips_score"), [
    ("NodeName", _skip_pod(), True, None),
    ("NodeName", _skip_pod(nodeName="n1"), False, None),
    ("NodeAffinity", _skip_pod(), True, True),
    ("NodeAffinity", _skip_pod(nodeSelector={"disk": "ssd"}), False, True),
    ("NodeAffinity", _skip_pod(affinity={"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": 1, "preference": {"matchExpressions": [{"key": "a", "operator": "Exists"}]}}]}}), True, False),
    ("NodePorts", _skip_pod(), True, None),
    ("NodePorts", _skip_pod(ports=[{"containerPort": 80, "hostPort": 8080}]), False, None),
    ("PodTopologySpread", _skip_pod(), None, True),
    ("PodTopologySpread", _skip_pod(owners=[{"uid": "rs-1", "controller": True}]), None, False),
])
def test_plugins_skip_when_the_pod_cannot_be_affected(plugin: str, pod: dict, skips_filter: bool | None,
                                                      skips_score: bool | None) -> None:
    from scheduler.framework import CycleState
    from scheduler.plugins import ALL_PLUGINS

    instance = ALL_PLUGINS[plugin]()
    state = CycleState(pod)
    instance.pre_filter(state, [])
    if skips_filter is not None:
        assert instance.skip_filter(state) is skips_filter
    if skips_score is not None:
        assert instance.skip_score(state) is skips_score


def test_owner_counts_follow_pods_added_and_removed() -> None:
    from scheduler.framework import NodeInfo

    info = NodeInfo({"metadata": {"name": "n1"}, "status": {"allocatable": {"cpu": "4", "memory": "8Gi", "pods": "10"}}})
    owned = [_skip_pod(owners=[{"uid": "rs-1", "controller": True}]) for _ in range(2)]
    for i, p in enumerate(owned):
        p["metadata"]["name"] = f"p{i}"
        info.add_pod(p)
    info.add_pod({**_skip_pod(), "metadata": {"name": "loose", "namespace": "d"}})
    assert info.owner_counts == {"rs-1": 2}
    info.remove_pod(owned[0])
    assert info.owner_counts == {"rs-1": 1}
    info.remove_pod(owned[1])
    assert info.owner_counts == {}
