"""Endpoints controller: each selector Service's Endpoints lists its pods' addresses.

Ready pods go to `addresses`, the rest to `notReadyAddresses` (all to `addresses` with
`publishNotReadyAddresses`); named target ports resolve against each pod's container
ports; terminating, terminal and IP-less pods are left out (semantics.md §8.3–§8.4).
Services without a selector are left alone: their Endpoints are managed by hand.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from typing import Any

from apimachinery.errors import StatusError
from apimachinery.labels import selector_from_set
from controllers.base import Controller, ControllerContext
from controllers.podutil import is_pod_ready
from kubeclient.informer import Informer, split_key

log = logging.getLogger(__name__)
Obj = dict[str, Any]
MAX_ADDRESSES = 1000
OVER_CAPACITY = "endpoints.kubernetes.io/over-capacity"


def should_be_endpoint(pod: Obj, include_terminating: bool) -> bool:
    status = pod.get("status") or {}
    if not status.get("podIP") or status.get("phase") in ("Succeeded", "Failed"):
        return False
    return include_terminating or not pod["metadata"].get("deletionTimestamp")


def resolve_port(service_port: Obj, pod: Obj) -> int | None:
    target = service_port.get("targetPort", service_port.get("port"))
    if isinstance(target, int):
        return target
    if isinstance(target, str) and target.isdigit():
        return int(target)
    protocol = service_port.get("protocol", "TCP")
    for container in (pod.get("spec") or {}).get("containers") or []:
        for port in container.get("ports") or []:
            if port.get("name") == target and port.get("protocol", "TCP") == protocol:
                return int(port["containerPort"])
    return None


def address(pod: Obj) -> Obj:
    meta = pod["metadata"]
    entry: Obj = {"ip": pod["status"]["podIP"],
                  "targetRef": {"kind": "Pod", "namespace": meta["namespace"], "name": meta["name"],
                                "uid": meta.get("uid", "")}}
    node = (pod.get("spec") or {}).get("nodeName")
    if node:
        entry["nodeName"] = node
    return entry


def build_subsets(service: Obj, pods: list[Obj]) -> list[Obj]:
    """Group addresses by their resolved port set, as Kubernetes' RepackSubsets does."""
    spec = service.get("spec") or {}
    publish_not_ready = bool(spec.get("publishNotReadyAddresses"))
    groups: dict[tuple[tuple[Any, ...], ...], Obj] = {}
    for pod in sorted(pods, key=lambda p: (p["status"].get("podIP", ""), p["metadata"]["name"])):
        if not should_be_endpoint(pod, publish_not_ready):
            continue
        ports = []
        for sp in spec.get("ports") or []:
            number = resolve_port(sp, pod)
            if number is None:
                continue
            port: Obj = {"port": number, "protocol": sp.get("protocol", "TCP")}
            if sp.get("name"):
                port["name"] = sp["name"]
            if sp.get("appProtocol"):
                port["appProtocol"] = sp["appProtocol"]
            ports.append(port)
        if not ports and spec.get("ports"):
            continue
        key = tuple(tuple(sorted(p.items())) for p in ports)
        subset = groups.setdefault(key, {"ports": ports})
        bucket = "addresses" if publish_not_ready or is_pod_ready(pod) else "notReadyAddresses"
        subset.setdefault(bucket, []).append(address(pod))
    return [s for s in groups.values() if s.get("addresses") or s.get("notReadyAddresses")]


def pod_handlers(services: Informer, enqueue: Callable[[Obj], None]) -> dict[str, Callable[..., None]]:
    """Informer handlers that enqueue every Service selecting a changed pod (before and after
    a label change), for the controllers that publish a Service's pods."""
    def changed(pod: Obj) -> None:
        labels = pod["metadata"].get("labels") or {}
        for service in services.list(pod["metadata"].get("namespace", "")):
            selector = (service.get("spec") or {}).get("selector")
            if selector and selector_from_set(selector).matches(labels):
                enqueue(service)

    def updated(old: Obj, new: Obj) -> None:
        changed(new)
        if old["metadata"].get("labels") != new["metadata"].get("labels"):
            changed(old)

    return {"on_add": changed, "on_update": updated, "on_delete": changed}


