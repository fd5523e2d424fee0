"""One scheduling decision: filter (only as many nodes as needed), score, pick.

Pure and synchronous so it can be benchmarked alone: `Profile.schedule(pod, nodes)`
returns the chosen node or a diagnosis that renders as Kubernetes' FitError message.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from scheduler.framework import CycleState, FilterPlugin, NodeInfo, Obj, ScorePlugin
from scheduler.plugins import ALL_PLUGINS, DEFAULT_FILTERS, DEFAULT_SCORES

MIN_FEASIBLE_NODES = 100
MIN_PERCENTAGE = 5


def num_feasible_nodes_to_find(total: int, percentage: int = 0) -> int:
    """Kubernetes' adaptive formula (semantics.md §7.3)."""
    if total < MIN_FEASIBLE_NODES or percentage >= 100:
        return total
    if percentage <= 0:
        percentage = max(MIN_PERCENTAGE, 50 - total // 125)
    return max(total * percentage // 100, MIN_FEASIBLE_NODES)


def fit_error_message(total: int, diagnosis: dict[str, list[str]]) -> str:
    """`0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't match ….`"""
    counts: dict[str, int] = {}
    for reasons in diagnosis.values():
        for reason in reasons:
            counts[reason] = counts.get(reason, 0) + 1
    histogram = sorted(f"{count} {reason}" for reason, count in counts.items())
    if not histogram:
        return f"0/{total} nodes are available."
    return f"0/{total} nodes are available: {', '.join(histogram)}."


@dataclass
class Decision:
    node: str | None
    diagnosis: dict[str, list[str]] = field(default_factory=dict)
    evaluated: int = 0
    feasible: int = 0


@dataclass
class Profile:
    filters: list[FilterPlugin]
    scores: list[tuple[ScorePlugin, int]]
    percentage_of_nodes_to_score: int = 0
    rng: random.Random = field(default_factory=random.Random)
    next_start: int = 0

    @classmethod
    def default(cls, disabled: set[str] | None = None, weights: dict[str, int] | None = None,
                percentage: int = 0, extra: dict[str, type] | None = None) -> Profile:
        registry = {**ALL_PLUGINS, **(extra or {})}
        disabled = disabled or set()
        instances: dict[str, object] = {}

        def plugin(name: str) -> object:
            if name not in instances:
                instances[name] = registry[name]()
            return instances[name]

        filters = [plugin(n) for n in DEFAULT_FILTERS if n not in disabled]
        wanted = {**DEFAULT_SCORES, **(weights or {})}
        scores = [(plugin(n), w) for n, w in wanted.items() if n not in disabled and w > 0]
        filters += [plugin(n) for n in (extra or {}) if n not in disabled and isinstance(plugin(n), FilterPlugin)
                    and plugin(n) not in filters]
        return cls(filters, scores, percentage)  # type: ignore[arg-type]

    def schedule(self, pod: Obj, nodes: list[NodeInfo]) -> Decision:
        total = len(nodes)
        if total == 0:
            return Decision(None)
        state = CycleState(pod)
        seen: set[int] = set()
        for plugin in [*self.filters, *(p for p, _ in self.scores)]:
            if id(plugin) not in seen:
                seen.add(id(plugin))
                plugin.pre_filter(state, nodes)
        filters = [p for p in self.filters if not p.skip_filter(state)]
        wanted = num_feasible_nodes_to_find(total, self.percentage_of_nodes_to_score)
        feasible: list[NodeInfo] = []
        diagnosis: dict[str, list[str]] = {}
        evaluated = 0
        start = self.next_start % total
        for offset in range(total):
            node = nodes[(start + offset) % total]
            evaluated += 1
            reasons = self._filter(filters, state, node)
            if reasons:
                diagnosis[node.name] = reasons
            else:
                feasible.append(node)
                if len(feasible) >= wanted:
                    break
        self.next_start = (start + evaluated) % total
        if not feasible:
            return Decision(None, diagnosis, evaluated, 0)
        if len(feasible) == 1:
            return Decision(feasible[0].name, diagnosis, evaluated, 1)
        return Decision(self._select(state, feasible), diagnosis, evaluated, len(feasible))

    @staticmethod
    def _filter(filters: list[FilterPlugin], state: CycleState, node: NodeInfo) -> list[str]:
        for plugin in filters:
            reasons = plugin.filter(state, node)
            if reasons:
                return reasons
        return []

    def _select(self, state: CycleState, feasible: list[NodeInfo]) -> str:
        totals = {n.name: 0.0 for n in feasible}
        for plugin, weight in self.scores:
            if plugin.skip_score(state):
                continue
            raw = {n.name: plugin.score(state, n) for n in feasible}
            for name, value in plugin.normalize(state, raw).items():
                totals[name] += value * weight
        best = max(totals.values())
        winners = [name for name, value in totals.items() if value >= best - 1e-9]
        return winners[0] if len(winners) == 1 else self.rng.choice(winners)
