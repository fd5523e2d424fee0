"""Discovery documents, built from the resource table: /version, aggregated discovery v2
for /api and /apis, and the legacy APIVersions / APIGroupList / APIResourceList documents.

kubectl recognises the aggregated form only by the response Content-Type
(`AGGREGATED_CONTENT_TYPE`), and /api and /apis must use the same form (kubectl-wire §3).
"""

from __future__ import annotations

from typing import Any

from apiserver.resources import RESOURCES, ResourceInfo, group_versions

AGGREGATED_CONTENT_TYPE = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
Obj = dict[str, Any]


def version_info() -> Obj:
    """major "1", minor "32": the stock kubectl dispatcher picks its bundled binary by this."""
    return {"major": "1", "minor": "32", "gitVersion": "v1.32.0", "gitCommit": "0" * 40, "gitTreeState": "clean",
            "buildDate": "2025-01-01T00:00:00Z", "goVersion": "go1.23.4", "compiler": "gc", "platform": "linux/amd64"}


def _of(group: str, version: str) -> list[ResourceInfo]:
    return [r for r in RESOURCES if (r.group, r.version) == (group, version)]


def _aggregated_resource(r: ResourceInfo) -> Obj:
    entry: Obj = {"resource": r.plural, "singularResource": r.singular,
                  "scope": "Namespaced" if r.namespaced else "Cluster",
                  "responseKind": {"group": r.group, "version": r.version, "kind": r.kind},
                  "verbs": sorted(r.verbs)}
    if r.short_names:
        entry["shortNames"] = list(r.short_names)
    if r.categories:
        entry["categories"] = list(r.categories)
    if r.subresources:
        entry["subresources"] = [
            {"subresource": s.name, "responseKind": {"group": s.group or r.group, "version": s.version or r.version,
                                                     "kind": s.kind}, "verbs": list(s.verbs)}
            for s in r.subresources]
    return entry


def aggregated_discovery(core: bool) -> Obj:
    items = []
    for group, version in group_versions():
        if bool(group) == core:
            continue
        items.append({"metadata": {"name": group},
                      "versions": [{"version": version, "freshness": "Current",
                                    "resources": [_aggregated_resource(r) for r in _of(group, version)]}]})
    return {"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": {}, "items": items}


def legacy_api_versions(server_address: str) -> Obj:
    return {"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}]}


def api_group(group: str) -> Obj:
    versions = [{"groupVersion": f"{g}/{v}", "version": v} for g, v in group_versions() if g == group]
    return {"kind": "APIGroup", "apiVersion": "v1", "name": group, "versions": versions,
            "preferredVersion": versions[0] if versions else {}}


def legacy_api_group_list() -> Obj:
    groups = []
    for group in dict.fromkeys(g for g, _ in group_versions() if g):
        doc = api_group(group)
        doc.pop("kind")
        doc.pop("apiVersion")
        groups.append(doc)
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def legacy_resource_list(group: str, version: str) -> Obj:
    resources: list[Obj] = []
    for r in _of(group, version):
        entry: Obj = {"name": r.plural, "singularName": r.singular, "namespaced": r.namespaced, "kind": r.kind,
                      "verbs": sorted(r.verbs)}
        if r.short_names:
            entry["shortNames"] = list(r.short_names)
        if r.categories:
            entry["categories"] = list(r.categories)
        resources.append(entry)
        for s in r.subresources:
            sub: Obj = {"name": f"{r.plural}/{s.name}", "singularName": "", "namespaced": r.namespaced,
                        "kind": s.kind, "verbs": list(s.verbs)}
            if s.group:
                sub["group"], sub["version"] = s.group, s.version
            resources.append(sub)
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": f"{group}/{version}" if group else version,
            "resources": resources}
