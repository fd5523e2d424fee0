"""The part of SPDY/3.1 that `kubectl port-forward` speaks, server side.

Why here: kubectl 1.32 forwards ports over a WebSocket that tunnels a SPDY/3.1 session
(subprotocol `SPDY/3.1+portforward.k8s.io`); each forwarded connection is a pair of SPDY
streams. This module turns bytes into frames and back, with SPDY's header compression
(one zlib context per direction, primed with the dictionary from the SPDY/3 draft), so
the port-forward session above it deals only in streams and their headers.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field

VERSION = 3
SYN_STREAM, SYN_REPLY, RST_STREAM, SETTINGS, PING, GOAWAY, HEADERS, WINDOW_UPDATE = 1, 2, 3, 4, 6, 7, 8, 9
FLAG_FIN = 0x01
RST_PROTOCOL_ERROR, RST_INVALID_STREAM, RST_REFUSED_STREAM, RST_CANCEL = 1, 2, 3, 5

# The header dictionary of SPDY/3 (draft-mbelshe-httpbis-spdy-00, section 2.6.10.1): these
# words, each with a 4-byte big-endian length, then the text that follows them.
_DICTIONARY_WORDS = (
    "options", "head", "post", "put", "delete", "trace", "accept", "accept-charset", "accept-encoding",
    "accept-language", "accept-ranges", "age", "allow", "authorization", "cache-control", "connection",
    "content-base", "content-encoding", "content-language", "content-length", "content-location", "content-md5",
    "content-range", "content-type", "date", "etag", "expect", "expires", "from", "host", "if-match",
    "if-modified-since", "if-none-match", "if-range", "if-unmodified-since", "last-modified", "location",
    "max-forwards", "pragma", "proxy-authenticate", "proxy-authorization", "range", "referer", "retry-after",
    "server", "te", "trailer", "transfer-encoding", "upgrade", "user-agent", "vary", "via", "warning",
    "www-authenticate", "method", "get", "status", "200 OK", "version", "HTTP/1.1", "url", "public", "set-cookie",
    "keep-alive", "origin",
)
_DICTIONARY_TEXT = (
    "100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505"
    "203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 Unauthorized"
    "403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented503 Service Unavailable"
    "Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT"
    "chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,"
    "text/javascript,publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0."
)
DICTIONARY = b"".join(struct.pack("!I", len(w)) + w.encode() for w in _DICTIONARY_WORDS) + _DICTIONARY_TEXT.encode()


class SpdyError(Exception):
    """The peer sent something this side cannot accept; the session ends."""


@dataclass
class Frame:
    control: bool
    type: int = 0  # control frames
    stream_id: int = 0  # data frames, and control frames that name a stream
    flags: int = 0
    data: bytes = b""  # data frame payload, or the control frame's body after the fixed fields
    headers: dict[str, str] = field(default_factory=dict)  # SYN_STREAM, SYN_REPLY, HEADERS
    extra: tuple[int, ...] = ()  # RST_STREAM status, PING id, GOAWAY fields, WINDOW_UPDATE delta


class HeaderCodec:
    """One connection's two zlib contexts: SPDY compresses every header block of a direction
    in one stream, so each side must keep its (de)compressor for the whole session."""

    def __init__(self) -> None:
        self._inflate = zlib.decompressobj(zdict=DICTIONARY)
        self._deflate = zlib.compressobj(zdict=DICTIONARY)

    def decode(self, block: bytes) -> dict[str, str]:
        try:
            raw = self._inflate.decompress(block)
        except zlib.error as exc:
            raise SpdyError(f"header block: {exc}") from None
        count, at = struct.unpack_from("!I", raw, 0)[0], 4
        headers: dict[str, str] = {}
        for _ in range(count):
            (size,) = struct.unpack_from("!I", raw, at)
            name = raw[at + 4:at + 4 + size].decode()
            at += 4 + size
            (size,) = struct.unpack_from("!I", raw, at)
            headers[name.lower()] = raw[at + 4:at + 4 + size].decode().split("\x00")[0]
            at += 4 + size
        return headers

    def encode(self, headers: dict[str, str]) -> bytes:
        raw = struct.pack("!I", len(headers))
        for name, value in headers.items():
            raw += struct.pack("!I", len(name)) + name.lower().encode() + struct.pack("!I", len(value)) + value.encode()
        return self._deflate.compress(raw) + self._deflate.flush(zlib.Z_SYNC_FLUSH)


class FrameReader:
    """Bytes in (as they arrive, in any chunks), whole frames out."""

    def __init__(self, codec: HeaderCodec) -> None:
        self.codec = codec
        self.buffer = bytearray()

    def feed(self, data: bytes) -> list[Frame]:
        self.buffer += data
        frames = []
        while len(self.buffer) >= 8:
            length = int.from_bytes(self.buffer[5:8], "big")
            if len(self.buffer) < 8 + length:
                break
            head, body = bytes(self.buffer[:8]), bytes(self.buffer[8:8 + length])
            del self.buffer[:8 + length]
            frames.append(self._frame(head, body))
        return frames

    def _frame(self, head: bytes, body: bytes) -> Frame:
        flags = head[4]
        if not head[0] & 0x80:
            return Frame(False, stream_id=struct.unpack("!I", head[:4])[0] & 0x7FFFFFFF, flags=flags, data=body)
        version, kind = struct.unpack("!HH", head[:4])
        if version & 0x7FFF != VERSION:
            raise SpdyError(f"unsupported SPDY version {version & 0x7FFF}")
        frame = Frame(True, type=kind, flags=flags, data=body)
        if kind == SYN_STREAM:
            frame.stream_id = struct.unpack_from("!I", body)[0] & 0x7FFFFFFF
            frame.headers = self.codec.decode(body[10:])
        elif kind in (SYN_REPLY, HEADERS):
            frame.stream_id = struct.unpack_from("!I", body)[0] & 0x7FFFFFFF
            frame.headers = self.codec.decode(body[4:])
        elif kind in (RST_STREAM, WINDOW_UPDATE):
            stream, value = struct.unpack_from("!II", body)
            frame.stream_id, frame.extra = stream & 0x7FFFFFFF, (value,)
        elif kind == PING:
            frame.extra = struct.unpack_from("!I", body)
        elif kind == GOAWAY:
            frame.extra = struct.unpack_from("!II", body)
        return frame


def control(kind: int, body: bytes, flags: int = 0) -> bytes:
    return struct.pack("!HHI", 0x8000 | VERSION, kind, (flags << 24) | len(body)) + body


def data(stream_id: int, payload: bytes, fin: bool = False) -> bytes:
    return struct.pack("!II", stream_id & 0x7FFFFFFF, ((FLAG_FIN if fin else 0) << 24) | len(payload)) + payload


def syn_reply(codec: HeaderCodec, stream_id: int, headers: dict[str, str] | None = None, fin: bool = False) -> bytes:
    return control(SYN_REPLY, struct.pack("!I", stream_id) + codec.encode(headers or {}), FLAG_FIN if fin else 0)


def syn_stream(codec: HeaderCodec, stream_id: int, headers: dict[str, str], fin: bool = False) -> bytes:
    """What a client sends to open a stream (used by tests to play kubectl)."""
    body = struct.pack("!IIH", stream_id, 0, 0) + codec.encode(headers)
    return control(SYN_STREAM, body, FLAG_FIN if fin else 0)


def rst_stream(stream_id: int, status: int) -> bytes:
    return control(RST_STREAM, struct.pack("!II", stream_id, status))


def ping(ping_id: int) -> bytes:
    return control(PING, struct.pack("!I", ping_id))


def window_update(stream_id: int, delta: int) -> bytes:
    return control(WINDOW_UPDATE, struct.pack("!II", stream_id, delta))


def goaway(last_stream: int, status: int = 0) -> bytes:
    return control(GOAWAY, struct.pack("!II", last_stream, status))
