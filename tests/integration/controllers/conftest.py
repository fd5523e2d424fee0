"""A real API server process plus an in-process controller-manager talking to it over HTTP."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from kubeclient.rest import ApiClient
from tests.fixtures.apiserver import ApiServerProcess, running_api_server


@pytest.fixture(scope="module")
def api_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServerProcess]:
    yield from running_api_server(tmp_path_factory.mktemp("controllers-api"))


@pytest.fixture
async def client(api_server: ApiServerProcess) -> AsyncIterator[ApiClient]:
    async with ApiClient(api_server.url) as api:
        yield api


@pytest.fixture
async def namespace(client: ApiClient) -> str:
    name = f"c-{uuid.uuid4().hex[:8]}"
    await client.create("namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    return name


@pytest.fixture
async def run_controllers(client: ApiClient) -> AsyncIterator[Callable[..., None]]:
    """Start the named controllers in the background for the test's duration."""
    from controllers.manager import run_controller_manager

    stop = asyncio.Event()
    tasks: list[asyncio.Task[None]] = []

    def start(*names: str) -> None:
        tasks.append(asyncio.create_task(run_controller_manager(client, list(names), leader_elect=False, stop=stop)))

    yield start
    stop.set()
    await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 30)


@pytest.fixture
def tmp(tmp_path: Path) -> Path:
    return tmp_path
