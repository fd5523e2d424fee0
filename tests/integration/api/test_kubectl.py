"""The stock kubectl 1.32 against our API server, on SQLite and on real etcd.

Each test asserts what kubectl prints or how it exits, because that is what a user sees.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from tests.integration.api.conftest import Kubectl


def deployment(name: str, image: str = "nginx:1.25", replicas: int = 2, **extra_labels: str) -> dict:
    labels = {"app": name, **extra_labels}
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}},
                         "spec": {"containers": [{"name": "web", "image": image, "ports": [{"containerPort": 80}]}]}},
        },
    }


def write_yaml(path: Path, *docs: dict) -> Path:
    path.write_text(yaml.safe_dump_all(docs, sort_keys=False))
    return path


def test_version_reports_1_32(kubectl: Kubectl) -> None:
    out = json.loads(kubectl.ok("version", "-o", "json"))
    assert out["serverVersion"]["major"] == "1"
    assert out["serverVersion"]["minor"] == "32"


def test_api_resources_lists_served_kinds(kubectl: Kubectl) -> None:
    out = kubectl.ok("api-resources")
    lines = {line.split()[0]: line for line in out.splitlines()[1:]}
    for plural in ("pods", "deployments", "replicasets", "jobs", "services", "namespaces", "nodes", "events",
                   "endpoints", "leases"):
        assert plural in lines, out
    assert " po " in f" {lines['pods']} " and "deploy" in lines["deployments"]
    assert "apps/v1" in lines["deployments"] and "true" in lines["deployments"]


def test_apply_create_unchanged_configured(kubectl: Kubectl, namespace: str, tmp_path: Path) -> None:
    manifest = write_yaml(tmp_path / "web.yaml", deployment("web"))
    assert kubectl.ok("apply", "-n", namespace, "-f", str(manifest)).strip() == "deployment.apps/web created"
    assert kubectl.ok("apply", "-n", namespace, "-f", str(manifest)).strip() == "deployment.apps/web unchanged"
    write_yaml(manifest, deployment("web", image="nginx:1.26"))
    assert kubectl.ok("apply", "-n", namespace, "-f", str(manifest)).strip() == "deployment.apps/web configured"
    live = json.loads(kubectl.ok("get", "-n", namespace, "deployment", "web", "-o", "json"))
    assert live["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.26"
    assert live["metadata"]["generation"] == 2
    assert "kubectl.kubernetes.io/last-applied-configuration" in live["metadata"]["annotations"]


def test_apply_removes_fields_dropped_from_the_manifest(kubectl: Kubectl, namespace: str, tmp_path: Path) -> None:
    manifest = write_yaml(tmp_path / "d.yaml", deployment("trim", tier="front"))
    kubectl.ok("apply", "-n", namespace, "-f", str(manifest))
    write_yaml(manifest, deployment("trim"))
    kubectl.ok("apply", "-n", namespace, "-f", str(manifest))
    live = json.loads(kubectl.ok("get", "-n", namespace, "deploy", "trim", "-o", "json"))
    assert live["metadata"]["labels"] == {"app": "trim"}


def test_apply_directory_and_multi_document_file(kubectl: Kubectl, namespace: str, tmp_path: Path) -> None:
    folder = tmp_path / "dir"
    folder.mkdir()
    write_yaml(folder / "a.yaml", deployment("alpha"))
    write_yaml(folder / "b.yaml", deployment("beta"), {
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": "beta"},
        "spec": {"selector": {"app": "beta"}, "ports": [{"port": 80}]}})
    out = kubectl.ok("apply", "-n", namespace, "-f", str(folder))
    assert out.splitlines() == ["deployment.apps/alpha created", "deployment.apps/beta created",
                                "service/beta created"]


def test_get_prints_kubectl_tables(kubectl: Kubectl, namespace: str, tmp_path: Path) -> None:
    kubectl.ok("apply", "-n", namespace, "-f", str(write_yaml(tmp_path / "t.yaml", deployment("tbl"))))
    out = kubectl.ok("get", "-n", namespace, "deployments")
    header, row = out.splitlines()[:2]
    assert header.split() == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    assert row.split()[:4] == ["tbl", "0/2", "0", "0"]
    wide = kubectl.ok("get", "-n", namespace, "deploy", "tbl", "-o", "wide")
    assert wide.splitlines()[0].split() == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE", "CONTAINERS",
                                            "IMAGES", "SELECTOR"]
    assert "app=tbl" in wide
    labels = kubectl.ok("get", "-n", namespace, "deploy", "--show-labels")
    assert "LABELS" in labels.splitlines()[0] and "app=tbl" in labels
    assert kubectl.ok("get", "ns", namespace).split()[3:5] == [namespace, "Active"]


def test_get_output_formats_and_label_selector(kubectl: Kubectl, namespace: str, tmp_path: Path) -> None:
    kubectl.ok("apply", "-n", namespace, "-f",
               str(write_yaml(tmp_path / "s.yaml", deployment("sel-a", tier="front"), deployment("sel-b", tier="back"))))
    as_yaml = yaml.safe_load(kubectl.ok("get", "-n", namespace, "deploy", "sel-a", "-o", "yaml"))
    assert as_yaml["kind"] == "Deployment" and as_yaml["spec"]["strategy"]["type"] == "RollingUpdate"
    as_json = json.loads(kubectl.ok("get", "-n", namespace, "deploy", "-o", "json"))
    assert as_json["kind"] == "List" and len(as_json["items"]) == 2
    names = kubectl.ok("get", "-n", namespace, "deploy", "-l", "tier=back", "-o", "name")
    assert names.split() == ["deployment.apps/sel-b"]
    names = kubectl.ok("get", "-n", namespace, "deploy", "-l", "tier in (front,back),app!=sel-b", "-o", "name")
    assert names.split() == ["deployment.apps/sel-a"]


def test_get_empty_namespace_says_no_resources(kubectl: Kubectl, namespace: str) -> None:
    result = kubectl("get", "-n", namespace, "pods")
    assert result.returncode == 0
    assert result.stderr.strip() == f"No resources found in {namespace} namespace."


def test_watch_sees_an_update(kubectl: Kubectl, namespace: str, tmp_path: Path) -> None:
    kubectl.ok("apply", "-n", namespace, "-f", str(write_yaml(tmp_path / "w.yaml", deployment("watched"))))
    cmd = [*kubectl_base(kubectl), "get", "-n", namespace, "deploy", "watched", "-w", "-o",
           "jsonpath={.metadata.name}={.spec.replicas}{\"\\n\"}"]
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          env={"HOME": str(kubectl.home), "PATH": "/usr/bin:/bin"}) as watcher:
        try:
            assert wait_for_line(watcher, "watched=").strip() == "watched=2"
            kubectl.ok("scale", "-n", namespace, "deploy", "watched", "--replicas=4")
            assert wait_for_line(watcher, "watched=4").strip() == "watched=4"
        finally:
            watcher.kill()


def kubectl_base(kubectl: Kubectl) -> list[str]:
    return ["kubectl", "--kubeconfig", str(kubectl.server.kubeconfig), "--cache-dir", str(kubectl.home / "cache")]


def wait_for_line(proc: subprocess.Popen[str], needle: str, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if needle in line:
            return line
        if not line and proc.poll() is not None:
            break
    raise AssertionError(f"no line with {needle!r} within {timeout}s")


def test_scale_patch_label(kubectl: Kubectl, namespace: str, tmp_path: Path) -> None:
    kubectl.ok("apply", "-n", namespace, "-f", str(write_yaml(tmp_path / "p.yaml", deployment("ops"))))
    assert kubectl.ok("scale", "-n", namespace, "deploy/ops", "--replicas=5").strip() == "deployment.apps/ops scaled"
    assert kubectl.ok("patch", "-n", namespace, "deploy", "ops", "-p",
                      '{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"nginx:1.27"}]}}}}'
                      ).strip() == "deployment.apps/ops patched"
    assert kubectl.ok("patch", "-n", namespace, "deploy", "ops", "--type=json", "-p",
                      '[{"op":"add","path":"/spec/minReadySeconds","value":3}]').strip() \
        == "deployment.apps/ops patched"
    assert kubectl.ok("label", "-n", namespace, "deploy", "ops", "team=blue").strip() == "deployment.apps/ops labeled"
    live = json.loads(kubectl.ok("get", "-n", namespace, "deploy", "ops", "-o", "json"))
    assert live["spec"]["replicas"] == 5
    assert live["spec"]["minReadySeconds"] == 3
    assert live["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.27"
    assert live["spec"]["template"]["spec"]["containers"][0]["ports"] == [{"containerPort": 80, "protocol": "TCP"}]
    assert live["metadata"]["labels"]["team"] == "blue"
    kubectl.ok("label", "-n", namespace, "deploy", "ops", "team-")
    live = json.loads(kubectl.ok("get", "-n", namespace, "deploy", "ops", "-o", "json"))
    assert "team" not in live["metadata"]["labels"]


def test_delete_by_file_and_by_name(kubectl: Kubectl, namespace: str, tmp_path: Path) -> None:
    manifest = write_yaml(tmp_path / "del.yaml", deployment("gone-a"))
    kubectl.ok("apply", "-n", namespace, "-f", str(manifest))
    kubectl.ok("apply", "-n", namespace, "-f", str(write_yaml(tmp_path / "b.yaml", deployment("gone-b"))))
    assert kubectl.ok("delete", "-n", namespace, "-f", str(manifest)).strip() == 'deployment.apps "gone-a" deleted'
    assert kubectl.ok("delete", "-n", namespace, "deploy", "gone-b").strip() == 'deployment.apps "gone-b" deleted'
    result = kubectl("get", "-n", namespace, "deploy", "gone-a")
    assert result.returncode == 1
    assert result.stderr.strip() == 'Error from server (NotFound): deployments.apps "gone-a" not found'


def test_delete_pod_waits_for_removal(kubectl: Kubectl, namespace: str) -> None:
    kubectl.ok("run", "-n", namespace, "solo", "--image=busybox:1.36", "--restart=Never", "--", "sleep", "3600")
    assert kubectl.ok("delete", "-n", namespace, "pod", "solo").strip() == 'pod "solo" deleted'


def test_describe_works_without_controllers(kubectl: Kubectl, namespace: str, tmp_path: Path) -> None:
    kubectl.ok("apply", "-n", namespace, "-f", str(write_yaml(tmp_path / "desc.yaml", deployment("desc"))))
    out = kubectl.ok("describe", "-n", namespace, "deployment", "desc")
    assert "Name:" in out and "desc" in out
    assert "Replicas:" in out and "RollingUpdate" in out
    assert "nginx:1.25" in out
    kubectl.ok("run", "-n", namespace, "dpod", "--image=busybox:1.36", "--restart=Never")
    pod = kubectl.ok("describe", "-n", namespace, "pod", "dpod")
    assert "Status:" in pod and "Pending" in pod


def test_errors_not_found_already_exists_conflict(kubectl: Kubectl, namespace: str, tmp_path: Path) -> None:
    result = kubectl("get", "-n", namespace, "pod", "nope")
    assert result.returncode == 1
    assert result.stderr.strip() == 'Error from server (NotFound): pods "nope" not found'
    manifest = write_yaml(tmp_path / "dup.yaml", deployment("dup"))
    kubectl.ok("create", "-n", namespace, "-f", str(manifest))
    result = kubectl("create", "-n", namespace, "-f", str(manifest))
    assert result.returncode == 1
    assert 'Error from server (AlreadyExists): error when creating' in result.stderr
    assert 'deployments.apps "dup" already exists' in result.stderr
    live = json.loads(kubectl.ok("get", "-n", namespace, "deploy", "dup", "-o", "json"))
    kubectl.ok("scale", "-n", namespace, "deploy", "dup", "--replicas=3")  # moves the resourceVersion on
    stale = write_yaml(tmp_path / "stale.yaml", live)
    result = kubectl("replace", "-n", namespace, "-f", str(stale))
    assert result.returncode == 1
    assert "Error from server (Conflict)" in result.stderr
    assert "the object has been modified; please apply your changes to the latest version and try again" \
        in result.stderr


def test_errors_unknown_field_and_invalid_value(kubectl: Kubectl, namespace: str, tmp_path: Path) -> None:
    bad = deployment("typo")
    bad["spec"]["replicass"] = 3
    result = kubectl("apply", "-n", namespace, "-f", str(write_yaml(tmp_path / "typo.yaml", bad)))
    assert result.returncode == 1
    assert 'strict decoding error: unknown field "spec.replicass"' in result.stderr
    invalid = deployment("invalid")
    invalid["spec"]["template"]["metadata"]["labels"] = {"app": "other"}
    del invalid["spec"]["template"]["spec"]["containers"][0]["image"]
    result = kubectl("apply", "-n", namespace, "-f", str(write_yaml(tmp_path / "inv.yaml", invalid)))
    assert result.returncode == 1
    assert 'The Deployment "invalid" is invalid:' in result.stderr
    assert "spec.template.spec.containers[0].image: Required value" in result.stderr
    assert "`selector` does not match template `labels`" in result.stderr
    assert kubectl("get", "-n", namespace, "deploy", "invalid").returncode == 1


@pytest.mark.parametrize("kind", ["pods", "po", "deploy", "rs", "svc", "ep", "ev", "jobs"])
def test_short_names_resolve(kubectl: Kubectl, namespace: str, kind: str) -> None:
    result = kubectl("get", "-n", namespace, kind)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == f"No resources found in {namespace} namespace."


def test_create_a_list_file(kubectl: Kubectl, namespace: str) -> None:
    """kubectl validates `kind: List` files against /openapi/v2 (protobuf), which must exist."""
    items = [{"apiVersion": "v1", "kind": "Service", "metadata": {"name": f"l{i}"}, "spec": {"ports": [{"port": 80}]}}
             for i in (1, 2)]
    doc = json.dumps({"apiVersion": "v1", "kind": "List", "items": items})
    out = kubectl.ok("create", "-n", namespace, "-f", "-", input=doc)
    assert out.splitlines() == ["service/l1 created", "service/l2 created"]
