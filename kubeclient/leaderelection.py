"""Leader election on a coordination.k8s.io Lease, client-go style.

Two controller-managers (or schedulers) may run; only the holder of the Lease acts. The
holder renews `renewTime` every retry period; a candidate takes the Lease over only when
`renewTime + leaseDurationSeconds` has passed, through a compare-and-swap update so two
candidates cannot both win. A leader that cannot renew within the renew deadline stops
leading (and the process should exit, as Kubernetes components do).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from apimachinery.errors import StatusError
from kubeclient.rest import ApiClient

log = logging.getLogger(__name__)


def micro_now() -> datetime:
    return datetime.now(UTC)


def format_micro(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_micro(text: str | None) -> datetime | None:
    if not text:
        return None
    for fmt in ("%Y-%m-%dT%H:%M:%S.%fZ", "%Y-%m-%dT%H:%M:%SZ"):
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    return None


@dataclass
class LeaderElector:
    client: ApiClient
    name: str
    namespace: str = "kube-system"
    identity: str = field(default_factory=lambda: f"{socket.gethostname()}_{uuid.uuid4()}")
    lease_duration: float = 15.0
    renew_deadline: float = 10.0
    retry_period: float = 2.0
    is_leader: bool = False

    async def try_acquire_or_renew(self) -> bool:
        now = micro_now()
        try:
            lease = await self.client.get("leases", self.name, self.namespace)
        except StatusError as exc:
            if exc.code != 404:
                raise
            body = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                    "metadata": {"name": self.name, "namespace": self.namespace},
                    "spec": self._spec(now, now, 0)}
            try:
                await self.client.create("leases", body, self.namespace)
            except StatusError as create_exc:
                if create_exc.code == 409:
                    return False
                raise
            return True
        spec = lease.get("spec") or {}
        holder = spec.get("holderIdentity") or ""
        renewed = parse_micro(spec.get("renewTime")) or datetime.min.replace(tzinfo=UTC)
        duration = timedelta(seconds=spec.get("leaseDurationSeconds") or self.lease_duration)
        if holder and holder != self.identity and renewed + duration > now:
            return False
        transitions = int(spec.get("leaseTransitions") or 0)
        acquired = parse_micro(spec.get("acquireTime")) or now
        if holder != self.identity:
            transitions += 1
            acquired = now
        lease["spec"] = self._spec(acquired, now, transitions)
        try:
            await self.client.update("leases", lease, self.namespace)
        except StatusError as exc:
            if exc.code == 409:
                return False
            raise
        return True

    def _spec(self, acquired: datetime, renewed: datetime, transitions: int) -> dict[str, Any]:
        return {"holderIdentity": self.identity, "leaseDurationSeconds": int(self.lease_duration),
                "acquireTime": format_micro(acquired), "renewTime": format_micro(renewed),
                "leaseTransitions": transitions}

    async def run(self, lead: Callable[[], Awaitable[None]]) -> None:
        """Wait to become leader, run `lead()` while leading; return when leadership is lost
        or `lead()` returns."""
        while True:
            if await self._attempt():
                break
            await asyncio.sleep(self.retry_period)
        self.is_leader = True
        log.info("%s: %s became leader", self.name, self.identity)
        leading = asyncio.create_task(lead())
        renewing = asyncio.create_task(self._renew_loop())
        try:
            done, _ = await asyncio.wait({leading, renewing}, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()
        finally:
            self.is_leader = False
            for task in (leading, renewing):
                task.cancel()
            await asyncio.gather(leading, renewing, return_exceptions=True)

    async def run_forever(self, lead: Callable[[], Awaitable[None]]) -> None:
        """Like `run`, but after losing the lease stand by and campaign again, each term with
        a fresh `lead()`: what a restarted kube-controller-manager does, without the restart."""
        while True:
            await self.run(lead)
            log.warning("%s: %s standing by for the lease again", self.name, self.identity)
            await asyncio.sleep(self.retry_period)

    async def _attempt(self) -> bool:
        try:
            return await self.try_acquire_or_renew()
        except StatusError as exc:
            log.warning("%s: leader election: %s", self.name, exc)
        return False

    async def _renew_loop(self) -> None:
        while True:
            await asyncio.sleep(self.retry_period)
            loop = asyncio.get_running_loop()
            deadline = loop.time() + self.renew_deadline
            while not await self._attempt():
                if loop.time() >= deadline:
                    log.error("%s: %s lost the lease", self.name, self.identity)
                    return
                await asyncio.sleep(self.retry_period / 4)

    async def release(self) -> None:
        """Give the lease up on clean shutdown so a standby takes over at once."""
        try:
            lease = await self.client.get("leases", self.name, self.namespace)
            if (lease.get("spec") or {}).get("holderIdentity") != self.identity:
                return
            lease["spec"]["holderIdentity"] = ""
            lease["spec"]["leaseDurationSeconds"] = 1
            await self.client.update("leases", lease, self.namespace)
        except StatusError as exc:
            log.debug("releasing lease: %s", exc)
