"""Namespace controller: empties a terminating namespace, then lets it go (Kubernetes'
namespace_controller.go and deletion/namespaced_resources_deleter.go, 1.32).

A deleted Namespace stays `Terminating` while its `spec.finalizers` holds `kubernetes`. Each
sync discovers the namespaced resources the server serves (as the real controller does, so
a kind added to the server is emptied too), deletes each collection, lists what is left and
writes the five deletion conditions Kubernetes writes: True with the failure or with what
remains, False with the "all is well" reason otherwise. Only when nothing is left and nothing
failed does it remove `kubernetes` through `/finalize` (semantics.md §1.13); while content
remains it looks again after estimate/2+1 seconds, the estimate being the longest graceful
termination of the namespace's running pods, or 15 s when only finalizers hold things up.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from apimachinery.errors import StatusError
from apimachinery.timeutil import now_rfc3339, parse_time
from controllers.base import Controller, ControllerContext, RetryLater
from kubeclient.rest import ApiClient

log = logging.getLogger(__name__)
Obj = dict[str, Any]

FINALIZER = "kubernetes"
DELETION_DELAY = 5.0  # namespaceDeletionGracePeriod: let HA API servers see the deletion first
FINALIZER_ESTIMATE_SECONDS = 15  # finalizerEstimateSeconds: a default wait for finalizers to finish
FINALIZE_CONFLICT_RETRIES = 5

DISCOVERY_FAILURE = "NamespaceDeletionDiscoveryFailure"
GV_PARSING_FAILURE = "NamespaceDeletionGroupVersionParsingFailure"
CONTENT_FAILURE = "NamespaceDeletionContentFailure"
CONTENT_REMAINING = "NamespaceContentRemaining"
FINALIZERS_REMAINING = "NamespaceFinalizersRemaining"
CONDITION_TYPES = (DISCOVERY_FAILURE, GV_PARSING_FAILURE, CONTENT_FAILURE, CONTENT_REMAINING, FINALIZERS_REMAINING)
OK_REASONS = {
    DISCOVERY_FAILURE: "ResourcesDiscovered",
    GV_PARSING_FAILURE: "ParsedGroupVersions",
    CONTENT_FAILURE: "ContentDeleted",
    CONTENT_REMAINING: "ContentRemoved",
    FINALIZERS_REMAINING: "ContentHasNoFinalizers",
}
OK_MESSAGES = {
    DISCOVERY_FAILURE: "All resources successfully discovered",
    GV_PARSING_FAILURE: "All legacy kube types successfully parsed",
    CONTENT_FAILURE: "All content successfully deleted, may be waiting on finalization",
    CONTENT_REMAINING: "All content successfully removed",
    FINALIZERS_REMAINING: "All content-preserving finalizers finished",
}


# ---- pure helpers ------------------------------------------------------------------------

@dataclass(frozen=True)
class GroupVersionResource:
    group: str
    version: str
    resource: str

    def __str__(self) -> str:
        """schema.GroupVersionResource.String(): the error messages quote it this way."""
        return f"{self.group}/{self.version}, Resource={self.resource}"


@dataclass(frozen=True)
class DiscoveredResource:
    gvr: GroupVersionResource
    verbs: frozenset[str]


@dataclass
class ResourceDeletion:
    """gvrDeletionMetadata: what one resource's pass left behind. estimate 0 means "no estimate
    made", not "all gone"."""

    estimate: int = 0
    remaining: int = 0
    finalizers: dict[str, int] = field(default_factory=dict)


@dataclass
class ContentTotals:
    """allGVRDeletionMetadata: what is left in the whole namespace, for the two conditions."""

    by_resource: dict[GroupVersionResource, int] = field(default_factory=dict)
    by_finalizer: dict[str, int] = field(default_factory=dict)

    def add(self, gvr: GroupVersionResource, deletion: ResourceDeletion) -> None:
        if deletion.remaining <= 0:
            return
        self.by_resource[gvr] = deletion.remaining
        for finalizer, count in deletion.finalizers.items():
            if count:
                self.by_finalizer[finalizer] = self.by_finalizer.get(finalizer, 0) + count


