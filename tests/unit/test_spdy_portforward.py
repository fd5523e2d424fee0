"""SPDY/3.1 framing and the kubelet's port-forward session, driven the way kubectl drives it:
header blocks through one zlib context per direction, frames split across reads, an
error+data stream pair per connection, PING echo, and a refused dial on the error stream."""

from __future__ import annotations

import asyncio
import zlib

import pytest

from apimachinery.portforward import parse_ports
from kubelet import spdy
from kubelet.portforward import PortForwardSession


def test_dictionary_is_the_spdy3_one() -> None:
    # The checksum a SPDY/3 peer puts in its zlib header as DICTID; kubectl's must match.
    assert (len(spdy.DICTIONARY), zlib.adler32(spdy.DICTIONARY)) == (1423, 0xE3C6A7C2)


def test_header_blocks_share_one_context_per_direction() -> None:
    client, server = spdy.HeaderCodec(), spdy.HeaderCodec()
    reader = spdy.FrameReader(server)
    wire = b"".join(spdy.syn_stream(client, sid, {"streamType": kind, "port": "80", "requestID": "0"})
                    for sid, kind in ((1, "error"), (3, "data")))
    frames = reader.feed(wire[:5]) + reader.feed(wire[5:17]) + reader.feed(wire[17:])  # any chunking
    assert [(f.type, f.stream_id, f.headers) for f in frames] == [
        (spdy.SYN_STREAM, 1, {"streamtype": "error", "port": "80", "requestid": "0"}),
        (spdy.SYN_STREAM, 3, {"streamtype": "data", "port": "80", "requestid": "0"})]


@pytest.mark.parametrize(("wire", "expected"), [
    (spdy.data(3, b"hello", fin=True), (False, 0, 3, spdy.FLAG_FIN, b"hello", ())),
    (spdy.ping(7), (True, spdy.PING, 0, 0, b"\x00\x00\x00\x07", (7,))),
    (spdy.rst_stream(5, spdy.RST_CANCEL), (True, spdy.RST_STREAM, 5, 0, b"\x00\x00\x00\x05\x00\x00\x00\x05", (5,))),
    (spdy.window_update(3, 1000), (True, spdy.WINDOW_UPDATE, 3, 0, b"\x00\x00\x00\x03\x00\x00\x03\xe8", (1000,))),
])
def test_frames_round_trip(wire: bytes, expected: tuple) -> None:
    [frame] = spdy.FrameReader(spdy.HeaderCodec()).feed(wire)
    assert (frame.control, frame.type, frame.stream_id, frame.flags, frame.data, frame.extra) == expected


def test_wrong_version_is_refused() -> None:
    with pytest.raises(spdy.SpdyError, match="version 2"):
        spdy.FrameReader(spdy.HeaderCodec()).feed(b"\x80\x02\x00\x06\x00\x00\x00\x04\x00\x00\x00\x01")


class Client:
    """Plays kubectl's side: opens streams, collects what the session sends back."""

    def __init__(self) -> None:
        self.codec = spdy.HeaderCodec()
        self.reader = spdy.FrameReader(spdy.HeaderCodec())
        self.frames: list[spdy.Frame] = []

    async def receive(self, payload: bytes) -> None:
        self.frames += self.reader.feed(payload)  # one reader: the server's header context spans frames

    def data_on(self, stream: int) -> bytes:
        return b"".join(f.data for f in self.frames if not f.control and f.stream_id == stream)

    def fin_on(self, stream: int) -> bool:
        return any(not f.control and f.stream_id == stream and f.flags & spdy.FLAG_FIN for f in self.frames)


async def test_a_connection_is_echoed_through_the_stream_pair() -> None:
    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(await reader.read())
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(echo, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = Client()
    session = PortForwardSession(client.receive, "127.0.0.1", "web", "uid-1")
    try:
        await session.feed(spdy.syn_stream(client.codec, 1, {"streamType": "error", "port": str(port),
                                                             "requestID": "0"}))
        await session.feed(spdy.data(1, b"", fin=True))
        await session.feed(spdy.syn_stream(client.codec, 3, {"streamType": "data", "port": str(port),
                                                             "requestID": "0"}))
        await session.feed(spdy.data(3, b"ping-pong") + spdy.data(3, b"", fin=True) + spdy.ping(9))

        async def done() -> None:
            while not client.fin_on(3):
                await asyncio.sleep(0.01)
        await asyncio.wait_for(done(), 10)
        assert client.data_on(3) == b"ping-pong"
        assert [(f.type, f.stream_id) for f in client.frames if f.control and f.type == spdy.SYN_REPLY] == \
            [(spdy.SYN_REPLY, 1), (spdy.SYN_REPLY, 3)]
        assert any(f.control and f.type == spdy.PING and f.extra == (9,) for f in client.frames)
        assert client.data_on(1) == b""
    finally:
        await session.close()
        server.close()


async def test_a_refused_dial_is_reported_on_the_error_stream() -> None:
    probe = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    dead = probe.sockets[0].getsockname()[1]
    probe.close()
    await probe.wait_closed()
    client = Client()
    session = PortForwardSession(client.receive, "127.0.0.1", "web", "uid-1")
    await session.feed(spdy.syn_stream(client.codec, 1, {"streamType": "error", "port": str(dead), "requestID": "4"}))
    await session.feed(spdy.syn_stream(client.codec, 3, {"streamType": "data", "port": str(dead), "requestID": "4"}))

    async def reported() -> None:
        while not client.fin_on(1):
            await asyncio.sleep(0.01)
    await asyncio.wait_for(reported(), 10)
    assert client.data_on(1).decode() == (f"error forwarding port {dead} to pod web, uid uid-1: "
                                          f"dial tcp4 127.0.0.1:{dead}: connect: connection refused")
    await session.close()


async def test_a_stream_without_a_port_is_reset() -> None:
    client = Client()
    session = PortForwardSession(client.receive, "127.0.0.1", "web", "uid-1")
    await session.feed(spdy.syn_stream(client.codec, 1, {"streamType": "data", "requestID": "0"}))
    assert [(f.type, f.stream_id, f.extra) for f in client.frames] == [(spdy.RST_STREAM, 1, (spdy.RST_PROTOCOL_ERROR,))]
    assert await session.feed(spdy.goaway(1)) is False


@pytest.mark.parametrize(("values", "expected"), [
    (["80"], [80]), (["80,8080", "9090"], [80, 8080, 9090]),
    ([], 'query parameter "port" is required'),
    (["http"], 'unable to parse "http" as a port: strconv.ParseUint: parsing "http": invalid syntax'),
    (["0"], 'port "0" must be > 0'),
    (["-1"], 'unable to parse "-1" as a port: strconv.ParseUint: parsing "-1": invalid syntax'),
    (["70000"], 'unable to parse "70000" as a port: strconv.ParseUint: parsing "70000": value out of range'),
])
def test_channel_protocol_ports(values: list[str], expected: list[int] | str) -> None:
    if isinstance(expected, str):
        with pytest.raises(ValueError) as info:
            parse_ports(values)
        assert str(info.value) == expected
    else:
        assert parse_ports(values) == expected
