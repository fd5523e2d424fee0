"""The service proxy's rule rendering, table-driven: what iptables gets for each Service shape.

Rendering is pure, so these pin the exact rules (probabilities, DNAT with -p, affinity,
NodePorts, REJECT without endpoints, stale-chain removal) without touching any netns.
"""

from __future__ import annotations

from typing import Any

import pytest

from kubelet.proxy import rules
from kubelet.proxy.rules import Endpoint, ServicePort

Obj = dict[str, Any]


def service(name: str = "web", *, kind: str = "ClusterIP", cluster_ip: str = "10.96.0.10",
            ports: list[Obj] | None = None, **spec: Any) -> Obj:
    body: Obj = {"type": kind, "ports": ports if ports is not None else [{"port": 80, "protocol": "TCP"}], **spec}
    if cluster_ip:
        body["clusterIP"] = cluster_ip
    return {"metadata": {"namespace": "ns", "name": name}, "spec": body}


def slice_of(ports: list[Obj], *endpoints: Obj, address_type: str = "IPv4") -> Obj:
    return {"metadata": {"namespace": "ns", "name": "web-x", "labels": {"kubernetes.io/service-name": "web"}},
            "addressType": address_type, "ports": [{"name": "", "protocol": "TCP", **p} for p in ports],
            "endpoints": list(endpoints)}


def ep(ip: str, ready: bool | None = True, serving: bool | None = None, terminating: bool | None = None) -> Obj:
    conditions = {k: v for k, v in (("ready", ready), ("serving", serving), ("terminating", terminating))
                  if v is not None}
    return {"addresses": [ip], "conditions": conditions}


def endpoints(ips: list[str], port: int = 8080, name: str = "", not_ready: list[str] | None = None) -> list[Obj]:
    """One slice as the EndpointSlice controller writes it for these ready / not-ready pods."""
    return [slice_of([{"port": port, "name": name}], *(ep(ip) for ip in ips),
                     *(ep(ip, ready=False, serving=False, terminating=False) for ip in not_ready or []))]


def svc_rules(blob: str, chain: str) -> list[str]:
    return [line for line in blob.splitlines() if line.startswith(f"-A {chain} ")]


@pytest.mark.parametrize(("ips", "probabilities"), [
    (["10.1.0.2"], [None]),
    (["10.1.0.2", "10.1.0.3"], ["0.5000000000", None]),
    (["10.1.0.2", "10.1.0.3", "10.1.0.4"], ["0.3333333333", "0.5000000000", None]),
])
def test_probabilities_split_evenly(ips: list[str], probabilities: list[str | None]) -> None:
    [sp] = rules.service_ports(service(), endpoints(ips))
    blob = rules.render([sp])
    jumps = [r for r in svc_rules(blob, sp.svc_chain) if "-j KP-SEP-" in r]
    assert len(jumps) == len(ips)
    for rule, chance, ip in zip(jumps, probabilities, ips, strict=True):
        assert f"-> {ip}:8080" in rule
        if chance is None:
            assert "statistic" not in rule
        else:
            assert f"-m statistic --mode random --probability {chance} " in rule


def test_dnat_rules_carry_the_protocol() -> None:
    udp = service(ports=[{"port": 53, "protocol": "UDP", "name": "dns"}])
    [sp] = rules.service_ports(udp, [slice_of([{"name": "dns", "port": 5353, "protocol": "UDP"}], ep("10.1.0.2"))])
    blob = rules.render([sp])
    [dnat] = [line for line in blob.splitlines() if "DNAT" in line]
    assert dnat == (f'-A {sp.sep_chain(Endpoint("10.1.0.2", 5353))} -m comment --comment "ns/web:dns" '
                    "-p udp -m udp -j DNAT --to-destination 10.1.0.2:5353")
    assert f'-A KP-SERVICES -m comment --comment "ns/web:dns cluster IP" -p udp -m udp -d 10.96.0.10/32 ' \
           f"--dport 53 -j {sp.svc_chain}" in blob
    for line in blob.splitlines():
        if "DNAT" in line:
            assert "-p " in line


