"""Quantities, selectors, patches and the template hash: table-driven, with kubectl's real
patch shapes (kubectl-wire §8–§9)."""

from __future__ import annotations

import pytest

from apimachinery.fields import FieldSelectorError, check_supported, parse_field_selector, selectable_fields
from apimachinery.hashing import compute_hash
from apimachinery.labels import SelectorError, parse_selector, selector_from_label_selector
from apimachinery.patch import (
    PatchError,
    create_three_way_merge_patch,
    json_merge_patch,
    json_patch,
    strategic_merge_patch,
)
from apimachinery.quantity import QuantityError, parse_quantity


@pytest.mark.parametrize(("text", "canonical", "millis"), [
    ("500m", "500m", 500), ("1.5", "1500m", 1500), ("128Mi", "128Mi", 134217728000), ("1G", "1G", 10**12),
    ("0.5Gi", "512Mi", 536870912000), ("1000m", "1", 1000), ("0.1", "100m", 100), ("2", "2", 2000),
    ("1Ki", "1Ki", 1024000), ("1e3", "1e3", 1000000), ("+1", "1", 1000), ("100u", "100u", 1),
])
def test_quantity_parsing_and_canonical_form(text: str, canonical: str, millis: int) -> None:
    q = parse_quantity(text)
    assert q.canonical() == canonical
    assert q.milli_value() == millis


def test_quantity_arithmetic_is_exact() -> None:
    assert (parse_quantity("0.1") + parse_quantity("0.2")).canonical() == "300m"
    assert (parse_quantity("1Gi") - parse_quantity("512Mi")).canonical() == "512Mi"
    assert parse_quantity("1500m").value_int() == 2


@pytest.mark.parametrize("bad", ["", "1.2.3", "Mi", "1 Mi", "1mm", "1KiB", "abc"])
def test_bad_quantities_raise_typed_errors(bad: str) -> None:
    with pytest.raises(QuantityError, match="quantities must match|unable to parse"):
        parse_quantity(bad)


@pytest.mark.parametrize(("selector", "labels", "matches"), [
    ("app=web", {"app": "web"}, True),
    ("app==web", {"app": "db"}, False),
    ("app!=web", {}, True),  # a missing key matches !=
    ("env in (prod,qa)", {"env": "qa"}, True),
    ("env notin (prod)", {}, True),
    ("track", {"track": ""}, True),
    ("!canary", {"canary": "1"}, False),
    ("app=web,tier!=db", {"app": "web", "tier": "db"}, False),
])
def test_label_selector_matching(selector: str, labels: dict, matches: bool) -> None:
    assert parse_selector(selector).matches(labels) is matches


def test_canonical_string_sorts_by_key() -> None:
    assert str(parse_selector("tier!=db,app=web,!canary,env in (qa,prod)")) == \
        "app=web,!canary,env in (prod,qa),tier!=db"


@pytest.mark.parametrize("bad", ["a=b=c", "=x", "a in (b", "-bad=x"])
def test_bad_selectors_raise_typed_errors(bad: str) -> None:
    with pytest.raises(SelectorError):
        parse_selector(bad)


