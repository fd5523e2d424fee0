"""Progress deadlines against a real API server: a rollout whose pods never become Ready
times out with Kubernetes' condition, and with `kube-py.io/auto-rollback: "true"` the
controller undoes it, says why in an event, and the old revision serves again."""

from __future__ import annotations

from typing import Any

from kubeclient.rest import ApiClient
from tests.fixtures.wait import eventually
from tests.integration.controllers.simkubelet import SimKubelet
from tests.integration.controllers.test_deployment_rollouts import deployment, replica_sets, rolled_out

BROKEN = "registry.invalid/broken:1"


def broken(pod: dict[str, Any]) -> bool:
    return any(c["image"] == BROKEN for c in pod["spec"]["containers"])


async def progressing(client: ApiClient, namespace: str, name: str) -> dict[str, Any]:
    d = await client.get("deployments", name, namespace)
    return next((c for c in (d.get("status") or {}).get("conditions") or [] if c["type"] == "Progressing"), {})


async def roll_out_a_broken_image(client: ApiClient, namespace: str, name: str, annotations: dict[str, str]) -> None:
    body = deployment(name, image="busybox:1.36", replicas=2, progressDeadlineSeconds=2)
    body["metadata"]["annotations"] = annotations
    await client.create("deployments", body, namespace)
    await eventually(lambda: rolled_out(client, namespace, name), what="first rollout")
    await client.patch("deployments", name, {"spec": {"template": {"spec": {"containers": [
        {"name": "web", "image": BROKEN}]}}}}, namespace)


async def test_rollout_times_out_with_kubernetes_condition(client: ApiClient, namespace: str, run_controllers) -> None:
    run_controllers("replicaset", "deployment")
    async with SimKubelet(client, namespace, never_ready=broken):
        await roll_out_a_broken_image(client, namespace, "stuck", {})

        async def timed_out() -> bool:
            return (await progressing(client, namespace, "stuck")).get("reason") == "ProgressDeadlineExceeded"

        await eventually(timed_out, timeout=60, what="ProgressDeadlineExceeded")
        condition = await progressing(client, namespace, "stuck")
        new_rs = (await replica_sets(client, namespace, "stuck"))[-1]
        assert condition["status"] == "False"
        assert condition["message"] == f'ReplicaSet "{new_rs["metadata"]["name"]}" has timed out progressing.'
        d = await client.get("deployments", "stuck", namespace)
        assert d["spec"]["template"]["spec"]["containers"][0]["image"] == BROKEN  # nobody rolled it back


async def test_auto_rollback_undoes_a_timed_out_rollout(client: ApiClient, namespace: str, run_controllers) -> None:
    run_controllers("replicaset", "deployment")
    async with SimKubelet(client, namespace, never_ready=broken):
        await roll_out_a_broken_image(client, namespace, "web", {"kube-py.io/auto-rollback": "true"})

        async def back_on_the_old_image() -> bool:
            d = await client.get("deployments", "web", namespace)
            return d["spec"]["template"]["spec"]["containers"][0]["image"] == "busybox:1.36"

        await eventually(back_on_the_old_image, timeout=60, what="the automatic rollback")
        await eventually(lambda: rolled_out(client, namespace, "web"), timeout=60, what="the old revision serving")
        rss = await replica_sets(client, namespace, "web")
        revisions = {rs["spec"]["template"]["spec"]["containers"][0]["image"]:
                     rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"] for rs in rss}
        assert revisions == {BROKEN: "2", "busybox:1.36": "3"}  # the rollback renumbers like an undo
        failed = next(rs for rs in rss if rs["spec"]["template"]["spec"]["containers"][0]["image"] == BROKEN)
        assert failed["metadata"]["annotations"]["kube-py.io/rollout-failed"] == "true"
        assert failed["spec"]["replicas"] == 0

        async def rollback_event() -> str:
            events = (await client.list("events", namespace))["items"]
            return next((e["message"] for e in events if e.get("reason") == "DeploymentRollback"), "")

        await eventually(lambda: _truthy(rollback_event()), timeout=30, what="the rollback event")
        message = await rollback_event()
        assert message.startswith('Rolled back deployment "web" to revision 1: ReplicaSet "')
        assert "has timed out progressing." in message and "kube-py.io/auto-rollback" in message


async def _truthy(value: Any) -> bool:
    return bool(await value)
