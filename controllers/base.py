"""The shape every controller shares: informers feed a rate-limited queue of keys, and
workers call one idempotent `sync(key)` that reads the caches and writes the difference.

A sync that raises is retried with back-off; one that returns forgets the key's
failures. Nothing is remembered outside the API server except caches that rebuild.
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

from apimachinery.errors import StatusError
from kubeclient.events import EventRecorder
from kubeclient.factory import InformerFactory
from kubeclient.informer import meta_key
from kubeclient.rest import ApiClient
from kubeclient.workqueue import ShutDown, WorkQueue

log = logging.getLogger(__name__)

MAX_RETRIES_LOGGED = 15


class RetryLater(Exception):
    """A sync that cannot finish yet (e.g. its cache lags its own writes): retried with
    back-off and logged as one line, not as a failure."""


@dataclass
class ControllerContext:
    client: ApiClient
    informers: InformerFactory
    recorder_factory: Any = None  # callable(component) -> EventRecorder
    node_monitor_grace_period: float | None = None  # --node-monitor-grace-period; None = the default
    cluster_cidr: str = ""  # --cluster-cidr for node IPAM; "" = 10.244.0.0/16
    node_cidr_mask_size: int = 0  # --node-cidr-mask-size; 0 = 24

    def recorder(self, component: str) -> EventRecorder:
        if self.recorder_factory is not None:
            return self.recorder_factory(component)
        return EventRecorder(self.client, component)


class Controller(ABC):
    name: str = "controller"
    workers: int = 2

    def __init__(self, ctx: ControllerContext) -> None:
        self.ctx = ctx
        self.client = ctx.client
        self.queue = WorkQueue()

    def enqueue(self, obj: dict[str, Any]) -> None:
        self.queue.add(meta_key(obj))

    def enqueue_after(self, obj: dict[str, Any], delay: float) -> None:
        self.queue.add_after(meta_key(obj), delay)

    @abstractmethod
    async def sync(self, key: str) -> None:
        """Make the world match the object named by `key`; idempotent."""

    async def run(self) -> None:
        workers = [asyncio.create_task(self._worker(), name=f"{self.name}-worker-{i}") for i in range(self.workers)]
        try:
            await asyncio.gather(*workers)
        finally:
            await self.queue.shutdown()
            for worker in workers:
                worker.cancel()
            await asyncio.gather(*workers, return_exceptions=True)

    async def _worker(self) -> None:
        while True:
            try:
                key = await self.queue.get()
            except ShutDown:
                return
            try:
                await self.sync(str(key))
                self.queue.forget(key)
            except asyncio.CancelledError:
                raise
            except (StatusError, RetryLater) as exc:
                self._retry(key, exc)
            except Exception as exc:  # noqa: BLE001 - a controller retries whatever went wrong
                log.exception("%s: sync %s failed", self.name, key)
                self._retry(key, exc)
            finally:
                self.queue.done(key)

    def _retry(self, key: object, exc: Exception) -> None:
        if self.queue.num_requeues(key) < MAX_RETRIES_LOGGED:
            log.info("%s: sync %s: %s (will retry)", self.name, key, exc)
        self.queue.add_rate_limited(key)
