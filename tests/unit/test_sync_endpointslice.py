"""EndpointSlices: the packing rules (table-driven, pure), the exact writes one sync of the
EndpointSlice and mirroring controllers makes, and the stale-cache guard."""

from __future__ import annotations

from typing import Any

import pytest

from controllers.base import RetryLater
from controllers.endpointslice import EndpointSliceController, EndpointSliceMirroringController
from controllers.endpointslice.controller import pod_to_endpoint
from controllers.endpointslice.reconciler import (
    Desired,
    Plan,
    port_key,
    reconcile,
    reuse_deleted,
    slice_prefix,
)
from controllers.manager import CONTROLLERS
from tests.unit.controller_fakes import FakeCluster

Obj = dict[str, Any]
PORTS = [{"name": "http", "port": 8080, "protocol": "TCP"}]


# ---- pure packing --------------------------------------------------------------------

def ep(ip: str, ready: bool = True) -> Obj:
    return {"addresses": [ip], "conditions": {"ready": ready},
            "targetRef": {"kind": "Pod", "namespace": "ns", "name": f"p-{ip}"}}


def eps(name: str, *ips: str, ports: list[Obj] | None = None) -> Obj:
    return {"metadata": {"name": name, "labels": {}}, "addressType": "IPv4",
            "ports": PORTS if ports is None else ports, "endpoints": [ep(ip) for ip in ips]}


def desired(*ips: str, ports: list[Obj] | None = None) -> dict[str, Desired]:
    wanted = Desired(PORTS if ports is None else ports)
    for ip in ips:
        wanted.add(ep(ip))
    return {port_key(wanted.ports): wanted}


def new_slice(ports: list[Obj]) -> Obj:
    return {"metadata": {"generateName": "svc-", "labels": {}}, "addressType": "IPv4", "ports": ports,
            "endpoints": []}


def unchanged_labels(_slice: Obj) -> tuple[Obj, bool]:
    return {"labels": {}}, False


def summary(plan: Plan) -> tuple[list[list[str]], list[tuple[str, list[str]]], list[str]]:
    def ips(s: Obj) -> list[str]:
        return [e["addresses"][0] for e in s["endpoints"]]
    return ([ips(s) for s in plan.create], [(s["metadata"]["name"], ips(s)) for s in plan.update],
            [s["metadata"]["name"] for s in plan.delete])


CASES = [
    pytest.param([], desired("1", "2"), 3, ([["1", "2"]], [], []), id="nothing yet: one new slice"),
    pytest.param([], desired("1", "2", "3", "4", "5"), 2, ([["1", "2"], ["3", "4"], ["5"]], [], []),
                 id="new slices hold at most max-per-slice"),
    pytest.param([eps("a", "1", "2")], desired("1", "2"), 3, ([], [], []), id="in sync: no writes"),
    pytest.param([eps("a", "1", "2")], desired("1"), 3, ([], [("a", ["1"])], []), id="removed endpoint: update"),
    pytest.param([eps("a", "1")], desired(), 3, ([], [], ["a"]), id="slice left empty is deleted"),
    pytest.param([eps("a", "1", "2"), eps("b", "3")], desired("1", "3", "4"), 3,
                 ([], [("a", ["1", "4"])], []), id="new endpoints fill a slice being updated, b is untouched"),
    pytest.param([eps("a", "1"), eps("b", "2", "3")], desired("1", "2", "3", "4"), 3,
                 ([], [("b", ["2", "3", "4"])], []), id="else the fullest unchanged slice they fit in"),
    pytest.param([eps("a", "1", "2", "3")], desired("1", "2", "3", "4"), 3, ([["4"]], [], []),
                 id="else a new slice"),
    pytest.param([eps("a", "1", ports=[])], desired("1"), 3, ([["1"]], [], ["a"]),
                 id="port set changed: new slice, old deleted"),
]


@pytest.mark.parametrize(("existing", "wanted", "limit", "expected"), CASES)
def test_reconcile(existing: list[Obj], wanted: dict[str, Desired], limit: int,
                   expected: tuple[list[list[str]], list[tuple[str, list[str]]], list[str]]) -> None:
    assert summary(reconcile(existing, wanted, new_slice, unchanged_labels, limit)) == expected


def test_changed_endpoint_is_replaced_in_place() -> None:
    existing = [eps("a", "1", "2")]
    wanted = desired("1", "2")
    first = next(iter(next(iter(wanted.values())).endpoints.values()))
    first["conditions"] = {"ready": False}
    plan = reconcile(existing, wanted, new_slice, unchanged_labels, 3)
    assert [e["conditions"]["ready"] for e in plan.update[0]["endpoints"]] == [False, True]


