"""Discovery documents, built from the resource table: /version, aggregated discovery v2
for /api and /apis, and the legacy APIVersions / APIGroupList / APIResourceList documents.

kubectl recognises the aggregated form only by the response Content-Type
(`AGGREGATED_CONTENT_TYPE`), and /api and /apis must use the same form (kubectl-wire §3).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from apiserver.resources import RESOURCES, ResourceInfo, group_versions

AGGREGATED_CONTENT_TYPE = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
Obj = dict[str, Any]
GroupPriority = Callable[[str], int]


def _no_priority(_group: str) -> int:
    return 0


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


def aggregated_discovery(core: bool, remote: Sequence[tuple[str, str, Obj]] = (),
                         priority: GroupPriority = _no_priority) -> Obj:
    """The APIGroupDiscoveryList; `remote` are (group, version, APIResourceList) of aggregated
    servers, groups ordered by the aggregator's priority (highest first, then by name)."""
    by_group: dict[str, list[Obj]] = {}
    for group, version in group_versions():
        if bool(group) == core:
            continue
        by_group.setdefault(group, []).append({"version": version, "freshness": "Current",
                                               "resources": [_aggregated_resource(r) for r in _of(group, version)]})
    if not core:
        for group, version, document in remote:
            by_group.setdefault(group, []).append({"version": version, "freshness": "Current",
                                                   "resources": aggregated_from_legacy(group, version, document)})
    ordered = sorted(by_group, key=lambda g: (-priority(g), g)) if not core else list(by_group)
    items = [{"metadata": {"name": g}, "versions": by_group[g]} for g in ordered]
    return {"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": {}, "items": items}


def aggregated_from_legacy(group: str, version: str, document: Obj) -> list[Obj]:
    """An aggregated server's APIResourceList in the aggregated form (subresources folded in)."""
    entries: dict[str, Obj] = {}
    listed = [r for r in document.get("resources") or [] if isinstance(r, dict) and r.get("name")]
    for r in listed:
        if "/" in r["name"]:
            continue
        entry: Obj = {"resource": r["name"], "singularResource": r.get("singularName") or "",
                      "scope": "Namespaced" if r.get("namespaced") else "Cluster",
                      "responseKind": {"group": r.get("group") or group, "version": r.get("version") or version,
                                       "kind": r.get("kind", "")},
                      "verbs": list(r.get("verbs") or [])}
        for key in ("shortNames", "categories"):
            if r.get(key):
                entry[key] = list(r[key])
        entries[r["name"]] = entry
    for r in listed:
        parent, _, sub = r["name"].partition("/")
        if sub and parent in entries:
            entries[parent].setdefault("subresources", []).append(
                {"subresource": sub, "responseKind": {"group": r.get("group") or group,
                                                      "version": r.get("version") or version,
                                                      "kind": r.get("kind", "")},
                 "verbs": list(r.get("verbs") or [])})
    return list(entries.values())


def legacy_api_versions(server_address: str) -> Obj:
    return {"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}]}


def api_group(group: str) -> Obj:
    versions = [{"groupVersion": f"{g}/{v}", "version": v} for g, v in group_versions() if g == group]
    return {"kind": "APIGroup", "apiVersion": "v1", "name": group, "versions": versions,
            "preferredVersion": versions[0] if versions else {}}


def legacy_api_group_list(remote: Sequence[Obj] = (), priority: GroupPriority = _no_priority) -> Obj:
    """The APIGroupList: kube-py's groups and `remote` APIGroup entries, by priority."""
    groups: dict[str, Obj] = {}
    for group in dict.fromkeys(g for g, _ in group_versions() if g):
        doc = api_group(group)
        doc.pop("kind")
        doc.pop("apiVersion")
        groups[group] = doc
    for doc in remote:
        groups.setdefault(doc["name"], doc)
    ordered = sorted(groups, key=lambda g: (-priority(g), g))
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": [groups[g] for g in ordered]}


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
