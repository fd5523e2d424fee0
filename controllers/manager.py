"""`kube-py controller-manager`: every controller in one process, behind leader election.

Informers are shared (one watch per resource for all controllers). With leader election
on, a second manager waits on the Lease `kube-system/kube-controller-manager` and takes
over when the first stops renewing it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from controllers.base import Controller, ControllerContext
from controllers.deployment import DeploymentController
from controllers.endpoints import EndpointsController
from controllers.endpointslice import EndpointSliceController, EndpointSliceMirroringController
from controllers.garbagecollector import GarbageCollector
from controllers.job import JobController
from controllers.namespace import NamespaceController
from controllers.nodeipam import NodeIpamController
from controllers.nodelifecycle import NodeLifecycleController
from controllers.replicaset import ReplicaSetController
from controllers.ttlafterfinished import TTLAfterFinishedController
from kubeclient.factory import InformerFactory
from kubeclient.leaderelection import LeaderElector
from kubeclient.rest import ApiClient

log = logging.getLogger(__name__)

CONTROLLERS: dict[str, Callable[[ControllerContext], Controller]] = {
    "namespace": NamespaceController,
    "garbagecollector": GarbageCollector,
    "replicaset": ReplicaSetController,
    "deployment": DeploymentController,
    "endpoints": EndpointsController,
    "endpointslice": EndpointSliceController,
    "endpointslicemirroring": EndpointSliceMirroringController,
    "job": JobController,
    "nodelifecycle": NodeLifecycleController,
    "nodeipam": NodeIpamController,
    "ttl-after-finished": TTLAfterFinishedController,
}


def build_controllers(ctx: ControllerContext, names: list[str] | None = None) -> list[Controller]:
    return [CONTROLLERS[name](ctx) for name in check_names(names)]


def check_names(names: list[str] | None) -> list[str]:
    chosen = names or list(CONTROLLERS)
    unknown = [n for n in chosen if n not in CONTROLLERS]
    if unknown:
        raise ValueError(f"unknown controllers: {', '.join(unknown)} (known: {', '.join(CONTROLLERS)})")
    return chosen


async def run_controller_manager(client: ApiClient, names: list[str] | None = None, *,
                                 leader_elect: bool = True, stop: asyncio.Event | None = None,
                                 node_monitor_grace_period: float | None = None, cluster_cidr: str = "",
                                 node_cidr_mask_size: int = 0) -> None:
    check_names(names)  # unknown names fail before any election

    async def lead() -> None:
        # A fresh informer cache and fresh controllers per term: nothing from a lost term leaks on.
        factory = InformerFactory(client)
        ctx = ControllerContext(client, factory, node_monitor_grace_period=node_monitor_grace_period,
                                cluster_cidr=cluster_cidr, node_cidr_mask_size=node_cidr_mask_size)
        controllers = build_controllers(ctx, names)
        try:
            factory.start()
            await factory.wait_for_sync(timeout=120)
            log.info("controller-manager: caches synced; running %s", ", ".join(c.name for c in controllers))
            await asyncio.gather(*(c.run() for c in controllers))
        finally:
            await factory.stop()

    elector = LeaderElector(client, "kube-controller-manager") if leader_elect else None
    main = asyncio.create_task(elector.run_forever(lead) if elector else lead())
    waiters = {main}
    if stop is not None:
        waiters.add(asyncio.create_task(stop.wait()))
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in waiters:
            task.cancel()
        await asyncio.gather(*waiters, return_exceptions=True)
        if elector is not None:
            await elector.release()