def test_label_change_alone_updates() -> None:
    plan = reconcile([eps("a", "1")], desired("1"), new_slice, lambda _s: ({"labels": {"x": "y"}}, True), 3)
    assert [(s["metadata"]["name"], s["metadata"]["labels"]) for s in plan.update] == [("a", {"x": "y"})]


def test_a_create_takes_over_a_delete() -> None:
    plan = reconcile([eps("a", "1", ports=[])], desired("1"), new_slice, unchanged_labels, 3)
    reuse_deleted(plan, lambda _doomed, _fresh: True)
    assert summary(plan) == ([], [("a", ["1"])], [])
    assert "generateName" not in plan.update[0]["metadata"]


@pytest.mark.parametrize(("name", "prefix"), [("web", "web-"), ("Web", "endpointslice-"), ("a.b", "a.b-")])
def test_slice_prefix(name: str, prefix: str) -> None:
    assert slice_prefix(name) == prefix


@pytest.mark.parametrize(("ready", "deleting", "publish", "conditions"), [
    (True, False, False, {"ready": True, "serving": True, "terminating": False}),
    (False, False, False, {"ready": False, "serving": False, "terminating": False}),
    (True, True, False, {"ready": False, "serving": True, "terminating": True}),
    (False, True, True, {"ready": True, "serving": True, "terminating": True}),
])
def test_endpoint_conditions(ready: bool, deleting: bool, publish: bool, conditions: Obj) -> None:
    p = pod("p", "10.0.0.1", ready=ready)
    if deleting:
        p["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    svc = service("web", publishNotReadyAddresses=publish)
    assert pod_to_endpoint(p, svc, None)["conditions"] == conditions


# ---- controllers: exact writes ---------------------------------------------------------

def service(name: str, selector: Obj | None = None, **spec: Any) -> Obj:
    body: Obj = {"ports": [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}],
                 "clusterIP": "10.96.0.10", "ipFamilies": ["IPv4"], **spec}
    if selector is not None:
        body["selector"] = selector
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "namespace": "ns", "labels": {"team": "a"}}, "spec": body}


