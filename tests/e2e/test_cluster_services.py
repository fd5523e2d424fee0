"""Services on the multi-host cluster: every worker's kubelet runs the service proxy and cluster
DNS in its host's network namespace. A ClusterIP balances over pods on all hosts and is
found by name, a NodePort answers
on every worker's address, a rolling update keeps the service answering (the refused
window is measured and printed), and deleting the service removes its rules."""

from __future__ import annotations

import asyncio
import subprocess
import threading
import time
import urllib.request
from typing import Any

import pytest

from kubeclient.rest import ApiClient
from tests.e2e.test_cluster import is_ready, ready_pods
from tests.fixtures.cluster import TestCluster, requires_root
from tests.fixtures.wait import eventually

pytestmark = pytest.mark.skipif(requires_root() is not None, reason=requires_root() or "")

SERVE_HOSTNAME = "mkdir -p /tmp/www && hostname > /tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www"


def web(image: str, version: str) -> dict[str, Any]:
    container = {"name": "httpd", "image": image, "command": ["sh", "-c", SERVE_HOSTNAME],
                 "env": [{"name": "VERSION", "value": version}],
                 "ports": [{"name": "http", "containerPort": 8080}],
                 "readinessProbe": {"httpGet": {"path": "/", "port": 8080}, "periodSeconds": 1},
                 # The usual production trick: keep serving while the endpoint removal propagates.
                 "lifecycle": {"preStop": {"exec": {"command": ["sleep", "2"]}}}}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
                     "strategy": {"rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
                     "template": {"metadata": {"labels": {"app": "web"}},
                                  "spec": {"containers": [container], "terminationGracePeriodSeconds": 10}}}}


def service(kind: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
            "spec": {"type": kind, "selector": {"app": "web"},
                     "ports": [{"port": 80, "targetPort": "http", "protocol": "TCP"}]}}


def fetch(url: str, timeout: float = 3) -> str:
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        return resp.read().decode().strip()


def nat_rules(netns: str) -> str:
    return subprocess.run(["nsenter", f"--net=/var/run/netns/{netns}", "iptables-save", "-t", "nat"],
                          capture_output=True, text=True, check=True).stdout


async def test_clusterip_nodeport_rolling_update_and_delete(cluster: TestCluster) -> None:
    cluster.up("--nodes", "3")
    image = cluster.push_busybox()
    async with ApiClient(cluster.server) as client:
        await client.create("deployments", web(image, "1"), "default")
        svc = await client.create("services", service("NodePort"), "default")
        cluster_ip, node_port = svc["spec"]["clusterIP"], svc["spec"]["ports"][0]["nodePort"]

        async def three_ready() -> bool:
            return len(await ready_pods(client, "web")) == 3

        await eventually(three_ready, timeout=120, what="3 web pods Ready")
        pods = await ready_pods(client, "web")
        names = {p["metadata"]["name"] for p in pods}
        assert {p["spec"]["nodeName"] for p in pods} == {"node1", "node2", "node3"}

        async def endpoints_ready() -> bool:
            ep = await client.get("endpoints", "web", "default")
            return sum(len(s.get("addresses") or []) for s in ep.get("subsets") or []) == 3

        await eventually(endpoints_ready, timeout=30, what="3 ready endpoints")

        # ClusterIP from a pod on node1: 60 requests see all 3 backends, two of them on other hosts.
        client_pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "caller"},
                      "spec": {"nodeSelector": {"kubernetes.io/hostname": "node1"},
                               "containers": [{"name": "c", "image": image, "command": ["sleep", "3600"]}]}}
        await client.create("pods", client_pod, "default")
        await eventually(lambda: _pod_ready(client, "caller"), timeout=60, what="caller Running")
        loop = f"for i in $(seq 60); do wget -q -O - http://{cluster_ip}/; done"
        seen = cluster.kubectl_py("exec", "caller", "--", "sh", "-c", loop).stdout.split()
        assert len(seen) == 60 and set(seen) == names, f"60 requests saw {sorted(set(seen))}, backends {names}"

        # Cluster DNS from the node's kubelet: the pod's resolv.conf names it, the Service's
        # name resolves to its ClusterIP, and the short name works through the search path.
        resolv = cluster.kubectl_py("exec", "caller", "--", "cat", "/etc/resolv.conf").stdout
        assert "search default.svc.cluster.local svc.cluster.local cluster.local" in resolv, resolv
        assert "options ndots:5" in resolv, resolv
        looked_up = cluster.kubectl_py("exec", "caller", "--", "nslookup", "web.default.svc.cluster.local").stdout
        assert f"Address: {cluster_ip}" in looked_up, looked_up
        by_name = cluster.kubectl_py("exec", "caller", "--", "wget", "-q", "-O", "-", "http://web/").stdout.strip()
        assert by_name in names, by_name

        # NodePort on every worker's address, from outside the hosts (the root namespace).
        for worker in ("node1", "node2", "node3"):
            address = cluster.host(worker)["address"]
            answer = await asyncio.to_thread(fetch, f"http://{address}:{node_port}/")
            assert answer in names, f"NodePort on {worker} answered {answer!r}"

        # A rolling update under load: count refused/failed requests and the longest gap.
        probe = RequestLoop(f"http://{cluster.host('node2')['address']}:{node_port}/")
        probe.start()
        try:
            await client.patch("deployments", "web", {"spec": web(image, "2")["spec"]}, "default",
                               patch_type="merge")

            async def rolled() -> bool:
                d = await client.get("deployments", "web", "default")
                st = d.get("status") or {}
                return (st.get("observedGeneration") == d["metadata"]["generation"] and st.get("updatedReplicas") == 3
                        and st.get("availableReplicas") == 3 and st.get("replicas") == 3)

            await eventually(rolled, timeout=180, what="the rolling update finished")
            await asyncio.sleep(1)
        finally:
            probe.stop()
        print(f"\nrolling update under load: {probe.ok} answered, {probe.failed} failed, "
              f"longest failing window {probe.longest_gap:.2f}s")
        assert probe.ok > 0
        assert probe.longest_gap < 5.0, f"service unreachable for {probe.longest_gap:.2f}s during the rollout"

        # Deleting the service removes its rules from every host.
        assert cluster_ip in nat_rules(cluster.host("node1")["netns"])
        await client.delete("services", "web", "default")

        async def rules_gone() -> bool:
            return all(cluster_ip not in nat_rules(cluster.host(w)["netns"]) for w in ("node1", "node2", "node3"))

        await eventually(rules_gone, timeout=30, what="the service's rules removed on every host")


async def _pod_ready(client: ApiClient, name: str) -> bool:
    return is_ready(await client.get("pods", name, "default"))


class RequestLoop:
    """Requests in a background thread, as a user's client loop would make them."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.ok = self.failed = 0
        self.longest_gap = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(30)

    def _run(self) -> None:
        failing_since: float | None = None
        while not self._stop.is_set():
            try:
                fetch(self.url, timeout=2)
                self.ok += 1
                if failing_since is not None:
                    self.longest_gap = max(self.longest_gap, time.monotonic() - failing_since)
                    failing_since = None
            except OSError:
                self.failed += 1
                failing_since = failing_since if failing_since is not None else time.monotonic()
            time.sleep(0.02)
        if failing_since is not None:
            self.longest_gap = max(self.longest_gap, time.monotonic() - failing_since)
