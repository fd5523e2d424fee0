"""Cluster DNS: the records a name has (table-driven from Services and EndpointSlices), the
resolv.conf / hosts files a pod gets for each dnsPolicy, and which containers get them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kubeclient.rest import ApiClient
from kubelet.dns.records import Record, Zone
from kubelet.dns.resolvconf import HostResolv, hosts_file, resolv_conf
from kubelet.kubelet import DnsSettings, Kubelet
from kubelet.runtime.fake import FakeRuntime

Obj = dict[str, Any]
ZONE = "cluster.local."


def svc(name: str, **spec: Any) -> Obj:
    return {"metadata": {"name": name, "namespace": "ns"},
            "spec": {"clusterIP": "10.96.0.20", "ports": [{"name": "http", "port": 80, "protocol": "TCP"}], **spec}}


def eps(*endpoints: tuple[str, bool, str]) -> Obj:
    return {"addressType": "IPv4", "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
            "endpoints": [{"addresses": [ip], "conditions": {"ready": ready}, **({"hostname": h} if h else {})}
                          for ip, ready, h in endpoints]}


SERVICES = {
    "web": svc("web"),
    "db": svc("db", clusterIP="None"),
    "all": svc("all", clusterIP="None", publishNotReadyAddresses=True),
    "ext": svc("ext", type="ExternalName", externalName="db.example.com", clusterIP=""),
}
SLICES = {
    "db": [eps(("10.244.1.5", True, "db-0"), ("10.244.2.7", True, ""), ("10.244.1.9", False, "db-2"))],
    "all": [eps(("10.244.1.9", False, ""))],
}
zone = Zone("cluster.local", lambda ns, n: SERVICES.get(n) if ns == "ns" else None,
            lambda ns, n: SLICES.get(n, []) if ns == "ns" else [])


@pytest.mark.parametrize(("name", "qtype", "values", "nxdomain"), [
    ("web.ns.svc.cluster.local", "A", ["10.96.0.20"], False),
    ("WEB.ns.svc.cluster.local.", "A", ["10.96.0.20"], False),
    ("web.ns.svc.cluster.local", "AAAA", [], False),  # exists, no IPv6: NODATA
    ("web.other.svc.cluster.local", "A", [], True),
    ("nope.ns.svc.cluster.local", "A", [], True),
    ("db.ns.svc.cluster.local", "A", ["10.244.1.5", "10.244.2.7"], False),  # headless: ready endpoints
    ("all.ns.svc.cluster.local", "A", ["10.244.1.9"], False),  # publishNotReadyAddresses
    ("db-0.db.ns.svc.cluster.local", "A", ["10.244.1.5"], False),
    ("10-244-2-7.db.ns.svc.cluster.local", "A", ["10.244.2.7"], False),
    ("db-2.db.ns.svc.cluster.local", "A", [], True),  # not ready
    ("x.web.ns.svc.cluster.local", "A", [], True),  # endpoint names only for headless services
    ("ext.ns.svc.cluster.local", "A", ["db.example.com."], False),  # CNAME
    ("_http._tcp.web.ns.svc.cluster.local", "SRV", ["0 100 80 web.ns.svc.cluster.local."], False),
    ("_http._tcp.db.ns.svc.cluster.local", "SRV",
     ["0 50 8080 db-0.db.ns.svc.cluster.local.", "0 50 8080 10-244-2-7.db.ns.svc.cluster.local."], False),
    ("_http._udp.web.ns.svc.cluster.local", "SRV", [], True),
    ("10-1-2-3.ns.pod.cluster.local", "A", ["10.1.2.3"], False),
    ("dns-version.cluster.local", "TXT", ["1.1.0"], False),
    ("ns.svc.cluster.local", "A", [], False),
    ("svc.cluster.local", "A", [], False),
])
def test_answers(name: str, qtype: str, values: list[str], nxdomain: bool) -> None:
    answer = zone.answer(name, qtype)
    assert [r.value for r in answer.records] == values
    assert answer.nxdomain is nxdomain


def test_zone_membership_and_record_shape() -> None:
    assert zone.owns("web.ns.svc.cluster.local") and zone.owns("cluster.local.")
    assert not zone.owns("example.com") and not zone.owns("notcluster.local")
    assert zone.answer("web.ns.svc.cluster.local", "A").records == [
        Record("web.ns.svc.cluster.local.", "A", "10.96.0.20", 5)]


HOST = HostResolv.parse("# generated\nnameserver 192.0.2.53\nsearch corp.example\noptions edns0\n")


def pod(**spec: Any) -> Obj:
    return {"metadata": {"name": "p", "namespace": "team"}, "spec": spec}


@pytest.mark.parametrize(("spec", "expected"), [
    ({}, "search team.svc.cluster.local svc.cluster.local cluster.local corp.example\n"
         "nameserver 10.244.1.1\noptions ndots:5\n"),
    ({"dnsPolicy": "Default"}, "search corp.example\nnameserver 192.0.2.53\noptions edns0\n"),
    ({"hostNetwork": True}, "search corp.example\nnameserver 192.0.2.53\noptions edns0\n"),
    ({"hostNetwork": True, "dnsPolicy": "ClusterFirstWithHostNet"},
     "search team.svc.cluster.local svc.cluster.local cluster.local corp.example\n"
     "nameserver 10.244.1.1\noptions ndots:5\n"),
    ({"dnsPolicy": "None", "dnsConfig": {"nameservers": ["1.1.1.1"], "searches": ["a.b"],
                                         "options": [{"name": "ndots", "value": "2"}, {"name": "edns0"}]}},
     "search a.b\nnameserver 1.1.1.1\noptions ndots:2 edns0\n"),
    ({"dnsConfig": {"options": [{"name": "ndots", "value": "1"}]}},
     "search team.svc.cluster.local svc.cluster.local cluster.local corp.example\n"
     "nameserver 10.244.1.1\noptions ndots:1\n"),
])
def test_resolv_conf(spec: Obj, expected: str) -> None:
    assert resolv_conf(pod(**spec), ["10.244.1.1"], "cluster.local", HOST) == expected


def test_no_cluster_dns_falls_back_to_the_node() -> None:
    assert resolv_conf(pod(), [], "cluster.local", HOST) == "search corp.example\nnameserver 192.0.2.53\noptions edns0\n"


def test_hosts_file() -> None:
    text = hosts_file(pod(hostname="db-0", subdomain="db", hostAliases=[{"ip": "10.0.0.9", "hostnames": ["a", "b"]}]),
                      "10.244.1.5", "cluster.local")
    assert "127.0.0.1\tlocalhost\n" in text
    assert "10.244.1.5\tdb-0.db.team.svc.cluster.local\tdb-0\n" in text
    assert text.endswith("# Entries added by HostAliases.\n10.0.0.9\ta\tb\n")


class _IsolatedRuntime(FakeRuntime):
    isolated_rootfs = True


def test_kubelet_mounts_resolv_conf_and_hosts_only_for_isolated_containers(tmp_path: Path) -> None:
    pod_obj = {"metadata": {"name": "p", "namespace": "team", "uid": "u1"}, "spec": {"containers": [{"name": "c"}]}}
    dns = DnsSettings(cluster_dns=["10.244.1.1"])
    isolated = Kubelet(ApiClient("http://127.0.0.1:1"), "n1", _IsolatedRuntime(), data_dir=tmp_path, dns=dns)
    mounts = {m["containerPath"]: Path(m["hostPath"]) for m in isolated.mounts_for(pod_obj, {}, "10.244.1.7")}
    assert sorted(mounts) == ["/etc/hosts", "/etc/resolv.conf"]
    assert "nameserver 10.244.1.1\n" in mounts["/etc/resolv.conf"].read_text()
    assert "10.244.1.7\tp\n" in mounts["/etc/hosts"].read_text()
    shared = Kubelet(ApiClient("http://127.0.0.1:1"), "n1", FakeRuntime(), data_dir=tmp_path, dns=dns)
    assert shared.mounts_for(pod_obj, {}, "10.244.1.7") == []
