"""Service IP and NodePort allocation at create time.

Kubernetes keeps allocation bitmaps in etcd; here the set of taken addresses and ports
is read from the services watch cache, which is enough for one API server and keeps no
extra state to repair. A requested clusterIP or nodePort that is taken or out of range
is a 422 with Kubernetes' messages.
"""

from __future__ import annotations

import ipaddress
import random
from typing import Any

from apimachinery import errors
from apimachinery.errors import StatusCause
from apiserver.watchcache import WatchCache

SERVICE_CIDR = ipaddress.ip_network("10.96.0.0/12")
NODE_PORT_RANGE = range(30000, 32768)


class ServiceAllocator:
    def __init__(self, cache: WatchCache, cidr: ipaddress.IPv4Network = SERVICE_CIDR) -> None:
        self.cache = cache
        self.cidr = cidr

    def _taken(self) -> tuple[set[str], set[int]]:
        ips: set[str] = set()
        ports: set[int] = set()
        snapshot, _ = self.cache.list()
        for cached in snapshot:
            spec = cached.obj.get("spec") or {}
            if spec.get("clusterIP"):
                ips.add(spec["clusterIP"])
            for port in spec.get("ports") or []:
                if port.get("nodePort"):
                    ports.add(int(port["nodePort"]))
        return ips, ports

    async def allocate(self, service: dict[str, Any]) -> None:
        spec = service.setdefault("spec", {})
        name = service["metadata"].get("name", "")
        kind = spec.get("type", "ClusterIP")
        ips, ports = self._taken()
        causes: list[StatusCause] = []
        if kind != "ExternalName":
            self._cluster_ip(spec, ips, causes)
        if kind in ("NodePort", "LoadBalancer"):
            self._node_ports(spec, ports, causes)
        if causes:
            raise errors.invalid("Service", name, causes)

    def _cluster_ip(self, spec: dict[str, Any], taken: set[str], causes: list[StatusCause]) -> None:
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
            elif requested in taken:
                causes.append(StatusCause("FieldValueInvalid", f'Invalid value: ["{requested}"]: failed to allocate '
                                          f"IP {requested}: provided IP is already allocated", "spec.clusterIPs"))
            spec["clusterIPs"] = [requested]
            return
        hosts = self.cidr.num_addresses - 2
        for _ in range(1000):
            candidate = str(self.cidr.network_address + random.randint(10, hosts))
            if candidate not in taken:
                spec["clusterIP"] = candidate
                spec["clusterIPs"] = [candidate]
                return
        causes.append(StatusCause("FieldValueInvalid", "Internal error: range is full", "spec.clusterIPs"))

    @staticmethod
    def _node_ports(spec: dict[str, Any], taken: set[int], causes: list[StatusCause]) -> None:
        for index, port in enumerate(spec.get("ports") or []):
            requested = port.get("nodePort")
            if requested:
                if requested not in NODE_PORT_RANGE:
                    causes.append(StatusCause("FieldValueInvalid", f"Invalid value: {requested}: provided port is "
                                              "not in the valid range. The range of valid ports is 30000-32767",
                                              f"spec.ports[{index}].nodePort"))
                elif requested in taken:
                    causes.append(StatusCause("FieldValueInvalid", f"Invalid value: {requested}: provided port is "
                                              "already allocated", f"spec.ports[{index}].nodePort"))
                taken.add(requested)
                continue
            free = [p for p in NODE_PORT_RANGE if p not in taken]
            if not free:
                causes.append(StatusCause("FieldValueInvalid", "range is full", f"spec.ports[{index}].nodePort"))
                continue
            port["nodePort"] = random.choice(free)
            taken.add(port["nodePort"])
