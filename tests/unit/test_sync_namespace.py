"""The namespace controller's deletion pass: the five conditions Kubernetes' deleter writes
(reasons and messages verbatim from status_condition_utils.go), the graceful-termination
estimate that decides the requeue, and one sync's writes: no /finalize while content remains.

Why: a namespace that is finalized while pods still hold finalizers leaves those pods behind
for ever, and users (and kubectl describe) read these exact condition strings to learn why a
namespace is stuck (namespaced_resources_deleter.go is the reference).
"""

from __future__ import annotations

import asyncio
import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from apimachinery.errors import StatusError
from apiserver.discovery import legacy_api_group_list, legacy_resource_list
from controllers.namespace import (
    CONDITION_TYPES,
    ContentTotals,
    GroupVersionResource,
    NamespaceController,
    ResourceDeletion,
    collection_path,
    content_conditions,
    content_failure,
    deletable_resources,
    discovery_failure,
    finalize_body,
    group_discovery_error,
    parse_group_version,
    pod_termination_estimate,
    remaining_content,
    requeue_delay,
    update_conditions,
)
from kubeclient.workqueue import WorkQueue
from tests.unit.controller_fakes import FakeApiClient, FakeCluster, Write, iso

Obj = dict[str, Any]
NOW = "2026-01-01T00:00:00Z"
LATER = "2026-01-01T00:01:00Z"
PODS = GroupVersionResource("", "v1", "pods")
JOBS = GroupVersionResource("batch", "v1", "jobs")
TRACKING = "batch.kubernetes.io/job-tracking"


def by_type(conditions: list[Obj]) -> dict[str, tuple[str, str, str]]:
    return {c["type"]: (c["status"], c["reason"], c["message"]) for c in conditions}


# ---- conditions ----------------------------------------------------------------------------

ALL_OK = {
    "NamespaceDeletionDiscoveryFailure": ("False", "ResourcesDiscovered", "All resources successfully discovered"),
    "NamespaceDeletionGroupVersionParsingFailure": ("False", "ParsedGroupVersions",
                                                    "All legacy kube types successfully parsed"),
    "NamespaceDeletionContentFailure": ("False", "ContentDeleted",
                                        "All content successfully deleted, may be waiting on finalization"),
    "NamespaceContentRemaining": ("False", "ContentRemoved", "All content successfully removed"),
    "NamespaceFinalizersRemaining": ("False", "ContentHasNoFinalizers", "All content-preserving finalizers finished"),
}


def test_first_pass_writes_all_five_conditions_false_when_all_is_well() -> None:
    conditions, changed = update_conditions([], [], NOW)
    assert changed
    assert [c["type"] for c in conditions] == list(CONDITION_TYPES)
    assert by_type(conditions) == ALL_OK
    assert {c["lastTransitionTime"] for c in conditions} == {NOW}


TOTALS = [
    pytest.param(ContentTotals(), [], id="nothing-left"),
    pytest.param(ContentTotals({PODS: 2}, {TRACKING: 2}), [
        ("NamespaceContentRemaining", "SomeResourcesRemain", "Some resources are remaining: pods. has 2 resource instances"),
        ("NamespaceFinalizersRemaining", "SomeFinalizersRemain",
         "Some content in the namespace has finalizers remaining: batch.kubernetes.io/job-tracking in 2 resource instances"),
    ], id="pods-held-by-the-job-finalizer"),
    pytest.param(ContentTotals({PODS: 1}), [
        ("NamespaceContentRemaining", "SomeResourcesRemain", "Some resources are remaining: pods. has 1 resource instances"),
    ], id="terminating-pods-without-finalizers"),
    pytest.param(ContentTotals({PODS: 3, JOBS: 1}, {"b.io/x": 1, "a.io/y": 2}), [
        ("NamespaceContentRemaining", "SomeResourcesRemain",
         "Some resources are remaining: jobs.batch has 1 resource instances, pods. has 3 resource instances"),
        ("NamespaceFinalizersRemaining", "SomeFinalizersRemain",
         "Some content in the namespace has finalizers remaining: a.io/y in 2 resource instances, "
         "b.io/x in 1 resource instances"),
    ], id="sorted-for-stable-updates"),
]


@pytest.mark.parametrize(("totals", "expected"), TOTALS)
def test_content_conditions_name_what_remains(totals: ContentTotals, expected: list[tuple[str, str, str]]) -> None:
    assert [(c["type"], c["reason"], c["message"]) for c in content_conditions(totals, NOW)] == expected
    assert all(c["status"] == "True" for c in content_conditions(totals, NOW))


