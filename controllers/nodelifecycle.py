"""Node lifecycle controller: notice silent nodes, taint them, evict what can't tolerate it.

A node is heard from when its Ready heartbeat or its Lease's renewTime moves. Silent for
longer than the grace period (50 s, 60 s before it was ever Ready) → its conditions go
Unknown. Conditions map to taints (`not-ready`/`unreachable` NoExecute and NoSchedule,
pressure and cordon NoSchedule), and pods on a NoExecute-tainted node are deleted at
once, or after their `tolerationSeconds` (semantics.md §6.3).
"""

from __future__ import annotations

import asyncio
import copy
import logging
import time
from datetime import UTC, datetime
from typing import Any

from apimachinery.errors import StatusError
from apimachinery.scheduling import tolerates
from controllers.base import Controller, ControllerContext
from controllers.podutil import now_rfc3339, parse_time

log = logging.getLogger(__name__)
Obj = dict[str, Any]

MONITOR_PERIOD = 5.0
GRACE_PERIOD = 50.0
STARTUP_GRACE_PERIOD = 60.0
NOT_READY = "node.kubernetes.io/not-ready"
UNREACHABLE = "node.kubernetes.io/unreachable"
PRESSURE_TAINTS = {"MemoryPressure": "node.kubernetes.io/memory-pressure",
                   "DiskPressure": "node.kubernetes.io/disk-pressure",
                   "PIDPressure": "node.kubernetes.io/pid-pressure"}
UNSCHEDULABLE = "node.kubernetes.io/unschedulable"
MANAGED_KEYS = {NOT_READY, UNREACHABLE, UNSCHEDULABLE, "node.kubernetes.io/network-unavailable",
                *PRESSURE_TAINTS.values()}


def node_condition(node: Obj, kind: str) -> Obj | None:
    for c in (node.get("status") or {}).get("conditions") or []:
        if c.get("type") == kind:
            return c
    return None


def desired_taints(node: Obj) -> list[tuple[str, str]]:
    """(key, effect) pairs the node's conditions and cordon call for."""
    wanted: list[tuple[str, str]] = []
    ready = (node_condition(node, "Ready") or {}).get("status")
    if ready == "False":
        wanted += [(NOT_READY, "NoExecute"), (NOT_READY, "NoSchedule")]
    elif ready == "Unknown":
        wanted += [(UNREACHABLE, "NoExecute"), (UNREACHABLE, "NoSchedule")]
    for condition, key in PRESSURE_TAINTS.items():
        if (node_condition(node, condition) or {}).get("status") == "True":
            wanted.append((key, "NoSchedule"))
    if (node_condition(node, "NetworkUnavailable") or {}).get("status") == "True":
        wanted.append(("node.kubernetes.io/network-unavailable", "NoSchedule"))
    if (node.get("spec") or {}).get("unschedulable"):
        wanted.append((UNSCHEDULABLE, "NoSchedule"))
    return wanted


def eviction_delay(pod: Obj, taints: list[Obj]) -> float | None:
    """Seconds from the taints' time until the pod must go; None if it tolerates forever."""
    tolerations = (pod.get("spec") or {}).get("tolerations") or []
    delay: float | None = None
    for taint in taints:
        matching = [t for t in tolerations if tolerates(t, taint)]
        if not matching:
            return 0.0
        bounded = [t["tolerationSeconds"] for t in matching if t.get("tolerationSeconds") is not None]
        if not bounded or len(bounded) < len(matching):
            continue  # one toleration without a bound tolerates it forever
        seconds = max(0.0, float(min(bounded)))
        delay = seconds if delay is None else min(delay, seconds)
    return delay


