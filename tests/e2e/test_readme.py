"""The README's examples, run as written: every command in a ```sh block and every `$` line of
the indented kubectl-py transcript, in document order, on `kube-py up --proxy` with real runc
containers from the private registry `up` seeds, and no network. A README example that stops
working fails here."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.test_up_mission import Up
from tests.fixtures.apiserver import free_port
from tests.fixtures.cluster import ROOT, requires_root

pytestmark = pytest.mark.skipif(requires_root() is not None, reason=requires_root() or "")

README = ROOT / "README.md"
FENCE = re.compile(r"^```(\w*)\s*$")


def readme_commands(text: str) -> list[str]:
    """The runnable lines, in order: ```sh blocks, and `    $ ` transcript lines."""
    commands: list[str] = []
    language: str | None = None
    for line in text.splitlines():
        fence = FENCE.match(line)
        if fence:
            language = None if language is not None else fence.group(1)
            continue
        if language == "sh" and line.strip() and not line.lstrip().startswith("#"):
            commands.append(line.strip())
        elif language is None and line.startswith("    $ "):
            commands.append(line[len("    $ "):].strip())
    return commands


def test_readme_commands_are_found() -> None:
    commands = readme_commands(README.read_text())
    assert "kubectl rollout status deployment/web" in commands
    assert "kubectl-py apply -f web.yaml" in commands
    assert "kubectl-py exec caller -- wget -qO- http://web/          # web.default.svc.cluster.local" in commands


@pytest.fixture
def up_with_proxy(tmp_path: Path) -> Iterator[Up]:
    data_dir = tmp_path / "up"
    running = Up([sys.executable, "-m", "kubepy.cli", "up", "--data-dir", str(data_dir), "--port",
                  str(free_port()), "--proxy"], data_dir, 0)
    try:
        yield running
    finally:
        if running.proc.poll() is None:
            running.interrupt()


def test_every_readme_example_runs(up_with_proxy: Up, tmp_path: Path) -> None:
    up_with_proxy.wait_node_ready(120)
    workdir = tmp_path / "work"
    workdir.mkdir()
    (workdir / "manifests").symlink_to(ROOT / "manifests")
    env = {**os.environ, "KUBECONFIG": str(up_with_proxy.data_dir / "kubeconfig"),
           "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin", "HOME": str(tmp_path)}
    outputs: dict[str, str] = {}
    for command in readme_commands(README.read_text()):
        done = subprocess.run(["bash", "-c", command], cwd=workdir, env=env, capture_output=True, text=True,
                              timeout=180)
        assert done.returncode == 0, (f"README command failed ({done.returncode}): {command}\n{done.stdout}"
                                      f"\n{done.stderr}\n--- up:\n{up_with_proxy.output()[-3000:]}")
        outputs[command.split("#")[0].strip()] = done.stdout
    assert "Insufficient cpu" in outputs["kubectl describe pod greedy"] or \
        "FailedScheduling" in outputs["kubectl describe pod greedy"]
    assert outputs["kubectl-py exec caller -- wget -qO- http://web/"].startswith("hello from web-")
    assert "Address" in outputs["kubectl-py exec caller -- nslookup web.default.svc.cluster.local"]
    assert up_with_proxy.interrupt() == 0, up_with_proxy.output()
