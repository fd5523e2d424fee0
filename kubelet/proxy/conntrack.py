"""Stale UDP conntrack flows: which to delete after a sync, as kube-proxy does.

Why: iptables DNAT is decided once per conntrack flow. A UDP client that keeps sending
(a DNS resolver, a metrics agent) keeps its flow alive forever, so without a flush it
would go on talking to an endpoint that was removed, or, if its first packet met the
REJECT of a port without endpoints, never be DNATed at all. TCP needs none of this (a
removed backend resets, and the client reconnects through the rules). So, per UDP service
port, comparing the last sync with this one:

* an endpoint that left: delete flows to the cluster IP (and to the node port) that were
  DNATed to it (`--dst-nat`);
* a port that had no endpoints and now has some: delete every flow to the cluster IP
  (and to the node port), so the next packet goes through the new DNAT rules.
"""

from __future__ import annotations

from kubelet.proxy.rules import ServicePort

Flow = tuple[str, ...]  # arguments after `conntrack -D`


def stale_flows(previous: list[ServicePort], current: list[ServicePort]) -> list[Flow]:
    """The `conntrack -D` argument lists that remove the flows this change left stale."""
    now = {sp.key: sp for sp in current if sp.protocol == "UDP"}
    flows: list[Flow] = []
    for before in (sp for sp in previous if sp.protocol == "UDP"):
        after = now.get(before.key)
        kept = {e.ip for e in after.endpoints} if after is not None else set()
        for ip in sorted({e.ip for e in before.endpoints} - kept):
            flows.append(("-p", "udp", "--orig-dst", before.cluster_ip, "--dst-nat", ip))
            if before.node_port:
                flows.append(("-p", "udp", "--orig-port-dst", str(before.node_port), "--dst-nat", ip))
    had_endpoints = {sp.key for sp in previous if sp.protocol == "UDP" and sp.endpoints}
    for sp in now.values():
        if sp.endpoints and sp.key not in had_endpoints:
            flows.append(("-p", "udp", "--orig-dst", sp.cluster_ip))
            if sp.node_port:
                flows.append(("-p", "udp", "--orig-port-dst", str(sp.node_port)))
    return list(dict.fromkeys(flows))


def deleted_nothing(stderr: str) -> bool:
    """`conntrack -D` exits 1 when no flow matched; that is not a failure."""
    return "0 flow entries have been deleted" in stderr