def pod(name: str, ip: str, ready: bool = True, node: str = "n1", labels: Obj | None = None) -> Obj:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "ns", "labels": labels or {"app": "web"}},
            "spec": {"nodeName": node, "containers": [{"name": "c", "image": "i"}]},
            "status": {"phase": "Running", "podIP": ip,
                       "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}}


def node(name: str, zone: str = "") -> Obj:
    labels = {"topology.kubernetes.io/zone": zone} if zone else {}
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": labels}}


def test_registered_by_default() -> None:
    assert CONTROLLERS["endpointslice"] is EndpointSliceController
    assert CONTROLLERS["endpointslicemirroring"] is EndpointSliceMirroringController


async def test_one_sync_creates_a_slice_like_kubernetes() -> None:
    cluster = FakeCluster()
    controller = EndpointSliceController(cluster.ctx)
    cluster.add(node("n1", zone="z1"), service("web", {"app": "web"}),
                pod("b", "10.0.0.2", ready=False), pod("a", "10.0.0.1"), pod("other", "10.0.0.3", labels={"x": "y"}))
    await controller.sync("ns/web")
    assert [(w.verb, w.resource) for w in cluster.writes] == [("create", "endpointslices")]
    body = cluster.writes[0].body
    svc_uid = cluster.client.stored("services", "ns", "web")["metadata"]["uid"]
    assert body["metadata"] == {
        "generateName": "web-", "namespace": "ns",
        "labels": {"team": "a", "kubernetes.io/service-name": "web",
                   "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io"},
        "ownerReferences": [{"apiVersion": "v1", "kind": "Service", "name": "web", "uid": svc_uid,
                             "controller": True, "blockOwnerDeletion": True}]}
    assert body["addressType"] == "IPv4"
    assert body["ports"] == [{"name": "http", "port": 8080, "protocol": "TCP"}]
    assert [(e["addresses"], e["conditions"]["ready"], e["nodeName"], e["zone"], e["targetRef"]["name"])
            for e in body["endpoints"]] == [(["10.0.0.1"], True, "n1", "z1", "a"), (["10.0.0.2"], False, "n1", "z1", "b")]


async def test_no_pods_leave_one_placeholder_and_it_is_reused() -> None:
    cluster = FakeCluster()
    controller = EndpointSliceController(cluster.ctx)
    cluster.add(node("n1"), service("web", {"app": "web"}))
    await controller.sync("ns/web")
    assert [(w.verb, w.body["ports"], w.body["endpoints"]) for w in cluster.writes] == [("create", [], [])]
    cluster.clear()
    cluster.deliver()
    await controller.sync("ns/web")
    assert cluster.writes == []  # the placeholder is not deleted and made again
    cluster.add(pod("a", "10.0.0.1"))
    await controller.sync("ns/web")
    placeholder = cluster.client.all("endpointslices")[0]["metadata"]["name"]
    assert [(w.verb, w.name) for w in cluster.writes] == [("update", placeholder)]
    assert len(cluster.client.all("endpointslices")) == 1


async def test_a_lagging_cache_retries_instead_of_creating_twice() -> None:
    cluster = FakeCluster()
    controller = EndpointSliceController(cluster.ctx)
    cluster.add(node("n1"), service("web", {"app": "web"}), pod("a", "10.0.0.1"))
    await controller.sync("ns/web")
    with pytest.raises(RetryLater):
        await controller.sync("ns/web")  # the informer has not seen the slice just created
    cluster.deliver()
    cluster.clear()
    await controller.sync("ns/web")
    assert cluster.writes == []


async def test_pods_on_unknown_nodes_wait_and_selectorless_services_are_left_alone() -> None:
    cluster = FakeCluster()
    controller = EndpointSliceController(cluster.ctx)
    cluster.add(service("web", {"app": "web"}), service("manual"), pod("a", "10.0.0.1", node="ghost"))
    with pytest.raises(RetryLater, match="nodes are not known"):
        await controller.sync("ns/web")
    await controller.sync("ns/manual")
    assert [(w.verb, w.body["endpoints"]) for w in cluster.writes] == [("create", [])]


def manual_endpoints(**labels: str) -> Obj:
    return {"apiVersion": "v1", "kind": "Endpoints",
            "metadata": {"name": "manual", "namespace": "ns", "labels": labels,
                         "annotations": {"note": "x", "kubectl.kubernetes.io/last-applied-configuration": "{}"}},
            "subsets": [{"addresses": [{"ip": "192.0.2.1", "hostname": "h1"}, {"ip": "not-an-ip"}],
                         "notReadyAddresses": [{"ip": "192.0.2.2", "nodeName": "n1"}],
                         "ports": [{"name": "http", "port": 80, "protocol": "TCP"}]}]}


async def test_mirroring_copies_hand_made_endpoints() -> None:
    cluster = FakeCluster()
    controller = EndpointSliceMirroringController(cluster.ctx)
    cluster.add(service("manual"), manual_endpoints(team="b"))
    await controller.sync("ns/manual")
    assert [(w.verb, w.resource) for w in cluster.writes] == [("create", "endpointslices")]
    body = cluster.writes[0].body
    assert body["metadata"]["labels"] == {"team": "b", "kubernetes.io/service-name": "manual",
                                          "endpointslice.kubernetes.io/managed-by":
                                              "endpointslicemirroring-controller.k8s.io"}
    assert body["metadata"]["annotations"] == {"note": "x"}
    assert body["metadata"]["ownerReferences"][0]["kind"] == "Endpoints"
    assert body["ports"] == [{"name": "http", "port": 80, "protocol": "TCP"}]
    assert body["endpoints"] == [{"addresses": ["192.0.2.1"], "conditions": {"ready": True}, "hostname": "h1"},
                                 {"addresses": ["192.0.2.2"], "conditions": {"ready": False}, "nodeName": "n1"}]


async def test_mirroring_stops_for_skip_mirror_and_selectors() -> None:
    cluster = FakeCluster()
    controller = EndpointSliceMirroringController(cluster.ctx)
    cluster.add(service("manual"), manual_endpoints())
    await controller.sync("ns/manual")
    cluster.deliver()
    cluster.clear()
    cluster.add(manual_endpoints(**{"endpointslice.kubernetes.io/skip-mirror": "true"}))
    await controller.sync("ns/manual")
    assert [w.verb for w in cluster.writes] == ["delete"]
    cluster.deliver()
    cluster.clear()
    cluster.add(service("sel", {"app": "web"}), {**manual_endpoints(), "metadata": {
        **manual_endpoints()["metadata"], "name": "sel"}})
    await controller.sync("ns/sel")
    assert cluster.writes == []
