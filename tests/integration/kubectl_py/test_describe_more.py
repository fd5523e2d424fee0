"""describe job and node, events, explain: kubectl-py against a real API server."""

from __future__ import annotations

import json

from tests.integration.kubectl_py.conftest import KubectlPy, StockKubectl

JOB = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "count"},
       "spec": {"completions": 2, "template": {"spec": {"restartPolicy": "Never",
                                                        "containers": [{"name": "c", "image": "busybox:1.36"}]}}}}


async def test_describe_job(kp: KubectlPy, kubectl: StockKubectl) -> None:
    await kp.ok("create", "-f", "-", input=json.dumps(JOB))
    out = await kp.ok("describe", "job", "count")
    for needle in ("Name:", "count", "Completions:", "2", "Pods Statuses:", "busybox:1.36"):
        assert needle in out, out
    stock = kubectl("describe", "job", "count")
    assert stock.code == 0
    ours = [line.split(":", 1)[0] for line in out.splitlines() if ":" in line and not line.startswith(" ")]
    theirs = [line.split(":", 1)[0] for line in stock.out.splitlines() if ":" in line and not line.startswith(" ")]
    assert ours[:6] == theirs[:6]


async def test_describe_node_and_events(kp: KubectlPy, api_server) -> None:  # noqa: ANN001 - fixture
    from kubeclient.events import EventRecorder
    from kubeclient.rest import ApiClient

    name = f"{kp.namespace}-node"
    async with ApiClient(api_server.url) as client:
        node = await client.create("nodes", {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name}})
        node["status"] = {"allocatable": {"cpu": "4", "memory": "8Gi", "pods": "110"},
                          "capacity": {"cpu": "4", "memory": "8Gi", "pods": "110"},
                          "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                                          "lastHeartbeatTime": "2026-01-01T00:00:00Z",
                                          "lastTransitionTime": "2026-01-01T00:00:00Z"}],
                          "addresses": [{"type": "InternalIP", "address": "10.88.0.11"}]}
        await client.update_status("nodes", node)
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "placed", "namespace": kp.namespace},
               "spec": {"nodeName": name, "containers": [{"name": "c", "image": "busybox",
                                                          "resources": {"requests": {"cpu": "250m"}}}]}}
        created = await client.create("pods", pod, kp.namespace)
        recorder = EventRecorder(client, "kubelet", host=name)
        await recorder.record(created, "Normal", "Started", "Started container c")
    out = await kp.ok("describe", "node", name)
    assert "Allocated resources:" in out and "250m" in out and "10.88.0.11" in out
    events = await kp.ok("events")
    assert "Started container c" in events and "pod/placed" in events


async def test_explain(kp: KubectlPy) -> None:
    out = await kp.ok("explain", "deployment.spec.replicas")
    assert "replicas" in out
    bad = await kp("explain", "deployment.spec.nope")
    assert bad.code == 1 and bad.err.startswith("error:")
