"""The proxier: informers on Services and EndpointSlices, and a loop that keeps iptables in step.

EndpointSlices rather than Endpoints, as kube-proxy reads them: only slices carry the
serving/terminating conditions that let traffic drain to terminating pods when a Service
has no ready endpoint left.

Level-triggered like the controllers: any event only marks the state dirty; one sync
reads both caches, renders the complete ruleset (`rules.render`) and applies it with a
single `iptables-restore --noflush`, so packets never see half a sync. A periodic sync
restores rules someone else removed; a failed restore is retried with back-off. It runs in
whatever network namespace the process is in: the multi-host cluster starts each kubelet
inside its host's namespace, and tests start the proxy inside a throwaway one.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from kubeclient.factory import InformerFactory
from kubeclient.informer import Informer, meta_key
from kubeclient.rest import ApiClient
from kubelet.proxy import conntrack, rules

log = logging.getLogger(__name__)

Obj = dict[str, Any]
SERVICE_INDEX = "service"


def service_of_slice(slice_: Obj) -> list[str]:
    """`namespace/service` from the slice's `kubernetes.io/service-name` label."""
    meta = slice_["metadata"]
    service = (meta.get("labels") or {}).get("kubernetes.io/service-name")
    return [f"{meta.get('namespace', '')}/{service}"] if service else []


@dataclass
class ProxyConfig:
    node_name: str = ""
    cluster_cidr: str = ""
    min_sync_period: float = 0.05
    sync_period: float = 30.0
    iptables_save: str = "iptables-save"
    iptables_restore: str = "iptables-restore"
    conntrack: str = "conntrack"


async def run_command(argv: list[str], stdin: bytes | None = None) -> tuple[int, bytes, bytes]:
    """Run one command without blocking the event loop."""
    proc = await asyncio.create_subprocess_exec(
        *argv, stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await proc.communicate(stdin)
    return proc.returncode or 0, out, err


class Proxier:
    def __init__(self, client: ApiClient, config: ProxyConfig | None = None,
                 informers: InformerFactory | None = None) -> None:
        self.config = config or ProxyConfig()
        self.informers = informers or InformerFactory(client)
        self._own_informers = informers is None
        self.services: Informer = self.informers.informer("services")
        self.slices: Informer = self.informers.informer("endpointslices")
        self.slices.add_indexer(SERVICE_INDEX, service_of_slice)
        self._dirty = asyncio.Event()
        self.syncs = 0
        self.last_blob = ""
        self._last_ports: list[rules.ServicePort] = []
        self._conntrack_missing_logged = False
        for informer in (self.services, self.slices):
            informer.add_handlers(on_add=self._changed, on_update=self._updated, on_delete=self._changed)

    def _changed(self, _obj: Obj) -> None:
        self._dirty.set()

    def _updated(self, old: Obj, new: Obj) -> None:
        if any(old.get(k) != new.get(k) for k in ("spec", "endpoints", "ports")):
            self._dirty.set()

    def desired_ports(self) -> list[rules.ServicePort]:
        out: list[rules.ServicePort] = []
        for service in self.services.list():
            slices = self.slices.by_index(SERVICE_INDEX, meta_key(service))
            out.extend(rules.service_ports(service, slices, self.config.node_name))
        return out

    async def current(self) -> rules.Existing:
        text = ""
        for table in ("filter", "nat"):
            code, out, err = await run_command([self.config.iptables_save, "-t", table])
            if code != 0:
                raise RuntimeError(f"iptables-save -t {table}: {err.decode().strip()}")
            text += out.decode()
        return rules.parse_save(text)

    async def apply(self, blob: str) -> None:
        code, _, err = await run_command([self.config.iptables_restore, "--noflush"], blob.encode())
        if code != 0:
            raise RuntimeError(f"iptables-restore: {err.decode().strip()}\n{blob}")

    async def sync(self) -> None:
        """One full sync: render everything and apply it atomically, then drop the UDP flows
        the change left pointing at the wrong place."""
        ports = self.desired_ports()
        blob = rules.render(ports, await self.current(), self.config.cluster_cidr)
        await self.apply(blob)
        await self.flush_stale_flows(conntrack.stale_flows(self._last_ports, ports))
        self._last_ports = ports
        self.last_blob = blob
        self.syncs += 1
        log.debug("proxy rules synced (%d lines)", blob.count("\n"))

    async def flush_stale_flows(self, flows: list[conntrack.Flow]) -> None:
        for flow in flows:
            try:
                code, _, err = await run_command([self.config.conntrack, "-D", *flow])
            except FileNotFoundError:
                if not self._conntrack_missing_logged:
                    log.warning("%s not found: stale UDP flows are not flushed", self.config.conntrack)
                    self._conntrack_missing_logged = True
                return
            if code != 0 and not conntrack.deleted_nothing(err.decode()):
                log.warning("conntrack -D %s: %s", " ".join(flow), err.decode().strip())

    async def cleanup(self) -> None:
        """Remove all of our chains and jumps from this namespace."""
        blob = rules.cleanup_blob(await self.current())
        if blob:
            await self.apply(blob)

    async def run(self, stop: asyncio.Event) -> None:
        if self._own_informers:
            self.informers.start()
        try:
            await self._wait_synced(stop)
            await self._loop(stop)
        finally:
            if self._own_informers:
                await self.informers.stop()

    async def _wait_synced(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await asyncio.wait_for(asyncio.gather(self.services.wait_synced(3600),
                                                      self.slices.wait_synced(3600)), 1.0)
                return
            except TimeoutError:
                continue

    async def _loop(self, stop: asyncio.Event) -> None:
        backoff = 0.5
        self._dirty.set()
        while not stop.is_set():
            if not await self._wait_dirty(stop):
                continue
            self._dirty.clear()
            try:
                await self.sync()
                backoff = 0.5
            except (RuntimeError, OSError) as exc:
                log.error("proxy sync failed, retrying in %.1fs: %s", backoff, exc)
                self._dirty.set()
                await _sleep_or_stop(stop, backoff)
                backoff = min(backoff * 2, 30.0)
                continue
            await _sleep_or_stop(stop, self.config.min_sync_period)

    async def _wait_dirty(self, stop: asyncio.Event) -> bool:
        """True when a sync is due: something changed, or the periodic sync period passed."""
        waiters = [asyncio.ensure_future(self._dirty.wait()), asyncio.ensure_future(stop.wait())]
        try:
            await asyncio.wait(waiters, timeout=self.config.sync_period, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
        return not stop.is_set()


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except TimeoutError:
        pass


async def run_proxy(client: ApiClient, stop: asyncio.Event, config: ProxyConfig | None = None,
                    cleanup_on_exit: bool = False) -> None:
    """`kube-py proxy`: sync until `stop` is set."""
    proxier = Proxier(client, config)
    try:
        await proxier.run(stop)
    finally:
        if cleanup_on_exit:
            await proxier.cleanup()
