"""A rate-limited work queue with client-go's guarantees.

Controllers are level-triggered: what matters is that a key gets processed after its
last change, not how many times it changed. So the queue deduplicates (a key waiting is
not added twice), never hands one key to two workers at once (a key re-added while being
processed is queued again only when the worker calls `done`), and retries failures with
per-item exponential back-off (5 ms doubling to 1000 s) capped overall by a token bucket
(10 qps, burst 100), the same default limiter client-go uses.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Hashable


class ShutDown(Exception):
    """The queue was shut down; workers should return."""


class ExponentialBackoff:
    def __init__(self, base: float = 0.005, cap: float = 1000.0) -> None:
        self.base, self.cap = base, cap
        self.failures: dict[Hashable, int] = {}

    def when(self, item: Hashable) -> float:
        count = self.failures.get(item, 0)
        self.failures[item] = count + 1
        return min(self.base * (2 ** count), self.cap)

    def forget(self, item: Hashable) -> None:
        self.failures.pop(item, None)

    def retries(self, item: Hashable) -> int:
        return self.failures.get(item, 0)


class TokenBucket:
    """Overall limit: each retry takes a token; without one it waits for the next."""

    def __init__(self, qps: float = 10.0, burst: int = 100) -> None:
        self.qps, self.burst = qps, burst
        self.tokens = float(burst)
        self.last = time.monotonic()

    def when(self, _item: Hashable) -> float:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.last) * self.qps)
        self.last = now
        self.tokens -= 1
        return 0.0 if self.tokens >= 0 else -self.tokens / self.qps

    def forget(self, _item: Hashable) -> None:
        return None


class RateLimiter:
    """The max of the per-item back-off and the overall bucket (client-go's default)."""

    def __init__(self, backoff: ExponentialBackoff | None = None, bucket: TokenBucket | None = None) -> None:
        self.backoff = backoff or ExponentialBackoff()
        self.bucket = bucket or TokenBucket()

    def when(self, item: Hashable) -> float:
        return max(self.backoff.when(item), self.bucket.when(item))

    def forget(self, item: Hashable) -> None:
        self.backoff.forget(item)

    def retries(self, item: Hashable) -> int:
        return self.backoff.retries(item)


class WorkQueue:
    def __init__(self, rate_limiter: RateLimiter | None = None) -> None:
        self.rate_limiter = rate_limiter or RateLimiter()
        self._queue: deque[Hashable] = deque()
        self._dirty: set[Hashable] = set()
        self._processing: set[Hashable] = set()
        self._waiting: dict[Hashable, asyncio.TimerHandle] = {}
        self._wakeup = asyncio.Condition()
        self._shutting_down = False

    def __len__(self) -> int:
        return len(self._queue)

    def add(self, item: Hashable) -> None:
        if self._shutting_down or item in self._dirty:
            return
        self._dirty.add(item)
        if item in self._processing:
            return
        self._queue.append(item)
        asyncio.get_running_loop().create_task(self._notify())

    async def _notify(self) -> None:
        async with self._wakeup:
            self._wakeup.notify()

    def add_after(self, item: Hashable, delay: float) -> None:
        if self._shutting_down:
            return
        if delay <= 0:
            self.add(item)
            return
        loop = asyncio.get_running_loop()
        existing = self._waiting.get(item)
        if existing is not None:
            if existing.when() <= loop.time() + delay:
                return
            existing.cancel()
        self._waiting[item] = loop.call_later(delay, self._fire, item)

    def _fire(self, item: Hashable) -> None:
        self._waiting.pop(item, None)
        self.add(item)

    def add_rate_limited(self, item: Hashable) -> None:
        self.add_after(item, self.rate_limiter.when(item))

    def forget(self, item: Hashable) -> None:
        self.rate_limiter.forget(item)

    def num_requeues(self, item: Hashable) -> int:
        return self.rate_limiter.retries(item)

    async def get(self) -> Hashable:
        async with self._wakeup:
            while not self._queue:
                if self._shutting_down:
                    raise ShutDown()
                await self._wakeup.wait()
            item = self._queue.popleft()
        self._processing.add(item)
        self._dirty.discard(item)
        return item

    def done(self, item: Hashable) -> None:
        self._processing.discard(item)
        if item in self._dirty:
            self._queue.append(item)
            asyncio.get_running_loop().create_task(self._notify())

    async def shutdown(self) -> None:
        self._shutting_down = True
        for handle in self._waiting.values():
            handle.cancel()
        self._waiting.clear()
        async with self._wakeup:
            self._wakeup.notify_all()

    @property
    def shutting_down(self) -> bool:
        return self._shutting_down
