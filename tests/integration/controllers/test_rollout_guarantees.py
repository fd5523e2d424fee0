"""What a Deployment promises, proved against a real API server: rolling updates stay inside
maxSurge/maxUnavailable at every observed moment, rollout history and undo agree with the
stock kubectl, deleting a Deployment collects its ReplicaSets and pods, a controller-manager
killed mid-rollout (SIGKILL, real process, real leader election) is replaced without extra
pods, and a Job whose pods always fail stops at its backoff limit.

Bounds are checked from watch events as they arrive (every stored state of the pods and
ReplicaSets, in order), not by sleeping and sampling now and then.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from kubeclient.informer import Informer
from kubeclient.rest import ApiClient
from tests.fixtures.apiserver import ApiServerProcess
from tests.fixtures.wait import eventually
from tests.integration.controllers.simkubelet import SimKubelet, finishing_kubelet, is_ready, is_terminating
from tests.integration.controllers.test_deployment_rollouts import deployment, rolled_out
from tests.integration.controllers.test_job import conditions, job

Obj = dict[str, Any]
REPO = Path(__file__).resolve().parents[3]
REPLICAS = 10


# ---- watching a rollout ------------------------------------------------------------------------


def owner_uid(pod: Obj) -> str:
    refs = [r for r in pod["metadata"].get("ownerReferences") or [] if r.get("controller")]
    return refs[0]["uid"] if refs else ""


@dataclass
class RolloutBounds:
    """Checks, after every pod or ReplicaSet event, the two guarantees of a rolling update:
    - what the controller decides: sum of RS .spec.replicas ≤ replicas + maxSurge and sum of
      RS .status.availableReplicas ≥ replicas − maxUnavailable;
    - what exists: pods not terminating ≤ replicas + maxSurge, Ready ones ≥ replicas − maxUnavailable
      (pods here have no node, so a delete removes them at once: nothing lingers uncounted).
    Also remembers, per ReplicaSet, the most pods it ever owned and the largest spec it ever had."""

    client: ApiClient
    namespace: str
    app: str
    max_pods: int
    min_available: int
    violations: list[str] = field(default_factory=list)
    events: int = 0
    pods_peak: dict[str, int] = field(default_factory=dict)
    spec_peak: dict[str, int] = field(default_factory=dict)
    armed: bool = False

    def __post_init__(self) -> None:
        selector = f"app={self.app}"
        self.pods = Informer(self.client, "pods", namespace=self.namespace, label_selector=selector)
        self.rss = Informer(self.client, "replicasets", namespace=self.namespace, label_selector=selector)
        for informer in (self.pods, self.rss):
            informer.add_handlers(on_add=lambda _o: self.check(), on_update=lambda _o, _n: self.check(),
                                  on_delete=lambda _o: self.check())

    async def __aenter__(self) -> RolloutBounds:
        self.pods.start()
        self.rss.start()
        await asyncio.gather(self.pods.wait_synced(), self.rss.wait_synced())
        self.armed = True  # the initial list arrives one object at a time: judge only whole states
        self.check()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.armed = False
        await asyncio.gather(self.pods.stop(), self.rss.stop())

    def check(self) -> None:
        if not self.armed:
            return
        self.events += 1
        rss, pods = self.rss.list(), [p for p in self.pods.list() if not is_terminating(p)]
        spec_sum = sum(int(rs["spec"].get("replicas", 0)) for rs in rss)
        available_sum = sum(int((rs.get("status") or {}).get("availableReplicas") or 0) for rs in rss)
        ready = sum(1 for p in pods if is_ready(p))
        self._expect(spec_sum <= self.max_pods, f"ReplicaSet specs sum to {spec_sum} > {self.max_pods}")
        self._expect(available_sum >= self.min_available,
                     f"ReplicaSets report {available_sum} available < {self.min_available}")
        self._expect(len(pods) <= self.max_pods, f"{len(pods)} pods exist > {self.max_pods}")
        self._expect(ready >= self.min_available, f"{ready} pods Ready < {self.min_available}")
        for rs in rss:
            uid = rs["metadata"]["uid"]
            self.spec_peak[uid] = max(self.spec_peak.get(uid, 0), int(rs["spec"].get("replicas", 0)))
        for uid in {owner_uid(p) for p in pods}:
            self.pods_peak[uid] = max(self.pods_peak.get(uid, 0), sum(1 for p in pods if owner_uid(p) == uid))

    def _expect(self, ok: bool, message: str) -> None:
        if not ok and len(self.violations) < 20:
            self.violations.append(f"event {self.events}: {message}")

    def extra_pods(self) -> dict[str, tuple[int, int]]:
        """ReplicaSets that at some moment owned more pods than their spec ever asked for."""
        return {uid: (n, self.spec_peak.get(uid, 0)) for uid, n in self.pods_peak.items()
                if n > self.spec_peak.get(uid, 0)}


async def set_image(client: ApiClient, namespace: str, name: str, image: str, cause: str = "") -> None:
    patch: Obj = {"spec": {"template": {"spec": {"containers": [{"name": "web", "image": image}]}}}}
    if cause:
        patch["metadata"] = {"annotations": {"kubernetes.io/change-cause": cause}}
    await client.patch("deployments", name, patch, namespace)


async def app_pods(client: ApiClient, namespace: str, app: str) -> list[Obj]:
    return (await client.list("pods", namespace, label_selector=f"app={app}"))["items"]


async def assert_only_new_pods(client: ApiClient, namespace: str, app: str, image: str) -> None:
    pods = await app_pods(client, namespace, app)
    assert len(pods) == REPLICAS, [p["metadata"]["name"] for p in pods]
    assert all(p["spec"]["containers"][0]["image"] == image and is_ready(p) and not is_terminating(p) for p in pods)
    rss = (await client.list("replicasets", namespace, label_selector=f"app={app}"))["items"]
    by_uid = {rs["metadata"]["uid"]: rs for rs in rss}
    owners = {owner_uid(p) for p in pods}
    assert len(owners) == 1 and by_uid[owners.pop()]["spec"]["replicas"] == REPLICAS
    assert sum(rs["spec"]["replicas"] for rs in rss) == REPLICAS


# ---- 1. bounds during a rolling update ---------------------------------------------------------


@pytest.mark.parametrize(("rolling", "surge", "unavailable"), [
    ({"maxSurge": 3, "maxUnavailable": 2}, 3, 2),
    (None, 3, 2),  # the defaults, 25 % / 25 %: surge rounds up, unavailability down
    ({"maxSurge": "50%", "maxUnavailable": 0}, 5, 0),
], ids=["surge3-unavail2", "default-25pct", "surge50pct-unavail0"])
async def test_rolling_update_stays_within_surge_and_unavailability(
        client: ApiClient, namespace: str, run_controllers: Callable[..., None],
        rolling: Obj | None, surge: int, unavailable: int) -> None:
    run_controllers("replicaset", "deployment")
    web = deployment("web", replicas=REPLICAS)
    if rolling:
        web["spec"]["strategy"]["rollingUpdate"] = rolling
    async with SimKubelet(client, namespace, delay=(0.02, 0.3)):
        await client.create("deployments", web, namespace)
        await eventually(lambda: rolled_out(client, namespace, "web"), what="first rollout")
        async with RolloutBounds(client, namespace, "web", REPLICAS + surge, REPLICAS - unavailable) as bounds:
            await set_image(client, namespace, "web", "nginx:1.26")
            await eventually(lambda: rolled_out(client, namespace, "web"), what="rolling update")
            await eventually(lambda: only_image(client, namespace, "web", "nginx:1.26"), what="old pods gone")
    assert bounds.violations == []
    assert bounds.events > 20, "the watch saw the rollout step by step"
    assert bounds.extra_pods() == {}
    await assert_only_new_pods(client, namespace, "web", "nginx:1.26")


async def only_image(client: ApiClient, namespace: str, app: str, image: str) -> bool:
    pods = await app_pods(client, namespace, app)
    return len(pods) == REPLICAS and all(p["spec"]["containers"][0]["image"] == image for p in pods)


# ---- 2. rollout history / undo: kubectl-py and the stock kubectl agree -------------------------


@dataclass
class Clis:
    kubeconfig: Path
    namespace: str
    home: Path

    async def run(self, argv: list[str]) -> str:
        result = await asyncio.to_thread(subprocess.run, argv, capture_output=True, text=True, timeout=120, cwd=REPO,
                                         env={**os.environ, "HOME": str(self.home)})
        assert result.returncode == 0, f"{argv}: {result.stderr}"
        return result.stdout

    async def kubectl_py(self, *args: str) -> str:
        return await self.run([sys.executable, "-m", "kubectl_py.main", "--kubeconfig", str(self.kubeconfig),
                               "-n", self.namespace, *args])

    async def kubectl(self, *args: str) -> str:
        return await self.run(["kubectl", "--kubeconfig", str(self.kubeconfig), "--cache-dir",
                               str(self.home / "cache"), "-n", self.namespace, *args])

    async def histories(self, target: str) -> list[list[tuple[int, str]]]:
        """→ (revision, change-cause) rows as kubectl-py and the stock kubectl print them."""
        outputs = [await self.kubectl_py("rollout", "history", target), await self.kubectl("rollout", "history", target)]
        return [history_rows(text) for text in outputs]


def history_rows(text: str) -> list[tuple[int, str]]:
    rows = []
    for line in text.splitlines():
        words = line.split(None, 1)
        if words and words[0].isdigit():
            rows.append((int(words[0]), words[1].strip() if len(words) > 1 else ""))
    return rows


@pytest.fixture
def clis(api_server: ApiServerProcess, namespace: str, tmp_path: Path) -> Clis:
    return Clis(api_server.kubeconfig, namespace, tmp_path)


async def at_revision(client: ApiClient, namespace: str, name: str, revision: int) -> bool:
    d = await client.get("deployments", name, namespace)
    annotations = d["metadata"].get("annotations") or {}
    return annotations.get("deployment.kubernetes.io/revision") == str(revision) and \
        await rolled_out(client, namespace, name)


async def image_of(client: ApiClient, namespace: str, name: str) -> str:
    return (await client.get("deployments", name, namespace))["spec"]["template"]["spec"]["containers"][0]["image"]


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="the stock kubectl ships with the machine image")
async def test_history_and_undo_agree_with_stock_kubectl(client: ApiClient, namespace: str, clis: Clis,
                                                         run_controllers: Callable[..., None]) -> None:
    run_controllers("replicaset", "deployment")
    images = {1: "nginx:1.25", 2: "nginx:1.26", 3: "nginx:1.27", 4: "nginx:1.28"}
    first = deployment("hist", image=images[1], replicas=2)
    first["metadata"]["annotations"] = {"kubernetes.io/change-cause": "v1"}
    async with SimKubelet(client, namespace):
        await client.create("deployments", first, namespace)
        await eventually(lambda: at_revision(client, namespace, "hist", 1), what="revision 1")
        for revision in (2, 3, 4):
            await set_image(client, namespace, "hist", images[revision], cause=f"v{revision}")
            await eventually(lambda r=revision: at_revision(client, namespace, "hist", r), what=f"revision {revision}")
        expected = [(1, "v1"), (2, "v2"), (3, "v3"), (4, "v4")]
        for rows in await clis.histories("deployment/hist"):
            assert rows == expected

        assert "rolled back" in await clis.kubectl_py("rollout", "undo", "deployment/hist")
        await eventually(lambda: at_revision(client, namespace, "hist", 5), what="undo renumbered to 5")
        assert await image_of(client, namespace, "hist") == images[3]
        expected = [(1, "v1"), (2, "v2"), (4, "v4"), (5, "v3")]
        for rows in await clis.histories("deployment/hist"):
            assert rows == expected

        assert "rolled back" in await clis.kubectl_py("rollout", "undo", "deployment/hist", "--to-revision=1")
        await eventually(lambda: at_revision(client, namespace, "hist", 6), what="undo to 1 renumbered to 6")
        assert await image_of(client, namespace, "hist") == images[1]
        expected = [(2, "v2"), (4, "v4"), (5, "v3"), (6, "v1")]
        for rows in await clis.histories("deployment/hist"):
            assert rows == expected
        pods = await app_pods(client, namespace, "hist")
        assert len(pods) == 2 and {p["spec"]["containers"][0]["image"] for p in pods} == {images[1]}


# ---- 3. deleting a Deployment collects its ReplicaSets and pods --------------------------------


async def test_deleting_a_deployment_removes_its_replicasets_and_pods(
        client: ApiClient, namespace: str, clis: Clis, run_controllers: Callable[..., None]) -> None:
    run_controllers("replicaset", "deployment", "garbagecollector")
    async with SimKubelet(client, namespace):
        await client.create("deployments", deployment("gone", replicas=3), namespace)
        await eventually(lambda: at_revision(client, namespace, "gone", 1), what="first rollout")
        await set_image(client, namespace, "gone", "nginx:1.26")
        await eventually(lambda: at_revision(client, namespace, "gone", 2), what="second rollout")
        assert len((await client.list("replicasets", namespace))["items"]) == 2

        await clis.kubectl_py("delete", "deployment", "gone")  # kubectl's default: --cascade=background

        async def collected() -> bool:
            return not (await client.list("replicasets", namespace))["items"] and \
                not (await client.list("pods", namespace))["items"]

        await eventually(collected, what="ReplicaSets and pods garbage-collected")
    assert (await client.list("deployments", namespace))["items"] == []


# ---- 4. controller-manager killed mid-rollout --------------------------------------------------


class ControllerManagerProcess:
    """`kube-py controller-manager` as a real process, with leader election on (the default)."""

    def __init__(self, server: str, log_path: Path) -> None:
        self.server = server
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "kubepy.cli", "controller-manager", "--server", self.server,
                 "--controllers", "replicaset,deployment", "--leader-elect", "true"],
                stdout=log, stderr=subprocess.STDOUT, cwd=REPO, env={**os.environ, "PYTHONUNBUFFERED": "1"})

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


@pytest.fixture
def controller_managers(api_server: ApiServerProcess,
                        tmp_path: Path) -> Iterator[Callable[[], ControllerManagerProcess]]:
    started: list[ControllerManagerProcess] = []

    def start() -> ControllerManagerProcess:
        cm = ControllerManagerProcess(api_server.url, tmp_path / f"controller-manager-{len(started)}.log")
        cm.start()
        started.append(cm)
        return cm

    yield start
    for cm in started:
        cm.stop()


async def lease_holder(client: ApiClient) -> tuple[str, int]:
    spec = (await client.get("leases", "kube-controller-manager", "kube-system")).get("spec") or {}
    return spec.get("holderIdentity") or "", int(spec.get("leaseTransitions") or 0)


async def test_controller_manager_killed_mid_rollout_converges_without_extra_pods(
        client: ApiClient, namespace: str, controller_managers: Callable[[], ControllerManagerProcess]) -> None:
    first = controller_managers()
    async with SimKubelet(client, namespace, delay=(0.2, 0.6)):
        await client.create("deployments", deployment("crash", replicas=REPLICAS), namespace)
        await eventually(lambda: rolled_out(client, namespace, "crash"), what="first rollout")
        holder_before, transitions_before = await lease_holder(client)
        async with RolloutBounds(client, namespace, "crash", REPLICAS + 3, REPLICAS - 2) as bounds:
            await set_image(client, namespace, "crash", "nginx:1.26")

            async def new_set_partly_up() -> bool:
                for rs in (await client.list("replicasets", namespace, label_selector="app=crash"))["items"]:
                    if rs["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.26":
                        return 0 < int((rs.get("status") or {}).get("replicas") or 0) < REPLICAS
                return False

            await eventually(new_set_partly_up, what="new ReplicaSet partly scaled up")
            first.kill()
            assert not first.alive()
            second = controller_managers()
            # The dead leader's Lease (15 s) must expire before the new process may act.
            await eventually(lambda: only_image(client, namespace, "crash", "nginx:1.26"), timeout=90,
                             what="rollout finished by the second controller-manager")
            await eventually(lambda: rolled_out(client, namespace, "crash"), what="status converged")
            assert second.alive()
        holder_after, transitions_after = await lease_holder(client)
    assert holder_after != holder_before and transitions_after == transitions_before + 1
    assert bounds.violations == []
    assert bounds.extra_pods() == {}
    await assert_only_new_pods(client, namespace, "crash", "nginx:1.26")


# ---- 5. a Job whose pods always fail -----------------------------------------------------------


async def test_failing_job_stops_at_backoff_limit(client: ApiClient, namespace: str,
                                                  run_controllers: Callable[..., None]) -> None:
    run_controllers("job")
    kubelet = asyncio.create_task(finishing_kubelet(client, namespace, "Failed")())
    try:
        await client.create("jobs", job("doomed", backoffLimit=2), namespace)

        async def failed() -> bool:
            return "Failed" in await conditions(client, namespace, "doomed")

        await eventually(failed, what="job failed")
    finally:
        kubelet.cancel()
        await asyncio.gather(kubelet, return_exceptions=True)
    condition = (await conditions(client, namespace, "doomed"))["Failed"]
    assert condition["reason"] == "BackoffLimitExceeded"
    status = (await client.get("jobs", "doomed", namespace))["status"]
    assert status["failed"] == 3 and not status.get("active") and not status.get("succeeded")
    assert len(await app_pods_of_job(client, namespace)) == 3, "one first try plus backoffLimit retries, no more"


async def app_pods_of_job(client: ApiClient, namespace: str) -> list[Obj]:
    return (await client.list("pods", namespace, label_selector="job-name=doomed"))["items"]
