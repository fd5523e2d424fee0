"""`kubectl port-forward`'s session on the kubelet: SPDY streams to TCP connections in a pod.

Why in the kubelet: only the node reaches its pods' addresses, so the API server relays
the client's WebSocket here and this side ends the tunnelled SPDY session. The protocol
(portforward.k8s.io): for every local connection the client opens an `error` stream and a
`data` stream with the same `requestID` and `port` headers; the kubelet answers each with
SYN_REPLY, dials the pod's port, pumps bytes both ways on the data stream (FIN closes a
direction), and reports a failed dial on the error stream, as the kubelet's
`handleStreamPair` does. PINGs are echoed; flow control windows are refilled as data
is consumed.

The official Python client speaks the older channel protocol instead (`v4.channel.k8s.io`,
`?ports=80,8080`): one TCP connection per requested port for the WebSocket's life, port
i on channels 2i (data) and 2i+1 (error), each channel opened by a frame holding the port
number (two bytes, little-endian); `forward_channels` serves it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from kubelet import spdy

log = logging.getLogger(__name__)
Send = Callable[[bytes], Awaitable[None]]
CHUNK = 32 * 1024


@dataclass
class Pair:
    port: int
    error_stream: int = 0
    data_stream: int = 0
    inbound: asyncio.Queue[bytes | None] = field(default_factory=asyncio.Queue)  # client → pod; None = FIN
    task: asyncio.Task[None] | None = None


class PortForwardSession:
    def __init__(self, send: Send, pod_ip: str, pod_name: str, pod_uid: str) -> None:
        self._send_raw = send
        self._lock = asyncio.Lock()
        self.pod_ip, self.pod_name, self.pod_uid = pod_ip, pod_name, pod_uid
        self.codec = spdy.HeaderCodec()
        self.reader = spdy.FrameReader(self.codec)
        self.pairs: dict[str, Pair] = {}
        self.by_stream: dict[int, Pair] = {}

    async def send(self, payload: bytes) -> None:
        async with self._lock:  # frames from many pumps must not interleave
            await self._send_raw(payload)

    async def feed(self, chunk: bytes) -> bool:
        """Handle what the client sent; False once the session is over (GOAWAY)."""
        for frame in self.reader.feed(chunk):
            if not frame.control:
                await self._data(frame)
            elif frame.type == spdy.SYN_STREAM:
                await self._open(frame)
            elif frame.type == spdy.RST_STREAM:
                self._reset(frame.stream_id)
            elif frame.type == spdy.PING:
                await self.send(spdy.ping(frame.extra[0]))
            elif frame.type == spdy.GOAWAY:
                return False
        return True

    async def _open(self, frame: spdy.Frame) -> None:
        headers, stream = frame.headers, frame.stream_id
        try:
            port = int(headers.get("port", ""))
        except ValueError:
            await self.send(spdy.rst_stream(stream, spdy.RST_PROTOCOL_ERROR))
            return
        kind, request = headers.get("streamtype", ""), headers.get("requestid", str(stream))
        if kind not in ("error", "data"):
            await self.send(spdy.rst_stream(stream, spdy.RST_PROTOCOL_ERROR))
            return
        pair = self.pairs.setdefault(request, Pair(port))
        self.by_stream[stream] = pair
        await self.send(spdy.syn_reply(self.codec, stream))
        if kind == "error":
            pair.error_stream = stream
        else:
            pair.data_stream = stream
            pair.task = asyncio.create_task(self._forward(request, pair))

    async def _data(self, frame: spdy.Frame) -> None:
        pair = self.by_stream.get(frame.stream_id)
        if pair is None or frame.stream_id != pair.data_stream:
            return  # the client only ever closes its side of the error stream
        if frame.data:
            pair.inbound.put_nowait(frame.data)
            await self.send(spdy.window_update(frame.stream_id, len(frame.data)))
        if frame.flags & spdy.FLAG_FIN:
            pair.inbound.put_nowait(None)

    def _reset(self, stream: int) -> None:
        pair = self.by_stream.get(stream)
        if pair is not None and pair.task is not None:
            pair.task.cancel()

    async def _forward(self, request: str, pair: Pair) -> None:
        try:
            reader, writer = await asyncio.open_connection(self.pod_ip, pair.port)
        except OSError as exc:
            why = "connect: connection refused" if isinstance(exc, ConnectionRefusedError) else str(exc)
            await self._fail(pair, f"error forwarding port {pair.port} to pod {self.pod_name}, uid {self.pod_uid}: "
                                   f"dial tcp4 {self.pod_ip}:{pair.port}: {why}")
            return
        try:
            await asyncio.gather(self._to_pod(pair, writer), self._from_pod(pair, reader))
        except (OSError, asyncio.CancelledError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
            self.pairs.pop(request, None)

    async def _to_pod(self, pair: Pair, writer: asyncio.StreamWriter) -> None:
        while (chunk := await pair.inbound.get()) is not None:
            writer.write(chunk)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()

    async def _from_pod(self, pair: Pair, reader: asyncio.StreamReader) -> None:
        while chunk := await reader.read(CHUNK):
            await self.send(spdy.data(pair.data_stream, chunk))
        await self.send(spdy.data(pair.data_stream, b"", fin=True))

    async def _fail(self, pair: Pair, message: str) -> None:
        log.info("port-forward: %s", message)
        if pair.error_stream:
            await self.send(spdy.data(pair.error_stream, message.encode(), fin=True))
        await self.send(spdy.data(pair.data_stream, b"", fin=True))

    async def close(self) -> None:
        tasks = [p.task for p in self.by_stream.values() if p.task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def forward_channels(ws: Any, pod_ip: str, pod_name: str, pod_uid: str, ports: list[int]) -> None:
    """The channel protocol on an accepted WebSocket (aiohttp's WebSocketResponse)."""
    writers: dict[int, asyncio.StreamWriter] = {}
    pumps: list[asyncio.Task[None]] = []
    try:
        for index, port in enumerate(ports):
            for channel in (2 * index, 2 * index + 1):
                await ws.send_bytes(bytes([channel]) + port.to_bytes(2, "little"))
            try:
                reader, writer = await asyncio.open_connection(pod_ip, port)
            except OSError as exc:
                why = "connect: connection refused" if isinstance(exc, ConnectionRefusedError) else str(exc)
                message = (f"error forwarding port {port} to pod {pod_name}, uid {pod_uid}: "
                           f"dial tcp4 {pod_ip}:{port}: {why}")
                await ws.send_bytes(bytes([2 * index + 1]) + message.encode())
                continue
            writers[2 * index] = writer
            pumps.append(asyncio.create_task(_channel_from_pod(ws, 2 * index, reader)))
        async for message in ws:
            if message.type != aiohttp.WSMsgType.BINARY:
                break
            writer = writers.get(message.data[0]) if message.data else None
            if writer is not None and len(message.data) > 1:
                writer.write(message.data[1:])
                await writer.drain()
    except (OSError, ConnectionError):
        pass
    finally:
        for task in pumps:
            task.cancel()
        await asyncio.gather(*pumps, return_exceptions=True)
        for writer in writers.values():
            writer.close()
        await ws.close()


async def _channel_from_pod(ws: Any, channel: int, reader: asyncio.StreamReader) -> None:
    while chunk := await reader.read(CHUNK):
        await ws.send_bytes(bytes([channel]) + chunk)
