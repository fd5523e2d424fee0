"""A node that stops heartbeating goes Unknown, gets the unreachable taints, and its
intolerant pods are evicted. Grace periods are shortened so the test is quick."""

from __future__ import annotations

import asyncio
from typing import Any

from controllers.base import ControllerContext
from controllers.nodelifecycle import NodeLifecycleController
from kubeclient.factory import InformerFactory
from kubeclient.rest import ApiClient
from tests.fixtures.wait import eventually


def now() -> str:
    from controllers.podutil import now_rfc3339

    return now_rfc3339()


async def test_silent_node_is_tainted_and_its_pods_evicted(client: ApiClient, namespace: str) -> None:
    name = f"silent-{namespace}"
    t = now()
    await client.create("nodes", {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name},
                                  "status": {"conditions": [{"type": "Ready", "status": "True",
                                                             "reason": "KubeletReady",
                                                             "lastHeartbeatTime": t, "lastTransitionTime": t}]}})
    pod: dict[str, Any] = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "victim"},
                           "spec": {"nodeName": name,
                                    "tolerations": [{"key": "node.kubernetes.io/unreachable", "operator": "Exists",
                                                     "effect": "NoExecute", "tolerationSeconds": 0}],
                                    "containers": [{"name": "c", "image": "busybox:1.36"}]}}
    await client.create("pods", pod, namespace)
    factory = InformerFactory(client)
    controller = NodeLifecycleController(ControllerContext(client, factory), grace_period=1.0,
                                         startup_grace_period=1.0, monitor_period=0.3)
    factory.start()
    await factory.wait_for_sync()
    task = asyncio.create_task(controller.run())
    try:
        async def unknown_and_tainted() -> bool:
            node = await client.get("nodes", name)
            ready = next(c for c in node["status"]["conditions"] if c["type"] == "Ready")
            keys = {(t["key"], t["effect"]) for t in (node.get("spec") or {}).get("taints") or []}
            return ready["status"] == "Unknown" and ("node.kubernetes.io/unreachable", "NoExecute") in keys

        await eventually(unknown_and_tainted, what="node Unknown with the unreachable taint")

        async def evicted() -> bool:
            current = await client.get("pods", "victim", namespace)
            return bool(current["metadata"].get("deletionTimestamp"))

        await eventually(evicted, what="pod marked for deletion")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await factory.stop()
        await client.delete("nodes", name)
