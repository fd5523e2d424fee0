"""Cluster DNS against a real API server: Service and EndpointSlice changes show up in
answers over UDP and TCP, unknown names are NXDOMAIN with the zone's SOA, and names outside
the cluster domain are forwarded upstream (SERVFAIL when the upstream is silent)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from dnslib import EDNS0, QTYPE, RCODE, DNSRecord

from kubeclient.rest import ApiClient
from kubelet.dns.records import Zone
from kubelet.dns.server import DnsConfig, DnsServer, _bound, _Udp, fit_udp, run_dns
from tests.fixtures.apiserver import ApiServerProcess, free_port, running_api_server
from tests.fixtures.wait import eventually

Obj = dict[str, Any]


@pytest.fixture(scope="module")
def api_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServerProcess]:
    yield from running_api_server(tmp_path_factory.mktemp("dns-api"))


@pytest.fixture
async def client(api_server: ApiServerProcess) -> AsyncIterator[ApiClient]:
    async with ApiClient(api_server.url) as api:
        yield api


async def query(port: int, name: str, qtype: str, tcp: bool = False) -> DNSRecord:
    """dnslib's client blocks, and the server runs on this event loop: ask from a thread."""
    packet = await asyncio.to_thread(DNSRecord.question(name, qtype).send, "127.0.0.1", port, tcp=tcp, timeout=5)
    return DNSRecord.parse(packet)


def values(reply: DNSRecord) -> list[str]:
    return [str(rr.rdata) for rr in reply.rr]


@pytest.fixture
async def upstream() -> AsyncIterator[int]:
    """A second server standing in for the machine's resolver: it knows `www.default.svc.example.test`."""
    port = free_port()
    services = {"www": {"metadata": {"name": "www"}, "spec": {"clusterIP": "192.0.2.80"}}}
    zone = Zone("example.test", lambda _ns, name: services.get(name), lambda _ns, _n: [])
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(lambda: _Udp(DnsServer(zone, [])),
                                                       sock=_bound(2, "127.0.0.1", port))
    yield port
    transport.close()


async def test_services_and_slices_answer_and_follow_changes(client: ApiClient, upstream: int) -> None:
    namespace = f"dns-{uuid.uuid4().hex[:6]}"
    await client.create("namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    port = free_port()
    stop, ready = asyncio.Event(), asyncio.Event()
    config = DnsConfig(address="127.0.0.1", port=port, upstreams=[f"127.0.0.1:{upstream}", f"127.0.0.1:{free_port()}"])
    task = asyncio.create_task(run_dns(client, stop, config, ready))
    try:
        await asyncio.wait_for(ready.wait(), 30)
        web = await client.create("services", {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
                                               "spec": {"ports": [{"name": "http", "port": 80}]}}, namespace)
        name = f"web.{namespace}.svc.cluster.local"

        async def answered() -> bool:
            return values(await query(port, name, "A")) == [web["spec"]["clusterIP"]]
        await eventually(answered, 30, "the new service resolves")
        assert values(await query(port, name, "A", tcp=True)) == [web["spec"]["clusterIP"]]
        srv = await query(port, f"_http._tcp.{name}", "SRV")
        assert values(srv) == [f"0 100 80 {name}."]

        await client.create("services", {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "db"},
                                          "spec": {"clusterIP": "None", "ports": [{"port": 5432}]}}, namespace)
        await client.create("endpointslices", {
            "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": "db-1", "labels": {"kubernetes.io/service-name": "db"}},
            "addressType": "IPv4", "ports": [{"port": 5432}],
            "endpoints": [{"addresses": ["10.244.1.5"], "hostname": "db-0"},
                          {"addresses": ["10.244.1.6"], "conditions": {"ready": False}}]}, namespace)
        db = f"db.{namespace}.svc.cluster.local"

        async def headless() -> bool:
            return values(await query(port, db, "A")) == ["10.244.1.5"]
        await eventually(headless, 30, "the headless service lists its ready endpoint")
        assert values(await query(port, f"db-0.{db}", "A")) == ["10.244.1.5"]

        missing = await query(port, f"nope.{namespace}.svc.cluster.local", "A")
        assert missing.header.rcode == RCODE.NXDOMAIN
        assert [QTYPE[rr.rtype] for rr in missing.auth] == ["SOA"]
        nodata = await query(port, name, "AAAA")
        assert nodata.header.rcode == RCODE.NOERROR and not nodata.rr

        forwarded = await query(port, "www.default.svc.example.test", "A")
        assert values(forwarded) == ["192.0.2.80"]

        await client.delete("services", "web", namespace)

        async def gone() -> bool:
            return (await query(port, name, "A")).header.rcode == RCODE.NXDOMAIN
        await eventually(gone, 30, "the deleted service stops resolving")
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


async def test_silent_upstream_is_servfail() -> None:
    server = DnsServer(Zone("cluster.local", lambda _ns, _n: None, lambda _ns, _n: []), [f"127.0.0.1:{free_port()}"])
    reply = DNSRecord.parse(await server.handle(DNSRecord.question("example.org", "A").pack()))
    assert reply.header.rcode == RCODE.SERVFAIL
    assert await server.handle(b"\x00garbage") is None


def test_large_answers_are_truncated_over_udp_and_whole_over_tcp() -> None:
    endpoints = [{"addresses": [f"10.244.{i // 200}.{i % 200 + 1}"]} for i in range(80)]
    slices = [{"addressType": "IPv4", "endpoints": endpoints}]
    zone = Zone("cluster.local", lambda _ns, _n: {"metadata": {"name": "big"}, "spec": {"clusterIP": "None"}},
                lambda _ns, _n: slices)
    query = DNSRecord.question("big.ns.svc.cluster.local", "A").pack()
    whole = asyncio.run(DnsServer(zone, []).handle(query))
    assert whole is not None and len(DNSRecord.parse(whole).rr) == 80 and len(whole) > 512
    cut = DNSRecord.parse(fit_udp(query, whole))
    assert cut.header.tc == 1 and not cut.rr
    edns = DNSRecord.question("big.ns.svc.cluster.local", "A")
    edns.add_ar(EDNS0(udp_len=4096))
    assert fit_udp(edns.pack(), whole) == whole