class NodeLifecycleController(Controller):
    name = "node-lifecycle-controller"
    workers = 2

    def __init__(self, ctx: ControllerContext, grace_period: float = GRACE_PERIOD,
                 startup_grace_period: float = STARTUP_GRACE_PERIOD, monitor_period: float = MONITOR_PERIOD) -> None:
        super().__init__(ctx)
        self.grace = ctx.node_monitor_grace_period or grace_period
        self.startup_grace = startup_grace_period
        self.monitor_period = monitor_period
        self.recorder = ctx.recorder(self.name)
        self.nodes = ctx.informers.informer("nodes")
        self.leases = ctx.informers.informer("leases")
        self.pods = ctx.informers.informer("pods")
        self.pods.add_indexer("node", lambda p: [(p.get("spec") or {}).get("nodeName") or ""])
        self.nodes.add_handlers(on_add=self.enqueue, on_update=lambda _o, n: self.enqueue(n))
        self.leases.add_handlers(on_update=lambda _o, n: self._lease_changed(n))
        self.heard: dict[str, tuple[tuple[str, str], float]] = {}  # node → (heartbeat values, local time seen)

    def _lease_changed(self, lease: Obj) -> None:
        if lease["metadata"].get("namespace") == "kube-node-lease":
            self.queue.add(lease["metadata"]["name"])

    async def run(self) -> None:
        monitor = asyncio.create_task(self._monitor())
        try:
            await super().run()
        finally:
            monitor.cancel()
            await asyncio.gather(monitor, return_exceptions=True)

    async def _monitor(self) -> None:
        while True:
            for node in self.nodes.list():
                self.queue.add(node["metadata"]["name"])
            await asyncio.sleep(self.monitor_period)

    async def sync(self, key: str) -> None:
        node = self.nodes.get(key)
        if node is None:
            self.heard.pop(key, None)
            return
        node = copy.deepcopy(node)
        if self._silent(node):
            await self._mark_unknown(node)
        await self._reconcile_taints(node)
        await self._evict(node)

    def _silent(self, node: Obj) -> bool:
        name = node["metadata"]["name"]
        ready = node_condition(node, "Ready") or {}
        lease = self.leases.get(f"kube-node-lease/{name}") or {}
        values = (ready.get("lastHeartbeatTime", ""), (lease.get("spec") or {}).get("renewTime", ""))
        now = time.monotonic()
        previous = self.heard.get(name)
        if previous is None or previous[0] != values:
            self.heard[name] = (values, now)
            return False
        grace = self.grace if ready.get("status") in ("True", "False") else self.startup_grace
        return now > previous[1] + grace and ready.get("status") != "Unknown"

    async def _mark_unknown(self, node: Obj) -> None:
        name = node["metadata"]["name"]
        status = node.setdefault("status", {})
        never = node_condition(node, "Ready") is None
        reason, message = (("NodeStatusNeverUpdated", "Kubelet never posted node status.") if never else
                           ("NodeStatusUnknown", "Kubelet stopped posting node status."))
        now = now_rfc3339()
        conditions = [c for c in status.get("conditions") or []
                      if c.get("type") not in ("Ready", *PRESSURE_TAINTS)]
        for kind in ("Ready", *PRESSURE_TAINTS):
            old = node_condition(node, kind) or {}
            conditions.append({"type": kind, "status": "Unknown", "reason": reason, "message": message,
                               "lastHeartbeatTime": old.get("lastHeartbeatTime", now),
                               "lastTransitionTime": now if old.get("status") != "Unknown"
                               else old.get("lastTransitionTime", now)})
        status["conditions"] = conditions
        log.info("node %s stopped posting status; marking it Unknown", name)
        self.recorder.event(node, "Normal", "NodeNotReady", f"Node {name} status is now: NodeNotReady")
        try:
            node.update(await self.client.update_status("nodes", node))
        except StatusError as exc:
            if exc.code not in (404, 409):
                raise

    async def _reconcile_taints(self, node: Obj) -> None:
        current = list((node.get("spec") or {}).get("taints") or [])
        wanted = desired_taints(node)
        kept = [t for t in current if t.get("key") not in MANAGED_KEYS or (t["key"], t.get("effect")) in wanted]
        have = {(t["key"], t.get("effect")) for t in kept}
        added = [{"key": k, "effect": e, **({"timeAdded": now_rfc3339()} if e == "NoExecute" else {})}
                 for k, e in wanted if (k, e) not in have]
        taints = kept + added
        if taints == current:
            return
        node.setdefault("spec", {})["taints"] = taints or None
        patch = {"spec": {"taints": taints or None}, "metadata": {"resourceVersion": node["metadata"]["resourceVersion"]}}
        try:
            node.update(await self.client.patch("nodes", node["metadata"]["name"], patch, patch_type="merge"))
        except StatusError as exc:
            if exc.code == 409:
                self.queue.add(node["metadata"]["name"])
            elif exc.code != 404:
                raise

    async def _evict(self, node: Obj) -> None:
        taints = [t for t in (node.get("spec") or {}).get("taints") or [] if t.get("effect") == "NoExecute"]
        if not taints:
            return
        added = min(parse_time(t.get("timeAdded")) or datetime.now(UTC) for t in taints)
        waited = (datetime.now(UTC) - added).total_seconds()
        next_check: float | None = None
        for pod in self.pods.by_index("node", node["metadata"]["name"]):
            if pod["metadata"].get("deletionTimestamp"):
                continue
            delay = eviction_delay(pod, taints)
            if delay is None:
                continue
            if waited >= delay:
                await self._delete_pod(pod)
            else:
                left = delay - waited
                next_check = left if next_check is None else min(next_check, left)
        if next_check is not None:
            self.queue.add_after(node["metadata"]["name"], next_check + 0.5)

    async def _delete_pod(self, pod: Obj) -> None:
        meta = pod["metadata"]
        self.recorder.event(pod, "Normal", "TaintManagerEviction", f"Marking for deletion Pod {meta['namespace']}/{meta['name']}")
        try:
            await self.client.delete("pods", meta["name"], meta["namespace"])
        except StatusError as exc:
            if exc.code != 404:
                raise
