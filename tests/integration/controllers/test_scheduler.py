"""The scheduler against a real API server: no overcommit under a burst, Kubernetes'
FailedScheduling messages, retry when room frees up, and placement by taints, selectors
and affinity on nodes of differing capacity."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from kubeclient.rest import ApiClient
from scheduler.scheduler import Scheduler
from tests.fixtures.wait import eventually


def node(name: str, cpu: str, labels: dict[str, str] | None = None, taints: list | None = None) -> dict[str, Any]:
    t = "2026-01-01T00:00:00Z"
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": labels or {}},
            "spec": {"taints": taints or []},
            "status": {"capacity": {"cpu": cpu, "memory": "64Gi", "pods": "500"},
                       "allocatable": {"cpu": cpu, "memory": "64Gi", "pods": "500"},
                       "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                                       "lastHeartbeatTime": t, "lastTransitionTime": t}]}}


def pod(name: str, cpu: str = "100m", **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"containers": [{"name": "c", "image": "busybox:1.36",
                                     "resources": {"requests": {"cpu": cpu}}}], **spec}}


@pytest.fixture
async def nodes(client: ApiClient) -> AsyncIterator[list[str]]:
    created: list[str] = []

    yield created
    for name in created:
        await client.delete("nodes", name)


@pytest.fixture
async def scheduler(client: ApiClient) -> AsyncIterator[Scheduler]:
    sched = Scheduler(client, scheduler_name=f"sched-{uuid.uuid4().hex[:6]}")
    stop = asyncio.Event()
    task = asyncio.create_task(sched.run(stop))
    await sched.informers.wait_for_sync()
    yield sched
    stop.set()
    await asyncio.wait_for(task, 30)


async def test_burst_never_overcommits_and_pending_pods_get_room_later(
        client: ApiClient, namespace: str, nodes: list[str], scheduler: Scheduler) -> None:
    prefix = uuid.uuid4().hex[:6]
    for i in range(4):
        name = f"burst-{prefix}-{i}"
        await client.create("nodes", node(name, "10", labels={"burst": prefix}))
        nodes.append(name)
    selector = {"burst": prefix}

    async def create(i: int) -> None:
        await client.create("pods", pod(f"p{i}", schedulerName=scheduler.name, nodeSelector=selector), namespace)

    for start in range(0, 500, 50):
        await asyncio.gather(*(create(i) for i in range(start, start + 50)))

    async def settled() -> bool:
        items = (await client.list("pods", namespace))["items"]
        bound = [p for p in items if p["spec"].get("nodeName")]
        failed = [p for p in items if any(c.get("reason") == "Unschedulable"
                                          for c in (p.get("status") or {}).get("conditions") or [])]
        return len(bound) == 400 and len(failed) == 100

    await eventually(settled, timeout=180, what="400 bound and 100 unschedulable")
    items = (await client.list("pods", namespace))["items"]
    per_node: dict[str, int] = {}
    for p in items:
        if p["spec"].get("nodeName"):
            per_node[p["spec"]["nodeName"]] = per_node.get(p["spec"]["nodeName"], 0) + 1
    assert sorted(per_node.values()) == [100, 100, 100, 100], per_node
    pending = next(p for p in items if not p["spec"].get("nodeName"))
    condition = next(c for c in pending["status"]["conditions"] if c["type"] == "PodScheduled")
    assert condition["status"] == "False" and condition["reason"] == "Unschedulable"
    assert condition["message"].endswith("4 Insufficient cpu.")
    events = (await client.list("events", namespace,
                                field_selector=f"involvedObject.name={pending['metadata']['name']},reason=FailedScheduling"))
    assert events["items"] and events["items"][0]["type"] == "Warning"

    victims = [p for p in items if p["spec"].get("nodeName")][:30]
    await asyncio.gather(*(client.delete("pods", p["metadata"]["name"], namespace, grace_period_seconds=0)
                           for p in victims))

    async def refilled() -> bool:
        return len([p for p in (await client.list("pods", namespace))["items"] if p["spec"].get("nodeName")]) == 400

    await eventually(refilled, timeout=120, what="freed room refilled without a restart")


async def test_placement_follows_taints_selectors_affinity_and_capacity(
        client: ApiClient, namespace: str, nodes: list[str], scheduler: Scheduler) -> None:
    prefix = uuid.uuid4().hex[:6]
    small, big, tainted = (f"{prefix}-small", f"{prefix}-big", f"{prefix}-tainted")
    await client.create("nodes", node(small, "1", labels={"grp": prefix, "disk": "hdd"}))
    await client.create("nodes", node(big, "8", labels={"grp": prefix, "disk": "ssd", "zone": "b"}))
    await client.create("nodes", node(tainted, "8", labels={"grp": prefix},
                                      taints=[{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]))
    nodes.extend([small, big, tainted])
    base = {"schedulerName": scheduler.name}
    group = {"grp": prefix}
    await client.create("pods", pod("needs-ssd", nodeSelector={**group, "disk": "ssd"}, **base), namespace)
    await client.create("pods", pod("huge", cpu="4", nodeSelector=group,
                                    tolerations=[{"key": "dedicated", "operator": "Exists"}],
                                    affinity={"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                                        "nodeSelectorTerms": [{"matchExpressions": [
                                            {"key": "zone", "operator": "DoesNotExist"}]}]}}}, **base), namespace)
    await client.create("pods", pod("too-big", cpu="16", nodeSelector=group, **base), namespace)

    async def placed() -> bool:
        items = {p["metadata"]["name"]: p for p in (await client.list("pods", namespace))["items"]}
        return bool(items["needs-ssd"]["spec"].get("nodeName")) and bool(items["huge"]["spec"].get("nodeName")) and \
            any(c.get("reason") == "Unschedulable" for c in (items["too-big"].get("status") or {}).get("conditions") or [])

    await eventually(placed, what="placements decided")
    items = {p["metadata"]["name"]: p for p in (await client.list("pods", namespace))["items"]}
    assert items["needs-ssd"]["spec"]["nodeName"] == big
    assert items["huge"]["spec"]["nodeName"] == tainted  # only node with room, no zone label, tolerated taint
    message = next(c["message"] for c in items["too-big"]["status"]["conditions"] if c["type"] == "PodScheduled")
    assert message.startswith("0/") and "Insufficient cpu" in message and "untolerated taint" in message
