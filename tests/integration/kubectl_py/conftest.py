"""A real API server per test module, kubectl-py run in-process against it (fast, and its
stdout/stderr/exit code captured exactly), and the stock kubectl for side-by-side comparisons."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.fixtures.apiserver import ApiServerProcess, running_api_server
from tests.fixtures.kubectl import KubectlPy, Result, StockKubectl

__all__ = ["KubectlPy", "Result", "StockKubectl", "deployment_yaml", "service_yaml"]


@pytest.fixture(scope="module")
def api_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServerProcess]:
    yield from running_api_server(tmp_path_factory.mktemp("kubectl-py-api"))


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
