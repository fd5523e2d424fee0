"""The default filter and score plugins, with Kubernetes' reason strings and weights.

Each plugin is a few lines behind the framework's interface; `DEFAULT_FILTERS` and
`DEFAULT_SCORES` list them in the order and with the weights kube-scheduler uses
(semantics.md §7.2). Users add a plugin by subclassing and naming it in the config.
"""

from __future__ import annotations

from typing import ClassVar

from apimachinery.scheduling import preferred_affinity_score, required_affinity_matches, untolerated
from scheduler.framework import (
    MAX_NODE_SCORE,
    CycleState,
    FilterPlugin,
    NodeInfo,
    Obj,
    ScorePlugin,
    pod_host_ports,
    pod_non_zero_requests,
    pod_requests,
)

UNSCHEDULABLE_TAINT = {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}


class NodeUnschedulable(FilterPlugin):
    name = "NodeUnschedulable"

    def filter(self, state: CycleState, node: NodeInfo) -> list[str]:
        if not (node.node.get("spec") or {}).get("unschedulable"):
            return []
        tolerations = (state.pod.get("spec") or {}).get("tolerations") or []
        if untolerated([UNSCHEDULABLE_TAINT], tolerations, ("NoSchedule",)):
            return ["node(s) were unschedulable"]
        return []


class NodeName(FilterPlugin):
    name = "NodeName"

    def filter(self, state: CycleState, node: NodeInfo) -> list[str]:
        wanted = (state.pod.get("spec") or {}).get("nodeName")
        return ["node(s) didn't match the requested node name"] if wanted and wanted != node.name else []


class NodeReady(FilterPlugin):
    """Nodes whose Ready condition is not True get no new pods (the not-ready and
    unreachable taints say the same once the node lifecycle controller adds them)."""

    name = "NodeReady"

    def filter(self, state: CycleState, node: NodeInfo) -> list[str]:
        for condition in (node.node.get("status") or {}).get("conditions") or []:
            if condition.get("type") == "Ready":
                return [] if condition.get("status") == "True" else ["node(s) were not ready"]
        return ["node(s) were not ready"]


class TaintToleration(FilterPlugin, ScorePlugin):
    name = "TaintToleration"
    default_weight: ClassVar[int] = 3

    def filter(self, state: CycleState, node: NodeInfo) -> list[str]:
        taints = (node.node.get("spec") or {}).get("taints") or []
        tolerations = (state.pod.get("spec") or {}).get("tolerations") or []
        return ["node(s) had untolerated taint(s)"] if untolerated(taints, tolerations, ("NoSchedule", "NoExecute")) \
            else []

    def score(self, state: CycleState, node: NodeInfo) -> float:
        taints = (node.node.get("spec") or {}).get("taints") or []
        tolerations = [t for t in (state.pod.get("spec") or {}).get("tolerations") or []
                       if not t.get("effect") or t.get("effect") == "PreferNoSchedule"]
        return float(len(untolerated(taints, tolerations, ("PreferNoSchedule",))))

    def normalize(self, state: CycleState, scores: dict[str, float]) -> dict[str, float]:
        """Fewer intolerable PreferNoSchedule taints score higher (reverse normalisation)."""
        worst = max(scores.values(), default=0)
        if worst == 0:
            return {k: float(MAX_NODE_SCORE) for k in scores}
        return {k: MAX_NODE_SCORE - v * MAX_NODE_SCORE / worst for k, v in scores.items()}


class NodeAffinity(FilterPlugin, ScorePlugin):
    name = "NodeAffinity"
    default_weight: ClassVar[int] = 2

    def filter(self, state: CycleState, node: NodeInfo) -> list[str]:
        return [] if required_affinity_matches(state.pod, node.node) else \
            ["node(s) didn't match Pod's node affinity/selector"]

    def score(self, state: CycleState, node: NodeInfo) -> float:
        return float(preferred_affinity_score(state.pod, node.node))

    def normalize(self, state: CycleState, scores: dict[str, float]) -> dict[str, float]:
        best = max(scores.values(), default=0)
        return {k: (v * MAX_NODE_SCORE / best if best else 0.0) for k, v in scores.items()}


class NodePorts(FilterPlugin):
    name = "NodePorts"

    def pre_filter(self, state: CycleState, nodes: list[NodeInfo]) -> None:
        state.data["ports"] = pod_host_ports(state.pod)

    def filter(self, state: CycleState, node: NodeInfo) -> list[str]:
        for ip, protocol, port in state.data.get("ports") or []:
            for used_ip, used_protocol, used_port in node.used_ports:
                if used_port == port and used_protocol == protocol and \
                        (ip == used_ip or "0.0.0.0" in (ip, used_ip)):
                    return ["node(s) didn't have free ports for the requested pod ports"]
        return []