def parse_group_version(text: str) -> tuple[str, str]:
    """schema.ParseGroupVersion: "v1" → ("", "v1"), "apps/v1" → ("apps", "v1")."""
    if text in ("", "/"):
        return "", ""
    if text.count("/") == 0:
        return "", text
    if text.count("/") == 1:
        group, version = text.split("/")
        return group, version
    raise ValueError(f"unexpected GroupVersion string: {text}")


def deletable_resources(lists: Iterable[Obj]) -> list[DiscoveredResource]:
    """discovery.FilteredBy(SupportsAllVerbs{delete}) then GroupVersionResources: one bad
    groupVersion among the lists with something deletable fails them all, as there."""
    found: list[DiscoveredResource] = []
    for resource_list in lists:
        resources = [r for r in resource_list.get("resources") or [] if "delete" in (r.get("verbs") or [])]
        if not resources:
            continue
        group, version = parse_group_version(resource_list.get("groupVersion", ""))
        found += [DiscoveredResource(GroupVersionResource(group, version, r["name"]), frozenset(r.get("verbs") or []))
                  for r in resources]
    return found


def group_discovery_error(failed: dict[str, str]) -> str:
    """discovery.ErrGroupDiscoveryFailed.Error(), groups sorted."""
    groups = sorted(f"{gv}: {message}" for gv, message in failed.items())
    return f"unable to retrieve the complete list of server APIs: {', '.join(groups)}"


def condition(kind: str, reason: str, message: str, now: str, status: str = "True") -> Obj:
    return {"type": kind, "status": status, "lastTransitionTime": now, "reason": reason, "message": message}


def discovery_failure(message: str, groups_failing: int, now: str) -> Obj:
    """ProcessDiscoverResourcesErr: partial failures say how many groups failed."""
    if groups_failing:
        message = f"Discovery failed for some groups, {groups_failing} failing: {message}"
    return condition(DISCOVERY_FAILURE, "DiscoveryFailed", message, now)


def group_version_failure(message: str, now: str) -> Obj:
    return condition(GV_PARSING_FAILURE, "GroupVersionParsingFailed", message, now)


def content_conditions(totals: ContentTotals, now: str) -> list[Obj]:
    """ProcessContentTotals: the True conditions naming what remains, sorted for stable updates."""
    found: list[Obj] = []
    if totals.by_resource:
        parts = sorted(f"{gvr.resource}.{gvr.group} has {count} resource instances"
                       for gvr, count in totals.by_resource.items() if count)
        found.append(condition(CONTENT_REMAINING, "SomeResourcesRemain",
                               f"Some resources are remaining: {', '.join(parts)}", now))
    if totals.by_finalizer:
        parts = sorted(f"{finalizer} in {count} resource instances"
                       for finalizer, count in totals.by_finalizer.items() if count)
        found.append(condition(FINALIZERS_REMAINING, "SomeFinalizersRemain",
                               f"Some content in the namespace has finalizers remaining: {', '.join(parts)}", now))
    return found


def content_failure(errors: list[str], now: str) -> Obj | None:
    """makeDeleteContentCondition."""
    if not errors:
        return None
    return condition(CONTENT_FAILURE, "ContentDeletionFailed",
                     f"Failed to delete all resource types, {len(errors)} remaining: {', '.join(sorted(errors))}", now)


