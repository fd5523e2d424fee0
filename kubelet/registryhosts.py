"""How the kubelet talks to each image registry: HTTPS verified against the system's CA
bundle (plus an optional extra CA file) unless the registry is marked insecure.

Insecure registries (Docker's `--insecure-registry`, containerd's plain-http hosts): the
`--insecure-registry host[:port]` entries (a host, host:port or an IP network in CIDR form)
and loopback addresses, as Docker treats 127.0.0.0/8. For them HTTPS is tried without
certificate checks and, when the server does not speak TLS, plain HTTP.
"""

from __future__ import annotations

import ipaddress
import ssl
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

LOOPBACK = ("127.0.0.0/8", "::1/128", "localhost")


def parse_insecure_registries(values: Iterable[str]) -> frozenset[str]:
    """Repeated and comma-separated flag values → the set (`a:5000,b` and `c` → {a:5000, b, c})."""
    return frozenset(part.strip() for value in values for part in value.split(",") if part.strip())


def split_host(endpoint: str) -> tuple[str, str]:
    """`host:port`, `[v6]:port`, `host` → (host, port or "")."""
    if endpoint.startswith("["):
        host, _, rest = endpoint[1:].partition("]")
        return host, rest.removeprefix(":")
    if endpoint.count(":") == 1:
        host, port = endpoint.split(":")
        return host, port
    return endpoint, ""


def _matches(entry: str, endpoint: str) -> bool:
    host, _ = split_host(endpoint)
    if entry in (endpoint, host):
        return True
    if "/" in entry:
        try:
            return ipaddress.ip_address(host) in ipaddress.ip_network(entry, strict=False)
        except ValueError:
            return False
    return False


@dataclass
class RegistryHosts:
    insecure: frozenset[str] = field(default_factory=lambda: frozenset(LOOPBACK))
    credentials: Mapping[str, tuple[str, str]] = field(default_factory=dict)  # host[:port] → (user, password)
    ca_file: str | None = None  # trusted in addition to the system bundle
    _verified: ssl.SSLContext | None = field(default=None, repr=False)
    _unverified: ssl.SSLContext | None = field(default=None, repr=False)

    def is_insecure(self, endpoint: str) -> bool:
        return any(_matches(entry, endpoint) for entry in self.insecure)

    def credentials_for(self, registry: str, endpoint: str) -> tuple[str, str] | None:
        return self.credentials.get(registry) or self.credentials.get(endpoint)

    def ssl_context(self, endpoint: str) -> ssl.SSLContext:
        """Verifying (system bundle + ca_file) for secure registries, not for insecure ones.
        Loading the bundle reads files: call it from a thread (the store does)."""
        if self.is_insecure(endpoint):
            if self._unverified is None:
                context = ssl.create_default_context()
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
                self._unverified = context
            return self._unverified
        if self._verified is None:
            context = ssl.create_default_context()
            if self.ca_file:
                context.load_verify_locations(cafile=self.ca_file)
            self._verified = context
        return self._verified
