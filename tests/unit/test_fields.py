"""apimachinery.fields against Kubernetes' fields.ParseSelector (escapes, sorting, errors) and the
per-kind selectable fields and `field label not supported` refusals (semantics.md §1.8)."""

from __future__ import annotations

from typing import Any

import pytest

from apimachinery.fields import (
    FieldSelector,
    FieldSelectorError,
    check_supported,
    escape_value,
    parse_field_selector,
    selectable_fields,
    supported_fields,
)


@pytest.mark.parametrize(("text", "requirements", "canonical"), [
    ("spec.nodeName=n1", [("spec.nodeName", "=", "n1")], "spec.nodeName=n1"),
    ("spec.nodeName==n1", [("spec.nodeName", "=", "n1")], "spec.nodeName=n1"),
    ("status.phase!=Succeeded,status.phase!=Failed",
     [("status.phase", "!=", "Failed"), ("status.phase", "!=", "Succeeded")],
     "status.phase!=Failed,status.phase!=Succeeded"),  # terms are sorted
    ("spec.nodeName=", [("spec.nodeName", "=", "")], "spec.nodeName="),
    ("a!=", [("a", "!=", "")], "a!="),
    ("a=b\\,c", [("a", "=", "b,c")], "a=b\\,c"),
    ("a=b\\=c", [("a", "=", "b=c")], "a=b\\=c"),
    ("a=b\\\\", [("a", "=", "b\\")], "a=b\\\\"),
    ("a=x,b=y", [("a", "=", "x"), ("b", "=", "y")], "a=x,b=y"),
    ("a=x,,b=y,", [("a", "=", "x"), ("b", "=", "y")], "a=x,b=y"),  # empty terms are skipped
    ("a = b", [("a ", "=", " b")], "a = b"),  # no trimming, as in Go
    ("=x", [("", "=", "x")], "=x"),
    ("", [], ""),
])
def test_parse(text: str, requirements: list[tuple[str, str, str]], canonical: str) -> None:
    selector = parse_field_selector(text)
    assert list(selector.requirements) == requirements
    assert str(selector) == canonical
    assert selector.empty() is (not requirements)


@pytest.mark.parametrize(("text", "message"), [
    ("abc", "invalid selector: 'abc'; can't understand 'abc'"),
    ("a=b,c", "invalid selector: 'a=b,c'; can't understand 'c'"),
    ("a=b=c", "invalid field selector: unescaped character in value: 61"),
    ("a==b,c", "invalid selector: 'a==b,c'; can't understand 'c'"),
    ("a=b\\x", "invalid field selector: invalid escape sequence: \\x"),
    ("a=b\\", "invalid field selector: invalid escape sequence: \\"),
    ("a!", "invalid selector: 'a!'; can't understand 'a!'"),
])
def test_parse_errors(text: str, message: str) -> None:
    with pytest.raises(FieldSelectorError) as info:
        parse_field_selector(text)
    assert str(info.value) == message