def update_conditions(current: list[Obj], new: list[Obj], now: str) -> tuple[list[Obj], bool]:
    """updateConditions: every managed type gets its new condition, or its False "ok" form;
    lastTransitionTime moves only when status does. → (conditions, changed)."""
    result = [dict(c) for c in current]
    changed = False
    for kind in CONDITION_TYPES:
        wanted = next((c for c in new if c["type"] == kind), None) or \
            condition(kind, OK_REASONS[kind], OK_MESSAGES[kind], now, status="False")
        old = next((c for c in result if c.get("type") == kind), None)
        if old is None:
            result.append(dict(wanted))
            changed = True
        elif (old.get("status"), old.get("reason"), old.get("message")) != \
                (wanted["status"], wanted["reason"], wanted["message"]):
            if old.get("status") != wanted["status"]:
                old["lastTransitionTime"] = now
            old.update(status=wanted["status"], reason=wanted["reason"], message=wanted["message"])
            changed = True
    return result, changed


def pod_termination_estimate(pods: Iterable[Obj], deleted_at: datetime | None, now: datetime) -> int:
    """estimateGracefulTermination for pods: the longest terminationGracePeriodSeconds of the
    pods not yet finished, or 0 once the namespace has been terminating that long already."""
    estimate = 0
    for pod in pods:
        if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
            continue
        grace = (pod.get("spec") or {}).get("terminationGracePeriodSeconds")
        if grace is not None and int(grace) > estimate:
            estimate = int(grace)
    if deleted_at is not None and (now - deleted_at).total_seconds() >= estimate:
        return 0
    return estimate


def remaining_content(gvr: GroupVersionResource, namespace: str, items: list[Obj],
                      estimate: int) -> tuple[ResourceDeletion, str | None]:
    """The end of deleteAllContentForGroupVersionResource: items left after the deletes are
    fine while graceful termination is expected or finalizers hold them; otherwise an error."""
    if not items:
        return ResourceDeletion(), None
    finalizers: dict[str, int] = {}
    for item in items:
        for finalizer in (item.get("metadata") or {}).get("finalizers") or []:
            finalizers[finalizer] = finalizers.get(finalizer, 0) + 1
    if estimate:
        return ResourceDeletion(estimate, len(items), finalizers), None
    if finalizers:
        return ResourceDeletion(FINALIZER_ESTIMATE_SECONDS, len(items), finalizers), None
    return ResourceDeletion(estimate, len(items)), \
        f"unexpected items still remain in namespace: {namespace} for gvr: {gvr}"


