"""Server-side defaults: each default as a real cluster shows it right after create."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from apimachinery.defaults import apply_defaults, image_pull_policy

DIGEST = "sha256:" + "a" * 64


def pod(**spec: Any) -> dict[str, Any]:
    base = {"containers": [{"name": "web", "image": "nginx:1.25", "ports": [{"containerPort": 80}]}]}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": "default"},
            "spec": {**base, **spec}}


def deployment(**spec: Any) -> dict[str, Any]:
    template = {"metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "nginx:1.25"}]}}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "default"},
            "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": template, **spec}}


def job(**spec: Any) -> dict[str, Any]:
    template = {"metadata": {"labels": {"app": "pi"}},
                "spec": {"restartPolicy": "Never", "containers": [{"name": "pi", "image": "perl:5.34"}]}}
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "pi", "namespace": "default"},
            "spec": {"template": template, **spec}}


def service(**spec: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "default"},
            "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}], **spec}}


NOT_READY = {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute",
             "tolerationSeconds": 300}
UNREACHABLE = {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute",
               "tolerationSeconds": 300}


def test_pod_gets_everything_kubectl_shows_after_create() -> None:
    spec = apply_defaults(("", "Pod"), pod())["spec"]
    assert spec == {
        "containers": [{
            "name": "web", "image": "nginx:1.25", "imagePullPolicy": "IfNotPresent",
            "ports": [{"containerPort": 80, "protocol": "TCP"}], "resources": {},
            "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File",
        }],
        "dnsPolicy": "ClusterFirst", "enableServiceLinks": True, "preemptionPolicy": "PreemptLowerPriority",
        "priority": 0, "restartPolicy": "Always", "schedulerName": "default-scheduler", "securityContext": {},
        "serviceAccount": "default", "serviceAccountName": "default", "terminationGracePeriodSeconds": 30,
        "tolerations": [NOT_READY, UNREACHABLE],
    }


@pytest.mark.parametrize(("image", "policy"), [
    ("nginx", "Always"),
    ("nginx:latest", "Always"),
    ("nginx:1.25", "IfNotPresent"),
    (f"nginx@{DIGEST}", "IfNotPresent"),
    (f"nginx:latest@{DIGEST}", "Always"),
    ("registry.local:5000/team/app", "Always"),
    ("registry.local:5000/team/app:v2", "IfNotPresent"),
    ("ghcr.io/org/tool:latest", "Always"),
    ("", "IfNotPresent"),  # unparseable references get IfNotPresent, as in Kubernetes
    ("Nginx:1.0", "IfNotPresent"),
])
def test_image_pull_policy_follows_the_tag(image: str, policy: str) -> None:
    assert image_pull_policy(image) == policy


def test_explicit_values_are_kept() -> None:
    manifest = pod(restartPolicy="Never", dnsPolicy="Default", terminationGracePeriodSeconds=5,
                   schedulerName="custom", serviceAccountName="builder", enableServiceLinks=False)
    manifest["spec"]["containers"][0].update(imagePullPolicy="Always", terminationMessagePolicy="FallbackToLogsOnError")
    spec = apply_defaults(("", "Pod"), manifest)["spec"]
    assert (spec["restartPolicy"], spec["dnsPolicy"], spec["terminationGracePeriodSeconds"], spec["schedulerName"]) \
        == ("Never", "Default", 5, "custom")
    assert (spec["serviceAccountName"], spec["serviceAccount"], spec["enableServiceLinks"]) == ("builder", "builder", False)
    assert spec["containers"][0]["imagePullPolicy"] == "Always"
    assert spec["containers"][0]["terminationMessagePolicy"] == "FallbackToLogsOnError"


@pytest.mark.parametrize(("resources", "expected"), [
    ({"limits": {"cpu": "500m", "memory": "128Mi"}},
     {"limits": {"cpu": "500m", "memory": "128Mi"}, "requests": {"cpu": "500m", "memory": "128Mi"}}),
    ({"limits": {"cpu": "1"}, "requests": {"cpu": "250m"}},
     {"limits": {"cpu": "1"}, "requests": {"cpu": "250m"}}),
    ({"limits": {"cpu": "1"}, "requests": {"memory": "64Mi"}},
     {"limits": {"cpu": "1"}, "requests": {"memory": "64Mi", "cpu": "1"}}),
    ({"requests": {"cpu": "100m"}}, {"requests": {"cpu": "100m"}}),
])
def test_pod_requests_default_to_limits(resources: dict, expected: dict) -> None:
    manifest = pod(initContainers=[{"name": "init", "image": "busybox", "resources": copy.deepcopy(resources)}])
    manifest["spec"]["containers"][0]["resources"] = resources
    spec = apply_defaults(("", "Pod"), manifest)["spec"]
    assert spec["containers"][0]["resources"] == expected
    assert spec["initContainers"][0]["resources"] == expected


def test_pod_template_gets_pod_spec_defaults_but_not_pod_only_ones() -> None:
    manifest = deployment()
    manifest["spec"]["template"]["spec"]["containers"][0]["resources"] = {"limits": {"cpu": "1"}}
    spec = apply_defaults(("apps", "Deployment"), manifest)["spec"]["template"]["spec"]
    assert spec == {
        "containers": [{
            "name": "web", "image": "nginx:1.25", "imagePullPolicy": "IfNotPresent",
            "resources": {"limits": {"cpu": "1"}},
            "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File",
        }],
        "dnsPolicy": "ClusterFirst", "restartPolicy": "Always", "schedulerName": "default-scheduler",
        "securityContext": {}, "terminationGracePeriodSeconds": 30,
    }


@pytest.mark.parametrize(("probe", "expected"), [
    ({"httpGet": {"port": 8080}},
     {"httpGet": {"port": 8080, "path": "/", "scheme": "HTTP"}, "timeoutSeconds": 1, "periodSeconds": 10,
      "successThreshold": 1, "failureThreshold": 3}),
    ({"tcpSocket": {"port": "http"}, "periodSeconds": 5, "failureThreshold": 1},
     {"tcpSocket": {"port": "http"}, "timeoutSeconds": 1, "periodSeconds": 5, "successThreshold": 1,
      "failureThreshold": 1}),
    ({"exec": {"command": ["true"]}, "timeoutSeconds": 0, "initialDelaySeconds": 3},
     {"exec": {"command": ["true"]}, "timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1,
      "failureThreshold": 3, "initialDelaySeconds": 3}),
    ({"grpc": {"port": 9090}},
     {"grpc": {"port": 9090, "service": ""}, "timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1,
      "failureThreshold": 3}),
])
@pytest.mark.parametrize("kind", ["livenessProbe", "readinessProbe", "startupProbe"])
def test_probe_defaults(kind: str, probe: dict, expected: dict) -> None:
    manifest = pod()
    manifest["spec"]["containers"][0][kind] = probe
    assert apply_defaults(("", "Pod"), manifest)["spec"]["containers"][0][kind] == expected


def test_lifecycle_http_get_and_env_field_ref_defaults() -> None:
    manifest = pod()
    manifest["spec"]["containers"][0].update(
        lifecycle={"preStop": {"httpGet": {"port": 80, "path": "/quit"}}},
        env=[{"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}])
    container = apply_defaults(("", "Pod"), manifest)["spec"]["containers"][0]
    assert container["lifecycle"]["preStop"]["httpGet"] == {"port": 80, "path": "/quit", "scheme": "HTTP"}
    assert container["env"][0]["valueFrom"]["fieldRef"] == {"fieldPath": "metadata.name", "apiVersion": "v1"}


@pytest.mark.parametrize(("volume", "expected"), [
    ({"name": "scratch"}, {"name": "scratch", "emptyDir": {}}),
    ({"name": "cache", "emptyDir": {"medium": "Memory"}}, {"name": "cache", "emptyDir": {"medium": "Memory"}}),
    ({"name": "logs", "hostPath": {"path": "/var/log"}}, {"name": "logs", "hostPath": {"path": "/var/log", "type": ""}}),
    ({"name": "cfg", "configMap": {"name": "app"}}, {"name": "cfg", "configMap": {"name": "app", "defaultMode": 420}}),
    ({"name": "tls", "secret": {"secretName": "tls", "defaultMode": 256}},
     {"name": "tls", "secret": {"secretName": "tls", "defaultMode": 256}}),
    ({"name": "info", "downwardAPI": {"items": [{"path": "ns", "fieldRef": {"fieldPath": "metadata.namespace"}}]}},
     {"name": "info", "downwardAPI": {"defaultMode": 420, "items": [
         {"path": "ns", "fieldRef": {"fieldPath": "metadata.namespace", "apiVersion": "v1"}}]}}),
    ({"name": "token", "projected": {"sources": [{"serviceAccountToken": {"path": "token"}}]}},
     {"name": "token", "projected": {"defaultMode": 420, "sources": [
         {"serviceAccountToken": {"path": "token", "expirationSeconds": 3600}}]}}),
    ({"name": "data", "persistentVolumeClaim": {"claimName": "data"}},
     {"name": "data", "persistentVolumeClaim": {"claimName": "data"}}),
])
def test_volume_defaults(volume: dict, expected: dict) -> None:
    assert apply_defaults(("", "Pod"), pod(volumes=[volume]))["spec"]["volumes"] == [expected]


@pytest.mark.parametrize(("tolerations", "expected"), [
    ([{"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 60}],
     [{"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 60},
      UNREACHABLE]),
    ([{"operator": "Exists"}], [{"operator": "Exists"}]),
    ([{"key": "node.kubernetes.io/unreachable", "operator": "Exists"}],
     [{"key": "node.kubernetes.io/unreachable", "operator": "Exists"}, NOT_READY]),
    ([{"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"}],
     [{"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"}, NOT_READY, UNREACHABLE]),
])
def test_default_toleration_seconds_admission(tolerations: list, expected: list) -> None:
    assert apply_defaults(("", "Pod"), pod(tolerations=tolerations))["spec"]["tolerations"] == expected


@pytest.mark.parametrize(("spec", "priority"), [
    ({}, 0),
    ({"priorityClassName": "system-node-critical"}, 2000001000),
    ({"priorityClassName": "system-cluster-critical"}, 2000000000),
    ({"priority": 7}, 7),
])
def test_priority_admission(spec: dict, priority: int) -> None:
    assert apply_defaults(("", "Pod"), pod(**spec))["spec"]["priority"] == priority


def test_deprecated_service_account_field_is_honoured() -> None:
    spec = apply_defaults(("", "Pod"), pod(serviceAccount="legacy"))["spec"]
    assert (spec["serviceAccountName"], spec["serviceAccount"]) == ("legacy", "legacy")


def test_host_network_pods_default_host_ports() -> None:
    spec = apply_defaults(("", "Pod"), pod(hostNetwork=True))["spec"]
    assert spec["containers"][0]["ports"] == [{"containerPort": 80, "protocol": "TCP", "hostPort": 80}]


def test_deployment_defaults() -> None:
    spec = apply_defaults(("apps", "Deployment"), deployment())["spec"]
    assert {k: v for k, v in spec.items() if k not in ("selector", "template")} == {
        "replicas": 1, "revisionHistoryLimit": 10, "progressDeadlineSeconds": 600,
        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
    }
    assert "minReadySeconds" not in spec and "paused" not in spec


@pytest.mark.parametrize(("strategy", "expected"), [
    ({"type": "Recreate"}, {"type": "Recreate"}),
    ({"rollingUpdate": {"maxSurge": 1}}, {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1,
                                                                                      "maxUnavailable": "25%"}}),
    ({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0}},
     {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": "25%"}}),
])
def test_deployment_strategy_defaults(strategy: dict, expected: dict) -> None:
    assert apply_defaults(("apps", "Deployment"), deployment(strategy=strategy))["spec"]["strategy"] == expected


@pytest.mark.parametrize(("spec", "replicas"), [({}, 1), ({"replicas": 0}, 0), ({"replicas": 3}, 3)])
def test_replica_set_replicas(spec: dict, replicas: int) -> None:
    manifest = deployment(**spec)
    manifest["kind"] = "ReplicaSet"
    defaulted = apply_defaults(("apps", "ReplicaSet"), manifest)["spec"]
    assert defaulted["replicas"] == replicas
    assert defaulted["template"]["spec"]["restartPolicy"] == "Always"
    assert "strategy" not in defaulted


@pytest.mark.parametrize(("spec", "expected"), [
    ({}, {"completions": 1, "parallelism": 1, "backoffLimit": 6, "completionMode": "NonIndexed",
          "suspend": False, "podReplacementPolicy": "TerminatingOrFailed"}),
    ({"completions": 5}, {"completions": 5, "parallelism": 1}),
    ({"parallelism": 3}, {"parallelism": 3}),
    ({"completionMode": "Indexed", "completions": 4, "backoffLimitPerIndex": 1},
     {"backoffLimit": 2**31 - 1, "completionMode": "Indexed"}),
    ({"podFailurePolicy": {"rules": [{"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]}]}},
     {"podReplacementPolicy": "Failed", "podFailurePolicy": {"rules": [
         {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}]}]}}),
    ({"suspend": True, "backoffLimit": 0}, {"suspend": True, "backoffLimit": 0}),
])
def test_job_defaults(spec: dict, expected: dict) -> None:
    defaulted = apply_defaults(("batch", "Job"), job(**spec))["spec"]
    assert {k: defaulted[k] for k in expected} == expected
    if "completions" not in spec and "parallelism" in spec:
        assert "completions" not in defaulted
    assert "manualSelector" not in defaulted


def test_job_template_keeps_restart_policy_unset_and_labels_flow_up() -> None:
    manifest = job()
    del manifest["spec"]["template"]["spec"]["restartPolicy"]
    defaulted = apply_defaults(("batch", "Job"), manifest)
    assert "restartPolicy" not in defaulted["spec"]["template"]["spec"]
    assert defaulted["spec"]["template"]["spec"]["dnsPolicy"] == "ClusterFirst"
    assert defaulted["metadata"]["labels"] == {"app": "pi"}
    labelled = job()
    labelled["metadata"]["labels"] = {"team": "batch"}
    assert apply_defaults(("batch", "Job"), labelled)["metadata"]["labels"] == {"team": "batch"}


def test_service_defaults() -> None:
    spec = apply_defaults(("", "Service"), service())["spec"]
    assert spec == {
        "selector": {"app": "web"}, "ports": [{"port": 80, "protocol": "TCP", "targetPort": 80}],
        "type": "ClusterIP", "sessionAffinity": "None", "internalTrafficPolicy": "Cluster",
        "ipFamilyPolicy": "SingleStack", "ipFamilies": ["IPv4"],
    }


@pytest.mark.parametrize(("spec", "expected", "absent"), [
    ({"type": "NodePort"}, {"externalTrafficPolicy": "Cluster", "internalTrafficPolicy": "Cluster"},
     ["allocateLoadBalancerNodePorts"]),
    ({"type": "LoadBalancer"}, {"externalTrafficPolicy": "Cluster", "allocateLoadBalancerNodePorts": True}, []),
    ({"type": "ExternalName", "externalName": "db.example.com", "ports": []}, {"sessionAffinity": "None"},
     ["ipFamilies", "ipFamilyPolicy", "internalTrafficPolicy", "externalTrafficPolicy"]),
    ({"clusterIP": "None"}, {"ipFamilyPolicy": "SingleStack", "ipFamilies": ["IPv4"]}, ["externalTrafficPolicy"]),
    ({"clusterIP": "None", "selector": None}, {"ipFamilyPolicy": "RequireDualStack", "ipFamilies": ["IPv4", "IPv6"]},
     []),
    ({"sessionAffinity": "ClientIP"}, {"sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 10800}}}, []),
    ({"sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 5}}}, {"sessionAffinity": "None"},
     ["sessionAffinityConfig"]),
    ({"externalIPs": ["203.0.113.7"]}, {"externalTrafficPolicy": "Cluster"}, []),
    ({"ports": [{"port": 443, "targetPort": "https", "protocol": "UDP"}, {"port": 80, "targetPort": 0}]},
     {"ports": [{"port": 443, "targetPort": "https", "protocol": "UDP"},
                {"port": 80, "targetPort": 80, "protocol": "TCP"}]}, []),
])
def test_service_type_dependent_defaults(spec: dict, expected: dict, absent: list[str]) -> None:
    defaulted = apply_defaults(("", "Service"), service(**spec))["spec"]
    assert {k: defaulted[k] for k in expected} == expected
    assert [k for k in absent if k in defaulted] == []


def test_namespace_defaults_on_create_and_update() -> None:
    created = apply_defaults(("", "Namespace"), {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}})
    assert created["spec"] == {"finalizers": ["kubernetes"]}
    assert created["status"] == {"phase": "Active"}
    assert created["metadata"]["labels"] == {"kubernetes.io/metadata.name": "team"}
    finalized = {**created, "metadata": {**created["metadata"], "resourceVersion": "12"}, "spec": {}}
    assert apply_defaults(("", "Namespace"), finalized)["spec"] == {}


def test_node_allocatable_defaults_to_capacity() -> None:
    node = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"},
            "status": {"capacity": {"cpu": "4", "memory": "8Gi", "pods": "110"}}}
    status = apply_defaults(("", "Node"), node)["status"]
    assert status["allocatable"] == {"cpu": "4", "memory": "8Gi", "pods": "110"}
    assert "phase" not in status


def test_endpoints_port_protocol() -> None:
    endpoints = {"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "web", "namespace": "default"},
                 "subsets": [{"addresses": [{"ip": "10.244.1.5"}], "ports": [{"port": 8080}, {"port": 53,
                                                                                          "protocol": "UDP"}]}]}
    ports = apply_defaults(("", "Endpoints"), endpoints)["subsets"][0]["ports"]
    assert ports == [{"port": 8080, "protocol": "TCP"}, {"port": 53, "protocol": "UDP"}]


@pytest.mark.parametrize("kind_key", [("", "Event"), ("coordination.k8s.io", "Lease"), ("example.com", "Widget")])
def test_kinds_without_defaults_are_copied_unchanged(kind_key: tuple[str, str]) -> None:
    obj = {"metadata": {"name": "x", "namespace": "default"}, "spec": {"holderIdentity": "a"}}
    result = apply_defaults(kind_key, obj)
    assert result == obj and result is not obj


@pytest.mark.parametrize(("kind_key", "factory"), [
    (("", "Pod"), pod), (("apps", "Deployment"), deployment), (("batch", "Job"), job), (("", "Service"), service),
])
def test_input_is_untouched_and_defaulting_is_idempotent(kind_key: tuple[str, str], factory: Any) -> None:
    original = factory()
    snapshot = copy.deepcopy(original)
    once = apply_defaults(kind_key, original)
    assert original == snapshot
    assert apply_defaults(kind_key, once) == once
