"""Services and Endpoints → one `iptables-restore --noflush` blob, kube-proxy's iptables mode.

Kept free of I/O so the exact rules can be checked table-driven. The shape follows
kube-proxy (pkg/proxy/iptables/proxier.go) with our own `KP-` prefix so that a real
kube-proxy, Docker or the CNI plugins on the same node are never touched:

* nat `KP-SERVICES` (jumped to from PREROUTING and OUTPUT): one rule per ClusterIP:port
  to `KP-SVC-<hash>`, and last a jump to `KP-NODEPORTS` for local destinations;
* `KP-SVC-<hash>`: optional ClientIP affinity (`-m recent --rcheck`), then one rule per
  ready endpoint with `statistic --probability 1/n, 1/(n-1), …, 1` to `KP-SEP-<hash>`;
* `KP-SEP-<hash>`: mark hairpin traffic (the endpoint calling its own Service) for SNAT,
  then `DNAT` with `-p PROTO` in the same rule (iptables refuses `--to-destination IP:PORT`
  without it);
* `KP-NODEPORTS` → `KP-EXT-<hash>`: mark for masquerade, then the service chain; with
  `externalTrafficPolicy: Local`, no masquerade and `KP-SVL-<hash>` (this node's endpoints
  only), pods and the node itself short-circuited to the service chain;
* `internalTrafficPolicy: Local`: the ClusterIP rule jumps to `KP-SVL-<hash>`;
* `KP-MARK-MASQ` / `KP-POSTROUTING` (from POSTROUTING): the 0x4000 mark and MASQUERADE;
* filter `KP-SERVICES` / `KP-EXTERNAL-SERVICES`: REJECT for ports with no ready endpoint,
  so clients fail fast instead of timing out; DROP for a Local policy without a local one.

Every sync rewrites all our chains in one transaction; chains we no longer want are
flushed and deleted (`-X`) in the same blob, and jumps from the built-in chains are only
inserted when the current ruleset lacks them.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from typing import Any

PREFIX = "KP-"
SERVICES = "KP-SERVICES"
EXTERNAL_SERVICES = "KP-EXTERNAL-SERVICES"
NODEPORTS = "KP-NODEPORTS"
POSTROUTING = "KP-POSTROUTING"
MARK_MASQ = "KP-MARK-MASQ"
MASQ_MARK = "0x4000"
PER_SERVICE_PREFIXES = ("KP-SVC-", "KP-SVL-", "KP-SEP-", "KP-EXT-")
NAT_FIXED = (SERVICES, NODEPORTS, POSTROUTING, MARK_MASQ)
FILTER_FIXED = (SERVICES, EXTERNAL_SERVICES)
PROXYABLE_PROTOCOLS = ("TCP", "UDP", "SCTP")

Obj = dict[str, Any]


@dataclass(frozen=True)
class Jump:
    """A rule in a built-in chain that sends traffic into one of ours."""

    table: str
    chain: str
    spec: str
    target: str

    def rule(self) -> str:
        return f"{self.spec} -j {self.target}".strip()


JUMPS = (
    Jump("nat", "PREROUTING", '-m comment --comment "kube-py service portals"', SERVICES),
    Jump("nat", "OUTPUT", '-m comment --comment "kube-py service portals"', SERVICES),
    Jump("nat", "POSTROUTING", '-m comment --comment "kube-py postrouting rules"', POSTROUTING),
    Jump("filter", "INPUT", '-m conntrack --ctstate NEW -m comment --comment "kube-py externally-visible service '
                            'portals"', EXTERNAL_SERVICES),
    Jump("filter", "FORWARD", '-m conntrack --ctstate NEW -m comment --comment "kube-py service portals"', SERVICES),
    Jump("filter", "OUTPUT", '-m conntrack --ctstate NEW -m comment --comment "kube-py service portals"', SERVICES),
)


@dataclass(frozen=True)
class Endpoint:
    ip: str
    port: int

    def __str__(self) -> str:
        return f"{self.ip}:{self.port}"


@dataclass(frozen=True)
class ServicePort:
    """One port of one Service with a cluster IP, and the endpoints that take its traffic."""

    namespace: str
    name: str
    port_name: str
    protocol: str
    cluster_ip: str
    port: int
    node_port: int = 0
    affinity_seconds: int = 0
    endpoints: tuple[Endpoint, ...] = ()
    internal_local: bool = False  # internalTrafficPolicy: Local
    external_local: bool = False  # externalTrafficPolicy: Local (NodePorts)
    local_endpoints: tuple[Endpoint, ...] = ()  # the endpoints on this proxy's node

    @property
    def key(self) -> str:
        """kube-proxy's ServicePortName string: `ns/name` plus `:port` when the port is named."""
        suffix = f":{self.port_name}" if self.port_name else ""
        return f"{self.namespace}/{self.name}{suffix}"

    @property
    def svc_chain(self) -> str:
        return "KP-SVC-" + port_proto_hash(self.key, self.protocol)

    @property
    def ext_chain(self) -> str:
        return "KP-EXT-" + port_proto_hash(self.key, self.protocol)

    @property
    def svl_chain(self) -> str:
        """The local-endpoints-only chain a Local traffic policy uses."""
        return "KP-SVL-" + port_proto_hash(self.key, self.protocol)

    @property
    def internal_endpoints(self) -> tuple[Endpoint, ...]:
        return self.local_endpoints if self.internal_local else self.endpoints

    @property
    def external_endpoints(self) -> tuple[Endpoint, ...]:
        return self.local_endpoints if self.external_local else self.endpoints

    @property
    def uses_local_chain(self) -> bool:
        return bool(self.local_endpoints) and (self.internal_local or (self.external_local and bool(self.node_port)))

    def sep_chain(self, endpoint: Endpoint) -> str:
        return "KP-SEP-" + port_proto_hash(self.key, self.protocol, str(endpoint))