@pytest.mark.parametrize(("errors", "message"), [
    ([], None),
    (["boom"], "Failed to delete all resource types, 1 remaining: boom"),
    (["z failed", "a failed"], "Failed to delete all resource types, 2 remaining: a failed, z failed"),
])
def test_content_failure_condition(errors: list[str], message: str | None) -> None:
    found = content_failure(errors, NOW)
    if message is None:
        assert found is None
    else:
        assert found is not None
        assert (found["type"], found["status"], found["reason"], found["message"]) == (
            "NamespaceDeletionContentFailure", "True", "ContentDeletionFailed", message)


@pytest.mark.parametrize(("failed", "groups", "message"), [
    ({"apps/v1": "the server is currently unable to handle the request"}, 1,
     "Discovery failed for some groups, 1 failing: unable to retrieve the complete list of server APIs: "
     "apps/v1: the server is currently unable to handle the request"),
    ({"v1": "x", "batch/v1": "y"}, 2,
     "Discovery failed for some groups, 2 failing: unable to retrieve the complete list of server APIs: "
     "batch/v1: y, v1: x"),
])
def test_discovery_failure_condition(failed: dict[str, str], groups: int, message: str) -> None:
    found = discovery_failure(group_discovery_error(failed), groups, NOW)
    assert (found["type"], found["status"], found["reason"], found["message"]) == (
        "NamespaceDeletionDiscoveryFailure", "True", "DiscoveryFailed", message)


def test_discovery_failure_of_the_whole_api_keeps_the_message() -> None:
    found = discovery_failure("cannot reach http://x", 0, NOW)
    assert found["message"] == "cannot reach http://x"


def test_transition_time_moves_only_when_status_does() -> None:
    first, _ = update_conditions([], content_conditions(ContentTotals({PODS: 2}, {TRACKING: 2}), NOW), NOW)
    fewer, changed = update_conditions(first, content_conditions(ContentTotals({PODS: 1}, {TRACKING: 1}), LATER),
                                       LATER)
    assert changed
    remaining = next(c for c in fewer if c["type"] == "NamespaceContentRemaining")
    assert remaining["message"] == "Some resources are remaining: pods. has 1 resource instances"
    assert remaining["lastTransitionTime"] == NOW  # still True: same transition
    gone, changed = update_conditions(fewer, [], LATER)
    assert changed and by_type(gone) == ALL_OK
    assert next(c for c in gone if c["type"] == "NamespaceContentRemaining")["lastTransitionTime"] == LATER
    _, changed = update_conditions(gone, [], "2026-01-01T00:02:00Z")
    assert not changed  # nothing to write: no status update


# ---- estimates and what is left --------------------------------------------------------------

DELETED = datetime(2026, 1, 1, tzinfo=UTC)


def a_pod(grace: int | None, phase: str = "Running", finalizers: list[str] | None = None) -> Obj:
    spec: Obj = {} if grace is None else {"terminationGracePeriodSeconds": grace}
    meta: Obj = {"name": "p"}
    if finalizers:
        meta["finalizers"] = finalizers
    return {"metadata": meta, "spec": spec, "status": {"phase": phase}}


@pytest.mark.parametrize(("pods", "elapsed", "estimate"), [
    pytest.param([], 0, 0, id="no-pods"),
    pytest.param([a_pod(30), a_pod(10)], 5, 30, id="longest-grace"),
    pytest.param([a_pod(30)], 30, 0, id="grace-already-elapsed"),
    pytest.param([a_pod(60, "Succeeded"), a_pod(5)], 1, 5, id="finished-pods-do-not-count"),
    pytest.param([a_pod(None)], 0, 0, id="no-grace-period"),
])
def test_pod_termination_estimate(pods: list[Obj], elapsed: float, estimate: int) -> None:
    assert pod_termination_estimate(pods, DELETED, DELETED + timedelta(seconds=elapsed)) == estimate


@pytest.mark.parametrize(("items", "estimate", "deletion", "error"), [
    pytest.param([], 30, ResourceDeletion(), None, id="all-gone"),
    pytest.param([a_pod(30)], 30, ResourceDeletion(30, 1, {}), None, id="gracefully-terminating"),
    pytest.param([a_pod(30, finalizers=[TRACKING]), a_pod(30, finalizers=[TRACKING, "x"])], 0,
                 ResourceDeletion(15, 2, {TRACKING: 2, "x": 1}), None, id="held-by-finalizers"),
    pytest.param([a_pod(30)], 0, ResourceDeletion(0, 1, {}),
                 "unexpected items still remain in namespace: ns1 for gvr: /v1, Resource=pods", id="unexpected"),
])
def test_remaining_content(items: list[Obj], estimate: int, deletion: ResourceDeletion, error: str | None) -> None:
    assert remaining_content(PODS, "ns1", items, estimate) == (deletion, error)


