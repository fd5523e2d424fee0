"""Server-side defaulting: the values a real cluster fills in before validating and storing.

kubectl and the Python client compare what they sent with what the server returns, and
controllers rely on fields such as `spec.replicas` or `restartPolicy` always being set.
Kubernetes fills these in three places, and a real `kubectl get -o yaml` shows the result
of all of them, so this module applies all three to the plain JSON dicts the API server
handles:

* the versioned defaulting functions (pkg/apis/core/v1/defaults.go, apps/v1, batch/v1
  and the `+default=` markers in the API types);
* registry strategies that behave like defaults (the Namespace `kubernetes` finalizer,
  Service IP-family fields from registry/core/service);
* admission plugins that every cluster runs (ServiceAccount, Priority,
  DefaultTolerationSeconds).

Pod-only defaults (requests from limits, enableServiceLinks, the admission values) are not
applied to pod templates, exactly as in Kubernetes. The one deliberate difference is the
Job template's `restartPolicy`: Kubernetes defaults it to `Always` and then rejects it, so
it is left unset here and validation reports the same `Required value`.

`apply_defaults` never mutates its input and is idempotent, so the registry may run it on
create and on update alike.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from apimachinery.quantity import QuantityError, parse_quantity

JSON = dict[str, Any]
KindKey = tuple[str, str]

MAX_INT32 = 2**31 - 1
DEFAULT_FILE_MODE = 0o644  # 420: configMap, secret, downwardAPI and projected volumes
DEFAULT_TOLERATION_SECONDS = 300
NOT_READY_TAINT = "node.kubernetes.io/not-ready"
UNREACHABLE_TAINT = "node.kubernetes.io/unreachable"
SYSTEM_PRIORITIES = {"system-node-critical": 2000001000, "system-cluster-critical": 2000000000}
PROBE_DEFAULTS = {"timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3}
VOLUME_SOURCES = (
    "hostPath", "emptyDir", "gcePersistentDisk", "awsElasticBlockStore", "gitRepo", "secret", "nfs", "iscsi",
    "glusterfs", "persistentVolumeClaim", "rbd", "flexVolume", "cinder", "cephfs", "flocker", "downwardAPI", "fc",
    "azureFile", "configMap", "vsphereVolume", "quobyte", "azureDisk", "photonPersistentDisk", "projected",
    "portworxVolume", "scaleIO", "storageos", "csi", "ephemeral", "image",
)

# The docker reference grammar, enough to tell "tagged", "digested" and "unparseable" apart
# (k8s.io/kubernetes/pkg/util/parsers.ParseImageName).
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_DOMAIN = r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*" \
          r"|\[[0-9a-fA-F:.]+\])(?::[0-9]+)?"
_IMAGE_REF = re.compile(
    rf"^(?:(?P<domain>{_DOMAIN})/)?(?P<path>{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*)"
    r"(?::(?P<tag>[\w][\w.-]{0,127}))?"
    r"(?:@(?P<digest>[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9A-Fa-f]{32,}))?$"
)


def apply_defaults(kind_key: KindKey, obj: JSON) -> JSON:
    """Return a defaulted copy of `obj` for the kind `(group, kind)`; unknown kinds are copied."""
    out = copy.deepcopy(obj)
    defaulter = _DEFAULTERS.get(kind_key)
    if defaulter is not None:
        defaulter(out)
    return out


# ---- helpers --------------------------------------------------------------------------


def _child(parent: JSON, key: str) -> JSON:
    """`parent[key]` as a dict, created (or replaced when null) if missing."""
    value = parent.get(key)
    if not isinstance(value, dict):
        value = {}
        parent[key] = value
    return value


def _dicts(value: Any) -> list[JSON]:
    """The dict items of a JSON list; anything else (null, wrong type) is no items."""
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _set_if_empty(target: JSON, key: str, value: Any) -> None:
    """Go's `if x == "" / nil { x = default }`: only absent, null or empty-string values change."""
    if target.get(key) in (None, ""):
        target[key] = value


# ---- containers -----------------------------------------------------------------------


