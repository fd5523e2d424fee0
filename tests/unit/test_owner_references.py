"""Owner references as Kubernetes leaves them: an orphaned or released dependent has no
`ownerReferences` field at all (never `[]`), and the garbage collector processes the
`orphan` and `foregroundDeletion` finalizers of a Namespace like any object's.

Why: clients test `metadata.ownerReferences` for presence (kubectl's describe, `jq
'.metadata.ownerReferences == null'`); and a namespace deleted with propagationPolicy=Orphan
keeps `orphan` in metadata.finalizers, which only the collector removes, so without it the
namespace stays Terminating for ever (garbagecollector.go attemptToOrphan).
"""

from __future__ import annotations

from typing import Any

import pytest

from controllers.garbagecollector import GarbageCollector
from controllers.podutil import remove_owner_refs_patch
from tests.unit import test_sync_deployment as deploy
from tests.unit import test_sync_replicaset as rs
from tests.unit.controller_fakes import FakeCluster

NS = "default"
Obj = dict[str, Any]


def ref(uid: str, controller: bool = False) -> Obj:
    found: Obj = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": uid, "uid": uid}
    if controller:
        found["controller"] = True
    return found


@pytest.mark.parametrize(("refs", "uids", "kept"), [
    pytest.param([ref("a", True)], {"a"}, None, id="last-one-goes-so-the-field-goes"),
    pytest.param([ref("a"), ref("b", True)], {"a"}, [ref("b", True)], id="others-stay-in-order"),
    pytest.param([ref("a"), ref("b")], {"a", "b"}, None, id="several-at-once"),
    pytest.param([ref("a")], {"zzz"}, [ref("a")], id="unknown-uid-changes-nothing"),
    pytest.param([], {"a"}, None, id="none-to-begin-with"),
])
def test_remove_owner_refs_patch(refs: list[Obj], uids: set[str], kept: list[Obj] | None) -> None:
    obj = {"metadata": {"name": "x", "resourceVersion": "42", "ownerReferences": refs}}
    assert remove_owner_refs_patch(obj, uids) == {"metadata": {"ownerReferences": kept, "resourceVersion": "42"}}


def owner(name: str = "owner", finalizer: str = "orphan") -> Obj:
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": name, "namespace": NS, "uid": f"{name}-uid", "finalizers": [finalizer],
                         "deletionTimestamp": "2026-01-01T00:00:00Z"},
            "spec": {"replicas": 0, "selector": {"matchLabels": {"app": "gc"}}, "template": {}}}


def dependent(name: str, *owners: str) -> Obj:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": NS, "labels": {"app": "gc"},
                         "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": o,
                                              "uid": f"{o}-uid", "controller": i == 0}
                                             for i, o in enumerate(owners)]},
            "spec": {"containers": [{"name": "c", "image": "i"}]}}


async def test_orphaning_leaves_no_owner_references_field() -> None:
    cluster = FakeCluster()
    gc = GarbageCollector(cluster.ctx)
    cluster.add(owner(), dependent("alone", "owner"), dependent("shared", "owner", "other"))
    await gc.sync(f"replicasets|{NS}/owner")
    assert "ownerReferences" not in cluster.client.stored("pods", NS, "alone")["metadata"]
    assert [r["uid"] for r in cluster.client.stored("pods", NS, "shared")["metadata"]["ownerReferences"]] == \
        ["other-uid"]
    patches = [w for w in cluster.writes if w.resource == "pods"]
    assert [(w.name, w.patch_type) for w in patches] == [("alone", "merge"), ("shared", "merge")]
    assert patches[0].body["metadata"]["ownerReferences"] is None
    assert ("get", "pods", NS, "alone") in cluster.client.reads  # patched from the live object
    assert cluster.client.stored("replicasets", NS, "owner") is None  # finalizer off: gone


def terminating_namespace(finalizer: str) -> Obj:
    return {"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": "doomed", "uid": "ns-uid", "finalizers": [finalizer],
                         "deletionTimestamp": "2026-01-01T00:00:00Z"},
            "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Terminating"}}


@pytest.mark.parametrize("finalizer", ["orphan", "foregroundDeletion"])
async def test_namespace_deletion_finalizers_are_processed(finalizer: str) -> None:
    cluster = FakeCluster()
    gc = GarbageCollector(cluster.ctx)
    cluster.add(terminating_namespace(finalizer))
    assert "namespaces|/doomed" in [await gc.queue.get() for _ in range(len(gc.queue))]
    await gc.sync("namespaces|/doomed")
    patch = next(w for w in cluster.writes if w.resource == "namespaces")
    assert (patch.verb, patch.patch_type, patch.body["metadata"]["finalizers"]) == ("patch", "merge", None)


async def test_replicaset_release_leaves_no_owner_references_field() -> None:
    stray = rs.pod("stray")
    stray["metadata"]["labels"] = {"app": "elsewhere"}
    cluster, _ = await rs.sync_once(rs.replica_set(0), stray)
    patch = next(w for w in cluster.writes if w.name == "stray")
    assert patch.patch_type == "merge" and patch.body["metadata"]["ownerReferences"] is None
    assert "ownerReferences" not in cluster.client.stored("pods", NS, "stray")["metadata"]


async def test_deployment_release_leaves_no_owner_references_field() -> None:
    d = deploy.deployment(1, "web:1")
    old = deploy.replica_set(d, "web:1", 1)
    stray = deploy.replica_set(d, "web:0", 0, name="web-stray")
    stray["metadata"]["labels"] = {"app": "elsewhere"}
    cluster = await deploy.sync_once(d, old, stray)
    patch = next(w for w in cluster.writes if w.name == "web-stray" and w.verb == "patch")
    assert patch.patch_type == "merge" and patch.body["metadata"]["ownerReferences"] is None
    assert "ownerReferences" not in cluster.client.stored("replicasets", NS, "web-stray")["metadata"]
