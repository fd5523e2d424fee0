"""The typed model round-trips real manifests exactly, with Kubernetes' JSON names."""

from __future__ import annotations

import pytest

from apimachinery.defaults import apply_defaults
from apimachinery.models import MODELS, Deployment, Pod, parse, to_dict

MANIFESTS = [
    (("apps", "Deployment"), {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"app": "web"}, "annotations": {"kubernetes.io/change-cause": "v1"}},
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
                 "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0}},
                 "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [
                     {"name": "web", "image": "nginx:1.25", "ports": [{"containerPort": 80, "hostIP": "0.0.0.0"}],
                      "resources": {"limits": {"cpu": "500m", "memory": "128Mi"}},
                      "readinessProbe": {"httpGet": {"path": "/", "port": "http"}, "periodSeconds": 5}}]}}}}),
    (("", "Pod"), {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "two", "namespace": "default"},
        "spec": {"initContainers": [{"name": "init", "image": "busybox", "command": ["true"]}],
                 "containers": [{"name": "a", "image": "busybox", "env": [{"name": "X", "value": "1"}],
                                 "volumeMounts": [{"name": "data", "mountPath": "/data"}],
                                 "livenessProbe": {"exec": {"command": ["true"]}}},
                                {"name": "b", "image": "busybox", "lifecycle": {"preStop": {"exec": {"command": ["sh"]}}}}],
                 "volumes": [{"name": "data", "emptyDir": {}}, {"name": "h", "hostPath": {"path": "/tmp"}}],
                 "tolerations": [{"key": "k", "operator": "Exists", "effect": "NoSchedule"}]},
        "status": {"phase": "Running", "podIP": "10.0.0.2", "hostIP": "1.2.3.4",
                   "containerStatuses": [{"name": "a", "image": "busybox", "imageID": "sha256:x", "ready": True,
                                          "restartCount": 0, "containerID": "runc://x"}]}}),
    (("batch", "Job"), {
        "apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "j"},
        "spec": {"completions": 3, "backoffLimit": 2, "template": {"spec": {
            "restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}}}}),
    (("", "Service"), {
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
        "spec": {"type": "NodePort", "clusterIP": "10.96.0.10", "clusterIPs": ["10.96.0.10"], "selector": {"a": "b"},
                 "ports": [{"port": 80, "targetPort": "http", "nodePort": 30080}]}}),
    (("", "Node"), {
        "apiVersion": "v1", "kind": "Node", "metadata": {"name": "n"}, "spec": {"podCIDR": "10.244.1.0/24"},
        "status": {"capacity": {"cpu": "4"}, "conditions": [{"type": "Ready", "status": "True"}],
                   "nodeInfo": {"kubeletVersion": "v1.32.0"}}}),
]


@pytest.mark.parametrize(("kind_key", "manifest"), MANIFESTS)
def test_manifests_round_trip(kind_key: tuple[str, str], manifest: dict) -> None:
    assert to_dict(parse(kind_key, manifest)) == manifest


@pytest.mark.parametrize(("kind_key", "manifest"), MANIFESTS)
def test_defaulted_objects_parse(kind_key: tuple[str, str], manifest: dict) -> None:
    defaulted = apply_defaults(kind_key, manifest)
    assert to_dict(parse(kind_key, defaulted)) == defaulted


def test_typed_access_uses_python_names() -> None:
    deployment = parse(*MANIFESTS[0])
    assert isinstance(deployment, Deployment)
    container = deployment.spec.template.spec.containers[0]
    assert container.readiness_probe.http_get.port == "http"
    assert deployment.spec.strategy.rolling_update.max_unavailable == 0
    pod = parse(*MANIFESTS[1])
    assert isinstance(pod, Pod) and pod.status.container_statuses[0].image_id == "sha256:x"


def test_unknown_fields_survive_parsing() -> None:
    manifest = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x"},
                "spec": {"containers": [{"name": "c", "imagee": "typo"}]}}
    assert to_dict(parse(("", "Pod"), manifest)) == manifest


def test_every_served_kind_has_a_model() -> None:
    from apimachinery.resources import RESOURCES

    assert {(r.group, r.kind) for r in RESOURCES} <= set(MODELS)
