"""`kube-py scheduler`: watch pending pods, decide, assume, bind; explain failures.

Decisions are made one at a time on the event loop, and a decided pod is *assumed* onto
its node in the cache before the bind request is even sent, so the next decision already
sees its resources: concurrency cannot overcommit a node. Binds then run concurrently; a
failed bind forgets the assumption and requeues the pod with backoff.
"""

from __future__ import annotations

import asyncio
import copy
import logging
from datetime import UTC, datetime

from apimachinery.errors import StatusError
from kubeclient.events import EventRecorder
from kubeclient.factory import InformerFactory
from kubeclient.rest import ApiClient
from scheduler.algorithm import Profile, fit_error_message
from scheduler.framework import NodeInfo, Obj, pod_key
from scheduler.queue import SchedulingQueue

log = logging.getLogger(__name__)
DEFAULT_SCHEDULER = "default-scheduler"


def is_terminal(pod: Obj) -> bool:
    return (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")


class Cache:
    """NodeInfos from the informers plus assumed pods."""

    def __init__(self) -> None:
        self.nodes: dict[str, NodeInfo] = {}
        self.pod_node: dict[str, str] = {}  # pod key → node it is counted on
        self.assumed: set[str] = set()

    def set_node(self, node: Obj) -> None:
        name = node["metadata"]["name"]
        if name in self.nodes:
            self.nodes[name].set_node(node)
        else:
            self.nodes[name] = NodeInfo(node)

    def remove_node(self, node: Obj) -> None:
        self.nodes.pop(node["metadata"]["name"], None)

    def add_pod(self, pod: Obj, node_name: str) -> None:
        key = pod_key(pod)
        previous = self.pod_node.get(key)
        if previous and previous != node_name and previous in self.nodes:
            self.nodes[previous].remove_pod(pod)
        info = self.nodes.get(node_name)
        if info is None:
            info = self.nodes[node_name] = NodeInfo({"metadata": {"name": node_name}, "status": {}})
        info.add_pod(pod)
        self.pod_node[key] = node_name

    def remove_pod(self, pod: Obj) -> None:
        key = pod_key(pod)
        node_name = self.pod_node.pop(key, None)
        self.assumed.discard(key)
        if node_name and node_name in self.nodes:
            self.nodes[node_name].remove_pod(pod)

    def assume(self, pod: Obj, node_name: str) -> None:
        assumed = copy.deepcopy(pod)
        assumed.setdefault("spec", {})["nodeName"] = node_name
        self.add_pod(assumed, node_name)
        self.assumed.add(pod_key(pod))

    def forget(self, pod: Obj) -> None:
        if pod_key(pod) in self.assumed:
            self.remove_pod(pod)

    def node_list(self) -> list[NodeInfo]:
        return [info for info in self.nodes.values() if info.node.get("metadata", {}).get("uid")]


class Scheduler:
    def __init__(self, client: ApiClient, profile: Profile | None = None, *,
                 scheduler_name: str = DEFAULT_SCHEDULER, informers: InformerFactory | None = None) -> None:
        self.client = client
        self.profile = profile or Profile.default()
        self.name = scheduler_name
        self.queue = SchedulingQueue()
        self.cache = Cache()
        self.recorder = EventRecorder(client, scheduler_name)
        self.informers = informers or InformerFactory(client)
        self.pods = self.informers.informer("pods")
        self.nodes = self.informers.informer("nodes")
        self.nodes.add_handlers(on_add=self._node_changed, on_update=lambda _o, n: self._node_changed(n),
                                on_delete=self.cache.remove_node)
        self.pods.add_handlers(on_add=self._pod_changed, on_update=lambda _o, n: self._pod_changed(n),
                               on_delete=self._pod_deleted)
        self._binds: set[asyncio.Task[None]] = set()

    # ---- informer handlers ---------------------------------------------------------

    def _node_changed(self, node: Obj) -> None:
        self.cache.set_node(node)
        self.queue.move_all_to_active_or_backoff()

    def _responsible(self, pod: Obj) -> bool:
        return ((pod.get("spec") or {}).get("schedulerName") or DEFAULT_SCHEDULER) == self.name

    def _pod_changed(self, pod: Obj) -> None:
        node_name = (pod.get("spec") or {}).get("nodeName")
        if node_name:
            self.queue.delete(pod)
            if is_terminal(pod):
                self.cache.remove_pod(pod)
                self.queue.move_all_to_active_or_backoff()
            else:
                self.cache.add_pod(pod, node_name)
                self.cache.assumed.discard(pod_key(pod))
            return
        if not self._responsible(pod) or pod["metadata"].get("deletionTimestamp") or is_terminal(pod):
            self.queue.delete(pod)
            return
        if (pod.get("spec") or {}).get("schedulingGates"):
            return
        self.queue.update(pod)

    def _pod_deleted(self, pod: Obj) -> None:
        self.queue.delete(pod)
        if (pod.get("spec") or {}).get("nodeName") or pod_key(pod) in self.cache.pod_node:
            self.cache.remove_pod(pod)
            self.queue.move_all_to_active_or_backoff()

    # ---- the loop ------------------------------------------------------------------

    async def run(self, stop: asyncio.Event | None = None) -> None:
        self.informers.start()
        await self.informers.wait_for_sync(timeout=120)
        log.info("%s: caches synced, %d nodes", self.name, len(self.cache.nodes))
        waiter = asyncio.create_task(stop.wait()) if stop else None
        try:
            while stop is None or not stop.is_set():
                pop = asyncio.create_task(self.queue.pop())
                done, _ = await asyncio.wait({pop, *([waiter] if waiter else [])},
                                             return_when=asyncio.FIRST_COMPLETED)
                if pop not in done:
                    pop.cancel()
                    break
                pod = pop.result()
                if pod is None:
                    break
                await self.schedule_one(pod)
        finally:
            self.queue.close()
            if waiter:
                waiter.cancel()
            await asyncio.gather(*self._binds, return_exceptions=True)
            await self.informers.stop()

    async def schedule_one(self, queued: Obj) -> None:
        current = self.pods.get(pod_key(queued)) or queued
        if (current.get("spec") or {}).get("nodeName") or current["metadata"].get("deletionTimestamp"):
            self.queue.done(current)
            return
        decision = self.profile.schedule(current, self.cache.node_list())
        if decision.node is None:
            message = fit_error_message(len(self.cache.node_list()), decision.diagnosis)
            self.queue.unschedulable(current)
            await self._record_failure(current, message)
            return
        self.cache.assume(current, decision.node)
        task = asyncio.create_task(self._bind(current, decision.node))
        self._binds.add(task)
        task.add_done_callback(self._binds.discard)

    async def _bind(self, pod: Obj, node_name: str) -> None:
        meta = pod["metadata"]
        binding = {"apiVersion": "v1", "kind": "Binding",
                   "metadata": {"name": meta["name"], "namespace": meta["namespace"], "uid": meta.get("uid")},
                   "target": {"apiVersion": "v1", "kind": "Node", "name": node_name}}
        try:
            await self.client.create("pods", binding, meta["namespace"], name=meta["name"], subresource="binding")
        except StatusError as exc:
            log.info("binding %s/%s to %s failed: %s", meta["namespace"], meta["name"], node_name, exc)
            self.cache.forget(pod)
            if exc.code == 404 or (exc.code == 409 and "already assigned" in exc.message):
                self.queue.done(pod)
            else:
                self.queue.error(pod)
            return
        self.queue.done(pod)
        self.recorder.event(pod, "Normal", "Scheduled",
                            f"Successfully assigned {meta['namespace']}/{meta['name']} to {node_name}")

    async def _record_failure(self, pod: Obj, message: str) -> None:
        """FailedScheduling event plus PodScheduled=False/Unschedulable on the pod."""
        self.recorder.event(pod, "Warning", "FailedScheduling", message)
        status = pod.get("status") or {}
        existing = next((c for c in status.get("conditions") or [] if c.get("type") == "PodScheduled"), None)
        if existing and existing.get("status") == "False" and existing.get("message") == message:
            return
        condition = {"type": "PodScheduled", "status": "False", "lastProbeTime": None,
                     "lastTransitionTime": existing.get("lastTransitionTime") if existing and
                     existing.get("status") == "False" else _now(),
                     "reason": "Unschedulable", "message": message}
        patch = {"status": {"conditions": [condition]}}
        try:
            await self.client.patch("pods", pod["metadata"]["name"], patch, pod["metadata"]["namespace"],
                                    subresource="status")
        except StatusError as exc:
            if exc.code != 404:
                log.info("recording unschedulable on %s: %s", pod_key(pod), exc)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
