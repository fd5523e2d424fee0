"""Event recorder: core/v1 Events with Kubernetes' count/lastTimestamp aggregation.

Repeats of the same (object, type, reason, message, source) within the cache's memory
update one Event (count + 1, lastTimestamp now) instead of creating a new one, as
client-go's EventCorrelator does, so a crash-looping controller cannot flood the store.
Recording never raises: events are best-effort, and a failed event is only logged.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from datetime import UTC, datetime
from typing import Any

from apimachinery.errors import StatusError
from kubeclient.rest import ApiClient

log = logging.getLogger(__name__)


def now_rfc3339() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def object_reference(obj: dict[str, Any]) -> dict[str, Any]:
    meta = obj.get("metadata") or {}
    ref = {"kind": obj.get("kind", ""), "namespace": meta.get("namespace", ""), "name": meta.get("name", ""),
           "uid": meta.get("uid", ""), "apiVersion": obj.get("apiVersion", ""),
           "resourceVersion": meta.get("resourceVersion", "")}
    return {k: v for k, v in ref.items() if v}


class EventRecorder:
    def __init__(self, client: ApiClient, component: str, host: str = "") -> None:
        self.client = client
        self.component = component
        self.host = host
        self._seen: dict[tuple[str, ...], tuple[str, str, int, float]] = {}  # key → (ns, name, count, when)
        self._tasks: set[asyncio.Task[None]] = set()

    def event(self, obj: dict[str, Any], event_type: str, reason: str, message: str, field_path: str = "") -> None:
        """Fire and forget, like client-go's recorder."""
        task = asyncio.create_task(self.record(obj, event_type, reason, message, field_path))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def record(self, obj: dict[str, Any], event_type: str, reason: str, message: str,
                     field_path: str = "") -> None:
        ref = object_reference(obj)
        if field_path:
            ref["fieldPath"] = field_path
        namespace = ref.get("namespace") or "default"
        key = (ref.get("uid", ""), ref.get("kind", ""), ref.get("name", ""), field_path, event_type, reason, message)
        now = now_rfc3339()
        try:
            previous = self._seen.get(key)
            if previous is not None and time.monotonic() - previous[3] < 600:
                ns, name, count, _ = previous
                await self.client.patch("events", name, {"count": count + 1, "lastTimestamp": now}, ns,
                                        patch_type="merge")
                self._seen[key] = (ns, name, count + 1, time.monotonic())
                return
            name = f"{ref.get('name', 'unknown')}.{int(time.time() * 1e9):x}{secrets.token_hex(2)}"
            body = {
                "apiVersion": "v1", "kind": "Event",
                "metadata": {"name": name, "namespace": namespace},
                "involvedObject": ref, "reason": reason, "message": message, "type": event_type,
                "source": {"component": self.component, **({"host": self.host} if self.host else {})},
                "firstTimestamp": now, "lastTimestamp": now, "count": 1, "eventTime": None,
                "reportingComponent": self.component, "reportingInstance": self.host,
            }
            await self.client.create("events", body, namespace)
            self._seen[key] = (namespace, name, 1, time.monotonic())
        except StatusError as exc:
            log.debug("could not record event %s/%s: %s", reason, message, exc)
            self._seen.pop(key, None)

    async def flush(self) -> None:
        if self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