class NodeResourcesFit(FilterPlugin, ScorePlugin):
    """Filter: requests within allocatable. Score: LeastAllocated over cpu and memory."""

    name = "NodeResourcesFit"
    default_weight: ClassVar[int] = 1

    def pre_filter(self, state: CycleState, nodes: list[NodeInfo]) -> None:
        state.data["requests"] = pod_requests(state.pod)
        state.data["non_zero"] = pod_non_zero_requests(state.pod)

    def filter(self, state: CycleState, node: NodeInfo) -> list[str]:
        want = state.data["requests"]
        have, used = node.allocatable, node.requested
        reasons = []
        if used.pods + 1 > have.pods:
            reasons.append("Too many pods")
        if want.milli_cpu and used.milli_cpu + want.milli_cpu > have.milli_cpu:
            reasons.append("Insufficient cpu")
        if want.memory and used.memory + want.memory > have.memory:
            reasons.append("Insufficient memory")
        if want.ephemeral_storage and used.ephemeral_storage + want.ephemeral_storage > have.ephemeral_storage:
            reasons.append("Insufficient ephemeral-storage")
        return reasons

    def score(self, state: CycleState, node: NodeInfo) -> float:
        cpu, memory = state.data["non_zero"]
        parts = []
        for requested, allocatable in ((node.non_zero_cpu + cpu, node.allocatable.milli_cpu),
                                       (node.non_zero_memory + memory, node.allocatable.memory)):
            if allocatable <= 0 or requested > allocatable:
                parts.append(0.0)
            else:
                parts.append((allocatable - requested) * MAX_NODE_SCORE / allocatable)
        return sum(parts) / len(parts)


class NodeResourcesBalancedAllocation(ScorePlugin):
    name = "NodeResourcesBalancedAllocation"
    default_weight: ClassVar[int] = 1

    def pre_filter(self, state: CycleState, nodes: list[NodeInfo]) -> None:
        state.data.setdefault("non_zero", pod_non_zero_requests(state.pod))

    def score(self, state: CycleState, node: NodeInfo) -> float:
        cpu, memory = state.data["non_zero"]
        fractions = []
        for requested, allocatable in ((node.non_zero_cpu + cpu, node.allocatable.milli_cpu),
                                       (node.non_zero_memory + memory, node.allocatable.memory)):
            fractions.append(min(1.0, requested / allocatable) if allocatable > 0 else 1.0)
        std = abs(fractions[0] - fractions[1]) / 2
        return (1 - std) * MAX_NODE_SCORE


class DefaultSpread(ScorePlugin):
    """Spread a controller's pods over nodes: fewer pods of the same owner score higher
    (the hostname part of PodTopologySpread's system defaults)."""

    name = "PodTopologySpread"
    default_weight: ClassVar[int] = 2

    def pre_filter(self, state: CycleState, nodes: list[NodeInfo]) -> None:
        owner = _controller_uid(state.pod)
        state.data["owner"] = owner

    def score(self, state: CycleState, node: NodeInfo) -> float:
        owner = state.data.get("owner")
        if not owner:
            return 0.0
        return float(sum(1 for p in node.pods.values() if _controller_uid(p) == owner))

    def normalize(self, state: CycleState, scores: dict[str, float]) -> dict[str, float]:
        worst = max(scores.values(), default=0)
        if worst == 0:
            return {k: float(MAX_NODE_SCORE) for k in scores}
        return {k: MAX_NODE_SCORE * (worst - v) / worst for k, v in scores.items()}


def _controller_uid(pod: Obj) -> str:
    for ref in pod["metadata"].get("ownerReferences") or []:
        if ref.get("controller"):
            return ref.get("uid", "")
    return ""


ALL_PLUGINS: dict[str, type] = {cls.name: cls for cls in (
    NodeUnschedulable, NodeName, NodeReady, TaintToleration, NodeAffinity, NodePorts, NodeResourcesFit,
    NodeResourcesBalancedAllocation, DefaultSpread)}
DEFAULT_FILTERS = ["NodeUnschedulable", "NodeName", "NodeReady", "TaintToleration", "NodeAffinity", "NodePorts",
                   "NodeResourcesFit"]
DEFAULT_SCORES = {"TaintToleration": 3, "NodeAffinity": 2, "NodeResourcesFit": 1, "PodTopologySpread": 2,
                  "NodeResourcesBalancedAllocation": 1}
