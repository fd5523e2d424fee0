"""Namespace deletion empties and removes the namespace; the garbage collector follows
ownerReferences for Background, Orphan and Foreground deletes. Real API server, real HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from apimachinery.errors import StatusError
from kubeclient.rest import ApiClient
from tests.fixtures.wait import eventually


def pod(name: str, owner: dict[str, Any] | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "labels": {"app": "gc"}}
    if owner is not None:
        meta["ownerReferences"] = [{"apiVersion": owner["apiVersion"], "kind": owner["kind"],
                                    "name": owner["metadata"]["name"], "uid": owner["metadata"]["uid"],
                                    "controller": True, "blockOwnerDeletion": True}]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta,
            "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}]}}


def replicaset(name: str) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": name},
            "spec": {"replicas": 0, "selector": {"matchLabels": {"app": "gc"}},
                     "template": {"metadata": {"labels": {"app": "gc"}},
                                  "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}]}}}}


async def exists(client: ApiClient, resource: str, name: str, namespace: str) -> bool:
    try:
        await client.get(resource, name, namespace)
        return True
    except StatusError as exc:
        if exc.code == 404:
            return False
        raise


async def test_namespace_deletion_empties_then_removes_it(client: ApiClient, namespace: str,
                                                          run_controllers) -> None:
    run_controllers("namespace")
    await client.create("pods", pod("p1"), namespace)
    await client.create("replicasets", replicaset("rs1"), namespace)
    deleted = await client.delete("namespaces", namespace)
    assert deleted["status"]["phase"] == "Terminating"
    with pytest.raises(StatusError) as info:
        await client.create("pods", pod("late"), namespace)
    assert info.value.code == 403 and "is being terminated" in info.value.message

    async def gone() -> bool:
        return not await exists(client, "namespaces", namespace, "")

    await eventually(gone, what=f"namespace {namespace} removed")
    assert not await exists(client, "pods", "p1", namespace)


async def test_background_delete_collects_dependents(client: ApiClient, namespace: str, run_controllers) -> None:
    run_controllers("garbagecollector")
    rs = await client.create("replicasets", replicaset("owner"), namespace)
    await client.create("pods", pod("dep-1", rs), namespace)
    await client.create("pods", pod("dep-2", rs), namespace)
    await client.delete("replicasets", "owner", namespace, propagation_policy="Background")

    async def dependents_gone() -> bool:
        return not (await client.list("pods", namespace, label_selector="app=gc"))["items"]

    await eventually(dependents_gone, what="dependents collected")


async def test_orphan_delete_keeps_dependents_without_owner(client: ApiClient, namespace: str,
                                                            run_controllers) -> None:
    run_controllers("garbagecollector")
    rs = await client.create("replicasets", replicaset("owner"), namespace)
    await client.create("pods", pod("kept", rs), namespace)
    await client.delete("replicasets", "owner", namespace, propagation_policy="Orphan")

    async def owner_gone() -> bool:
        return not await exists(client, "replicasets", "owner", namespace)

    await eventually(owner_gone, what="owner removed after orphaning")
    kept = await client.get("pods", "kept", namespace)
    assert not kept["metadata"].get("ownerReferences")


async def test_foreground_delete_waits_for_dependents(client: ApiClient, namespace: str, run_controllers) -> None:
    run_controllers("garbagecollector")
    rs = await client.create("replicasets", replicaset("owner"), namespace)
    await client.create("pods", pod("fg", rs), namespace)
    marked = await client.delete("replicasets", "owner", namespace, propagation_policy="Foreground")
    assert "foregroundDeletion" in marked["metadata"]["finalizers"]

    async def all_gone() -> bool:
        return not await exists(client, "replicasets", "owner", namespace) and \
            not await exists(client, "pods", "fg", namespace)

    await eventually(all_gone, what="owner and dependent removed")


async def test_dangling_owner_reference_is_collected(client: ApiClient, namespace: str, run_controllers) -> None:
    run_controllers("garbagecollector")
    ghost = {"apiVersion": "apps/v1", "kind": "ReplicaSet",
             "metadata": {"name": "never-existed", "uid": "00000000-0000-4000-8000-000000000000"}}
    await client.create("pods", pod("orphaned", ghost), namespace)

    async def collected() -> bool:
        return not await exists(client, "pods", "orphaned", namespace)

    await eventually(collected, what="pod with a dangling owner collected")
