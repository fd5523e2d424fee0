"""Watch streams with a chosen Accept header (Table watches for `get -w`, JSON for rollout status).

kubeclient's `ApiClient.watch` speaks JSON only; kubectl's `get -w` asks for Tables, so this reads
the same newline-delimited event stream over the client's connection pool with its own headers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import orjson

from apimachinery.errors import StatusError
from kubeclient.rest import status_error
from kubectl_py.session import Session


async def watch_events(session: Session, path: str, params: dict[str, Any], accept: str = "application/json") \
        -> AsyncIterator[dict[str, Any]]:
    query = {k: str(v) for k, v in {**params, "watch": "true"}.items() if v not in (None, "")}
    timeout = aiohttp.ClientTimeout(total=None, sock_read=None)
    api = session.api
    try:
        async with api.session.get(api.server + path, params=query, headers={"Accept": accept},
                                   timeout=timeout) as resp:
            if resp.status >= 400:
                raise status_error(resp.status, await resp.read())
            async for line in resp.content:
                if not line.strip():
                    continue
                event = orjson.loads(line)
                if event.get("type") == "ERROR":
                    obj = event.get("object") or {}
                    raise status_error(int(obj.get("code") or 500), orjson.dumps(obj))
                yield event
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise StatusError(503, "ServiceUnavailable", f"watch to {api.server} broke: {exc}") from exc
