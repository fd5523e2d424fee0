"""Field schemas for the served kinds: what `fieldValidation` checks at the API boundary.

`unknown_fields` reports fields a kind does not declare, as Kubernetes' strict decoder
prints their paths (`spec.template.spec.containers[0].imagee`); `type_errors` reports
values of the wrong JSON type (a string replicas, a boolean label value from YAML 1.1).
The schemas are small declarative tables; sub-objects described as ANY accept anything.
"""

from __future__ import annotations

from typing import Any

ANY, STR, INT, BOOL, NUM = "any", "str", "int", "bool", "num"
STRMAP, QUANTITIES, INTSTR = "strmap", "quantities", "intstr"
Schema = Any


def L(item: Schema) -> tuple[str, Schema]:  # noqa: N802 - reads like a type in the tables below
    return ("list", item)


OWNER_REF = {"apiVersion": STR, "kind": STR, "name": STR, "uid": STR, "controller": BOOL,
             "blockOwnerDeletion": BOOL}
META = {"name": STR, "generateName": STR, "namespace": STR, "uid": STR, "resourceVersion": STR, "generation": INT,
        "creationTimestamp": ANY, "deletionTimestamp": ANY, "deletionGracePeriodSeconds": INT, "labels": STRMAP,
        "annotations": STRMAP, "ownerReferences": L(OWNER_REF), "finalizers": L(STR), "managedFields": ANY,
        "selfLink": STR}
SELECTOR = {"matchLabels": STRMAP, "matchExpressions": L({"key": STR, "operator": STR, "values": L(STR)})}
HANDLER = {"exec": {"command": L(STR)}, "httpGet": {"path": STR, "port": INTSTR, "host": STR, "scheme": STR,
                                                   "httpHeaders": L({"name": STR, "value": STR})},
           "tcpSocket": {"port": INTSTR, "host": STR}, "grpc": {"port": INT, "service": STR}, "sleep": ANY}
PROBE = {**HANDLER, "initialDelaySeconds": INT, "timeoutSeconds": INT, "periodSeconds": INT, "successThreshold": INT,
         "failureThreshold": INT, "terminationGracePeriodSeconds": INT}
CONTAINER = {
    "name": STR, "image": STR, "command": L(STR), "args": L(STR), "workingDir": STR,
    "ports": L({"name": STR, "containerPort": INT, "hostPort": INT, "hostIP": STR, "protocol": STR}),
    "env": L({"name": STR, "value": STR, "valueFrom": ANY}), "envFrom": ANY,
    "resources": {"limits": QUANTITIES, "requests": QUANTITIES, "claims": ANY},
    "livenessProbe": PROBE, "readinessProbe": PROBE, "startupProbe": PROBE,
    "lifecycle": {"postStart": HANDLER, "preStop": HANDLER, "stopSignal": STR},
    "volumeMounts": L({"name": STR, "mountPath": STR, "readOnly": BOOL, "subPath": STR, "subPathExpr": STR,
                       "mountPropagation": STR, "recursiveReadOnly": STR}),
    "volumeDevices": ANY, "imagePullPolicy": STR, "securityContext": ANY, "stdin": BOOL, "stdinOnce": BOOL,
    "tty": BOOL, "terminationMessagePath": STR, "terminationMessagePolicy": STR, "restartPolicy": STR,
    "resizePolicy": ANY,
}
VOLUME = {"name": STR, "emptyDir": {"medium": STR, "sizeLimit": INTSTR}, "hostPath": {"path": STR, "type": STR},
          "configMap": ANY, "secret": ANY, "projected": ANY, "persistentVolumeClaim": ANY, "downwardAPI": ANY,
          "nfs": ANY, "csi": ANY, "ephemeral": ANY, "image": ANY}
