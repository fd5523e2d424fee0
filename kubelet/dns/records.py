"""Cluster DNS answers from Services and EndpointSlices, per Kubernetes' DNS specification.

Why pure: the records a name has are the whole contract (the server around it only moves
packets), so they are computed here from plain API objects and pinned table-driven:

* `<svc>.<ns>.svc.<zone>`: A → the ClusterIP; for a headless Service, A → each ready
  endpoint (every endpoint with publishNotReadyAddresses); ExternalName → CNAME.
* `<hostname>.<svc>.<ns>.svc.<zone>`: A → the endpoint with that hostname (headless only).
* `_<port>._<proto>.<svc>.<ns>.svc.<zone>`: SRV → the service name (ClusterIP) or one
  record per endpoint (headless), for named ports.
* `<a-b-c-d>.<ns>.pod.<zone>`: A → a.b.c.d (CoreDNS's `pods insecure`).
* `dns-version.<zone>`: TXT "1.1.0".

A name inside the zone that matches nothing is NXDOMAIN; a name that exists without the
asked type is NODATA. Names outside the zone are not answered here (the server forwards).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Obj = dict[str, Any]
TTL = 5  # CoreDNS's kubernetes plugin default
SCHEMA_VERSION = "1.1.0"


@dataclass(frozen=True)
class Record:
    name: str  # fully qualified, lower case, with the trailing dot
    type: str  # A, CNAME, SRV, TXT
    value: str  # address, target name, TXT text; for SRV "priority weight port target"
    ttl: int = TTL


@dataclass
class Answer:
    records: list[Record] = field(default_factory=list)
    exists: bool = False  # the name exists in the zone (NODATA rather than NXDOMAIN)

    @property
    def nxdomain(self) -> bool:
        return not self.exists


def fqdn(name: str) -> str:
    return name.lower().rstrip(".") + "."


def ready_addresses(slices: list[Obj], publish_not_ready: bool) -> list[tuple[str, str]]:
    """(address, hostname) of the endpoints DNS publishes, in a stable order."""
    seen: dict[str, str] = {}
    for slice_ in slices:
        if slice_.get("addressType") not in ("IPv4", "IPv6"):
            continue
        for endpoint in slice_.get("endpoints") or []:
            ready = (endpoint.get("conditions") or {}).get("ready")
            if ready is False and not publish_not_ready:
                continue
            for address in (endpoint.get("addresses") or [])[:1]:
                seen.setdefault(address, endpoint.get("hostname") or "")
    return sorted(seen.items(), key=lambda item: ipaddress.ip_address(item[0]))


def _dashed(ip: str) -> str:
    return ip.replace(".", "-").replace(":", "-")


class Zone:
    """Answers for one cluster domain, from callables that read the informer caches."""

    def __init__(self, domain: str, service: Callable[[str, str], Obj | None],
                 slices: Callable[[str, str], list[Obj]]) -> None:
        self.domain = fqdn(domain)
        self.service = service  # (namespace, name) → Service or None
        self.slices = slices  # (namespace, service name) → its EndpointSlices

    def owns(self, name: str) -> bool:
        name = fqdn(name)
        return name == self.domain or name.endswith("." + self.domain)

    def soa(self) -> tuple[str, str]:
        """(name, "mname rname serial refresh retry expire minimum") for authority sections."""
        return self.domain, f"ns.dns.{self.domain} hostmaster.{self.domain} 1 7200 1800 86400 {TTL}"

    def answer(self, name: str, qtype: str) -> Answer:
        name = fqdn(name)
        labels = name[: -len(self.domain)].rstrip(".").split(".") if name != self.domain else []
        if not labels:
            return Answer(exists=True)
        if labels == ["dns-version"]:
            return self._filter(Answer([Record(name, "TXT", SCHEMA_VERSION)], True), qtype)
        if len(labels) == 3 and labels[2] == "pod":
            return self._filter(self._pod(name, labels[0]), qtype)
        if labels[-1] != "svc":
            return Answer(exists=labels == ["pod"])
        labels = labels[:-1]
        if len(labels) <= 1:
            return Answer(exists=True)  # `svc.<zone>` and `<ns>.svc.<zone>` are empty non-terminals
        if len(labels) == 2:
            return self._filter(self._service(name, labels[0], labels[1]), qtype)
        if len(labels) == 3:
            return self._filter(self._endpoint(name, labels[0], labels[1], labels[2]), qtype)
        if len(labels) == 4 and labels[0].startswith("_") and labels[1].startswith("_"):
            return self._filter(self._srv(name, labels[0][1:], labels[1][1:], labels[2], labels[3]), qtype)
        return Answer()

    @staticmethod
    def _filter(answer: Answer, qtype: str) -> Answer:
        if qtype in ("ANY", "*"):
            return answer
        kept = [r for r in answer.records if r.type == qtype or (r.type == "CNAME" and qtype != "CNAME")]
        if qtype == "CNAME":
            kept = [r for r in answer.records if r.type == "CNAME"]
        return Answer(kept, answer.exists)

    def _pod(self, name: str, dashed: str) -> Answer:
        candidate = dashed.replace("-", ".")
        try:
            ip = ipaddress.ip_address(candidate)
        except ValueError:
            return Answer()
        return Answer([Record(name, "A", str(ip))], True)

    def _service(self, name: str, svc_name: str, namespace: str) -> Answer:
        service = self.service(namespace, svc_name)
        if service is None:
            return Answer()
        spec = service.get("spec") or {}
        if spec.get("type") == "ExternalName":
            return Answer([Record(name, "CNAME", fqdn(spec.get("externalName", "")))], True)
        cluster_ip = spec.get("clusterIP") or ""
        if cluster_ip and cluster_ip != "None":
            return Answer([Record(name, "A", cluster_ip)], True)
        addresses = ready_addresses(self.slices(namespace, svc_name), bool(spec.get("publishNotReadyAddresses")))
        return Answer([Record(name, "A", ip) for ip, _ in addresses], True)

    def _endpoint(self, name: str, host: str, svc_name: str, namespace: str) -> Answer:
        service = self.service(namespace, svc_name)
        if service is None or (service.get("spec") or {}).get("clusterIP") not in (None, "", "None"):
            return Answer()
        spec = service.get("spec") or {}
        for ip, hostname in ready_addresses(self.slices(namespace, svc_name), bool(spec.get("publishNotReadyAddresses"))):
            if host in (hostname, _dashed(ip)):
                return Answer([Record(name, "A", ip)], True)
        return Answer()

    def _srv(self, name: str, port_name: str, protocol: str, svc_name: str, namespace: str) -> Answer:
        service = self.service(namespace, svc_name)
        if service is None:
            return Answer()
        spec = service.get("spec") or {}
        ports = [p for p in spec.get("ports") or []
                 if p.get("name") == port_name and p.get("protocol", "TCP").lower() == protocol]
        if not ports:
            return Answer()
        service_name = f"{svc_name}.{namespace}.svc.{self.domain}"
        cluster_ip = spec.get("clusterIP") or ""
        if cluster_ip and cluster_ip != "None":
            return Answer([Record(name, "SRV", f"0 100 {p['port']} {service_name}") for p in ports], True)
        records = []
        addresses = ready_addresses(self.slices(namespace, svc_name), bool(spec.get("publishNotReadyAddresses")))
        weight = 100 // max(1, len(addresses))
        for slice_port in _slice_ports(self.slices(namespace, svc_name), port_name, protocol):
            for ip, hostname in addresses:
                target = f"{hostname or _dashed(ip)}.{service_name}"
                records.append(Record(name, "SRV", f"0 {weight} {slice_port} {target}"))
        return Answer(records, True)


def _slice_ports(slices: list[Obj], port_name: str, protocol: str) -> list[int]:
    found = {int(p["port"]) for s in slices for p in s.get("ports") or []
             if (p.get("name") or "") == port_name and p.get("protocol", "TCP").lower() == protocol and p.get("port")}
    return sorted(found)