def test_no_endpoints_rejects_and_has_no_dnat() -> None:
    [sp] = rules.service_ports(service(kind="NodePort", ports=[{"port": 80, "nodePort": 30080}]), [])
    blob = rules.render([sp])
    assert "DNAT" not in blob and sp.svc_chain not in blob
    assert ('-A KP-SERVICES -m comment --comment "ns/web has no endpoints" -p tcp -m tcp -d 10.96.0.10/32 '
            "--dport 80 -j REJECT --reject-with icmp-port-unreachable") in blob
    assert ('-A KP-EXTERNAL-SERVICES -m comment --comment "ns/web has no endpoints" -m addrtype --dst-type LOCAL '
            "-p tcp -m tcp --dport 30080 -j REJECT --reject-with icmp-port-unreachable") in blob


def test_only_ready_addresses_are_proxied() -> None:
    [sp] = rules.service_ports(service(), endpoints(["10.1.0.2"], not_ready=["10.1.0.3"]))
    assert sp.endpoints == (Endpoint("10.1.0.2", 8080),)
    assert "10.1.0.3" not in rules.render([sp])


@pytest.mark.parametrize(("endpoints_", "expected"), [
    # Ready (or unset, which means ready) endpoints take the traffic; terminating ones only
    # when none is ready, and then only those still serving (KEP-1669).
    ([ep("10.1.0.2"), ep("10.1.0.3", ready=None)], ["10.1.0.2", "10.1.0.3"]),
    ([ep("10.1.0.2"), ep("10.1.0.3", ready=False, serving=True, terminating=True)], ["10.1.0.2"]),
    ([ep("10.1.0.3", ready=False, serving=True, terminating=True),
      ep("10.1.0.4", ready=False, serving=False, terminating=True)], ["10.1.0.3"]),
    ([ep("10.1.0.5", ready=False, serving=False, terminating=False)], []),
])
def test_terminating_endpoints_are_a_fallback(endpoints_: list[Obj], expected: list[str]) -> None:
    [sp] = rules.service_ports(service(), [slice_of([{"port": 8080}], *endpoints_)])
    assert [e.ip for e in sp.endpoints] == expected


def test_endpoints_from_every_slice_of_the_service_and_only_ipv4() -> None:
    slices = [slice_of([{"port": 8080}], ep("10.1.0.3")), slice_of([{"port": 8080}], ep("10.1.0.2")),
              slice_of([{"port": 8080}], ep("fd00::1"), address_type="IPv6")]
    [sp] = rules.service_ports(service(), slices)
    assert sp.endpoints == (Endpoint("10.1.0.2", 8080), Endpoint("10.1.0.3", 8080))


@pytest.mark.parametrize(("ports", "ep_ports", "expected"), [
    # Named service ports take the endpoints port with the same name; unmatched names get none.
    ([{"name": "http", "port": 80}, {"name": "metrics", "port": 9090}],
     [{"name": "http", "port": 8080}, {"name": "metrics", "port": 9100}],
     {"ns/web:http": [8080], "ns/web:metrics": [9100]}),
    ([{"name": "http", "port": 80}, {"name": "admin", "port": 81}],
     [{"name": "http", "port": 8080}],
     {"ns/web:http": [8080], "ns/web:admin": []}),
    ([{"port": 80}], [{"port": 8080}], {"ns/web": [8080]}),
])
def test_named_ports(ports: list[Obj], ep_ports: list[Obj], expected: dict[str, list[int]]) -> None:
    slices = [slice_of(ep_ports, ep("10.1.0.2"))]
    found = {sp.key: [e.port for e in sp.endpoints] for sp in rules.service_ports(service(ports=ports), slices)}
    assert found == expected


def test_nodeport_goes_through_ext_chain_and_masquerades() -> None:
    [sp] = rules.service_ports(service(kind="NodePort", ports=[{"port": 80, "nodePort": 30080}]),
                               endpoints(["10.1.0.2"]))
    blob = rules.render([sp])
    assert sp.node_port == 30080
    assert svc_rules(blob, "KP-NODEPORTS") == [
        f'-A KP-NODEPORTS -m comment --comment "ns/web" -p tcp -m tcp --dport 30080 -j {sp.ext_chain}']
    assert svc_rules(blob, sp.ext_chain) == [
        f'-A {sp.ext_chain} -m comment --comment "masquerade traffic for ns/web external destinations" '
        "-j KP-MARK-MASQ",
        f"-A {sp.ext_chain} -j {sp.svc_chain}"]
    last = svc_rules(blob, "KP-SERVICES")[-1]
    assert last.endswith("-m addrtype --dst-type LOCAL -j KP-NODEPORTS")
    assert "-A KP-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN" in blob
    assert '-j MASQUERADE' in blob


