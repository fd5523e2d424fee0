"""How registry failures read: containerd's and Go's net/http wording, so a kubelet
message says what the registry (or the network) answered, e.g. `unexpected status from GET
request to https://…: 401 Unauthorized: unauthorized: authentication required` or
`failed to do request: Get "https://…": dial tcp 127.0.0.1:5000: connect: connection refused`.
"""

from __future__ import annotations

import asyncio
import json
import os

import aiohttp


class RegistryError(Exception):
    """A registry (or its token server) said no; the text is the containerd-style detail."""

    def __init__(self, message: str, not_found: bool = False) -> None:
        super().__init__(message)
        self.not_found = not_found


def server_message(body: bytes) -> str:
    """A Distribution error body → `: unauthorized: authentication required` (Go's errcode text)."""
    try:
        errors = json.loads(body).get("errors") or []
    except (ValueError, AttributeError):
        return ""
    texts = [f"{str(e.get('code', '')).lower().replace('_', ' ')}: {e.get('message', '')}"
             for e in errors if isinstance(e, dict)]
    return (": " + "; ".join(texts)) if texts else ""


def describe_connection_error(method: str, url: str, exc: BaseException) -> str:
    """Go's net/http wording: `failed to do request: Get "URL": dial tcp H:P: connect: connection refused`."""
    prefix = f'failed to do request: {method.capitalize()} "{url}"'
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        cert_error = exc.certificate_error
        reason = getattr(cert_error, "verify_message", "") or str(cert_error)
        return f"{prefix}: tls: failed to verify certificate: {reason}"
    if isinstance(exc, aiohttp.ClientConnectorSSLError):
        return (f"{prefix}: tls handshake with {exc.host}:{exc.port} failed ({exc.os_error}): a plain-HTTP "
                f"registry must be marked with --insecure-registry {exc.host}:{exc.port}")
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return f"{prefix}: dial tcp: lookup {exc.host}: {exc.os_error.strerror or 'no such host'}"
    if isinstance(exc, aiohttp.ClientConnectorError):
        code = exc.os_error.errno
        reason = os.strerror(code).lower() if code else str(exc.os_error)
        return f"{prefix}: dial tcp {exc.host}:{exc.port}: connect: {reason}"
    if isinstance(exc, (TimeoutError, asyncio.TimeoutError)):
        return f"{prefix}: i/o timeout"
    return f"{prefix}: {exc}"