@dataclass
class Existing:
    """What the current ruleset holds that matters to a sync: our chains and our jumps."""

    chains: dict[str, set[str]] = field(default_factory=lambda: {"nat": set(), "filter": set()})
    jumps: set[tuple[str, str, str]] = field(default_factory=set)


def port_proto_hash(*parts: str) -> str:
    """16 base32 characters of sha256, as kube-proxy names its chains."""
    digest = hashlib.sha256("".join(parts).encode()).digest()
    return base64.b32encode(digest).decode()[:16]


def probability(n: int) -> str:
    """kube-proxy's computeProbability, formatted `%0.10f`."""
    return f"{1.0 / n:0.10f}"


# ---- from API objects ------------------------------------------------------------------


def _has_cluster_ip(spec: Obj) -> bool:
    ip = spec.get("clusterIP") or ""
    return bool(ip) and ip != "None" and spec.get("type") != "ExternalName"


def usable_endpoints(slices: list[Obj], port_name: str, protocol: str, node_name: str = "") -> tuple[Endpoint, ...]:
    """kube-proxy's endpoint choice from a Service's EndpointSlices: the ready endpoints of
    the slice port named like the Service port; when none is ready, the serving endpoints
    that are terminating (KEP-1669), so connections drain instead of being refused. With
    `node_name`, only the endpoints on that node (for Local traffic policies)."""
    ready: set[Endpoint] = set()
    terminating: set[Endpoint] = set()
    for slice_ in slices:
        if slice_.get("addressType") != "IPv4":
            continue
        for port in slice_.get("ports") or []:
            if (port.get("name") or "") != port_name or port.get("protocol", "TCP") != protocol \
                    or not port.get("port"):
                continue
            for endpoint in slice_.get("endpoints") or []:
                if node_name and endpoint.get("nodeName") != node_name:
                    continue
                conditions = endpoint.get("conditions") or {}
                for ip in (endpoint.get("addresses") or [])[:1]:
                    if conditions.get("ready") is not False:  # unset means ready
                        ready.add(Endpoint(ip, int(port["port"])))
                    elif conditions.get("serving") is not False and conditions.get("terminating"):
                        terminating.add(Endpoint(ip, int(port["port"])))
    return tuple(sorted(ready or terminating, key=lambda e: (_ip_order(e.ip), e.port)))


