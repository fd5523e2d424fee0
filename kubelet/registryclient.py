"""A Distribution (OCI registry v2) client for pulls: manifests and blobs over HTTPS (plain
HTTP only for insecure registries), answering 401 challenges with the token flow or Basic.

Why its own module: the store (images.py) only says what it wants; this decides scheme,
authorization and retries, and turns every failure into a RegistryError whose text says
what the registry (or the network) answered, the way containerd words it, e.g.
`unexpected status from GET request to https://…/manifests/1.36: 401 Unauthorized`.
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass

import aiohttp
from multidict import CIMultiDictProxy

from kubelet.imageref import ImageRef
from kubelet.registryauth import basic_authorization, fetch_token, parse_www_authenticate
from kubelet.registryerrors import RegistryError, describe_connection_error, server_message
from kubelet.registryhosts import RegistryHosts


@dataclass
class Response:
    url: str
    headers: CIMultiDictProxy[str]
    body: bytes


class RegistryClient:
    """One pull's conversation with registries; tokens are kept per registry and repository."""

    def __init__(self, session: aiohttp.ClientSession, hosts: RegistryHosts, schemes: dict[str, str]) -> None:
        self.session = session
        self.hosts = hosts
        self.schemes = schemes  # endpoint → "https"/"http", learnt once per store
        self._authorization: dict[tuple[str, str], str] = {}

    async def _ssl(self, endpoint: str) -> ssl.SSLContext:
        return await asyncio.to_thread(self.hosts.ssl_context, endpoint)

    async def _send(self, ref: ImageRef, path: str, headers: dict[str, str]) -> tuple[str, aiohttp.ClientResponse]:
        """GET with the learnt scheme; an insecure registry that does not speak TLS gets HTTP.
        → (url, response) with the body not yet read (the caller releases it)."""
        endpoint = ref.endpoint
        insecure = self.hosts.is_insecure(endpoint)
        scheme = self.schemes.get(endpoint, "https")
        while True:
            url = f"{scheme}://{endpoint}/v2/{ref.repository}/{path}"
            try:
                context = await self._ssl(endpoint) if scheme == "https" else False
                response = await self.session.get(url, headers=headers, ssl=context)
            except aiohttp.ClientSSLError as exc:
                if insecure and scheme == "https" and not isinstance(exc, aiohttp.ClientConnectorCertificateError):
                    scheme = "http"
                    continue
                raise RegistryError(describe_connection_error("GET", url, exc)) from exc
            except (aiohttp.ClientError, TimeoutError) as exc:
                raise RegistryError(describe_connection_error("GET", url, exc)) from exc
            self.schemes[endpoint] = scheme
            return url, response

    async def _authorize(self, ref: ImageRef, response: aiohttp.ClientResponse) -> str | None:
        """A 401's challenges → the Authorization header to retry with (None: nothing to try)."""
        challenges = [c for h in response.headers.getall("WWW-Authenticate", [])
                      for c in parse_www_authenticate(h)]
        credentials = self.hosts.credentials_for(ref.registry, ref.endpoint)
        bearer = next((c for c in challenges if c.scheme == "bearer"), None)
        if bearer is not None:
            realm_ssl: ssl.SSLContext | bool = True
            if bearer.params.get("realm", "").startswith("https://"):
                realm_ssl = await self._ssl(ref.endpoint)
            token = await fetch_token(self.session, bearer, f"repository:{ref.repository}:pull", credentials,
                                      realm_ssl)
            return f"Bearer {token}"
        if any(c.scheme == "basic" for c in challenges) and credentials:
            return basic_authorization(*credentials)
        return None

    async def get(self, ref: ImageRef, path: str, accept: str = "") -> Response:
        """GET /v2/<repository>/<path> → Response; RegistryError for anything but 200."""
        key = (ref.endpoint, ref.repository)
        headers = {"Accept": accept} if accept else {}
        tried_fresh = False
        while True:
            if key in self._authorization:
                headers["Authorization"] = self._authorization[key]
            url, response = await self._send(ref, path, headers)
            async with response:
                try:
                    body = await response.read()
                except (aiohttp.ClientError, TimeoutError) as exc:
                    raise RegistryError(describe_connection_error("GET", url, exc)) from exc
                if response.status == 401 and not tried_fresh:
                    tried_fresh = True
                    authorization = await self._authorize(ref, response)
                    if authorization is not None:
                        self._authorization[key] = authorization
                        continue
                if response.status == 200:
                    return Response(str(response.url), response.headers, body)
                detail = (f"unexpected status from GET request to {url}: {response.status} {response.reason}"
                          f"{server_message(body)}")
                if response.status in (401, 403):
                    raise RegistryError("pull access denied, repository does not exist or may require "
                                        f"authorization: {detail}")
                raise RegistryError(detail, not_found=response.status == 404)

