"""rollout status / history / undo / pause / resume / restart with the real ReplicaSet and
Deployment controllers running in-process and a stand-in kubelet marking pods Ready; history is
compared with the stock kubectl's output for the same ReplicaSets."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from apimachinery.errors import StatusError
from kubeclient.rest import ApiClient
from tests.fixtures.apiserver import ApiServerProcess
from tests.integration.kubectl_py.conftest import KubectlPy, StockKubectl, deployment_yaml


async def _mark_ready(client: ApiClient, pod: dict[str, Any]) -> None:
    now = "2026-01-01T00:00:00Z"
    pod["status"] = {
        "phase": "Running", "podIP": "10.244.0.9", "startTime": now,
        "conditions": [{"type": t, "status": "True", "lastTransitionTime": now}
                       for t in ("PodScheduled", "Initialized", "ContainersReady", "Ready")],
        "containerStatuses": [{"name": c["name"], "image": c["image"], "imageID": "", "ready": True,
                               "restartCount": 0, "started": True, "state": {"running": {"startedAt": now}}}
                              for c in pod["spec"]["containers"]]}
    try:
        await client.update_status("pods", pod, pod["metadata"]["namespace"])
    except StatusError as exc:
        if exc.code not in (404, 409):
            raise


@pytest.fixture
async def cluster(api_server: ApiServerProcess, namespace: str) -> AsyncIterator[None]:
    """ReplicaSet + Deployment controllers and a stand-in kubelet for the test's namespace."""
    from controllers.manager import run_controller_manager

    stop = asyncio.Event()
    async with ApiClient(api_server.url) as client:
        manager = asyncio.create_task(run_controller_manager(client, ["replicaset", "deployment"],
                                                             leader_elect=False, stop=stop))

        async def kubelet() -> None:
            while True:
                for pod in (await client.list("pods", namespace))["items"]:
                    ready = any(c.get("type") == "Ready" and c.get("status") == "True"
                                for c in (pod.get("status") or {}).get("conditions") or [])
                    if not ready and not pod["metadata"].get("deletionTimestamp"):
                        await _mark_ready(client, pod)
                await asyncio.sleep(0.2)

        stand_in = asyncio.create_task(kubelet())
        yield
        stand_in.cancel()
        stop.set()
        await asyncio.gather(stand_in, return_exceptions=True)
        await asyncio.wait_for(asyncio.gather(manager, return_exceptions=True), 30)


async def _rolled_out(kp: KubectlPy, name: str) -> str:
    return await asyncio.wait_for(kp.ok("rollout", "status", f"deployment/{name}"), 60)


async def test_rollout_status_history_undo(kp: KubectlPy, kubectl: StockKubectl, cluster: None,
                                           tmp_path: Path) -> None:
    manifest = tmp_path / "web.yaml"
    manifest.write_text(deployment_yaml("web", image="nginx:1.25"))
    await kp.ok("apply", "-f", str(manifest), "--change-cause", "first")
    status = await _rolled_out(kp, "web")
    assert status.splitlines()[-1] == 'deployment "web" successfully rolled out'
    for line in status.splitlines()[:-1]:
        assert line.startswith(('Waiting for deployment "web" rollout to finish: ',
                                "Waiting for deployment spec update to be observed..."))

    manifest.write_text(deployment_yaml("web", image="nginx:1.26"))
    await kp.ok("apply", "-f", str(manifest))
    await _rolled_out(kp, "web")

    history = await kp.ok("rollout", "history", "deployment/web")
    cause = f"kubectl-py apply -f {manifest} (image nginx:1.26)"
    assert history == ("deployment.apps/web \nREVISION  CHANGE-CAUSE\n1         first\n"
                       f"2         {cause}\n\n")
    assert history == kubectl("rollout", "history", "deployment/web").out

    revision = await kp.ok("rollout", "history", "deployment/web", "--revision=1")
    assert revision == kubectl("rollout", "history", "deployment/web", "--revision=1").out
    assert revision.startswith("deployment.apps/web with revision #1\nPod Template:\n")
    assert "    Image:\tnginx:1.25\n" in revision

    diff = await kp.ok("rollout", "history", "deployment/web", "--diff=1..2")
    assert "--- revision 1\n+++ revision 2\n" in diff
    assert "-  - image: nginx:1.25\n+  - image: nginx:1.26\n" in diff

    assert await kp.ok("rollout", "undo", "deployment/web") == "deployment.apps/web rolled back\n"
    await _rolled_out(kp, "web")
    image = await kp.ok("get", "deploy", "web", "-o", "jsonpath={.spec.template.spec.containers[0].image}")
    assert image == "nginx:1.25"
    history = await kp.ok("rollout", "history", "deployment/web")
    assert history.splitlines()[2:] == [f"2         {cause}", "3         first", ""]

    skipped = await kp.ok("rollout", "undo", "deployment/web", "--to-revision=3")
    assert skipped == "deployment.apps/web skipped rollback (current template already matches revision 3)\n"
    missing = await kp("rollout", "undo", "deployment/web", "--to-revision=42")
    assert (missing.code, missing.err) == (1, "error: unable to find specified revision 42 in history\n")