def _ip_order(ip: str) -> tuple[int, ...]:
    return tuple(int(x) for x in ip.split(".")) if "." in ip else (0,)


def service_ports(service: Obj, slices: list[Obj], node_name: str = "") -> list[ServicePort]:
    """The proxyable ports of one Service (none for ExternalName or headless Services), seen
    from the proxy on `node_name` (which decides what is local)."""
    spec = service.get("spec") or {}
    if not _has_cluster_ip(spec):
        return []
    meta = service["metadata"]
    affinity = 0
    if spec.get("sessionAffinity") == "ClientIP":
        config = ((spec.get("sessionAffinityConfig") or {}).get("clientIP") or {})
        affinity = int(config.get("timeoutSeconds") or 10800)
    out: list[ServicePort] = []
    for port in spec.get("ports") or []:
        protocol = port.get("protocol", "TCP")
        if protocol not in PROXYABLE_PROTOCOLS:
            continue
        name = port.get("name") or ""
        node_port = int(port.get("nodePort") or 0) if spec.get("type") in ("NodePort", "LoadBalancer") else 0
        internal_local = spec.get("internalTrafficPolicy") == "Local"
        external_local = bool(node_port) and spec.get("externalTrafficPolicy") == "Local"
        local = usable_endpoints(slices, name, protocol, node_name) if (internal_local or external_local) else ()
        out.append(ServicePort(meta.get("namespace", ""), meta["name"], name, protocol, spec["clusterIP"],
                               int(port["port"]), node_port, affinity, usable_endpoints(slices, name, protocol),
                               internal_local, external_local, local))
    return out


# ---- from an iptables-save dump --------------------------------------------------------


def parse_save(text: str) -> Existing:
    """Our chains and jumps in an `iptables-save` dump of the nat and filter tables."""
    existing = Existing()
    table = ""
    for line in text.splitlines():
        if line.startswith("*"):
            table = line[1:].strip()
        elif line.startswith(":") and table in existing.chains:
            chain = line[1:].split(" ", 1)[0]
            if chain.startswith(PREFIX):
                existing.chains[table].add(chain)
        elif line.startswith("-A "):
            words = line.split()
            for jump in JUMPS:
                if jump.table == table and words[1] == jump.chain and words[-2:] == ["-j", jump.target]:
                    existing.jumps.add((jump.table, jump.chain, jump.target))
    return existing


# ---- rendering -------------------------------------------------------------------------


def _proto(protocol: str) -> str:
    lower = protocol.lower()
    return f"-p {lower} -m {lower}"


def _comment(text: str) -> str:
    return f'-m comment --comment "{text}"'


def _recent(chain: str) -> str:
    return f"-m recent --name {chain} --mask 255.255.255.255 --rsource"


def _balance(chain: str, sp: ServicePort, endpoints: tuple[Endpoint, ...]) -> list[str]:
    """Affinity checks, then one `statistic` rule per endpoint: 1/n, 1/(n-1), …, 1."""
    rules: list[str] = []
    if sp.affinity_seconds:
        for ep in endpoints:
            sep = sp.sep_chain(ep)
            rules.append(f"-A {chain} {_comment(f'{sp.key} -> {ep}')} {_recent(sep)} --rcheck "
                         f"--seconds {sp.affinity_seconds} --reap -j {sep}")
    count = len(endpoints)
    for index, ep in enumerate(endpoints):
        left = count - index
        chance = f" -m statistic --mode random --probability {probability(left)}" if left > 1 else ""
        rules.append(f"-A {chain} {_comment(f'{sp.key} -> {ep}')}{chance} -j {sp.sep_chain(ep)}")
    return rules


