"""ReplicaSet and Deployment controllers against a real API server, with a stand-in kubelet
that marks pods Running and Ready (the real kubelet has its own tests), and the stock
kubectl's rollout status / history / undo reading what the controllers wrote."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections.abc import AsyncIterator
from typing import Any

import pytest

from kubeclient.rest import ApiClient
from tests.fixtures.apiserver import ApiServerProcess
from tests.fixtures.wait import eventually
from tests.integration.controllers.simkubelet import SimKubelet


def deployment(name: str, image: str = "nginx:1.25", replicas: int = 3, strategy: str = "RollingUpdate",
               **spec_extra: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "replicas": replicas, "selector": {"matchLabels": {"app": name}},
        "strategy": {"type": strategy},
        "template": {"metadata": {"labels": {"app": name}},
                     "spec": {"containers": [{"name": "web", "image": image}]}},
        **spec_extra,
    }
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name}, "spec": spec}


@pytest.fixture
async def stand_in_kubelet(client: ApiClient, namespace: str) -> AsyncIterator[None]:
    """Every pod in the namespace becomes Running and Ready shortly after it appears."""
    async with SimKubelet(client, namespace):
        yield


async def replica_sets(client: ApiClient, namespace: str, app: str) -> list[dict[str, Any]]:
    items = (await client.list("replicasets", namespace, label_selector=f"app={app}"))["items"]
    return sorted(items, key=lambda rs: int(rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"]))


async def rolled_out(client: ApiClient, namespace: str, name: str) -> bool:
    d = await client.get("deployments", name, namespace)
    status, replicas = d.get("status") or {}, d["spec"]["replicas"]
    return (status.get("observedGeneration", 0) >= d["metadata"]["generation"]
            and status.get("updatedReplicas") == replicas and status.get("replicas") == replicas
            and status.get("availableReplicas") == replicas)


async def test_rolling_update_creates_revisions_and_undo_reuses_the_old_set(
        client: ApiClient, namespace: str, run_controllers, stand_in_kubelet) -> None:
    run_controllers("replicaset", "deployment")
    await client.create("deployments", deployment("web"), namespace)
    await eventually(lambda: rolled_out(client, namespace, "web"), what="first rollout")
    [first] = await replica_sets(client, namespace, "web")
    assert first["metadata"]["name"].startswith("web-")
    assert first["metadata"]["labels"]["pod-template-hash"] in first["metadata"]["name"]
    pods = (await client.list("pods", namespace, label_selector="app=web"))["items"]
    assert len(pods) == 3 and all(p["metadata"]["name"].startswith(first["metadata"]["name"] + "-") for p in pods)

    await client.patch("deployments", "web", {"metadata": {"annotations": {"kubernetes.io/change-cause": "v2"}},
                                              "spec": {"template": {"spec": {"containers": [
                                                  {"name": "web", "image": "nginx:1.26"}]}}}}, namespace)
    await eventually(lambda: rolled_out(client, namespace, "web"), what="second rollout")
    first, second = await replica_sets(client, namespace, "web")
    assert first["spec"]["replicas"] == 0 and second["spec"]["replicas"] == 3
    assert second["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"
    assert second["metadata"]["annotations"]["kubernetes.io/change-cause"] == "v2"
    d = await client.get("deployments", "web", namespace)
    assert d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"
    conditions = {c["type"]: c for c in d["status"]["conditions"]}
    assert conditions["Available"]["reason"] == "MinimumReplicasAvailable"
    assert conditions["Progressing"]["reason"] == "NewReplicaSetAvailable"

    template = first["spec"]["template"]
    template["metadata"]["labels"].pop("pod-template-hash")
    template["metadata"]["creationTimestamp"] = None
    await client.patch("deployments", "web", [{"op": "replace", "path": "/spec/template", "value": template}],
                       namespace, patch_type="json")
    await eventually(lambda: rolled_out(client, namespace, "web"), what="undo")
    sets = await replica_sets(client, namespace, "web")
    assert len(sets) == 2, "undo must revive the old ReplicaSet, not create a third"
    revived = sets[-1]
    assert revived["metadata"]["uid"] == first["metadata"]["uid"]
    assert revived["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "3"
    assert revived["metadata"]["annotations"]["deployment.kubernetes.io/revision-history"] == "1"


async def test_recreate_scales_old_to_zero_first(client: ApiClient, namespace: str, run_controllers,
                                                 stand_in_kubelet) -> None:
    run_controllers("replicaset", "deployment")
    await client.create("deployments", deployment("rec", strategy="Recreate", replicas=2), namespace)
    await eventually(lambda: rolled_out(client, namespace, "rec"), what="first rollout")
    await client.patch("deployments", "rec", {"spec": {"template": {"spec": {"containers": [
        {"name": "web", "image": "nginx:1.26"}]}}}}, namespace)
    await eventually(lambda: rolled_out(client, namespace, "rec"), what="recreate rollout")
    old, new = await replica_sets(client, namespace, "rec")
    assert (old["spec"]["replicas"], new["spec"]["replicas"]) == (0, 2)


async def test_revision_history_limit_cleans_old_sets(client: ApiClient, namespace: str, run_controllers,
                                                      stand_in_kubelet) -> None:
    run_controllers("replicaset", "deployment")
    await client.create("deployments", deployment("hist", replicas=1, revisionHistoryLimit=1), namespace)
    for image in ("nginx:1.26", "nginx:1.27", "nginx:1.28"):
        await eventually(lambda: rolled_out(client, namespace, "hist"), what="rollout")
        await client.patch("deployments", "hist", {"spec": {"template": {"spec": {"containers": [
            {"name": "web", "image": image}]}}}}, namespace)
    await eventually(lambda: rolled_out(client, namespace, "hist"), what="last rollout")

    async def two_left() -> bool:
        return len(await replica_sets(client, namespace, "hist")) == 2

    await eventually(two_left, what="history trimmed to the limit")


async def test_replicaset_replaces_deleted_pods_and_scales_down(client: ApiClient, namespace: str,
                                                                run_controllers) -> None:
    run_controllers("replicaset")
    rs = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "plain"},
          "spec": {"replicas": 4, "selector": {"matchLabels": {"app": "plain"}},
                   "template": {"metadata": {"labels": {"app": "plain"}},
                                "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}]}}}}
    await client.create("replicasets", rs, namespace)

    async def count(n: int) -> bool:
        pods = (await client.list("pods", namespace, label_selector="app=plain"))["items"]
        return len([p for p in pods if not p["metadata"].get("deletionTimestamp")]) == n

    await eventually(lambda: count(4), what="4 pods")
    victim = (await client.list("pods", namespace, label_selector="app=plain"))["items"][0]
    await client.delete("pods", victim["metadata"]["name"], namespace)
    await eventually(lambda: count(4), what="replacement pod")
    await client.patch("replicasets", "plain", {"spec": {"replicas": 1}}, namespace, patch_type="merge")
    await eventually(lambda: count(1), what="scaled down to 1")

    async def status_matches() -> bool:
        current = await client.get("replicasets", "plain", namespace)
        return current["status"].get("replicas") == 1 and \
            current["status"].get("observedGeneration") == current["metadata"]["generation"]

    await eventually(status_matches, what="status observed")


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="the stock kubectl ships with the machine image")
async def test_stock_kubectl_rollout_status_history_undo(client: ApiClient, namespace: str, run_controllers,
                                                         stand_in_kubelet, api_server: ApiServerProcess,
                                                         tmp_path) -> None:
    run_controllers("replicaset", "deployment")

    async def kubectl(*args: str) -> subprocess.CompletedProcess[str]:
        cmd = ["kubectl", "--kubeconfig", str(api_server.kubeconfig), "--cache-dir", str(tmp_path / "cache"),
               "-n", namespace, *args]
        return await asyncio.to_thread(subprocess.run, cmd, capture_output=True, text=True, timeout=120,
                                       env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})

    await client.create("deployments", deployment("kc", replicas=2), namespace)
    status = await kubectl("rollout", "status", "deployment/kc", "--timeout=90s")
    assert status.returncode == 0, status.stderr
    assert 'deployment "kc" successfully rolled out' in status.stdout
    result = await kubectl("set", "image", "deployment/kc", "web=nginx:1.26")
    assert result.returncode == 0, result.stderr
    await kubectl("annotate", "deployment/kc", "kubernetes.io/change-cause=bump")
    assert (await kubectl("rollout", "status", "deployment/kc", "--timeout=90s")).returncode == 0
    history = await kubectl("rollout", "history", "deployment/kc")
    assert history.returncode == 0, history.stderr
    rows = [line.split(None, 1) for line in history.stdout.splitlines()[2:] if line.strip()]
    assert [r[0] for r in rows] == ["1", "2"]
    undo = await kubectl("rollout", "undo", "deployment/kc")
    assert undo.returncode == 0, undo.stderr
    assert "rolled back" in undo.stdout
    assert (await kubectl("rollout", "status", "deployment/kc", "--timeout=90s")).returncode == 0
    history = await kubectl("rollout", "history", "deployment/kc")
    assert [line.split()[0] for line in history.stdout.splitlines()[2:] if line.strip()] == ["2", "3"]
