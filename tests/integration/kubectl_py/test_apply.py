"""apply / create / replace / delete -f against a real API server, interoperating with the
stock kubectl both ways."""

from __future__ import annotations

import json
from pathlib import Path

from tests.integration.kubectl_py.conftest import KubectlPy, StockKubectl, deployment_yaml, service_yaml


async def test_apply_created_unchanged_configured(kp: KubectlPy, tmp_path: Path) -> None:
    manifest = tmp_path / "web.yaml"
    manifest.write_text(deployment_yaml("web") + "---\n" + service_yaml("web"))
    assert await kp.ok("apply", "-f", str(manifest)) == "deployment.apps/web created\nservice/web created\n"
    assert await kp.ok("apply", "-f", str(manifest)) == "deployment.apps/web unchanged\nservice/web unchanged\n"
    manifest.write_text(deployment_yaml("web", image="nginx:1.26"))
    assert await kp.ok("apply", "-f", str(manifest)) == "deployment.apps/web configured\n"
    image = await kp.ok("get", "deploy", "web", "-o", "jsonpath={.spec.template.spec.containers[0].image}")
    assert image == "nginx:1.26"


async def test_apply_removes_fields_dropped_from_the_manifest(kp: KubectlPy, tmp_path: Path) -> None:
    manifest = tmp_path / "web.yaml"
    manifest.write_text(deployment_yaml("web", extra_label="frontend"))
    await kp.ok("apply", "-f", str(manifest))
    await kp.ok("label", "deploy", "web", "owner=ops")  # set by someone else: must survive
    manifest.write_text(deployment_yaml("web"))
    assert await kp.ok("apply", "-f", str(manifest)) == "deployment.apps/web configured\n"
    labels = json.loads(await kp.ok("get", "deploy", "web", "-o", "jsonpath={.metadata.labels}"))
    assert labels == {"app": "web", "owner": "ops"}


