"""Pure pieces of the aggregation layer: ordering, conditions, service checks, resolution,
discovery conversion and the Table row, pinned to kube-aggregator's behaviour."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from apiserver.aggregator import apiservices as api
from apiserver.aggregator.proxy import upstream_headers
from apiserver.aggregator.resolve import Location, Unresolvable, locate, precheck
from apiserver.discovery import aggregated_from_legacy
from apiserver.printers import to_table
from apiserver.resources import group_versions, lookup

REF = {"namespace": "ns", "name": "api", "port": 443}
CLUSTER_IP = {"spec": {"type": "ClusterIP", "ports": [{"port": 443, "name": "https"}]}}


def test_every_served_group_version_has_kubernetes_priority() -> None:
    missing = [gv for gv in group_versions() if gv[0] != api.GROUP and gv not in api.LOCAL_PRIORITIES]
    assert missing == []


def test_versions_sort_as_kubernetes_does() -> None:
    versions = ["v1alpha1", "v1", "foo", "v2beta1", "v1beta2", "v2", "v1beta1", "v11alpha2"]
    assert sorted(versions, key=api.kube_version_key) == [
        "v2", "v1", "v2beta1", "v1beta2", "v1beta1", "v11alpha2", "v1alpha1", "foo"]


def test_groups_by_priority_then_name_and_versions_by_priority() -> None:
    def svc(group: str, version: str, gp: int, vp: int) -> dict:
        return {"spec": {"group": group, "version": version, "groupPriorityMinimum": gp, "versionPriority": vp}}
    ordered = api.sorted_by_priority([svc("b.io", "v1", 100, 1), svc("a.io", "v1", 100, 1),
                                      svc("c.io", "v1beta1", 200, 5), svc("c.io", "v1", 200, 5),
                                      svc("c.io", "v2alpha1", 200, 9)])
    assert [(g, [m["spec"]["version"] for m in members]) for g, members in ordered] == [
        ("c.io", ["v2alpha1", "v1", "v1beta1"]), ("a.io", ["v1"]), ("b.io", ["v1"])]


def test_condition_transition_time_moves_only_with_status() -> None:
    status = {"conditions": [{"type": "Available", "status": "False", "reason": "X", "message": "m",
                              "lastTransitionTime": "t0"}]}
    same = api.with_condition(status, {"type": "Available", "status": "False", "reason": "Y", "message": "n",
                                       "lastTransitionTime": "t1"})
    assert same["conditions"] == [{"type": "Available", "status": "False", "reason": "Y", "message": "n",
                                   "lastTransitionTime": "t0"}]
    moved = api.with_condition(status, {"type": "Available", "status": "True", "reason": "Passed",
                                        "message": "all checks passed", "lastTransitionTime": "t1"})
    assert moved["conditions"][0]["lastTransitionTime"] == "t1"


@pytest.mark.parametrize(("service", "endpoints", "reason"), [
    (None, None, "ServiceNotFound"),
    ({"spec": {"ports": [{"port": 8443}]}}, None, "ServicePortError"),
    (CLUSTER_IP, None, "EndpointsNotFound"),
    (CLUSTER_IP, {"subsets": [{"ports": [{"name": "https", "port": 8443}]}]}, "MissingEndpoints"),
    (CLUSTER_IP, {"subsets": [{"addresses": [{"ip": "10.0.0.5"}], "ports": [{"name": "https", "port": 8443}]}]},
     None),
    ({"spec": {"type": "ExternalName", "externalName": "example.org"}}, None, None),
])
def test_precheck(service: dict | None, endpoints: dict | None, reason: str | None) -> None:
    result = precheck(REF, service, endpoints)
    assert (result or {}).get("reason") == reason


def test_locate_picks_a_ready_endpoint_of_the_named_port() -> None:
    endpoints = {"subsets": [{"addresses": [{"ip": "10.0.0.5"}], "ports": [{"name": "https", "port": 8443},
                                                                        {"name": "other", "port": 9}]}]}
    assert locate(REF, CLUSTER_IP, endpoints, random.Random(1)) == Location("10.0.0.5", 8443, "api.ns.svc")
    external = {"spec": {"type": "ExternalName", "externalName": "localhost"}}
    assert locate(REF, external, None).url("/apis") == "https://localhost:443/apis"
    with pytest.raises(Unresolvable, match='no endpoints available for service "api"'):
        locate(REF, CLUSTER_IP, {"subsets": []})


def test_the_callers_credentials_and_claimed_identity_never_travel() -> None:
    headers = upstream_headers({"Authorization": "Bearer x", "X-Remote-User": "admin", "Impersonate-User": "root",
                                "Accept": "application/json", "Connection": "keep-alive"},
                               "system:anonymous", ["system:unauthenticated"], "127.0.0.1")
    assert headers == [("Accept", "application/json"), ("X-Remote-User", "system:anonymous"),
                       ("X-Remote-Group", "system:unauthenticated"), ("X-Forwarded-For", "127.0.0.1")]


def test_legacy_resource_list_becomes_aggregated_entries() -> None:
    document = {"resources": [{"name": "flunders", "singularName": "flunder", "namespaced": True, "kind": "Flunder",
                               "verbs": ["get"], "shortNames": ["fl"]},
                              {"name": "flunders/status", "namespaced": True, "kind": "Flunder", "verbs": ["get"]}]}
    assert aggregated_from_legacy("w.io", "v1", document) == [{
        "resource": "flunders", "singularResource": "flunder", "scope": "Namespaced",
        "responseKind": {"group": "w.io", "version": "v1", "kind": "Flunder"}, "verbs": ["get"], "shortNames": ["fl"],
        "subresources": [{"subresource": "status", "responseKind": {"group": "w.io", "version": "v1",
                                                                    "kind": "Flunder"}, "verbs": ["get"]}]}]


def test_table_row_says_local_or_the_service_and_the_reason_when_not_true() -> None:
    resource = lookup(api.GROUP, "v1", "apiservices")
    assert resource is not None
    now = datetime(2026, 1, 1, tzinfo=UTC)
    meta = {"creationTimestamp": "2025-12-31T23:00:00Z"}
    local = {"metadata": {"name": "v1.apps", **meta}, "spec": {},
             "status": {"conditions": [{"type": "Available", "status": "True", "reason": "Local"}]}}
    remote = {"metadata": {"name": "v1.w.io", **meta}, "spec": {"service": {"namespace": "w", "name": "api"}},
              "status": {"conditions": [{"type": "Available", "status": "False", "reason": "MissingEndpoints"}]}}
    unknown = {"metadata": {"name": "v2.w.io", **meta}, "spec": {"service": {"namespace": "w", "name": "api"}}}
    table = to_table(resource, [local, remote, unknown], now=now)
    assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "Service", "Available", "Age"]
    assert [r["cells"] for r in table["rows"]] == [["v1.apps", "Local", "True", "60m"],
                                                  ["v1.w.io", "w/api", "False (MissingEndpoints)", "60m"],
                                                  ["v2.w.io", "w/api", "Unknown", "60m"]]
