"""Node IPAM: the exact write one sync makes for a node without a pod CIDR, and the range
arithmetic (lowest free range, never one already given, CIDRNotAvailable when full)."""

from __future__ import annotations

from typing import Any

import pytest

from controllers.manager import CONTROLLERS
from controllers.nodeipam import NodeIpamController, next_free_cidr
from tests.unit.controller_fakes import FakeCluster, Write

Obj = dict[str, Any]


def node(name: str, cidr: str = "") -> Obj:
    spec = {"podCIDR": cidr, "podCIDRs": [cidr]} if cidr else {}
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name}, "spec": spec}


@pytest.mark.parametrize(("cluster", "mask", "taken", "expected"), [
    ("10.244.0.0/16", 24, set(), "10.244.0.0/24"),
    ("10.244.0.0/16", 24, {"10.244.0.0/24", "10.244.2.0/24"}, "10.244.1.0/24"),
    ("10.244.0.0/16", 24, {"10.244.0.0/23"}, "10.244.2.0/24"),
    ("10.244.0.0/16", 26, {"10.244.0.0/26"}, "10.244.0.64/26"),
    ("10.244.0.0/23", 24, {"10.244.0.0/24", "10.244.1.0/24"}, None),
    ("10.244.0.0/16", 24, {"192.168.0.0/24"}, "10.244.0.0/24"),
])
def test_next_free_cidr(cluster: str, mask: int, taken: set[str], expected: str | None) -> None:
    assert next_free_cidr(cluster, mask, taken) == expected


def test_registered_by_default() -> None:
    assert CONTROLLERS["nodeipam"] is NodeIpamController


async def test_one_sync_patches_the_lowest_free_range() -> None:
    cluster = FakeCluster()
    controller = NodeIpamController(cluster.ctx)
    cluster.add(node("a", "10.244.0.0/24"), node("b"), node("c", "10.244.2.0/24"))
    await controller.sync("b")
    assert cluster.writes == [Write("patch", "nodes", "", "b",
                                    {"spec": {"podCIDR": "10.244.1.0/24", "podCIDRs": ["10.244.1.0/24"]}},
                                    "", "merge")]


async def test_ranges_given_but_not_yet_seen_are_not_given_twice() -> None:
    cluster = FakeCluster()
    controller = NodeIpamController(cluster.ctx)
    cluster.add(node("a"), node("b"))
    await controller.sync("a")
    await controller.sync("b")  # the cache has not seen a's range yet
    given = [w.body["spec"]["podCIDR"] for w in cluster.writes]
    assert given == ["10.244.0.0/24", "10.244.1.0/24"]
    cluster.clear()
    cluster.deliver()
    await controller.sync("a")  # already has one now: no write
    assert cluster.writes == []


async def test_a_full_cluster_cidr_is_an_event_not_a_write() -> None:
    cluster = FakeCluster()
    cluster.ctx.cluster_cidr, cluster.ctx.node_cidr_mask_size = "10.9.0.0/24", 24
    controller = NodeIpamController(cluster.ctx)
    cluster.add(node("a", "10.9.0.0/24"), node("b"))
    await controller.sync("b")
    assert cluster.writes == []
    assert [(e.reason, e.message) for e in cluster.events] == [("CIDRNotAvailable",
                                                               "Node b status is now: CIDRNotAvailable")]
