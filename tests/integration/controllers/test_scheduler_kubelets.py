"""Scheduler plus fake-driver kubelets of differing capacities: pods land by requests,
taints and node selectors, and the kubelets run them (Running, Ready)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from apimachinery.errors import StatusError
from kubeclient.rest import ApiClient
from kubelet.kubelet import Kubelet
from kubelet.runtime.fake import FakeRuntime
from scheduler.scheduler import Scheduler
from tests.fixtures.wait import eventually


@pytest.fixture
async def hollow_nodes(client: ApiClient, tmp_path: Path) -> AsyncIterator[dict[str, str]]:
    tag = uuid.uuid4().hex[:6]
    shapes = {"small": "1", "large": "8"}
    stop = asyncio.Event()
    tasks, names = [], {}
    for shape, cpu in shapes.items():
        name = f"{shape}-{tag}"
        kubelet = Kubelet(client, name, FakeRuntime(), capacity={"cpu": cpu, "memory": "8Gi", "pods": "10"},
                          labels={"shape": shape, "group": tag}, data_dir=tmp_path / name)
        tasks.append(asyncio.create_task(kubelet.run(stop)))
        names[shape] = name
    tasks.append(asyncio.create_task(Scheduler(client).run(stop)))
    yield names
    stop.set()
    await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 60)
    for name in names.values():
        try:
            await client.delete("nodes", name)
        except StatusError:
            pass


def pod(name: str, cpu: str, group: str, **spec: object) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"nodeSelector": {"group": group}, "terminationGracePeriodSeconds": 0,
                     "containers": [{"name": "c", "image": "busybox:1.36",
                                     "resources": {"requests": {"cpu": cpu}}}], **spec}}


async def test_pods_land_by_capacity_and_selector_and_run(client: ApiClient, namespace: str,
                                                          hollow_nodes: dict[str, str]) -> None:
    group = hollow_nodes["small"].split("-", 1)[1]
    await client.create("pods", pod("big", "4", group), namespace)
    await client.create("pods", pod("picky", "100m", group, nodeSelector={"group": group, "shape": "small"}),
                        namespace)

    async def running() -> bool:
        items = {p["metadata"]["name"]: p for p in (await client.list("pods", namespace))["items"]}
        return all((items[n].get("status") or {}).get("phase") == "Running" for n in ("big", "picky"))

    await eventually(running, what="both pods running on fake kubelets")
    items = {p["metadata"]["name"]: p for p in (await client.list("pods", namespace))["items"]}
    assert items["big"]["spec"]["nodeName"] == hollow_nodes["large"]
    assert items["picky"]["spec"]["nodeName"] == hollow_nodes["small"]
    ready = {c["type"]: c["status"] for c in items["big"]["status"]["conditions"]}
    assert ready["Ready"] == "True" and ready["PodScheduled"] == "True"
