"""Ctrl-C of `kube-py up` with the runc driver leaves no cgroups of its node behind, in any
hierarchy (v1 controllers, the named systemd one, the hybrid unified cgroup2), while the
pods' containers had them while running."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest

from kubelet.network import PodNetwork
from kubelet.runtime.cgroups import cgroup_dirs
from tests.e2e.test_up_mission import Up
from tests.fixtures.apiserver import free_port
from tests.fixtures.cluster import requires_root

pytestmark = pytest.mark.skipif(requires_root() is not None, reason=requires_root() or "")

POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "sleeper"},
       "spec": {"terminationGracePeriodSeconds": 0,
                "containers": [{"name": "c", "image": "busybox:1.36", "command": ["sleep", "3600"],
                                "resources": {"limits": {"memory": "64Mi"}}}]}}


def _running(up: Up) -> bool:
    pod = json.loads(up.kubectl_py("get", "pod", "sleeper", "-o", "json"))
    return (pod.get("status") or {}).get("phase") == "Running"


def test_ctrl_c_of_up_removes_the_nodes_cgroups(tmp_path: Path) -> None:
    data_dir, node = tmp_path / "up", "cgnode"
    up = Up([sys.executable, "-m", "kubepy.cli", "up", "--data-dir", str(data_dir), "--port", str(free_port()),
             "--driver", "runc", "--node-name", node], data_dir, 0)
    try:
        up.wait_node_ready(120)
        manifest = tmp_path / "pod.json"
        manifest.write_text(json.dumps(POD))
        up.kubectl_py("apply", "-f", str(manifest))
        deadline = time.monotonic() + 120
        while not _running(up) and time.monotonic() < deadline:
            time.sleep(0.3)
        assert _running(up), up.output()[-3000:]
        prefix = f"/kube-py/{PodNetwork(node, '', data_dir / 'kubelet' / node / 'network').prefix}"
        assert cgroup_dirs(prefix), "the running container had no cgroups under the node's prefix"
        assert up.interrupt() == 0, up.output()
        assert cgroup_dirs(prefix) == [], f"cgroups left behind: {cgroup_dirs(prefix)}"
    finally:
        if up.proc.poll() is None:
            up.interrupt()