def image_pull_policy(image: str) -> str:
    """`Always` for `:latest` or no tag (no digest either), `IfNotPresent` otherwise; an image
    the reference grammar rejects also gets `IfNotPresent`, as in Kubernetes."""
    match = _IMAGE_REF.match(image or "")
    if match is None:
        return "IfNotPresent"
    tag = match.group("tag")
    if tag is None and match.group("digest") is None:
        tag = "latest"
    return "Always" if tag == "latest" else "IfNotPresent"


def _default_http_get(action: Any) -> None:
    if isinstance(action, dict):
        _set_if_empty(action, "path", "/")
        _set_if_empty(action, "scheme", "HTTP")


def _default_probe(probe: Any) -> None:
    if not isinstance(probe, dict):
        return
    for key, value in PROBE_DEFAULTS.items():
        if not probe.get(key):
            probe[key] = value
    _default_http_get(probe.get("httpGet"))
    grpc = probe.get("grpc")
    if isinstance(grpc, dict) and grpc.get("service") is None:
        grpc["service"] = ""


def _default_lifecycle(lifecycle: Any) -> None:
    if not isinstance(lifecycle, dict):
        return
    for hook in ("postStart", "preStop"):
        handler = lifecycle.get(hook)
        if isinstance(handler, dict):
            _default_http_get(handler.get("httpGet"))


def _default_field_ref(holder: Any) -> None:
    """`fieldRef.apiVersion` defaults to v1 (SetDefaults_ObjectFieldSelector)."""
    if isinstance(holder, dict) and isinstance(holder.get("fieldRef"), dict):
        _set_if_empty(holder["fieldRef"], "apiVersion", "v1")


def _default_container(container: JSON) -> None:
    if not container.get("imagePullPolicy"):
        container["imagePullPolicy"] = image_pull_policy(str(container.get("image") or ""))
    _set_if_empty(container, "terminationMessagePath", "/dev/termination-log")
    _set_if_empty(container, "terminationMessagePolicy", "File")
    if not isinstance(container.get("resources"), dict):
        container["resources"] = {}
    for section in ("limits", "requests"):
        canonicalize_quantities(container["resources"].get(section))
    for port in _dicts(container.get("ports")):
        _set_if_empty(port, "protocol", "TCP")
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        _default_probe(container.get(probe))
    _default_lifecycle(container.get("lifecycle"))
    for env in _dicts(container.get("env")):
        _default_field_ref(env.get("valueFrom"))


def _requests_from_limits(container: JSON) -> None:
    """Pod only: a resource with a limit and no request is requested at its limit."""
    resources = container.get("resources")
    if not isinstance(resources, dict) or not isinstance(resources.get("limits"), dict):
        return
    requests = _child(resources, "requests")
    for name, value in resources["limits"].items():
        requests.setdefault(name, value)


def canonicalize_quantities(resources: Any) -> None:
    """Quantities are stored as resource.Quantity serializes them: `0.5` → `500m`,
    `1024Mi` → `1Gi`, a JSON number → its string. Invalid text is left for validation."""
    if not isinstance(resources, dict):
        return
    for name, value in resources.items():
        try:
            resources[name] = parse_quantity(value).canonical()
        except QuantityError:
            continue


# ---- volumes --------------------------------------------------------------------------


def _default_volume(volume: JSON) -> None:
    if not any(volume.get(source) is not None for source in VOLUME_SOURCES):
        volume["emptyDir"] = {}
    empty_dir = volume.get("emptyDir")
    if isinstance(empty_dir, dict) and "sizeLimit" in empty_dir:
        canonicalize_quantities(empty_dir)  # sizeLimit is its only quantity; medium is left as it is
    if isinstance(volume.get("hostPath"), dict) and volume["hostPath"].get("type") is None:
        volume["hostPath"]["type"] = ""
    for source in ("configMap", "secret", "downwardAPI", "projected"):
        if isinstance(volume.get(source), dict) and volume[source].get("defaultMode") is None:
            volume[source]["defaultMode"] = DEFAULT_FILE_MODE
    if isinstance(volume.get("downwardAPI"), dict):
        for item in _dicts(volume["downwardAPI"].get("items")):
            _default_field_ref(item)
    if isinstance(volume.get("projected"), dict):
        for projection in _dicts(volume["projected"].get("sources")):
            token = projection.get("serviceAccountToken")
            if isinstance(token, dict) and token.get("expirationSeconds") is None:
                token["expirationSeconds"] = 3600
            if isinstance(projection.get("downwardAPI"), dict):
                for item in _dicts(projection["downwardAPI"].get("items")):
                    _default_field_ref(item)
    ephemeral = volume.get("ephemeral")
    if isinstance(ephemeral, dict) and isinstance(ephemeral.get("volumeClaimTemplate"), dict):
        claim_spec = ephemeral["volumeClaimTemplate"].get("spec")
        if isinstance(claim_spec, dict):
            _set_if_empty(claim_spec, "volumeMode", "Filesystem")


