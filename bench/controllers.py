"""Controller benchmark: how long a Deployment takes to come up and to roll, beside the same
pod writes done directly, so the ratio is what the controllers add.

A real API server (SQLite) and a real `kube-py controller-manager` process (replicaset and
deployment controllers, no leader election); a simulated kubelet in this process marks
every pod Running and Ready as soon as it sees it (tests/integration/controllers/simkubelet.py).

- create: POST a Deployment of N replicas → all N pods Ready, and → the Deployment's status
  says so (what `kubectl rollout status` waits for).
- rolling update (default 25 %/25 % strategy): PATCH the image → status reports all N updated
  and available, and only new pods remain.
- baselines, same run, same kubelet: create N pods directly in the ReplicaSet controller's
  slow-start batches (1, 2, 4, … in flight) until all are Ready; for the update, delete those
  N and create N new ones the same way.

    python bench/controllers.py [--replicas 100] [--rounds 3] [--in-process]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kubeclient.informer import Informer  # noqa: E402
from kubeclient.rest import ApiClient  # noqa: E402
from tests.fixtures.apiserver import ApiServerProcess  # noqa: E402
from tests.integration.controllers.simkubelet import SimKubelet, is_ready, is_terminating  # noqa: E402

Obj = dict[str, Any]
REPO = Path(__file__).resolve().parents[1]
Condition = Callable[[list[Obj]], bool]


class Until:
    """An informer that notes the moment `done(objects)` first holds, checked on every event
    after `begin()` (a state from before the action under test must not count)."""

    def __init__(self, client: ApiClient, resource: str, namespace: str, done: Condition) -> None:
        self.informer = Informer(client, resource, namespace=namespace)
        self.done = done
        self.reached = asyncio.Event()
        self.armed = False
        self.at = 0.0
        self.informer.add_handlers(on_add=lambda _o: self._check(), on_update=lambda _o, _n: self._check(),
                                   on_delete=lambda _o: self._check())

    def _check(self) -> None:
        if self.armed and not self.reached.is_set() and self.done(self.informer.list()):
            self.at = time.perf_counter()
            self.reached.set()

    async def __aenter__(self) -> Until:
        self.informer.start()
        await self.informer.wait_synced()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.informer.stop()

    def begin(self) -> float:
        self.armed = True
        return time.perf_counter()

    async def wait(self, timeout: float = 300.0) -> float:
        await asyncio.wait_for(self.reached.wait(), timeout)
        return self.at


def ready_pods(image: str, count: int) -> Condition:
    def done(pods: list[Obj]) -> bool:
        live = [p for p in pods if not is_terminating(p)]
        return len(live) == count and all(is_ready(p) and p["spec"]["containers"][0]["image"] == image
                                          for p in live)
    return done


def rolled_out(count: int) -> Condition:
    def done(deployments: list[Obj]) -> bool:
        if not deployments:
            return False
        d = deployments[0]
        status = d.get("status") or {}
        return (status.get("observedGeneration", 0) >= d["metadata"].get("generation", 1)
                and status.get("updatedReplicas") == count and status.get("replicas") == count
                and status.get("availableReplicas") == count)
    return done


def pod_body(name: str, image: str) -> Obj:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"app": "bench"}},
            "spec": {"containers": [{"name": "web", "image": image}]}}


def deployment_body(replicas: int, image: str) -> Obj:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "bench"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "bench"}},
                     "template": {"metadata": {"labels": {"app": "bench"}},
                                  "spec": {"containers": [{"name": "web", "image": image}]}}}}


async def slow_start(calls: list[Callable[[], Awaitable[object]]]) -> None:
    """Run the calls in batches of 1, 2, 4, …, as the ReplicaSet controller creates pods."""
    batch, done = 1, 0
    while done < len(calls):
        await asyncio.gather(*(call() for call in calls[done:done + batch]))
        done += batch
        batch *= 2


async def new_namespace(client: ApiClient) -> str:
    name = f"bench-{uuid.uuid4().hex[:6]}"
    await client.create("namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    return name


async def baseline(client: ApiClient, replicas: int) -> tuple[float, float]:
    """→ seconds for N direct pod creates to be Ready, then for replacing all N."""
    ns = await new_namespace(client)
    async with SimKubelet(client, ns):
        async with Until(client, "pods", ns, ready_pods("nginx:1.25", replicas)) as up:
            start = up.begin()
            await slow_start([lambda i=i: client.create("pods", pod_body(f"old-{i}", "nginx:1.25"), ns)
                              for i in range(replicas)])
            create = await up.wait() - start
        async with Until(client, "pods", ns, ready_pods("nginx:1.26", replicas)) as up:
            start = up.begin()
            await slow_start([lambda i=i: client.delete("pods", f"old-{i}", ns) for i in range(replicas)])
            await slow_start([lambda i=i: client.create("pods", pod_body(f"new-{i}", "nginx:1.26"), ns)
                              for i in range(replicas)])
            replace = await up.wait() - start
    return create, replace


async def with_controllers(client: ApiClient, replicas: int) -> dict[str, float]:
    """→ seconds to pods Ready and to status complete, for the create and for the update."""
    ns = await new_namespace(client)
    figures: dict[str, float] = {}
    async with SimKubelet(client, ns):
        for phase, image in (("create", "nginx:1.25"), ("update", "nginx:1.26")):
            async with Until(client, "pods", ns, ready_pods(image, replicas)) as pods, \
                    Until(client, "deployments", ns, rolled_out(replicas)) as status:
                start = pods.begin()
                status.begin()
                if phase == "create":
                    await client.create("deployments", deployment_body(replicas, image), ns)
                else:
                    await client.patch("deployments", "bench", {"spec": {"template": {"spec": {
                        "containers": [{"name": "web", "image": image}]}}}}, ns)
                figures[f"{phase} pods"] = await pods.wait() - start
                figures[f"{phase} status"] = await status.wait() - start
    return figures


def start_controller_manager(server: str, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "kubepy.cli", "controller-manager", "--server", server,
             "--controllers", "replicaset,deployment", "--leader-elect", "false"],
            stdout=out, stderr=subprocess.STDOUT, cwd=REPO, env={**os.environ, "PYTHONUNBUFFERED": "1"})


async def run(replicas: int, rounds: int, in_process: bool) -> list[tuple[tuple[float, float], dict[str, float]]]:
    with tempfile.TemporaryDirectory(prefix="kp-ctrl-bench-") as tmp:
        server = ApiServerProcess(Path(tmp))
        server.start()
        manager: subprocess.Popen[bytes] | None = None
        stop = asyncio.Event()
        tasks: list[asyncio.Task[None]] = []
        try:
            async with ApiClient(server.url) as client:
                if in_process:
                    from controllers.manager import run_controller_manager

                    tasks.append(asyncio.create_task(run_controller_manager(
                        client, ["replicaset", "deployment"], leader_elect=False, stop=stop)))
                else:
                    manager = start_controller_manager(server.url, Path(tmp) / "controller-manager.log")
                results = []
                for _ in range(rounds):
                    results.append((await baseline(client, replicas), await with_controllers(client, replicas)))
                stop.set()
                await asyncio.gather(*tasks)
                return results
        finally:
            if manager is not None:
                manager.terminate()
                manager.wait(timeout=15)
            server.stop()


def line(label: str, seconds: float, base: float | None = None) -> str:
    ratio = f"   ratio {seconds / base:5.2f}" if base else ""
    return f"  {label:<58} {seconds:7.2f} s{ratio}"


def report(replicas: int, results: list[tuple[tuple[float, float], dict[str, float]]], where: str) -> None:
    create_base = statistics.median(r[0][0] for r in results)
    replace_base = statistics.median(r[0][1] for r in results)
    fig = {key: statistics.median(r[1][key] for r in results) for key in results[0][1]}
    print(f"{replicas}-replica Deployment, SQLite, controller-manager {where}, simulated kubelet "
          f"(Ready at once); median of {len(results)} rounds")
    print(line(f"baseline: {replicas} direct pod creates -> all Ready", create_base))
    print(line("create: Deployment -> all pods Ready", fig["create pods"], create_base))
    print(line("create: Deployment -> status complete", fig["create status"], create_base))
    print(line(f"baseline: delete {replicas} + create {replicas} directly -> all Ready", replace_base))
    print(line("rolling update -> only new pods, all Ready", fig["update pods"], replace_base))
    print(line("rolling update -> status complete", fig["update status"], replace_base))
    for i, (base, f) in enumerate(results, 1):
        print(f"  round {i}: baselines {base[0]:.2f}/{base[1]:.2f} s, create {f['create pods']:.2f}/"
              f"{f['create status']:.2f} s, update {f['update pods']:.2f}/{f['update status']:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicas", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--in-process", action="store_true",
                        help="run the controllers in this process instead of a `kube-py controller-manager`")
    args = parser.parse_args()
    results = asyncio.run(run(args.replicas, args.rounds, args.in_process))
    report(args.replicas, results, "in this process" if args.in_process else "as its own process")


if __name__ == "__main__":
    main()
