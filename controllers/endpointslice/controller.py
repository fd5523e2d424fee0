"""EndpointSlice controller: each selector Service's pods published as discovery.k8s.io/v1
EndpointSlices, as Kubernetes' endpointslice-controller does.

Why beside the Endpoints controller: kubectl 1.32 reads slices, not Endpoints, for the
`Endpoints:` line of `kubectl describe service`, and every newer consumer (kube-proxy,
DNS, ingress controllers) reads them too. Each endpoint carries ready / serving /
terminating conditions (terminating pods stay listed, not ready), its pod as targetRef,
nodeName and the node's zone. A Service with no endpoints keeps one placeholder slice
with no ports. Slices carry the Service's labels plus `kubernetes.io/service-name` and
`endpointslice.kubernetes.io/managed-by`, and are owned by the Service, so the garbage
collector removes them with it.
"""

from __future__ import annotations

from typing import Any

from apimachinery.labels import selector_from_set
from controllers.base import ControllerContext
from controllers.endpoints import pod_handlers, resolve_port, should_be_endpoint
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
from controllers.endpointslice.tracking import SliceController, StaleCache, owned_by, owner_ref
from controllers.podutil import is_pod_ready
from kubeclient.informer import split_key

Obj = dict[str, Any]

CONTROLLER_NAME = "endpointslice-controller.k8s.io"
LABEL_HEADLESS = "service.kubernetes.io/headless"
LABEL_ZONE = "topology.kubernetes.io/zone"
RESERVED_LABELS = (LABEL_SERVICE_NAME, LABEL_MANAGED_BY, LABEL_HEADLESS)


def endpoint_ports(service: Obj, pod: Obj) -> list[Obj]:
    """getEndpointPorts: every service port this pod resolves, name always present."""
    ports = []
    for sp in (service.get("spec") or {}).get("ports") or []:
        number = resolve_port(sp, pod)
        if number is None:
            continue
        port: Obj = {"name": sp.get("name", ""), "port": number, "protocol": sp.get("protocol", "TCP")}
        if sp.get("appProtocol"):
            port["appProtocol"] = sp["appProtocol"]
        ports.append(port)
    return ports


def pod_to_endpoint(pod: Obj, service: Obj, node: Obj | None) -> Obj:
    """podToEndpoint: ready = serving and not terminating, unless publishNotReadyAddresses."""
    meta, spec = pod["metadata"], pod.get("spec") or {}
    publish = bool((service.get("spec") or {}).get("publishNotReadyAddresses"))
    serving = publish or is_pod_ready(pod)
    terminating = bool(meta.get("deletionTimestamp"))
    endpoint: Obj = {
        "addresses": [pod["status"]["podIP"]],
        "conditions": {"ready": publish or (serving and not terminating), "serving": serving,
                       "terminating": terminating},
        "targetRef": {"kind": "Pod", "namespace": meta.get("namespace", ""), "name": meta["name"],
                      "uid": meta.get("uid", "")},
    }
    if spec.get("nodeName"):
        endpoint["nodeName"] = spec["nodeName"]
    zone = ((node or {}).get("metadata", {}).get("labels") or {}).get(LABEL_ZONE)
    if zone:
        endpoint["zone"] = zone
    if spec.get("hostname") and spec.get("subdomain") == service["metadata"]["name"]:
        endpoint["hostname"] = spec["hostname"]
    return endpoint


def service_labels(service: Obj, controller_name: str) -> dict[str, str]:
    """setEndpointSliceLabels: the service's labels, the headless marker, the reserved two."""
    labels = {k: v for k, v in (service["metadata"].get("labels") or {}).items() if k not in RESERVED_LABELS}
    if (service.get("spec") or {}).get("clusterIP") in (None, "", "None"):
        labels[LABEL_HEADLESS] = ""
    labels[LABEL_SERVICE_NAME] = service["metadata"]["name"]
    labels[LABEL_MANAGED_BY] = controller_name
    return labels


def new_service_slice(service: Obj, ports: list[Obj], address_type: str) -> Obj:
    meta = service["metadata"]
    return {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"generateName": slice_prefix(meta["name"]), "namespace": meta.get("namespace", ""),
                         "labels": service_labels(service, CONTROLLER_NAME),
                         "ownerReferences": [owner_ref(service, "Service")]},
            "addressType": address_type, "endpoints": [], "ports": ports}


