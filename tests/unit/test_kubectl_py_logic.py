"""kubectl-py's pure logic: manifests, the last-applied annotation, rollout computations,
describe layouts, why-pending verdicts and the CLI's error handling."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from kubectl_py import deployutil, describers
from kubectl_py.commands.whypending import check_node
from kubectl_py.errors import CliError
from kubectl_py.lastapplied import last_applied_value
from kubectl_py.main import run
from kubectl_py.manifests import load_manifests
from kubectl_py.session import Streams


def test_manifests_multi_document_lists_and_errors(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text("apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Service\n  metadata: {name: a}\n"
                    "---\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: b\n  annotations:\n"
                    "    when: 2024-01-01\n")
    objs = [m.obj for m in load_manifests([str(path)])]
    assert [o["metadata"]["name"] for o in objs] == ["a", "b"]
    assert objs[1]["metadata"]["annotations"]["when"] == "2024-01-01"  # timestamps stay strings
    path.write_text("kind: Service\nmetadata:\n  name: x\n   bad: indent\n")
    with pytest.raises(CliError, match=r"yaml: line 4: "):
        load_manifests([str(path)])
    with pytest.raises(CliError, match='the path ".*nope" does not exist'):
        load_manifests([str(tmp_path / "nope")])


def test_last_applied_value_is_kubectls_format() -> None:
    obj = {"kind": "Service", "apiVersion": "v1", "metadata": {"name": "s", "namespace": "default"},
           "spec": {"ports": [{"port": 80}], "selector": {"app": "a&b"}}}
    assert last_applied_value(obj) == ('{"apiVersion":"v1","kind":"Service","metadata":{"annotations":{},"name":"s",'
                                       '"namespace":"default"},"spec":{"ports":[{"port":80}],'
                                       '"selector":{"app":"a\\u0026b"}}}\n')


def _deployment(**status: Any) -> dict[str, Any]:
    return {"metadata": {"name": "web", "generation": 2, "uid": "d1",
                         "annotations": {"deployment.kubernetes.io/revision": "2",
                                         "kubectl.kubernetes.io/last-applied-configuration": "{}"}},
            "spec": {"replicas": 3, "template": {"metadata": {"labels": {"app": "web"}},
                                                 "spec": {"containers": [{"name": "web", "image": "v2"}]}}},
            "status": {"observedGeneration": 2, **status}}


def _rs(revision: int, image: str, cause: str = "") -> dict[str, Any]:
    annotations = {"deployment.kubernetes.io/revision": str(revision)}
    if cause:
        annotations["kubernetes.io/change-cause"] = cause
    return {"metadata": {"name": f"web-{revision}", "annotations": annotations,
                         "ownerReferences": [{"controller": True, "uid": "d1"}]},
            "spec": {"replicas": 0, "template": {
                "metadata": {"labels": {"app": "web", "pod-template-hash": f"h{revision}"}},
                "spec": {"containers": [{"name": "web", "image": image}]}}}}


@pytest.mark.parametrize(("status", "message", "done"), [
    ({"updatedReplicas": 1, "replicas": 3}, 'Waiting for deployment "web" rollout to finish: 1 out of 3 new replicas '
                                            "have been updated...", False),
    ({"updatedReplicas": 3, "replicas": 4}, 'Waiting for deployment "web" rollout to finish: 1 old replicas are '
                                            "pending termination...", False),
    ({"updatedReplicas": 3, "replicas": 3, "availableReplicas": 2},
     'Waiting for deployment "web" rollout to finish: 2 of 3 updated replicas are available...', False),
    ({"updatedReplicas": 3, "replicas": 3, "availableReplicas": 3}, 'deployment "web" successfully rolled out', True),
])
def test_rollout_status_messages(status: dict[str, Any], message: str, done: bool) -> None:
    state = deployutil.rollout_status(_deployment(**status))
    assert (state.message, state.done) == (message, done)


def test_rollout_status_generation_and_deadline() -> None:
    stale = _deployment()
    stale["status"]["observedGeneration"] = 1
    assert deployutil.rollout_status(stale).message == "Waiting for deployment spec update to be observed..."
    failed = _deployment(conditions=[{"type": "Progressing", "reason": "ProgressDeadlineExceeded"}])
    with pytest.raises(deployutil.RolloutError, match='deployment "web" exceeded its progress deadline'):
        deployutil.rollout_status(failed)


def test_history_table_and_rollback() -> None:
    deployment = _deployment()
    owned = deployutil.owned_replicasets(deployment, [_rs(1, "v1", "first"), _rs(2, "v2"),
                                                      {"metadata": {"name": "stranger"}}])
    assert len(owned) == 2
    entries = deployutil.history(owned)
    assert deployutil.history_table(entries) == "REVISION  CHANGE-CAUSE\n1         first\n2         <none>\n"
    target = deployutil.rollback_target(deployment, owned, 0)
    assert target["metadata"]["name"] == "web-1"
    patch = deployutil.rollback_patch(deployment, target)
    assert patch[0]["value"]["metadata"] == {"creationTimestamp": None, "labels": {"app": "web"}}
    assert patch[1]["value"] == {"deployment.kubernetes.io/revision": "2",
                                 "kubectl.kubernetes.io/last-applied-configuration": "{}",
                                 "kubernetes.io/change-cause": "first"}
    with pytest.raises(deployutil.RolloutError, match="unable to find specified revision 9 in history"):
        deployutil.rollback_target(deployment, owned, 9)
    new, old = deployutil.split_replicasets(deployment, owned)
    assert new is not None and new["metadata"]["name"] == "web-2" and len(old) == 1


def test_pod_template_text_uses_raw_tabs() -> None:
    text = describers.pod_template_text({"metadata": {"labels": {"app": "web", "pod-template-hash": "x"}},
                                         "spec": {"containers": [{"name": "web", "image": "nginx:1.25",
                                                                  "ports": [{"containerPort": 80,
                                                                             "protocol": "TCP"}]}]}})
    assert text == ("Pod Template:\n  Labels:\tapp=web\n\tpod-template-hash=x\n  Containers:\n   web:\n"
                    "    Image:\tnginx:1.25\n    Port:\t80/TCP\n    Host Port:\t0/TCP\n"
                    "    Environment:\t<none>\n    Mounts:\t<none>\n  Volumes:\t<none>\n"
                    "  Node-Selectors:\t<none>\n  Tolerations:\t<none>\n")


def test_describe_events_age_column() -> None:
    from datetime import UTC, datetime

    now = datetime(2026, 1, 1, 0, 20, tzinfo=UTC)
    w = describers.PrefixWriter()
    describers.events(w, [{"type": "Normal", "reason": "Pulled", "count": 3, "source": {"component": "kubelet"},
                           "firstTimestamp": "2026-01-01T00:00:00Z", "lastTimestamp": "2026-01-01T00:08:00Z",
                           "message": " done "}], now)
    assert w.tabbed() == ("Events:\n"
                          "  Type    Reason  Age                From     Message\n"
                          "  ----    ------  ----               ----     -------\n"
                          "  Normal  Pulled  12m (x3 over 20m)  kubelet  done\n")


def test_why_pending_names_each_blocking_rule() -> None:
    pod = {"metadata": {"uid": "p"}, "spec": {"nodeSelector": {"disk": "ssd"},
                                              "containers": [{"resources": {"requests": {"memory": "2Gi"}}}]}}
    node = {"metadata": {"name": "n1", "labels": {"disk": "hdd"}},
            "spec": {"unschedulable": True, "taints": [{"key": "k", "effect": "NoSchedule"}]},
            "status": {"allocatable": {"memory": "1Gi"}, "conditions": [{"type": "Ready", "status": "False"}]}}
    verdict = check_node(pod, node, [])
    assert verdict.reasons == [
        "the node is not Ready", "the node is cordoned (spec.unschedulable)",
        "the pod's nodeSelector wants disk=ssd; the node's labels differ",
        "the node has taint k:NoSchedule and the pod does not tolerate it",
        "not enough memory: the pod requests 2Gi, the node has 1Gi free of 1Gi allocatable"]


async def _run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = await run(list(argv), Streams(out=out, err=err))
    return code, out.getvalue(), err.getvalue()


async def test_usage_errors_exit_2_with_one_line() -> None:
    assert await _run("frobnicate") == (2, "", 'error: unknown command "frobnicate" for "kubectl-py"\n'
                                               "See 'kubectl-py --help' for usage.\n")
    code, _, err = await _run("get", "pods", "--no-such-flag")
    assert (code, err.splitlines()[0]) == (2, "error: unknown flag: --no-such-flag")
    code, _, err = await _run("-s", "http://127.0.0.1:1", "get")
    assert code == 2 and err.startswith("error: you must specify the type of resource to get.")


async def test_missing_explicit_kubeconfig(tmp_path: Path) -> None:
    code, _, err = await _run("--kubeconfig", str(tmp_path / "none"), "get", "pods")
    assert (code, err) == (1, f"error: stat {tmp_path / 'none'}: no such file or directory\n")
