"""The scheduling framework: node bookkeeping and the two plugin interfaces.

A plugin is a small class: a Filter says whether a pod may go on a node (and if not, the
reason string that ends up in `0/3 nodes are available: …`); a Score says how much it
likes the node, 0–100, and the framework multiplies by the plugin's weight. `NodeInfo`
holds what plugins read: the node, the pods counted on it (assumed ones included) and
their summed requests, so the hot path never re-parses quantities.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from apimachinery.quantity import QuantityError, parse_quantity

Obj = dict[str, Any]
MAX_NODE_SCORE = 100
DEFAULT_MILLI_CPU_REQUEST = 100  # non-zero defaults used for scoring only
DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024


def _quantity(value: Any, milli: bool) -> int:
    try:
        q = parse_quantity(value)
    except QuantityError:
        return 0
    return q.milli_value() if milli else q.value_int()


@dataclass(frozen=True)
class Resources:
    milli_cpu: int = 0
    memory: int = 0
    ephemeral_storage: int = 0
    pods: int = 0

    def __add__(self, other: Resources) -> Resources:
        return Resources(self.milli_cpu + other.milli_cpu, self.memory + other.memory,
                         self.ephemeral_storage + other.ephemeral_storage, self.pods + other.pods)

    def __sub__(self, other: Resources) -> Resources:
        return Resources(self.milli_cpu - other.milli_cpu, self.memory - other.memory,
                         self.ephemeral_storage - other.ephemeral_storage, self.pods - other.pods)

    @classmethod
    def from_map(cls, values: dict[str, Any] | None) -> Resources:
        values = values or {}
        return cls(_quantity(values.get("cpu", 0), True), _quantity(values.get("memory", 0), False),
                   _quantity(values.get("ephemeral-storage", 0), False),
                   _quantity(values.get("pods", 0), False))


def _container_requests(container: Obj) -> Resources:
    res = container.get("resources") or {}
    return Resources.from_map(res.get("requests") or res.get("limits"))


def pod_requests(pod: Obj) -> Resources:
    """max(Σ containers, max(init containers)) + overhead, as NodeResourcesFit computes it."""
    spec = pod.get("spec") or {}
    total = Resources()
    for container in spec.get("containers") or []:
        total = total + _container_requests(container)
    for init in spec.get("initContainers") or []:
        r = _container_requests(init)
        total = Resources(max(total.milli_cpu, r.milli_cpu), max(total.memory, r.memory),
                          max(total.ephemeral_storage, r.ephemeral_storage))
    return total + Resources.from_map(spec.get("overhead"))


def pod_non_zero_requests(pod: Obj) -> tuple[int, int]:
    """(milli cpu, memory) with Kubernetes' scoring defaults for unset requests."""
    cpu = memory = 0
    for container in (pod.get("spec") or {}).get("containers") or []:
        requests = (container.get("resources") or {}).get("requests") or {}
        cpu += _quantity(requests["cpu"], True) if "cpu" in requests else DEFAULT_MILLI_CPU_REQUEST
        memory += _quantity(requests["memory"], False) if "memory" in requests else DEFAULT_MEMORY_REQUEST
    return cpu, memory


def pod_host_ports(pod: Obj) -> list[tuple[str, str, int]]:
    ports = []
    for container in (pod.get("spec") or {}).get("containers") or []:
        for port in container.get("ports") or []:
            if port.get("hostPort"):
                ports.append((port.get("hostIP") or "0.0.0.0", port.get("protocol", "TCP"), int(port["hostPort"])))
    return ports


def controller_uid(pod: Obj) -> str:
    for ref in pod["metadata"].get("ownerReferences") or []:
        if ref.get("controller"):
            return ref.get("uid", "")
    return ""


def pod_key(pod: Obj) -> str:
    return f"{pod['metadata'].get('namespace', '')}/{pod['metadata']['name']}"


@dataclass
class NodeInfo:
    node: Obj
    pods: dict[str, Obj] = field(default_factory=dict)
    requested: Resources = field(default_factory=Resources)
    non_zero_cpu: int = 0
    non_zero_memory: int = 0
    used_ports: set[tuple[str, str, int]] = field(default_factory=set)
    allocatable: Resources = field(default_factory=Resources)
    # Read on every node of every cycle, so kept parsed rather than looked up each time.
    name: str = ""
    taints: list[Obj] = field(default_factory=list)
    unschedulable: bool = False
    ready: bool = False
    owner_counts: dict[str, int] = field(default_factory=dict)  # controller uid → pods here

    def __post_init__(self) -> None:
        self.set_node(self.node)

    def set_node(self, node: Obj) -> None:
        self.node = node
        self.name = node["metadata"]["name"]
        self.taints = (node.get("spec") or {}).get("taints") or []
        self.unschedulable = bool((node.get("spec") or {}).get("unschedulable"))
        self.ready = any(c.get("type") == "Ready" and c.get("status") == "True"
                         for c in (node.get("status") or {}).get("conditions") or [])
        self.allocatable = Resources.from_map((node.get("status") or {}).get("allocatable")
                                              or (node.get("status") or {}).get("capacity"))

    def add_pod(self, pod: Obj) -> None:
        key = pod_key(pod)
        if key in self.pods:
            self.remove_pod(self.pods[key])
        self.pods[key] = pod
        self.requested = self.requested + pod_requests(pod) + Resources(pods=1)
        cpu, memory = pod_non_zero_requests(pod)
        self.non_zero_cpu += cpu
        self.non_zero_memory += memory
        self.used_ports.update(pod_host_ports(pod))
        if owner := controller_uid(pod):
            self.owner_counts[owner] = self.owner_counts.get(owner, 0) + 1

    def remove_pod(self, pod: Obj) -> None:
        key = pod_key(pod)
        old = self.pods.pop(key, None)
        if old is None:
            return
        self.requested = self.requested - pod_requests(old) - Resources(pods=1)
        cpu, memory = pod_non_zero_requests(old)
        self.non_zero_cpu -= cpu
        self.non_zero_memory -= memory
        self.used_ports = {p for other in self.pods.values() for p in pod_host_ports(other)}
        if (owner := controller_uid(old)) and self.owner_counts.get(owner):
            self.owner_counts[owner] -= 1
            if not self.owner_counts[owner]:
                del self.owner_counts[owner]


@dataclass
class CycleState:
    """Per-pod, per-cycle data plugins compute once in pre_filter and reuse per node."""

    pod: Obj
    data: dict[str, Any] = field(default_factory=dict)


class Plugin:
    name: ClassVar[str] = "Plugin"

    def pre_filter(self, state: CycleState, nodes: list[NodeInfo]) -> None:
        """Optional per-cycle preparation."""
        return None


class FilterPlugin(Plugin):
    def filter(self, state: CycleState, node: NodeInfo) -> list[str]:
        """Reasons the pod cannot go on this node ([] = it can)."""
        raise NotImplementedError

    def skip_filter(self, state: CycleState) -> bool:
        """True when this pod cannot fail the filter anywhere (Kubernetes' PreFilter `Skip`)."""
        return False


class ScorePlugin(Plugin):
    default_weight: ClassVar[int] = 1

    def skip_score(self, state: CycleState) -> bool:
        """True when every node would score the same for this pod (PreScore `Skip`): the
        ranking cannot change, so the plugin is left out of the cycle."""
        return False

    def score(self, state: CycleState, node: NodeInfo) -> float:
        """Raw score for this node."""
        raise NotImplementedError

    def normalize(self, state: CycleState, scores: dict[str, float]) -> dict[str, float]:
        """Map raw scores onto 0–100 (default: they already are)."""
        return scores
