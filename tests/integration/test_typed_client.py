"""The typed client against a real API server: models in, models out, same semantics."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from apimachinery.errors import StatusError
from apimachinery.models import Deployment, Namespace, Pod
from kubeclient.rest import ApiClient
from kubeclient.typed import TypedClient, resource_for
from tests.fixtures.apiserver import ApiServerProcess, running_api_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServerProcess]:
    yield from running_api_server(Path(tmp_path_factory.mktemp("typed")))


@pytest.fixture
async def typed(server: ApiServerProcess) -> AsyncIterator[TypedClient]:
    async with ApiClient(server.url) as api:
        yield TypedClient(api)


def test_models_map_to_their_resources() -> None:
    assert resource_for(Deployment).plural == "deployments" and resource_for(Deployment).group == "apps"
    assert resource_for(Pod).plural == "pods" and resource_for(Namespace).namespaced is False


async def test_create_get_list_update_delete_with_models(typed: TypedClient) -> None:
    ns = f"typed-{uuid.uuid4().hex[:6]}"
    await typed.create(Namespace.model_validate({"metadata": {"name": ns}}))
    web = Deployment.model_validate({
        "metadata": {"name": "web", "namespace": ns},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": [{"name": "web", "image": "busybox:1.36"}]}}}})
    created = await typed.create(web)
    assert created.metadata is not None and created.metadata.uid and created.metadata.generation == 1
    assert created.spec is not None and created.spec.strategy is not None  # defaults came back typed

    fetched = await typed.get(Deployment, "web", ns)
    assert fetched.spec is not None and fetched.spec.replicas == 2
    fetched.spec.replicas = 5
    updated = await typed.update(fetched)
    assert updated.spec is not None and updated.spec.replicas == 5
    assert updated.metadata is not None and updated.metadata.generation == 2

    listed = await typed.list(Deployment, ns, label_selector="")
    assert [d.metadata.name for d in listed if d.metadata] == ["web"]

    with pytest.raises(StatusError) as stale:
        await typed.update(fetched)  # fetched still carries the old resourceVersion
    assert stale.value.code == 409

    await typed.delete(Deployment, "web", ns)
    with pytest.raises(StatusError) as gone:
        await typed.get(Deployment, "web", ns)
    assert gone.value.code == 404