def requeue_delay(estimate: int) -> float:
    """The worker's wait while content remains: half the estimate, plus one second."""
    return float(estimate // 2 + 1)


def finalize_body(ns: Obj) -> Obj:
    """finalizeNamespace: the namespace with `kubernetes` gone from spec.finalizers (sorted set)."""
    kept = sorted({f for f in (ns.get("spec") or {}).get("finalizers") or [] if f != FINALIZER})
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": ns["metadata"], "spec": {"finalizers": kept}}


def collection_path(gvr: GroupVersionResource, namespace: str, name: str = "") -> str:
    base = f"/api/{gvr.version}" if not gvr.group else f"/apis/{gvr.group}/{gvr.version}"
    path = f"{base}/namespaces/{namespace}/{gvr.resource}"
    return f"{path}/{name}" if name else path


def _unsupported(exc: StatusError) -> bool:
    """NotFound or MethodNotSupported: the server does not offer this verb here."""
    return exc.code in (404, 405)


async def discover_namespaced_resources(client: ApiClient) -> tuple[list[Obj], str, int]:
    """ServerPreferredNamespacedResources over legacy discovery: the preferred version's
    resource list of every group, namespaced top-level resources only.
    → (lists, error message or "", how many group versions failed)."""
    try:
        core, groups = await asyncio.gather(client.request("GET", "/api"), client.request("GET", "/apis"))
    except StatusError as exc:
        return [], str(exc), 0
    versions = (core.json().get("versions") or [])[:1]
    versions += [g["preferredVersion"]["groupVersion"] for g in groups.json().get("groups") or []
                 if (g.get("preferredVersion") or {}).get("groupVersion")]
    answers = await asyncio.gather(*(client.request("GET", f"/api/{gv}" if "/" not in gv else f"/apis/{gv}")
                                     for gv in versions), return_exceptions=True)
    lists: list[Obj] = []
    failed: dict[str, str] = {}
    for gv, answer in zip(versions, answers, strict=True):
        if isinstance(answer, StatusError):
            failed[gv] = str(answer)
            continue
        if isinstance(answer, BaseException):
            raise answer
        body = answer.json()
        lists.append({"groupVersion": body.get("groupVersion", gv),
                      "resources": [r for r in body.get("resources") or []
                                    if r.get("namespaced") and "/" not in r.get("name", "")]})
    return lists, group_discovery_error(failed) if failed else "", len(failed)


# ---- the controller ----------------------------------------------------------------------

class NamespaceController(Controller):
    name = "namespace-controller"

    def __init__(self, ctx: ControllerContext, deletion_delay: float = DELETION_DELAY) -> None:
        super().__init__(ctx)
        self.deletion_delay = deletion_delay
        self.namespaces = ctx.informers.informer("namespaces")
        self.namespaces.add_handlers(on_add=self._maybe_enqueue, on_update=lambda _o, n: self._maybe_enqueue(n))

    def _maybe_enqueue(self, ns: Obj) -> None:
        if ns["metadata"].get("deletionTimestamp"):
            self.enqueue_after(ns, self.deletion_delay)

    async def sync(self, key: str) -> None:
        if self.namespaces.get(key) is None:
            return
        ns = await self._live(key)  # other controllers edit a terminating namespace: act on the latest
        if ns is None or not ns["metadata"].get("deletionTimestamp"):
            return
        ns = await self._ensure_terminating(ns)
        if ns is None or not (ns.get("spec") or {}).get("finalizers"):
            return  # finalized already; metadata finalizers (orphan, …) are the garbage collector's
        estimate, errors = await self._delete_all_content(ns)
        if errors:
            raise RetryLater(f"namespace {key}: " + "; ".join(errors))
        if estimate > 0:
            log.debug("namespace %s: content remains, waiting %ss", key, requeue_delay(estimate))
            self.queue.add_after(key, requeue_delay(estimate))
            return
        await self._finalize(ns)
        log.info("namespace %s is empty; finalized", key)

    async def _live(self, name: str) -> Obj | None:
        try:
            return await self.client.get("namespaces", name)
        except StatusError as exc:
            if exc.code == 404:
                return None
            raise

    async def _ensure_terminating(self, ns: Obj) -> Obj | None:
        """updateNamespaceStatusFunc: a deleted namespace's phase is Terminating."""
        if (ns.get("status") or {}).get("phase") == "Terminating":
            return ns
        body = {**ns, "status": {**(ns.get("status") or {}), "phase": "Terminating"}}
        try:
            return await self.client.update_status("namespaces", body)
        except StatusError as exc:
            if exc.code == 404:
                return None
            raise

    async def _delete_all_content(self, ns: Obj) -> tuple[int, list[str]]:
        """deleteAllContent: one pass over every deletable namespaced resource; the conditions
        are written whatever happened. → (estimate in seconds, errors)."""
        name, now = ns["metadata"]["name"], now_rfc3339()
        deleted_at = parse_time(ns["metadata"].get("deletionTimestamp"))
        errors: list[str] = []
        new: list[Obj] = []
        lists, discovery_error, groups_failing = await discover_namespaced_resources(self.client)
        if discovery_error:
            errors.append(discovery_error)
            new.append(discovery_failure(discovery_error, groups_failing, now))
        try:
            resources = deletable_resources(lists)
        except ValueError as exc:
            resources = []
            errors.append(str(exc))
            new.append(group_version_failure(str(exc), now))
        estimate, totals, content_errors = 0, ContentTotals(), []
        for resource in resources:
            deletion, error = await self._delete_resource(resource, name, deleted_at)
            if error:
                content_errors.append(error)
            estimate = max(estimate, deletion.estimate)
            totals.add(resource.gvr, deletion)
        new += content_conditions(totals, now)
        failure = content_failure(content_errors, now)
        if failure is not None:
            new.append(failure)
        await self._write_conditions(ns, new, now)
        return estimate, errors + content_errors

    async def _delete_resource(self, resource: DiscoveredResource, namespace: str,
                               deleted_at: datetime | None) -> tuple[ResourceDeletion, str | None]:
        """deleteAllContentForGroupVersionResource: estimate, delete, then see what is left."""
        try:
            estimate = await self._estimate(resource.gvr, namespace, deleted_at)
        except StatusError as exc:
            return ResourceDeletion(), str(exc)
        try:
            if not await self._delete_collection(resource, namespace):
                await self._delete_each_item(resource, namespace)
            items = await self._list_collection(resource, namespace)
        except StatusError as exc:
            return ResourceDeletion(estimate), str(exc)
        if items is None:
            return ResourceDeletion(estimate), None
        return remaining_content(resource.gvr, namespace, items, estimate)

    async def _estimate(self, gvr: GroupVersionResource, namespace: str, deleted_at: datetime | None) -> int:
        if (gvr.group, gvr.resource) != ("", "pods"):
            return 0
        pods = (await self.client.list("pods", namespace)).get("items") or []
        return pod_termination_estimate(pods, deleted_at, datetime.now(UTC))

    async def _delete_collection(self, resource: DiscoveredResource, namespace: str) -> bool:
        """→ False when the server does not offer deletecollection here. Background, so the
        garbage collector adds no orphan finalizer to what is deleted generically."""
        if "deletecollection" not in resource.verbs:
            return False
        try:
            await self.client.request("DELETE", collection_path(resource.gvr, namespace),
                                      body={"propagationPolicy": "Background"})
        except StatusError as exc:
            if _unsupported(exc):
                return False
            raise
        return True

    async def _list_collection(self, resource: DiscoveredResource, namespace: str) -> list[Obj] | None:
        """→ None when the server does not offer list here."""
        if "list" not in resource.verbs:
            return None
        try:
            listing = (await self.client.request("GET", collection_path(resource.gvr, namespace))).json()
        except StatusError as exc:
            if _unsupported(exc):
                return None
            raise
        return list(listing.get("items") or [])

    async def _delete_each_item(self, resource: DiscoveredResource, namespace: str) -> None:
        for item in await self._list_collection(resource, namespace) or []:
            try:
                await self.client.request("DELETE", collection_path(resource.gvr, namespace, item["metadata"]["name"]),
                                          body={"propagationPolicy": "Background"})
            except StatusError as exc:
                if not _unsupported(exc):
                    raise

    async def _write_conditions(self, ns: Obj, new: list[Obj], now: str) -> None:
        """Always reconciled, so a condition that failed before turns back to its ok form; a
        failed write is only logged (the next pass writes again), as Kubernetes does."""
        status = dict(ns.get("status") or {})
        status["conditions"], changed = update_conditions(status.get("conditions") or [], new, now)
        if not changed:
            return
        try:
            updated = await self.client.update_status("namespaces", {**ns, "status": status})
            ns.update(updated)
        except StatusError as exc:
            log.info("couldn't update status condition for namespace %q: %s", ns["metadata"]["name"], exc)

    async def _finalize(self, ns: Obj) -> None:
        """PUT /finalize, re-reading the namespace on conflicts (retryOnConflictError)."""
        name, uid = ns["metadata"]["name"], ns["metadata"].get("uid")
        for _ in range(FINALIZE_CONFLICT_RETRIES):
            try:
                await self.client.request("PUT", f"/api/v1/namespaces/{name}/finalize", body=finalize_body(ns))
                return
            except StatusError as exc:
                if exc.code == 404:
                    return
                if exc.code != 409:
                    raise
            latest = await self._live(name)
            if latest is None:
                return
            if latest["metadata"].get("uid") != uid:
                raise RetryLater(f"namespace {name}: uid has changed across retries")
            ns = latest
        raise RetryLater(f"namespace {name}: finalize kept conflicting")