@pytest.mark.parametrize("bad", [None, 3, ("a", "=", "b")])
def test_non_string_selector_raises(bad: object) -> None:
    with pytest.raises(FieldSelectorError):
        parse_field_selector(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad_terms", [(("a", "<", "b"),), (("a", "="),), ((1, "=", "b"),)])
def test_malformed_selector_objects_raise(bad_terms: tuple) -> None:
    with pytest.raises(FieldSelectorError):
        FieldSelector(bad_terms)


@pytest.mark.parametrize(("value", "escaped"), [("a,b", "a\\,b"), ("a=b", "a\\=b"), ("a\\b", "a\\\\b"), ("", "")])
def test_escape_round_trip(value: str, escaped: str) -> None:
    assert escape_value(value) == escaped
    assert parse_field_selector(f"f={escaped}").requirements == (("f", "=", value),)


@pytest.mark.parametrize(("text", "fields", "matches"), [
    ("spec.nodeName=n1", {"spec.nodeName": "n1"}, True),
    ("spec.nodeName=n1", {"spec.nodeName": "n2"}, False),
    ("spec.nodeName=", {"spec.nodeName": ""}, True),
    ("spec.nodeName=", {}, True),  # a missing field reads as ""
    ("spec.nodeName!=", {"spec.nodeName": "n1"}, True),
    ("status.phase!=Succeeded,status.phase!=Failed", {"status.phase": "Running"}, True),
    ("status.phase!=Succeeded,status.phase!=Failed", {"status.phase": "Failed"}, False),
    ("spec.clusterIP!=None", {"spec.clusterIP": "None"}, False),
    ("", {"anything": "x"}, True),
])
def test_matches(text: str, fields: dict[str, str], matches: bool) -> None:
    assert parse_field_selector(text).matches(fields) is matches


def test_fields_lists_names() -> None:
    assert parse_field_selector("a=1,b!=2,a!=3").fields() == {"a", "b"}


POD: dict[str, Any] = {
    "metadata": {"name": "web-1", "namespace": "default"},
    "spec": {"nodeName": "n1", "restartPolicy": "Always", "schedulerName": "default-scheduler",
             "serviceAccountName": "default", "hostNetwork": True},
    "status": {"phase": "Running", "podIP": "10.0.0.9", "podIPs": [{"ip": "10.0.0.9"}, {"ip": "fd00::9"}],
               "nominatedNodeName": "n2"},
}
EVENT: dict[str, Any] = {
    "metadata": {"name": "web.1", "namespace": "default"},
    "involvedObject": {"kind": "Pod", "namespace": "default", "name": "web", "uid": "u1", "apiVersion": "v1",
                       "resourceVersion": "7", "fieldPath": "spec.containers{app}"},
    "reason": "Started", "reportingComponent": "kubelet", "source": {"component": "kubelet"}, "type": "Normal",
}


@pytest.mark.parametrize(("kind", "obj", "expected"), [
    ("Pod", POD, {"metadata.name": "web-1", "metadata.namespace": "default", "spec.nodeName": "n1",
                  "spec.restartPolicy": "Always", "spec.schedulerName": "default-scheduler",
                  "spec.serviceAccountName": "default", "spec.hostNetwork": "true", "status.phase": "Running",
                  "status.podIP": "10.0.0.9", "status.nominatedNodeName": "n2"}),
    ("Pod", {"metadata": {"name": "p"}}, {"metadata.name": "p", "metadata.namespace": "", "spec.nodeName": "",
                                          "spec.restartPolicy": "", "spec.schedulerName": "",
                                          "spec.serviceAccountName": "", "spec.hostNetwork": "false",
                                          "status.phase": "", "status.podIP": "", "status.nominatedNodeName": ""}),
    ("Pod", {"metadata": {"name": "p"}, "status": {"podIP": "10.1.1.1"}},
     {"metadata.name": "p", "metadata.namespace": "", "spec.nodeName": "", "spec.restartPolicy": "",
      "spec.schedulerName": "", "spec.serviceAccountName": "", "spec.hostNetwork": "false", "status.phase": "",
      "status.podIP": "10.1.1.1", "status.nominatedNodeName": ""}),
    ("Node", {"metadata": {"name": "n1"}, "spec": {"unschedulable": True}},
     {"metadata.name": "n1", "spec.unschedulable": "true"}),
    ("Node", {"metadata": {"name": "n1"}}, {"metadata.name": "n1", "spec.unschedulable": "false"}),
    ("ReplicaSet", {"metadata": {"name": "rs", "namespace": "d"}, "status": {"replicas": 3}},
     {"metadata.name": "rs", "metadata.namespace": "d", "status.replicas": "3"}),
    ("ReplicaSet", {"metadata": {"name": "rs", "namespace": "d"}},
     {"metadata.name": "rs", "metadata.namespace": "d", "status.replicas": "0"}),  # Go's strconv.Itoa(0)
    ("Job", {"metadata": {"name": "j", "namespace": "d"}, "status": {"succeeded": 2}},
     {"metadata.name": "j", "metadata.namespace": "d", "status.successful": "2"}),
    ("Event", EVENT, {"metadata.name": "web.1", "metadata.namespace": "default", "involvedObject.kind": "Pod",
                      "involvedObject.namespace": "default", "involvedObject.name": "web",
                      "involvedObject.uid": "u1", "involvedObject.apiVersion": "v1",
                      "involvedObject.resourceVersion": "7", "involvedObject.fieldPath": "spec.containers{app}",
                      "reason": "Started", "reportingComponent": "kubelet", "source": "kubelet",
                      "type": "Normal"}),
    ("Namespace", {"metadata": {"name": "ns"}, "status": {"phase": "Active"}},
     {"metadata.name": "ns", "status.phase": "Active"}),
    ("Service", {"metadata": {"name": "s", "namespace": "d"}, "spec": {"clusterIP": "None", "type": "ClusterIP"}},
     {"metadata.name": "s", "metadata.namespace": "d", "spec.clusterIP": "None", "spec.type": "ClusterIP"}),
    ("Deployment", {"metadata": {"name": "d", "namespace": "x"}}, {"metadata.name": "d", "metadata.namespace": "x"}),
    ("Endpoints", {"metadata": {"name": "e", "namespace": "x"}}, {"metadata.name": "e", "metadata.namespace": "x"}),
    ("Lease", {"metadata": {"name": "l", "namespace": "x"}}, {"metadata.name": "l", "metadata.namespace": "x"}),
])
def test_selectable_fields(kind: str, obj: dict[str, Any], expected: dict[str, str]) -> None:
    assert selectable_fields(kind, obj) == expected


@pytest.mark.parametrize(("event", "source"), [
    ({"source": {"component": "kubelet"}, "reportingComponent": "other"}, "kubelet"),
    ({"reportingComponent": "scheduler"}, "scheduler"),  # empty source.component falls back
    ({}, ""),
])
def test_event_source_field(event: dict[str, Any], source: str) -> None:
    assert selectable_fields("Event", event)["source"] == source


@pytest.mark.parametrize(("kind", "selector"), [
    ("Pod", "spec.nodeName=n1,status.phase!=Failed,metadata.namespace=d,spec.hostNetwork=true"),
    ("Pod", "status.podIP=10.0.0.1,status.nominatedNodeName=,spec.schedulerName=x,spec.serviceAccountName=y"),
    ("Node", "metadata.name=n1,spec.unschedulable=false"),
    ("ReplicaSet", "status.replicas=0"),
    ("Job", "status.successful=1"),
    ("Event", "involvedObject.name=web,involvedObject.kind=Pod,reason=Started,source=kubelet,type=Warning"),
    ("Event", "involvedObject.uid=u,involvedObject.apiVersion=v1,involvedObject.resourceVersion=1,"
              "involvedObject.fieldPath=x,involvedObject.namespace=d,reportingComponent=k"),
    ("Namespace", "status.phase=Active"),
    ("Service", "spec.clusterIP!=None,spec.type=NodePort"),
    ("Deployment", "metadata.name=web"),
    ("Lease", "metadata.namespace=kube-node-lease"),
    ("Pod", ""),
])
def test_supported_fields_pass(kind: str, selector: str) -> None:
    check_supported(kind, parse_field_selector(selector))
    assert set(parse_field_selector(selector).fields()) <= set(supported_fields(kind))


@pytest.mark.parametrize(("kind", "selector", "field"), [
    ("Deployment", "spec.replicas=3", "spec.replicas"),
    ("Node", "metadata.namespace=x", "metadata.namespace"),  # cluster-scoped kinds have no namespace field
    ("Namespace", "metadata.namespace=x", "metadata.namespace"),
    ("Pod", "spec.unschedulable=true", "spec.unschedulable"),
    ("Pod", "metadata.name=a,status.hostIP=1.2.3.4", "status.hostIP"),
    ("Pod", "spec.nodeName =n1", "spec.nodeName "),
    ("Service", "status.phase=x", "status.phase"),
    ("Endpoints", "=x", ""),
])
def test_unsupported_fields_are_refused(kind: str, selector: str, field: str) -> None:
    with pytest.raises(FieldSelectorError) as info:
        check_supported(kind, parse_field_selector(selector))
    assert str(info.value) == f"field label not supported: {field}"


@pytest.mark.parametrize("bad", [None, [], "pod"])
def test_selectable_fields_needs_an_object(bad: object) -> None:
    with pytest.raises(FieldSelectorError):
        selectable_fields("Pod", bad)  # type: ignore[arg-type]
