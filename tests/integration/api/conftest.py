"""A real API server per backend (SQLite, real etcd) shared by one test module, plus a
runner for the stock kubectl pointed at it through a private kubeconfig and cache."""

from __future__ import annotations

import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.fixtures.apiserver import ApiServerProcess, running_api_server


@pytest.fixture(scope="module", params=["sqlite", "etcd"])
def api_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServerProcess]:
    data_dir = tmp_path_factory.mktemp(f"apiserver-{request.param}")
    etcd = None
    storage = ""
    if request.param == "etcd":
        from tests.fixtures.etcd import EtcdServer

        etcd = EtcdServer(data_dir / "etcd")
        etcd.start()
        storage = f"etcd://{etcd.endpoint}"
    try:
        yield from running_api_server(data_dir, storage)
    finally:
        if etcd is not None:
            etcd.stop()


@dataclass
class Kubectl:
    server: ApiServerProcess
    home: Path

    def __call__(self, *args: str, input: str | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        binary = shutil.which("kubectl")
        assert binary, "the stock kubectl is expected at /usr/bin/kubectl on these machines"
        return subprocess.run(
            [binary, "--kubeconfig", str(self.server.kubeconfig), "--cache-dir", str(self.home / "cache"), *args],
            input=input, capture_output=True, text=True, timeout=timeout,
            env={"HOME": str(self.home), "PATH": "/usr/local/bin:/usr/bin:/bin"},
        )

    def ok(self, *args: str, input: str | None = None) -> str:
        result = self(*args, input=input)
        assert result.returncode == 0, f"kubectl {' '.join(args)} failed ({result.returncode}):\n{result.stderr}"
        return result.stdout


@pytest.fixture
def kubectl(api_server: ApiServerProcess, tmp_path: Path) -> Kubectl:
    if shutil.which("kubectl") is None:
        pytest.skip("the stock kubectl is not installed on this machine (it ships with the machine image)")
    return Kubectl(api_server, tmp_path)


@pytest.fixture
def namespace(kubectl: Kubectl) -> Iterator[str]:
    """A fresh namespace per test so tests sharing one server don't see each other."""
    name = f"t-{uuid.uuid4().hex[:8]}"
    kubectl.ok("create", "-f", "-", input=f'{{"apiVersion":"v1","kind":"Namespace","metadata":{{"name":"{name}"}}}}')
    yield name