def test_cluster_ip_service_has_no_nodeport_rules() -> None:
    [sp] = rules.service_ports(service(ports=[{"port": 80, "nodePort": 30080}]), endpoints(["10.1.0.2"]))
    assert sp.node_port == 0
    assert svc_rules(rules.render([sp]), "KP-NODEPORTS") == []


def test_client_ip_affinity_uses_recent() -> None:
    spec = {"sessionAffinity": "ClientIP", "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 60}}}
    [sp] = rules.service_ports(service(**spec), endpoints(["10.1.0.2", "10.1.0.3"]))
    blob = rules.render([sp])
    first = Endpoint("10.1.0.2", 8080)
    sep = sp.sep_chain(first)
    chain = svc_rules(blob, sp.svc_chain)
    assert chain[0] == (f'-A {sp.svc_chain} -m comment --comment "ns/web -> 10.1.0.2:8080" -m recent --name {sep} '
                        f"--mask 255.255.255.255 --rsource --rcheck --seconds 60 --reap -j {sep}")
    assert "--rcheck" in chain[1] and "statistic" in chain[2]
    assert (f"-A {sep} -m comment --comment \"ns/web\" -m recent --name {sep} --mask 255.255.255.255 --rsource "
            f"--set -p tcp -m tcp -j DNAT --to-destination 10.1.0.2:8080") in blob


def test_hairpin_traffic_is_masqueraded() -> None:
    [sp] = rules.service_ports(service(), endpoints(["10.1.0.2"]))
    sep = sp.sep_chain(Endpoint("10.1.0.2", 8080))
    assert f'-A {sep} -m comment --comment "ns/web" -s 10.1.0.2/32 -j KP-MARK-MASQ' in rules.render([sp])


@pytest.mark.parametrize("svc", [
    service(cluster_ip="None"),
    service(kind="ExternalName", cluster_ip="", externalName="example.com"),
    service(cluster_ip=""),
    service(ports=[{"port": 80, "protocol": "ICMP"}]),
])
def test_unproxied_services(svc: Obj) -> None:
    assert rules.service_ports(svc, endpoints(["10.1.0.2"])) == []


def test_chain_names_are_stable_and_short() -> None:
    sp = ServicePort("ns", "web", "http", "TCP", "10.96.0.10", 80)
    assert sp.svc_chain == rules.service_ports(service(ports=[{"port": 80, "name": "http"}]), [])[0].svc_chain
    assert sp.svc_chain.startswith("KP-SVC-") and len(sp.svc_chain) <= 28
    assert sp.ext_chain[len("KP-EXT-"):] == sp.svc_chain[len("KP-SVC-"):]
    assert len(sp.sep_chain(Endpoint("10.1.0.2", 8080))) <= 28


SAVED = """\
*filter
:INPUT ACCEPT [0:0]
:KP-SERVICES - [0:0]
:KP-EXTERNAL-SERVICES - [0:0]
-A INPUT -m conntrack --ctstate NEW -m comment --comment "kube-py externally-visible service portals" -j KP-EXTERNAL-SERVICES
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:KP-SERVICES - [0:0]
:KP-SVC-OLDOLDOLDOLDOLDOL - [0:0]
:KP-SEP-OLDOLDOLDOLDOLDOL - [0:0]
:DOCKER - [0:0]
-A PREROUTING -m comment --comment "kube-py service portals" -j KP-SERVICES
-A KP-SERVICES -d 10.96.0.9/32 -p tcp -m tcp --dport 80 -j KP-SVC-OLDOLDOLDOLDOLDOL
COMMIT
"""


def test_stale_chains_are_flushed_and_deleted_and_jumps_not_duplicated() -> None:
    existing = rules.parse_save(SAVED)
    assert existing.chains["nat"] == {"KP-SERVICES", "KP-SVC-OLDOLDOLDOLDOLDOL", "KP-SEP-OLDOLDOLDOLDOLDOL"}
    blob = rules.render([], existing)
    lines = blob.splitlines()
    for chain in ("KP-SVC-OLDOLDOLDOLDOLDOL", "KP-SEP-OLDOLDOLDOLDOLDOL"):
        assert f":{chain} - [0:0]" in lines and f"-X {chain}" in lines
        assert lines.index(f":{chain} - [0:0]") < lines.index(f"-X {chain}")
    assert "DOCKER" not in blob
    inserted = [line for line in lines if line.startswith("-I ")]
    assert not any(line.startswith("-I PREROUTING") or line.startswith("-I INPUT") for line in inserted)
    assert any(line.startswith("-I OUTPUT") and "KP-SERVICES" in line for line in inserted)
    assert any(line.startswith("-I POSTROUTING") for line in inserted)
    assert blob.count("COMMIT") == 2 and lines[0] == "*filter"


def test_cleanup_removes_everything_of_ours() -> None:
    blob = rules.cleanup_blob(rules.parse_save(SAVED))
    assert '-D PREROUTING -m comment --comment "kube-py service portals" -j KP-SERVICES' in blob
    assert "-X KP-SVC-OLDOLDOLDOLDOLDOL" in blob and "-X KP-EXTERNAL-SERVICES" in blob
    assert "DOCKER" not in blob
    assert rules.cleanup_blob(rules.Existing()) == ""


def local_slices() -> list[Obj]:
    here, there = ep("10.1.0.2"), ep("10.1.0.3")
    here["nodeName"], there["nodeName"] = "node-1", "node-2"
    return [slice_of([{"port": 8080}], here, there)]


def test_internal_traffic_policy_local_uses_only_this_nodes_endpoints() -> None:
    [sp] = rules.service_ports(service(internalTrafficPolicy="Local"), local_slices(), "node-1")
    assert sp.local_endpoints == (Endpoint("10.1.0.2", 8080),)
    blob = rules.render([sp])
    assert f'-A KP-SERVICES -m comment --comment "ns/web cluster IP" -p tcp -m tcp -d 10.96.0.10/32 --dport 80 ' \
           f"-j {sp.svl_chain}" in blob
    assert [r for r in svc_rules(blob, sp.svl_chain)] == [
        f'-A {sp.svl_chain} -m comment --comment "ns/web -> 10.1.0.2:8080" -j {sp.sep_chain(Endpoint("10.1.0.2", 8080))}']
    [elsewhere] = rules.service_ports(service(internalTrafficPolicy="Local"), local_slices(), "node-3")
    blob = rules.render([elsewhere])
    assert ('-A KP-SERVICES -m comment --comment "ns/web has no local endpoints" -p tcp -m tcp -d 10.96.0.10/32 '
            "--dport 80 -j DROP") in blob
    assert "-d 10.96.0.10/32 --dport 80 -j KP-S" not in blob  # no ClusterIP DNAT on a node without endpoints


def test_external_traffic_policy_local_keeps_the_client_address() -> None:
    svc = service(kind="NodePort", ports=[{"port": 80, "nodePort": 30080}], externalTrafficPolicy="Local")
    [sp] = rules.service_ports(svc, local_slices(), "node-1")
    blob = rules.render([sp], cluster_cidr="10.244.0.0/16")
    assert svc_rules(blob, sp.ext_chain) == [
        f'-A {sp.ext_chain} -m comment --comment "pod traffic for ns/web external destinations" '
        f"-s 10.244.0.0/16 -j {sp.svc_chain}",
        f'-A {sp.ext_chain} -m comment --comment "masquerade LOCAL traffic for ns/web external destinations" '
        "-m addrtype --src-type LOCAL -j KP-MARK-MASQ",
        f'-A {sp.ext_chain} -m comment --comment "route LOCAL traffic for ns/web external destinations" '
        f"-m addrtype --src-type LOCAL -j {sp.svc_chain}",
        f"-A {sp.ext_chain} -j {sp.svl_chain}"]
    # The ClusterIP still balances over every endpoint.
    assert f"-d 10.96.0.10/32 --dport 80 -j {sp.svc_chain}" in blob
    [elsewhere] = rules.service_ports(svc, local_slices(), "node-3")
    blob = rules.render([elsewhere])
    assert ('-A KP-EXTERNAL-SERVICES -m comment --comment "ns/web has no local endpoints" -m addrtype --dst-type '
            "LOCAL -p tcp -m tcp --dport 30080 -j DROP") in blob
    assert "--dport 30080 -j KP-EXT" not in blob
