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
    ScorePlugin,
    controller_uid,
    pod_host_ports,
    pod_non_zero_requests,
    pod_requests,
)

UNSCHEDULABLE_TAINT = {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}


class NodeUnschedulable(FilterPlugin):
    name = "NodeUnschedulable"

    def filter(self, state: CycleState, node: NodeInfo) -> list[str]:
        if not node.unschedulable:
            return []
        tolerations = (state.pod.get("spec") or {}).get("tolerations") or []
        if untolerated([UNSCHEDULABLE_TAINT], tolerations, ("NoSchedule",)):
            return ["node(s) were unschedulable"]
        return []


class NodeName(FilterPlugin):
    name = "NodeName"

    def skip_filter(self, state: CycleState) -> bool:
        return not (state.pod.get("spec") or {}).get("nodeName")

    def filter(self, state: CycleState, node: NodeInfo) -> list[str]:
        wanted = (state.pod.get("spec") or {}).get("nodeName")
        return ["node(s) didn't match the requested node name"] if wanted and wanted != node.name else []


class NodeReady(FilterPlugin):
    """Nodes whose Ready condition is not True get no new pods (the not-ready and
    unreachable taints say the same once the node lifecycle controller adds them)."""

    name = "NodeReady"

    def filter(self, state: CycleState, node: NodeInfo) -> list[str]:
        return [] if node.ready else ["node(s) were not ready"]


class TaintToleration(FilterPlugin, ScorePlugin):
    name = "TaintToleration"
    default_weight: ClassVar[int] = 3

    def filter(self, state: CycleState, node: NodeInfo) -> list[str]:
        if not node.taints:
            return []
        tolerations = (state.pod.get("spec") or {}).get("tolerations") or []
        return ["node(s) had untolerated taint(s)"] if untolerated(node.taints, tolerations, ("NoSchedule", "NoExecute")) \
            else []

    def score(self, state: CycleState, node: NodeInfo) -> float:
        taints = node.taints
        if not taints:
            return 0.0
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

    def skip_filter(self, state: CycleState) -> bool:
        spec = state.pod.get("spec") or {}
        node_affinity = (spec.get("affinity") or {}).get("nodeAffinity") or {}
        return not spec.get("nodeSelector") and not node_affinity.get("requiredDuringSchedulingIgnoredDuringExecution")

    def skip_score(self, state: CycleState) -> bool:
        node_affinity = ((state.pod.get("spec") or {}).get("affinity") or {}).get("nodeAffinity") or {}
        return not node_affinity.get("preferredDuringSchedulingIgnoredDuringExecution")

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

    def skip_filter(self, state: CycleState) -> bool:
        return not state.data.get("ports")

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
        return (_least_allocated(node.non_zero_cpu + cpu, node.allocatable.milli_cpu)
                + _least_allocated(node.non_zero_memory + memory, node.allocatable.memory)) / 2


class NodeResourcesBalancedAllocation(ScorePlugin):
    name = "NodeResourcesBalancedAllocation"
    default_weight: ClassVar[int] = 1

    def pre_filter(self, state: CycleState, nodes: list[NodeInfo]) -> None:
        state.data.setdefault("non_zero", pod_non_zero_requests(state.pod))

    def score(self, state: CycleState, node: NodeInfo) -> float:
        cpu, memory = state.data["non_zero"]
        cpu_fraction = _fraction(node.non_zero_cpu + cpu, node.allocatable.milli_cpu)
        memory_fraction = _fraction(node.non_zero_memory + memory, node.allocatable.memory)
        return (1 - abs(cpu_fraction - memory_fraction) / 2) * MAX_NODE_SCORE


class DefaultSpread(ScorePlugin):
    """Spread a controller's pods over nodes: fewer pods of the same owner score higher
    (the hostname part of PodTopologySpread's system defaults)."""

    name = "PodTopologySpread"
    default_weight: ClassVar[int] = 2

    def pre_filter(self, state: CycleState, nodes: list[NodeInfo]) -> None:
        state.data["owner"] = controller_uid(state.pod)

    def skip_score(self, state: CycleState) -> bool:
        return not state.data.get("owner")  # no owner: no system-default spreading constraint

    def score(self, state: CycleState, node: NodeInfo) -> float:
        return float(node.owner_counts.get(state.data.get("owner") or "", 0))

    def normalize(self, state: CycleState, scores: dict[str, float]) -> dict[str, float]:
        worst = max(scores.values(), default=0)
        if worst == 0:
            return {k: float(MAX_NODE_SCORE) for k in scores}
        return {k: MAX_NODE_SCORE * (worst - v) / worst for k, v in scores.items()}


def _least_allocated(requested: int, allocatable: int) -> float:
    if allocatable <= 0 or requested > allocatable:
        return 0.0
    return (allocatable - requested) * MAX_NODE_SCORE / allocatable


def _fraction(requested: int, allocatable: int) -> float:
    return min(1.0, requested / allocatable) if allocatable > 0 else 1.0


ALL_PLUGINS: dict[str, type] = {cls.name: cls for cls in (
    NodeUnschedulable, NodeName, NodeReady, TaintToleration, NodeAffinity, NodePorts, NodeResourcesFit,
    NodeResourcesBalancedAllocation, DefaultSpread)}
DEFAULT_FILTERS = ["NodeUnschedulable", "NodeName", "NodeReady", "TaintToleration", "NodeAffinity", "NodePorts",
                   "NodeResourcesFit"]
DEFAULT_SCORES = {"TaintToleration": 3, "NodeAffinity": 2, "NodeResourcesFit": 1, "PodTopologySpread": 2,
                  "NodeResourcesBalancedAllocation": 1}
