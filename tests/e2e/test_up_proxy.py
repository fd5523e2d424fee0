"""`kube-py up --proxy` inside a network namespace made for the test (never this machine's
own): a Service's ClusterIP gets rules while `up` runs, and Ctrl-C takes them away."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.cluster import ROOT, requires_root

pytestmark = pytest.mark.skipif(requires_root() is not None, reason=requires_root() or "")


@pytest.fixture
def netns() -> Iterator[str]:
    name = f"kpt{uuid.uuid4().hex[:8]}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"], check=True)
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)


def inside(netns: str, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["nsenter", f"--net=/var/run/netns/{netns}", *argv], capture_output=True, text=True,
                          timeout=60, check=check, cwd=ROOT)


def test_up_with_proxy_programs_and_removes_service_rules(netns: str, tmp_path: Path) -> None:
    data_dir = tmp_path / "up"
    log = (tmp_path / "up.log").open("wb")
    up = subprocess.Popen(["nsenter", f"--net=/var/run/netns/{netns}", sys.executable, "-m", "kubepy.cli", "up",
                           "--data-dir", str(data_dir), "--port", "8080", "--driver", "process", "--proxy"],
                          cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    kubectl = [sys.executable, "-m", "kubectl_py.main", "-s", "http://127.0.0.1:8080"]
    try:
        deadline = time.monotonic() + 90
        while (probe := inside(netns, *kubectl, "get", "nodes", check=False)).returncode != 0:
            assert up.poll() is None and time.monotonic() < deadline, probe.stderr
            time.sleep(0.3)
        manifest = tmp_path / "svc.json"
        manifest.write_text(json.dumps({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
                                        "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}}))
        inside(netns, *kubectl, "apply", "-f", str(manifest))
        cluster_ip = json.loads(inside(netns, *kubectl, "get", "svc", "web", "-o", "json").stdout)["spec"]["clusterIP"]
        while cluster_ip not in inside(netns, "iptables-save").stdout:  # no endpoints: a filter REJECT
            assert time.monotonic() < deadline, (tmp_path / "up.log").read_text()
            time.sleep(0.2)
    finally:
        os.killpg(up.pid, signal.SIGINT)
        code = up.wait(60)
    assert code == 0, (tmp_path / "up.log").read_text()
    assert "KP-" not in inside(netns, "iptables-save").stdout
