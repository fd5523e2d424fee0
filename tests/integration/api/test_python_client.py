"""The official Python `kubernetes` client against our API server, on SQLite and real etcd."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator

import pytest
from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException

from tests.fixtures.apiserver import ApiServerProcess


@pytest.fixture
def api(api_server: ApiServerProcess) -> Iterator[client.ApiClient]:
    api_client = config.new_client_from_config(config_file=str(api_server.kubeconfig))
    try:
        yield api_client
    finally:
        api_client.close()


@pytest.fixture
def ns(api: client.ApiClient) -> str:
    name = f"py-{uuid.uuid4().hex[:8]}"
    client.CoreV1Api(api).create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    return name


def pod_body(name: str, **labels: str) -> client.V1Pod:
    return client.V1Pod(
        metadata=client.V1ObjectMeta(name=name, labels=labels or {"app": "py"}),
        spec=client.V1PodSpec(containers=[client.V1Container(name="main", image="busybox:1.36",
                                                             command=["sleep", "3600"])]),
    )


def deployment_body(name: str) -> client.V1Deployment:
    return client.V1Deployment(
        metadata=client.V1ObjectMeta(name=name),
        spec=client.V1DeploymentSpec(
            replicas=2,
            selector=client.V1LabelSelector(match_labels={"app": name}),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels={"app": name}),
                spec=client.V1PodSpec(containers=[client.V1Container(name="web", image="nginx:1.25")]),
            ),
        ),
    )


def test_version(api: client.ApiClient) -> None:
    info = client.VersionApi(api).get_code()
    assert (info.major, info.minor) == ("1", "32")


def test_pod_crud(api: client.ApiClient, ns: str) -> None:
    core = client.CoreV1Api(api)
    created = core.create_namespaced_pod(ns, pod_body("p1"))
    assert created.metadata.uid and created.metadata.resource_version
    assert created.status.phase == "Pending"
    assert created.spec.restart_policy == "Always" and created.spec.dns_policy == "ClusterFirst"
    got = core.read_namespaced_pod("p1", ns)
    assert got.metadata.resource_version == created.metadata.resource_version
    got.metadata.labels["extra"] = "yes"
    replaced = core.replace_namespaced_pod("p1", ns, got)
    assert replaced.metadata.labels["extra"] == "yes"
    assert int(replaced.metadata.resource_version) > int(created.metadata.resource_version)
    core.delete_namespaced_pod("p1", ns)
    with pytest.raises(ApiException) as info:
        core.read_namespaced_pod("p1", ns)
    assert info.value.status == 404


def test_deployment_crud_and_patch(api: client.ApiClient, ns: str) -> None:
    apps = client.AppsV1Api(api)
    created = apps.create_namespaced_deployment(ns, deployment_body("d1"))
    assert created.metadata.generation == 1
    assert created.spec.strategy.type == "RollingUpdate"
    patched = apps.patch_namespaced_deployment(
        "d1", ns, {"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "nginx:1.26"}]}}}})
    assert patched.spec.template.spec.containers[0].image == "nginx:1.26"
    assert patched.metadata.generation == 2
    scaled = apps.patch_namespaced_deployment_scale("d1", ns, {"spec": {"replicas": 4}})
    assert scaled.spec.replicas == 4
    json_patched = apps.patch_namespaced_deployment(
        "d1", ns, [{"op": "add", "path": "/metadata/labels", "value": {"team": "a"}}])
    assert json_patched.metadata.labels == {"team": "a"}
    with pytest.raises(ApiException) as info:
        apps.create_namespaced_deployment(ns, deployment_body("d1"))
    assert info.value.status == 409
    apps.delete_namespaced_deployment("d1", ns)
    assert apps.list_namespaced_deployment(ns).items == []


def test_list_with_selectors(api: client.ApiClient, ns: str) -> None:
    core = client.CoreV1Api(api)
    core.create_namespaced_pod(ns, pod_body("a", app="web", tier="front"))
    core.create_namespaced_pod(ns, pod_body("b", app="web", tier="back"))
    core.create_namespaced_pod(ns, pod_body("c", app="db"))
    names = sorted(p.metadata.name for p in core.list_namespaced_pod(ns, label_selector="app=web").items)
    assert names == ["a", "b"]
    names = [p.metadata.name for p in core.list_namespaced_pod(ns, label_selector="app=web,tier!=front").items]
    assert names == ["b"]
    names = [p.metadata.name for p in core.list_namespaced_pod(ns, field_selector="metadata.name=c").items]
    assert names == ["c"]
    everywhere = core.list_pod_for_all_namespaces(label_selector="app=db")
    assert [p.metadata.name for p in everywhere.items if p.metadata.namespace == ns] == ["c"]
    page = core.list_namespaced_pod(ns, limit=2)
    assert len(page.items) == 2 and page.metadata._continue
    rest = core.list_namespaced_pod(ns, limit=2, _continue=page.metadata._continue)
    assert [p.metadata.name for p in page.items + rest.items] == ["a", "b", "c"]


def test_watch_stream_sees_added_modified_deleted(api: client.ApiClient, ns: str) -> None:
    core = client.CoreV1Api(api)
    core.create_namespaced_pod(ns, pod_body("w1", app="watched"))
    seen: list[tuple[str, str]] = []
    done = threading.Event()

    def consume() -> None:
        stream = watch.Watch()
        for event in stream.stream(core.list_namespaced_pod, ns, label_selector="app=watched", timeout_seconds=30):
            seen.append((event["type"], event["object"].metadata.name))
            if event["type"] == "DELETED":
                stream.stop()
        done.set()

    thread = threading.Thread(target=consume, daemon=True)
    thread.start()
    wait_until(lambda: ("ADDED", "w1") in seen)
    core.patch_namespaced_pod("w1", ns, {"metadata": {"annotations": {"touched": "1"}}})
    wait_until(lambda: ("MODIFIED", "w1") in seen)
    core.delete_namespaced_pod("w1", ns)
    assert done.wait(30), seen
    assert seen == [("ADDED", "w1"), ("MODIFIED", "w1"), ("DELETED", "w1")]


def wait_until(condition, timeout: float = 30) -> None:  # noqa: ANN001 - a tiny local helper
    event = threading.Event()
    for _ in range(int(timeout * 20)):
        if condition():
            return
        event.wait(0.05)
    raise AssertionError("condition not met in time")


def test_endpoint_slice_crud(api: client.ApiClient, ns: str) -> None:
    discovery = client.DiscoveryV1Api(api)
    body = client.V1EndpointSlice(
        metadata=client.V1ObjectMeta(generate_name="web-", labels={"kubernetes.io/service-name": "web"}),
        address_type="IPv4", ports=[client.DiscoveryV1EndpointPort(name="http", port=8080)],
        endpoints=[client.V1Endpoint(addresses=["10.244.1.5"], conditions=client.V1EndpointConditions(ready=True))])
    created = discovery.create_namespaced_endpoint_slice(ns, body)
    assert created.metadata.name.startswith("web-") and created.metadata.generation == 1
    assert created.ports[0].protocol == "TCP"
    listed = discovery.list_namespaced_endpoint_slice(ns, label_selector="kubernetes.io/service-name=web")
    assert [s.endpoints[0].addresses for s in listed.items] == [["10.244.1.5"]]
    patched = discovery.patch_namespaced_endpoint_slice(created.metadata.name, ns, {"endpoints": []})
    assert patched.metadata.generation == 2
    with pytest.raises(client.ApiException) as info:
        discovery.patch_namespaced_endpoint_slice(created.metadata.name, ns, {"addressType": "IPv6"})
    assert info.value.status == 422 and "field is immutable" in info.value.body
