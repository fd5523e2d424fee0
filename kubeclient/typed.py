"""Typed access on top of the dict client: the same verbs, taking and returning the
pydantic models of `apimachinery.models` (client-go's typed clientset, small).

Why: code that builds or reads objects field by field is clearer and checked when it
works on `Deployment.spec.replicas` than on nested dicts; controllers keep dicts for speed
and exact round-trips, tools and tests can use this. `Deployment`'s resource is found from
its kind, so no resource names are repeated.
"""

from __future__ import annotations

from typing import TypeVar

from apimachinery.models import MODELS, TopLevel, to_dict
from apimachinery.resources import RESOURCES, ResourceInfo
from kubeclient.rest import ApiClient

T = TypeVar("T", bound=TopLevel)


def resource_for(model: type[TopLevel]) -> ResourceInfo:
    """The API resource whose objects `model` describes."""
    for (group, kind), candidate in MODELS.items():
        if candidate is model:
            return next(r for r in RESOURCES if r.group == group and r.kind == kind)
    raise KeyError(f"{model.__name__} is not a top-level API type")


class TypedClient:
    def __init__(self, api: ApiClient) -> None:
        self.api = api

    async def get(self, model: type[T], name: str, namespace: str = "") -> T:
        return model.model_validate(await self.api.get(resource_for(model), name, namespace))

    async def list(self, model: type[T], namespace: str = "", *, label_selector: str = "",
                   field_selector: str = "") -> list[T]:
        found = await self.api.list_all(resource_for(model), namespace, label_selector=label_selector,
                                        field_selector=field_selector)
        return [model.model_validate(item) for item in found.get("items") or []]

    async def create(self, obj: T, namespace: str = "") -> T:
        created = await self.api.create(resource_for(type(obj)), to_dict(obj), namespace or _namespace(obj))
        return type(obj).model_validate(created)

    async def update(self, obj: T, namespace: str = "") -> T:
        updated = await self.api.update(resource_for(type(obj)), to_dict(obj), namespace or _namespace(obj))
        return type(obj).model_validate(updated)

    async def update_status(self, obj: T, namespace: str = "") -> T:
        updated = await self.api.update_status(resource_for(type(obj)), to_dict(obj), namespace or _namespace(obj))
        return type(obj).model_validate(updated)

    async def delete(self, model: type[TopLevel], name: str, namespace: str = "") -> None:
        await self.api.delete(resource_for(model), name, namespace)


def _namespace(obj: TopLevel) -> str:
    return (obj.metadata.namespace if obj.metadata else None) or ""
