"""APIService helpers without I/O: the local APIServices, priority ordering, conditions.

The priorities are kube-apiserver's own table (`apiVersionPriorities`) for the groups kube-py
serves: they order `/apis` and settle name clashes in kubectl's REST mapping, so a new
built-in group needs its Kubernetes entry here (a test checks every served group has one).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

Obj = dict[str, Any]

GROUP = "apiregistration.k8s.io"
VERSION = "v1"
AUTOMANAGED_LABEL = "kube-aggregator.kubernetes.io/automanaged"
# The aggregator's own group is listed first and has no APIService (handler_apis.go).
APIREGISTRATION_PRIORITY = 20001

LOCAL_PRIORITIES: Mapping[tuple[str, str], tuple[int, int]] = {
    ("", "v1"): (18000, 1),
    ("apps", "v1"): (17800, 15),
    ("events.k8s.io", "v1"): (17750, 15),
    ("authentication.k8s.io", "v1"): (17700, 15),
    ("authorization.k8s.io", "v1"): (17600, 15),
    ("autoscaling", "v2"): (17500, 30),
    ("autoscaling", "v1"): (17500, 15),
    ("batch", "v1"): (17400, 15),
    ("certificates.k8s.io", "v1"): (17300, 15),
    ("networking.k8s.io", "v1"): (17200, 15),
    ("policy", "v1"): (17100, 15),
    ("rbac.authorization.k8s.io", "v1"): (17000, 15),
    ("storage.k8s.io", "v1"): (16800, 15),
    ("admissionregistration.k8s.io", "v1"): (16700, 15),
    ("apiextensions.k8s.io", "v1"): (16700, 15),
    ("scheduling.k8s.io", "v1"): (16600, 15),
    ("coordination.k8s.io", "v1"): (16500, 15),
    ("node.k8s.io", "v1"): (16300, 15),
    ("discovery.k8s.io", "v1"): (16200, 15),
    ("flowcontrol.apiserver.k8s.io", "v1"): (16100, 21),
}


def apiservice_name(group: str, version: str) -> str:
    return f"{version}.{group}"


def local_apiservice(group: str, version: str) -> Obj | None:
    """The APIService kube-apiserver registers on start for a group-version it serves itself."""
    priority = LOCAL_PRIORITIES.get((group, version))
    if priority is None:
        return None
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": "APIService",
            "metadata": {"name": apiservice_name(group, version), "labels": {AUTOMANAGED_LABEL: "onstart"}},
            "spec": {"group": group, "version": version, "groupPriorityMinimum": priority[0],
                     "versionPriority": priority[1]}}


def desired_local(served: Iterable[tuple[str, str]]) -> list[Obj]:
    """Local APIServices for the served group-versions (not the aggregator's own group)."""
    wanted = [local_apiservice(g, v) for g, v in served if g != GROUP]
    return [w for w in wanted if w is not None]


def service_of(apiservice: Obj) -> Obj | None:
    service = (apiservice.get("spec") or {}).get("service")
    return service if isinstance(service, dict) else None


def condition(apiservice: Obj, kind: str = "Available") -> Obj | None:
    for cond in (apiservice.get("status") or {}).get("conditions") or []:
        if isinstance(cond, dict) and cond.get("type") == kind:
            return cond
    return None


def is_available(apiservice: Obj) -> bool:
    cond = condition(apiservice)
    return bool(cond) and cond.get("status") == "True"  # type: ignore[union-attr]


def with_condition(status: Obj, new: Obj) -> Obj:
    """SetAPIServiceCondition: lastTransitionTime moves only when the status does."""
    conditions = [dict(c) for c in status.get("conditions") or [] if isinstance(c, dict)]
    for existing in conditions:
        if existing.get("type") == new["type"]:
            if existing.get("status") != new["status"]:
                existing["status"], existing["lastTransitionTime"] = new["status"], new["lastTransitionTime"]
            existing["reason"], existing["message"] = new.get("reason", ""), new.get("message", "")
            break
    else:
        conditions.append(dict(new))
    return {**status, "conditions": conditions}


_KUBE_VERSION = re.compile(r"^v(\d+)(?:(alpha|beta)(\d+))?$")


def kube_version_key(version: str) -> tuple[int, int, int, int, str]:
    """CompareKubeAwareVersionStrings as a sort key: GA before beta before alpha, higher
    numbers first, versions that are not Kubernetes-like last in lexical order."""
    match = _KUBE_VERSION.match(version)
    if not match:
        return (1, 0, 0, 0, version)
    major, stage, minor = int(match.group(1)), match.group(2), int(match.group(3) or 0)
    rank = {None: 0, "beta": 1, "alpha": 2}[stage]
    return (0, rank, -major, -minor, "")


def sorted_by_priority(apiservices: Sequence[Obj]) -> list[tuple[str, list[Obj]]]:
    """SortedByGroupAndVersion: groups by their highest groupPriorityMinimum then name,
    versions within a group by versionPriority then Kubernetes version order."""
    groups: dict[str, list[Obj]] = {}
    for apiservice in apiservices:
        groups.setdefault((apiservice.get("spec") or {}).get("group", ""), []).append(apiservice)

    def group_priority(item: tuple[str, list[Obj]]) -> tuple[int, str]:
        best = max(int((a.get("spec") or {}).get("groupPriorityMinimum") or 0) for a in item[1])
        return (-best, item[0])

    def version_order(apiservice: Obj) -> tuple[int, tuple[int, int, int, int, str]]:
        spec = apiservice.get("spec") or {}
        return (-int(spec.get("versionPriority") or 0), kube_version_key(spec.get("version", "")))

    return [(name, sorted(members, key=version_order)) for name, members in sorted(groups.items(), key=group_priority)]
