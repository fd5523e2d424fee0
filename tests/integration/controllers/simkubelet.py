"""Stand-in kubelets for controller tests and benchmarks.

Controllers only see what a kubelet writes to pod status, so these write it directly: a
`SimKubelet` watches one namespace and marks each new pod Running and Ready (after an
optional random delay), and finishes graceful deletions at once as a kubelet would; a
`finishing_kubelet` drives every pod to Succeeded or Failed. The real kubelet has its own
tests; here only the controllers are under test.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Coroutine
from typing import Any

from apimachinery.errors import StatusError
from kubeclient.informer import Informer
from kubeclient.rest import ApiClient

Obj = dict[str, Any]
# Times written into pod status. In the past on purpose: the Job controller's failure
# back-off counts from `finishedAt`, and tests should not wait 10 s, 20 s, … for it.
STAMP = "2026-01-01T00:00:00Z"


def is_ready(pod: Obj) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (pod.get("status") or {}).get("conditions") or [])


def is_terminating(pod: Obj) -> bool:
    return bool(pod["metadata"].get("deletionTimestamp"))


def ready_status(pod: Obj) -> Obj:
    return {
        "phase": "Running", "podIP": "10.244.0.9", "startTime": STAMP,
        "conditions": [{"type": t, "status": "True", "lastTransitionTime": STAMP}
                       for t in ("PodScheduled", "Initialized", "ContainersReady", "Ready")],
        "containerStatuses": [{"name": c["name"], "image": c["image"], "imageID": "", "ready": True,
                               "restartCount": 0, "started": True, "state": {"running": {"startedAt": STAMP}}}
                              for c in pod["spec"]["containers"]],
    }


def finished_status(pod: Obj, phase: str) -> Obj:
    code = 0 if phase == "Succeeded" else 1
    return {"phase": phase, "startTime": STAMP, "containerStatuses": [{
        "name": c["name"], "image": c["image"], "imageID": "", "ready": False, "restartCount": 0,
        "state": {"terminated": {"exitCode": code, "reason": "Completed" if code == 0 else "Error",
                                 "startedAt": STAMP, "finishedAt": STAMP}}} for c in pod["spec"]["containers"]]}


async def write_status(client: ApiClient, pod: Obj, status: Obj) -> bool:
    """→ False when the pod is gone or changed under us (the caller may re-read and retry)."""
    pod = {**pod, "status": status}
    try:
        await client.update_status("pods", pod, pod["metadata"]["namespace"])
    except StatusError as exc:
        if exc.code not in (404, 409):
            raise
        return False
    return True


async def mark_ready(client: ApiClient, pod: Obj) -> None:
    """Make one pod Running and Ready, re-reading it on conflicts, unless it is gone or going."""
    while not is_terminating(pod) and not is_ready(pod):
        if await write_status(client, pod, ready_status(pod)):
            return
        try:
            pod = await client.get("pods", pod["metadata"]["name"], pod["metadata"]["namespace"])
        except StatusError as exc:
            if exc.code == 404:
                return
            raise


class SimKubelet:
    """Watches pods in `namespace`; each new pod turns Ready after `delay` seconds, drawn
    uniformly from the (low, high) range. Use as `async with SimKubelet(client, ns): ...`."""

    def __init__(self, client: ApiClient, namespace: str, delay: tuple[float, float] = (0.0, 0.0),
                 never_ready: Callable[[Obj], bool] | None = None) -> None:
        self.client = client
        self.namespace = namespace
        self.delay = delay
        self.never_ready = never_ready or (lambda _pod: False)  # e.g. a broken image
        self.informer = Informer(client, "pods", namespace=namespace)
        self._inflight: dict[str, asyncio.Task[None]] = {}
        self._running = False

    async def __aenter__(self) -> SimKubelet:
        self.informer.add_handlers(on_add=self._seen, on_update=lambda _old, new: self._seen(new))
        self._running = True
        self.informer.start()
        await self.informer.wait_synced()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._running = False
        await self.informer.stop()
        tasks = list(self._inflight.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _seen(self, pod: Obj) -> None:
        uid, key = pod["metadata"]["uid"], f"{pod['metadata']['namespace']}/{pod['metadata']['name']}"
        if uid in self._inflight:
            return
        if is_terminating(pod):
            self._start(uid, self._finish_deletion(pod), key)
        elif not is_ready(pod) and not self.never_ready(pod) and \
                (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed"):
            self._start(uid, self._become_ready(pod, key), key)

    def _start(self, uid: str, work: Coroutine[Any, Any, None], key: str) -> None:
        task = asyncio.create_task(work)
        self._inflight[uid] = task
        task.add_done_callback(lambda _t: self._done(uid, key))

    def _done(self, uid: str, key: str) -> None:
        """Events that arrived while the pod was being handled were skipped: look again."""
        self._inflight.pop(uid, None)
        latest = self.informer.get(key)
        if latest is not None and latest["metadata"]["uid"] == uid and self._running:
            self._seen(latest)

    async def _become_ready(self, pod: Obj, key: str) -> None:
        low, high = self.delay
        if high > 0:
            await asyncio.sleep(random.uniform(low, high))
        latest = self.informer.get(key)
        if latest is not None and latest["metadata"]["uid"] == pod["metadata"]["uid"]:
            await mark_ready(self.client, latest)

    async def _finish_deletion(self, pod: Obj) -> None:
        try:
            await self.client.delete("pods", pod["metadata"]["name"], pod["metadata"]["namespace"],
                                     grace_period_seconds=0, preconditions={"uid": pod["metadata"]["uid"]})
        except StatusError as exc:
            if exc.code not in (404, 409):
                raise


def finishing_kubelet(client: ApiClient, namespace: str,
                      outcome: str) -> Callable[[], Coroutine[Any, Any, None]]:
    """→ a loop that drives every unfinished pod in `namespace` to `outcome` (Succeeded/Failed)."""

    async def loop() -> None:
        while True:
            for pod in (await client.list("pods", namespace))["items"]:
                if (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed"):
                    await write_status(client, pod, finished_status(pod, outcome))
            await asyncio.sleep(0.2)

    return loop