def _service_rules(sp: ServicePort, cluster_cidr: str) -> list[str]:
    """The KP-SVC chain, the KP-SVL chain for a Local policy, and one KP-SEP chain per endpoint."""
    svc = sp.svc_chain
    rules: list[str] = []
    if cluster_cidr:
        rules.append(f"-A {svc} {_comment(sp.key + ' cluster IP')} {_proto(sp.protocol)} ! -s {cluster_cidr} "
                     f"-d {sp.cluster_ip}/32 --dport {sp.port} -j {MARK_MASQ}")
    rules += _balance(svc, sp, sp.endpoints)
    if sp.uses_local_chain:
        rules += _balance(sp.svl_chain, sp, sp.local_endpoints)
    for ep in sp.endpoints:
        sep = sp.sep_chain(ep)
        rules.append(f"-A {sep} {_comment(sp.key)} -s {ep.ip}/32 -j {MARK_MASQ}")
        recent = f" {_recent(sep)} --set" if sp.affinity_seconds else ""
        rules.append(f"-A {sep} {_comment(sp.key)}{recent} {_proto(sp.protocol)} -j DNAT --to-destination {ep}")
    return rules


def _external_rules(sp: ServicePort, cluster_cidr: str) -> list[str]:
    """KP-EXT: Cluster policy masquerades and balances over every endpoint; Local keeps the
    client's address and only uses this node's endpoints, except for traffic from pods and
    from the node itself, which may go anywhere (kube-proxy's short-circuit)."""
    ext = sp.ext_chain
    if not sp.external_local:
        why = _comment(f"masquerade traffic for {sp.key} external destinations")
        return [f"-A {ext} {why} -j {MARK_MASQ}", f"-A {ext} -j {sp.svc_chain}"]
    rules = []
    if cluster_cidr:
        rules.append(f"-A {ext} {_comment(f'pod traffic for {sp.key} external destinations')} -s {cluster_cidr} "
                     f"-j {sp.svc_chain}")
    rules += [f"-A {ext} {_comment(f'masquerade LOCAL traffic for {sp.key} external destinations')} "
              f"-m addrtype --src-type LOCAL -j {MARK_MASQ}",
              f"-A {ext} {_comment(f'route LOCAL traffic for {sp.key} external destinations')} "
              f"-m addrtype --src-type LOCAL -j {sp.svc_chain}",
              f"-A {ext} -j {sp.svl_chain}"]
    return rules


def desired_nat(ports: list[ServicePort], cluster_cidr: str = "") -> tuple[list[str], list[str]]:
    """(chains, rules) of the nat table for these service ports."""
    chains: list[str] = list(NAT_FIXED)
    rules = [
        f"-A {MARK_MASQ} -j MARK --or-mark {MASQ_MARK}",
        f"-A {POSTROUTING} -m mark ! --mark {MASQ_MARK}/{MASQ_MARK} -j RETURN",
        f"-A {POSTROUTING} -j MARK --xor-mark {MASQ_MARK}",
        f"-A {POSTROUTING} {_comment('kube-py service traffic requiring SNAT')} -j MASQUERADE",
    ]
    service_rules: list[str] = []
    nodeport_rules: list[str] = []
    chain_rules: list[str] = []
    for sp in sorted(ports, key=lambda p: (p.key, p.protocol)):
        if not sp.endpoints:
            continue
        chains.append(sp.svc_chain)
        if sp.uses_local_chain:
            chains.append(sp.svl_chain)
        chains.extend(sp.sep_chain(ep) for ep in sp.endpoints)
        if sp.internal_endpoints:
            target = sp.svl_chain if sp.internal_local else sp.svc_chain
            service_rules.append(f"-A {SERVICES} {_comment(sp.key + ' cluster IP')} {_proto(sp.protocol)} "
                                 f"-d {sp.cluster_ip}/32 --dport {sp.port} -j {target}")
        chain_rules.extend(_service_rules(sp, cluster_cidr))
        if sp.node_port and sp.external_endpoints:
            chains.append(sp.ext_chain)
            nodeport_rules.append(f"-A {NODEPORTS} {_comment(sp.key)} {_proto(sp.protocol)} "
                                  f"--dport {sp.node_port} -j {sp.ext_chain}")
            chain_rules.extend(_external_rules(sp, cluster_cidr))
    last = _comment("kube-py service nodeports; NOTE: this must be the last rule in this chain")
    service_rules.append(f"-A {SERVICES} {last} -m addrtype --dst-type LOCAL -j {NODEPORTS}")
    return chains, rules + service_rules + nodeport_rules + chain_rules


