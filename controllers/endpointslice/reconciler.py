"""The slice-packing half of Kubernetes' EndpointSlice reconciler, as pure functions.

Why a module of its own: both the EndpointSlice controller (endpoints from a Service's
pods) and the mirroring controller (endpoints from a hand-made Endpoints object) turn
"the endpoints that should exist, grouped by port set" into the fewest slice writes,
and Kubernetes' answer is specific enough to pin with table-driven tests: an existing
endpoint stays in the slice that holds it; a changed one is replaced in place; a slice
left empty is deleted; new endpoints fill slices already being updated (fullest first),
then the fullest unchanged slice they all fit in, then new slices of at most
`max_per_slice`; a create paired with a delete becomes an update of the deleted slice.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Obj = dict[str, Any]
PortKey = str

MAX_ENDPOINTS_PER_SLICE = 100
LABEL_SERVICE_NAME = "kubernetes.io/service-name"
LABEL_MANAGED_BY = "endpointslice.kubernetes.io/managed-by"


def port_key(ports: list[Obj] | None) -> PortKey:
    """NewPortMapKey: the identity of a port set, independent of order."""
    return json.dumps(sorted((ports or []), key=lambda p: json.dumps(p, sort_keys=True)), sort_keys=True)


def endpoint_key(endpoint: Obj) -> str:
    """hashEndpoint: addresses, hostname and the target's namespace/name say which endpoint
    this is; everything else (conditions, nodeName, zone) is a change to it."""
    ref = endpoint.get("targetRef") or {}
    return json.dumps([sorted(endpoint.get("addresses") or []), endpoint.get("hostname") or "",
                       ref.get("namespace") or "", ref.get("name") or ""])


@dataclass
class Desired:
    """The endpoints that should be published with one port set."""

    ports: list[Obj]
    endpoints: dict[str, Obj] = field(default_factory=dict)  # endpoint_key → endpoint, in insertion order

    def add(self, endpoint: Obj) -> None:
        self.endpoints.setdefault(endpoint_key(endpoint), endpoint)


@dataclass
class Plan:
    create: list[Obj] = field(default_factory=list)
    update: list[Obj] = field(default_factory=list)
    delete: list[Obj] = field(default_factory=list)

    def empty(self) -> bool:
        return not (self.create or self.update or self.delete)


NewSlice = Callable[[list[Obj]], Obj]  # ports → an unnamed slice with generateName, labels, owner
Refresh = Callable[[Obj], tuple[Obj, bool]]  # slice → (the metadata fields it should have, whether they differ)


def reconcile(existing: list[Obj], desired: dict[PortKey, Desired], new_slice: NewSlice, refresh: Refresh,
              max_per_slice: int = MAX_ENDPOINTS_PER_SLICE) -> Plan:
    """The creates, updates and deletes that turn `existing` slices into `desired`."""
    plan = Plan()
    by_ports: dict[PortKey, list[Obj]] = {}
    for slice_ in sorted(existing, key=lambda s: s["metadata"].get("name", "")):
        by_ports.setdefault(port_key(slice_.get("ports")), []).append(slice_)
    for key, wanted in desired.items():
        _reconcile_port_set(by_ports.get(key, []), wanted, new_slice, refresh, max_per_slice, plan)
    for key, slices in by_ports.items():
        if key not in desired:
            plan.delete += slices
    return plan


def _reconcile_port_set(existing: list[Obj], wanted: Desired, new_slice: NewSlice, refresh: Refresh,
                        max_per_slice: int, plan: Plan) -> None:
    left = dict(wanted.endpoints)
    to_update: list[Obj] = []
    unchanged: list[Obj] = []
    for slice_ in existing:
        kept: list[Obj] = []
        changed = False
        for endpoint in slice_.get("endpoints") or []:
            key = endpoint_key(endpoint)
            got = left.pop(key, None)
            if got is None:
                continue
            kept.append(got)
            changed = changed or got != endpoint
        metadata, metadata_changed = refresh(slice_)
        if changed or len(kept) != len(slice_.get("endpoints") or []):
            if not kept:
                plan.delete.append(slice_)
                continue
            updated = copy.deepcopy(slice_)
            updated["endpoints"] = kept
            updated["metadata"].update(copy.deepcopy(metadata))
            to_update.append(updated)
        elif metadata_changed:
            updated = copy.deepcopy(slice_)
            updated["metadata"].update(copy.deepcopy(metadata))
            to_update.append(updated)
        else:
            unchanged.append(slice_)
    remaining = list(left.values())
    # Fill the slices being written anyway, fullest first.
    for slice_ in sorted(to_update, key=lambda s: -len(s["endpoints"])):
        room = max_per_slice - len(slice_["endpoints"])
        if room > 0 and remaining:
            slice_["endpoints"] += remaining[:room]
            remaining = remaining[room:]
    while remaining:
        target = None
        if len(remaining) < max_per_slice:
            target = _slice_to_fill(unchanged, len(remaining), max_per_slice)
        if target is None:
            target = new_slice(wanted.ports)
        else:
            unchanged.remove(target)
            target = copy.deepcopy(target)
        room = max_per_slice - len(target.get("endpoints") or [])
        target["endpoints"] = list(target.get("endpoints") or []) + remaining[:room]
        remaining = remaining[room:]
        (to_update if target["metadata"].get("name") else plan.create).append(target)
    plan.update += to_update


def _slice_to_fill(slices: list[Obj], count: int, max_per_slice: int) -> Obj | None:
    """getSliceToFill: the fullest slice that still has room for all `count` endpoints."""
    best: Obj | None = None
    for slice_ in slices:
        size = len(slice_.get("endpoints") or [])
        if size + count <= max_per_slice and (best is None or size > len(best.get("endpoints") or [])):
            best = slice_
    return best


def reuse_deleted(plan: Plan, may_reuse: Callable[[Obj, Obj], bool]) -> None:
    """finalize(): a slice to create takes over a slice to delete (same owner, same address
    type) as an update, so one write replaces two."""
    index = 0
    while index < len(plan.delete) and plan.create:
        doomed, fresh = plan.delete[index], plan.create[-1]
        if may_reuse(doomed, fresh):
            plan.create.pop()
            fresh["metadata"]["name"] = doomed["metadata"]["name"]
            fresh["metadata"].pop("generateName", None)
            fresh["metadata"]["resourceVersion"] = doomed["metadata"].get("resourceVersion")
            plan.update.append(fresh)
            plan.delete.pop(index)
        else:
            index += 1


def slice_prefix(name: str) -> str:
    """getEndpointSlicePrefix: `<name>-`, or `endpointslice-` when that is not a valid prefix."""
    prefix = f"{name}-"
    return prefix if len(prefix) <= 253 and all(c.isalnum() or c in "-." for c in prefix) \
        and prefix[0].isalnum() and prefix == prefix.lower() else "endpointslice-"
