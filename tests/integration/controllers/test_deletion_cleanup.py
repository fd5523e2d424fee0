"""Deleting a Job, or the namespace holding one, leaves nothing behind: the Job controller
takes its tracking finalizer off pods whose Job is gone, the namespace controller waits for
its content (reporting why in Kubernetes' conditions) before /finalize, the garbage
collector processes a namespace's own `orphan`/`foregroundDeletion` finalizer, and orphaned
dependents have no `ownerReferences` field. Real API server, real controllers, a stand-in
kubelet for the pods.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from apimachinery.errors import StatusError
from controllers.manager import run_controller_manager
from kubeclient.rest import ApiClient
from tests.fixtures.wait import eventually
from tests.integration.controllers.simkubelet import SimKubelet, is_ready

Obj = dict[str, Any]
TRACKING = "batch.kubernetes.io/job-tracking"


def job(name: str, pods: int) -> Obj:
    """A Job whose pods land on a (simulated) node, so their deletion is graceful as with a kubelet."""
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name},
            "spec": {"parallelism": pods, "completions": pods,
                     "template": {"spec": {"restartPolicy": "Never", "nodeName": "sim-node",
                                           "terminationGracePeriodSeconds": 1,
                                           "containers": [{"name": "work", "image": "busybox:1.36"}]}}}}


@asynccontextmanager
async def controller_manager(client: ApiClient, *names: str) -> AsyncIterator[None]:
    """Controllers that this test stops and starts again, apart from the run_controllers fixture."""
    stop = asyncio.Event()
    task = asyncio.create_task(run_controller_manager(client, list(names), leader_elect=False, stop=stop))
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(task, return_exceptions=True), 30)


async def pods(client: ApiClient, namespace: str) -> list[Obj]:
    return (await client.list("pods", namespace))["items"]


async def running_pods(client: ApiClient, namespace: str, count: int) -> list[Obj]:
    async def ready() -> bool:
        found = await pods(client, namespace)
        return len(found) == count and all(is_ready(p) for p in found)

    await eventually(ready, what=f"{count} running pods")
    found = await pods(client, namespace)
    assert all(TRACKING in (p["metadata"].get("finalizers") or []) for p in found)
    return found


async def gone(client: ApiClient, resource: str, name: str, namespace: str = "") -> bool:
    try:
        await client.get(resource, name, namespace)
    except StatusError as exc:
        if exc.code == 404:
            return True
        raise
    return False


def conditions(ns: Obj) -> dict[str, Obj]:
    return {c["type"]: c for c in (ns.get("status") or {}).get("conditions") or []}


async def test_deleted_job_takes_its_pods_along(client: ApiClient, namespace: str, run_controllers) -> None:
    run_controllers("job", "garbagecollector")
    async with SimKubelet(client, namespace):
        await client.create("jobs", job("work", 2), namespace)
        await running_pods(client, namespace, 2)
        await client.delete("jobs", "work", namespace, propagation_policy="Background")

        async def no_pods() -> bool:
            return not await pods(client, namespace)

        await eventually(no_pods, what="the deleted Job's pods removed")


async def test_orphaned_job_pods_keep_running_without_finalizer_or_owner(client: ApiClient, namespace: str,
                                                                         run_controllers) -> None:
    run_controllers("job", "garbagecollector")
    async with SimKubelet(client, namespace):
        await client.create("jobs", job("work", 2), namespace)
        await running_pods(client, namespace, 2)
        await client.delete("jobs", "work", namespace, propagation_policy="Orphan")

        async def released() -> bool:
            found = await pods(client, namespace)
            return await gone(client, "jobs", "work", namespace) and len(found) == 2 and \
                all(not p["metadata"].get("finalizers") and "ownerReferences" not in p["metadata"] for p in found)

        await eventually(released, what="pods orphaned: no finalizer, no ownerReferences field")
        assert all(not p["metadata"].get("deletionTimestamp") for p in await pods(client, namespace))


async def test_namespace_waits_for_its_job_pods_then_goes(client: ApiClient, namespace: str,
                                                          run_controllers) -> None:
    """The Job controller is down while the namespace is deleted, so the pods keep the tracking
    finalizer and the namespace must report it and wait; once the controller is back (finding
    the pods of a Job that no longer exists), the pods go and then the namespace does."""
    run_controllers("namespace", "garbagecollector")
    async with SimKubelet(client, namespace):
        async with controller_manager(client, "job"):
            await client.create("jobs", job("work", 2), namespace)
            await running_pods(client, namespace, 2)
        await client.delete("namespaces", namespace)

        async def reported() -> bool:
            conds = conditions(await client.get("namespaces", namespace))
            return conds.get("NamespaceFinalizersRemaining", {}).get("status") == "True"

        await eventually(reported, what="NamespaceFinalizersRemaining")
        ns = await client.get("namespaces", namespace)
        conds = conditions(ns)
        assert ns["status"]["phase"] == "Terminating" and ns["spec"]["finalizers"] == ["kubernetes"]
        assert {k: (c["status"], c["reason"], c["message"]) for k, c in conds.items()} == {
            "NamespaceDeletionDiscoveryFailure": ("False", "ResourcesDiscovered",
                                                  "All resources successfully discovered"),
            "NamespaceDeletionGroupVersionParsingFailure": ("False", "ParsedGroupVersions",
                                                            "All legacy kube types successfully parsed"),
            "NamespaceDeletionContentFailure": ("False", "ContentDeleted",
                                                "All content successfully deleted, may be waiting on finalization"),
            "NamespaceContentRemaining": ("True", "SomeResourcesRemain",
                                          "Some resources are remaining: pods. has 2 resource instances"),
            "NamespaceFinalizersRemaining": ("True", "SomeFinalizersRemain",
                                             "Some content in the namespace has finalizers remaining: "
                                             "batch.kubernetes.io/job-tracking in 2 resource instances"),
        }
        held = await pods(client, namespace)
        assert len(held) == 2 and all(p["metadata"].get("deletionTimestamp") for p in held)
        assert await gone(client, "jobs", "work", namespace)

        async with controller_manager(client, "job"):
            async def namespace_gone() -> bool:
                return await gone(client, "namespaces", namespace)

            await eventually(namespace_gone, what=f"namespace {namespace} removed")
        assert not await pods(client, namespace)


@pytest.mark.parametrize("policy", ["Orphan", "Foreground"])
async def test_namespace_deleted_with_a_propagation_policy_goes_away(client: ApiClient, namespace: str,
                                                                     run_controllers, policy: str) -> None:
    run_controllers("namespace", "garbagecollector")
    marked = await client.delete("namespaces", namespace, propagation_policy=policy)
    assert ("orphan" if policy == "Orphan" else "foregroundDeletion") in marked["metadata"]["finalizers"]

    async def namespace_gone() -> bool:
        return await gone(client, "namespaces", namespace)

    await eventually(namespace_gone, what=f"namespace {namespace} deleted with {policy} removed")


async def test_replicaset_orphans_have_no_owner_references_field(client: ApiClient, namespace: str,
                                                                 run_controllers) -> None:
    run_controllers("replicaset", "garbagecollector")
    labels = {"app": "orphans"}
    await client.create("replicasets", {
        "apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "owner"},
        "spec": {"replicas": 2, "selector": {"matchLabels": labels},
                 "template": {"metadata": {"labels": labels},
                              "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}]}}}}, namespace)

    async def two_pods() -> bool:
        return len(await pods(client, namespace)) == 2

    await eventually(two_pods, what="the ReplicaSet's pods")
    await client.delete("replicasets", "owner", namespace, propagation_policy="Orphan")

    async def owner_gone() -> bool:
        return await gone(client, "replicasets", "owner", namespace)

    await eventually(owner_gone, what="owner removed after orphaning")
    kept = await pods(client, namespace)
    assert len(kept) == 2
    assert all("ownerReferences" not in p["metadata"] for p in kept), [p["metadata"] for p in kept]
