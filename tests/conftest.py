"""Shared fixtures: storage backends (SQLite always, real etcd started per test session)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from apiserver.storage import Storage


@pytest.fixture(params=["sqlite", "etcd"])
async def storage(request: pytest.FixtureRequest, tmp_path) -> AsyncIterator[Storage]:
    """An opened, empty store of each backend kind."""
    if request.param == "sqlite":
        from apiserver.storage.sqlite import SQLiteStorage

        store: Storage = SQLiteStorage(str(tmp_path / "state.db"))
    else:
        from apiserver.storage.etcd import EtcdStorage

        endpoint = request.getfixturevalue("etcd_endpoint")
        store = EtcdStorage([endpoint])
    await store.open()
    try:
        yield store
    finally:
        await store.close()


@pytest.fixture
def etcd_endpoint(tmp_path_factory) -> str:
    """A fresh, private etcd (host:port) for one test; stopped by PID afterwards."""
    from tests.fixtures.etcd import EtcdServer

    server = EtcdServer(tmp_path_factory.mktemp("etcd"))
    server.start()
    try:
        yield server.endpoint
    finally:
        server.stop()
