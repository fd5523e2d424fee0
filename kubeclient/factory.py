"""One shared informer per resource for a whole process (client-go's SharedInformerFactory),
so five controllers watching pods cost one watch, not five."""

from __future__ import annotations

import asyncio

from apimachinery.resources import ResourceInfo
from kubeclient.informer import Informer
from kubeclient.rest import ApiClient, resource_of


class InformerFactory:
    def __init__(self, client: ApiClient, resync_period: float = 0.0) -> None:
        self.client = client
        self.resync_period = resync_period
        self._informers: dict[str, Informer] = {}

    def informer(self, resource: ResourceInfo | str) -> Informer:
        r = resource_of(resource)
        key = f"{r.group}/{r.plural}"
        if key not in self._informers:
            self._informers[key] = Informer(self.client, r, resync_period=self.resync_period)
        return self._informers[key]

    def start(self) -> None:
        for informer in self._informers.values():
            informer.start()

    async def wait_for_sync(self, timeout: float = 60.0) -> None:
        await asyncio.gather(*(i.wait_synced(timeout) for i in self._informers.values()))

    async def stop(self) -> None:
        await asyncio.gather(*(i.stop() for i in self._informers.values()))
