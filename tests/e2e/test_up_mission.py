"""The mission flow on the all-in-one `kube-py up`, as a user runs it: real runc containers
from the private registry `up` starts and seeds with busybox; apply → Running → change the
image → rollout status → two revisions in history (kubectl-py and the stock kubectl agree)
→ undo → the old image runs again; Ctrl-C leaves nothing running. And `make up` itself
reaches a Ready node within 60 s."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.apiserver import free_port
from tests.fixtures.cluster import ROOT, left_behind, netns_and_links, requires_root

pytestmark = pytest.mark.skipif(requires_root() is not None, reason=requires_root() or "")

DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: busybox:1.36
        command: ["httpd", "-f", "-p", "8080", "-h", "/var/www"]
"""


class Up:
    def __init__(self, argv: list[str], data_dir: Path, port: int) -> None:
        self.data_dir, self.port = data_dir, port
        env = {k: v for k, v in os.environ.items() if k != "KUBE_PY_REGISTRY"}
        self.log = (data_dir.parent / f"{data_dir.name}-up.log").open("w+b")
        self.proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)

    def output(self) -> str:
        self.log.flush()
        return Path(self.log.name).read_text(errors="replace")

    def kubectl_py(self, *args: str, check: bool = True) -> str:
        proc = subprocess.run([sys.executable, "-m", "kubectl_py.main", "--kubeconfig", str(self.data_dir / "kubeconfig"),
                               *args], capture_output=True, text=True, timeout=180, cwd=ROOT)
        if check and proc.returncode != 0:
            raise AssertionError(f"kubectl-py {' '.join(args)}: {proc.stderr}\n--- up:\n{self.output()[-3000:]}")
        return proc.stdout

    def kubectl(self, *args: str) -> str:
        proc = subprocess.run(["kubectl", "--kubeconfig", str(self.data_dir / "kubeconfig"), *args],
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    def wait_node_ready(self, timeout: float) -> float:
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            assert self.proc.poll() is None, f"kube-py up exited:\n{self.output()}"
            if (self.data_dir / "kubeconfig").exists():
                out = self.kubectl_py("get", "nodes", "-o", "json", check=False)
                if out and any(_ready(n) for n in json.loads(out).get("items", [])):
                    return time.monotonic() - started
            time.sleep(0.3)
        raise AssertionError(f"no Ready node within {timeout}s:\n{self.output()}")

    def interrupt(self) -> int:
        os.killpg(self.proc.pid, signal.SIGINT)
        try:
            return self.proc.wait(90)
        finally:
            if self.proc.poll() is None:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def _ready(node: dict[str, Any]) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True" for c in node.get("status", {}).get("conditions", []))


@pytest.fixture
def up(tmp_path: Path) -> Iterator[Up]:
    before = netns_and_links()
    port = free_port()
    data_dir = tmp_path / "up"
    running = Up([sys.executable, "-m", "kubepy.cli", "up", "--data-dir", str(data_dir), "--port", str(port)],
                 data_dir, port)
    try:
        yield running
    finally:
        if running.proc.poll() is None:
            running.interrupt()
    assert left_behind(before) == (set(), set()), "kube-py up left network namespaces or links behind"


def revisions(history: str) -> list[str]:
    return [line.split()[0] for line in history.splitlines()[2:] if line.strip()]


def images_running(up: Up) -> set[str]:
    pods = json.loads(up.kubectl_py("get", "pods", "-l", "app=web", "-o", "json"))["items"]
    return {s["image"] for p in pods if not p["metadata"].get("deletionTimestamp")
            for s in p.get("status", {}).get("containerStatuses", []) if "running" in s.get("state", {})}


def test_mission_flow_on_kube_py_up_with_runc(up: Up, tmp_path: Path) -> None:
    up.wait_node_ready(120)
    assert "with the runc driver" in up.output(), up.output()
    manifest = tmp_path / "web.yaml"
    manifest.write_text(DEPLOYMENT)
    assert "deployment.apps/web created" in up.kubectl_py("apply", "-f", str(manifest))
    up.kubectl_py("rollout", "status", "deployment/web", "--timeout=120s")
    assert images_running(up) == {"busybox:1.36"}

    manifest.write_text(DEPLOYMENT.replace("busybox:1.36", "busybox:latest"))
    up.kubectl_py("apply", "-f", str(manifest))
    assert "successfully rolled out" in up.kubectl_py("rollout", "status", "deployment/web", "--timeout=120s")
    assert revisions(up.kubectl_py("rollout", "history", "deployment/web")) == ["1", "2"]
    assert revisions(up.kubectl("rollout", "history", "deployment/web")) == ["1", "2"]

    assert "rolled back" in up.kubectl_py("rollout", "undo", "deployment/web")
    up.kubectl_py("rollout", "status", "deployment/web", "--timeout=120s")
    deadline = time.monotonic() + 120
    while images_running(up) != {"busybox:1.36"} and time.monotonic() < deadline:
        time.sleep(0.5)
    assert images_running(up) == {"busybox:1.36"}
    assert revisions(up.kubectl("rollout", "history", "deployment/web")) == ["2", "3"]

    assert up.interrupt() == 0, up.output()
    left = [line for line in Path("/proc/self/mounts").read_text().splitlines() if str(up.data_dir) in line]
    assert left == [], f"mounts left behind: {left}"


def test_make_up_reaches_a_ready_node_within_60s(tmp_path: Path) -> None:
    before = netns_and_links()
    port = free_port()
    data_dir = tmp_path / "make-up"
    made = Up(["make", "--no-print-directory", "up", f"UP_ARGS=--data-dir {data_dir} --port {port}"], data_dir, port)
    try:
        seconds = made.wait_node_ready(120)
        print(f"\nmake up → Ready node in {seconds:.1f}s")
        assert seconds < 60, f"make up took {seconds:.1f}s to a Ready node"
    finally:
        made.interrupt()
    assert left_behind(before) == (set(), set())
