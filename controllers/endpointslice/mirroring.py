"""EndpointSlice mirroring: a selector-less Service's hand-made Endpoints copied into
EndpointSlices, as Kubernetes' endpointslicemirroring-controller does.

Why: the EndpointSlice controller only publishes pods a selector picks. Users who point a
Service at outside addresses write Endpoints by hand; without mirroring, slice readers
(kubectl 1.32's `describe service` among them) would see no endpoints for them.
Addresses become endpoints with `ready: true`, notReadyAddresses with `ready: false`;
at most 1000 addresses per subset are mirrored; slices are owned by the Endpoints and
carry its labels and annotations (but not last-applied-configuration). Endpoints
labelled `endpointslice.kubernetes.io/skip-mirror: "true"` or holding a leader-election
annotation are not mirrored, and a Service that gains a selector loses its mirrored slices.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from controllers.base import ControllerContext
from controllers.endpointslice.reconciler import (
    LABEL_MANAGED_BY,
    LABEL_SERVICE_NAME,
    Desired,
    Plan,
    port_key,
    reconcile,
    reuse_deleted,
    slice_prefix,
)
from controllers.endpointslice.tracking import SliceController, owned_by, owner_ref

Obj = dict[str, Any]

CONTROLLER_NAME = "endpointslicemirroring-controller.k8s.io"
LABEL_SKIP_MIRROR = "endpointslice.kubernetes.io/skip-mirror"
LEADER_ANNOTATION = "control-plane.alpha.kubernetes.io/leader"
NOT_COPIED_ANNOTATIONS = ("endpoints.kubernetes.io/last-change-trigger-time",
                          "kubectl.kubernetes.io/last-applied-configuration")
MAX_ENDPOINTS_PER_SUBSET = 1000


def should_mirror(endpoints: Obj) -> bool:
    meta = endpoints["metadata"]
    return (meta.get("labels") or {}).get(LABEL_SKIP_MIRROR) != "true" \
        and LEADER_ANNOTATION not in (meta.get("annotations") or {})


def address_to_endpoint(address: Obj, ready: bool) -> tuple[str, Obj] | None:
    """(address type, endpoint), or None for an address that is not an IP."""
    try:
        ip = ipaddress.ip_address(address.get("ip", ""))
    except ValueError:
        return None
    endpoint: Obj = {"addresses": [address["ip"]], "conditions": {"ready": ready}}
    if address.get("targetRef"):
        endpoint["targetRef"] = address["targetRef"]
    if address.get("nodeName"):
        endpoint["nodeName"] = address["nodeName"]
    if address.get("hostname"):
        endpoint["hostname"] = address["hostname"]
    return ("IPv4" if ip.version == 4 else "IPv6"), endpoint


def mirrored_ports(subset: Obj) -> list[Obj]:
    ports = []
    for port in subset.get("ports") or []:
        entry: Obj = {"name": port.get("name", ""), "port": port.get("port"), "protocol": port.get("protocol", "TCP")}
        if port.get("appProtocol"):
            entry["appProtocol"] = port["appProtocol"]
        ports.append(entry)
    return ports


def desired_from_endpoints(endpoints: Obj) -> dict[str, dict[str, Desired]]:
    """address type → port set → the endpoints to mirror."""
    desired: dict[str, dict[str, Desired]] = {}
    for subset in endpoints.get("subsets") or []:
        ports = mirrored_ports(subset)
        added = 0
        for bucket, ready in (("addresses", True), ("notReadyAddresses", False)):
            for address in subset.get(bucket) or []:
                if added >= MAX_ENDPOINTS_PER_SUBSET:
                    break
                converted = address_to_endpoint(address, ready)
                if converted is None:
                    continue
                family, endpoint = converted
                desired.setdefault(family, {}).setdefault(port_key(ports), Desired(ports)).add(endpoint)
                added += 1
    return desired


def mirrored_metadata(endpoints: Obj) -> Obj:
    meta = endpoints["metadata"]
    labels = dict(meta.get("labels") or {})
    labels[LABEL_SERVICE_NAME] = meta["name"]
    labels[LABEL_MANAGED_BY] = CONTROLLER_NAME
    annotations = {k: v for k, v in (meta.get("annotations") or {}).items() if k not in NOT_COPIED_ANNOTATIONS}
    return {"labels": labels, "annotations": annotations}


def new_mirrored_slice(endpoints: Obj, ports: list[Obj], family: str) -> Obj:
    meta = endpoints["metadata"]
    metadata = {"generateName": slice_prefix(meta["name"]), "namespace": meta.get("namespace", ""),
                "ownerReferences": [owner_ref(endpoints, "Endpoints")], **mirrored_metadata(endpoints)}
    return {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "metadata": metadata,
            "addressType": family, "endpoints": [], "ports": ports}


def plan_for_endpoints(endpoints: Obj, existing: list[Obj]) -> Plan:
    wanted_meta = mirrored_metadata(endpoints)

    def refresh(slice_: Obj) -> tuple[Obj, bool]:
        meta = slice_["metadata"]
        changed = (meta.get("labels") or {}) != wanted_meta["labels"] or \
            (meta.get("annotations") or {}) != wanted_meta["annotations"]
        return wanted_meta, changed

    plan = Plan()
    desired = desired_from_endpoints(endpoints)
    for family in sorted({*desired, *(s.get("addressType", "") for s in existing)}):
        part = reconcile([s for s in existing if s.get("addressType") == family], desired.get(family, {}),
                         lambda ports, f=family: new_mirrored_slice(endpoints, ports, f), refresh)
        plan.create += part.create
        plan.update += part.update
        plan.delete += part.delete
    reuse_deleted(plan, lambda doomed, fresh: owned_by(doomed, endpoints)
                  and doomed.get("addressType") == fresh.get("addressType"))
    return plan


class EndpointSliceMirroringController(SliceController):
    name = "endpointslice-mirroring-controller"
    managed_by = CONTROLLER_NAME
    workers = 2

    def __init__(self, ctx: ControllerContext) -> None:
        super().__init__(ctx)
        self.services = ctx.informers.informer("services")
        self.endpoints = ctx.informers.informer("endpoints")
        for informer in (self.services, self.endpoints):
            informer.add_handlers(on_add=self.enqueue, on_update=lambda _o, n: self.enqueue(n),
                                  on_delete=self.enqueue)

    async def sync(self, key: str) -> None:
        self.writer.check_fresh(key)
        mirrored = self.owned_slices(key)
        service, endpoints = self.services.get(key), self.endpoints.get(key)
        if service is None or (service.get("spec") or {}).get("selector") or endpoints is None \
                or not should_mirror(endpoints):
            if mirrored:
                await self.writer.apply(key, Plan(delete=mirrored))
            return
        plan = plan_for_endpoints(endpoints, mirrored)
        if not plan.empty():
            await self.writer.apply(key, plan)