def address_type(service: Obj) -> str:
    families = (service.get("spec") or {}).get("ipFamilies") or ["IPv4"]
    return families[0]


def desired_endpoints(service: Obj, pods: list[Obj], nodes: dict[str, Obj]) -> tuple[dict[str, Desired], list[str]]:
    """Endpoints grouped by port set, and the pods left out because their node is unknown."""
    desired: dict[str, Desired] = {}
    missing: list[str] = []
    for pod in sorted(pods, key=lambda p: p["metadata"]["name"]):
        if not should_be_endpoint(pod, include_terminating=True):
            continue
        node_name = (pod.get("spec") or {}).get("nodeName", "")
        node = nodes.get(node_name)
        if node is None:
            missing.append(pod["metadata"]["name"])
            continue
        ports = endpoint_ports(service, pod)
        desired.setdefault(port_key(ports), Desired(ports)).add(pod_to_endpoint(pod, service, node))
    return desired, missing


def plan_for_service(service: Obj, existing: list[Obj], desired: dict[str, Desired]) -> Plan:
    """reconcileByAddressType for one address family, placeholder and create→update reuse included."""
    family = address_type(service)
    labels = service_labels(service, CONTROLLER_NAME)

    def refresh(slice_: Obj) -> tuple[Obj, bool]:
        current = {k: v for k, v in (slice_["metadata"].get("labels") or {}).items() if k not in RESERVED_LABELS}
        wanted = {k: v for k, v in labels.items() if k not in RESERVED_LABELS}
        return {"labels": labels}, current != wanted

    ours = [s for s in existing if s.get("addressType") == family]
    plan = reconcile(ours, desired, lambda ports: new_service_slice(service, ports, family), refresh)
    plan.delete += [s for s in existing if s.get("addressType") != family]
    if len(plan.delete) == len(existing) and not plan.create:
        placeholder = new_service_slice(service, [], family)
        if len(plan.delete) == 1 and _is_placeholder_of(plan.delete[0], placeholder):
            plan.delete = []
        else:
            plan.create.append(placeholder)
    reuse_deleted(plan, lambda doomed, fresh: owned_by(doomed, service)
                  and doomed.get("addressType") == fresh.get("addressType"))
    return plan


def _is_placeholder_of(slice_: Obj, placeholder: Obj) -> bool:
    """placeholderSliceCompare: same labels, owners, address type, no ports, no endpoints."""
    meta, want = slice_["metadata"], placeholder["metadata"]
    return (not slice_.get("endpoints") and not slice_.get("ports")
            and slice_.get("addressType") == placeholder["addressType"]
            and (meta.get("labels") or {}) == want["labels"]
            and [r.get("uid") for r in meta.get("ownerReferences") or []] == [want["ownerReferences"][0]["uid"]])


class EndpointSliceController(SliceController):
    name = "endpointslice-controller"
    managed_by = CONTROLLER_NAME
    workers = 4

    def __init__(self, ctx: ControllerContext) -> None:
        super().__init__(ctx)
        self.services = ctx.informers.informer("services")
        self.pods = ctx.informers.informer("pods")
        self.nodes = ctx.informers.informer("nodes")
        self.services.add_handlers(on_add=self.enqueue, on_update=lambda _o, n: self.enqueue(n),
                                   on_delete=self.enqueue)
        self.pods.add_handlers(**pod_handlers(self.services, self.enqueue))

    async def sync(self, key: str) -> None:
        service = self.services.get(key)
        if service is None:
            self.writer.expected.pop(key, None)  # the garbage collector removes the owned slices
            return
        spec = service.get("spec") or {}
        if not spec.get("selector") or spec.get("type") == "ExternalName":
            return
        self.writer.check_fresh(key)
        namespace, _ = split_key(key)
        selector = selector_from_set(spec["selector"])
        pods = [p for p in self.pods.list(namespace) if selector.matches(p["metadata"].get("labels") or {})]
        nodes = {n["metadata"]["name"]: n for n in self.nodes.list()}
        desired, missing = desired_endpoints(service, pods, nodes)
        plan = plan_for_service(service, self.owned_slices(key), desired)
        if not plan.empty():
            await self.writer.apply(key, plan)
        if missing:
            raise StaleCache(f"skipping pods {', '.join(missing)} of service {key}: their nodes are not known yet")