POD_SPEC = {
    "containers": L(CONTAINER), "initContainers": L(CONTAINER), "ephemeralContainers": ANY, "volumes": L(VOLUME),
    "nodeName": STR, "nodeSelector": STRMAP, "affinity": ANY, "tolerations": L({
        "key": STR, "operator": STR, "value": STR, "effect": STR, "tolerationSeconds": INT}),
    "restartPolicy": STR, "terminationGracePeriodSeconds": INT, "activeDeadlineSeconds": INT, "dnsPolicy": STR,
    "dnsConfig": ANY, "serviceAccountName": STR, "serviceAccount": STR, "automountServiceAccountToken": BOOL,
    "hostNetwork": BOOL, "hostPID": BOOL, "hostIPC": BOOL, "shareProcessNamespace": BOOL, "hostname": STR,
    "subdomain": STR, "schedulerName": STR, "priority": INT, "priorityClassName": STR, "securityContext": ANY,
    "imagePullSecrets": L({"name": STR}), "enableServiceLinks": BOOL, "preemptionPolicy": STR,
    "topologySpreadConstraints": ANY, "readinessGates": L({"conditionType": STR}), "overhead": QUANTITIES,
    "hostAliases": ANY, "runtimeClassName": STR, "schedulingGates": L({"name": STR}), "os": ANY,
    "setHostnameAsFQDN": BOOL, "hostUsers": BOOL, "resourceClaims": ANY, "resources": ANY,
}
TEMPLATE = {"metadata": META, "spec": POD_SPEC}
CONDITIONS = L({"type": STR, "status": STR, "reason": STR, "message": STR, "lastTransitionTime": ANY,
                "lastUpdateTime": ANY, "lastProbeTime": ANY, "lastHeartbeatTime": ANY, "observedGeneration": INT})


def kind_schema(spec: Schema, status: Schema = ANY, **extra: Schema) -> dict[str, Schema]:
    return {"apiVersion": STR, "kind": STR, "metadata": META, "spec": spec, "status": status, **extra}


SCHEMAS: dict[tuple[str, str], dict[str, Schema]] = {
    ("", "Pod"): kind_schema(POD_SPEC),
    ("", "Namespace"): kind_schema({"finalizers": L(STR)}),
    ("", "Node"): kind_schema({"podCIDR": STR, "podCIDRs": L(STR), "unschedulable": BOOL, "providerID": STR,
                               "taints": L({"key": STR, "value": STR, "effect": STR, "timeAdded": ANY}),
                               "configSource": ANY, "externalID": STR}),
    ("", "Service"): kind_schema({
        "type": STR, "selector": STRMAP, "clusterIP": STR, "clusterIPs": L(STR), "externalName": STR,
        "externalIPs": L(STR), "sessionAffinity": STR, "sessionAffinityConfig": ANY, "externalTrafficPolicy": STR,
        "internalTrafficPolicy": STR, "ipFamilies": L(STR), "ipFamilyPolicy": STR, "loadBalancerIP": STR,
        "loadBalancerSourceRanges": L(STR), "loadBalancerClass": STR, "publishNotReadyAddresses": BOOL,
        "allocateLoadBalancerNodePorts": BOOL, "healthCheckNodePort": INT, "trafficDistribution": STR,
        "ports": L({"name": STR, "protocol": STR, "port": INT, "targetPort": INTSTR, "nodePort": INT,
                    "appProtocol": STR})}),
    ("", "Endpoints"): {"apiVersion": STR, "kind": STR, "metadata": META, "subsets": ANY},
    ("", "Event"): {"apiVersion": STR, "kind": STR, "metadata": META, "involvedObject": ANY, "reason": STR,
                    "message": STR, "source": ANY, "firstTimestamp": ANY, "lastTimestamp": ANY, "count": INT,
                    "type": STR, "eventTime": ANY, "series": ANY, "action": STR, "related": ANY,
                    "reportingComponent": STR, "reportingInstance": STR},
    ("apps", "Deployment"): kind_schema({
        "replicas": INT, "selector": SELECTOR, "template": TEMPLATE, "minReadySeconds": INT,
        "revisionHistoryLimit": INT, "paused": BOOL, "progressDeadlineSeconds": INT,
        "strategy": {"type": STR, "rollingUpdate": {"maxSurge": INTSTR, "maxUnavailable": INTSTR}}}),
    ("apps", "ReplicaSet"): kind_schema({"replicas": INT, "selector": SELECTOR, "template": TEMPLATE,
                                         "minReadySeconds": INT}),
    ("batch", "Job"): kind_schema({
        "parallelism": INT, "completions": INT, "activeDeadlineSeconds": INT, "backoffLimit": INT,
        "backoffLimitPerIndex": INT, "maxFailedIndexes": INT, "selector": SELECTOR, "manualSelector": BOOL,
        "template": TEMPLATE, "ttlSecondsAfterFinished": INT, "completionMode": STR, "suspend": BOOL,
        "podFailurePolicy": ANY, "podReplacementPolicy": STR, "successPolicy": ANY, "managedBy": STR}),
    ("coordination.k8s.io", "Lease"): kind_schema({
        "holderIdentity": STR, "leaseDurationSeconds": INT, "acquireTime": ANY, "renewTime": ANY,
        "leaseTransitions": INT, "strategy": STR, "preferredHolder": STR}),
    ("autoscaling", "Scale"): kind_schema({"replicas": INT}),
    ("apiregistration.k8s.io", "APIService"): kind_schema(
        {"service": {"namespace": STR, "name": STR, "port": INT}, "group": STR, "version": STR,
         "insecureSkipTLSVerify": BOOL, "caBundle": STR, "groupPriorityMinimum": INT, "versionPriority": INT},
        {"conditions": CONDITIONS}),
    ("discovery.k8s.io", "EndpointSlice"): {
        "apiVersion": STR, "kind": STR, "metadata": META, "addressType": STR,
        "endpoints": L({"addresses": L(STR), "conditions": {"ready": BOOL, "serving": BOOL, "terminating": BOOL},
                        "hostname": STR, "targetRef": ANY, "deprecatedTopology": STRMAP, "nodeName": STR,
                        "zone": STR, "hints": ANY}),
        "ports": L({"name": STR, "protocol": STR, "port": INT, "appProtocol": STR})},
}

