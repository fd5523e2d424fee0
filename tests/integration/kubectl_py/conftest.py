"""A real API server per test module, kubectl-py run in-process against it (fast, and its
stdout/stderr/exit code captured exactly), and the stock kubectl for side-by-side comparisons."""

from __future__ import annotations

import io
import shutil
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from kubectl_py.main import run
from kubectl_py.session import Streams
from tests.fixtures.apiserver import ApiServerProcess


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture(scope="module")
def api_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServerProcess]:
    server = ApiServerProcess(tmp_path_factory.mktemp("kubectl-py-api"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@dataclass
class KubectlPy:
    server: ApiServerProcess
    namespace: str = "default"

    async def __call__(self, *args: str, input: str = "") -> Result:
        out, err = io.StringIO(), io.StringIO()
        argv = ["--kubeconfig", str(self.server.kubeconfig), "-n", self.namespace, *args]
        code = await run(argv, Streams(out=out, err=err, inp=io.StringIO(input)))
        return Result(code, out.getvalue(), err.getvalue())

    async def ok(self, *args: str, input: str = "") -> str:
        result = await self(*args, input=input)
        assert result.code == 0, f"kubectl-py {' '.join(args)} failed ({result.code}):\n{result.err}"
        return result.out


@dataclass
class StockKubectl:
    server: ApiServerProcess
    home: Path
    namespace: str = "default"

    def __call__(self, *args: str, input: str | None = None) -> Result:
        binary = shutil.which("kubectl")
        assert binary
        proc = subprocess.run(
            [binary, "--kubeconfig", str(self.server.kubeconfig), "--cache-dir", str(self.home / "cache"),
             "-n", self.namespace, *args],
            input=input, capture_output=True, text=True, timeout=60,
            env={"HOME": str(self.home), "PATH": "/usr/local/bin:/usr/bin:/bin"})
        err = "\n".join(line for line in proc.stderr.splitlines(keepends=False)
                        if not line.startswith("warning: error calculating patch from openapi"))
        return Result(proc.returncode, proc.stdout, err + ("\n" if err else ""))


@pytest.fixture
async def namespace(api_server: ApiServerProcess) -> AsyncIterator[str]:
    """A fresh namespace per test, so tests sharing one server never see each other's objects."""
    name = f"kp-{uuid.uuid4().hex[:8]}"
    await KubectlPy(api_server).ok("create", "namespace", name)
    yield name


@pytest.fixture
def kp(api_server: ApiServerProcess, namespace: str) -> KubectlPy:
    return KubectlPy(api_server, namespace)


@pytest.fixture
def kubectl(api_server: ApiServerProcess, namespace: str, tmp_path: Path) -> StockKubectl:
    if shutil.which("kubectl") is None:
        pytest.skip("the stock kubectl is not installed on this machine")
    return StockKubectl(api_server, tmp_path, namespace)


def deployment_yaml(name: str, image: str = "nginx:1.25", replicas: int = 2, extra_label: str = "") -> str:
    label = f"\n    tier: {extra_label}" if extra_label else ""
    return f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  labels:
    app: {name}{label}
spec:
  replicas: {replicas}
  selector:
    matchLabels:
      app: {name}
  template:
    metadata:
      labels:
        app: {name}
    spec:
      containers:
      - name: web
        image: {image}
        ports:
        - containerPort: 80
"""


def service_yaml(name: str) -> str:
    return f"""apiVersion: v1
kind: Service
metadata:
  name: {name}
spec:
  selector:
    app: {name}
  ports:
  - port: 80
"""
