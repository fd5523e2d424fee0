"""The stock kubectl 1.32's typed-clientset writes, which are protobuf, on SQLite and real etcd.

`kubectl create namespace|deployment|job|service` POST `application/vnd.kubernetes.protobuf`
and `kubectl drain` DELETEs with a protobuf DeleteOptions; none of them falls back to JSON.
Each test asserts kubectl's own output and then reads the stored object back as JSON.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid

from apimachinery.protobuf import MAGIC
from tests.fixtures.apiserver import ApiServerProcess
from tests.integration.api.conftest import Kubectl


def get_json(kubectl: Kubectl, *args: str) -> dict:
    return json.loads(kubectl.ok("get", *args, "-o", "json"))


def test_create_namespace(kubectl: Kubectl) -> None:
    name = f"pb-{uuid.uuid4().hex[:8]}"
    assert kubectl.ok("create", "namespace", name).strip() == f"namespace/{name} created"
    ns = get_json(kubectl, "namespace", name)
    assert ns["metadata"]["name"] == name and ns["status"]["phase"] == "Active"


def test_create_deployment_and_already_exists(kubectl: Kubectl, namespace: str) -> None:
    args = ("create", "deployment", "web", "--image=busybox:1.36", "--replicas=2", "--port=8080", "-n", namespace)
    assert kubectl.ok(*args).strip() == "deployment.apps/web created"
    deploy = get_json(kubectl, "-n", namespace, "deployment", "web")
    assert deploy["metadata"]["labels"] == {"app": "web"}
    assert deploy["spec"]["replicas"] == 2
    assert deploy["spec"]["selector"] == {"matchLabels": {"app": "web"}}
    pod_spec = deploy["spec"]["template"]["spec"]
    assert pod_spec["containers"][0]["image"] == "busybox:1.36"
    assert pod_spec["containers"][0]["ports"][0]["containerPort"] == 8080
    assert deploy["spec"]["strategy"]["type"] == "RollingUpdate"  # server defaulting ran on the decoded object

    again = kubectl(*args)
    assert again.returncode == 1
    assert again.stderr.strip() == 'error: failed to create deployment: deployments.apps "web" already exists'


def test_create_job_with_command(kubectl: Kubectl, namespace: str) -> None:
    out = kubectl.ok("create", "job", "j", "--image=busybox:1.36", "-n", namespace, "--", "echo", "hi")
    assert out.strip() == "job.batch/j created"
    job = get_json(kubectl, "-n", namespace, "job", "j")
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert container["command"] == ["echo", "hi"] and container["image"] == "busybox:1.36"
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"


def test_create_services(kubectl: Kubectl, namespace: str) -> None:
    assert kubectl.ok("create", "service", "clusterip", "s", "--tcp=80:8080", "-n", namespace).strip() == \
        "service/s created"
    assert kubectl.ok("create", "service", "nodeport", "n", "--tcp=80:8080", "-n", namespace).strip() == \
        "service/n created"
    cluster_ip = get_json(kubectl, "-n", namespace, "service", "s")
    assert cluster_ip["spec"]["type"] == "ClusterIP"
    port = cluster_ip["spec"]["ports"][0]
    assert (port["name"], port["port"], port["targetPort"], port["protocol"]) == ("80-8080", 80, 8080, "TCP")
    assert cluster_ip["spec"]["selector"] == {"app": "s"}
    assert cluster_ip["spec"]["clusterIP"]
    node_port = get_json(kubectl, "-n", namespace, "service", "n")
    assert node_port["spec"]["type"] == "NodePort"
    assert 30000 <= node_port["spec"]["ports"][0]["nodePort"] <= 32767


def test_scale_and_cordon_are_json_patches_and_drain_deletes_with_protobuf(kubectl: Kubectl, namespace: str) -> None:
    kubectl.ok("create", "deployment", "sc", "--image=busybox:1.36", "-n", namespace)
    assert kubectl.ok("scale", "-n", namespace, "deployment", "sc", "--replicas=3").strip() == \
        "deployment.apps/sc scaled"
    assert get_json(kubectl, "-n", namespace, "deployment", "sc")["spec"]["replicas"] == 3

    node = f"pb-node-{uuid.uuid4().hex[:6]}"
    kubectl.ok("create", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "Node", "metadata": {"name": node}}))
    kubectl.ok("create", "-n", namespace, "-f", "-", input=json.dumps({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "victim"},
        "spec": {"nodeName": node, "containers": [{"name": "c", "image": "busybox:1.36"}]}}))
    assert kubectl.ok("cordon", node).strip() == f"node/{node} cordoned"
    # drain lists the node's pods and, without an eviction API, deletes them through the typed
    # client: DELETE with a protobuf DeleteOptions body (gracePeriodSeconds=0 here).
    out = kubectl.ok("drain", node, "--force", "--grace-period=0", "--timeout=30s")
    assert "pod/victim deleted" in out and f"node/{node} drained" in out
    assert kubectl("get", "-n", namespace, "pod", "victim").returncode == 1
    assert kubectl.ok("uncordon", node).strip() == f"node/{node} uncordoned"


def post(server: ApiServerProcess, path: str, body: bytes) -> tuple[int, dict]:
    request = urllib.request.Request(f"{server.url}{path}", data=body, method="POST",
                                     headers={"Content-Type": "application/vnd.kubernetes.protobuf"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        assert exc.headers["Content-Type"] == "application/json"
        return exc.code, json.loads(exc.read())


def test_malformed_and_unsupported_protobuf_get_status_errors(api_server: ApiServerProcess) -> None:
    code, status = post(api_server, "/api/v1/namespaces", MAGIC + b"\x0a\x05\x0a\x02v1")
    assert code == 400 and status["reason"] == "BadRequest"
    assert "could not be decoded as protobuf" in status["message"] and "truncated" in status["message"]

    lease = MAGIC + b"\x0a\x1f\x0a\x16coordination.k8s.io/v1\x12\x05Lease\x12\x05\x0a\x03\x0a\x01l"
    code, status = post(api_server, "/apis/coordination.k8s.io/v1/namespaces/default/leases", lease)
    assert code == 415 and status["reason"] == "UnsupportedMediaType"
    assert "coordination.k8s.io/v1, Kind=Lease" in status["message"]


def test_autoscale_is_out_of_scope(kubectl: Kubectl, namespace: str) -> None:
    """HorizontalPodAutoscalers are not served, so the (protobuf) POST is a plain 404."""
    kubectl.ok("create", "deployment", "hpa", "--image=busybox:1.36", "-n", namespace)
    result = kubectl("autoscale", "-n", namespace, "deployment", "hpa", "--max=3")
    assert result.returncode == 1
    assert "the server could not find the requested resource" in result.stderr