_GO_TYPES = {STR: "string", INT: "int32", BOOL: "bool", NUM: "float64"}


Unknown = list[tuple[str, dict[str, Any], str]]  # (field path, the map holding it, its key)


def _walk(schema: Schema, value: Any, path: str, unknown: Unknown, wrong: list[tuple[str, str]]) -> None:
    if schema == ANY or value is None:
        return
    if isinstance(schema, dict):
        if not isinstance(value, dict):
            wrong.append((path, f"json: cannot unmarshal {_json_type(value)} into Go struct field {path} of type object"))
            return
        for key, sub in value.items():
            child = f"{path}.{key}" if path else key
            if key not in schema:
                unknown.append((child, value, key))
            else:
                _walk(schema[key], sub, child, unknown, wrong)
        return
    if isinstance(schema, tuple):
        if not isinstance(value, list):
            wrong.append((path, f"json: cannot unmarshal {_json_type(value)} into Go struct field {path} of type []"))
            return
        for index, item in enumerate(value):
            _walk(schema[1], item, f"{path}[{index}]", unknown, wrong)
        return
    if schema in (STRMAP, QUANTITIES):
        if not isinstance(value, dict):
            wrong.append((path, f"json: cannot unmarshal {_json_type(value)} into Go struct field {path} of type "
                                "map[string]string"))
            return
        for key, item in value.items():
            ok = isinstance(item, str) if schema == STRMAP else isinstance(item, (str, int, float)) and \
                not isinstance(item, bool)
            if not ok:
                wrong.append((f"{path}.{key}", f"json: cannot unmarshal {_json_type(item)} into Go struct field "
                                               f"{path} of type string"))
        return
    if schema == INTSTR:
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            wrong.append((path, f"json: cannot unmarshal {_json_type(value)} into Go struct field {path} of type "
                                "intstr.IntOrString"))
        return
    expected = {STR: str, INT: int, BOOL: bool, NUM: (int, float)}[schema]
    if isinstance(value, bool) and schema != BOOL or not isinstance(value, expected):
        wrong.append((path, f"json: cannot unmarshal {_json_type(value)} into Go struct field {path} of type "
                            f"{_GO_TYPES[schema]}"))


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def unknown_fields(kind_key: tuple[str, str], obj: dict[str, Any], prune: bool = False) -> list[str]:
    """Paths of fields the kind does not have; with `prune`, they are also removed from obj
    (by the map that holds them, so any key, even "" or "a.b[0]", is removed exactly)."""
    schema = SCHEMAS.get(kind_key)
    if schema is None:
        return []
    unknown: Unknown = []
    _walk(schema, obj, "", unknown, [])
    if prune:
        for _, holder, key in unknown:
            holder.pop(key, None)
    return [path for path, _, _ in unknown]


def type_errors(kind_key: tuple[str, str], obj: dict[str, Any]) -> list[tuple[str, str]]:
    schema = SCHEMAS.get(kind_key)
    if schema is None:
        return []
    wrong: list[tuple[str, str]] = []
    _walk(schema, obj, "", [], wrong)
    return wrong
