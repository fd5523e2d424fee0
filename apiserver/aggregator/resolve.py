"""Where an APIService's backend is, and whether it can be there at all, without I/O.

`precheck` is the part of kube-aggregator's AvailableConditionController that needs only the
Service and its Endpoints (their reasons and messages are Kubernetes' own); `locate` is its
endpoint ServiceResolver (`--enable-aggregator-routing`): kube-py dials a ready endpoint of
the Service directly, so the API server needs no service proxy on its own host. An
ExternalName Service is dialled by its external name, as Kubernetes does.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

Obj = dict[str, Any]


class Unresolvable(Exception):
    """The Service has no address to send the request to."""


@dataclass(frozen=True)
class Location:
    host: str
    port: int
    server_name: str  # TLS name the backend must present: <service>.<namespace>.svc

    def url(self, path: str = "") -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"https://{host}:{self.port}{path}"


def _false(reason: str, message: str) -> Obj:
    return {"type": "Available", "status": "False", "reason": reason, "message": message}


def precheck(ref: Obj, service: Obj | None, endpoints: Obj | None) -> Obj | None:
    """A False Available condition when the Service rules the backend out; None: probe it."""
    name, namespace, port = ref.get("name", ""), ref.get("namespace", ""), int(ref.get("port") or 443)
    if service is None:
        return _false("ServiceNotFound", f'service/{name} in "{namespace}" is not present')
    spec = service.get("spec") or {}
    if spec.get("type", "ClusterIP") != "ClusterIP":
        return None
    service_port = next((p for p in spec.get("ports") or [] if p.get("port") == port), None)
    if service_port is None:
        return _false("ServicePortError", f'service/{name} in "{namespace}" is not listening on port {port}')
    if endpoints is None:
        return _false("EndpointsNotFound", f'cannot find endpoints for service/{name} in "{namespace}"')
    port_name = service_port.get("name") or ""
    for subset in endpoints.get("subsets") or []:
        if subset.get("addresses") and any((p.get("name") or "") == port_name for p in subset.get("ports") or []):
            return None
    return _false("MissingEndpoints",
                  f'endpoints for service/{name} in "{namespace}" have no addresses with port name "{port_name}"')


def locate(ref: Obj, service: Obj | None, endpoints: Obj | None, chooser: random.Random | None = None) -> Location:
    """ResolveEndpoint: a random ready address of the Service's port, or its external name."""
    name, namespace, port = ref.get("name", ""), ref.get("namespace", ""), int(ref.get("port") or 443)
    server_name = f"{name}.{namespace}.svc"
    if service is None:
        raise Unresolvable(f'service "{name}" not found')
    spec = service.get("spec") or {}
    if spec.get("type") == "ExternalName":
        return Location(spec.get("externalName", ""), port, server_name)
    service_port = next((p for p in spec.get("ports") or [] if p.get("port") == port), None)
    if service_port is None:
        raise Unresolvable(f'no service port {port} found for service "{name}"')
    port_name = service_port.get("name") or ""
    candidates: list[tuple[str, int]] = []
    for subset in (endpoints or {}).get("subsets") or []:
        for endpoint_port in subset.get("ports") or []:
            if (endpoint_port.get("name") or "") == port_name:
                candidates += [(a["ip"], int(endpoint_port["port"])) for a in subset.get("addresses") or []
                               if a.get("ip")]
    if not candidates:
        raise Unresolvable(f'no endpoints available for service "{name}"')
    host, target = (chooser or random.Random()).choice(candidates)
    return Location(host, target, server_name)
