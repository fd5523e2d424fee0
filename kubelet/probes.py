"""Liveness, readiness and startup probes: exec, httpGet and tcpSocket, as the kubelet runs them.

`ProbeTracker` keeps one container's per-probe counters and applies
`successThreshold`/`failureThreshold`, `initialDelaySeconds` and `periodSeconds`;
`run_probe` performs one check. Readiness starts failed, liveness succeeded, startup
unknown (semantics.md §5.6).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from kubelet.runtime.interface import Runtime

Obj = dict[str, Any]


def resolve_port(port: Any, container: Obj) -> int | None:
    if isinstance(port, int):
        return port
    if isinstance(port, str) and port.isdigit():
        return int(port)
    for p in container.get("ports") or []:
        if p.get("name") == port:
            return int(p["containerPort"])
    return None


async def run_probe(probe: Obj, container: Obj, pod_ip: str, runtime: Runtime, container_id: str) -> tuple[bool, str]:
    """One check → (success, failure message)."""
    timeout = float(probe.get("timeoutSeconds", 1) or 1)
    if "exec" in probe:
        command = (probe["exec"] or {}).get("command") or []
        result = await runtime.exec(container_id, command, timeout=timeout)
        output = (result.stdout + result.stderr).decode(errors="replace").strip()
        return result.exit_code == 0, output or f"command {command} exited with {result.exit_code}"
    if "httpGet" in probe:
        get = probe["httpGet"] or {}
        port = resolve_port(get.get("port"), container)
        host = get.get("host") or pod_ip or "127.0.0.1"
        url = f"{(get.get('scheme') or 'HTTP').lower()}://{host}:{port}{get.get('path') or '/'}"
        headers = {h["name"]: h.get("value", "") for h in get.get("httpHeaders") or []}
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session, \
                    session.get(url, headers=headers, allow_redirects=False, ssl=False) as resp:
                if 200 <= resp.status < 400:
                    return True, ""
                return False, f"HTTP probe failed with statuscode: {resp.status}"
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            return False, f'Get "{url}": {exc or type(exc).__name__}'
    if "tcpSocket" in probe:
        sock = probe["tcpSocket"] or {}
        port = resolve_port(sock.get("port"), container)
        host = sock.get("host") or pod_ip or "127.0.0.1"
        try:
            _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
            writer.close()
            return True, ""
        except (OSError, TimeoutError) as exc:
            return False, f"dial tcp {host}:{port}: {exc or 'i/o timeout'}"
    return True, ""


@dataclass
class ProbeTracker:
    """Thresholded result of one probe of one container."""

    kind: str  # "liveness" | "readiness" | "startup"
    probe: Obj
    result: bool | None = None
    successes: int = 0
    failures: int = 0
    next_run: float = field(default=0.0)
    last_message: str = ""

    def __post_init__(self) -> None:
        self.result = {"readiness": False, "liveness": True, "startup": None}[self.kind]

    def due(self, now: float, started_at: float) -> bool:
        if now < started_at + float(self.probe.get("initialDelaySeconds", 0) or 0):
            return False
        return now >= self.next_run

    def record(self, ok: bool, message: str, now: float) -> bool:
        """Apply one outcome; True when the thresholded result changed."""
        self.next_run = now + float(self.probe.get("periodSeconds", 10) or 10)
        self.last_message = message
        before = self.result
        if ok:
            self.successes, self.failures = self.successes + 1, 0
            if self.successes >= int(self.probe.get("successThreshold", 1) or 1):
                self.result = True
        else:
            self.failures, self.successes = self.failures + 1, 0
            if self.failures >= int(self.probe.get("failureThreshold", 3) or 3):
                self.result = False
        return before != self.result


def trackers_for(container: Obj) -> dict[str, ProbeTracker]:
    out = {}
    for kind in ("startup", "liveness", "readiness"):
        probe = container.get(f"{kind}Probe")
        if probe:
            out[kind] = ProbeTracker(kind, probe)
    return out


def monotonic() -> float:
    return time.monotonic()
