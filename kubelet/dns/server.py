"""The cluster DNS server: UDP and TCP on one address, answers from `records.Zone`.

Why in the node agent: kube-py has no add-on pods, so each kubelet started with `--dns`
serves cluster DNS itself on its pod network's gateway, the way NodeLocal DNSCache serves
each node's pods from a local address; a pod's resolv.conf names it (see resolvconf.py).
Names outside the cluster domain are forwarded to the upstream resolvers of the machine
(as CoreDNS's `forward . /etc/resolv.conf`); without one, or when it does not answer,
the reply is SERVFAIL. The socket is bound with IP_FREEBIND so the server can start before
the first pod creates the bridge that carries its address.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dnslib import CNAME, QTYPE, RCODE, RR, SOA, SRV, TXT, A, DNSLabel, DNSRecord

from kubeclient.factory import InformerFactory
from kubeclient.rest import ApiClient
from kubelet.dns.records import Answer, Record, Zone

log = logging.getLogger(__name__)
Obj = dict[str, Any]
IP_FREEBIND = getattr(socket, "IP_FREEBIND", 15)
FORWARD_TIMEOUT = 2.0
SERVICE_INDEX = "service"


@dataclass
class DnsConfig:
    address: str = "127.0.0.1"
    port: int = 53
    domain: str = "cluster.local"
    upstreams: list[str] = field(default_factory=list)  # "ip" or "ip:port"; empty: those of /etc/resolv.conf


def system_upstreams(resolv_conf: Path = Path("/etc/resolv.conf"), exclude: str = "") -> list[str]:
    found = []
    try:
        for line in resolv_conf.read_text().splitlines():
            parts = line.split()
            if len(parts) >= 2 and parts[0] == "nameserver" and parts[1] != exclude:
                found.append(parts[1])
    except OSError:
        pass
    return found


def _rdata(record: Record) -> Any:
    if record.type == "A":
        return A(record.value)
    if record.type == "CNAME":
        return CNAME(record.value)
    if record.type == "TXT":
        return TXT(record.value)
    priority, weight, port, target = record.value.split()
    return SRV(int(priority), int(weight), int(port), target)


def build_reply(request: DNSRecord, zone: Zone, answer: Answer) -> DNSRecord:
    reply = request.reply(ra=1, aa=1)
    for record in answer.records:
        reply.add_answer(RR(record.name, getattr(QTYPE, record.type), rdata=_rdata(record), ttl=record.ttl))
    if not answer.records:
        name, soa = zone.soa()
        mname, rname, *times = soa.split()
        reply.add_auth(RR(name, QTYPE.SOA, rdata=SOA(mname, rname, tuple(int(t) for t in times)), ttl=int(times[-1])))
        if answer.nxdomain:
            reply.header.rcode = RCODE.NXDOMAIN
    return reply


class DnsServer:
    def __init__(self, zone: Zone, upstreams: list[str]) -> None:
        self.zone = zone
        self.upstreams = upstreams

    async def handle(self, data: bytes) -> bytes | None:
        try:
            request = DNSRecord.parse(data)
        except Exception:  # noqa: BLE001 - dnslib raises many kinds on garbage; garbage gets no answer
            return None
        if not request.questions:
            return None
        question = request.q
        name = str(DNSLabel(question.qname))
        if self.zone.owns(name):
            qtype = QTYPE.get(question.qtype, str(question.qtype))
            return build_reply(request, self.zone, self.zone.answer(name, str(qtype))).pack()
        return await self.forward(request, data)

    async def forward(self, request: DNSRecord, data: bytes) -> bytes:
        for upstream in self.upstreams:
            try:
                return await asyncio.wait_for(_udp_query(upstream, data), FORWARD_TIMEOUT)
            except (TimeoutError, OSError):
                continue
        reply = request.reply(ra=1)
        reply.header.rcode = RCODE.SERVFAIL
        return reply.pack()


async def _udp_query(upstream: str, data: bytes) -> bytes:
    loop = asyncio.get_running_loop()
    done: asyncio.Future[bytes] = loop.create_future()

    class Client(asyncio.DatagramProtocol):
        def datagram_received(self, reply: bytes, _addr: Any) -> None:
            if not done.done():
                done.set_result(reply)

        def error_received(self, exc: Exception) -> None:
            if not done.done():
                done.set_exception(exc)

    host, _, port = upstream.partition(":")
    transport, _ = await loop.create_datagram_endpoint(Client, remote_addr=(host, int(port or 53)))
    try:
        transport.sendto(data)
        return await done
    finally:
        transport.close()


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, server: DnsServer) -> None:
        self.server = server
        self.transport: asyncio.DatagramTransport | None = None
        self.tasks: set[asyncio.Task[None]] = set()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: Any) -> None:
        task = asyncio.get_running_loop().create_task(self._answer(data, addr))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _answer(self, data: bytes, addr: Any) -> None:
        reply = await self.server.handle(data)
        if reply is not None and self.transport is not None:
            self.transport.sendto(fit_udp(data, reply), addr)


def udp_limit(query: bytes) -> int:
    """512 bytes, or the payload size the client advertised in an EDNS0 OPT record."""
    try:
        request = DNSRecord.parse(query)
    except Exception:  # noqa: BLE001 - the query parsed once already; be safe anyway
        return 512
    sizes = [rr.rclass for rr in request.ar if rr.rtype == QTYPE.OPT]
    return max(512, sizes[0]) if sizes else 512


def fit_udp(query: bytes, reply: bytes) -> bytes:
    """A reply too big for UDP goes back empty with the TC bit, so the client asks over TCP."""
    if len(reply) <= udp_limit(query):
        return reply
    truncated = DNSRecord.parse(reply)
    truncated.rr, truncated.auth, truncated.ar = [], [], []
    truncated.header.tc = 1
    return truncated.pack()


async def _tcp_client(server: DnsServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            header = await reader.readexactly(2)
            data = await reader.readexactly(struct.unpack("!H", header)[0])
            reply = await server.handle(data)
            if reply is None:
                break
            writer.write(struct.pack("!H", len(reply)) + reply)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


def _bound(kind: int, address: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, kind)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_IP, IP_FREEBIND, 1)
    sock.bind((address, port))
    sock.setblocking(False)
    return sock


def service_index(obj: Obj) -> list[str]:
    meta = obj["metadata"]
    service = (meta.get("labels") or {}).get("kubernetes.io/service-name")
    return [f"{meta.get('namespace', '')}/{service}"] if service else []


async def run_dns(client: ApiClient, stop: asyncio.Event, config: DnsConfig,
                  ready: asyncio.Event | None = None) -> None:
    """Serve cluster DNS on config.address:port until `stop` is set."""
    informers = InformerFactory(client)
    services = informers.informer("services")
    slices = informers.informer("endpointslices")
    slices.add_indexer(SERVICE_INDEX, service_index)
    zone = Zone(config.domain, lambda ns, name: services.get(f"{ns}/{name}"),
                lambda ns, name: slices.by_index(SERVICE_INDEX, f"{ns}/{name}"))
    server = DnsServer(zone, config.upstreams or system_upstreams(exclude=config.address))
    loop = asyncio.get_running_loop()
    informers.start()
    udp, tcp = None, None
    try:
        await asyncio.gather(services.wait_synced(3600), slices.wait_synced(3600))
        udp, _ = await loop.create_datagram_endpoint(lambda: _Udp(server),
                                                     sock=_bound(socket.SOCK_DGRAM, config.address, config.port))
        tcp_sock = _bound(socket.SOCK_STREAM, config.address, config.port)
        tcp = await asyncio.start_server(lambda r, w: _tcp_client(server, r, w), sock=tcp_sock)
        log.info("cluster DNS for %s serving on %s:%d", config.domain, config.address, config.port)
        if ready is not None:
            ready.set()
        await stop.wait()
    finally:
        if udp is not None:
            udp.close()
        if tcp is not None:
            tcp.close()
        await informers.stop()
