"""API validation: valid objects pass; each rule fails with Kubernetes' field path and message."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from apimachinery.defaults import apply_defaults
from apimachinery.errors import invalid
from apimachinery.validation import (
    go_quote,
    is_dns1123_label,
    is_dns1123_subdomain,
    is_valid_port_name,
    validate,
)

JSON = dict[str, Any]
POD, DEPLOY, RS, JOB, SVC = ("", "Pod"), ("apps", "Deployment"), ("apps", "ReplicaSet"), ("batch", "Job"), ("", "Service")
ESL = ("discovery.k8s.io", "EndpointSlice")
NS, NODE, EP, EVENT, LEASE = ("", "Namespace"), ("", "Node"), ("", "Endpoints"), ("", "Event"), \
    ("coordination.k8s.io", "Lease")

SUBDOMAIN_MSG = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
                 "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for "
                 "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")
LABEL_MSG = ("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start "
             "and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "
             "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')")
DNS1035_MSG = ("a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic "
               "character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for "
               "validation is '[a-z]([-a-z0-9]*[a-z0-9])?')")
KEY_NAME_MSG = ("name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
                "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
                "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')")
LABEL_VALUE_MSG = ("a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
                   "and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or "
                   "'12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')")
PERCENT_MSG = ("a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', "
               "regex used for validation is '[0-9]+%')")
POD_UPDATE_MSG = ("pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*]"
                  ".image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),"
                  "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)\n")
PORT_RANGE = "must be between 1 and 65535, inclusive"


def meta(name: str, namespace: str | None = "default", **extra: Any) -> JSON:
    out: JSON = {"name": name, "uid": f"uid-{name}", "creationTimestamp": "2026-07-01T12:00:05Z", **extra}
    if namespace:
        out["namespace"] = namespace
    return out


def stored(kind_key: tuple[str, str], obj: JSON) -> JSON:
    """What the registry validates: the defaulted object, with a resourceVersion once stored."""
    out = apply_defaults(kind_key, obj)
    out["metadata"].setdefault("resourceVersion", "7")
    return out


def container(name: str = "web", image: str = "nginx:1.25", **extra: Any) -> JSON:
    return {"name": name, "image": image, **extra}


def pod(**spec: Any) -> JSON:
    return apply_defaults(POD, {"apiVersion": "v1", "kind": "Pod", "metadata": meta("web"),
                                "spec": {"containers": [container(ports=[{"containerPort": 80}])], **spec}})


def template(labels: JSON | None = None, restart: str | None = None, **spec: Any) -> JSON:
    pod_spec: JSON = {"containers": [container()], **spec}
    if restart:
        pod_spec["restartPolicy"] = restart
    return {"metadata": {"labels": labels if labels is not None else {"app": "web"}}, "spec": pod_spec}


def deployment(**spec: Any) -> JSON:
    body = {"replicas": 2, "selector": {"matchLabels": {"app": "web"}}, "template": template(), **spec}
    return apply_defaults(DEPLOY, {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta("web"),
                                   "spec": body})


def replica_set(**spec: Any) -> JSON:
    body = {"replicas": 1, "selector": {"matchLabels": {"app": "web"}}, "template": template(), **spec}
    return apply_defaults(RS, {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": meta("web-5d9c"),
                               "spec": body})


def job(**spec: Any) -> JSON:
    labels = {"batch.kubernetes.io/controller-uid": "uid-pi", "batch.kubernetes.io/job-name": "pi",
              "controller-uid": "uid-pi", "job-name": "pi"}
    body = {"selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": "uid-pi"}},
            "template": template(labels, restart="Never"), **spec}
    return apply_defaults(JOB, {"apiVersion": "batch/v1", "kind": "Job", "metadata": meta("pi"), "spec": body})


def service(**spec: Any) -> JSON:
    body = {"selector": {"app": "web"}, "ports": [{"port": 80}], **spec}
    return apply_defaults(SVC, {"apiVersion": "v1", "kind": "Service", "metadata": meta("web"), "spec": body})


def namespace(**spec: Any) -> JSON:
    return apply_defaults(NS, {"apiVersion": "v1", "kind": "Namespace", "metadata": meta("team", None),
                               "spec": spec})


def node(**spec: Any) -> JSON:
    return {"apiVersion": "v1", "kind": "Node", "metadata": meta("node-1", None), "spec": spec,
            "status": {"capacity": {"cpu": "4", "memory": "8Gi", "pods": "110"}}}


def endpoints(**subset: Any) -> JSON:
    body = {"addresses": [{"ip": "10.244.1.5", "nodeName": "node-1"}], "ports": [{"port": 8080}], **subset}
    return apply_defaults(EP, {"apiVersion": "v1", "kind": "Endpoints", "metadata": meta("web"), "subsets": [body]})


def endpoint_slice(**fields: Any) -> JSON:
    body = {"addressType": "IPv4", "ports": [{"name": "http", "port": 8080}],
            "endpoints": [{"addresses": ["10.244.1.5"], "conditions": {"ready": True}, "nodeName": "node-1",
                           "hostname": "web-0", "hints": {"forZones": [{"name": "zone-a"}]}}], **fields}
    return apply_defaults(ESL, {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                                "metadata": meta("web-abcde"), **body})


def event(**fields: Any) -> JSON:
    return {"apiVersion": "v1", "kind": "Event", "metadata": meta("web.1813a2f0c4b2d9e1"),
            "involvedObject": {"kind": "Pod", "namespace": "default", "name": "web"},
            "reason": "Started", "message": "Started container web", "type": "Normal", **fields}


def lease(**spec: Any) -> JSON:
    return {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": meta("node-1", "kube-node-lease"),
            "spec": {"holderIdentity": "node-1", "leaseDurationSeconds": 40, **spec}}


VALID: list[tuple[str, tuple[str, str], Callable[[], JSON]]] = [
    ("pod", POD, pod),
    ("pod-with-everything", POD, lambda: pod(
        volumes=[{"name": "data", "emptyDir": {}}, {"name": "cfg", "configMap": {"name": "app"}}],
        initContainers=[container("init", "busybox:1.36", command=["true"])],
        containers=[container(
            ports=[{"name": "http", "containerPort": 8080}],
            volumeMounts=[{"name": "data", "mountPath": "/data"}, {"name": "cfg", "mountPath": "/etc/app"}],
            resources={"requests": {"cpu": "250m", "memory": "64Mi"}, "limits": {"cpu": "0.5", "memory": "128Mi"}},
            livenessProbe={"httpGet": {"port": "http"}}, readinessProbe={"tcpSocket": {"port": 8080}},
            env=[{"name": "MODE", "value": "prod"}])],
        tolerations=[{"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"}],
        nodeSelector={"kubernetes.io/os": "linux"}, activeDeadlineSeconds=600)),
    ("deployment", DEPLOY, deployment),
    ("deployment-recreate", DEPLOY, lambda: deployment(strategy={"type": "Recreate"})),
    ("deployment-match-expressions", DEPLOY, lambda: deployment(
        selector={"matchExpressions": [{"key": "app", "operator": "In", "values": ["web", "api"]}]})),
    ("replicaset", RS, replica_set),
    ("job", JOB, job),
    ("service", SVC, service),
    ("service-headless", SVC, lambda: service(clusterIP="None", ports=[])),
    ("service-nodeport", SVC, lambda: service(type="NodePort", ports=[
        {"name": "http", "port": 80, "nodePort": 30080}, {"name": "https", "port": 443, "targetPort": "https"}])),
    ("service-externalname", SVC, lambda: service(type="ExternalName", externalName="db.example.com.", ports=[],
                                                  selector=None)),
    ("namespace", NS, namespace),
    ("node", NODE, lambda: node(taints=[{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}])),
    ("endpoints", EP, endpoints),
    ("endpointslice", ESL, endpoint_slice),
    ("endpointslice-placeholder", ESL, lambda: endpoint_slice(ports=None, endpoints=None)),
    ("endpointslice-fqdn", ESL, lambda: endpoint_slice(addressType="FQDN", endpoints=[{"addresses": ["db.example.com"]}])),
    ("event", EVENT, event),
    ("lease", LEASE, lease),
]


@pytest.mark.parametrize(("kind_key", "factory"), [(k, f) for _, k, f in VALID], ids=[i for i, _, _ in VALID])
def test_valid_objects_pass(kind_key: tuple[str, str], factory: Callable[[], JSON]) -> None:
    assert validate(kind_key, factory()) == []


@pytest.mark.parametrize(("kind_key", "factory"), [(k, f) for _, k, f in VALID], ids=[i for i, _, _ in VALID])
def test_unchanged_updates_pass(kind_key: tuple[str, str], factory: Callable[[], JSON]) -> None:
    old = stored(kind_key, factory())
    assert validate(kind_key, copy.deepcopy(old), old) == []


def edit(factory: Callable[[], JSON], change: Callable[[JSON], Any]) -> Callable[[], JSON]:
    def build() -> JSON:
        obj = factory()
        change(obj)
        return obj
    return build


def c0(obj: JSON) -> JSON:
    return obj["spec"]["containers"][0]


def tc0(obj: JSON) -> JSON:
    return obj["spec"]["template"]["spec"]["containers"][0]


Case = tuple[str, tuple[str, str], Callable[[], JSON], str, str, str]

CREATE_CASES: list[Case] = [
    # ObjectMeta
    ("name-required", POD, edit(pod, lambda o: o["metadata"].pop("name")),
     "metadata.name", "FieldValueRequired", "Required value: name or generateName is required"),
    ("name-subdomain", POD, edit(pod, lambda o: o["metadata"].update(name="Web_1")),
     "metadata.name", "FieldValueInvalid", f'Invalid value: "Web_1": {SUBDOMAIN_MSG}'),
    ("generate-name-prefix", POD, edit(pod, lambda o: o["metadata"].update(name="x", generateName="Web-")),
     "metadata.generateName", "FieldValueInvalid", f'Invalid value: "Web-": {SUBDOMAIN_MSG}'),
    ("namespace-name-label", NS, edit(namespace, lambda o: o["metadata"].update(name="team.a")),
     "metadata.name", "FieldValueInvalid", 'Invalid value: "team.a": must not contain dots'),
    ("namespace-name-long", NS, edit(namespace, lambda o: o["metadata"].update(name="a" * 64)),
     "metadata.name", "FieldValueInvalid", f'Invalid value: "{"a" * 64}": must be no more than 63 characters'),
    ("service-name-dns1035", SVC, edit(service, lambda o: o["metadata"].update(name="1web")),
     "metadata.name", "FieldValueInvalid", f'Invalid value: "1web": {DNS1035_MSG}'),
    ("label-key", POD, edit(pod, lambda o: o["metadata"].update(labels={"bad key": "x"})),
     "metadata.labels", "FieldValueInvalid", f'Invalid value: "bad key": {KEY_NAME_MSG}'),
    ("label-key-prefix", POD, edit(pod, lambda o: o["metadata"].update(labels={"Example.com/app": "x"})),
     "metadata.labels", "FieldValueInvalid",
     f'Invalid value: "Example.com/app": prefix part {SUBDOMAIN_MSG}'),
    ("label-value", POD, edit(pod, lambda o: o["metadata"].update(labels={"app": "web app"})),
     "metadata.labels", "FieldValueInvalid", f'Invalid value: "web app": {LABEL_VALUE_MSG}'),
    ("label-value-long", POD, edit(pod, lambda o: o["metadata"].update(labels={"app": "x" * 64})),
     "metadata.labels", "FieldValueInvalid", f'Invalid value: "{"x" * 64}": must be no more than 63 characters'),
    ("label-value-type", POD, edit(pod, lambda o: o["metadata"].update(labels={"replicas": 3})),
     "metadata.labels", "FieldValueTypeInvalid", "Invalid value: 3: label values must be strings"),
    ("annotation-key", POD, edit(pod, lambda o: o["metadata"].update(annotations={"a/b/c": "x"})),
     "metadata.annotations", "FieldValueInvalid",
     'Invalid value: "a/b/c": a qualified name must consist of alphanumeric characters, \'-\', \'_\' or \'.\', and '
     "must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
     "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' "
     "(e.g. 'example.com/MyName')"),
    ("annotations-size", POD, edit(pod, lambda o: o["metadata"].update(annotations={"big": "x" * 262142})),
     "metadata.annotations", "FieldValueTooLong", "Too long: may not be more than 262144 bytes"),
    ("two-controllers", POD, edit(pod, lambda o: o["metadata"].update(ownerReferences=[
        {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "a", "uid": "1", "controller": True},
        {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "b", "uid": "2", "controller": True}])),
     "metadata.ownerReferences", "FieldValueInvalid",
     'Invalid value: []v1.OwnerReference{...}: Only one reference can have Controller set to true. Found "true" in '
     "references for ReplicaSet/a and ReplicaSet/b"),
    ("owner-uid", POD, edit(pod, lambda o: o["metadata"].update(ownerReferences=[
        {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "a", "uid": ""}])),
     "metadata.ownerReferences.uid", "FieldValueInvalid", 'Invalid value: "": must not be empty'),
    ("finalizer-unqualified", POD, edit(pod, lambda o: o["metadata"].update(finalizers=["cleanup"])),
     "metadata.finalizers[0]", "FieldValueInvalid",
     'Invalid value: "cleanup": name is neither a standard finalizer name nor is it fully qualified'),
    ("finalizers-orphan-and-foreground", POD,
     edit(pod, lambda o: o["metadata"].update(finalizers=["orphan", "foregroundDeletion"])),
     "metadata.finalizers", "FieldValueInvalid",
     'Invalid value: []string{"orphan", "foregroundDeletion"}: finalizer orphan and foregroundDeletion cannot be '
     "both set"),
    ("cluster-scoped-namespace", NODE, edit(node, lambda o: o["metadata"].update(namespace="default")),
     "metadata.namespace", "FieldValueForbidden", "Forbidden: not allowed on this type"),
    # Pod spec
    ("containers-required", POD, edit(pod, lambda o: o["spec"].update(containers=[])),
     "spec.containers", "FieldValueRequired", "Required value"),
    ("image-required", POD, edit(pod, lambda o: c0(o).pop("image")),
     "spec.containers[0].image", "FieldValueRequired", "Required value"),
    ("container-name", POD, edit(pod, lambda o: c0(o).update(name="Web")),
     "spec.containers[0].name", "FieldValueInvalid", f'Invalid value: "Web": {LABEL_MSG}'),
    ("container-name-duplicate", POD, edit(pod, lambda o: o["spec"]["containers"].append(
        apply_defaults(POD, pod())["spec"]["containers"][0])),
     "spec.containers[1].name", "FieldValueDuplicate", 'Duplicate value: "web"'),
    ("init-name-duplicate", POD, edit(pod, lambda o: o["spec"].update(initContainers=[
        {**c0(o), "ports": []}])),
     "spec.initContainers[0].name", "FieldValueDuplicate", 'Duplicate value: "web"'),
    ("container-port-range", POD, edit(pod, lambda o: c0(o)["ports"][0].update(containerPort=70000)),
     "spec.containers[0].ports[0].containerPort", "FieldValueInvalid", f"Invalid value: 70000: {PORT_RANGE}"),
    ("container-port-protocol", POD, edit(pod, lambda o: c0(o)["ports"][0].update(protocol="HTTP")),
     "spec.containers[0].ports[0].protocol", "FieldValueNotSupported",
     'Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"'),
    ("container-port-name", POD, edit(pod, lambda o: c0(o)["ports"][0].update(name="web--port")),
     "spec.containers[0].ports[0].name", "FieldValueInvalid",
     'Invalid value: "web--port": must not contain consecutive hyphens'),
    ("pull-policy", POD, edit(pod, lambda o: c0(o).update(imagePullPolicy="Sometimes")),
     "spec.containers[0].imagePullPolicy", "FieldValueNotSupported",
     'Unsupported value: "Sometimes": supported values: "Always", "IfNotPresent", "Never"'),
    ("requests-over-limits", POD, edit(pod, lambda o: c0(o).update(
        resources={"limits": {"cpu": "500m"}, "requests": {"cpu": "1"}})),
     "spec.containers[0].resources.requests", "FieldValueInvalid",
     'Invalid value: "1": must be less than or equal to cpu limit of 500m'),
    ("memory-requests-over-limits", POD, edit(pod, lambda o: c0(o).update(
        resources={"limits": {"memory": "0.5Gi"}, "requests": {"memory": "1Gi"}})),
     "spec.containers[0].resources.requests", "FieldValueInvalid",
     'Invalid value: "1Gi": must be less than or equal to memory limit of 512Mi'),
    ("quantity-format", POD, edit(pod, lambda o: c0(o).update(resources={"limits": {"memory": "1 GB"}})),
     "spec.containers[0].resources.limits[memory]", "FieldValueInvalid",
     "Invalid value: \"1 GB\": quantities must match the regular expression "
     "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"),
    ("quantity-negative", POD, edit(pod, lambda o: c0(o).update(resources={"requests": {"cpu": "-100m"}})),
     "spec.containers[0].resources.requests[cpu]", "FieldValueInvalid",
     'Invalid value: "-100m": must be greater than or equal to 0'),
    ("resource-name", POD, edit(pod, lambda o: c0(o).update(resources={"limits": {"gpu": "1"}})),
     "spec.containers[0].resources.limits[gpu]", "FieldValueInvalid",
     'Invalid value: "gpu": must be a standard resource for containers'),
    ("restart-policy", POD, edit(pod, lambda o: o["spec"].update(restartPolicy="Sometimes")),
     "spec.restartPolicy", "FieldValueNotSupported",
     'Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"'),
    ("dns-policy", POD, edit(pod, lambda o: o["spec"].update(dnsPolicy="Google")),
     "spec.dnsPolicy", "FieldValueNotSupported",
     'Unsupported value: "Google": supported values: "ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"'),
    ("probe-timeout", POD, edit(pod, lambda o: c0(o).update(readinessProbe={
        "tcpSocket": {"port": 80}, "timeoutSeconds": -1, "periodSeconds": 10, "successThreshold": 1,
        "failureThreshold": 3})),
     "spec.containers[0].readinessProbe.timeoutSeconds", "FieldValueInvalid",
     "Invalid value: -1: must be greater than or equal to 0"),
    ("liveness-success-threshold", POD, edit(pod, lambda o: c0(o).update(livenessProbe={
        "exec": {"command": ["true"]}, "timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 2,
        "failureThreshold": 3})),
     "spec.containers[0].livenessProbe.successThreshold", "FieldValueInvalid", "Invalid value: 2: must be 1"),
    ("probe-handler", POD, edit(pod, lambda o: c0(o).update(livenessProbe={
        "timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3})),
     "spec.containers[0].livenessProbe", "FieldValueRequired", "Required value: must specify a handler type"),
    ("probe-port", POD, edit(pod, lambda o: c0(o).update(readinessProbe={
        "httpGet": {"port": 0, "path": "/", "scheme": "HTTP"}, "timeoutSeconds": 1, "periodSeconds": 10,
        "successThreshold": 1, "failureThreshold": 3})),
     "spec.containers[0].readinessProbe.httpGet.port", "FieldValueInvalid", f"Invalid value: 0: {PORT_RANGE}"),
    ("init-probe-forbidden", POD, edit(pod, lambda o: o["spec"].update(initContainers=[container(
        "init", terminationMessagePolicy="File", imagePullPolicy="IfNotPresent",
        readinessProbe={"exec": {"command": ["true"]}})])),
     "spec.initContainers[0].readinessProbe", "FieldValueForbidden",
     "Forbidden: may not be set for init containers without restartPolicy=Always"),
    ("volume-mount-missing", POD, edit(pod, lambda o: c0(o).update(volumeMounts=[{"name": "data",
                                                                                 "mountPath": "/data"}])),
     "spec.containers[0].volumeMounts[0].name", "FieldValueNotFound", 'Not found: "data"'),
    ("volume-name-duplicate", POD, edit(pod, lambda o: o["spec"].update(volumes=[
        {"name": "data", "emptyDir": {}}, {"name": "data", "emptyDir": {}}])),
     "spec.volumes[1].name", "FieldValueDuplicate", 'Duplicate value: "data"'),
    ("volume-two-sources", POD, edit(pod, lambda o: o["spec"].update(volumes=[
        {"name": "data", "emptyDir": {}, "hostPath": {"path": "/x", "type": ""}}])),
     "spec.volumes[0].emptyDir", "FieldValueForbidden", "Forbidden: may not specify more than 1 volume type"),
    ("configmap-name", POD, edit(pod, lambda o: o["spec"].update(volumes=[
        {"name": "cfg", "configMap": {"defaultMode": 420}}])),
     "spec.volumes[0].configMap.name", "FieldValueRequired", "Required value"),
    ("active-deadline", POD, edit(pod, lambda o: o["spec"].update(activeDeadlineSeconds=0)),
     "spec.activeDeadlineSeconds", "FieldValueInvalid", "Invalid value: 0: must be between 1 and 2147483647, inclusive"),
    ("toleration-operator", POD, edit(pod, lambda o: o["spec"]["tolerations"].append(
        {"key": "a", "operator": "Matches"})),
     "spec.tolerations[2].operator", "FieldValueNotSupported",
     'Unsupported value: "Matches": supported values: "Equal", "Exists"'),
    ("toleration-seconds-effect", POD, edit(pod, lambda o: o["spec"]["tolerations"].append(
        {"key": "a", "operator": "Exists", "effect": "NoSchedule", "tolerationSeconds": 5})),
     "spec.tolerations[2].effect", "FieldValueInvalid",
     "Invalid value: \"NoSchedule\": effect must be 'NoExecute' when `tolerationSeconds` is set"),
    ("ephemeral-on-create", POD, edit(pod, lambda o: o["spec"].update(ephemeralContainers=[
        {"name": "debug", "image": "busybox"}])),
     "spec.ephemeralContainers", "FieldValueForbidden", "Forbidden: cannot be set on create"),
    # Deployment / ReplicaSet
    ("selector-mismatch", DEPLOY, edit(deployment, lambda o: o["spec"]["template"]["metadata"].update(
        labels={"app": "x"})),
     "spec.template.metadata.labels", "FieldValueInvalid",
     'Invalid value: map[string]string{"app":"x"}: `selector` does not match template `labels`'),
    ("selector-required", DEPLOY, edit(deployment, lambda o: o["spec"].pop("selector")),
     "spec.selector", "FieldValueRequired", "Required value"),
    ("selector-empty", DEPLOY, edit(deployment, lambda o: o["spec"].update(selector={})),
     "spec.selector", "FieldValueInvalid",
     "Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), "
     "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for deployment"),
    ("selector-operator", DEPLOY, edit(deployment, lambda o: o["spec"].update(
        selector={"matchExpressions": [{"key": "app", "operator": "Is", "values": ["web"]}]})),
     "spec.selector.matchExpressions[0].operator", "FieldValueInvalid",
     'Invalid value: "Is": not a valid selector operator'),
    ("template-labels-path", DEPLOY, edit(deployment, lambda o: o["spec"]["template"]["metadata"]["labels"].update(
        {"tier": "-bad"})),
     "spec.template.labels", "FieldValueInvalid", f'Invalid value: "-bad": {LABEL_VALUE_MSG}'),
    ("template-image", DEPLOY, edit(deployment, lambda o: tc0(o).pop("image")),
     "spec.template.spec.containers[0].image", "FieldValueRequired", "Required value"),
    ("replicas-negative", DEPLOY, edit(deployment, lambda o: o["spec"].update(replicas=-1)),
     "spec.replicas", "FieldValueInvalid", "Invalid value: -1: must be greater than or equal to 0"),
    ("template-restart-always", DEPLOY, edit(deployment, lambda o: o["spec"]["template"]["spec"].update(
        restartPolicy="OnFailure")),
     "spec.template.spec.restartPolicy", "FieldValueNotSupported",
     'Unsupported value: "OnFailure": supported values: "Always"'),
    ("strategy-type", DEPLOY, edit(deployment, lambda o: o["spec"].update(strategy={"type": "BlueGreen"})),
     "spec.strategy", "FieldValueNotSupported",
     'Unsupported value: apps.DeploymentStrategy{Type:"BlueGreen", RollingUpdate:(*apps.RollingUpdateDeployment)'
     '(nil)}: supported values: "Recreate", "RollingUpdate"'),
    ("both-zero", DEPLOY, edit(deployment, lambda o: o["spec"]["strategy"].update(
        rollingUpdate={"maxSurge": 0, "maxUnavailable": 0})),
     "spec.strategy.rollingUpdate.maxUnavailable", "FieldValueInvalid",
     'Invalid value: intstr.IntOrString{Type:0, IntVal:0, StrVal:""}: may not be 0 when `maxSurge` is 0'),
    ("both-zero-percent", DEPLOY, edit(deployment, lambda o: o["spec"]["strategy"].update(
        rollingUpdate={"maxSurge": "0%", "maxUnavailable": 0})),
     "spec.strategy.rollingUpdate.maxUnavailable", "FieldValueInvalid",
     'Invalid value: intstr.IntOrString{Type:0, IntVal:0, StrVal:""}: may not be 0 when `maxSurge` is 0'),
    ("max-unavailable-over-100", DEPLOY, edit(deployment, lambda o: o["spec"]["strategy"]["rollingUpdate"].update(
        maxUnavailable="110%")),
     "spec.strategy.rollingUpdate.maxUnavailable", "FieldValueInvalid",
     'Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:"110%"}: must not be greater than 100%'),
    ("max-surge-format", DEPLOY, edit(deployment, lambda o: o["spec"]["strategy"]["rollingUpdate"].update(
        maxSurge="20Percent")),
     "spec.strategy.rollingUpdate.maxSurge", "FieldValueInvalid",
     f'Invalid value: intstr.IntOrString{{Type:1, IntVal:0, StrVal:"20Percent"}}: {PERCENT_MSG}'),
    ("max-surge-negative", DEPLOY, edit(deployment, lambda o: o["spec"]["strategy"]["rollingUpdate"].update(
        maxSurge=-1)),
     "spec.strategy.rollingUpdate.maxSurge", "FieldValueInvalid",
     "Invalid value: -1: must be greater than or equal to 0"),
    ("recreate-rolling-update", DEPLOY, edit(deployment, lambda o: o["spec"]["strategy"].update(type="Recreate")),
     "spec.strategy.rollingUpdate", "FieldValueForbidden",
     "Forbidden: may not be specified when strategy `type` is 'Recreate'"),
    ("progress-deadline", DEPLOY, edit(deployment, lambda o: o["spec"].update(minReadySeconds=600)),
     "spec.progressDeadlineSeconds", "FieldValueInvalid", "Invalid value: 600: must be greater than minReadySeconds"),
    ("revision-history", DEPLOY, edit(deployment, lambda o: o["spec"].update(revisionHistoryLimit=-2)),
     "spec.revisionHistoryLimit", "FieldValueInvalid", "Invalid value: -2: must be greater than or equal to 0"),
    ("rs-selector-mismatch", RS, edit(replica_set, lambda o: o["spec"]["selector"]["matchLabels"].update(
        {"pod-template-hash": "5d9c"})),
     "spec.template.metadata.labels", "FieldValueInvalid",
     'Invalid value: map[string]string{"app":"web"}: `selector` does not match template `labels`'),
    ("rs-active-deadline", RS, edit(replica_set, lambda o: o["spec"]["template"]["spec"].update(
        activeDeadlineSeconds=30)),
     "spec.template.spec.activeDeadlineSeconds", "FieldValueForbidden",
     "Forbidden: activeDeadlineSeconds in ReplicaSet is not Supported"),
    # Job
    ("job-restart-default", JOB, edit(job, lambda o: o["spec"]["template"]["spec"].pop("restartPolicy")),
     "spec.template.spec.restartPolicy", "FieldValueRequired", 'Required value: valid values: "OnFailure", "Never"'),
    ("job-restart-always", JOB, edit(job, lambda o: o["spec"]["template"]["spec"].update(restartPolicy="Always")),
     "spec.template.spec.restartPolicy", "FieldValueRequired", 'Required value: valid values: "OnFailure", "Never"'),
    ("job-restart-unsupported", JOB, edit(job, lambda o: o["spec"]["template"]["spec"].update(
        restartPolicy="Sometimes")),
     "spec.template.spec.restartPolicy", "FieldValueNotSupported",
     'Unsupported value: "Sometimes": supported values: "OnFailure", "Never"'),
    ("job-parallelism", JOB, edit(job, lambda o: o["spec"].update(parallelism=-1)),
     "spec.parallelism", "FieldValueInvalid", "Invalid value: -1: must be greater than or equal to 0"),
    ("job-completions", JOB, edit(job, lambda o: o["spec"].update(completions=-3)),
     "spec.completions", "FieldValueInvalid", "Invalid value: -3: must be greater than or equal to 0"),
    ("job-backoff", JOB, edit(job, lambda o: o["spec"].update(backoffLimit=-1)),
     "spec.backoffLimit", "FieldValueInvalid", "Invalid value: -1: must be greater than or equal to 0"),
    ("job-deadline", JOB, edit(job, lambda o: o["spec"].update(activeDeadlineSeconds=-5)),
     "spec.activeDeadlineSeconds", "FieldValueInvalid", "Invalid value: -5: must be greater than or equal to 0"),
    ("job-completion-mode", JOB, edit(job, lambda o: o["spec"].update(completionMode="Sparse")),
     "spec.completionMode", "FieldValueNotSupported",
     'Unsupported value: "Sparse": supported values: "NonIndexed", "Indexed"'),
    ("job-indexed-needs-completions", JOB, edit(job, lambda o: o["spec"].update(completionMode="Indexed",
                                                                                completions=None)),
     "spec.completions", "FieldValueRequired", "Required value: when completion mode is Indexed"),
    ("job-name-too-long-for-label", JOB, edit(job, lambda o: o["spec"]["template"]["metadata"]["labels"].update(
        {"job-name": "p" * 64})),
     "spec.template.labels", "FieldValueInvalid", f'Invalid value: "{"p" * 64}": must be no more than 63 characters'),
    # Service
    ("ports-required", SVC, edit(service, lambda o: o["spec"].update(ports=[])),
     "spec.ports", "FieldValueRequired", "Required value"),
    ("port-range", SVC, edit(service, lambda o: o["spec"]["ports"][0].update(port=0)),
     "spec.ports[0].port", "FieldValueInvalid", f"Invalid value: 0: {PORT_RANGE}"),
    ("port-names-required", SVC, edit(service, lambda o: o["spec"]["ports"].append(
        {"name": "https", "port": 443, "protocol": "TCP", "targetPort": 443})),
     "spec.ports[0].name", "FieldValueRequired", "Required value"),
    ("port-names-unique", SVC, edit(service, lambda o: o["spec"].update(ports=[
        {"name": "web", "port": 80, "protocol": "TCP", "targetPort": 80},
        {"name": "web", "port": 81, "protocol": "TCP", "targetPort": 81}])),
     "spec.ports[1].name", "FieldValueDuplicate", 'Duplicate value: "web"'),
    ("port-protocol", SVC, edit(service, lambda o: o["spec"]["ports"][0].update(protocol="ICMP")),
     "spec.ports[0].protocol", "FieldValueNotSupported",
     'Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"'),
    ("target-port-number", SVC, edit(service, lambda o: o["spec"]["ports"][0].update(targetPort=70000)),
     "spec.ports[0].targetPort", "FieldValueInvalid", f"Invalid value: 70000: {PORT_RANGE}"),
    ("target-port-name", SVC, edit(service, lambda o: o["spec"]["ports"][0].update(targetPort="http_port")),
     "spec.ports[0].targetPort", "FieldValueInvalid",
     'Invalid value: "http_port": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)'),
    ("duplicate-port", SVC, edit(service, lambda o: o["spec"].update(ports=[
        {"name": "a", "port": 80, "protocol": "TCP", "targetPort": 80},
        {"name": "b", "port": 80, "protocol": "TCP", "targetPort": 8080}])),
     "spec.ports[1]", "FieldValueDuplicate",
     'Duplicate value: core.ServicePort{Name:"", Protocol:"TCP", AppProtocol:(*string)(nil), Port:80, '
     'TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}'),
    ("service-type", SVC, edit(service, lambda o: o["spec"].update(type="Ingress")),
     "spec.type", "FieldValueNotSupported",
     'Unsupported value: "Ingress": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"'),
    ("node-port-on-cluster-ip", SVC, edit(service, lambda o: o["spec"]["ports"][0].update(nodePort=30080)),
     "spec.ports[0].nodePort", "FieldValueForbidden", "Forbidden: may not be used when `type` is 'ClusterIP'"),
    ("node-port-range", SVC, edit(lambda: service(type="NodePort"), lambda o: o["spec"]["ports"][0].update(
        nodePort=80)),
     "spec.ports[0].nodePort", "FieldValueInvalid",
     "Invalid value: 80: provided port is not in the valid range. The range of valid ports is 30000-32767"),
    ("external-name-required", SVC, lambda: service(type="ExternalName", ports=[]),
     "spec.externalName", "FieldValueRequired", "Required value"),
    ("headless-node-port", SVC, edit(lambda: service(type="NodePort"), lambda o: o["spec"].update(
        clusterIP="None")),
     "spec.clusterIPs[0]", "FieldValueInvalid", "Invalid value: \"None\": may not be set to 'None' for NodePort services"),
    ("cluster-ip-format", SVC, edit(service, lambda o: o["spec"].update(clusterIP="10.96.0.300")),
     "spec.clusterIPs[0]", "FieldValueInvalid",
     'Invalid value: "10.96.0.300": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'),
    ("session-affinity", SVC, edit(service, lambda o: o["spec"].update(sessionAffinity="Cookie")),
     "spec.sessionAffinity", "FieldValueNotSupported",
     'Unsupported value: "Cookie": supported values: "ClientIP", "None"'),
    ("external-traffic-policy-on-cluster-ip", SVC, edit(service, lambda o: o["spec"].update(
        externalTrafficPolicy="Local")),
     "spec.externalTrafficPolicy", "FieldValueInvalid",
     'Invalid value: "Local": may only be set for externally-accessible services'),
    # Node, Namespace, Endpoints, Event, Lease
    ("node-taint-effect", NODE, lambda: node(taints=[{"key": "dedicated", "effect": "NoRun"}]),
     "metadata.taints[0].effect", "FieldValueNotSupported",
     'Unsupported value: "NoRun": supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"'),
    ("node-capacity", NODE, edit(node, lambda o: o["status"]["capacity"].update(cpu="four")),
     "status.capacity.cpu", "FieldValueInvalid",
     "Invalid value: \"four\": quantities must match the regular expression "
     "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"),
    ("namespace-finalizer", NS, lambda: namespace(finalizers=["kubernetes", "custom"]),
     "spec.finalizers", "FieldValueInvalid",
     'Invalid value: "custom": name is neither a standard finalizer name nor is it fully qualified'),
    ("endpoint-ip", EP, edit(endpoints, lambda o: o["subsets"][0]["addresses"][0].update(ip="10.244.1")),
     "subsets[0].addresses[0].ip", "FieldValueInvalid",
     'Invalid value: "10.244.1": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'),
    ("endpoint-loopback", EP, edit(endpoints, lambda o: o["subsets"][0]["addresses"][0].update(ip="127.0.0.1")),
     "subsets[0].addresses[0].ip", "FieldValueInvalid",
     'Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)'),
    ("endpoint-port", EP, edit(endpoints, lambda o: o["subsets"][0]["ports"][0].update(port=0)),
     "subsets[0].ports[0].port", "FieldValueInvalid", f"Invalid value: 0: {PORT_RANGE}"),
    ("endpoint-addresses", EP, lambda: endpoints(addresses=[]),
     "subsets[0]", "FieldValueRequired", "Required value: must specify `addresses` or `notReadyAddresses`"),
    ("slice-address-type", ESL, lambda: endpoint_slice(addressType="IP"),
     "addressType", "FieldValueNotSupported", 'Unsupported value: "IP": supported values: "FQDN", "IPv4", "IPv6"'),
    ("slice-address-type-required", ESL, edit(endpoint_slice, lambda o: o.pop("addressType")),
     "addressType", "FieldValueRequired", "Required value"),
    ("slice-ipv4", ESL, edit(endpoint_slice, lambda o: o["endpoints"][0].update(addresses=["fd00::1"])),
     "endpoints[0].addresses[0]", "FieldValueInvalid", 'Invalid value: "fd00::1": must be a valid IPv4 address'),
    ("slice-link-local", ESL, edit(endpoint_slice, lambda o: o["endpoints"][0].update(addresses=["169.254.1.1"])),
     "endpoints[0].addresses[0]", "FieldValueInvalid",
     'Invalid value: "169.254.1.1": may not be in the link-local range (169.254.0.0/16, fe80::/10)'),
    ("slice-no-addresses", ESL, edit(endpoint_slice, lambda o: o["endpoints"][0].update(addresses=[])),
     "endpoints[0].addresses", "FieldValueRequired", "Required value: must contain at least 1 address"),
    ("slice-too-many-endpoints", ESL, lambda: endpoint_slice(endpoints=[{"addresses": ["10.0.0.1"]}] * 1001),
     "endpoints", "FieldValueTooMany", "Too many: 1001: must have at most 1000 items"),
    ("slice-hostname", ESL, edit(endpoint_slice, lambda o: o["endpoints"][0].update(hostname="Web")),
     "endpoints[0].hostname", "FieldValueInvalid", f'Invalid value: "Web": {LABEL_MSG}'),
    ("slice-fqdn", ESL, lambda: endpoint_slice(addressType="FQDN", endpoints=[{"addresses": ["localhost"]}]),
     "endpoints[0].addresses[0]", "FieldValueInvalid",
     'Invalid value: "localhost": should be a domain with at least two segments separated by dots'),
    ("slice-port-name-duplicate", ESL, lambda: endpoint_slice(ports=[{"name": "a", "port": 1, "protocol": "TCP"},
                                                                     {"name": "a", "port": 2, "protocol": "TCP"}]),
     "ports[1].name", "FieldValueDuplicate", 'Duplicate value: "a"'),
    ("slice-port-protocol", ESL, edit(endpoint_slice, lambda o: o["ports"][0].update(protocol="HTTP")),
     "ports[0].protocol", "FieldValueNotSupported", 'Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"'),
    ("slice-zone-hints", ESL, edit(endpoint_slice, lambda o: o["endpoints"][0]["hints"]["forZones"].append(
        {"name": "zone-a"})),
     "endpoints[0].hints.forZones[1].name", "FieldValueDuplicate", 'Duplicate value: "zone-a"'),
    ("event-namespace", EVENT, edit(event, lambda o: o["involvedObject"].update(namespace="kube-system")),
     "involvedObject.namespace", "FieldValueInvalid", 'Invalid value: "kube-system": does not match event.namespace'),
    ("event-name-path", EVENT, edit(event, lambda o: o["metadata"].update(name="a/b")),
     "metadata.name", "FieldValueInvalid", "Invalid value: \"a/b\": may not contain '/'"),
    ("lease-duration", LEASE, lambda: lease(leaseDurationSeconds=0),
     "spec.leaseDurationSeconds", "FieldValueInvalid", "Invalid value: 0: must be greater than 0"),
    ("lease-transitions", LEASE, lambda: lease(leaseTransitions=-1),
     "spec.leaseTransitions", "FieldValueInvalid", "Invalid value: -1: must be greater than or equal to 0"),
]


@pytest.mark.parametrize(("kind_key", "factory", "field", "reason", "message"),
                         [c[1:] for c in CREATE_CASES], ids=[c[0] for c in CREATE_CASES])
def test_create_rule_reports_kubernetes_cause(kind_key: tuple[str, str], factory: Callable[[], JSON], field: str,
                                              reason: str, message: str) -> None:
    causes = [(c.field, c.type, c.message) for c in validate(kind_key, factory())]
    assert (field, reason, message) in causes


def deleting(obj: JSON) -> JSON:
    obj["metadata"].update(deletionTimestamp="2026-07-01T12:01:00Z", deletionGracePeriodSeconds=0,
                           finalizers=["example.com/keep"])
    return obj


UpdateCase = tuple[str, tuple[str, str], Callable[[], JSON], Callable[[JSON], Any], str, str, str]

UPDATE_CASES: list[UpdateCase] = [
    ("no-new-finalizers", POD, lambda: deleting(pod()),
     lambda o: o["metadata"]["finalizers"].append("x.io/y"),
     "metadata.finalizers", "FieldValueForbidden",
     'Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers '
     '[]string{"x.io/y"}'),
    ("slice-address-type-immutable", ESL, endpoint_slice, lambda o: o.update(addressType="IPv6", endpoints=[]),
     "addressType", "FieldValueInvalid", 'Invalid value: "IPv6": field is immutable'),
    ("name-immutable", DEPLOY, deployment, lambda o: o["metadata"].update(name="other"),
     "metadata.name", "FieldValueInvalid", 'Invalid value: "other": field is immutable'),
    ("uid-immutable", DEPLOY, deployment, lambda o: o["metadata"].update(uid="u2"),
     "metadata.uid", "FieldValueInvalid", 'Invalid value: "u2": field is immutable'),
    ("creation-timestamp-immutable", DEPLOY, deployment,
     lambda o: o["metadata"].update(creationTimestamp="2026-07-02T00:00:00Z"),
     "metadata.creationTimestamp", "FieldValueInvalid", "Invalid value: 2026-07-02 00:00:00 +0000 UTC: field is immutable"),
    ("resource-version-required", DEPLOY, deployment, lambda o: o["metadata"].pop("resourceVersion"),
     "metadata.resourceVersion", "FieldValueInvalid", 'Invalid value: "": must be specified for an update'),
    ("pod-spec-immutable", POD, pod, lambda o: c0(o)["ports"][0].update(containerPort=8080),
     "spec", "FieldValueForbidden", f"Forbidden: {POD_UPDATE_MSG}"),
    ("pod-node-name", POD, lambda: pod(nodeName="node-1"), lambda o: o["spec"].update(nodeName="node-2"),
     "spec", "FieldValueForbidden", f"Forbidden: {POD_UPDATE_MSG}"),
    ("pod-add-container", POD, pod, lambda o: o["spec"]["containers"].append(container("sidecar")),
     "spec.containers", "FieldValueForbidden", "Forbidden: pod updates may not add or remove containers"),
    ("pod-remove-toleration", POD,
     lambda: pod(tolerations=[{"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"}]),
     lambda o: o["spec"]["tolerations"].pop(0),
     "spec.tolerations", "FieldValueForbidden",
     "Forbidden: existing toleration can not be modified except its tolerationSeconds"),
    ("pod-deadline-raise", POD, lambda: pod(activeDeadlineSeconds=60),
     lambda o: o["spec"].update(activeDeadlineSeconds=120),
     "spec.activeDeadlineSeconds", "FieldValueInvalid", "Invalid value: 120: must be less than or equal to previous value"),
    ("deployment-selector", DEPLOY, deployment, lambda o: (
        o["spec"]["selector"]["matchLabels"].update(tier="fe"), o["spec"]["template"]["metadata"]["labels"].update(
            tier="fe")),
     "spec.selector", "FieldValueInvalid",
     'Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"web", "tier":"fe"}, '
     "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable"),
    ("replicaset-selector", RS, replica_set, lambda o: o["spec"].update(
        selector={"matchExpressions": [{"key": "app", "operator": "Exists"}]}),
     "spec.selector", "FieldValueInvalid",
     'Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:'
     '[]v1.LabelSelectorRequirement{v1.LabelSelectorRequirement{Key:"app", Operator:"Exists", '
     "Values:[]string(nil)}}}: field is immutable"),
    ("job-selector", JOB, job, lambda o: o["spec"]["selector"]["matchLabels"].update({"job-name": "pi"}),
     "spec.selector", "FieldValueInvalid",
     'Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"batch.kubernetes.io/controller-uid":"uid-pi", '
     '"job-name":"pi"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable'),
    ("job-template", JOB, job, lambda o: tc0(o).update(image="perl:5.40"),
     "spec.template", "FieldValueInvalid", "Invalid value: core.PodTemplateSpec{...}: field is immutable"),
    ("job-completions", JOB, job, lambda o: o["spec"].update(completions=3),
     "spec.completions", "FieldValueInvalid", "Invalid value: 3: field is immutable"),
    ("service-cluster-ip", SVC, lambda: service(clusterIP="10.96.0.10", clusterIPs=["10.96.0.10"]),
     lambda o: o["spec"].update(clusterIP="10.96.0.11", clusterIPs=["10.96.0.11"]),
     "spec.clusterIPs[0]", "FieldValueInvalid", 'Invalid value: []string{"10.96.0.11"}: may not change once set'),
    ("node-provider-id", NODE, lambda: node(providerID="kind://node-1"),
     lambda o: o["spec"].update(providerID="kind://node-2"),
     "spec.providerID", "FieldValueForbidden",
     'Forbidden: node updates may not change providerID except from "" to valid'),
]


@pytest.mark.parametrize(("kind_key", "factory", "change", "field", "reason", "message"),
                         [c[1:] for c in UPDATE_CASES], ids=[c[0] for c in UPDATE_CASES])
def test_update_rule_reports_kubernetes_cause(kind_key: tuple[str, str], factory: Callable[[], JSON],
                                              change: Callable[[JSON], Any], field: str, reason: str,
                                              message: str) -> None:
    old = stored(kind_key, factory())
    new = copy.deepcopy(old)
    change(new)
    causes = [(c.field, c.type, c.message.split("\n")[0] + ("\n" if "\n" in c.message else ""))
              for c in validate(kind_key, apply_defaults(kind_key, new), old)]
    assert (field, reason, message) in causes


AllowedUpdate = tuple[str, tuple[str, str], Callable[[], JSON], Callable[[JSON], Any]]

ALLOWED_UPDATES: list[AllowedUpdate] = [
    ("pod-image", POD, pod, lambda o: c0(o).update(image="nginx:1.27")),
    ("pod-labels", POD, pod, lambda o: o["metadata"].update(labels={"app": "web", "rev": "2"})),
    ("pod-add-toleration", POD, pod, lambda o: o["spec"]["tolerations"].append(
        {"key": "x", "operator": "Exists", "effect": "NoSchedule"})),
    ("pod-toleration-seconds", POD, pod, lambda o: o["spec"]["tolerations"][0].update(tolerationSeconds=10)),
    ("pod-lower-deadline", POD, lambda: pod(activeDeadlineSeconds=60),
     lambda o: o["spec"].update(activeDeadlineSeconds=30)),
    ("pod-remove-finalizer-while-deleting", POD, lambda: deleting(pod()),
     lambda o: o["metadata"].update(finalizers=[])),
    ("deployment-scale-and-image", DEPLOY, deployment, lambda o: (o["spec"].update(replicas=5),
                                                                 tc0(o).update(image="nginx:1.27"))),
    ("suspended-job-scheduling", JOB, lambda: job(suspend=True),
     lambda o: o["spec"]["template"]["spec"].update(nodeSelector={"zone": "a"})),
    ("indexed-job-elastic", JOB, lambda: job(completionMode="Indexed", completions=2, parallelism=2),
     lambda o: o["spec"].update(completions=4, parallelism=4)),
    ("service-ports", SVC, lambda: service(clusterIP="10.96.0.10", clusterIPs=["10.96.0.10"]),
     lambda o: o["spec"]["ports"][0].update(targetPort=8080)),
    ("namespace-labels", NS, namespace, lambda o: o["metadata"]["labels"].update(team="a")),
]


@pytest.mark.parametrize(("kind_key", "factory", "change"), [c[1:] for c in ALLOWED_UPDATES],
                         ids=[c[0] for c in ALLOWED_UPDATES])
def test_allowed_updates_pass(kind_key: tuple[str, str], factory: Callable[[], JSON],
                              change: Callable[[JSON], Any]) -> None:
    old = stored(kind_key, factory())
    new = copy.deepcopy(old)
    change(new)
    assert validate(kind_key, apply_defaults(kind_key, new), old) == []


def test_kubectl_sees_kubernetes_message_for_a_bad_deployment() -> None:
    bad = deployment()
    bad["spec"]["template"]["metadata"]["labels"] = {"app": "other"}
    del tc0(bad)["image"]
    error = invalid("Deployment", "web", validate(DEPLOY, bad), "apps")
    assert error.message == (
        'Deployment.apps "web" is invalid: [spec.template.metadata.labels: Invalid value: '
        'map[string]string{"app":"other"}: `selector` does not match template `labels`, '
        "spec.template.spec.containers[0].image: Required value]")


def test_invalid_selector_skips_the_template() -> None:
    bad = deployment(selector={"matchLabels": {"app": "web"},
                               "matchExpressions": [{"key": "tier", "operator": "In", "values": []}]})
    del tc0(bad)["image"]
    fields = [(c.field, c.message) for c in validate(DEPLOY, bad)]
    assert fields[0] == ("spec.selector.matchExpressions[0].values",
                         "Required value: must be specified when `operator` is 'In' or 'NotIn'")
    assert fields[-1][0] == "spec.selector" and fields[-1][1].endswith(": invalid label selector")
    assert not any(field.startswith("spec.template") for field, _ in fields)


@pytest.mark.parametrize(("value", "expected"), [
    ("plain", '"plain"'), ('say "hi"', '"say \\"hi\\""'), ("tab\there", '"tab\\there"'), ("\x00", '"\\x00"'),
    ("naïve", '"naïve"'),
])
def test_go_quote_matches_strconv_quote(value: str, expected: str) -> None:
    assert go_quote(value) == expected


@pytest.mark.parametrize(("check", "value", "errors"), [
    (is_dns1123_label, "my-name", []),
    (is_dns1123_label, "-x", [LABEL_MSG]),
    (is_dns1123_subdomain, "example.com", []),
    (is_dns1123_subdomain, "a" * 254, ["must be no more than 253 characters"]),
    (is_dns1123_subdomain, "a_b" * 85, ["must be no more than 253 characters", SUBDOMAIN_MSG]),
    (is_valid_port_name, "http", []),
    (is_valid_port_name, "123", ["must contain at least one letter (a-z)"]),
    (is_valid_port_name, "a-very-long-port-name", ["must be no more than 15 characters"]),
])
def test_format_checks(check: Callable[[str], list[str]], value: str, errors: list[str]) -> None:
    assert check(value) == errors
