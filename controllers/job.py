"""Job controller: run pods to completion with Kubernetes' counting rules (semantics.md §4).

Pods carry the `batch.kubernetes.io/job-tracking` finalizer so a finished pod cannot
vanish before it is counted. Counting is crash-safe the way Kubernetes does it: finished
pods' uids go to `status.uncountedTerminatedPods` first, then their finalizers come off,
then they move into `succeeded`/`failed`. Terminal conditions come in two phases
(`SuccessCriteriaMet`/`FailureTarget`, then `Complete`/`Failed` once no pod is left
running). Replacement pods after failures wait 10 s doubling to 10 minutes. Indexed Jobs
give each pod a completion index and count successes by index (`status.completedIndexes`).

Pods whose Job is gone keep no finalizer (Kubernetes' orphan-pod queue): a pod with the
tracking finalizer and no controlling, unfinished Job of that uid in the cache is queued as
`orphan-pod|<ns>/<name>`, on its own events and for every pod of a deleted Job, and that key's
sync removes the finalizer once the cache still says so. A Job being deleted (foreground, or
orphaning its pods) creates nothing and lets all its pods' finalizers go after counting them.
"""

from __future__ import annotations

import asyncio
import copy
import logging
from datetime import UTC, datetime
from typing import Any

from apimachinery.errors import StatusError
from controllers.base import Controller, ControllerContext
from controllers.podutil import (
    Expectations,
    controller_ref,
    is_pod_active,
    is_pod_ready,
    now_rfc3339,
    parse_time,
    pod_from_template,
    pods_prefix,
    pods_to_delete,
)
from kubeclient.informer import meta_key

log = logging.getLogger(__name__)
Obj = dict[str, Any]

TRACKING_FINALIZER = "batch.kubernetes.io/job-tracking"
BACKOFF_BASE = 10.0
BACKOFF_CAP = 600.0  # MaxJobPodFailureBackOff in current releases (the docs still say 6 minutes)
MAX_UNCOUNTED = 500
COMPLETION_INDEX = "batch.kubernetes.io/job-completion-index"
MAX_GENERATED_NAME = 58  # names.MaxGeneratedNameLength
BURST = 500
ORPHAN_POD = "orphan-pod|"  # key prefix: one queue, told apart from Job keys (`ns/name`) by it


def has_tracking_finalizer(pod: Obj) -> bool:
    return TRACKING_FINALIZER in (pod["metadata"].get("finalizers") or [])


def is_orphan_pod(pod: Obj, job: Obj | None) -> bool:
    """syncOrphanPod's test, with `job` the cached Job matching the pod's controller reference
    (uid included) or None: the finalizer may go unless a batch/v1 Job controls the pod and is
    unfinished. A pod controlled by another kind is not ours to touch."""
    ref = controller_ref(pod)
    if ref is None:
        return True
    if ref.get("kind") != "Job" or ref.get("apiVersion") != "batch/v1":
        return False
    return job is None or is_finished(job)


def job_condition(job: Obj, kind: str) -> Obj | None:
    for c in (job.get("status") or {}).get("conditions") or []:
        if c.get("type") == kind and c.get("status") == "True":
            return c
    return None


def is_finished(job: Obj) -> bool:
    return job_condition(job, "Complete") is not None or job_condition(job, "Failed") is not None


def pod_succeeded(pod: Obj) -> bool:
    return (pod.get("status") or {}).get("phase") == "Succeeded"


def pod_failed(pod: Obj, replacement_policy: str) -> bool:
    phase = (pod.get("status") or {}).get("phase")
    if phase == "Failed":
        return True
    return bool(pod["metadata"].get("deletionTimestamp")) and phase != "Succeeded" and replacement_policy != "Failed"


def failure_time(pod: Obj) -> datetime | None:
    latest: datetime | None = None
    for status in (pod.get("status") or {}).get("containerStatuses") or []:
        finished = parse_time(((status.get("state") or {}).get("terminated") or {}).get("finishedAt"))
        if finished and (latest is None or finished > latest):
            latest = finished
    return latest or parse_time(pod["metadata"].get("deletionTimestamp")) or \
        parse_time(pod["metadata"].get("creationTimestamp"))


def backoff_delay(failures_since_success: int) -> float:
    if failures_since_success <= 0:
        return 0.0
    return min(BACKOFF_BASE * 2 ** (failures_since_success - 1), BACKOFF_CAP)


def is_indexed(job: Obj) -> bool:
    return (job.get("spec") or {}).get("completionMode") == "Indexed"