async def test_last_applied_annotation_matches_the_stock_kubectl(kp: KubectlPy, kubectl: StockKubectl,
                                                                  tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(deployment_yaml("by-kp"))
    (tmp_path / "b.yaml").write_text(deployment_yaml("by-kubectl"))
    await kp.ok("apply", "-f", str(tmp_path / "a.yaml"))
    assert kubectl("apply", "-f", str(tmp_path / "b.yaml")).code == 0
    path = "jsonpath={.metadata.annotations.kubectl\\.kubernetes\\.io/last-applied-configuration}"
    ours = await kp.ok("get", "deploy", "by-kp", "-o", path)
    theirs = await kp.ok("get", "deploy", "by-kubectl", "-o", path)
    assert ours.replace("by-kp", "X") == theirs.replace("by-kubectl", "X")
    assert ours.endswith("\n") and '"annotations":{}' in ours


async def test_apply_interoperates_both_ways(kp: KubectlPy, kubectl: StockKubectl, tmp_path: Path) -> None:
    manifest = tmp_path / "web.yaml"
    manifest.write_text(deployment_yaml("web") + "---\n" + service_yaml("web"))
    await kp.ok("apply", "-f", str(manifest))
    stock = kubectl("apply", "-f", str(manifest))
    assert (stock.code, stock.out) == (0, "deployment.apps/web unchanged\nservice/web unchanged\n")

    manifest.write_text(deployment_yaml("web", image="nginx:1.26") + "---\n" + service_yaml("web"))
    stock = kubectl("apply", "-f", str(manifest))
    assert stock.out == "deployment.apps/web configured\nservice/web unchanged\n"
    assert await kp.ok("apply", "-f", str(manifest)) == "deployment.apps/web unchanged\nservice/web unchanged\n"


async def test_objects_applied_by_either_client_are_identical(kp: KubectlPy, kubectl: StockKubectl,
                                                              tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(deployment_yaml("same"))
    await kp.ok("apply", "-f", str(tmp_path / "a.yaml"), "--change-cause", "x")
    ours = json.loads(await kp.ok("get", "deploy", "same", "-o", "json"))
    await kp.ok("delete", "deploy", "same")
    assert kubectl("apply", "-f", str(tmp_path / "a.yaml")).code == 0
    theirs = json.loads(await kp.ok("get", "deploy", "same", "-o", "json"))
    for obj in (ours, theirs):
        for key in ("uid", "resourceVersion", "creationTimestamp", "generation"):
            obj["metadata"].pop(key, None)
        obj["metadata"]["annotations"].pop("kubernetes.io/change-cause", None)
        obj.pop("status", None)
    assert ours == theirs


async def test_dry_run_client_and_server_change_nothing(kp: KubectlPy, tmp_path: Path) -> None:
    manifest = tmp_path / "web.yaml"
    manifest.write_text(deployment_yaml("dry"))
    assert await kp.ok("apply", "-f", str(manifest), "--dry-run=client") == "deployment.apps/dry created (dry run)\n"
    assert await kp.ok("apply", "-f", str(manifest), "--dry-run=server") == \
        "deployment.apps/dry created (server dry run)\n"
    result = await kp("get", "deploy", "dry")
    assert result.code == 1
    assert result.err == 'Error from server (NotFound): deployments.apps "dry" not found\n'


async def test_apply_directory_recursive_and_stdin(kp: KubectlPy, tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.yaml").write_text(service_yaml("a"))
    (tmp_path / "sub" / "b.json").write_text(json.dumps({"apiVersion": "v1", "kind": "Service",
                                                         "metadata": {"name": "b"},
                                                         "spec": {"ports": [{"port": 81}]}}))
    (tmp_path / "notes.txt").write_text("ignored")
    assert await kp.ok("apply", "-f", str(tmp_path)) == "service/a created\n"
    assert await kp.ok("apply", "-R", "-f", str(tmp_path)) == "service/a unchanged\nservice/b created\n"
    assert await kp.ok("apply", "-f", "-", input=service_yaml("c")) == "service/c created\n"


async def test_create_replace_delete_from_files(kp: KubectlPy, tmp_path: Path) -> None:
    manifest = tmp_path / "svc.yaml"
    manifest.write_text(service_yaml("svc"))
    assert await kp.ok("create", "-f", str(manifest)) == "service/svc created\n"
    again = await kp("create", "-f", str(manifest))
    assert again.code == 1
    assert again.err == ('Error from server (AlreadyExists): error when creating "' + str(manifest) +
                         '": services "svc" already exists\n')
    manifest.write_text(service_yaml("svc").replace("port: 80", "port: 8080"))
    assert await kp.ok("replace", "-f", str(manifest)) == "service/svc replaced\n"
    assert await kp.ok("get", "svc", "svc", "-o", "jsonpath={.spec.ports[0].port}") == "8080"
    assert await kp.ok("delete", "-f", str(manifest)) == 'service "svc" deleted\n'
    missing = await kp("delete", "-f", str(manifest))
    assert missing.code == 1
    assert 'services "svc" not found' in missing.err


async def test_bad_input_gets_one_clear_line(kp: KubectlPy, tmp_path: Path) -> None:
    missing = await kp("apply", "-f", str(tmp_path / "nope.yaml"))
    assert (missing.code, missing.err) == (1, f'error: the path "{tmp_path / "nope.yaml"}" does not exist\n')

    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: v1\nkind: Service\nmetadata:\n  name: x\n  labels: [a\n")
    invalid = await kp("apply", "-f", str(bad))
    assert invalid.code == 1
    assert invalid.err.startswith(f"error: error parsing {bad}: error converting YAML to JSON: yaml: line ")
    assert invalid.err.count("\n") == 1

    weird = tmp_path / "weird.yaml"
    weird.write_text("apiVersion: v1\nkind: Frobnicator\nmetadata:\n  name: x\n")
    unknown = await kp("apply", "-f", str(weird))
    assert unknown.code == 1
    assert 'no matches for kind "Frobnicator" in version "v1"' in unknown.err

    no_type = await kp("get", "frobs")
    assert (no_type.code, no_type.err) == (1, 'error: the server doesn\'t have a resource type "frobs"\n')

    flag = await kp("get", "pods", "--frobnicate")
    assert flag.code == 2
    assert flag.err.splitlines()[0] == "error: unknown flag: --frobnicate"


async def test_unreachable_server_is_one_line() -> None:
    import io

    from kubectl_py.main import run
    from kubectl_py.session import Streams

    out, err = io.StringIO(), io.StringIO()
    code = await run(["-s", "http://127.0.0.1:1", "get", "pods"], Streams(out=out, err=err))
    assert code == 1
    assert err.getvalue() == ("The connection to the server 127.0.0.1:1 was refused - did you specify the right "
                              "host or port?\n")