# ---- pod spec -------------------------------------------------------------------------


def _all_containers(spec: JSON) -> list[JSON]:
    return _dicts(spec.get("initContainers")) + _dicts(spec.get("containers")) \
        + _dicts(spec.get("ephemeralContainers"))


def default_pod_spec(spec: JSON, *, default_restart_policy: bool = True) -> None:
    """SetDefaults_PodSpec plus the container, probe and volume defaults: everything a pod
    template gets. Pod-only defaults are in `_default_pod`."""
    _set_if_empty(spec, "dnsPolicy", "ClusterFirst")
    if default_restart_policy:
        _set_if_empty(spec, "restartPolicy", "Always")
    if not isinstance(spec.get("securityContext"), dict):
        spec["securityContext"] = {}
    if spec.get("terminationGracePeriodSeconds") is None:
        spec["terminationGracePeriodSeconds"] = 30
    _set_if_empty(spec, "schedulerName", "default-scheduler")
    for container in _all_containers(spec):
        _default_container(container)
    canonicalize_quantities(spec.get("overhead"))
    for volume in _dicts(spec.get("volumes")):
        _default_volume(volume)


def _admission_tolerations(spec: JSON) -> None:
    """DefaultTolerationSeconds: tolerate not-ready and unreachable nodes for 300 s unless
    the pod already tolerates them (an empty key or effect counts as a match)."""
    tolerations = spec.get("tolerations")
    if not isinstance(tolerations, list):
        tolerations = []
    existing = _dicts(tolerations)
    for taint in (NOT_READY_TAINT, UNREACHABLE_TAINT):
        tolerated = any(t.get("key") in (taint, "", None) and t.get("effect") in ("NoExecute", "", None)
                        for t in existing)
        if not tolerated:
            tolerations.append({"key": taint, "operator": "Exists", "effect": "NoExecute",
                                "tolerationSeconds": DEFAULT_TOLERATION_SECONDS})
    spec["tolerations"] = tolerations


def _default_pod(pod: JSON) -> None:
    spec = _child(pod, "spec")
    default_pod_spec(spec)
    for container in _dicts(spec.get("containers")) + _dicts(spec.get("initContainers")):
        _requests_from_limits(container)
    if spec.get("enableServiceLinks") is None:
        spec["enableServiceLinks"] = True
    if spec.get("hostNetwork"):
        for container in _dicts(spec.get("containers")) + _dicts(spec.get("initContainers")):
            for port in _dicts(container.get("ports")):
                if not port.get("hostPort"):
                    port["hostPort"] = port.get("containerPort")
    # ServiceAccount admission (the deprecated `serviceAccount` mirrors the name).
    account = spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"
    spec["serviceAccountName"] = account
    spec["serviceAccount"] = account
    # Priority admission: no global default PriorityClass, so priority 0 unless a system class.
    if spec.get("priority") is None:
        spec["priority"] = SYSTEM_PRIORITIES.get(str(spec.get("priorityClassName") or ""), 0)
    _set_if_empty(spec, "preemptionPolicy", "PreemptLowerPriority")
    _admission_tolerations(spec)


def _default_template(owner: JSON, *, default_restart_policy: bool = True) -> None:
    template = _child(_child(owner, "spec"), "template")
    default_pod_spec(_child(template, "spec"), default_restart_policy=default_restart_policy)


