"""Registry authentication: the `WWW-Authenticate` challenges a Distribution registry
answers 401 with, and the Docker token flow (docs.docker.com/registry/spec/auth/token).

Why here and not in the client: parsing is pure and unit-tested on its own; the client
(registryclient.py) only decides when to ask. A Bearer challenge names a token `realm`,
a `service` and a `scope`; the token is fetched with GET realm?service=…&scope=…,
anonymously or with Basic credentials, and is the `token` (or `access_token`) field.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field

import aiohttp
from yarl import URL

from kubelet.registryerrors import RegistryError, describe_connection_error, server_message

_PARAM = re.compile(r'\s*([!#$%&\'*+\-.^_`|~0-9A-Za-z]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^,\s]*)\s*')
_SCHEME = re.compile(r"\s*([!#$%&'*+\-.^_`|~0-9A-Za-z]+)(?:\s+|$)")


@dataclass
class Challenge:
    scheme: str  # lower case: "bearer", "basic"
    params: dict[str, str] = field(default_factory=dict)


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value


def parse_www_authenticate(header: str) -> list[Challenge]:
    """RFC 7235 challenges: `Bearer realm="…",service="…", Basic realm="…"` → [Challenge]."""
    challenges: list[Challenge] = []
    pos = 0
    while pos < len(header):
        if header[pos] in ", \t":
            pos += 1
            continue
        param = _PARAM.match(header, pos)
        if param and challenges:
            challenges[-1].params[param.group(1).lower()] = _unquote(param.group(2))
            pos = param.end()
            continue
        scheme = _SCHEME.match(header, pos)
        if scheme is None:
            break  # not a challenge: ignore the rest
        challenges.append(Challenge(scheme.group(1).lower()))
        pos = scheme.end()
    return challenges


def basic_authorization(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def token_url(challenge: Challenge, scope: str) -> URL:
    """The realm with `service` and `scope` query parameters (the challenge's scope wins)."""
    realm = challenge.params.get("realm", "")
    if not realm:
        raise RegistryError("failed to authorize: Bearer challenge without a realm")
    query: dict[str, str] = {}
    if challenge.params.get("service"):
        query["service"] = challenge.params["service"]
    wanted = challenge.params.get("scope") or scope
    if wanted:
        query["scope"] = wanted
    return URL(realm).update_query(query)


async def fetch_token(session: aiohttp.ClientSession, challenge: Challenge, scope: str,
                      credentials: tuple[str, str] | None, ssl: object) -> str:
    """GET the token realm (Basic credentials when given) → the bearer token."""
    url = token_url(challenge, scope)
    headers = {"Authorization": basic_authorization(*credentials)} if credentials else {}
    kind = "token" if credentials else "anonymous token"
    try:
        async with session.get(url, headers=headers, ssl=ssl) as resp:  # type: ignore[arg-type]
            body = await resp.read()
            if resp.status != 200:
                raise RegistryError(f"failed to authorize: failed to fetch {kind}: unexpected status from GET "
                                    f"request to {url}: {resp.status} {resp.reason}{server_message(body)}")
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise RegistryError(f"failed to authorize: failed to fetch {kind}: "
                            f"{describe_connection_error('GET', str(url), exc)}") from exc
    try:
        answer = json.loads(body)
        token = answer.get("token") or answer.get("access_token")
    except (ValueError, AttributeError):
        token = None
    if not isinstance(token, str) or not token:
        raise RegistryError(f"failed to authorize: failed to fetch {kind}: {url} answered without a token")
    return token

