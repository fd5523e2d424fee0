"""EndpointSlices against a real API server: the EndpointSlice controller follows pods and
their readiness, the mirroring controller copies hand-made Endpoints, the garbage collector
removes slices with their Service, and the stock kubectl 1.32, which reads slices for
`describe service`, prints the same Endpoints lines as kubectl-py."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from apimachinery.errors import StatusError
from kubeclient.rest import ApiClient
from tests.fixtures.apiserver import ApiServerProcess
from tests.fixtures.kubectl import KubectlPy, StockKubectl
from tests.fixtures.wait import eventually

Obj = dict[str, Any]
MANAGED_BY = "endpointslice.kubernetes.io/managed-by"


def web_service(name: str = "web") -> Obj:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "labels": {"team": "a"}},
            "spec": {"selector": {"app": name}, "ports": [{"name": "http", "port": 80, "targetPort": "http"}]}}


def pod(name: str, app: str = "web") -> Obj:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"app": app}},
            "spec": {"nodeName": "n1", "containers": [{"name": "c", "image": "busybox:1.36",
                                                       "ports": [{"name": "http", "containerPort": 8080}]}]}}


async def set_status(client: ApiClient, namespace: str, name: str, ip: str, ready: bool) -> None:
    current = await client.get("pods", name, namespace)
    current["status"] = {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}],
                         "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}
    await client.update_status("pods", current, namespace)


async def slices_of(client: ApiClient, namespace: str, service: str) -> list[Obj]:
    listing = await client.list("endpointslices", namespace, label_selector=f"kubernetes.io/service-name={service}")
    return listing["items"]


async def endpoints_by_ip(client: ApiClient, namespace: str, service: str) -> dict[str, Obj]:
    return {e["addresses"][0]: e for s in await slices_of(client, namespace, service) for e in s["endpoints"] or []}


async def ensure_node(client: ApiClient, name: str, zone: str) -> None:
    """Pods are published only once their node is known (the API server is shared per module)."""
    try:
        await client.create("nodes", {"apiVersion": "v1", "kind": "Node", "metadata": {
            "name": name, "labels": {"topology.kubernetes.io/zone": zone}}})
    except StatusError as exc:
        if exc.code != 409:
            raise


@pytest.fixture
def kubectls(api_server: ApiServerProcess, namespace: str, tmp_path: Path) -> tuple[KubectlPy, StockKubectl]:
    assert shutil.which("kubectl"), "the stock kubectl is installed by hack/install-system-packages.sh"
    return KubectlPy(api_server, namespace), StockKubectl(api_server, tmp_path, namespace)


async def test_slices_follow_pods_and_readiness(client: ApiClient, namespace: str, run_controllers,
                                                kubectls: tuple[KubectlPy, StockKubectl]) -> None:
    run_controllers("endpointslice", "garbagecollector")
    await ensure_node(client, "n1", zone="zone-a")
    service = await client.create("services", web_service(), namespace)

    async def placeholder() -> bool:
        slices = await slices_of(client, namespace, "web")
        return len(slices) == 1 and not slices[0]["endpoints"] and not slices[0]["ports"]
    await eventually(placeholder, 30, "a placeholder slice for a service without pods")

    for i, name in enumerate(("a", "b", "c")):
        await client.create("pods", pod(name), namespace)
        await set_status(client, namespace, name, f"10.244.1.{10 + i}", ready=True)

    async def three_ready() -> bool:
        eps = await endpoints_by_ip(client, namespace, "web")
        return sorted(eps) == ["10.244.1.10", "10.244.1.11", "10.244.1.12"] and \
            all(e["conditions"] == {"ready": True, "serving": True, "terminating": False} for e in eps.values())
    await eventually(three_ready, 30, "three ready endpoints")

    [slice_] = await slices_of(client, namespace, "web")
    assert slice_["metadata"]["name"].startswith("web-")
    assert slice_["metadata"]["labels"] == {"team": "a", "kubernetes.io/service-name": "web",
                                            MANAGED_BY: "endpointslice-controller.k8s.io"}
    assert slice_["metadata"]["ownerReferences"][0]["uid"] == service["metadata"]["uid"]
    assert slice_["ports"] == [{"name": "http", "port": 8080, "protocol": "TCP"}]
    endpoint = (await endpoints_by_ip(client, namespace, "web"))["10.244.1.10"]
    assert (endpoint["nodeName"], endpoint["zone"], endpoint["targetRef"]["name"]) == ("n1", "zone-a", "a")

    await set_status(client, namespace, "b", "10.244.1.11", ready=False)

    async def b_not_ready() -> bool:
        return (await endpoints_by_ip(client, namespace, "web"))["10.244.1.11"]["conditions"]["ready"] is False
    await eventually(b_not_ready, 30, "b's endpoint not ready")

    kp, kubectl = kubectls
    ours, stock = await kp.ok("describe", "svc", "web"), kubectl("describe", "svc", "web")
    assert stock.code == 0 and ours == stock.out
    assert "Endpoints:                10.244.1.10:8080,10.244.1.12:8080\n" in ours
    table = await kp.ok("get", "endpointslices")
    assert table.split("\n")[0].split() == ["NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS", "AGE"]
    assert "10.244.1.10,10.244.1.11,10.244.1.12" in table
    assert await kp.ok("describe", "endpointslice", slice_["metadata"]["name"]) == \
        kubectl("describe", "endpointslice", slice_["metadata"]["name"]).out

    await client.delete("pods", "a", namespace, grace_period_seconds=0)

    async def a_gone() -> bool:
        return sorted(await endpoints_by_ip(client, namespace, "web")) == ["10.244.1.11", "10.244.1.12"]
    await eventually(a_gone, 30, "a's endpoint removed")

    await client.delete("services", "web", namespace)

    async def collected() -> bool:
        return not await slices_of(client, namespace, "web")
    await eventually(collected, 30, "slices collected with their service")


async def test_hand_made_endpoints_are_mirrored(client: ApiClient, namespace: str, run_controllers,
                                                kubectls: tuple[KubectlPy, StockKubectl]) -> None:
    run_controllers("endpointslicemirroring", "endpointslice")
    await client.create("services", {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "manual"},
                                     "spec": {"ports": [{"name": "http", "port": 80}]}}, namespace)
    await client.create("endpoints", {
        "apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "manual"},
        "subsets": [{"addresses": [{"ip": "192.0.2.1"}, {"ip": "192.0.2.2"}],
                     "notReadyAddresses": [{"ip": "192.0.2.9"}], "ports": [{"name": "http", "port": 8080}]}]},
        namespace)

    async def mirrored() -> bool:
        eps = await endpoints_by_ip(client, namespace, "manual")
        return {ip: e["conditions"]["ready"] for ip, e in eps.items()} == \
            {"192.0.2.1": True, "192.0.2.2": True, "192.0.2.9": False}
    await eventually(mirrored, 30, "the hand-made Endpoints mirrored")
    [slice_] = await slices_of(client, namespace, "manual")
    assert slice_["metadata"]["labels"][MANAGED_BY] == "endpointslicemirroring-controller.k8s.io"
    assert slice_["metadata"]["ownerReferences"][0]["kind"] == "Endpoints"

    kp, kubectl = kubectls
    ours, stock = await kp.ok("describe", "svc", "manual"), kubectl("describe", "svc", "manual")
    assert ours == stock.out
    assert "Endpoints:                192.0.2.1:8080,192.0.2.2:8080\n" in ours

    await client.delete("endpoints", "manual", namespace)

    async def unmirrored() -> bool:
        return not await slices_of(client, namespace, "manual")
    await eventually(unmirrored, 30, "mirrored slices removed with the Endpoints")

