"""Per-kind rules the generic registry applies on create, update and delete.

Kubernetes keeps these in each type's `strategy.go`: what a create wipes (status),
what an update may not touch (status via the main resource, spec via `/status`),
when `metadata.generation` moves, which kinds delete gracefully and which orphan their
dependents by default. Keeping them in one table-like module makes the registry generic.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from apimachinery.timeutil import now_rfc3339
from apiserver.resources import ResourceInfo


@dataclass(frozen=True)
class Strategy:
    kind_key: tuple[str, str]
    tracks_generation: bool = False  # generation = 1 on create, +1 on spec change
    generation_on_annotations: bool = False  # Deployment: annotations bump generation too
    has_status: bool = False  # a /status subresource splits spec from status
    keep_status_on_create: bool = False  # Node: status may be set on create
    meta_kept_on_status: tuple[str, ...] = ()  # metadata fields a /status write cannot change
    graceful: bool = False  # Pod: DELETE sets deletionTimestamp and waits for the kubelet
    orphan_by_default: bool = False  # Job: a DELETE without a policy orphans dependents
    spec_keys: tuple[str, ...] = ("spec",)  # the top-level fields whose change bumps generation

    def prepare_for_create(self, obj: dict[str, Any]) -> None:
        if self.has_status and not self.keep_status_on_create:
            obj["status"] = {}
        if self.kind_key == ("", "Pod"):
            obj["status"] = {"phase": "Pending", "qosClass": qos_class(obj.get("spec") or {})}
        elif self.kind_key == ("", "Namespace"):
            obj["status"] = {"phase": "Active"}
            labels = obj["metadata"].setdefault("labels", {})
            labels["kubernetes.io/metadata.name"] = obj["metadata"]["name"]
        elif self.kind_key == ("batch", "Job"):
            _job_selector(obj)
        elif self.kind_key == ("apiregistration.k8s.io", "APIService") \
                and not isinstance((obj.get("spec") or {}).get("service"), dict):
            obj["status"] = {"conditions": [local_available_condition(now_rfc3339())]}
        if self.tracks_generation:
            obj["metadata"]["generation"] = 1
        else:
            obj["metadata"].pop("generation", None)

    def prepare_for_update(self, new: dict[str, Any], old: dict[str, Any]) -> None:
        """Main-resource update: status changes are dropped; generation follows spec."""
        if self.has_status:
            if "status" in old:
                new["status"] = copy.deepcopy(old["status"])
            else:
                new.pop("status", None)
        if self.kind_key == ("", "Namespace"):
            new["metadata"].setdefault("labels", {})["kubernetes.io/metadata.name"] = new["metadata"]["name"]
        elif self.kind_key == ("", "Service"):
            _keep_allocated_values(new, old)
        self._bump_generation(new, old)

    def prepare_for_status_update(self, new: dict[str, Any], old: dict[str, Any]) -> None:
        """`/status` update: spec changes are dropped; generation never moves."""
        for key, value in old.items():
            if key not in ("metadata", "status", "kind", "apiVersion"):
                new[key] = copy.deepcopy(value)
        for key in [k for k in new if k not in old and k not in ("metadata", "status", "kind", "apiVersion")]:
            del new[key]
        for meta_key in self.meta_kept_on_status:
            kept = old["metadata"].get(meta_key)
            if kept is None:
                new["metadata"].pop(meta_key, None)
            else:
                new["metadata"][meta_key] = copy.deepcopy(kept)
        new["metadata"]["generation"] = old["metadata"].get("generation")
        if new["metadata"]["generation"] is None:
            new["metadata"].pop("generation")

    def _bump_generation(self, new: dict[str, Any], old: dict[str, Any]) -> None:
        old_gen = old["metadata"].get("generation")
        if not self.tracks_generation:
            if old_gen is None:
                new["metadata"].pop("generation", None)
            else:
                new["metadata"]["generation"] = old_gen
            return
        changed = any(new.get(key) != old.get(key) for key in self.spec_keys)
        if self.generation_on_annotations:
            changed = changed or (new["metadata"].get("annotations") or {}) != (old["metadata"].get("annotations") or {})
        new["metadata"]["generation"] = (old_gen or 1) + (1 if changed else 0)


def local_available_condition(now: str) -> dict[str, Any]:
    """What a local APIService (one without a service) always says."""
    return {"type": "Available", "status": "True", "lastTransitionTime": now, "reason": "Local",
            "message": "Local APIServices are always available"}


def qos_class(spec: dict[str, Any]) -> str:
    """Kubernetes' QoS: Guaranteed when every container's cpu and memory requests equal
    limits, BestEffort when nothing is requested or limited, Burstable otherwise."""
    containers = list(spec.get("containers") or []) + list(spec.get("initContainers") or [])
    any_set = False
    guaranteed = bool(containers)
    for container in containers:
        res = container.get("resources") or {}
        limits, requests = res.get("limits") or {}, res.get("requests") or {}
        if limits or requests:
            any_set = True
        for name in ("cpu", "memory"):
            limit = limits.get(name)
            if limit is None or str(requests.get(name, limit)) != str(limit):
                guaranteed = False
    if not any_set:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"


def _keep_allocated_values(new: dict[str, Any], old: dict[str, Any]) -> None:
    """An update that leaves clusterIP or nodePorts empty keeps the allocated ones (patchAllocatedValues)."""
    new_spec, old_spec = new.setdefault("spec", {}), old.get("spec") or {}
    for key in ("clusterIP", "clusterIPs"):
        if not new_spec.get(key) and old_spec.get(key):
            new_spec[key] = copy.deepcopy(old_spec[key])
    if new_spec.get("type") not in ("NodePort", "LoadBalancer") and old_spec.get("type") in ("NodePort",
                                                                                          "LoadBalancer"):
        # dropTypeDependentFields: leaving NodePort drops the nodePorts the user did not change.
        old_node_ports = {p.get("nodePort") for p in old_spec.get("ports") or []}
        for port in new_spec.get("ports") or []:
            if port.get("nodePort") in old_node_ports:
                port.pop("nodePort", None)
        if new_spec.get("externalTrafficPolicy") == old_spec.get("externalTrafficPolicy") \
                and not new_spec.get("externalIPs"):
            new_spec.pop("externalTrafficPolicy", None)
    if new_spec.get("type") == "ExternalName" and old_spec.get("type") != "ExternalName":
        for key in ("clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"):
            if new_spec.get(key) == old_spec.get(key):
                new_spec.pop(key, None)
    if new_spec.get("type") in ("NodePort", "LoadBalancer"):
        old_ports = {(p.get("port"), p.get("protocol", "TCP")): p.get("nodePort") for p in old_spec.get("ports") or []}
        for port in new_spec.get("ports") or []:
            if not port.get("nodePort"):
                allocated = old_ports.get((port.get("port"), port.get("protocol", "TCP")))
                if allocated:
                    port["nodePort"] = allocated


def _job_selector(job: dict[str, Any]) -> None:
    """A Job without `manualSelector: true` gets a selector on its own uid, as Kubernetes does."""
    spec = job.setdefault("spec", {})
    if spec.get("manualSelector"):
        return
    uid, name = job["metadata"]["uid"], job["metadata"]["name"]
    template_meta = spec.setdefault("template", {}).setdefault("metadata", {})
    labels = template_meta.get("labels") or {}
    labels.update({
        "batch.kubernetes.io/controller-uid": uid,
        "batch.kubernetes.io/job-name": name,
        "controller-uid": uid,
        "job-name": name,
    })
    template_meta["labels"] = labels
    spec["selector"] = {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}


_STRATEGIES: dict[tuple[str, str], Strategy] = {
    s.kind_key: s
    for s in (
        Strategy(("", "Namespace"), has_status=True),
        Strategy(("", "Node"), has_status=True, keep_status_on_create=True),
        Strategy(("", "Pod"), has_status=True, graceful=True),
        Strategy(("", "Service"), has_status=True),
        Strategy(("", "Endpoints")),
        Strategy(("", "Event")),
        Strategy(("apps", "Deployment"), tracks_generation=True, generation_on_annotations=True,
                 has_status=True, meta_kept_on_status=("labels",)),
        Strategy(("apps", "ReplicaSet"), tracks_generation=True, has_status=True),
        Strategy(("batch", "Job"), tracks_generation=True, has_status=True, orphan_by_default=True),
        Strategy(("coordination.k8s.io", "Lease")),
        # EndpointSlices have no spec: any change to their body bumps generation.
        Strategy(("discovery.k8s.io", "EndpointSlice"), tracks_generation=True,
                 spec_keys=("addressType", "endpoints", "ports")),
        Strategy(("apiregistration.k8s.io", "APIService"), has_status=True,
                 meta_kept_on_status=("labels", "annotations", "finalizers", "ownerReferences")),
    )
}


def strategy_for(resource: ResourceInfo) -> Strategy:
    return _STRATEGIES[(resource.group, resource.kind)]
