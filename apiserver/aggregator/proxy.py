"""Forwarding a request to an aggregated API server, as kube-aggregator's proxy handler does.

The backend is always spoken to over HTTPS, verified against the APIService's caBundle and
the name `<service>.<namespace>.svc` (or not at all with insecureSkipTLSVerify). The caller's
credentials never travel: Authorization and any client-sent `X-Remote-*` headers are dropped
and the requester's identity goes in `X-Remote-User`/`X-Remote-Group`, the front-proxy
headers aggregated servers trust. Bodies stream both ways, so watches work through it.
"""

from __future__ import annotations

import base64
import binascii
import ssl
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

import aiohttp
from aiohttp import web

from apiserver.aggregator.resolve import Location

Obj = dict[str, Any]

HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
                        "transfer-encoding", "upgrade", "host", "content-length"})
NOT_FORWARDED = frozenset({"authorization"})
IDENTITY_PREFIXES = ("x-remote-", "impersonate-")


def plain_error(message: str, status: int) -> web.Response:
    """Go's http.Error: the text, a newline, text/plain."""
    return web.Response(status=status, text=message + "\n", content_type="text/plain", charset="utf-8",
                        headers={"X-Content-Type-Options": "nosniff"})


def tls_context(spec: Obj) -> ssl.SSLContext:
    """The client TLS configuration an APIService asks for."""
    if spec.get("insecureSkipTLSVerify") is True:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    bundle = spec.get("caBundle") or ""
    if not bundle:
        return ssl.create_default_context()
    try:
        pem = base64.b64decode(bundle, validate=True).decode()
    except (binascii.Error, ValueError, UnicodeDecodeError):
        pem = str(bundle)
    return ssl.create_default_context(cadata=pem)


def upstream_headers(headers: Mapping[str, str], user: str, groups: Sequence[str], peer: str) -> list[tuple[str, str]]:
    out = [(k, v) for k, v in headers.items()
           if k.lower() not in HOP_BY_HOP and k.lower() not in NOT_FORWARDED
           and not k.lower().startswith(IDENTITY_PREFIXES)]
    out.append(("X-Remote-User", user))
    out += [("X-Remote-Group", group) for group in groups]
    if peer:
        out.append(("X-Forwarded-For", peer))
    return out


async def _body(request: web.Request) -> AsyncIterator[bytes]:
    async for chunk in request.content.iter_any():
        yield chunk


async def forward(session: aiohttp.ClientSession, request: web.Request, location: Location,
                  context: ssl.SSLContext, user: str, groups: Sequence[str]) -> web.StreamResponse:
    headers = upstream_headers(request.headers, user, groups, request.remote or "")
    data = _body(request) if request.body_exists else None
    response: web.StreamResponse | None = None
    try:
        async with session.request(request.method, location.url(request.raw_path), headers=headers, data=data,
                                   ssl=context, server_hostname=location.server_name,
                                   allow_redirects=False) as upstream:
            response = web.StreamResponse(status=upstream.status, reason=upstream.reason)
            for key, value in upstream.headers.items():
                if key.lower() not in HOP_BY_HOP:
                    response.headers.add(key, value)
            if upstream.headers.get("Content-Length") is not None and "chunked" not in \
                    upstream.headers.get("Transfer-Encoding", ""):
                response.content_length = int(upstream.headers["Content-Length"])
            await response.prepare(request)
            async for chunk in upstream.content.iter_any():
                await response.write(chunk)
            await response.write_eof()
            return response
    except (aiohttp.ClientError, ssl.SSLError, OSError) as exc:
        if response is not None and response.prepared:
            return response  # the backend went away mid-stream: the client sees the cut
        return plain_error(f"Error trying to reach service: {exc}", 503)
