"""Resource names → REST mappings, from the server's discovery documents.

kubectl resolves `deploy`, `deployments.apps`, `Deployment` and the `all` category through
discovery, so a server that adds a kind needs no new client. kubectl-py does the same (aggregated
discovery first, then the legacy per-group documents) and falls back to kube-py's own resource
table when discovery cannot be read, so offline unit tests and half-built servers still work.
One `Resolver` lives for one command invocation: no cache on disk, no module-level state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from apimachinery.errors import StatusError
from apimachinery.resources import RESOURCES, ResourceInfo
from kubeclient.rest import ApiClient
from kubectl_py.errors import CliError

AGGREGATED_ACCEPT = ("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
                     "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json")


def unknown_resource(name: str) -> CliError:
    return CliError(f'the server doesn\'t have a resource type "{name}"')


def _from_aggregated(doc: dict[str, Any]) -> list[ResourceInfo]:
    found: list[ResourceInfo] = []
    for group in doc.get("items") or []:
        group_name = (group.get("metadata") or {}).get("name", "")
        versions = group.get("versions") or []
        if not versions:
            continue
        version = versions[0]  # the preferred version comes first
        for res in version.get("resources") or []:
            kind = (res.get("responseKind") or {}).get("kind", "")
            found.append(ResourceInfo(
                group_name, version.get("version", "v1"), kind, res.get("resource", ""),
                res.get("singularResource", "") or kind.lower(), res.get("scope") == "Namespaced",
                tuple(res.get("shortNames") or ()), tuple(res.get("categories") or ()),
                verbs=tuple(res.get("verbs") or ())))
    return found


def _from_resource_list(doc: dict[str, Any], group: str, version: str) -> list[ResourceInfo]:
    found: list[ResourceInfo] = []
    for res in doc.get("resources") or []:
        name = res.get("name", "")
        if "/" in name:
            continue
        found.append(ResourceInfo(group, version, res.get("kind", ""), name,
                                  res.get("singularName", "") or res.get("kind", "").lower(),
                                  bool(res.get("namespaced")), tuple(res.get("shortNames") or ()),
                                  tuple(res.get("categories") or ()), verbs=tuple(res.get("verbs") or ())))
    return found


def _is_aggregated(content_type: str) -> bool:
    return "as=APIGroupDiscoveryList" in content_type.replace(" ", "")


@dataclass
class Resolver:
    api: ApiClient | None
    _resources: list[ResourceInfo] | None = field(default=None)
    from_server: bool = False

    async def resources(self) -> list[ResourceInfo]:
        if self._resources is None:
            self._resources = await self._discover()
        return self._resources

    async def _discover(self) -> list[ResourceInfo]:
        if self.api is None:
            return list(RESOURCES)
        try:
            found: list[ResourceInfo] = []
            for path in ("/api", "/apis"):
                resp = await self.api.request("GET", path, headers={"Accept": AGGREGATED_ACCEPT})
                if _is_aggregated(resp.headers.get("Content-Type", "")):
                    found += _from_aggregated(resp.json() or {})
                else:
                    found += await self._legacy(path, resp.json() or {})
        except StatusError as exc:
            if exc.code == 503:
                raise
            return list(RESOURCES)
        self.from_server = True
        return found or list(RESOURCES)

    async def _legacy(self, path: str, doc: dict[str, Any]) -> list[ResourceInfo]:
        assert self.api is not None
        found: list[ResourceInfo] = []
        if path == "/api":
            for version in doc.get("versions") or []:
                found += _from_resource_list((await self.api.request("GET", f"/api/{version}")).json(), "", version)
            return found
        for group in doc.get("groups") or []:
            preferred = (group.get("preferredVersion") or {}).get("version") or \
                ((group.get("versions") or [{}])[0]).get("version", "")
            resp = await self.api.request("GET", f"/apis/{group['name']}/{preferred}")
            found += _from_resource_list(resp.json(), group["name"], preferred)
        return found

    async def resolve(self, name: str) -> ResourceInfo:
        """One resource for `deploy`, `deployments.apps`, `deployments.v1.apps`, `Deployment`..."""
        matches = await self.expand(name)
        if len(matches) != 1:
            raise unknown_resource(name)
        return matches[0]

    async def expand(self, name: str) -> list[ResourceInfo]:
        """A resource name or a category (`all`) → the resources it stands for."""
        resources = await self.resources()
        wanted, group, version = name.lower(), "", ""
        if "." in wanted:
            wanted, rest = wanted.split(".", 1)
            parts = rest.split(".", 1)
            if len(parts) == 2 and parts[0].startswith("v") and parts[0][1:2].isdigit():
                version, group = parts
            else:
                group = rest
        candidates = [r for r in resources if (not group or r.group == group) and (not version or r.version == version)]
        for matcher in (lambda r: wanted == r.plural, lambda r: wanted == r.singular,
                        lambda r: wanted in r.short_names, lambda r: wanted == r.kind.lower()):
            hits = [r for r in candidates if matcher(r)]
            if hits:
                return hits[:1]
        if not group:
            in_category = [r for r in resources if wanted in r.categories]
            if in_category:
                return in_category
        raise unknown_resource(name)

    async def for_kind(self, api_version: str, kind: str) -> ResourceInfo:
        """The mapping for a manifest's apiVersion/kind (kubectl's `no matches for kind` otherwise)."""
        group, _, version = api_version.rpartition("/")
        for r in await self.resources():
            if r.group == group and r.kind == kind:
                return r
        raise CliError(f'no matches for kind "{kind}" in version "{api_version}"')


def display_kind(resource: ResourceInfo) -> str:
    """`deployment.apps`, `pod`: how kubectl names a kind in `kind/name` output."""
    kind = resource.kind.lower()
    return f"{kind}.{resource.group}" if resource.group else kind


def qualified_resource(resource: ResourceInfo) -> str:
    """`deployments.apps`, `pods`: how Kubernetes names a resource in messages."""
    return f"{resource.plural}.{resource.group}" if resource.group else resource.plural
