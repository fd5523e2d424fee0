"""Health endpoints as Kubernetes' server answers them, against a real etcd that is stopped
and started again: a server whose storage is gone is not ready and says which check failed."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.fixtures.apiserver import ApiServerProcess, running_api_server
from tests.fixtures.etcd import EtcdServer


@pytest.fixture
def etcd(tmp_path: Path) -> Iterator[EtcdServer]:
    with EtcdServer(tmp_path / "etcd") as server:  # started, and stopped by PID on the way out
        yield server


@pytest.fixture
def api(etcd: EtcdServer, tmp_path: Path) -> Iterator[ApiServerProcess]:
    yield from running_api_server(tmp_path / "api", f"etcd://{etcd.endpoint}")


def get(api: ApiServerProcess, path: str) -> requests.Response:
    return requests.get(api.url + path, timeout=15)


@pytest.mark.etcd
def test_health_follows_etcd(api: ApiServerProcess, etcd: EtcdServer) -> None:
    assert get(api, "/readyz").text == "ok"
    verbose = get(api, "/readyz?verbose")
    assert verbose.status_code == 200
    assert verbose.text.splitlines() == ["[+]ping ok", "[+]log ok", "[+]etcd ok", "[+]etcd-readiness ok",
                                         "[+]informer-sync ok", "[+]shutdown ok", "readyz check passed"]
    assert get(api, "/livez?verbose").text.splitlines()[-1] == "livez check passed"

    etcd.stop(keep_data=True)
    for path in ("/readyz", "/healthz", "/livez"):
        answer = get(api, path)
        assert answer.status_code == 500, path
        assert "[-]etcd failed: reason withheld" in answer.text
        assert answer.text.endswith("check failed\n")
    single = get(api, "/readyz/etcd")
    assert single.status_code == 500 and single.text.startswith("internal server error: error getting data")
    excluded = get(api, "/readyz?exclude=etcd&exclude=etcd-readiness")
    assert excluded.status_code == 200 and excluded.text == "ok"

    etcd.start()
    deadline = time.monotonic() + 30
    while get(api, "/readyz").status_code != 200:  # the probe reconnects; wait for that, bounded
        assert time.monotonic() < deadline, "the API server did not become ready after etcd came back"
        time.sleep(0.2)
    assert get(api, "/readyz/etcd").text == "ok"


def test_unknown_check_is_not_found(tmp_path: Path) -> None:
    for api in running_api_server(tmp_path / "api"):
        assert get(api, "/readyz/nope").status_code == 404
        assert get(api, "/healthz/ping").text == "ok"
