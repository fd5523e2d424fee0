"""TTL-after-finished controller: delete finished Jobs once `ttlSecondsAfterFinished` has passed.

Why: finished Jobs and their pods otherwise pile up forever; a TTL lets their owner say
how long the result stays readable. Semantics follow Kubernetes'
pkg/controller/ttlafterfinished/ttlafterfinished_controller.go (semantics.md §4.4):

* only Jobs with `spec.ttlSecondsAfterFinished` set and a true `Complete` or `Failed`
  condition are considered; a Job already being deleted is left alone;
* the Job finished at that condition's `lastTransitionTime` (falling back to
  `status.completionTime`); it expires at finish + ttl;
* before expiry the key is requeued for the time left; at expiry the Job is read fresh
  from the API server (the TTL may have just been changed) and deleted with
  propagationPolicy Foreground and a uid precondition, so the garbage collector removes
  its pods first and a newer Job with the same name is never deleted by mistake.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from apimachinery.errors import StatusError
from controllers.base import Controller, ControllerContext
from controllers.podutil import parse_time
from kubeclient.informer import split_key

log = logging.getLogger(__name__)
Obj = dict[str, Any]

PROPAGATION = "Foreground"  # DeletePropagationForeground, as in Kubernetes


def is_finished(job: Obj) -> bool:
    return finished_condition(job) is not None


def finished_condition(job: Obj) -> Obj | None:
    for c in (job.get("status") or {}).get("conditions") or []:
        if c.get("type") in ("Complete", "Failed") and c.get("status") == "True":
            return c
    return None


def needs_cleanup(job: Obj) -> bool:
    return (job.get("spec") or {}).get("ttlSecondsAfterFinished") is not None and is_finished(job)


def finish_time(job: Obj) -> datetime:
    """When the Job finished; ValueError when it says it finished but not when."""
    condition = finished_condition(job) or {}
    finished = parse_time(condition.get("lastTransitionTime")) or \
        parse_time((job.get("status") or {}).get("completionTime"))
    if finished is None:
        meta = job["metadata"]
        raise ValueError(f"unable to find the time when the Job {meta.get('namespace')}/{meta['name']} finished")
    return finished


def time_left(job: Obj, now: datetime) -> float:
    """Seconds until the Job expires (≤ 0: expired)."""
    finished = finish_time(job)
    if finished > now:
        log.warning("job %s finished in the future (clock skew?); its cleanup is deferred", job["metadata"]["name"])
    ttl = int((job.get("spec") or {}).get("ttlSecondsAfterFinished") or 0)
    return finished.timestamp() + ttl - now.timestamp()


class TTLAfterFinishedController(Controller):
    name = "ttl-after-finished-controller"
    workers = 2

    def __init__(self, ctx: ControllerContext, clock: Callable[[], datetime] | None = None) -> None:
        super().__init__(ctx)
        self.clock = clock or (lambda: datetime.now(UTC))
        self.jobs = ctx.informers.informer("jobs")
        self.jobs.add_handlers(on_add=self._job_changed, on_update=lambda _old, new: self._job_changed(new))

    def _job_changed(self, job: Obj) -> None:
        if needs_cleanup(job):
            self.enqueue(job)

    def _expired(self, job: Obj) -> bool:
        """processTTL: True when the Job should go now; otherwise requeued for the time left."""
        if job["metadata"].get("deletionTimestamp") or not needs_cleanup(job):
            return False
        left = time_left(job, self.clock())
        if left <= 0:
            return True
        self.enqueue_after(job, left)
        return False

    async def sync(self, key: str) -> None:
        cached = self.jobs.get(key)
        if cached is None or not self._expired(cached):
            return
        namespace, name = split_key(key)
        try:
            fresh = await self.client.get("jobs", name, namespace)
        except StatusError as exc:
            if exc.code == 404:
                return
            raise
        if not self._expired(fresh):  # the TTL may have changed since the cache saw the Job
            return
        await self._delete(fresh)

    async def _delete(self, job: Obj) -> None:
        meta = job["metadata"]
        log.info("ttl-after-finished: deleting job %s/%s", meta["namespace"], meta["name"])
        try:
            await self.client.delete("jobs", meta["name"], meta["namespace"], propagation_policy=PROPAGATION,
                                     preconditions={"uid": meta["uid"]})
        except StatusError as exc:
            if exc.code != 404:
                raise