@pytest.mark.parametrize(("estimate", "delay"), [(0, 1.0), (15, 8.0), (30, 16.0), (1, 1.0)])
def test_requeue_is_half_the_estimate_plus_one(estimate: int, delay: float) -> None:
    assert requeue_delay(estimate) == delay


# ---- discovery parsing -----------------------------------------------------------------------

@pytest.mark.parametrize(("text", "parsed"), [("v1", ("", "v1")), ("apps/v1", ("apps", "v1")), ("", ("", ""))])
def test_parse_group_version(text: str, parsed: tuple[str, str]) -> None:
    assert parse_group_version(text) == parsed


def test_bad_group_version_fails_only_where_something_is_deletable() -> None:
    deletable = {"name": "things", "verbs": ["delete", "list"]}
    assert deletable_resources([{"groupVersion": "a/b/c", "resources": [{"name": "r", "verbs": ["get"]}]}]) == []
    with pytest.raises(ValueError, match="unexpected GroupVersion string: a/b/c"):
        deletable_resources([{"groupVersion": "a/b/c", "resources": [deletable]}])
    found = deletable_resources([{"groupVersion": "x.io/v2", "resources": [deletable]}])
    assert [(r.gvr, r.verbs) for r in found] == [(GroupVersionResource("x.io", "v2", "things"),
                                                 frozenset({"delete", "list"}))]


@pytest.mark.parametrize(("gvr", "name", "path"), [
    (PODS, "", "/api/v1/namespaces/ns1/pods"),
    (JOBS, "j", "/apis/batch/v1/namespaces/ns1/jobs/j"),
])
def test_collection_path(gvr: GroupVersionResource, name: str, path: str) -> None:
    assert collection_path(gvr, "ns1", name) == path


def test_finalize_body_drops_only_kubernetes_sorted() -> None:
    ns = {"metadata": {"name": "n", "resourceVersion": "7"}, "spec": {"finalizers": ["z", "kubernetes", "a"]}}
    assert finalize_body(ns) == {"apiVersion": "v1", "kind": "Namespace", "metadata": ns["metadata"],
                                 "spec": {"finalizers": ["a", "z"]}}


# ---- one sync against a fake server -----------------------------------------------------------

class Answer:
    def __init__(self, body: Any) -> None:
        self.body = body
        self.status = 200

    def json(self) -> Any:
        return self.body


class DiscoveringFake(FakeApiClient):
    """FakeApiClient plus the raw `request` paths the namespace controller uses: legacy
    discovery documents (the real server's), collection list and delete, and /finalize."""

    async def request(self, method: str, path: str, *, body: Any = None, **_: Any) -> Answer:
        parts = path.strip("/").split("/")
        if method == "GET" and path == "/api":
            return Answer({"kind": "APIVersions", "versions": ["v1"]})
        if method == "GET" and path == "/apis":
            return Answer(legacy_api_group_list())
        if method == "GET" and parts[0] == "api" and len(parts) == 2:
            return Answer(legacy_resource_list("", parts[1]))
        if method == "GET" and parts[0] == "apis" and len(parts) == 3:
            return Answer(legacy_resource_list(parts[1], parts[2]))
        if path.endswith("/finalize"):
            return Answer(self._finalize(parts[3], body))
        base = 2 if parts[0] == "api" else 3
        namespace, plural, name = parts[base + 1], parts[base + 2], (parts[base + 3:] or [""])[0]
        if method == "GET":
            return Answer(await self.list(plural, namespace))
        if name:
            return Answer(await self.delete(plural, name, namespace, propagation_policy=body["propagationPolicy"]))
        for item in (await self.list(plural, namespace))["items"]:
            await self.delete(plural, item["metadata"]["name"], namespace, propagation_policy="Background")
        return Answer({})

    def _store(self, r: Any, old: Obj, new: Obj, subresource: str) -> Obj:
        """A Namespace's status write keeps it while spec.finalizers is set (the base fake
        would remove a deleted object without metadata finalizers)."""
        if r.kind != "Namespace" or subresource != "status":
            return super()._store(r, old, new, subresource)
        result = copy.deepcopy(old)
        result["status"] = copy.deepcopy(new.get("status"))
        if result != old:
            self._bump(result)
        self.objects[("namespaces", "", old["metadata"]["name"])] = result
        return copy.deepcopy(result)

    def _finalize(self, name: str, body: Obj) -> Obj:
        self.writes.append(Write("update", "namespaces", "", name, copy.deepcopy(body), "finalize"))
        stored = self.objects[("namespaces", "", name)]
        stored["spec"]["finalizers"] = body["spec"]["finalizers"]
        if not stored["spec"]["finalizers"] and not stored["metadata"].get("finalizers"):
            del self.objects[("namespaces", "", name)]
        return copy.deepcopy(stored)