def desired_filter(ports: list[ServicePort]) -> list[str]:
    """Like kube-proxy's filter chains: REJECT for ports without ready endpoints, DROP for
    Local-policy ports without an endpoint on this node."""
    rules: list[str] = []
    for sp in sorted(ports, key=lambda p: (p.key, p.protocol)):
        if not sp.endpoints:
            why, verdict = _comment(f"{sp.key} has no endpoints"), "REJECT --reject-with icmp-port-unreachable"
            internal, external = True, bool(sp.node_port)
        else:
            why, verdict = _comment(f"{sp.key} has no local endpoints"), "DROP"
            internal, external = not sp.internal_endpoints, bool(sp.node_port) and not sp.external_endpoints
        if internal:
            rules.append(f"-A {SERVICES} {why} {_proto(sp.protocol)} -d {sp.cluster_ip}/32 --dport {sp.port} "
                         f"-j {verdict}")
        if external:
            rules.append(f"-A {EXTERNAL_SERVICES} {why} -m addrtype --dst-type LOCAL {_proto(sp.protocol)} "
                         f"--dport {sp.node_port} -j {verdict}")
    return rules


def _table(name: str, chains: list[str], rules: list[str], existing: Existing) -> list[str]:
    stale = sorted(c for c in existing.chains.get(name, set())
                   if c.startswith(PER_SERVICE_PREFIXES) and c not in chains)
    lines = [f"*{name}"]
    lines += [f":{chain} - [0:0]" for chain in [*chains, *stale]]
    lines += [f"-I {j.chain} {j.rule()}" for j in JUMPS
              if j.table == name and (j.table, j.chain, j.target) not in existing.jumps]
    lines += rules
    lines += [f"-X {chain}" for chain in stale]
    lines.append("COMMIT")
    return lines


def render(ports: list[ServicePort], existing: Existing | None = None, cluster_cidr: str = "") -> str:
    """The whole blob for `iptables-restore --noflush`: filter, then nat."""
    existing = existing or Existing()
    nat_chains, nat_rules = desired_nat(ports, cluster_cidr)
    lines = _table("filter", list(FILTER_FIXED), desired_filter(ports), existing)
    lines += _table("nat", nat_chains, nat_rules, existing)
    return "\n".join(lines) + "\n"


def cleanup_blob(existing: Existing) -> str:
    """Remove every chain and jump of ours (what `kube-proxy --cleanup` does for its own)."""
    lines: list[str] = []
    for name in ("filter", "nat"):
        ours = sorted(existing.chains.get(name, set()))
        jumps = [j for j in JUMPS if j.table == name and (j.table, j.chain, j.target) in existing.jumps]
        if not ours and not jumps:
            continue
        lines.append(f"*{name}")
        lines += [f"-D {j.chain} {j.rule()}" for j in jumps]
        lines += [f":{chain} - [0:0]" for chain in ours]
        lines += [f"-X {chain}" for chain in ours]
        lines.append("COMMIT")
    return "\n".join(lines) + "\n" if lines else ""
