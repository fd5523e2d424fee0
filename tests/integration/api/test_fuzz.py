"""Fuzzing the API server: hypothesis over bodies, query parameters, content types and
encodings on every served resource (tests/fixtures/fuzzing.py). No answer may be a 5xx other
than Kubernetes' own, no connection may drop, and the server must stay responsive."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests as http
from hypothesis import HealthCheck, given, settings

from tests.fixtures.apiserver import ApiServerProcess, running_api_server
from tests.fixtures.fuzzing import NAMESPACE, FuzzRequest, is_server_bug, requests


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServerProcess]:
    yield from running_api_server(tmp_path_factory.mktemp("fuzz"))


@pytest.fixture(scope="module")
def session(fuzz_server: ApiServerProcess) -> Iterator[http.Session]:
    with http.Session() as s:
        s.post(f"{fuzz_server.url}/api/v1/namespaces",
               json={"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}}, timeout=10)
        yield s


def send(session: http.Session, base: str, req: FuzzRequest) -> http.Response:
    return session.request(req.method, req.url(base), headers=req.headers, data=req.body,
                           timeout=20)


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(req=requests())
def test_no_server_errors(fuzz_server: ApiServerProcess, session: http.Session, req: FuzzRequest) -> None:
    try:
        response = send(session, fuzz_server.url, req)
    except http.ConnectionError as exc:
        pytest.fail(f"connection dropped for {req.describe()}: {exc}\n{fuzz_server.log_tail()}")
    assert not is_server_bug(response.status_code, response.content), \
        f"{response.status_code} for {req.describe()}:\n{response.content[:500]!r}\n{fuzz_server.log_tail()}"


def test_server_stays_responsive(fuzz_server: ApiServerProcess, session: http.Session) -> None:
    """After the fuzzing above (same module), plain reads still answer promptly."""
    started = time.monotonic()
    assert session.get(f"{fuzz_server.url}/readyz", timeout=10).status_code == 200
    assert session.get(f"{fuzz_server.url}/api/v1/namespaces/{NAMESPACE}", timeout=10).status_code == 200
    assert time.monotonic() - started < 10  # a bound on the wait, not a speed claim
    assert "unhandled error" not in Path(fuzz_server.log_path).read_text(errors="replace")