def terminating_namespace() -> Obj:
    return {"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": "ns1", "deletionTimestamp": iso(datetime.now(UTC) - timedelta(seconds=10))},
            "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Terminating"}}


def held_pod(name: str) -> Obj:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "ns1", "finalizers": [TRACKING]},
            "spec": {"terminationGracePeriodSeconds": 5, "containers": [{"name": "c", "image": "i"}]},
            "status": {"phase": "Running"}}


async def sync_namespace(*objects: Obj) -> tuple[FakeCluster, NamespaceController]:
    cluster = FakeCluster(client=DiscoveringFake())
    controller = NamespaceController(cluster.ctx)
    cluster.add(*objects)
    controller.queue = WorkQueue()
    await controller.sync("ns1")
    return cluster, controller


async def test_content_held_by_finalizers_keeps_the_namespace_and_requeues() -> None:
    cluster, controller = await sync_namespace(terminating_namespace(), held_pod("a"), held_pod("b"))
    assert not [w for w in cluster.writes if w.subresource == "finalize"]
    assert [w.name for w in cluster.writes if w.verb == "delete" and w.resource == "pods"] == ["a", "b"]
    status = cluster.client.stored("namespaces", "", "ns1")["status"]
    conditions = by_type(status["conditions"])
    assert conditions["NamespaceContentRemaining"] == (
        "True", "SomeResourcesRemain", "Some resources are remaining: pods. has 2 resource instances")
    assert conditions["NamespaceFinalizersRemaining"] == (
        "True", "SomeFinalizersRemain",
        "Some content in the namespace has finalizers remaining: batch.kubernetes.io/job-tracking in 2 resource instances")
    assert conditions["NamespaceDeletionContentFailure"][1] == "ContentDeleted"
    handle = controller.queue._waiting.get("ns1")
    assert handle is not None  # 15 s finalizer estimate (the grace periods have passed) → 8 s
    assert 7.0 < handle.when() - asyncio.get_running_loop().time() <= 8.0


async def test_empty_namespace_is_finalized_with_its_conditions_all_false() -> None:
    cluster, _ = await sync_namespace(terminating_namespace())
    status_writes = [w for w in cluster.writes if w.target == "namespaces/status"]
    assert by_type(status_writes[-1].body["status"]["conditions"]) == ALL_OK
    finalize = [w for w in cluster.writes if w.subresource == "finalize"]
    assert len(finalize) == 1 and finalize[0].body["spec"]["finalizers"] == []
    assert cluster.client.stored("namespaces", "", "ns1") is None


async def test_discovery_failure_blocks_finalize_and_retries() -> None:
    class BrokenApps(DiscoveringFake):
        async def request(self, method: str, path: str, **kwargs: Any) -> Answer:
            if path == "/apis/apps/v1":
                raise StatusError(503, "ServiceUnavailable", "the server is currently unable to handle the request")
            return await super().request(method, path, **kwargs)

    cluster = FakeCluster(client=BrokenApps())
    controller = NamespaceController(cluster.ctx)
    cluster.add(terminating_namespace())
    with pytest.raises(Exception, match="unable to retrieve the complete list of server APIs"):
        await controller.sync("ns1")
    assert not [w for w in cluster.writes if w.subresource == "finalize"]
    conditions = by_type(cluster.client.stored("namespaces", "", "ns1")["status"]["conditions"])
    assert conditions["NamespaceDeletionDiscoveryFailure"] == (
        "True", "DiscoveryFailed", "Discovery failed for some groups, 1 failing: unable to retrieve the complete "
        "list of server APIs: apps/v1: the server is currently unable to handle the request")


async def test_gone_or_live_namespace_is_left_alone() -> None:
    cluster, _ = await sync_namespace()
    assert cluster.writes == []
    active = terminating_namespace()
    del active["metadata"]["deletionTimestamp"]
    cluster, _ = await sync_namespace(active)
    assert cluster.writes == []

