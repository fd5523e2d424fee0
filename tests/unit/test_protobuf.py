"""The protobuf request-body decoder: real kubectl 1.32 bodies, every special type, a rich
Deployment built by a tiny test-only encoder (field numbers transcribed independently from
generated.proto), unknown fields, and malformed input."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from apimachinery.protobuf import (
    MAGIC,
    ProtobufError,
    UnsupportedProtobuf,
    decode_duration,
    decode_int_or_string,
    decode_micro_time,
    decode_object,
    decode_quantity,
    decode_raw_json,
    decode_time,
    go_duration,
)
from apimachinery.protobuf_schema import MAP, SCHEMA

# ---- test-only encoder ------------------------------------------------------------------


def varint(n: int) -> bytes:
    n &= (1 << 64) - 1  # negative int32/int64 travel as 64-bit two's complement
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def key(number: int, wire: int) -> bytes:
    return varint(number << 3 | wire)


def vi(number: int, value: int) -> bytes:
    return key(number, 0) + varint(value)


def ld(number: int, data: bytes) -> bytes:
    return key(number, 2) + varint(len(data)) + data


def st(number: int, text: str) -> bytes:
    return ld(number, text.encode())


def msg(number: int, *parts: bytes) -> bytes:
    return ld(number, b"".join(parts))


def entry(number: int, k: str, v: str) -> bytes:
    return msg(number, st(1, k), st(2, v))


def qty(number: int, k: str, v: str) -> bytes:
    return msg(number, st(1, k), msg(2, st(1, v)))


def envelope(api_version: str, kind: str, raw: bytes) -> bytes:
    return MAGIC + msg(1, st(1, api_version), st(2, kind)) + ld(2, raw) + st(3, "") + st(4, "")


# ---- bodies captured from the stock kubectl 1.32 ----------------------------------------

KUBECTL_BODIES = {
    "namespace": "6b3873000a0f0a02763112094e616d657370616365121c0a140a046361703112001a0022002a003200380042001200"
                 "1a020a001a002200",
    "deployment": "6b3873000a150a07617070732f7631120a4465706c6f796d656e7412c9010a260a0377656212001a0764656661756c"
                  "7422002a003200380042005a0a0a0361707012037765621290010802120c0a0a0a0361707012037765621a760a1c0a00"
                  "12001a0022002a003200380042005a0a0a036170701203776562125612380a0762757379626f78120c62757379626f78"
                  "3a312e33362a00320b0a00100018903f22002a0042006a007200800100880100900100a201001a00320042004a005200"
                  "5800600068008201008a01009a0100c2010022020a00280038001a0c0800100018002000280038001a002200",
    "job": "6b3873000a0f0a0862617463682f763112034a6f62128e010a180a016a12001a0764656661756c7422002a00320038004200"
           "126832660a100a0012001a0022002a003200380042001252122f0a016a120c62757379626f783a312e33361a046563686f1a"
           "0268692a0042006a007200800100880100900100a201001a054e65766572320042004a0052005800600068008201008a0100"
           "9a0100c201001a082000280030003a001a002200",
    "service": "6b3873000a0d0a02763112075365727669636512620a1b0a016e12001a0022002a003200380042005a080a03617070120"
               "16e123f0a1b0a0738302d38303830120354435018502207080010903f1a00280012080a0361707012016e1a0022084e6f"
               "6465506f72743a00420052005a00600068001a020a001a002200",
    "delete-options": "6b3873000a130a027631120d44656c6574654f7074696f6e73120208001a002200",
}

# What the same kubectl prints for these objects with `--dry-run=client -o json`.
KUBECTL_JSON = {
    "namespace": {"apiVersion": "v1", "kind": "Namespace",
                  "metadata": {"name": "cap1", "creationTimestamp": None}, "spec": {}, "status": {}},
    "deployment": {
        "kind": "Deployment", "apiVersion": "apps/v1",
        "metadata": {"name": "web", "namespace": "default", "creationTimestamp": None, "labels": {"app": "web"}},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"creationTimestamp": None, "labels": {"app": "web"}},
                              "spec": {"containers": [{"name": "busybox", "image": "busybox:1.36",
                                                       "ports": [{"containerPort": 8080}], "resources": {}}]}},
                 "strategy": {}},
        "status": {}},
    "job": {
        "kind": "Job", "apiVersion": "batch/v1",
        "metadata": {"name": "j", "namespace": "default", "creationTimestamp": None},
        "spec": {"template": {"metadata": {"creationTimestamp": None},
                              "spec": {"containers": [{"name": "j", "image": "busybox:1.36",
                                                       "command": ["echo", "hi"], "resources": {}}],
                                       "restartPolicy": "Never"}}},
        "status": {}},
    "service": {
        "kind": "Service", "apiVersion": "v1",
        "metadata": {"name": "n", "creationTimestamp": None, "labels": {"app": "n"}},
        "spec": {"ports": [{"name": "80-8080", "protocol": "TCP", "port": 80, "targetPort": 8080}],
                 "selector": {"app": "n"}, "type": "NodePort"},
        "status": {"loadBalancer": {}}},
    "delete-options": {"apiVersion": "v1", "kind": "DeleteOptions", "gracePeriodSeconds": 0},
}


@pytest.mark.parametrize("name", sorted(KUBECTL_BODIES))
def test_kubectl_bodies_decode_to_the_json_kubectl_would_send(name: str) -> None:
    decoded = decode_object(bytes.fromhex(KUBECTL_BODIES[name]))
    assert decoded.unknown_fields == []
    assert decoded.obj == KUBECTL_JSON[name]


# ---- special types ----------------------------------------------------------------------


def test_time_is_rfc3339_seconds_and_zero_time_is_null() -> None:
    assert decode_time(vi(1, 1_700_000_000) + vi(2, 999_000_000), "t") == "2023-11-14T22:13:20Z"
    assert decode_time(b"", "t") is None
    assert decode_time(vi(1, -62135596800), "t") is None  # Go's time.Time{}
    assert decode_time(vi(1, 0), "t") == "1970-01-01T00:00:00Z"


def test_micro_time_keeps_six_fractional_digits() -> None:
    assert decode_micro_time(vi(1, 1_700_000_000) + vi(2, 123_456_789), "t") == "2023-11-14T22:13:20.123456Z"


def test_quantity_is_its_string() -> None:
    assert decode_quantity(st(1, "500m"), "q") == "500m"
    assert decode_quantity(st(1, "1536Mi"), "q") == "1536Mi"


def test_int_or_string() -> None:
    assert decode_int_or_string(vi(1, 0) + vi(2, 8080) + st(3, ""), "p") == 8080
    assert decode_int_or_string(vi(1, 1) + vi(2, 0) + st(3, "http"), "p") == "http"
    assert decode_int_or_string(vi(2, -1), "p") == -1
    with pytest.raises(ProtobufError, match="IntOrString type 2"):
        decode_int_or_string(vi(1, 2), "p")


@pytest.mark.parametrize(("nanos", "text"), [
    (0, "0s"), (1, "1ns"), (1_500, "1.5µs"), (150_000_000, "150ms"), (1_500_000_000, "1.5s"),
    (90_000_000_000, "1m30s"), (3_600_000_000_000, "1h0m0s"), (7_384_005_000_000, "2h3m4.005s"),
    (-2_000_000_000, "-2s"),
])
def test_duration_prints_like_go(nanos: int, text: str) -> None:
    assert go_duration(nanos) == text
    assert decode_duration(vi(1, nanos), "d") == text


def test_raw_extension_and_fields_v1_embed_json() -> None:
    assert decode_raw_json(ld(1, b'{"a":[1,2]}'), "r") == {"a": [1, 2]}
    assert decode_raw_json(b"", "r") is None
    with pytest.raises(ProtobufError, match="not JSON"):
        decode_raw_json(ld(1, b"{nope"), "r")


# ---- a rich Deployment ------------------------------------------------------------------

CONTAINER = b"".join([
    st(1, "web"), st(2, "nginx:1.25"), st(3, "nginx"), st(4, "-g"), st(4, "daemon off;"), st(5, "/srv"),
    msg(6, st(1, "http"), vi(3, 8080), st(4, "TCP")),
    msg(19, st(1, "CFG_"), msg(2, msg(1, st(1, "settings")), vi(2, 1))),
    msg(7, st(1, "MODE"), st(2, "prod")),
    msg(7, st(1, "POD_NAME"), msg(3, msg(1, st(1, "v1"), st(2, "metadata.name")))),
    msg(7, st(1, "PASSWORD"), msg(3, msg(4, msg(1, st(1, "db")), st(2, "password")))),
    msg(7, st(1, "CPU"), msg(3, msg(2, st(2, "limits.cpu"), msg(3, st(1, "1m"))))),
    msg(8, qty(1, "cpu", "500m"), qty(1, "memory", "128Mi"), qty(2, "cpu", "250m")),
    msg(9, st(1, "data"), vi(2, 1), st(3, "/data")),
    msg(10, msg(1, msg(2, st(1, "/healthz"), msg(2, vi(1, 0), vi(2, 8080)), st(4, "HTTP"),
                       msg(5, st(1, "X-Probe"), st(2, "")))),
        vi(2, 5), vi(3, 1), vi(4, 10), vi(5, 1), vi(6, 3)),
    msg(11, msg(1, msg(3, msg(1, vi(1, 1), st(3, "http")))), vi(4, 5)),
    msg(22, msg(1, msg(1, st(1, "cat"), st(1, "/tmp/ready")))),
    msg(12, msg(2, msg(1, st(1, "sh"), st(1, "-c"), st(1, "sleep 5"))), msg(1, msg(4, vi(1, 3)))),
    st(13, "/dev/termination-log"), st(20, "File"), st(14, "IfNotPresent"),
    msg(15, msg(1, st(2, "ALL")), vi(4, 1000), vi(5, 1), vi(6, 1), vi(7, 0)),
    vi(16, 0), vi(17, 0), vi(18, 0),
])

CONTAINER_JSON = {
    "name": "web", "image": "nginx:1.25", "command": ["nginx"], "args": ["-g", "daemon off;"], "workingDir": "/srv",
    "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
    "envFrom": [{"prefix": "CFG_", "configMapRef": {"name": "settings", "optional": True}}],
    "env": [
        {"name": "MODE", "value": "prod"},
        {"name": "POD_NAME", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}}},
        {"name": "PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}},
        {"name": "CPU", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu", "divisor": "1m"}}},
    ],
    "resources": {"limits": {"cpu": "500m", "memory": "128Mi"}, "requests": {"cpu": "250m"}},
    "volumeMounts": [{"name": "data", "readOnly": True, "mountPath": "/data"}],
    "livenessProbe": {"httpGet": {"path": "/healthz", "port": 8080, "scheme": "HTTP",
                                  "httpHeaders": [{"name": "X-Probe", "value": ""}]},
                      "initialDelaySeconds": 5, "timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1,
                      "failureThreshold": 3},
    "readinessProbe": {"tcpSocket": {"port": "http"}, "periodSeconds": 5},
    "startupProbe": {"exec": {"command": ["cat", "/tmp/ready"]}},
    "lifecycle": {"preStop": {"exec": {"command": ["sh", "-c", "sleep 5"]}}, "postStart": {"sleep": {"seconds": 3}}},
    "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File",
    "imagePullPolicy": "IfNotPresent",
    "securityContext": {"capabilities": {"drop": ["ALL"]}, "runAsUser": 1000, "runAsNonRoot": True,
                        "readOnlyRootFilesystem": True, "allowPrivilegeEscalation": False},
}

AFFINITY = b"".join([
    msg(1, msg(1, msg(1, msg(1, st(1, "kubernetes.io/os"), st(2, "In"), st(3, "linux")))),
        msg(2, vi(1, 10), msg(2, msg(1, st(1, "zone"), st(2, "In"), st(3, "a"), st(3, "b"))))),
    msg(3, msg(2, vi(1, 100), msg(2, msg(1, entry(1, "app", "web")), st(3, "kubernetes.io/hostname")))),
])

POD_SPEC = b"".join([
    msg(1, st(1, "data"), msg(2, msg(2, st(1, "Memory"), msg(2, st(1, "64Mi"))))),
    msg(1, st(1, "logs"), msg(2, msg(1, st(1, "/var/log"), st(2, "Directory")))),
    msg(1, st(1, "cfg"), msg(2, msg(19, msg(1, st(1, "app-config")), msg(2, st(1, "k"), st(2, "k.txt")),
                                    vi(3, 420)))),
    msg(2, CONTAINER),
    st(3, "Always"), vi(4, 30), st(6, "ClusterFirst"), entry(7, "disk", "ssd"), st(8, "runner"), st(9, "runner"),
    vi(11, 0), vi(12, 0), vi(13, 0),
    msg(14, vi(2, 1000), vi(5, 2000), ld(4, varint(5) + varint(6)), msg(10, st(1, "RuntimeDefault"))),
    msg(15, st(1, "regcred")),
    msg(18, AFFINITY),
    st(19, "default-scheduler"),
    msg(22, st(1, "node-role"), st(2, "Exists"), st(4, "NoSchedule")),
    msg(22, st(1, "node.kubernetes.io/not-ready"), st(2, "Exists"), st(4, "NoExecute"), vi(5, -1)),
    msg(33, vi(1, 1), st(2, "topology.kubernetes.io/zone"), st(3, "ScheduleAnyway"), msg(4, entry(1, "app", "web"))),
    vi(30, 0),
])

POD_SPEC_JSON = {
    "volumes": [
        {"name": "data", "emptyDir": {"medium": "Memory", "sizeLimit": "64Mi"}},
        {"name": "logs", "hostPath": {"path": "/var/log", "type": "Directory"}},
        {"name": "cfg", "configMap": {"name": "app-config", "items": [{"key": "k", "path": "k.txt"}],
                                      "defaultMode": 420}},
    ],
    "containers": [CONTAINER_JSON],
    "restartPolicy": "Always", "terminationGracePeriodSeconds": 30, "dnsPolicy": "ClusterFirst",
    "nodeSelector": {"disk": "ssd"}, "serviceAccountName": "runner", "serviceAccount": "runner",
    "securityContext": {"runAsUser": 1000, "fsGroup": 2000, "supplementalGroups": [5, 6],
                        "seccompProfile": {"type": "RuntimeDefault"}},
    "imagePullSecrets": [{"name": "regcred"}],
    "affinity": {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                {"matchExpressions": [{"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]}]}]},
            "preferredDuringSchedulingIgnoredDuringExecution": [
                {"weight": 10, "preference": {"matchExpressions": [
                    {"key": "zone", "operator": "In", "values": ["a", "b"]}]}}],
        },
        "podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
            {"weight": 100, "podAffinityTerm": {"labelSelector": {"matchLabels": {"app": "web"}},
                                                "topologyKey": "kubernetes.io/hostname"}}]},
    },
    "schedulerName": "default-scheduler",
    "tolerations": [
        {"key": "node-role", "operator": "Exists", "effect": "NoSchedule"},
        {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": -1},
    ],
    "topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone",
                                   "whenUnsatisfiable": "ScheduleAnyway",
                                   "labelSelector": {"matchLabels": {"app": "web"}}}],
    "enableServiceLinks": False,
}

METADATA = b"".join([
    st(1, "web"), st(2, ""), st(3, "prod"), vi(7, 0), msg(8), entry(11, "app", "web"), entry(11, "tier", "front"),
    entry(12, "note", "hello"),
    msg(13, st(5, "v1"), st(1, "ConfigMap"), st(3, "owner"), st(4, "uid-1"), vi(6, 1)),
    st(14, "example.com/hold"),
    msg(17, st(1, "kubectl"), st(2, "Update"), st(3, "apps/v1"), msg(4, vi(1, 1_700_000_000)), st(6, "FieldsV1"),
        msg(7, ld(1, b'{"f:metadata":{}}'))),
])

DEPLOYMENT = envelope("apps/v1", "Deployment", b"".join([
    msg(1, METADATA),
    msg(2,
        vi(1, 3),
        msg(2, entry(1, "app", "web"), msg(2, st(1, "tier"), st(2, "In"), st(3, "front"))),
        msg(3, msg(1, entry(11, "app", "web"), entry(11, "tier", "front"), msg(8)), msg(2, POD_SPEC)),
        msg(4, st(1, "RollingUpdate"), msg(2, msg(1, vi(1, 1), vi(2, 0), st(3, "25%")), msg(2, vi(1, 0), vi(2, 1)))),
        vi(5, 0), vi(6, 5), vi(7, 0), vi(9, 600)),
    msg(3),
]))

DEPLOYMENT_JSON = {
    "apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {
        "name": "web", "namespace": "prod", "creationTimestamp": None, "labels": {"app": "web", "tier": "front"},
        "annotations": {"note": "hello"},
        "ownerReferences": [{"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": "uid-1",
                             "controller": True}],
        "finalizers": ["example.com/hold"],
        "managedFields": [{"manager": "kubectl", "operation": "Update", "apiVersion": "apps/v1",
                           "time": "2023-11-14T22:13:20Z", "fieldsType": "FieldsV1",
                           "fieldsV1": {"f:metadata": {}}}],
    },
    "spec": {
        "replicas": 3,
        "selector": {"matchLabels": {"app": "web"},
                     "matchExpressions": [{"key": "tier", "operator": "In", "values": ["front"]}]},
        "template": {"metadata": {"labels": {"app": "web", "tier": "front"}, "creationTimestamp": None},
                     "spec": POD_SPEC_JSON},
        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": 1}},
        "revisionHistoryLimit": 5, "progressDeadlineSeconds": 600,
    },
    "status": {},
}


def test_full_deployment_decodes_to_the_json_dict() -> None:
    decoded = decode_object(DEPLOYMENT)
    assert decoded.unknown_fields == []
    assert decoded.obj == DEPLOYMENT_JSON


def test_pointer_zeros_are_kept_and_value_zeros_dropped() -> None:
    job = envelope("batch/v1", "Job", b"".join([
        msg(1, st(1, "j")),
        msg(2, vi(1, 0), vi(2, 4), vi(7, 0), vi(8, 0), st(9, "Indexed"), vi(10, 0), vi(3, 600),
            msg(6, msg(2, msg(2, st(1, "c"), st(2, "busybox")), st(3, "Never")))),
        msg(3, msg(1, st(1, "Complete"), st(2, "True"), msg(4, vi(1, 1_700_000_000))), msg(2, vi(1, 1_700_000_000)),
            vi(4, 0), vi(5, 4)),
    ]))
    obj = decode_object(job).obj
    assert obj["spec"] == {
        "parallelism": 0, "completions": 4, "backoffLimit": 0, "ttlSecondsAfterFinished": 0,
        "completionMode": "Indexed", "suspend": False, "activeDeadlineSeconds": 600,
        "template": {"spec": {"containers": [{"name": "c", "image": "busybox"}], "restartPolicy": "Never"}},
    }
    assert obj["status"] == {"conditions": [{"type": "Complete", "status": "True",
                                             "lastTransitionTime": "2023-11-14T22:13:20Z"}],
                             "startTime": "2023-11-14T22:13:20Z", "succeeded": 4}


def test_service_target_port_zero_is_unset_and_named_port_is_a_string() -> None:
    svc = envelope("v1", "Service", msg(2, msg(1, vi(3, 80), msg(4, vi(1, 0), vi(2, 0), st(3, ""))),
                                        msg(1, st(1, "web"), vi(3, 443), msg(4, vi(1, 1), st(3, "https")))))
    assert decode_object(svc).obj["spec"]["ports"] == [{"port": 80}, {"name": "web", "port": 443,
                                                                      "targetPort": "https"}]


def test_event_micro_time_and_secret_like_bytes() -> None:
    event = envelope("v1", "Event", b"".join([
        msg(1, st(1, "e1")), msg(2, st(1, "Pod"), st(3, "p")), st(3, "Started"),
        msg(10, vi(1, 1_700_000_000), vi(2, 5_000)), vi(8, 2), st(14, "kubelet"), st(15, "node-1"),
    ]))
    obj = decode_object(event).obj
    assert obj["eventTime"] == "2023-11-14T22:13:20.000005Z"
    assert obj["involvedObject"] == {"kind": "Pod", "name": "p"}
    assert obj["count"] == 2 and obj["reportingInstance"] == "node-1"


# ---- unknown fields ---------------------------------------------------------------------


def test_unknown_fields_are_skipped_and_reported() -> None:
    body = envelope("v1", "Namespace", b"".join([
        msg(1, st(1, "ns"), vi(50, 7), key(51, 1) + b"\x00" * 8, key(52, 5) + b"\x00" * 4),
        msg(2, st(1, "kubernetes"), st(99, "future")),
    ]))
    decoded = decode_object(body, strict=False)
    assert decoded.obj == {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ns"},
                           "spec": {"finalizers": ["kubernetes"]}}
    assert decoded.unknown_fields == ["metadata: field 50 of ObjectMeta", "metadata: field 51 of ObjectMeta",
                                      "metadata: field 52 of ObjectMeta", "spec: field 99 of NamespaceSpec"]
    with pytest.raises(UnsupportedProtobuf, match="field 99 of NamespaceSpec"):
        decode_object(body)


def test_unmodelled_kind_and_encoded_payload_are_unsupported() -> None:
    with pytest.raises(UnsupportedProtobuf, match="coordination.k8s.io/v1, Kind=Lease"):
        decode_object(envelope("coordination.k8s.io/v1", "Lease", msg(1, st(1, "l"))))
    gzipped = MAGIC + msg(1, st(1, "v1"), st(2, "Namespace")) + ld(2, b"\x1f\x8b") + st(3, "gzip")
    with pytest.raises(UnsupportedProtobuf, match="gzip"):
        decode_object(gzipped)


# ---- malformed input --------------------------------------------------------------------


@pytest.mark.parametrize("cut", [1, 5, 40, len(DEPLOYMENT) // 2])
def test_truncated_input_raises_a_clean_error(cut: int) -> None:
    with pytest.raises(ProtobufError, match="truncated"):
        decode_object(DEPLOYMENT[:-cut])


@pytest.mark.parametrize(("body", "message"), [
    (b'{"kind":"Namespace"}', "k8s"),
    (envelope("v1", "Namespace", msg(1, vi(1, 5))), "metadata.name: expected a length-delimited field"),
    (envelope("v1", "Namespace", msg(1, ld(1, b"\xff\xfe"))), "not valid UTF-8"),
    (envelope("v1", "Namespace", msg(1, key(7, 0) + b"\xff" * 11)), "varint"),
    (envelope("v1", "Namespace", key(3, 3)), "wire type 3"),
    (envelope("v1", "Namespace", msg(1, key(0, 0) + b"\x00")), "field number 0"),
    (envelope("apps/v1", "Deployment", msg(2, vi(3, 1))), "spec.template: expected a length-delimited field"),
])
def test_malformed_input_raises_protobuf_error(body: bytes, message: str) -> None:
    with pytest.raises(ProtobufError, match=message):
        decode_object(body)


# ---- the tables against kubectl's own struct tags ---------------------------------------

KUBECTL_132 = Path("/usr/lib/google-cloud-sdk/bin/kubectl.1.32")
# Fields newer than 1.32 (present in the generated.proto copy the tables were read from),
# and EphemeralContainer's inline field, which kubectl's binary does not carry.
NEWER_THAN_KUBECTL_132 = {
    ("PodSpec", 41), ("PodSpec", 42), ("Container", 25), ("EphemeralContainerCommon", 25), ("EphemeralContainer", 1),
    ("ContainerRestartRule", 2), ("ContainerRestartRuleOnExitCodes", 1), ("EnvVarSource", 5),
    ("FileKeySelector", 3), ("Lifecycle", 3), ("SecurityContext", 13), ("Ulimit", 2), ("Ulimit", 3),
    ("WorkloadReference", 2), ("WorkloadReference", 3), ("PodStatus", 17), ("PodStatus", 19), ("PodStatus", 20),
    ("PodCondition", 7), ("ContainerStatus", 15),
}


@pytest.mark.skipif(not KUBECTL_132.exists(), reason="the stock kubectl 1.32 binary is not installed")
def test_field_numbers_match_kubectl_struct_tags() -> None:
    tags: set[tuple[str, int, str]] = set()
    for match in re.finditer(rb'json:"([^"]*)"(?: [A-Za-z]+:"[^"]*")* protobuf:"([^"]*)"', KUBECTL_132.read_bytes()):
        json_name = match.group(1).decode().split(",")[0]
        parts = match.group(2).decode().split(",")
        proto_name = next((p[5:] for p in parts if p.startswith("name=")), "")
        if len(parts) >= 3 and parts[1].isdigit():
            tags.add((json_name, int(parts[1]), proto_name))
    missing = {(type_name, number) for type_name, fields in SCHEMA.items() for number, spec in fields.items()
               if (spec.name, number, spec.wire_name) not in tags}
    assert missing <= NEWER_THAN_KUBECTL_132, sorted(missing - NEWER_THAN_KUBECTL_132)
    assert all(spec.kind != MAP or not spec.repeated for fields in SCHEMA.values() for spec in fields.values())


def test_self_subject_access_review_as_kubectl_auth_can_i_sends_it() -> None:
    body = envelope("authorization.k8s.io/v1", "SelfSubjectAccessReview", b"".join([
        msg(1), msg(2, msg(1, st(1, "default"), st(2, "create"), st(5, "pods"))), msg(3)]))
    decoded = decode_object(body).obj
    assert decoded["spec"] == {"resourceAttributes": {"namespace": "default", "verb": "create", "resource": "pods"}}
    assert decoded["kind"] == "SelfSubjectAccessReview"