def pod_index(pod: Obj, completions: int) -> int | None:
    """The pod's completion index (annotation, else label); None when missing or out of range."""
    meta = pod["metadata"]
    raw = (meta.get("annotations") or {}).get(COMPLETION_INDEX) or (meta.get("labels") or {}).get(COMPLETION_INDEX)
    try:
        index = int(raw) if raw is not None else -1
    except ValueError:
        return None
    return index if 0 <= index < completions else None


def parse_indexes(text: str | None) -> set[int]:
    """`"1,3-5"` → {1, 3, 4, 5} (status.completedIndexes)."""
    indexes: set[int] = set()
    for part in (text or "").split(","):
        if not part.strip():
            continue
        first, _, last = part.partition("-")
        indexes.update(range(int(first), int(last or first) + 1))
    return indexes


def format_indexes(indexes: set[int]) -> str:
    """{1, 3, 4, 5} → `"1,3-5"`: ascending, consecutive runs as ranges."""
    runs: list[list[int]] = []
    for index in sorted(indexes):
        if runs and index == runs[-1][1] + 1:
            runs[-1][1] = index
        else:
            runs.append([index, index])
    return ",".join(str(a) if a == b else f"{a}-{b}" for a, b in runs)


def indexed_pod_body(body: Obj, job_name: str, index: int) -> Obj:
    """A pod for one completion index: annotation and label, hostname `<job>-<index>`, env
    JOB_COMPLETION_INDEX from the annotation, generateName `<job>-<index>-` (Kubernetes'
    addCompletionIndexAnnotation / addCompletionIndexEnvVariables / podGenerateNameWithIndex)."""
    pod = copy.deepcopy(body)
    meta, spec = pod["metadata"], pod["spec"]
    meta.setdefault("annotations", {})[COMPLETION_INDEX] = str(index)
    meta.setdefault("labels", {})[COMPLETION_INDEX] = str(index)
    suffix = f"-{index}-"
    meta["generateName"] = f"{job_name[:MAX_GENERATED_NAME - len(suffix)]}{suffix}"
    spec.setdefault("hostname", f"{job_name}-{index}"[:63].rstrip("-"))
    env_var = {"name": "JOB_COMPLETION_INDEX", "valueFrom": {"fieldRef": {
        "fieldPath": f"metadata.annotations['{COMPLETION_INDEX}']"}}}
    for key in ("initContainers", "containers"):
        for container in spec.get(key) or []:
            if not any(e.get("name") == "JOB_COMPLETION_INDEX" for e in container.get("env") or []):
                container.setdefault("env", []).append(copy.deepcopy(env_var))
    return pod


def want_active(spec: Obj, succeeded: int) -> int:
    parallelism = int(spec.get("parallelism", 1) or 0)
    completions = spec.get("completions")
    if completions is None:
        return 0 if succeeded > 0 else parallelism
    return max(0, min(parallelism, int(completions) - succeeded))


def set_condition(status: Obj, kind: str, state: str, reason: str, message: str) -> bool:
    conditions = status.setdefault("conditions", [])
    for c in conditions:
        if c.get("type") == kind:
            if c.get("status") == state and c.get("reason") == reason:
                return False
            if c.get("status") != state:
                c["lastTransitionTime"] = now_rfc3339()
            c.update({"status": state, "reason": reason, "message": message, "lastProbeTime": now_rfc3339()})
            return True
    now = now_rfc3339()
    conditions.append({"type": kind, "status": state, "reason": reason, "message": message,
                       "lastProbeTime": now, "lastTransitionTime": now})
    return True