# ---- workloads ------------------------------------------------------------------------


def _default_deployment(deployment: JSON) -> None:
    spec = _child(deployment, "spec")
    if spec.get("replicas") is None:
        spec["replicas"] = 1
    strategy = _child(spec, "strategy")
    _set_if_empty(strategy, "type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        rolling = _child(strategy, "rollingUpdate")
        if rolling.get("maxUnavailable") is None:
            rolling["maxUnavailable"] = "25%"
        if rolling.get("maxSurge") is None:
            rolling["maxSurge"] = "25%"
    if spec.get("revisionHistoryLimit") is None:
        spec["revisionHistoryLimit"] = 10
    if spec.get("progressDeadlineSeconds") is None:
        spec["progressDeadlineSeconds"] = 600
    _default_template(deployment)


def _default_replica_set(replica_set: JSON) -> None:
    if isinstance(replica_set.get("status"), dict | None):
        _set_if_empty(_child(replica_set, "status"), "replicas", 0)  # ReplicaSetStatus.replicas is not omitempty
    spec = _child(replica_set, "spec")
    if spec.get("replicas") is None:
        spec["replicas"] = 1
    _default_template(replica_set)


def _default_job(job: JSON) -> None:
    spec = _child(job, "spec")
    if spec.get("completions") is None and spec.get("parallelism") is None:
        spec["completions"] = 1
        spec["parallelism"] = 1
    if spec.get("parallelism") is None:
        spec["parallelism"] = 1
    if spec.get("backoffLimit") is None:
        spec["backoffLimit"] = MAX_INT32 if spec.get("backoffLimitPerIndex") is not None else 6
    template = spec.get("template")
    template_meta = template.get("metadata") if isinstance(template, dict) else None
    template_labels = template_meta.get("labels") if isinstance(template_meta, dict) else None
    meta = _child(job, "metadata")
    if isinstance(template_labels, dict) and not meta.get("labels"):
        meta["labels"] = copy.deepcopy(template_labels)
    _set_if_empty(spec, "completionMode", "NonIndexed")
    if spec.get("suspend") is None:
        spec["suspend"] = False
    failure_policy = spec.get("podFailurePolicy")
    if isinstance(failure_policy, dict):
        for rule in _dicts(failure_policy.get("rules")):
            for pattern in _dicts(rule.get("onPodConditions")):
                _set_if_empty(pattern, "status", "True")
    if spec.get("podReplacementPolicy") is None:
        spec["podReplacementPolicy"] = "Failed" if isinstance(failure_policy, dict) else "TerminatingOrFailed"
    _default_template(job, default_restart_policy=False)


# ---- core kinds -----------------------------------------------------------------------


def _is_headless(spec: JSON) -> bool:
    ips = spec.get("clusterIPs")
    if isinstance(ips, list) and ips:
        return ips == ["None"]
    return spec.get("clusterIP") == "None"


def _default_service(service: JSON) -> None:
    spec = _child(service, "spec")
    _set_if_empty(spec, "sessionAffinity", "None")
    if spec["sessionAffinity"] == "None":
        spec.pop("sessionAffinityConfig", None)
    elif spec["sessionAffinity"] == "ClientIP":
        config = spec.get("sessionAffinityConfig")
        client_ip = config.get("clientIP") if isinstance(config, dict) else None
        if not isinstance(client_ip, dict) or client_ip.get("timeoutSeconds") is None:
            spec["sessionAffinityConfig"] = {"clientIP": {"timeoutSeconds": 10800}}
    _set_if_empty(spec, "type", "ClusterIP")
    kind = spec["type"]
    if isinstance(service.get("status"), dict | None):
        _child(_child(service, "status"), "loadBalancer")  # ServiceStatus.loadBalancer is not omitempty
    for port in _dicts(spec.get("ports")):
        _set_if_empty(port, "protocol", "TCP")
        if port.get("targetPort") in (None, 0, ""):
            port["targetPort"] = port.get("port")
    externally_accessible = kind in ("NodePort", "LoadBalancer") or (kind == "ClusterIP" and spec.get("externalIPs"))
    if externally_accessible:
        _set_if_empty(spec, "externalTrafficPolicy", "Cluster")
    if spec.get("internalTrafficPolicy") is None and kind in ("ClusterIP", "NodePort", "LoadBalancer"):
        spec["internalTrafficPolicy"] = "Cluster"
    if kind == "LoadBalancer" and spec.get("allocateLoadBalancerNodePorts") is None:
        spec["allocateLoadBalancerNodePorts"] = True
    if kind == "ExternalName":
        return
    # registry/core/service/storage/alloc.go initIPFamilyFields on a single-stack IPv4 cluster:
    # a headless Service without a selector asks for both families.
    if _is_headless(spec) and not spec.get("selector"):
        _set_if_empty(spec, "ipFamilyPolicy", "RequireDualStack")
        if not spec.get("ipFamilies"):
            spec["ipFamilies"] = ["IPv4"]
        if len(spec["ipFamilies"]) < 2 and spec["ipFamilyPolicy"] != "SingleStack":
            spec["ipFamilies"] = [*spec["ipFamilies"], "IPv6" if spec["ipFamilies"][0] == "IPv4" else "IPv4"]
        return
    _set_if_empty(spec, "ipFamilyPolicy", "SingleStack")
    if not spec.get("ipFamilies"):
        spec["ipFamilies"] = ["IPv4"]


def _default_namespace(namespace: JSON) -> None:
    meta = _child(namespace, "metadata")
    if meta.get("name"):
        _child(meta, "labels")["kubernetes.io/metadata.name"] = meta["name"]
    # The namespace strategy adds the `kubernetes` finalizer on create only: the namespace
    # controller removes it through /finalize, and an update must not bring it back. An
    # object without a resourceVersion is one being created.
    if not meta.get("resourceVersion"):
        finalizers = _child(namespace, "spec").get("finalizers")
        finalizers = list(finalizers) if isinstance(finalizers, list) else []
        if "kubernetes" not in finalizers:
            finalizers.append("kubernetes")
        namespace["spec"]["finalizers"] = finalizers
    _set_if_empty(_child(namespace, "status"), "phase", "Active")


def _default_node(node: JSON) -> None:
    status = node.get("status")
    if isinstance(status, dict):
        canonicalize_quantities(status.get("capacity"))
        canonicalize_quantities(status.get("allocatable"))
    if isinstance(status, dict) and status.get("allocatable") is None and isinstance(status.get("capacity"), dict):
        status["allocatable"] = copy.deepcopy(status["capacity"])


def _default_endpoints(endpoints: JSON) -> None:
    for subset in _dicts(endpoints.get("subsets")):
        for port in _dicts(subset.get("ports")):
            _set_if_empty(port, "protocol", "TCP")


def _default_endpoint_slice(slice_: JSON) -> None:
    """discovery/v1 SetDefaults_EndpointPort: a port's name defaults to "" and its protocol to TCP."""
    for port in _dicts(slice_.get("ports")):
        _set_if_empty(port, "name", "")
        _set_if_empty(port, "protocol", "TCP")


def _default_secret(secret: JSON) -> None:
    _set_if_empty(secret, "type", "Opaque")


def _default_apiservice(apiservice: JSON) -> None:
    """SetDefaults_ServiceReference: the service port is 443."""
    service = (apiservice.get("spec") or {}).get("service")
    if isinstance(service, dict):
        _set_if_empty(service, "port", 443)


_DEFAULTERS: Mapping[KindKey, Callable[[JSON], None]] = MappingProxyType({
    ("", "Pod"): _default_pod,
    ("", "Service"): _default_service,
    ("", "Namespace"): _default_namespace,
    ("", "Node"): _default_node,
    ("", "Endpoints"): _default_endpoints,
    ("", "Secret"): _default_secret,
    ("apps", "Deployment"): _default_deployment,
    ("apps", "ReplicaSet"): _default_replica_set,
    ("batch", "Job"): _default_job,
    ("discovery.k8s.io", "EndpointSlice"): _default_endpoint_slice,
    ("apiregistration.k8s.io", "APIService"): _default_apiservice,
})
