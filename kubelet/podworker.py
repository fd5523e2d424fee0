"""One worker per pod: make the pod's containers match its spec, and report status.

Each pass of `sync` is level-triggered: set up the pod's volumes (until they all are, the
pod waits in ContainerCreating with FailedMount events), ensure the sandbox, run init
containers one at a time, start or restart regular containers by restartPolicy with
crash-loop back-off (10 s doubling to 5 min, reset after 10 min of running), run probes,
then post status if it changed. A pod with a deletionTimestamp is stopped gracefully (preStop, SIGTERM,
SIGKILL after the grace period); only once no container runs is its terminal status written
(every container terminated with its exit code, phase Succeeded or Failed: kubelet/status.py),
and only once the API shows that terminal phase is the pod finally deleted with grace 0.
Status never goes back: a stale informer copy of the pod does not replace a newer one, and a
status that would move a phase backwards or un-terminate a container is not written.
Containers found at start-up (a restarted kubelet) are adopted, not duplicated.
A container whose environment cannot be made (a missing ConfigMap, Secret or key) waits
in CreateContainerConfigError and is retried after the pod worker's back-off period.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from apimachinery.errors import StatusError
from kubelet.downward import field_ref_value
from kubelet.envvars import EnvError, make_environment
from kubelet.expansion import expand_all
from kubelet.probes import ProbeTracker, run_probe, trackers_for
from kubelet.runtime.interface import ContainerSpec, ContainerStatus, DriverError, SandboxInfo
from kubelet.status import (
    TERMINAL_PHASES,
    ContainerRecord,
    generate_status,
    illegal_transition,
    terminated_state,
)
from kubelet.volumes import RETRY_INITIAL, RETRY_MAX, MountedVolume, VolumeContext, set_up_volumes

__all__ = ["PodWorker", "field_ref_value"]

if TYPE_CHECKING:
    from kubelet.kubelet import Kubelet

log = logging.getLogger(__name__)
Obj = dict[str, Any]

BACKOFF_INITIAL = 10.0
BACKOFF_MAX = 300.0
BACKOFF_RESET = 600.0
MIN_GRACE = 2.0
CONFIG_ERROR_RETRY = 10.0  # the pod worker's backOffPeriod after a failed sync (kubelet.go)


def now_rfc3339() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def resource_version(obj: Obj) -> int | None:
    try:
        return int((obj.get("metadata") or {}).get("resourceVersion") or "")
    except ValueError:
        return None


def is_older(candidate: Obj, held: Obj) -> bool:
    """Is `candidate` an older copy of the object than `held`? (kube-py's resourceVersions
    are store revisions, so they order; anything unparsable counts as newer.)"""
    new, old = resource_version(candidate), resource_version(held)
    return new is not None and old is not None and new < old


def parse_ts(text: str) -> float:
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()
    except (TypeError, ValueError):
        return time.time()


class PodWorker:
    def __init__(self, kubelet: Kubelet, pod: Obj, adopted: list[ContainerStatus] | None = None) -> None:
        self.kubelet = kubelet
        self.runtime = kubelet.runtime
        self.pod = pod
        self.uid = pod["metadata"]["uid"]
        self.sandbox: SandboxInfo | None = None
        self.init: list[ContainerRecord] = [ContainerRecord(c["name"], c.get("image", ""))
                                            for c in pod["spec"].get("initContainers") or []]
        self.regular: list[ContainerRecord] = [ContainerRecord(c["name"], c.get("image", ""))
                                               for c in pod["spec"].get("containers") or []]
        self.backoff: dict[str, tuple[float, float]] = {}  # name → (delay, when it was last advanced)
        self.pull_backoff: dict[str, tuple[float, float]] = {}  # name → (delay, when the last pull failed)
        self.config_retry: dict[str, float] = {}  # name → when a CreateContainerConfigError may be retried
        self.volumes: dict[str, MountedVolume] | None = None  # set up once, before the sandbox
        self.volume_retry: tuple[float, float] = (0.0, 0.0)  # (delay, when the last mount failed)
        self.probes: dict[str, dict[str, ProbeTracker]] = {}
        self.wake = asyncio.Event()
        self.deleted_from_api = False
        self.finished = False
        self.last_posted: Obj | None = None
        self.refused = ""  # why the last status was not written (logged once)
        self._adopt(adopted or [])

    # ---- plumbing ------------------------------------------------------------------

    @property
    def key(self) -> str:
        return f"{self.pod['metadata']['namespace']}/{self.pod['metadata']['name']}"

    def update(self, pod: Obj) -> None:
        if is_older(pod, self.pod):
            return  # the informer lags behind the status this worker has just written
        self.pod = pod
        self.wake.set()

    def api_deleted(self) -> None:
        self.deleted_from_api = True
        self.wake.set()

    def _adopt(self, found: list[ContainerStatus]) -> None:
        by_name = {r.name: r for r in self.init + self.regular}
        for status in sorted(found, key=lambda s: s.started_at):
            record = by_name.get(status.name)
            if record is None:
                continue
            if record.current is not None and record.current.state == "exited":
                record.last_terminated = terminated_state(record.current)
                record.restart_count += 1
            record.current = status
            record.waiting_reason = ""
            record.started = status.state == "running"

    def container_spec(self, name: str) -> Obj:
        for c in (self.pod["spec"].get("initContainers") or []) + self.pod["spec"].get("containers", []):
            if c["name"] == name:
                return c
        return {}

    async def run(self) -> None:
        while not self.finished:
            try:
                await self.sync()
            except asyncio.CancelledError:
                raise
            except StatusError as exc:
                log.info("pod %s: %s", self.key, exc)
            except DriverError as exc:  # e.g. the sandbox before the node has a pod CIDR: retried
                log.warning("pod %s: %s", self.key, exc)
            except Exception:  # noqa: BLE001 - a worker must keep its pod going
                log.exception("pod %s: sync failed", self.key)
            if self.finished:
                return
            self.wake.clear()
            try:
                await asyncio.wait_for(self.wake.wait(), timeout=1.0)
            except TimeoutError:
                pass

    # ---- the sync ------------------------------------------------------------------

    async def sync(self) -> None:
        if self.deleted_from_api:
            await self._kill_all(0)
            await self._cleanup()
            self.finished = True
            return
        if self.pod["metadata"].get("deletionTimestamp"):
            await self._terminate()
            return
        phase = (self.pod.get("status") or {}).get("phase")
        if phase in ("Succeeded", "Failed"):
            await self._kill_all(0)
            return
        if self.volumes is None and not await self._set_up_volumes():
            await self._post_status(terminal=False)
            return
        if self.sandbox is None:
            self.sandbox = await self.runtime.create_sandbox(self.pod)
        await self._refresh()
        if await self._run_init_containers():
            for record in self.regular:
                await self._ensure_running(record, is_init=False)
        await self._run_probes()
        await self._post_status(terminal=False)

    async def _set_up_volumes(self) -> bool:
        """Mount every volume of the pod (WaitForAttachAndMount); False while one fails, each
        failure a FailedMount event, retried with the volume manager's exponential back-off."""
        delay, failed_at = self.volume_retry
        if delay and time.monotonic() - failed_at < delay:
            return False
        kubelet = self.kubelet
        context = VolumeContext(self.pod, kubelet.objects, kubelet.node_name, kubelet.node_ip,
                                dict(kubelet.capacity))
        ready, failed = await set_up_volumes(context, kubelet.data_dir / "pods" / self.uid / "volumes")
        if not failed:
            self.volumes, self.volume_retry = ready, (0.0, 0.0)
            return True
        for error in failed:
            kubelet.recorder.event(self.pod, "Warning", "FailedMount", str(error))
        self.volume_retry = (min(max(delay * 2, RETRY_INITIAL), RETRY_MAX), time.monotonic())
        return False

    async def _refresh(self) -> None:
        for record in self.init + self.regular:
            if record.current is not None and record.current.state == "running":
                record.current = await self.runtime.container_status(record.current.id)
                if record.current.state != "running":
                    record.ready = False
                    record.started = False

    async def _run_init_containers(self) -> bool:
        """True once every init container has succeeded."""
        policy = self.pod["spec"].get("restartPolicy", "Always")
        for record in self.init:
            if record.succeeded:
                continue
            if record.running:
                return False
            if record.exited and policy == "Never":
                return False
            await self._ensure_running(record, is_init=True)
            return False
        return True

    def _should_restart(self, record: ContainerRecord, is_init: bool) -> bool:
        policy = self.pod["spec"].get("restartPolicy", "Always")
        if record.current is None:
            return True
        if record.current.state != "exited":
            return False
        if is_init:
            return not record.succeeded and policy != "Never"
        return policy == "Always" or (policy == "OnFailure" and not record.succeeded)

    async def _ensure_running(self, record: ContainerRecord, is_init: bool) -> None:
        if record.running or not self._should_restart(record, is_init):
            if record.exited:
                record.waiting_reason = ""
            return
        if record.current is not None:
            finished = parse_ts(record.current.finished_at)
            delay, updated = self.backoff.get(record.name, (0.0, 0.0))
            if finished - updated > BACKOFF_RESET:
                delay = 0.0
            if delay and time.time() - finished < delay:
                pod = self.pod["metadata"]
                record.waiting_reason = "CrashLoopBackOff"
                record.waiting_message = (f"back-off {int(delay)}s restarting failed container={record.name} "
                                          f"pod={pod['name']}_{pod['namespace']}({self.uid})")
                return
            self.backoff[record.name] = (min(max(delay * 2, BACKOFF_INITIAL), BACKOFF_MAX), time.time())
        await self._start(record)

    async def _start(self, record: ContainerRecord) -> None:
        spec = self.container_spec(record.name)
        recorder = self.kubelet.recorder
        field_path = f"spec.{'initContainers' if record in self.init else 'containers'}{{{record.name}}}"
        image = spec.get("image", "")
        if time.monotonic() < self.config_retry.get(record.name, 0.0):
            return  # still CreateContainerConfigError until the back-off period has passed
        pull_delay, pull_failed_at = self.pull_backoff.get(record.name, (0.0, 0.0))
        if pull_delay and time.time() - pull_failed_at < pull_delay:
            record.waiting_reason = "ImagePullBackOff"
            record.waiting_message = f'Back-off pulling image "{image}"'
            return
        try:
            await self.runtime.pull_image(image)
        except DriverError as exc:
            record.waiting_reason, record.waiting_message = exc.reason or "ErrImagePull", str(exc)
            self.pull_backoff[record.name] = (min(max(pull_delay * 2, BACKOFF_INITIAL), BACKOFF_MAX), time.time())
            recorder.event(self.pod, "Warning", "Failed", f'Failed to pull image "{image}": {exc}', field_path)
            recorder.event(self.pod, "Normal", "BackOff", f'Back-off pulling image "{image}"', field_path)
            return
        self.pull_backoff.pop(record.name, None)
        try:
            env = await self._env(spec)
        except EnvError as exc:  # kuberuntime's startContainer: ErrCreateContainerConfig
            record.waiting_reason, record.waiting_message = "CreateContainerConfigError", str(exc)
            self.config_retry[record.name] = time.monotonic() + CONFIG_ERROR_RETRY
            recorder.event(self.pod, "Warning", "Failed", f"Error: {exc}", field_path)
            return
        self.config_retry.pop(record.name, None)
        container = ContainerSpec(
            pod_uid=self.uid, pod_name=self.pod["metadata"]["name"], namespace=self.pod["metadata"]["namespace"],
            name=record.name, image=spec.get("image", ""), command=expand_all(spec.get("command") or [], env),
            args=expand_all(spec.get("args") or [], env), env=env, working_dir=spec.get("workingDir", ""),
            limits=dict((spec.get("resources") or {}).get("limits") or {}),
            hostname=self.pod["spec"].get("hostname") or self.pod["metadata"]["name"],
            attempt=record.restart_count + (1 if record.current else 0),
            mounts=self.kubelet.mounts_for(self.pod, spec, self.sandbox.ip if self.sandbox else "", self.volumes))
        try:
            status = await self.runtime.start_container(self.sandbox or SandboxInfo(self.uid), container)
        except DriverError as exc:
            record.waiting_reason, record.waiting_message = exc.reason, str(exc)
            recorder.event(self.pod, "Warning", "Failed", f"Error: {exc}", field_path)
            return
        if record.current is not None:
            record.last_terminated = terminated_state(record.current)
            record.restart_count += 1
            await self.runtime.remove_container(record.current.id)
        record.current, record.waiting_reason, record.waiting_message = status, "", ""
        record.ready = False
        self.probes[record.name] = trackers_for(spec)
        record.started = "startup" not in self.probes[record.name]
        recorder.event(self.pod, "Normal", "Created", f"Created container: {record.name}", field_path)
        recorder.event(self.pod, "Normal", "Started", f"Started container {record.name}", field_path)

    async def _env(self, spec: Obj) -> dict[str, str]:
        pod_ip = self.sandbox.ip if self.sandbox else ""
        kubelet = self.kubelet

        def field(path: str) -> str | None:
            return field_ref_value(self.pod, path, kubelet.node_name, kubelet.node_ip, pod_ip)

        return await make_environment(self.pod, spec, kubelet.objects, field, dict(kubelet.capacity))

    async def _run_probes(self) -> None:
        now = time.monotonic()
        for record in self.regular:
            trackers = self.probes.get(record.name, {})
            if not record.running:
                record.ready = False
                continue
            if not trackers:
                record.ready = True
                record.started = True
                continue
            started_at = now if not record.current else now - max(0.0, time.time() - parse_ts(record.current.started_at))
            startup = trackers.get("startup")
            if startup is not None and startup.result is not True:
                if startup.due(now, started_at):
                    await self._probe(record, startup, now)
                record.started = startup.result is True
                if startup.result is False:
                    await self._kill_for_probe(record, "startup")
                continue
            record.started = True
            for kind in ("liveness", "readiness"):
                tracker = trackers.get(kind)
                if tracker is not None and tracker.due(now, started_at):
                    await self._probe(record, tracker, now)
            liveness = trackers.get("liveness")
            if liveness is not None and liveness.result is False:
                await self._kill_for_probe(record, "liveness")
                continue
            readiness = trackers.get("readiness")
            record.ready = readiness.result is True if readiness is not None else True

    async def _probe(self, record: ContainerRecord, tracker: ProbeTracker, now: float) -> None:
        assert record.current is not None
        ok, message = await run_probe(tracker.probe, self.container_spec(record.name),
                                      self.sandbox.ip if self.sandbox else "", self.runtime, record.current.id)
        tracker.record(ok, message, now)
        if not ok:
            self.kubelet.recorder.event(self.pod, "Warning", "Unhealthy",
                                        f"{tracker.kind.capitalize()} probe failed: {message}",
                                        f"spec.containers{{{record.name}}}")

    async def _kill_for_probe(self, record: ContainerRecord, kind: str) -> None:
        assert record.current is not None
        self.kubelet.recorder.event(self.pod, "Normal", "Killing",
                                    f"Container {record.name} failed {kind} probe, will be restarted",
                                    f"spec.containers{{{record.name}}}")
        await self.runtime.stop_container(record.current.id, self._grace())
        record.current = await self.runtime.container_status(record.current.id)
        record.ready = False

    # ---- termination ---------------------------------------------------------------

    def _grace(self) -> float:
        meta, spec = self.pod["metadata"], self.pod["spec"]
        grace = meta.get("deletionGracePeriodSeconds")
        if grace is None:
            grace = spec.get("terminationGracePeriodSeconds", 30)
        return max(float(grace), MIN_GRACE) if grace else 0.0

    async def _kill_all(self, grace: float) -> None:
        running = [r for r in self.init + self.regular if r.running]
        await asyncio.gather(*(self._stop(r, grace) for r in running))

    async def _stop(self, record: ContainerRecord, grace: float) -> None:
        assert record.current is not None
        spec = self.container_spec(record.name)
        self.kubelet.recorder.event(self.pod, "Normal", "Killing", f"Stopping container {record.name}",
                                    f"spec.containers{{{record.name}}}")
        started = time.monotonic()
        pre_stop = ((spec.get("lifecycle") or {}).get("preStop") or {}).get("exec")
        if pre_stop and grace > 0:
            try:
                await self.runtime.exec(record.current.id, pre_stop.get("command") or [], timeout=grace)
            except DriverError as exc:
                log.info("preStop hook of %s/%s: %s", self.key, record.name, exc)
        remaining = max(0.0, grace - (time.monotonic() - started))
        await self.runtime.stop_container(record.current.id, max(remaining, MIN_GRACE) if grace else 0)
        record.current = await self.runtime.container_status(record.current.id)
        record.ready = False

    async def _terminate(self) -> None:
        """SyncTerminatingPod then SyncTerminatedPod: kill → terminal status → final delete."""
        await self._refresh()  # exit codes of containers that ended on their own
        await self._kill_all(self._grace())
        still = [r.name for r in self.init + self.regular if r.running]
        if still:  # retried: a terminal status must describe stopped containers
            raise DriverError(f"containers {still} of pod {self.key} still run after being killed")
        await self._post_status(terminal=True)
        if not self.deleted_from_api and (self.pod.get("status") or {}).get("phase") not in TERMINAL_PHASES:
            log.warning("pod %s: terminal status not written yet, final delete waits", self.key)
            return
        meta = self.pod["metadata"]
        try:
            await self.kubelet.client.delete("pods", meta["name"], meta["namespace"], grace_period_seconds=0,
                                             preconditions={"uid": self.uid})
        except StatusError as exc:
            if exc.code not in (404, 409):
                raise
        await self._cleanup()
        self.finished = True

    async def _cleanup(self) -> None:
        for record in self.init + self.regular:
            if record.current is not None:
                await self.runtime.remove_container(record.current.id)
        await self.runtime.remove_sandbox(self.uid)

    # ---- status --------------------------------------------------------------------

    def build_status(self, terminal: bool) -> Obj:
        """The pod's status now; `terminal` once its containers have been killed for deletion."""
        now = now_rfc3339()
        old = self.pod.get("status") or {}
        ip = self.sandbox.ip if self.sandbox else ""
        status = generate_status(self.pod, self.init, self.regular, terminal=terminal,
                                 sandbox_ready=self.sandbox is not None, now=now)
        status.update({"hostIP": self.kubelet.node_ip, "hostIPs": [{"ip": self.kubelet.node_ip}],
                       "startTime": old.get("startTime") or now, "qosClass": old.get("qosClass", "BestEffort")})
        if ip:
            status["podIP"], status["podIPs"] = ip, [{"ip": ip}]
        return status

    async def _post_status(self, terminal: bool) -> None:
        status = self.build_status(terminal)
        comparable = {k: v for k, v in status.items() if k != "conditions"}
        conditions = [{k: v for k, v in c.items() if k != "lastTransitionTime"} for c in status["conditions"]]
        signature = {**comparable, "conditions": conditions}
        if signature == self.last_posted:
            return
        problem = self._illegal(status)
        if problem:
            if problem != self.refused:
                log.error("pod %s: status update aborted: %s", self.key, problem)
            self.refused = problem
            return
        self.refused = ""
        meta = self.pod["metadata"]
        try:
            updated = await self.kubelet.client.patch("pods", meta["name"], {"status": status}, meta["namespace"],
                                                      patch_type="merge", subresource="status")
        except StatusError as exc:
            if exc.code == 404:
                self.deleted_from_api = True
                return
            raise
        self.pod = updated
        self.last_posted = signature

    def _illegal(self, status: Obj) -> str:
        """checkContainerStateTransition against the status the API holds."""
        old = self.pod.get("status") or {}
        policy = self.pod["spec"].get("restartPolicy", "Always")
        return (illegal_transition(old.get("containerStatuses") or [], status["containerStatuses"], policy)
                or illegal_transition(old.get("initContainerStatuses") or [], status.get("initContainerStatuses") or [],
                                      policy))