class JobController(Controller):
    name = "job-controller"
    workers = 4

    def __init__(self, ctx: ControllerContext) -> None:
        super().__init__(ctx)
        self.recorder = ctx.recorder(self.name)
        self.expectations = Expectations()
        self.jobs = ctx.informers.informer("jobs")
        self.pods = ctx.informers.informer("pods")
        self.jobs.add_indexer("uid", lambda o: [o["metadata"].get("uid", "")])
        self.pods.add_indexer("job-uid", lambda o: [r["uid"] for r in [controller_ref(o)] if r and r.get("kind") == "Job"])
        self.jobs.add_handlers(on_add=self.enqueue, on_update=lambda _o, n: self.enqueue(n), on_delete=self._job_gone)
        self.pods.add_handlers(on_add=self._pod_added, on_update=lambda _o, n: self._pod_event(n),
                               on_delete=self._pod_deleted)

    def _job_gone(self, job: Obj) -> None:
        """deleteJob → cleanupPodFinalizers: the Job's sync returns early once it is gone, so its
        pods' finalizers are handed to the orphan-pod keys."""
        self.expectations.forget(meta_key(job))
        for pod in self._pods_of(job):
            if has_tracking_finalizer(pod):
                self._enqueue_orphan_pod(pod)

    def _controlling_job(self, pod: Obj) -> Obj | None:
        """resolveControllerRef: the cached Job the pod's controller reference names, uid included."""
        ref = controller_ref(pod)
        if ref is None or ref.get("kind") != "Job":
            return None
        jobs = self.jobs.by_index("uid", ref.get("uid", ""))
        return jobs[0] if jobs else None

    def _enqueue_orphan_pod(self, pod: Obj) -> None:
        self.queue.add(ORPHAN_POD + meta_key(pod))

    def _check_orphan(self, pod: Obj) -> None:
        """Kubernetes notices orphans on the pod's add, update and delete events; the same test
        as the sync decides here, so queuing early only removes what would be removed anyway."""
        if has_tracking_finalizer(pod) and is_orphan_pod(pod, self._controlling_job(pod)):
            self._enqueue_orphan_pod(pod)

    def _owner_key(self, pod: Obj) -> str | None:
        job = self._controlling_job(pod)
        return meta_key(job) if job is not None else None

    def _pod_added(self, pod: Obj) -> None:
        key = self._owner_key(pod)
        if key is not None:
            self.expectations.creation_observed(key)
        self._pod_event(pod)

    def _pod_event(self, pod: Obj) -> None:
        self._check_orphan(pod)
        key = self._owner_key(pod)
        if key is None:
            return
        if pod["metadata"].get("deletionTimestamp"):
            self.expectations.deletion_observed(key, pod["metadata"].get("uid", ""))
        self.queue.add_after(key, 0.2)  # batch bursts of pod events, as Kubernetes does (1 s there)

    def _pod_deleted(self, pod: Obj) -> None:
        key = self._owner_key(pod)
        if key is not None:
            self.expectations.deletion_observed(key, pod["metadata"].get("uid", ""))
            self.queue.add(key)

    # ---- sync ----------------------------------------------------------------------

    async def sync(self, key: str) -> None:
        if key.startswith(ORPHAN_POD):
            await self._sync_orphan_pod(key.removeprefix(ORPHAN_POD))
            return
        cached = self.jobs.get(key)
        if cached is None or is_finished(cached):
            if cached is not None:
                await self._release_finalizers(self._pods_of(cached))
            return
        job = copy.deepcopy(cached)
        spec, status = job.get("spec") or {}, copy.deepcopy(job.get("status") or {})
        pods = self._pods_of(job)
        policy = spec.get("podReplacementPolicy", "TerminatingOrFailed")
        if await self._track_finished(job, status, pods, policy):
            return  # status was written; the update event brings us back
        active = [p for p in pods if is_pod_active(p)]
        terminating = [p for p in pods if p["metadata"].get("deletionTimestamp") and
                       (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")]
        suspended = bool(spec.get("suspend"))
        deleting = bool(job["metadata"].get("deletionTimestamp"))
        self._suspend_conditions(job, status, suspended)
        if not suspended and not status.get("startTime"):
            status["startTime"] = now_rfc3339()
        target = self._terminal_target(job, status, pods, active)
        running = active  # what status reports: active pods after this sync's deletes and creates
        if target is not None:
            running = await self._delete_pods(job, active, len(active))
            if not active and not terminating and not _uncounted(status):
                self._finish(job, status, target)
        elif suspended:
            running = await self._delete_pods(job, active, len(active))
        elif self.expectations.satisfied(key) and not deleting:
            running = await self._manage(job, status, active, key, pods)
        if deleting:
            await self._release_finalizers(pods)  # canRemoveFinalizer: the entire Job is terminating
        status["active"] = len(running)
        status["ready"] = sum(1 for p in running if is_pod_ready(p))
        status["terminating"] = len(terminating)
        status.setdefault("succeeded", 0)
        status.setdefault("failed", 0)
        await self._write_status(job, status)
        self._requeue_for_deadline(job, status)

    async def _sync_orphan_pod(self, pod_key: str) -> None:
        """syncOrphanPod: drop the tracking finalizer of a pod no unfinished Job controls."""
        pod = self.pods.get(pod_key)
        if pod is None or not has_tracking_finalizer(pod):
            return
        if not is_orphan_pod(pod, self._controlling_job(pod)):
            return  # adopted, or its Job came back into the cache
        await self._release_finalizers([pod])

    def _pods_of(self, job: Obj) -> list[Obj]:
        return self.pods.by_index("job-uid", job["metadata"]["uid"])

    async def _track_finished(self, job: Obj, status: Obj, pods: list[Obj], policy: str) -> bool:
        """Two-step, crash-safe counting of finished pods. True when status was written."""
        uncounted = status.setdefault("uncountedTerminatedPods", {})
        known = set(uncounted.get("succeeded") or []) | set(uncounted.get("failed") or [])
        newly = [p for p in pods if TRACKING_FINALIZER in (p["metadata"].get("finalizers") or [])
                 and p["metadata"]["uid"] not in known
                 and (pod_succeeded(p) or pod_failed(p, policy))][:MAX_UNCOUNTED]
        if is_indexed(job):
            if await self._track_indexed_successes(job, status, [p for p in newly if pod_succeeded(p)]):
                return True
            newly = [p for p in newly if not pod_succeeded(p)]
        if newly:
            for pod in newly:
                bucket = "succeeded" if pod_succeeded(pod) else "failed"
                uncounted.setdefault(bucket, []).append(pod["metadata"]["uid"])
            await self._write_status(job, status)
            return True
        if not known:
            status.pop("uncountedTerminatedPods", None)
            return False
        by_uid = {p["metadata"]["uid"]: p for p in pods}
        await self._release_finalizers([by_uid[u] for u in known if u in by_uid])
        for bucket in ("succeeded", "failed"):
            uids = uncounted.get(bucket) or []
            status[bucket] = int(status.get(bucket) or 0) + len(uids)
        status.pop("uncountedTerminatedPods", None)
        await self._write_status(job, status)
        return True

    async def _track_indexed_successes(self, job: Obj, status: Obj, succeeded: list[Obj]) -> bool:
        """Indexed Jobs count successes by index, not uid: the index goes into
        status.completedIndexes (succeeded = how many), and only once that is written do the
        pods' finalizers come off. True when status was written."""
        completions = int((job.get("spec") or {}).get("completions") or 0)
        completed = parse_indexes(status.get("completedIndexes"))
        before = set(completed)
        for pod in succeeded:
            index = pod_index(pod, completions)
            if index is not None:
                completed.add(index)
        if completed != before:
            status["completedIndexes"] = format_indexes(completed)
            status["succeeded"] = len(completed)
            if not _uncounted(status):
                status.pop("uncountedTerminatedPods", None)
            await self._write_status(job, status)
            return True
        await self._release_finalizers(succeeded)  # already recorded
        return False

    async def _release_finalizers(self, pods: list[Obj]) -> None:
        async def release(pod: Obj) -> None:
            finalizers = [f for f in pod["metadata"].get("finalizers") or [] if f != TRACKING_FINALIZER]
            patch = {"metadata": {"finalizers": finalizers or None,
                                  "resourceVersion": pod["metadata"]["resourceVersion"]}}
            try:
                await self.client.patch("pods", pod["metadata"]["name"], patch, pod["metadata"]["namespace"],
                                        patch_type="merge")
            except StatusError as exc:
                if exc.code not in (404, 409):
                    raise

        holding = [p for p in pods if TRACKING_FINALIZER in (p["metadata"].get("finalizers") or [])]
        await asyncio.gather(*(release(p) for p in holding))

    def _suspend_conditions(self, job: Obj, status: Obj, suspended: bool) -> None:
        current = next((c for c in status.get("conditions") or [] if c.get("type") == "Suspended"), None)
        if suspended and (current is None or current.get("status") != "True"):
            set_condition(status, "Suspended", "True", "JobSuspended", "Job suspended")
            self.recorder.event(job, "Normal", "Suspended", "Job suspended")
        elif not suspended and current is not None and current.get("status") == "True":
            set_condition(status, "Suspended", "False", "JobResumed", "Job resumed")
            status["startTime"] = now_rfc3339()
            self.recorder.event(job, "Normal", "Resumed", "Job resumed")

    def _terminal_target(self, job: Obj, status: Obj, pods: list[Obj], active: list[Obj]) -> tuple[str, str, str] | None:
        """→ (condition, reason, message) once the Job has succeeded or failed."""
        for kind, final in (("SuccessCriteriaMet", "Complete"), ("FailureTarget", "Failed")):
            existing = next((c for c in status.get("conditions") or [] if c.get("type") == kind
                             and c.get("status") == "True"), None)
            if existing is not None:
                return final, existing.get("reason", ""), existing.get("message", "")
        spec = job.get("spec") or {}
        succeeded, failed = int(status.get("succeeded") or 0), int(status.get("failed") or 0)
        backoff_limit = int(spec.get("backoffLimit", 6))
        completions = spec.get("completions")
        target: tuple[str, str, str] | None = None
        if failed > backoff_limit or self._past_backoff_on_failure(job, pods, backoff_limit):
            target = ("Failed", "BackoffLimitExceeded", "Job has reached the specified backoff limit")
        elif self._past_deadline(job, status):
            target = ("Failed", "DeadlineExceeded", "Job was active longer than specified deadline")
        elif (completions is not None and succeeded >= int(completions)) or \
                (completions is None and succeeded > 0 and not active):
            target = ("Complete", "CompletionsReached", "Reached expected number of succeeded pods")
        if target is not None:
            interim = "SuccessCriteriaMet" if target[0] == "Complete" else "FailureTarget"
            set_condition(status, interim, "True", target[1], target[2])
        return target

    @staticmethod
    def _past_backoff_on_failure(job: Obj, pods: list[Obj], limit: int) -> bool:
        template_spec = ((job.get("spec") or {}).get("template") or {}).get("spec") or {}
        if template_spec.get("restartPolicy") != "OnFailure":
            return False
        restarts = 0
        for pod in pods:
            if (pod.get("status") or {}).get("phase") not in ("Pending", "Running"):
                continue
            for key in ("initContainerStatuses", "containerStatuses"):
                restarts += sum(int(s.get("restartCount") or 0) for s in (pod.get("status") or {}).get(key) or [])
        return restarts >= limit if limit else restarts > 0

    @staticmethod
    def _past_deadline(job: Obj, status: Obj) -> bool:
        deadline = (job.get("spec") or {}).get("activeDeadlineSeconds")
        started = parse_time(status.get("startTime"))
        if deadline is None or started is None or (job.get("spec") or {}).get("suspend"):
            return False
        return (datetime.now(UTC) - started).total_seconds() >= int(deadline)

    def _finish(self, job: Obj, status: Obj, target: tuple[str, str, str]) -> None:
        kind, reason, message = target
        set_condition(status, kind, "True", reason, message)
        if kind == "Complete":
            status["completionTime"] = now_rfc3339()
            self.recorder.event(job, "Normal", "Completed", "Job completed")
        else:
            self.recorder.event(job, "Warning", reason, message)

    async def _manage(self, job: Obj, status: Obj, active: list[Obj], key: str, pods: list[Obj]) -> list[Obj]:
        """Create or delete toward the wanted count; → the active pods afterwards (manageJob's
        `active`, which counts pods just created and drops pods just deleted)."""
        spec = job.get("spec") or {}
        if is_indexed(job):
            surplus = self._indexed_surplus(job, status, active)
            if surplus:
                return await self._delete_pods(job, surplus, len(surplus)) + \
                    [p for p in active if p not in surplus]
        wanted = want_active(spec, int(status.get("succeeded") or 0))
        diff = wanted - len(active)
        if diff < 0:
            return await self._delete_pods(job, active, min(-diff, BURST))
        if diff == 0:
            return active
        delay = self._remaining_backoff(job, pods)
        if delay > 0:
            self.queue.add_after(key, delay)
            return active
        indexes = self._missing_indexes(job, status, active)[:diff] if is_indexed(job) else None
        count = min(diff, BURST) if indexes is None else min(len(indexes), BURST)
        return active + await self._create_pods(job, count, key, indexes)

    @staticmethod
    def _missing_indexes(job: Obj, status: Obj, active: list[Obj]) -> list[int]:
        """Indexes neither completed nor held by an active pod, lowest first."""
        completions = int((job.get("spec") or {}).get("completions") or 0)
        taken = parse_indexes(status.get("completedIndexes")) | {pod_index(p, completions) for p in active}
        return [i for i in range(completions) if i not in taken]

    @staticmethod
    def _indexed_surplus(job: Obj, status: Obj, active: list[Obj]) -> list[Obj]:
        """Active pods with no valid index, an already completed index, or a second pod for
        an index (the least progressed of the duplicates goes)."""
        completions = int((job.get("spec") or {}).get("completions") or 0)
        completed = parse_indexes(status.get("completedIndexes"))
        by_index: dict[int, list[Obj]] = {}
        surplus: list[Obj] = []
        for pod in active:
            index = pod_index(pod, completions)
            if index is None or index in completed:
                surplus.append(pod)
            else:
                by_index.setdefault(index, []).append(pod)
        for holders in by_index.values():
            if len(holders) > 1:
                surplus += pods_to_delete(holders, len(holders) - 1, holders)
        return surplus

    def _remaining_backoff(self, job: Obj, pods: list[Obj]) -> float:
        policy = (job.get("spec") or {}).get("podReplacementPolicy", "TerminatingOrFailed")
        failed = sorted((p for p in pods if pod_failed(p, policy)), key=lambda p: failure_time(p) or datetime.min.replace(tzinfo=UTC))
        succeeded = [failure_time(p) for p in pods if pod_succeeded(p)]
        last_success = max((t for t in succeeded if t), default=None)
        recent = [p for p in failed if last_success is None or (failure_time(p) or last_success) > last_success]
        if not recent:
            return 0.0
        last = failure_time(recent[-1])
        if last is None:
            return 0.0
        ready_at = last.timestamp() + backoff_delay(len(recent))
        return max(0.0, ready_at - datetime.now(UTC).timestamp())

    async def _create_pods(self, job: Obj, count: int, key: str, indexes: list[int] | None = None) -> list[Obj]:
        self.expectations.expect(key, add=count)
        template = copy.deepcopy((job.get("spec") or {}).get("template") or {})
        template.setdefault("metadata", {}).setdefault("finalizers", [])
        if TRACKING_FINALIZER not in template["metadata"]["finalizers"]:
            template["metadata"]["finalizers"].append(TRACKING_FINALIZER)
        body = pod_from_template(template, job, pods_prefix(job["metadata"]["name"]))
        bodies = [body] * count if indexes is None else \
            [indexed_pod_body(body, job["metadata"]["name"], i) for i in indexes[:count]]
        namespace = job["metadata"]["namespace"]
        remaining, batch, created = count, 1, []
        while remaining > 0:
            size = min(batch, remaining)
            first = count - remaining
            results = await asyncio.gather(*(self.client.create("pods", b, namespace)
                                             for b in bodies[first:first + size]), return_exceptions=True)
            errors = [r for r in results if isinstance(r, BaseException)]
            for result in results:
                if isinstance(result, BaseException):
                    self.expectations.lower(key, add=1)
                    self.recorder.event(job, "Warning", "FailedCreate", f"Error creating: {result}")
                else:
                    created.append(result)
                    self.recorder.event(job, "Normal", "SuccessfulCreate",
                                        f"Created pod: {result['metadata']['name']}")
            remaining -= size
            batch *= 2
            if errors:
                self.expectations.lower(key, add=remaining)
                raise errors[0]
        return created

    async def _delete_pods(self, job: Obj, active: list[Obj], count: int) -> list[Obj]:
        """Delete the `count` least-progressed pods; → the active pods left."""
        victims = pods_to_delete(active, count, active)
        for pod in victims:
            try:
                await self.client.delete("pods", pod["metadata"]["name"], pod["metadata"]["namespace"])
                self.recorder.event(job, "Normal", "SuccessfulDelete", f"Deleted pod: {pod['metadata']['name']}")
            except StatusError as exc:
                if exc.code != 404:
                    raise
        gone = {p["metadata"]["uid"] for p in victims}
        return [p for p in active if p["metadata"]["uid"] not in gone]

    async def _write_status(self, job: Obj, status: Obj) -> None:
        if status == (job.get("status") or {}):
            return
        body = copy.deepcopy(job)
        body["status"] = status
        try:
            job.update(await self.client.update_status("jobs", body, job["metadata"]["namespace"]))
        except StatusError as exc:
            if exc.code == 404:
                return
            raise

    def _requeue_for_deadline(self, job: Obj, status: Obj) -> None:
        deadline = (job.get("spec") or {}).get("activeDeadlineSeconds")
        started = parse_time(status.get("startTime"))
        if deadline is None or started is None or is_finished({"status": status}):
            return
        left = started.timestamp() + int(deadline) - datetime.now(UTC).timestamp()
        self.queue.add_after(meta_key(job), max(left, 0) + 0.5)


def _uncounted(status: Obj) -> bool:
    uncounted = status.get("uncountedTerminatedPods") or {}
    return bool(uncounted.get("succeeded") or uncounted.get("failed"))

