"""Node IPAM: give every node a pod CIDR from the cluster CIDR, like kube-controller-manager's
range allocator (`--allocate-node-cidrs --cluster-cidr 10.244.0.0/16 --node-cidr-mask-size 24`).

Why: a kubelet started without `--pod-cidr` takes its pods' addresses from
`node.spec.podCIDR`; two nodes must never share a range. One worker allocates, so two
syncs can never hand out the same range; ranges already given but not yet seen in the
cache are remembered until the cache shows them. A full range is a `CIDRNotAvailable`
event, as in Kubernetes.
"""

from __future__ import annotations

import ipaddress
import logging
from typing import Any

from apimachinery.errors import StatusError
from controllers.base import Controller, ControllerContext

log = logging.getLogger(__name__)
Obj = dict[str, Any]
DEFAULT_CLUSTER_CIDR = "10.244.0.0/16"
DEFAULT_MASK_SIZE = 24


def pod_cidr_of(node: Obj) -> str:
    return str((node.get("spec") or {}).get("podCIDR") or "")


def next_free_cidr(cluster_cidr: str, mask_size: int, taken: set[str]) -> str | None:
    """The lowest subnet of `cluster_cidr` with `mask_size` that overlaps nothing in `taken`."""
    cluster = ipaddress.ip_network(cluster_cidr)
    used = [ipaddress.ip_network(c, strict=False) for c in taken if c]
    for subnet in cluster.subnets(new_prefix=mask_size):
        if not any(subnet.overlaps(u) for u in used):
            return str(subnet)
    return None


class NodeIpamController(Controller):
    name = "node-ipam-controller"
    workers = 1  # allocation must be serial

    def __init__(self, ctx: ControllerContext) -> None:
        super().__init__(ctx)
        self.cluster_cidr = ctx.cluster_cidr or DEFAULT_CLUSTER_CIDR
        self.mask_size = ctx.node_cidr_mask_size or DEFAULT_MASK_SIZE
        self.recorder = ctx.recorder(self.name)
        self.nodes = ctx.informers.informer("nodes")
        self.nodes.add_handlers(on_add=self._node_changed, on_update=lambda _old, new: self._node_changed(new))
        self.given: dict[str, str] = {}  # node name → range handed out, until the cache shows it

    def _node_changed(self, node: Obj) -> None:
        if not pod_cidr_of(node):
            self.enqueue(node)

    def taken(self) -> set[str]:
        seen = {n["metadata"]["name"]: pod_cidr_of(n) for n in self.nodes.list()}
        self.given = {name: cidr for name, cidr in self.given.items() if seen.get(name) != cidr}
        return {c for c in seen.values() if c} | set(self.given.values())

    async def sync(self, key: str) -> None:
        node = self.nodes.get(key)
        if node is None or pod_cidr_of(node) or node["metadata"].get("deletionTimestamp"):
            return
        name = node["metadata"]["name"]
        cidr = self.given.get(name) or next_free_cidr(self.cluster_cidr, self.mask_size, self.taken())
        if cidr is None:
            self.recorder.event(node, "Normal", "CIDRNotAvailable",
                                f"Node {name} status is now: CIDRNotAvailable")
            return
        self.given[name] = cidr
        try:
            await self.client.patch("nodes", name, {"spec": {"podCIDR": cidr, "podCIDRs": [cidr]}},
                                    patch_type="merge")
        except StatusError as exc:
            if exc.code == 404:
                self.given.pop(name, None)
                return
            raise
        log.info("node-ipam: node %s gets pod CIDR %s", name, cidr)
