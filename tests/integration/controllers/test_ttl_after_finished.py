"""TTL-after-finished against a real API server: finished Jobs and their pods go away.

Why: the unit tests pin the single delete call; this checks the whole chain — the Job
controller finishes the Job and drops its pods' tracking finalizers, the TTL controller
deletes the Job in the foreground, the garbage collector removes the pods, and then the
Job itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from apimachinery.errors import StatusError
from kubeclient.rest import ApiClient
from tests.fixtures.wait import eventually
from tests.integration.controllers.simkubelet import finishing_kubelet


def job(name: str, ttl: int) -> dict[str, Any]:
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name},
            "spec": {"ttlSecondsAfterFinished": ttl, "completions": 2, "parallelism": 2,
                     "template": {"spec": {"restartPolicy": "Never",
                                           "containers": [{"name": "work", "image": "busybox:1.36"}]}}}}


@pytest.fixture
async def background() -> AsyncIterator[Callable[[Any], None]]:
    tasks: list[asyncio.Task[None]] = []
    yield lambda coro: tasks.append(asyncio.create_task(coro))
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def current(client: ApiClient, namespace: str, name: str) -> dict[str, Any] | None:
    try:
        return await client.get("jobs", name, namespace)
    except StatusError as exc:
        if exc.code == 404:
            return None
        raise


def complete(obj: dict[str, Any] | None) -> bool:
    return any(c["type"] == "Complete" and c["status"] == "True"
               for c in ((obj or {}).get("status") or {}).get("conditions") or [])


@pytest.mark.parametrize("ttl", [0, 2])
async def test_finished_job_and_its_pods_are_deleted_after_the_ttl(client: ApiClient, namespace: str,
                                                                   run_controllers, background, ttl: int) -> None:
    run_controllers("job", "ttl-after-finished", "garbagecollector")
    background(finishing_kubelet(client, namespace, "Succeeded")())
    name = f"ttl-{ttl}"
    created = await client.create("jobs", job(name, ttl), namespace)
    selector = f"batch.kubernetes.io/controller-uid={created['metadata']['uid']}"
    seen: dict[str, dict[str, Any]] = {}

    async def finished_or_gone() -> bool:
        obj = await current(client, namespace, name)
        if complete(obj) and "first" not in seen:
            seen["first"] = obj  # type: ignore[assignment]
        return obj is None or complete(obj)

    await eventually(finished_or_gone, what=f"job {name} complete")
    if ttl > 0:
        first = seen["first"]
        assert first["status"]["succeeded"] == 2
        assert not first["metadata"].get("deletionTimestamp"), "deleted before its TTL ran out"

    async def gone() -> bool:
        pods = (await client.list("pods", namespace, label_selector=selector))["items"]
        return await current(client, namespace, name) is None and not pods

    await eventually(gone, timeout=60, what=f"job {name} and its pods deleted")


async def test_indexed_job_runs_every_index_then_expires(client: ApiClient, namespace: str, run_controllers,
                                                         background) -> None:
    run_controllers("job", "ttl-after-finished", "garbagecollector")
    background(finishing_kubelet(client, namespace, "Succeeded")())
    body = job("indexed", 2)
    body["spec"].update(completionMode="Indexed", completions=3, parallelism=2)
    created = await client.create("jobs", body, namespace)
    selector = f"batch.kubernetes.io/controller-uid={created['metadata']['uid']}"

    async def finished() -> bool:
        return complete(await current(client, namespace, "indexed"))

    await eventually(finished, what="indexed job complete")
    done = await client.get("jobs", "indexed", namespace)
    assert (done["status"]["completedIndexes"], done["status"]["succeeded"]) == ("0-2", 3)
    pods = (await client.list("pods", namespace, label_selector=selector))["items"]
    index_key = "batch.kubernetes.io/job-completion-index"
    assert sorted(p["metadata"]["annotations"][index_key] for p in pods) == ["0", "1", "2"]
    assert all(p["metadata"]["name"].startswith(f"indexed-{p['metadata']['annotations'][index_key]}-")
               for p in pods)

    async def gone() -> bool:
        left = (await client.list("pods", namespace, label_selector=selector))["items"]
        return await current(client, namespace, "indexed") is None and not left

    await eventually(gone, timeout=60, what="indexed job and its pods deleted")