class EndpointsController(Controller):
    name = "endpoint-controller"
    workers = 4

    def __init__(self, ctx: ControllerContext) -> None:
        super().__init__(ctx)
        self.services = ctx.informers.informer("services")
        self.pods = ctx.informers.informer("pods")
        self.endpoints = ctx.informers.informer("endpoints")
        self.services.add_handlers(on_add=self.enqueue, on_update=lambda _o, n: self.enqueue(n),
                                   on_delete=self.enqueue)
        self.pods.add_handlers(**pod_handlers(self.services, self.enqueue))

    async def sync(self, key: str) -> None:
        namespace, name = split_key(key)
        service = self.services.get(key)
        if service is None:
            await self._delete_endpoints(namespace, name)
            return
        spec = service.get("spec") or {}
        if not spec.get("selector") or spec.get("type") == "ExternalName":
            return
        selector = selector_from_set(spec["selector"])
        pods = [p for p in self.pods.list(namespace) if selector.matches(p["metadata"].get("labels") or {})]
        subsets = build_subsets(service, pods)
        annotations: dict[str, str] = {}
        total = sum(len(s.get("addresses", [])) + len(s.get("notReadyAddresses", [])) for s in subsets)
        if total > MAX_ADDRESSES:
            subsets = _truncate(subsets, MAX_ADDRESSES)
            annotations[OVER_CAPACITY] = "truncated"
        await self._write(service, subsets, annotations)

    async def _write(self, service: Obj, subsets: list[Obj], annotations: dict[str, str]) -> None:
        meta = service["metadata"]
        current = self.endpoints.get(f"{meta['namespace']}/{meta['name']}")
        labels = dict(meta.get("labels") or {})
        if current is None:
            body: Obj = {"apiVersion": "v1", "kind": "Endpoints",
                         "metadata": {"name": meta["name"], "namespace": meta["namespace"], "labels": labels},
                         "subsets": subsets}
            if annotations:
                body["metadata"]["annotations"] = annotations
            try:
                await self.client.create("endpoints", body, meta["namespace"])
            except StatusError as exc:
                if exc.code != 409:
                    raise
                self.queue.add(f"{meta['namespace']}/{meta['name']}")
            return
        wanted = copy.deepcopy(current)
        wanted["subsets"] = subsets
        wanted["metadata"]["labels"] = labels or None
        current_ann = {k: v for k, v in (current["metadata"].get("annotations") or {}).items() if k != OVER_CAPACITY}
        current_ann.update(annotations)
        wanted["metadata"]["annotations"] = current_ann or None
        if (current.get("subsets") or []) == subsets and wanted["metadata"] == current["metadata"]:
            return
        wanted["metadata"] = {k: v for k, v in wanted["metadata"].items() if v is not None}
        await self.client.update("endpoints", wanted, meta["namespace"])

    async def _delete_endpoints(self, namespace: str, name: str) -> None:
        if self.endpoints.get(f"{namespace}/{name}") is None:
            return
        try:
            await self.client.delete("endpoints", name, namespace)
        except StatusError as exc:
            if exc.code != 404:
                raise


def _truncate(subsets: list[Obj], limit: int) -> list[Obj]:
    kept: list[Obj] = []
    left = limit
    for subset in subsets:
        trimmed = {"ports": subset["ports"]}
        for bucket in ("addresses", "notReadyAddresses"):
            take = subset.get(bucket, [])[:left]
            if take:
                trimmed[bucket] = take
                left -= len(take)
        if len(trimmed) > 1:
            kept.append(trimmed)
    return kept
