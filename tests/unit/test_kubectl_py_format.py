"""kubectl-py's pure formatting: Go's tabwriter, HumanDuration, JSONPath, table decoration,
JSON/YAML as kubectl prints them."""

from __future__ import annotations

import pytest

from kubectl_py import jsonpath
from kubectl_py.printers import TableOptions, as_list, name_line, table_lines, to_json, to_yaml
from kubectl_py.tabwriter import TabWriter, tabbed
from kubectl_py.timeutil import human_duration


def test_tabwriter_pads_columns_but_not_the_last_cell() -> None:
    writer = TabWriter(minwidth=6, padding=3)
    writer.write("NAME\tREADY\tAGE\nweb\t1/1\t5s\nlonger-name\t10/10\t3m\n")
    assert writer.flush() == ("NAME          READY   AGE\n"
                              "web           1/1     5s\n"
                              "longer-name   10/10   3m\n")


def test_tabwriter_column_blocks_end_at_lines_with_fewer_cells() -> None:
    text = "Name:\tweb\nPod Template:\n  Labels:\tapp=web\n  Containers:\n   web:\n    Image:\tnginx\n"
    assert tabbed([line.split("\t") for line in text.splitlines()]) == (
        "Name:  web\nPod Template:\n  Labels:  app=web\n  Containers:\n   web:\n    Image:  nginx\n")


def test_tabwriter_remembers_widths_across_flushes() -> None:
    writer = TabWriter(minwidth=6, padding=3, remember_widths=True)
    writer.write("a-long-name\tx\n")
    writer.flush()
    writer.write("b\ty\n")
    assert writer.flush() == "b             y\n"


@pytest.mark.parametrize(("seconds", "text"), [
    (-5, "<invalid>"), (-1, "0s"), (0, "0s"), (119, "119s"), (120, "2m"), (150, "2m30s"), (600, "10m"),
    (3 * 3600, "3h"), (3 * 3600 + 5 * 60, "3h5m"), (26 * 3600, "26h"), (3 * 86400 + 4 * 3600, "3d4h"),
    (40 * 86400, "40d"), (2 * 365 * 86400 + 5 * 86400, "2y5d"), (9 * 365 * 86400, "9y"),
])
def test_human_duration_buckets(seconds: int, text: str) -> None:
    assert human_duration(seconds) == text


DATA = {"kind": "List", "items": [
    {"metadata": {"name": "a", "labels": {"app.kubernetes.io/name": "x"}},
     "status": {"conditions": [{"type": "Ready", "status": "True"}, {"type": "Other", "status": "False"}]},
     "spec": {"containers": [{"image": "nginx"}, {"image": "busybox"}], "replicas": 2}},
    {"metadata": {"name": "b"}, "spec": {"containers": [{"image": "redis"}], "replicas": 1}},
]}


@pytest.mark.parametrize(("template", "expected"), [
    ("{.items[*].metadata.name}", "a b"),
    ("{.items[0].spec.containers[*].image}", "nginx busybox"),
    ("{.items[-1].metadata.name}", "b"),
    ('{range .items[*]}{.metadata.name}{"\\t"}{.spec.replicas}{"\\n"}{end}', "a\t2\nb\t1\n"),
    ('{.items[0].status.conditions[?(@.type=="Ready")].status}', "True"),
    ("{.items[0].metadata.labels.app\\.kubernetes\\.io/name}", "x"),
    ("{.items[0].metadata.labels}", '{"app.kubernetes.io/name":"x"}'),
    ("{.items[*].nope}", ""),
    ("name: {.items[1].metadata.name}", "name: b"),
    ("{..image}", "nginx busybox redis"),
])
def test_jsonpath_templates(template: str, expected: str) -> None:
    assert jsonpath.execute(template, DATA) == expected


def test_go_sprint_matches_fmt_sprint() -> None:
    assert jsonpath.go_sprint([1, "a", True, None]) == "[1 a true <nil>]"
    assert jsonpath.go_sprint({"b": 1, "a": {"c": 2.5}}) == "map[a:map[c:2.5] b:1]"


TABLE = {
    "kind": "Table",
    "columnDefinitions": [
        {"name": "Name", "type": "string", "format": "name", "priority": 0},
        {"name": "Ready", "type": "string", "format": "", "priority": 0},
        {"name": "IP", "type": "string", "format": "", "priority": 1},
    ],
    "rows": [{"cells": ["web-1", "1/1", "10.0.0.1"],
              "object": {"metadata": {"name": "web-1", "namespace": "prod", "labels": {"b": "2", "a": "1"}}}}],
}


def test_table_decoration_follows_kubectl() -> None:
    assert table_lines(TABLE, TableOptions()) == [["NAME", "READY"], ["web-1", "1/1"]]
    assert table_lines(TABLE, TableOptions(wide=True))[0] == ["NAME", "READY", "IP"]
    decorated = table_lines(TABLE, TableOptions(with_namespace=True, kind_prefix="pod", show_labels=True,
                                                label_columns=["a"]))
    assert decorated == [["NAMESPACE", "NAME", "READY", "A", "LABELS"], ["prod", "pod/web-1", "1/1", "1", "a=1,b=2"]]
    assert table_lines({**TABLE, "rows": []}, TableOptions()) == []


def test_json_and_yaml_match_go() -> None:
    assert to_json({"b": "<&>", "a": []}) == '{\n    "a": [],\n    "b": "\\u003c\\u0026\\u003e"\n}\n'
    assert to_yaml({"metadata": {"annotations": {"rev": "1", "multi": "x\ny\n"}},
                    "items": [{"name": "a"}]}) == (
        'items:\n- name: a\nmetadata:\n  annotations:\n    multi: |\n      x\n      y\n    rev: "1"\n')
    assert as_list([])["items"] == []
    assert name_line("deployment.apps", "web", "created") == "deployment.apps/web created"
