"""The imperative verbs (scale, label, annotate, patch, create, run, expose, edit, delete) and
the informational ones (api-resources, version, cluster-info, events, explain, config,
why-pending, completion), each asserting what kubectl-py prints."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures.apiserver import ApiServerProcess
from tests.integration.kubectl_py.conftest import KubectlPy, StockKubectl, deployment_yaml


@pytest.fixture
async def web(kp: KubectlPy, tmp_path: Path) -> None:
    (tmp_path / "web.yaml").write_text(deployment_yaml("web"))
    await kp.ok("apply", "-f", str(tmp_path / "web.yaml"))


async def test_scale_label_annotate(kp: KubectlPy, web: None) -> None:
    assert await kp.ok("scale", "deploy", "web", "--replicas=5") == "deployment.apps/web scaled\n"
    assert await kp.ok("get", "deploy", "web", "-o", "jsonpath={.spec.replicas}") == "5"
    assert await kp.ok("label", "deploy", "web", "team=a") == "deployment.apps/web labeled\n"
    clash = await kp("label", "deploy", "web", "team=b")
    assert (clash.code, clash.err) == (1, "error: 'team' already has a value (a), and --overwrite is false\n")
    assert await kp.ok("label", "deploy", "web", "team=b", "--overwrite") == "deployment.apps/web labeled\n"
    assert await kp.ok("label", "deploy", "web", "team-") == "deployment.apps/web labeled\n"
    assert await kp.ok("annotate", "deploy", "web", "note=hello") == "deployment.apps/web annotated\n"
    note = await kp.ok("get", "deploy", "web", "-o", "jsonpath={.metadata.annotations.note}")
    assert note == "hello"
    usage = await kp("label", "deploy", "web")
    assert usage.code == 2 and usage.err.startswith("error: at least one label update is required")


async def test_patch_types(kp: KubectlPy, web: None) -> None:
    assert await kp.ok("patch", "deploy", "web", "-p", '{"spec":{"replicas":3}}') == "deployment.apps/web patched\n"
    assert await kp.ok("patch", "deploy", "web", "--type=merge", "-p", '{"metadata":{"labels":{"x":"y"}}}') == \
        "deployment.apps/web patched\n"
    ops = '[{"op":"replace","path":"/spec/replicas","value":4}]'
    assert await kp.ok("patch", "deploy", "web", "--type=json", "-p", ops) == "deployment.apps/web patched\n"
    assert await kp.ok("patch", "deploy", "web", "--type=json", "-p", ops) == \
        "deployment.apps/web patched (no change)\n"
    bad = await kp("patch", "deploy", "web", "--type=json", "-p", '[{"op":"replace","path":"/nope/x","value":1}]')
    assert bad.code == 1 and bad.err.startswith("Error from server")


async def test_generators_and_dry_run_yaml(kp: KubectlPy) -> None:
    assert await kp.ok("create", "deployment", "gen", "--image=nginx:1.25", "--replicas=2") == \
        "deployment.apps/gen created\n"
    spec = json.loads(await kp.ok("get", "deploy", "gen", "-o", "jsonpath={.spec.template.spec.containers[0]}"))
    assert (spec["name"], spec["image"]) == ("nginx", "nginx:1.25")
    assert await kp.ok("expose", "deployment", "gen", "--port=80", "--target-port=8080") == "service/gen exposed\n"
    port = json.loads(await kp.ok("get", "svc", "gen", "-o", "jsonpath={.spec.ports[0]}"))
    assert (port["port"], port["targetPort"]) == (80, 8080)
    assert await kp.ok("run", "box", "--image=busybox:1.36", "--restart=Never", "--", "sleep", "3600") == \
        "pod/box created\n"
    pod = json.loads(await kp.ok("get", "pod", "box", "-o", "json"))
    assert pod["metadata"]["labels"] == {"run": "box"}
    assert pod["spec"]["containers"][0]["args"] == ["sleep", "3600"]
    dry = await kp.ok("create", "deployment", "draft", "--image=nginx", "--dry-run=client", "-o", "yaml")
    assert dry.startswith("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n")
    assert (await kp("get", "deploy", "draft")).code == 1


async def test_edit_uses_the_editor(kp: KubectlPy, web: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) \
        -> None:
    script = tmp_path / "editor.sh"
    script.write_text("#!/bin/sh\nsed -i 's/replicas: 2/replicas: 7/' \"$1\"\n")
    script.chmod(0o755)
    monkeypatch.setenv("KUBE_EDITOR", str(script))
    assert await kp.ok("edit", "deploy/web") == "deployment.apps/web edited\n"
    assert await kp.ok("get", "deploy", "web", "-o", "jsonpath={.spec.replicas}") == "7"
    monkeypatch.setenv("KUBE_EDITOR", "true")
    unchanged = await kp("edit", "deploy/web")
    assert (unchanged.code, unchanged.out, unchanged.err) == (0, "", "Edit cancelled, no changes made.\n")


async def test_delete_variants(kp: KubectlPy, tmp_path: Path) -> None:
    for name in ("a", "b", "c"):
        await kp.ok("create", "deployment", name, "--image=nginx")
    await kp.ok("label", "deploy", "a", "b", "group=x")
    assert await kp.ok("delete", "deploy", "-l", "group=x") == \
        'deployment.apps "a" deleted\ndeployment.apps "b" deleted\n'
    assert await kp.ok("delete", "deploy", "c", "--cascade=background", "--wait=false") == \
        'deployment.apps "c" deleted\n'
    missing = await kp("delete", "deploy", "nope")
    assert (missing.code, missing.err) == (1, 'Error from server (NotFound): deployments.apps "nope" not found\n')
    assert await kp.ok("delete", "deploy", "nope", "--ignore-not-found") == ""
    nothing = await kp("delete", "deploy", "--all")
    assert (nothing.code, nothing.err) == (0, f"No resources found in {kp.namespace} namespace.\n")
    no_name = await kp("delete", "deploy")
    assert (no_name.code, no_name.err) == (1, "error: resource(s) were provided, but no name was specified\n")
    bad = await kp("delete", "deploy", "x", "--cascade=sideways")
    assert bad.code == 1 and "invalid cascade value" in bad.err


async def test_informational_commands(kp: KubectlPy, kubectl: StockKubectl, api_server: ApiServerProcess) \
        -> None:
    assert (await kp.ok("api-resources")) == kubectl("api-resources").out
    version = await kp.ok("version")
    assert version.startswith("Client Version: kubectl-py v0.1.0\nServer Version: v1.32")
    info = await kp.ok("cluster-info")
    assert info.startswith(f"Kubernetes control plane is running at {api_server.url}\n")
    await kp.ok("create", "deployment", "ev", "--image=nginx")
    events = await kp("events")
    assert events.code == 0
    completion = await kp.ok("completion", "bash")
    assert "complete -F _kubectl_py kubectl-py" in completion and " rollout " in completion


async def test_config_commands(tmp_path: Path, api_server: ApiServerProcess) -> None:
    import io

    from kubectl_py.main import run
    from kubectl_py.session import Streams

    config = tmp_path / "config"
    config.write_text(api_server.kubeconfig.read_text() + "")
    text = config.read_text().replace("contexts:\n", "contexts:\n- name: other\n  context:\n    cluster: kube-py\n"
                                      "    user: kube-py\n    namespace: elsewhere\n", 1)
    config.write_text(text)

    async def kpy(*args: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        code = await run(["--kubeconfig", str(config), *args], Streams(out=out, err=err))
        return code, out.getvalue(), err.getvalue()

    code, out, _ = await kpy("config", "get-contexts")
    assert code == 0
    assert out.splitlines()[0].split() == ["CURRENT", "NAME", "CLUSTER", "AUTHINFO", "NAMESPACE"]
    assert out.splitlines()[1].split() == ["*", "kube-py", "kube-py", "kube-py", "default"]
    assert await kpy("config", "use-context", "other") == (0, 'Switched to context "other".\n', "")
    assert await kpy("config", "current-context") == (0, "other\n", "")
    code, out, _ = await kpy("config", "view", "--minify", "-o", "json")
    assert json.loads(out)["contexts"][0]["context"]["namespace"] == "elsewhere"
    assert (await kpy("config", "use-context", "nope"))[2] == 'error: no context exists with the name: "nope"\n'


async def test_why_pending_explains_per_node(kp: KubectlPy, api_server: ApiServerProcess) -> None:
    from kubeclient.rest import ApiClient

    async with ApiClient(api_server.url) as client:
        for name, cpu in (("small-1", "500m"), ("small-2", "1")):
            node = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": f"{kp.namespace}-{name}"},
                    "spec": {"taints": [{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]
                             if name == "small-1" else []}}
            created = await client.create("nodes", node)
            created["status"] = {"allocatable": {"cpu": cpu, "memory": "1Gi", "pods": "10"},
                                 "capacity": {"cpu": cpu, "memory": "1Gi", "pods": "10"},
                                 "conditions": [{"type": "Ready", "status": "True"}]}
            await client.update_status("nodes", created)
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "big"},
           "spec": {"containers": [{"name": "c", "image": "nginx",
                                    "resources": {"requests": {"cpu": "2", "memory": "100Mi"}}}]}}
    await kp.ok("create", "-f", "-", input=json.dumps(pod))
    out = await kp.ok("why-pending", "big")
    lines = {line.split(":", 1)[0]: line for line in out.splitlines() if line.startswith(kp.namespace)}
    assert "taint dedicated=gpu:NoSchedule" in lines[f"{kp.namespace}-small-1"]
    assert "not enough cpu: the pod requests 2, the node has 1 free of 1 allocatable" in \
        lines[f"{kp.namespace}-small-2"]


def test_console_entry_point_never_prints_a_traceback(tmp_path: Path) -> None:
    """The real process: a broken kubeconfig and a bad flag each give one line and the right code."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    broken = tmp_path / "broken"
    broken.write_text("clusters: [\n")
    proc = subprocess.run([sys.executable, "-m", "kubectl_py.main", "--kubeconfig", str(broken), "get", "pods"],
                          capture_output=True, text=True, env=env, cwd=Path(__file__).resolve().parents[3])
    assert proc.returncode == 1
    assert proc.stderr.startswith(f'error: error loading config file "{broken}"')
    assert "Traceback" not in proc.stderr
    proc = subprocess.run([sys.executable, "-m", "kubectl_py.main", "rollout", "history", "--bogus"],
                          capture_output=True, text=True, env=env, cwd=Path(__file__).resolve().parents[3])
    assert (proc.returncode, proc.stderr) == (2, "error: unknown flag: --bogus\nSee 'kubectl-py rollout history "
                                                 "--help' for usage.\n")
