"""Service IP and NodePort allocation on create and on update.

Kubernetes keeps allocation bitmaps in etcd; here the set of taken addresses and ports
is read from the services watch cache, which is enough for one API server and keeps no
extra state to repair. Two things make the cache safe to allocate from: allocation first
waits until the cache has caught up with storage (so a Service created or deleted a
moment ago counts), and values handed out to creates still in flight are held as
short-lived reservations under a lock (so concurrent creates asking for the same
nodePort or clusterIP cannot both win). A requested clusterIP or nodePort that is taken
or out of range is a 422 with Kubernetes' messages. Several API servers sharing one
store can still race; Kubernetes solves that with a CAS on the bitmap, which we do not keep.
"""

from __future__ import annotations

import asyncio
import ipaddress
import random
import time
from dataclasses import dataclass, field
from typing import Any

from apimachinery import errors
from apimachinery.errors import StatusCause
from apiserver.watchcache import WatchCache

SERVICE_CIDR = ipaddress.ip_network("10.96.0.0/12")
NODE_PORT_RANGE = range(30000, 32768)
RESERVATION_SECONDS = 10.0
FRESH_TIMEOUT = 2.0
NODE_PORT_TYPES = ("NodePort", "LoadBalancer")


@dataclass
class Taken:
    """Addresses and ports in use, each mapped to the uid of the Service holding it."""

    ips: dict[str, str] = field(default_factory=dict)
    ports: dict[int, str] = field(default_factory=dict)

    def ip_taken(self, ip: str, uid: str) -> bool:
        return ip in self.ips and self.ips[ip] != uid

    def port_taken(self, port: int, uid: str) -> bool:
        return port in self.ports and self.ports[port] != uid


@dataclass
class _Reservation:
    uid: str
    deadline: float


class ServiceAllocator:
    def __init__(self, cache: WatchCache, cidr: ipaddress.IPv4Network = SERVICE_CIDR) -> None:
        self.cache = cache
        self.cidr = cidr
        self._lock = asyncio.Lock()
        self._ips: dict[str, _Reservation] = {}
        self._ports: dict[int, _Reservation] = {}

    def _taken(self) -> Taken:
        taken = Taken()
        snapshot, _ = self.cache.list()
        for cached in snapshot:
            uid = cached.obj["metadata"].get("uid", "")
            spec = cached.obj.get("spec") or {}
            if spec.get("clusterIP") and spec["clusterIP"] != "None":
                taken.ips[spec["clusterIP"]] = uid
            for port in spec.get("ports") or []:
                if port.get("nodePort"):
                    taken.ports[int(port["nodePort"])] = uid
        now = time.monotonic()
        for table, out in ((self._ips, taken.ips), (self._ports, taken.ports)):
            for value, held in list(table.items()):
                if out.get(value) == held.uid or held.deadline < now:  # type: ignore[call-overload]
                    del table[value]  # type: ignore[arg-type]
                else:
                    out.setdefault(value, held.uid)  # type: ignore[arg-type]
        return taken

    async def _fresh_cache(self) -> None:
        try:
            await self.cache.wait_until_fresh(await self.cache.storage.current_revision(), FRESH_TIMEOUT)
        except (TimeoutError, AttributeError):
            pass

    async def allocate(self, service: dict[str, Any]) -> None:
        """Create hook: fill in clusterIP and nodePorts, or refuse the requested ones."""
        async with self._lock:
            await self._fresh_cache()
            self._assign(service, None, self._taken())

    async def allocate_update(self, service: dict[str, Any], old: dict[str, Any]) -> None:
        """Update hook: a type change may need a clusterIP or nodePorts; new nodePorts must be free."""
        async with self._lock:
            self._assign(service, old, self._taken())

    def _assign(self, service: dict[str, Any], old: dict[str, Any] | None, taken: Taken) -> None:
        spec = service.setdefault("spec", {})
        meta = service["metadata"]
        uid = meta.get("uid", "")
        kind = spec.get("type", "ClusterIP")
        causes: list[StatusCause] = []
        old_spec = (old or {}).get("spec") or {}
        if kind != "ExternalName" and not (old is not None and old_spec.get("clusterIP")
                                           and spec.get("clusterIP") == old_spec.get("clusterIP")):
            self._cluster_ip(spec, taken, uid, causes)
        if kind in NODE_PORT_TYPES:
            self._node_ports(spec, taken, uid, causes)
        if causes:
            raise errors.invalid("Service", meta.get("name", ""), causes)
        self._reserve(spec, uid)

    def _reserve(self, spec: dict[str, Any], uid: str) -> None:
        deadline = time.monotonic() + RESERVATION_SECONDS
        ip = spec.get("clusterIP")
        if ip and ip != "None":
            self._ips[ip] = _Reservation(uid, deadline)
        for port in spec.get("ports") or []:
            if port.get("nodePort"):
                self._ports[int(port["nodePort"])] = _Reservation(uid, deadline)

    def _cluster_ip(self, spec: dict[str, Any], taken: Taken, uid: str, causes: list[StatusCause]) -> None:
        requested = spec.get("clusterIP") or ""
        if requested == "None":
            spec["clusterIPs"] = ["None"]
            return
        if requested:
            try:
                address = ipaddress.ip_address(requested)
            except ValueError:
                causes.append(StatusCause("FieldValueInvalid", f'Invalid value: "{requested}": must be a valid IP '
                                          "address", "spec.clusterIPs[0]"))
                return
            if address not in self.cidr:
                causes.append(StatusCause("FieldValueInvalid", f'Invalid value: "{requested}": failed to allocate '
                                          f"IP {requested}: the provided IP ({requested}) is not in the valid range. "
                                          f"The range of valid IPs is {self.cidr}", "spec.clusterIPs"))
            elif taken.ip_taken(requested, uid):
                causes.append(StatusCause("FieldValueInvalid", f'Invalid value: ["{requested}"]: failed to allocate '
                                          f"IP {requested}: provided IP is already allocated", "spec.clusterIPs"))
            spec["clusterIPs"] = [requested]
            return
        hosts = self.cidr.num_addresses - 2
        for _ in range(1000):
            candidate = str(self.cidr.network_address + random.randint(10, hosts))
            if candidate not in taken.ips:
                spec["clusterIP"] = candidate
                spec["clusterIPs"] = [candidate]
                return
        causes.append(StatusCause("FieldValueInvalid", "Internal error: range is full", "spec.clusterIPs"))

    @staticmethod
    def _node_ports(spec: dict[str, Any], taken: Taken, uid: str, causes: list[StatusCause]) -> None:
        for index, port in enumerate(spec.get("ports") or []):
            requested = port.get("nodePort")
            if requested:
                if requested not in NODE_PORT_RANGE:
                    causes.append(StatusCause("FieldValueInvalid", f"Invalid value: {requested}: provided port is "
                                              "not in the valid range. The range of valid ports is 30000-32767",
                                              f"spec.ports[{index}].nodePort"))
                elif taken.port_taken(requested, uid):
                    causes.append(StatusCause("FieldValueInvalid", f"Invalid value: {requested}: provided port is "
                                              "already allocated", f"spec.ports[{index}].nodePort"))
                taken.ports[requested] = uid
                continue
            free = [p for p in NODE_PORT_RANGE if p not in taken.ports]
            if not free:
                causes.append(StatusCause("FieldValueInvalid", "range is full", f"spec.ports[{index}].nodePort"))
                continue
            port["nodePort"] = random.choice(free)
            taken.ports[port["nodePort"]] = uid