async def test_pause_resume_restart(kp: KubectlPy, cluster: None, tmp_path: Path) -> None:
    manifest = tmp_path / "api.yaml"
    manifest.write_text(deployment_yaml("api", replicas=1))
    await kp.ok("apply", "-f", str(manifest))
    await _rolled_out(kp, "api")
    assert await kp.ok("rollout", "pause", "deployment/api") == "deployment.apps/api paused\n"
    again = await kp("rollout", "pause", "deployment/api")
    assert (again.code, again.err) == (1, 'error: apps/v1, Resource=deployments "api" is already paused\n')
    refused = await kp("rollout", "undo", "deployment/api")
    assert refused.code == 1
    restart = await kp("rollout", "restart", "deployment/api")
    assert restart.code == 1 and "can't restart paused deployment" in restart.err
    assert await kp.ok("rollout", "resume", "deployment/api") == "deployment.apps/api resumed\n"
    assert await kp.ok("rollout", "restart", "deployment/api") == "deployment.apps/api restarted\n"
    await _rolled_out(kp, "api")
    restarted = await kp.ok("get", "deploy", "api", "-o",
                            "jsonpath={.spec.template.metadata.annotations.kubectl\\.kubernetes\\.io/restartedAt}")
    assert restarted.endswith("Z")
    history = await kp.ok("rollout", "history", "deploy/api")
    assert [line.split()[0] for line in history.splitlines()[2:] if line] == ["1", "2"]


async def test_set_image_records_a_change_cause(kp: KubectlPy, cluster: None, tmp_path: Path) -> None:
    manifest = tmp_path / "app.yaml"
    manifest.write_text(deployment_yaml("app", replicas=1))
    await kp.ok("apply", "-f", str(manifest), "--change-cause", "initial")
    await _rolled_out(kp, "app")
    assert await kp.ok("set", "image", "deployment/app", "web=nginx:1.27") == "deployment.apps/app image updated\n"
    await _rolled_out(kp, "app")
    history = await kp.ok("rollout", "history", "deployment/app")
    assert history.splitlines()[3] == "2         kubectl-py set image deployment.apps/app web=nginx:1.27"


async def test_describe_matches_the_stock_kubectl(kp: KubectlPy, kubectl: StockKubectl, cluster: None,
                                                  tmp_path: Path) -> None:
    from tests.integration.kubectl_py.test_get import masked

    manifest = tmp_path / "d.yaml"
    manifest.write_text(deployment_yaml("desc", replicas=2))
    await kp.ok("apply", "-f", str(manifest))
    await _rolled_out(kp, "desc")
    pod = (await kp.ok("get", "pods", "-o", "name")).split()[0]
    for args in (("describe", "deployment", "desc"), ("describe", "rs"), ("describe", pod),
                 ("describe", "pods", "-l", "app=desc")):
        ours, theirs = await kp(*args), kubectl(*args)
        assert (ours.code, masked(ours.out)) == (theirs.code, masked(theirs.out)), " ".join(args)
    described = await kp.ok("describe", "deployment", "desc")
    assert "  Normal  ScalingReplicaSet  " in described
    assert described.splitlines()[-3:-1] == ["  Type    Reason             Age   From                   Message",
                                             "  ----    ------             ----  ----                   -------"]
