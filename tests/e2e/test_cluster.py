"""The multi-host test cluster, end to end: real network namespaces, real etcd members,
real runc containers pulled from the cluster's registry. Each test builds a fresh cluster
with `kube-py cluster up` and tears it down with `cluster down`, which must leave the
machine's namespaces and links exactly as they were."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from apimachinery.errors import StatusError
from kubeclient.rest import ApiClient
from tests.fixtures.cluster import ROOT, TestCluster, requires_root
from tests.fixtures.wait import eventually

pytestmark = pytest.mark.skipif(requires_root() is not None, reason=requires_root() or "")

SHORT_TOLERATION = [{"key": key, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 2}
                    for key in ("node.kubernetes.io/unreachable", "node.kubernetes.io/not-ready")]


def deployment(name: str, image: str, replicas: int, **pod_spec: Any) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "httpd", "image": image,
                                                           "command": ["httpd", "-f", "-p", "80", "-h", "/var/www"]}],
                                           **pod_spec}}}}


def is_ready(obj: dict[str, Any]) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (obj.get("status") or {}).get("conditions") or [])


async def ready_pods(client: ApiClient, app: str) -> list[dict[str, Any]]:
    pods = (await client.list("pods", "default", label_selector=f"app={app}"))["items"]
    return [p for p in pods if not p["metadata"].get("deletionTimestamp") and is_ready(p)]


async def node_ready(client: ApiClient, name: str) -> bool:
    return is_ready(await client.get("nodes", name))


async def test_pods_spread_over_hosts_and_move_off_a_stopped_host(cluster: TestCluster) -> None:
    cluster.up("--nodes", "3", "--node-monitor-grace-period", "6")
    image = cluster.push_busybox()
    async with ApiClient(cluster.server) as client:
        await client.create("deployments", deployment("web", image, 6, tolerations=SHORT_TOLERATION), "default")

        async def six_ready() -> bool:
            return len(await ready_pods(client, "web")) == 6

        await eventually(six_ready, timeout=120, what="6 web pods Ready")
        hosts = {p["spec"]["nodeName"] for p in await ready_pods(client, "web")}
        assert hosts == {"node1", "node2", "node3"}, f"6 replicas should spread over the 3 workers, got {hosts}"
        # Pods on different hosts reach each other over the routed pod CIDRs.
        ips = {p["spec"]["nodeName"]: p["status"]["podIP"] for p in await ready_pods(client, "web")}
        assert b"hello from kube-py" in await asyncio.to_thread(_fetch, f"http://{ips['node2']}/")

        started = time.monotonic()
        cluster.cli("stop-host", "node3")
        await eventually(lambda: _not(node_ready(client, "node3")), timeout=60, what="node3 NotReady")

        async def six_ready_elsewhere() -> bool:
            pods = await ready_pods(client, "web")
            return len(pods) == 6 and all(p["spec"]["nodeName"] != "node3" for p in pods)

        await eventually(six_ready_elsewhere, timeout=120, what="node3's pods recreated on node1/node2")
        print(f"\nnode3 stopped → its pods running elsewhere in {time.monotonic() - started:.1f}s "
              "(grace 6 s + toleration 2 s)")
        status = cluster.cli("status").stdout
        assert "node3" in status and "kubelet=stopped" in status

        cluster.cli("start-host", "node3")
        await eventually(lambda: node_ready(client, "node3"), timeout=60, what="node3 Ready again")


async def test_job_pending_pod_cut_host_and_clean_down(cluster: TestCluster) -> None:
    cluster.up("--nodes", "2")
    image = cluster.push_busybox()
    async with ApiClient(cluster.server) as client:
        job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "count"},
               "spec": {"completions": 2, "parallelism": 2, "completionMode": "Indexed", "template": {"spec": {
                   "restartPolicy": "Never",
                   "containers": [{"name": "count", "image": image,
                                   "command": ["sh", "-c", "echo index=$JOB_COMPLETION_INDEX"]}]}}}}
        await client.create("jobs", job, "default")
        huge = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "huge"},
                "spec": {"containers": [{"name": "c", "image": image, "command": ["sleep", "3600"],
                                         "resources": {"requests": {"cpu": "5000"}}}]}}
        await client.create("pods", huge, "default")

        async def job_complete() -> bool:
            conditions = ((await client.get("jobs", "count", "default")).get("status") or {}).get("conditions") or []
            return any(c["type"] == "Complete" and c["status"] == "True" for c in conditions)

        await eventually(job_complete, timeout=120, what="the job Complete")
        job_pods = (await client.list("pods", "default", label_selector="job-name=count"))["items"]
        logs = {cluster.kubectl_py("logs", p["metadata"]["name"]).stdout.strip() for p in job_pods}
        assert logs == {"index=0", "index=1"}, logs

        async def unschedulable() -> bool:
            pod = await client.get("pods", "huge", "default")
            return any(c.get("reason") == "Unschedulable" for c in (pod.get("status") or {}).get("conditions") or [])

        await eventually(unschedulable, timeout=60, what="huge marked Unschedulable")
        assert (await client.get("pods", "huge", "default"))["status"]["phase"] == "Pending"
        why = cluster.kubectl_py("why-pending", "huge").stdout
        assert "Insufficient cpu" in why, why

        # cut-host: the link goes down, the processes keep running; heal-host brings it back.
        kubelet = f"http://{cluster.host('node1')['address']}:10250/healthz"
        cluster.cli("cut-host", "node1")
        assert not _reachable(kubelet)
        assert "kubelet=running" in cluster.cli("status").stdout
        cluster.cli("heal-host", "node1")
        await eventually(lambda: _true(_reachable(kubelet)), timeout=30, what="node1 reachable again")
        assert await node_ready(client, "node1")


async def test_three_control_planes_survive_an_etcd_member_and_the_leader(cluster: TestCluster) -> None:
    cluster.up("--nodes", "1", "--control-planes", "3")
    async with ApiClient(cluster.server) as client:
        # cp1's API server prefers cp1's etcd member: stop exactly that one.
        cluster.cli("stop-host", "cp1", "--component", "etcd")
        created_at = time.monotonic()
        await _create_namespace_eventually(client, "after-member-loss")
        print(f"\nwrite accepted {time.monotonic() - created_at:.1f}s after losing cp1's etcd member")
        assert (await client.get("namespaces", "after-member-loss"))["metadata"]["name"] == "after-member-loss"
        cluster.cli("start-host", "cp1", "--component", "etcd")

        lease = await client.get("leases", "kube-controller-manager", "kube-system")
        leader = lease["spec"]["holderIdentity"].split("_")[0]
        assert leader in ("cp1", "cp2", "cp3")
        cluster.cli("stop-host", leader, "--component", "controller-manager")

        async def new_leader() -> bool:
            holder = (await client.get("leases", "kube-controller-manager", "kube-system"))["spec"].get("holderIdentity")
            return bool(holder) and holder.split("_")[0] not in (leader, "")

        await eventually(new_leader, timeout=60, what="another controller-manager takes the lease")
        await client.create("deployments", deployment("after-takeover", "busybox:1.36", 1), "default")

        async def replica_set_made() -> bool:
            return bool((await client.list("replicasets", "default", label_selector="app=after-takeover"))["items"])

        await eventually(replica_set_made, timeout=60, what="the new leader reconciles a new deployment")


async def _create_namespace_eventually(client: ApiClient, name: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            await client.create("namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
            return
        except StatusError as exc:
            if exc.code == 409:
                return
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.5)


def _process_lives(pid: int) -> bool:
    try:
        return not Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].startswith("Z")
    except OSError:
        return False


def _fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=5) as resp:
        return resp.read()


def _reachable(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1):
            return True
    except OSError as exc:
        return getattr(exc, "code", None) is not None  # an HTTP error answer still proves reachability


async def _not(value: Any) -> bool:
    return not await value


async def _true(value: bool) -> bool:
    return value


def test_down_after_the_tool_crashed_mid_up(cluster: TestCluster) -> None:
    """kill -9 `cluster up` once etcd runs; the ledger still lets `down` remove everything."""
    proc = subprocess.Popen([sys.executable, "-m", "kubepy.cli", "cluster", "up", "--nodes", "2",
                             "--data-dir", str(cluster.data_dir)], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    ledger = cluster.data_dir / "cluster.json"
    deadline = time.monotonic() + 60
    pids: list[int] = []
    while time.monotonic() < deadline and not pids:
        if ledger.exists():
            try:
                state = json.loads(ledger.read_text())
            except ValueError:
                continue
            pids = [c["pid"] for h in state["hosts"] for c in h["components"] if c["pid"]]
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert pids, "cluster up never started a process"
    cluster.cli("down")
    assert not ledger.exists()
    for pid in pids:
        assert not _process_lives(pid), f"process {pid} of the crashed cluster survived down"
