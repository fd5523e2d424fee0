"""Job controller against a real API server, with a stand-in kubelet that finishes pods."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from kubeclient.rest import ApiClient
from tests.fixtures.wait import eventually
from tests.integration.controllers.simkubelet import finishing_kubelet


def job(name: str, **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name},
            "spec": {"template": {"spec": {"restartPolicy": "Never",
                                           "containers": [{"name": "work", "image": "busybox:1.36"}]}}, **spec}}


@pytest.fixture
async def background() -> AsyncIterator[Callable[[Any], None]]:
    tasks: list[asyncio.Task[None]] = []
    yield lambda coro: tasks.append(asyncio.create_task(coro))
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def conditions(client: ApiClient, namespace: str, name: str) -> dict[str, dict[str, Any]]:
    current = await client.get("jobs", name, namespace)
    return {c["type"]: c for c in (current.get("status") or {}).get("conditions") or [] if c["status"] == "True"}


async def test_job_runs_to_completion(client: ApiClient, namespace: str, run_controllers, background) -> None:
    run_controllers("job")
    background(finishing_kubelet(client, namespace, "Succeeded")())
    created = await client.create("jobs", job("done", completions=3, parallelism=2), namespace)
    uid = created["metadata"]["uid"]
    assert created["spec"]["selector"] == {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}

    async def complete() -> bool:
        return "Complete" in await conditions(client, namespace, "done")

    await eventually(complete, what="job complete")
    final = await client.get("jobs", "done", namespace)
    assert final["status"]["succeeded"] == 3 and final["status"].get("failed", 0) == 0
    assert final["status"]["completionTime"]
    assert (await conditions(client, namespace, "done"))["Complete"]["reason"] == "CompletionsReached"
    pods = (await client.list("pods", namespace, label_selector=f"batch.kubernetes.io/controller-uid={uid}"))["items"]
    assert len(pods) == 3
    assert all("batch.kubernetes.io/job-tracking" not in (p["metadata"].get("finalizers") or []) for p in pods)
    assert all(p["metadata"]["name"].startswith("done-") for p in pods)


async def test_job_fails_past_backoff_limit(client: ApiClient, namespace: str, run_controllers, background) -> None:
    run_controllers("job")
    background(finishing_kubelet(client, namespace, "Failed")())
    await client.create("jobs", job("doomed", backoffLimit=0), namespace)

    async def failed() -> bool:
        return "Failed" in await conditions(client, namespace, "doomed")

    await eventually(failed, what="job failed")
    conds = await conditions(client, namespace, "doomed")
    assert conds["Failed"]["reason"] == "BackoffLimitExceeded"
    assert conds["Failed"]["message"] == "Job has reached the specified backoff limit"
    assert (await client.get("jobs", "doomed", namespace))["status"]["failed"] == 1


async def test_suspended_job_creates_no_pods(client: ApiClient, namespace: str, run_controllers) -> None:
    run_controllers("job")
    await client.create("jobs", job("paused", suspend=True), namespace)

    async def suspended() -> bool:
        return (await conditions(client, namespace, "paused")).get("Suspended", {}).get("reason") == "JobSuspended"

    await eventually(suspended, what="Suspended condition")
    assert (await client.list("pods", namespace))["items"] == []
