"""The scheduling queue: activeQ (priority, then FIFO), backoffQ and unschedulable pods.

Backoff is 1 s doubling to 10 s per attempt. Unschedulable pods wait for a cluster
event that could help (node added or updated, pod deleted) and are retried at least every
5 minutes anyway (semantics.md §7.1). The clock is injectable so tests need no sleeping.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Obj = dict[str, Any]
INITIAL_BACKOFF = 1.0
MAX_BACKOFF = 10.0
UNSCHEDULABLE_TIMEOUT = 300.0


def pod_key(pod: Obj) -> str:
    return f"{pod['metadata'].get('namespace', '')}/{pod['metadata']['name']}"


@dataclass
class QueuedPod:
    pod: Obj
    attempts: int = 0
    timestamp: float = 0.0  # when it (re)entered activeQ
    last_attempt: float = 0.0
    moved_during_cycle: bool = False


@dataclass
class SchedulingQueue:
    clock: Callable[[], float] = time.monotonic
    initial_backoff: float = INITIAL_BACKOFF
    max_backoff: float = MAX_BACKOFF
    _active: list[tuple[int, float, int, str]] = field(default_factory=list)
    _backoff: list[tuple[float, int, str]] = field(default_factory=list)
    _unschedulable: dict[str, QueuedPod] = field(default_factory=dict)
    _pods: dict[str, QueuedPod] = field(default_factory=dict)  # every queued pod by key
    _where: dict[str, str] = field(default_factory=dict)  # key → "active" | "backoff" | "unschedulable"
    _in_flight: set[str] = field(default_factory=set)
    _counter: itertools.count = field(default_factory=itertools.count)
    _wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    _closed: bool = False

    # ---- adding --------------------------------------------------------------------

    def add(self, pod: Obj) -> None:
        key = pod_key(pod)
        entry = self._pods.get(key)
        if entry is None:
            entry = QueuedPod(pod)
            self._pods[key] = entry
        else:
            entry.pod = pod
        if key in self._in_flight:
            entry.moved_during_cycle = True
            return
        if self._where.get(key) in ("active", "backoff"):
            return
        self._push_active(key)

    def update(self, pod: Obj) -> None:
        """A pending pod changed: it may be schedulable now."""
        key = pod_key(pod)
        if key in self._pods:
            self._pods[key].pod = pod
            if self._where.get(key) == "unschedulable":
                self._move(key)
        else:
            self.add(pod)

    def delete(self, pod: Obj) -> None:
        key = pod_key(pod)
        self._pods.pop(key, None)
        self._where.pop(key, None)
        self._unschedulable.pop(key, None)

    def _push_active(self, key: str) -> None:
        entry = self._pods[key]
        entry.timestamp = self.clock()
        priority = int((entry.pod.get("spec") or {}).get("priority") or 0)
        heapq.heappush(self._active, (-priority, entry.timestamp, next(self._counter), key))
        self._where[key] = "active"
        self._unschedulable.pop(key, None)
        self._wakeup.set()

    def _push_backoff(self, key: str) -> None:
        heapq.heappush(self._backoff, (self.backoff_expiry(key), next(self._counter), key))
        self._where[key] = "backoff"
        self._unschedulable.pop(key, None)
        self._wakeup.set()

    def backoff_duration(self, attempts: int) -> float:
        if attempts <= 0:
            return 0.0
        return min(self.initial_backoff * 2 ** (attempts - 1), self.max_backoff)

    def backoff_expiry(self, key: str) -> float:
        entry = self._pods[key]
        return entry.last_attempt + self.backoff_duration(entry.attempts)

    # ---- popping -------------------------------------------------------------------

    def flush(self) -> None:
        """Backoffs that ran out → activeQ; long-unschedulable pods → backoff/active."""
        now = self.clock()
        while self._backoff and self._backoff[0][0] <= now:
            _, _, key = heapq.heappop(self._backoff)
            if self._where.get(key) == "backoff":
                self._push_active(key)
        for key, entry in list(self._unschedulable.items()):
            if now - entry.last_attempt >= UNSCHEDULABLE_TIMEOUT:
                self._move(key)

    def pop_nowait(self) -> Obj | None:
        self.flush()
        while self._active:
            _, _, _, key = heapq.heappop(self._active)
            if self._where.get(key) != "active":
                continue
            entry = self._pods[key]
            del self._where[key]
            entry.attempts += 1
            entry.last_attempt = self.clock()
            entry.moved_during_cycle = False
            self._in_flight.add(key)
            return entry.pod
        return None

    async def pop(self) -> Obj | None:
        """The next pod to schedule; None once closed."""
        while not self._closed:
            pod = self.pop_nowait()
            if pod is not None:
                return pod
            self._wakeup.clear()
            timeout = None
            if self._backoff:
                timeout = max(0.0, self._backoff[0][0] - self.clock())
            try:
                await asyncio.wait_for(self._wakeup.wait(), timeout if timeout is not None else 1.0)
            except TimeoutError:
                pass
        return None

    # ---- outcomes ------------------------------------------------------------------

    def done(self, pod: Obj) -> None:
        """Scheduled (or no longer ours): forget it."""
        key = pod_key(pod)
        self._in_flight.discard(key)
        self._pods.pop(key, None)
        self._where.pop(key, None)

    def unschedulable(self, pod: Obj) -> None:
        key = pod_key(pod)
        self._in_flight.discard(key)
        entry = self._pods.get(key)
        if entry is None:
            return
        if entry.moved_during_cycle:
            self._push_backoff(key)
        else:
            self._unschedulable[key] = entry
            self._where[key] = "unschedulable"

    def error(self, pod: Obj) -> None:
        """A transient failure (e.g. the bind call failed): retry after backoff."""
        key = pod_key(pod)
        self._in_flight.discard(key)
        if key in self._pods:
            self._push_backoff(key)

    def move_all_to_active_or_backoff(self) -> None:
        """A cluster event that may help: unschedulable pods get another try."""
        for key in list(self._unschedulable):
            self._move(key)
        for key in self._in_flight:
            if key in self._pods:
                self._pods[key].moved_during_cycle = True

    def _move(self, key: str) -> None:
        if self.clock() < self.backoff_expiry(key):
            self._push_backoff(key)
        else:
            self._push_active(key)

    def close(self) -> None:
        self._closed = True
        self._wakeup.set()

    def pending_keys(self) -> dict[str, str]:
        return dict(self._where)