def test_label_selector_struct_nil_versus_empty() -> None:
    assert not selector_from_label_selector(None).matches({"a": "b"})
    assert selector_from_label_selector({}).matches({"a": "b"})
    expr = {"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["db"]}]}
    assert selector_from_label_selector(expr).matches({})
    with pytest.raises(SelectorError, match='"Near" is not a valid label selector operator'):
        selector_from_label_selector({"matchExpressions": [{"key": "a", "operator": "Near"}]})


def test_field_selectors() -> None:
    pod = {"metadata": {"name": "p", "namespace": "ns"}, "spec": {"nodeName": "n1"}, "status": {"phase": "Running"}}
    fields = selectable_fields("Pod", pod)
    selector = parse_field_selector("spec.nodeName=n1,status.phase!=Succeeded,status.phase!=Failed")
    assert selector.matches(fields)
    assert parse_field_selector("spec.nodeName=").matches(selectable_fields("Pod", {"metadata": {"name": "x"}}))
    with pytest.raises(FieldSelectorError, match="field label not supported: spec.replicas"):
        check_supported("Deployment", parse_field_selector("spec.replicas=3"))


LIVE = {"metadata": {"labels": {"app": "x", "extra": "1"}, "annotations": {"a": "1"}},
        "spec": {"replicas": 2, "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}},
                 "template": {"metadata": {"labels": {"app": "x"}}, "spec": {
                     "containers": [{"name": "a", "image": "nginx:1.25", "env": [{"name": "A"}, {"name": "B"}],
                                     "ports": [{"containerPort": 80}, {"containerPort": 443}]}],
                     "volumes": [{"name": "data", "emptyDir": {}}]}}}}


def test_kubectl_apply_patch_from_the_wire_reference() -> None:
    patch = {"metadata": {"labels": {"extra": None}},
             "spec": {"strategy": {"$retainKeys": ["type"], "rollingUpdate": None, "type": "Recreate"},
                      "template": {"spec": {
                          "$setElementOrder/containers": [{"name": "sidecar"}, {"name": "a"}],
                          "$setElementOrder/volumes": [{"name": "data"}],
                          "containers": [{"image": "busybox:1.36", "name": "sidecar"},
                                         {"$setElementOrder/env": [{"name": "A"}],
                                          "$setElementOrder/ports": [{"containerPort": 80}],
                                          "env": [{"$patch": "delete", "name": "B"}], "name": "a",
                                          "ports": [{"$patch": "delete", "containerPort": 443}]}],
                          "volumes": [{"$retainKeys": ["hostPath", "name"], "emptyDir": None,
                                       "hostPath": {"path": "/var/data"}, "name": "data"}]}}}}
    result = strategic_merge_patch(LIVE, patch, ("apps", "Deployment"))
    spec = result["spec"]["template"]["spec"]
    assert result["metadata"]["labels"] == {"app": "x"}
    assert result["spec"]["strategy"] == {"type": "Recreate"}
    assert [c["name"] for c in spec["containers"]] == ["sidecar", "a"]
    assert spec["containers"][1]["env"] == [{"name": "A"}] and spec["containers"][1]["ports"] == [{"containerPort": 80}]
    assert spec["volumes"] == [{"name": "data", "hostPath": {"path": "/var/data"}}]


def test_set_image_and_rollout_restart_shapes() -> None:
    image = {"spec": {"template": {"spec": {"$setElementOrder/containers": [{"name": "a"}],
                                            "containers": [{"image": "nginx:1.26", "name": "a"}]}}}}
    restarted = {"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": "now"}}}}}
    out = strategic_merge_patch(strategic_merge_patch(LIVE, image), restarted)
    container = out["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "nginx:1.26" and len(container["env"]) == 2
    assert out["spec"]["template"]["metadata"]["annotations"] == {"kubectl.kubernetes.io/restartedAt": "now"}


def test_merge_patch_scale_and_label_removal() -> None:
    out = json_merge_patch(LIVE, {"spec": {"replicas": 5}, "metadata": {"labels": {"extra": None}}})
    assert out["spec"]["replicas"] == 5 and out["metadata"]["labels"] == {"app": "x"}
    assert LIVE["spec"]["replicas"] == 2, "inputs are not mutated"


def test_json_patch_undo_shape_and_errors() -> None:
    undo = [{"op": "replace", "path": "/spec/template", "value": {"metadata": {"labels": {"app": "x"}}, "spec": {}}},
            {"op": "replace", "path": "/metadata/annotations", "value": {"b": "2"}}]
    out = json_patch(LIVE, undo)
    assert out["metadata"]["annotations"] == {"b": "2"} and out["spec"]["template"]["spec"] == {}
    with pytest.raises(PatchError):
        json_patch(LIVE, [{"op": "replace", "path": "/spec/missing", "value": 1}])
    with pytest.raises(PatchError):
        json_patch(LIVE, [{"op": "test", "path": "/spec/replicas", "value": 9}])
    with pytest.raises(PatchError, match="unknown patch"):
        strategic_merge_patch(LIVE, {"$patch": "explode"})


def test_three_way_patch_deletes_what_the_user_removed() -> None:
    original = {"metadata": {"labels": {"app": "x", "tier": "a"}}, "spec": {"replicas": 2}}
    modified = {"metadata": {"labels": {"app": "x"}}, "spec": {"replicas": 3}}
    current = {"metadata": {"labels": {"app": "x", "tier": "a", "added-by-server": "y"}}, "spec": {"replicas": 2}}
    patch = create_three_way_merge_patch(original, modified, current)
    assert patch == {"metadata": {"labels": {"tier": None}}, "spec": {"replicas": 3}}
    assert create_three_way_merge_patch(modified, modified, {**modified}) == {}


def test_template_hash_stability() -> None:
    a = {"metadata": {"labels": {"app": "x"}, "creationTimestamp": None},
         "spec": {"containers": [{"name": "c", "image": "i"}]}}
    b = {"spec": {"containers": [{"image": "i", "name": "c"}]}, "metadata": {"labels": {"app": "x"}}}
    assert compute_hash(a) == compute_hash(b)
    assert compute_hash(a, 1) != compute_hash(a)
    assert set(compute_hash(a)) <= set("bcdfghjklmnpqrstvwxz2456789")
    b["spec"]["containers"][0]["image"] = "j"
    assert compute_hash(a) != compute_hash(b)
