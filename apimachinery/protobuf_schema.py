"""Field tables for the protobuf decoder in `apimachinery.protobuf`: field number → JSON field.

Every number below was copied from Kubernetes' generated.proto files (go-to-protobuf output,
which never renumbers a field):

* k8s.io/apimachinery pkg/apis/meta/v1, pkg/runtime, pkg/util/intstr, pkg/api/resource
  (v0.26 copies; the messages used here have not changed since),
* k8s.io/api core/v1 and batch/v1 (a recent kubernetes/kubernetes staging copy, newer than 1.32,
  so it also has every 1.32 field), apps/v1 (v0.26; Deployment/ReplicaSet gained no field
  kubectl 1.32 sends).

`tests/unit/test_protobuf.py` cross-checks each (number, name, wire type, repeated) against the
struct tags compiled into the stock kubectl 1.32 binary when that binary is installed.

What the proto files do not say, and the tables add from the Go types: which scalar fields are
pointers (`ptr`: a zero value is meaningful and kept, e.g. `replicas: 0`), which ones JSON
never omits (`always`), and which messages are embedded inline in JSON (`inline`: the
`ProbeHandler` inside `Probe`, the `VolumeSource` inside `Volume`, `LocalObjectReference`s).
"""

from __future__ import annotations

from dataclasses import dataclass

STRING = "string"
INT32 = "int32"
INT64 = "int64"
BOOL = "bool"
BYTES = "bytes"
MESSAGE = "message"
MAP = "map"  # map<string, V>; V is `value` (STRING, BYTES or a message name)

SCALARS = frozenset({STRING, INT32, INT64, BOOL, BYTES})
VARINT_KINDS = frozenset({INT32, INT64, BOOL})

# Messages with a JSON form of their own rather than an object (see protobuf.SPECIAL).
TIME = "Time"
MICRO_TIME = "MicroTime"
QUANTITY = "Quantity"
INT_OR_STRING = "IntOrString"
DURATION = "Duration"
RAW_EXTENSION = "RawExtension"
FIELDS_V1 = "FieldsV1"


@dataclass(frozen=True)
class Field:
    """One field of a message: its JSON name, its type and how JSON treats its zero value."""

    name: str
    kind: str
    message: str = ""  # MESSAGE: the message type; MAP: the value type
    repeated: bool = False
    ptr: bool = False  # Go pointer: a present zero value is kept
    always: bool = False  # JSON tag without omitempty: a zero value is kept
    inline: bool = False  # JSON `,inline`: the message's fields merge into the parent
    proto_name: str = ""  # the proto name when it differs from `name` (inline fields)

    @property
    def wire_name(self) -> str:
        return self.proto_name or self.name


def s(name: str, *, ptr: bool = False, always: bool = False) -> Field:
    return Field(name, STRING, ptr=ptr, always=always)


def i32(name: str, *, ptr: bool = False, always: bool = False) -> Field:
    return Field(name, INT32, ptr=ptr, always=always)


def i64(name: str, *, ptr: bool = False, always: bool = False) -> Field:
    return Field(name, INT64, ptr=ptr, always=always)


def b(name: str, *, ptr: bool = False, always: bool = False) -> Field:
    return Field(name, BOOL, ptr=ptr, always=always)


def m(name: str, message: str, *, ptr: bool = False) -> Field:
    return Field(name, MESSAGE, message, ptr=ptr)


def rs(name: str) -> Field:
    return Field(name, STRING, repeated=True)


def ri32(name: str) -> Field:
    return Field(name, INT32, repeated=True)


def ri64(name: str) -> Field:
    return Field(name, INT64, repeated=True)


def rm(name: str, message: str) -> Field:
    return Field(name, MESSAGE, message, repeated=True)


def ms(name: str) -> Field:
    return Field(name, MAP, STRING)


def mq(name: str) -> Field:
    return Field(name, MAP, QUANTITY)


def mb(name: str) -> Field:
    return Field(name, MAP, BYTES)


def inline(proto_name: str, message: str) -> Field:
    return Field("", MESSAGE, message, inline=True, proto_name=proto_name)


Schema = dict[str, dict[int, Field]]

# ---- k8s.io/apimachinery ----------------------------------------------------------------

META: Schema = {
    # pkg/apis/meta/v1
    "ObjectMeta": {
        1: s("name"), 2: s("generateName"), 3: s("namespace"), 4: s("selfLink"), 5: s("uid"),
        6: s("resourceVersion"), 7: i64("generation"), 8: m("creationTimestamp", TIME),
        9: m("deletionTimestamp", TIME, ptr=True), 10: i64("deletionGracePeriodSeconds", ptr=True),
        11: ms("labels"), 12: ms("annotations"), 13: rm("ownerReferences", "OwnerReference"),
        14: rs("finalizers"), 17: rm("managedFields", "ManagedFieldsEntry"),
    },
    "OwnerReference": {
        5: s("apiVersion", always=True), 1: s("kind", always=True), 3: s("name", always=True),
        4: s("uid", always=True), 6: b("controller", ptr=True), 7: b("blockOwnerDeletion", ptr=True),
    },
    "ManagedFieldsEntry": {
        1: s("manager"), 2: s("operation"), 3: s("apiVersion"), 4: m("time", TIME, ptr=True),
        6: s("fieldsType"), 7: m("fieldsV1", FIELDS_V1, ptr=True), 8: s("subresource"),
    },
    "LabelSelector": {1: ms("matchLabels"), 2: rm("matchExpressions", "LabelSelectorRequirement")},
    "LabelSelectorRequirement": {1: s("key", always=True), 2: s("operator", always=True), 3: rs("values")},
    "Condition": {
        1: s("type", always=True), 2: s("status", always=True), 3: i64("observedGeneration"),
        4: m("lastTransitionTime", TIME), 5: s("reason", always=True), 6: s("message", always=True),
    },
    "DeleteOptions": {
        1: i64("gracePeriodSeconds", ptr=True), 2: m("preconditions", "Preconditions", ptr=True),
        3: b("orphanDependents", ptr=True), 4: s("propagationPolicy", ptr=True), 5: rs("dryRun"),
        # 1.32+, newer than the v0.26 proto copy; the number is from kubectl 1.32's struct tag
        # `protobuf:"varint,6,opt,name=ignoreStoreReadErrorWithClusterBreakingPotential"`.
        6: b("ignoreStoreReadErrorWithClusterBreakingPotential", ptr=True),
    },
    "Preconditions": {1: s("uid", ptr=True), 2: s("resourceVersion", ptr=True)},
}

# ---- k8s.io/api/core/v1 -----------------------------------------------------------------

_CONTAINER: dict[int, Field] = {
    1: s("name", always=True), 2: s("image"), 3: rs("command"), 4: rs("args"), 5: s("workingDir"),
    6: rm("ports", "ContainerPort"), 19: rm("envFrom", "EnvFromSource"), 7: rm("env", "EnvVar"),
    8: m("resources", "ResourceRequirements"), 23: rm("resizePolicy", "ContainerResizePolicy"),
    24: s("restartPolicy", ptr=True), 25: rm("restartPolicyRules", "ContainerRestartRule"),
    9: rm("volumeMounts", "VolumeMount"), 21: rm("volumeDevices", "VolumeDevice"),
    10: m("livenessProbe", "Probe", ptr=True), 11: m("readinessProbe", "Probe", ptr=True),
    22: m("startupProbe", "Probe", ptr=True), 12: m("lifecycle", "Lifecycle", ptr=True),
    13: s("terminationMessagePath"), 20: s("terminationMessagePolicy"), 14: s("imagePullPolicy"),
    15: m("securityContext", "SecurityContext", ptr=True), 16: b("stdin"), 17: b("stdinOnce"), 18: b("tty"),
}

CORE: Schema = {
    "Namespace": {1: m("metadata", "ObjectMeta"), 2: m("spec", "NamespaceSpec"), 3: m("status", "NamespaceStatus")},
    "NamespaceSpec": {1: rs("finalizers")},
    "NamespaceStatus": {1: s("phase"), 2: rm("conditions", "NamespaceCondition")},
    "NamespaceCondition": {
        1: s("type", always=True), 2: s("status", always=True), 4: m("lastTransitionTime", TIME),
        5: s("reason"), 6: s("message"),
    },
    "Pod": {1: m("metadata", "ObjectMeta"), 2: m("spec", "PodSpec"), 3: m("status", "PodStatus")},
    "PodTemplateSpec": {1: m("metadata", "ObjectMeta"), 2: m("spec", "PodSpec")},
    "PodSpec": {
        1: rm("volumes", "Volume"), 20: rm("initContainers", "Container"), 2: rm("containers", "Container"),
        34: rm("ephemeralContainers", "EphemeralContainer"), 3: s("restartPolicy"),
        4: i64("terminationGracePeriodSeconds", ptr=True), 5: i64("activeDeadlineSeconds", ptr=True),
        6: s("dnsPolicy"), 7: ms("nodeSelector"), 8: s("serviceAccountName"), 9: s("serviceAccount"),
        21: b("automountServiceAccountToken", ptr=True), 10: s("nodeName"), 11: b("hostNetwork"),
        12: b("hostPID"), 13: b("hostIPC"), 27: b("shareProcessNamespace", ptr=True),
        14: m("securityContext", "PodSecurityContext", ptr=True),
        15: rm("imagePullSecrets", "LocalObjectReference"), 16: s("hostname"), 17: s("subdomain"),
        18: m("affinity", "Affinity", ptr=True), 19: s("schedulerName"), 22: rm("tolerations", "Toleration"),
        23: rm("hostAliases", "HostAlias"), 24: s("priorityClassName"), 25: i32("priority", ptr=True),
        26: m("dnsConfig", "PodDNSConfig", ptr=True), 28: rm("readinessGates", "PodReadinessGate"),
        29: s("runtimeClassName", ptr=True), 30: b("enableServiceLinks", ptr=True),
        31: s("preemptionPolicy", ptr=True), 32: mq("overhead"),
        33: rm("topologySpreadConstraints", "TopologySpreadConstraint"), 35: b("setHostnameAsFQDN", ptr=True),
        36: m("os", "PodOS", ptr=True), 37: b("hostUsers", ptr=True),
        38: rm("schedulingGates", "PodSchedulingGate"), 39: rm("resourceClaims", "PodResourceClaim"),
        40: m("resources", "ResourceRequirements", ptr=True), 41: s("hostnameOverride", ptr=True),
        42: m("workloadRef", "WorkloadReference", ptr=True),
    },
    "Container": _CONTAINER,
    "EphemeralContainer": {1: inline("ephemeralContainerCommon", "EphemeralContainerCommon"),
                           2: s("targetContainerName")},
    "EphemeralContainerCommon": _CONTAINER,
    "ContainerPort": {
        1: s("name"), 2: i32("hostPort"), 3: i32("containerPort", always=True), 4: s("protocol"), 5: s("hostIP"),
    },
    "ContainerResizePolicy": {1: s("resourceName", always=True), 2: s("restartPolicy", always=True)},
    "ContainerRestartRule": {1: s("action"), 2: m("exitCodes", "ContainerRestartRuleOnExitCodes", ptr=True)},
    "ContainerRestartRuleOnExitCodes": {1: s("operator"), 2: ri32("values")},
    "EnvFromSource": {1: s("prefix"), 2: m("configMapRef", "ConfigMapEnvSource", ptr=True),
                      3: m("secretRef", "SecretEnvSource", ptr=True)},
    "EnvVar": {1: s("name", always=True), 2: s("value"), 3: m("valueFrom", "EnvVarSource", ptr=True)},
    "EnvVarSource": {
        1: m("fieldRef", "ObjectFieldSelector", ptr=True), 2: m("resourceFieldRef", "ResourceFieldSelector", ptr=True),
        3: m("configMapKeyRef", "ConfigMapKeySelector", ptr=True),
        4: m("secretKeyRef", "SecretKeySelector", ptr=True), 5: m("fileKeyRef", "FileKeySelector", ptr=True),
    },
    "ObjectFieldSelector": {1: s("apiVersion"), 2: s("fieldPath", always=True)},
    "ResourceFieldSelector": {1: s("containerName"), 2: s("resource", always=True), 3: m("divisor", QUANTITY)},
    "ConfigMapKeySelector": {1: inline("localObjectReference", "LocalObjectReference"), 2: s("key", always=True),
                             3: b("optional", ptr=True)},
    "SecretKeySelector": {1: inline("localObjectReference", "LocalObjectReference"), 2: s("key", always=True),
                          3: b("optional", ptr=True)},
    "FileKeySelector": {1: s("volumeName", always=True), 2: s("path", always=True), 3: s("key", always=True),
                        4: b("optional", ptr=True)},
    "ConfigMapEnvSource": {1: inline("localObjectReference", "LocalObjectReference"), 2: b("optional", ptr=True)},
    "SecretEnvSource": {1: inline("localObjectReference", "LocalObjectReference"), 2: b("optional", ptr=True)},
    "LocalObjectReference": {1: s("name")},
    "ResourceRequirements": {1: mq("limits"), 2: mq("requests"), 3: rm("claims", "ResourceClaim")},
    "ResourceClaim": {1: s("name", always=True), 2: s("request")},
    "VolumeMount": {
        1: s("name", always=True), 2: b("readOnly"), 7: s("recursiveReadOnly", ptr=True),
        3: s("mountPath", always=True), 4: s("subPath"), 5: s("mountPropagation", ptr=True), 6: s("subPathExpr"),
    },
    "VolumeDevice": {1: s("name", always=True), 2: s("devicePath", always=True)},
    "Probe": {
        1: inline("handler", "ProbeHandler"), 2: i32("initialDelaySeconds"), 3: i32("timeoutSeconds"),
        4: i32("periodSeconds"), 5: i32("successThreshold"), 6: i32("failureThreshold"),
        7: i64("terminationGracePeriodSeconds", ptr=True),
    },
    "ProbeHandler": {
        1: m("exec", "ExecAction", ptr=True), 2: m("httpGet", "HTTPGetAction", ptr=True),
        3: m("tcpSocket", "TCPSocketAction", ptr=True), 4: m("grpc", "GRPCAction", ptr=True),
    },
    "ExecAction": {1: rs("command")},
    "HTTPGetAction": {
        1: s("path"), 2: m("port", INT_OR_STRING), 3: s("host"), 4: s("scheme"), 5: rm("httpHeaders", "HTTPHeader"),
    },
    "HTTPHeader": {1: s("name", always=True), 2: s("value", always=True)},
    "TCPSocketAction": {1: m("port", INT_OR_STRING), 2: s("host")},
    "GRPCAction": {1: i32("port", always=True), 2: s("service", ptr=True)},
    "Lifecycle": {1: m("postStart", "LifecycleHandler", ptr=True), 2: m("preStop", "LifecycleHandler", ptr=True),
                  3: s("stopSignal", ptr=True)},
    "LifecycleHandler": {
        1: m("exec", "ExecAction", ptr=True), 2: m("httpGet", "HTTPGetAction", ptr=True),
        3: m("tcpSocket", "TCPSocketAction", ptr=True), 4: m("sleep", "SleepAction", ptr=True),
    },
    "SleepAction": {1: i64("seconds", always=True)},
    "SecurityContext": {
        1: m("capabilities", "Capabilities", ptr=True), 2: b("privileged", ptr=True),
        3: m("seLinuxOptions", "SELinuxOptions", ptr=True),
        10: m("windowsOptions", "WindowsSecurityContextOptions", ptr=True), 4: i64("runAsUser", ptr=True),
        8: i64("runAsGroup", ptr=True), 5: b("runAsNonRoot", ptr=True), 6: b("readOnlyRootFilesystem", ptr=True),
        7: b("allowPrivilegeEscalation", ptr=True), 9: s("procMount", ptr=True),
        11: m("seccompProfile", "SeccompProfile", ptr=True), 12: m("appArmorProfile", "AppArmorProfile", ptr=True),
        13: rm("ulimits", "Ulimit"),
    },
    "Capabilities": {1: rs("add"), 2: rs("drop")},
    "SELinuxOptions": {1: s("user"), 2: s("role"), 3: s("type"), 4: s("level")},
    "WindowsSecurityContextOptions": {
        1: s("gmsaCredentialSpecName", ptr=True), 2: s("gmsaCredentialSpec", ptr=True),
        3: s("runAsUserName", ptr=True), 4: b("hostProcess", ptr=True),
    },
    "SeccompProfile": {1: s("type", always=True), 2: s("localhostProfile", ptr=True)},
    "AppArmorProfile": {1: s("type", always=True), 2: s("localhostProfile", ptr=True)},
    "Ulimit": {1: s("name", always=True), 2: i64("hard", always=True), 3: i64("soft", always=True)},
    "PodSecurityContext": {
        1: m("seLinuxOptions", "SELinuxOptions", ptr=True),
        8: m("windowsOptions", "WindowsSecurityContextOptions", ptr=True), 2: i64("runAsUser", ptr=True),
        6: i64("runAsGroup", ptr=True), 3: b("runAsNonRoot", ptr=True), 4: ri64("supplementalGroups"),
        12: s("supplementalGroupsPolicy", ptr=True), 5: i64("fsGroup", ptr=True), 7: rm("sysctls", "Sysctl"),
        9: s("fsGroupChangePolicy", ptr=True), 10: m("seccompProfile", "SeccompProfile", ptr=True),
        11: m("appArmorProfile", "AppArmorProfile", ptr=True), 13: s("seLinuxChangePolicy", ptr=True),
    },
    "Sysctl": {1: s("name", always=True), 2: s("value", always=True)},
    "Toleration": {1: s("key"), 2: s("operator"), 3: s("value"), 4: s("effect"),
                   5: i64("tolerationSeconds", ptr=True)},
    "Affinity": {
        1: m("nodeAffinity", "NodeAffinity", ptr=True), 2: m("podAffinity", "PodAffinity", ptr=True),
        3: m("podAntiAffinity", "PodAntiAffinity", ptr=True),
    },
    "NodeAffinity": {
        1: m("requiredDuringSchedulingIgnoredDuringExecution", "NodeSelector", ptr=True),
        2: rm("preferredDuringSchedulingIgnoredDuringExecution", "PreferredSchedulingTerm"),
    },
    "NodeSelector": {1: rm("nodeSelectorTerms", "NodeSelectorTerm")},
    "NodeSelectorTerm": {1: rm("matchExpressions", "NodeSelectorRequirement"),
                         2: rm("matchFields", "NodeSelectorRequirement")},
    "NodeSelectorRequirement": {1: s("key", always=True), 2: s("operator", always=True), 3: rs("values")},
    "PreferredSchedulingTerm": {1: i32("weight", always=True), 2: m("preference", "NodeSelectorTerm")},
    "PodAffinity": {
        1: rm("requiredDuringSchedulingIgnoredDuringExecution", "PodAffinityTerm"),
        2: rm("preferredDuringSchedulingIgnoredDuringExecution", "WeightedPodAffinityTerm"),
    },
    "PodAntiAffinity": {
        1: rm("requiredDuringSchedulingIgnoredDuringExecution", "PodAffinityTerm"),
        2: rm("preferredDuringSchedulingIgnoredDuringExecution", "WeightedPodAffinityTerm"),
    },
    "PodAffinityTerm": {
        1: m("labelSelector", "LabelSelector", ptr=True), 2: rs("namespaces"), 3: s("topologyKey", always=True),
        4: m("namespaceSelector", "LabelSelector", ptr=True), 5: rs("matchLabelKeys"), 6: rs("mismatchLabelKeys"),
    },
    "WeightedPodAffinityTerm": {1: i32("weight", always=True), 2: m("podAffinityTerm", "PodAffinityTerm")},
    "TopologySpreadConstraint": {
        1: i32("maxSkew", always=True), 2: s("topologyKey", always=True), 3: s("whenUnsatisfiable", always=True),
        4: m("labelSelector", "LabelSelector", ptr=True), 5: i32("minDomains", ptr=True),
        6: s("nodeAffinityPolicy", ptr=True), 7: s("nodeTaintsPolicy", ptr=True), 8: rs("matchLabelKeys"),
    },
    "HostAlias": {1: s("ip"), 2: rs("hostnames")},
    "PodDNSConfig": {1: rs("nameservers"), 2: rs("searches"), 3: rm("options", "PodDNSConfigOption")},
    "PodDNSConfigOption": {1: s("name"), 2: s("value", ptr=True)},
    "PodReadinessGate": {1: s("conditionType", always=True)},
    "PodOS": {1: s("name", always=True)},
    "PodSchedulingGate": {1: s("name", always=True)},
    "PodResourceClaim": {1: s("name", always=True), 3: s("resourceClaimName", ptr=True),
                         4: s("resourceClaimTemplateName", ptr=True)},
    "WorkloadReference": {1: s("name"), 2: s("podGroup"), 3: s("podGroupReplicaKey")},
    "Volume": {1: s("name", always=True), 2: inline("volumeSource", "VolumeSource")},
    # VolumeSource: only the in-tree sources a kube-py pod can use; others are unknown fields.
    "VolumeSource": {
        1: m("hostPath", "HostPathVolumeSource", ptr=True), 2: m("emptyDir", "EmptyDirVolumeSource", ptr=True),
        6: m("secret", "SecretVolumeSource", ptr=True), 7: m("nfs", "NFSVolumeSource", ptr=True),
        10: m("persistentVolumeClaim", "PersistentVolumeClaimVolumeSource", ptr=True),
        16: m("downwardAPI", "DownwardAPIVolumeSource", ptr=True),
        19: m("configMap", "ConfigMapVolumeSource", ptr=True), 26: m("projected", "ProjectedVolumeSource", ptr=True),
        30: m("image", "ImageVolumeSource", ptr=True),
    },
    "HostPathVolumeSource": {1: s("path", always=True), 2: s("type", ptr=True)},
    "EmptyDirVolumeSource": {1: s("medium"), 2: m("sizeLimit", QUANTITY, ptr=True)},
    "NFSVolumeSource": {1: s("server", always=True), 2: s("path", always=True), 3: b("readOnly")},
    "PersistentVolumeClaimVolumeSource": {1: s("claimName", always=True), 2: b("readOnly")},
    "SecretVolumeSource": {1: s("secretName"), 2: rm("items", "KeyToPath"), 3: i32("defaultMode", ptr=True),
                           4: b("optional", ptr=True)},
    "ConfigMapVolumeSource": {1: inline("localObjectReference", "LocalObjectReference"), 2: rm("items", "KeyToPath"),
                              3: i32("defaultMode", ptr=True), 4: b("optional", ptr=True)},
    "KeyToPath": {1: s("key", always=True), 2: s("path", always=True), 3: i32("mode", ptr=True)},
    "DownwardAPIVolumeSource": {1: rm("items", "DownwardAPIVolumeFile"), 2: i32("defaultMode", ptr=True)},
    "DownwardAPIVolumeFile": {
        1: s("path", always=True), 2: m("fieldRef", "ObjectFieldSelector", ptr=True),
        3: m("resourceFieldRef", "ResourceFieldSelector", ptr=True), 4: i32("mode", ptr=True),
    },
    "ProjectedVolumeSource": {1: rm("sources", "VolumeProjection"), 2: i32("defaultMode", ptr=True)},
    "VolumeProjection": {
        1: m("secret", "SecretProjection", ptr=True), 2: m("downwardAPI", "DownwardAPIProjection", ptr=True),
        3: m("configMap", "ConfigMapProjection", ptr=True),
        4: m("serviceAccountToken", "ServiceAccountTokenProjection", ptr=True),
    },
    "SecretProjection": {1: inline("localObjectReference", "LocalObjectReference"), 2: rm("items", "KeyToPath"),
                         4: b("optional", ptr=True)},
    "ConfigMapProjection": {1: inline("localObjectReference", "LocalObjectReference"), 2: rm("items", "KeyToPath"),
                            4: b("optional", ptr=True)},
    "DownwardAPIProjection": {1: rm("items", "DownwardAPIVolumeFile")},
    "ServiceAccountTokenProjection": {1: s("audience"), 2: i64("expirationSeconds", ptr=True),
                                      3: s("path", always=True)},
    "ImageVolumeSource": {1: s("reference"), 2: s("pullPolicy")},
    "PodStatus": {
        17: i64("observedGeneration"), 1: s("phase"), 2: rm("conditions", "PodCondition"), 3: s("message"),
        4: s("reason"), 11: s("nominatedNodeName"), 5: s("hostIP"), 16: rm("hostIPs", "HostIP"), 6: s("podIP"),
        12: rm("podIPs", "PodIP"), 7: m("startTime", TIME, ptr=True),
        10: rm("initContainerStatuses", "ContainerStatus"), 8: rm("containerStatuses", "ContainerStatus"),
        9: s("qosClass"), 13: rm("ephemeralContainerStatuses", "ContainerStatus"), 14: s("resize"),
        19: mq("allocatedResources"), 20: m("resources", "ResourceRequirements", ptr=True),
    },
    "PodCondition": {
        1: s("type", always=True), 7: i64("observedGeneration"), 2: s("status", always=True),
        3: m("lastProbeTime", TIME), 4: m("lastTransitionTime", TIME), 5: s("reason"), 6: s("message"),
    },
    "HostIP": {1: s("ip", always=True)},
    "PodIP": {1: s("ip", always=True)},
    "ContainerStatus": {
        1: s("name", always=True), 2: m("state", "ContainerState"), 3: m("lastState", "ContainerState"),
        4: b("ready", always=True), 5: i32("restartCount", always=True), 6: s("image", always=True),
        7: s("imageID", always=True), 8: s("containerID"), 9: b("started", ptr=True),
        10: mq("allocatedResources"), 11: m("resources", "ResourceRequirements", ptr=True),
        12: rm("volumeMounts", "VolumeMountStatus"), 15: s("stopSignal", ptr=True),
    },
    "ContainerState": {
        1: m("waiting", "ContainerStateWaiting", ptr=True), 2: m("running", "ContainerStateRunning", ptr=True),
        3: m("terminated", "ContainerStateTerminated", ptr=True),
    },
    "ContainerStateWaiting": {1: s("reason"), 2: s("message")},
    "ContainerStateRunning": {1: m("startedAt", TIME)},
    "ContainerStateTerminated": {
        1: i32("exitCode", always=True), 2: i32("signal"), 3: s("reason"), 4: s("message"),
        5: m("startedAt", TIME), 6: m("finishedAt", TIME), 7: s("containerID"),
    },
    "VolumeMountStatus": {1: s("name", always=True), 2: s("mountPath", always=True), 3: b("readOnly"),
                          4: s("recursiveReadOnly", ptr=True)},
    "Service": {1: m("metadata", "ObjectMeta"), 2: m("spec", "ServiceSpec"), 3: m("status", "ServiceStatus")},
    "ServiceSpec": {
        1: rm("ports", "ServicePort"), 2: ms("selector"), 3: s("clusterIP"), 18: rs("clusterIPs"), 4: s("type"),
        5: rs("externalIPs"), 7: s("sessionAffinity"), 8: s("loadBalancerIP"), 9: rs("loadBalancerSourceRanges"),
        10: s("externalName"), 11: s("externalTrafficPolicy"), 12: i32("healthCheckNodePort"),
        13: b("publishNotReadyAddresses"), 14: m("sessionAffinityConfig", "SessionAffinityConfig", ptr=True),
        19: rs("ipFamilies"), 17: s("ipFamilyPolicy", ptr=True), 20: b("allocateLoadBalancerNodePorts", ptr=True),
        21: s("loadBalancerClass", ptr=True), 22: s("internalTrafficPolicy", ptr=True),
        23: s("trafficDistribution", ptr=True),
    },
    "ServicePort": {
        1: s("name"), 2: s("protocol"), 6: s("appProtocol", ptr=True), 3: i32("port", always=True),
        4: m("targetPort", INT_OR_STRING), 5: i32("nodePort"),
    },
    "SessionAffinityConfig": {1: m("clientIP", "ClientIPConfig", ptr=True)},
    "ClientIPConfig": {1: i32("timeoutSeconds", ptr=True)},
    "ServiceStatus": {1: m("loadBalancer", "LoadBalancerStatus"), 2: rm("conditions", "Condition")},
    "LoadBalancerStatus": {1: rm("ingress", "LoadBalancerIngress")},
    "LoadBalancerIngress": {1: s("ip"), 2: s("hostname"), 3: s("ipMode", ptr=True), 4: rm("ports", "PortStatus")},
    "PortStatus": {1: i32("port", always=True), 2: s("protocol", always=True), 3: s("error", ptr=True)},
    "Binding": {1: m("metadata", "ObjectMeta"), 2: m("target", "ObjectReference")},
    "ObjectReference": {
        1: s("kind"), 2: s("namespace"), 3: s("name"), 4: s("uid"), 5: s("apiVersion"), 6: s("resourceVersion"),
        7: s("fieldPath"),
    },
    "Endpoints": {1: m("metadata", "ObjectMeta"), 2: rm("subsets", "EndpointSubset")},
    "EndpointSubset": {1: rm("addresses", "EndpointAddress"), 2: rm("notReadyAddresses", "EndpointAddress"),
                       3: rm("ports", "EndpointPort")},
    "EndpointAddress": {1: s("ip", always=True), 3: s("hostname"), 4: s("nodeName", ptr=True),
                        2: m("targetRef", "ObjectReference", ptr=True)},
    "EndpointPort": {1: s("name"), 2: i32("port", always=True), 3: s("protocol"), 4: s("appProtocol", ptr=True)},
    "Event": {
        1: m("metadata", "ObjectMeta"), 2: m("involvedObject", "ObjectReference"), 3: s("reason"), 4: s("message"),
        5: m("source", "EventSource"), 6: m("firstTimestamp", TIME), 7: m("lastTimestamp", TIME), 8: i32("count"),
        9: s("type"), 10: m("eventTime", MICRO_TIME), 11: m("series", "EventSeries", ptr=True), 12: s("action"),
        13: m("related", "ObjectReference", ptr=True), 14: s("reportingComponent", always=True),
        15: s("reportingInstance", always=True),
    },
    "EventSource": {1: s("component"), 2: s("host")},
    "EventSeries": {1: i32("count"), 2: m("lastObservedTime", MICRO_TIME)},
}

# ---- k8s.io/api/apps/v1 -----------------------------------------------------------------

APPS: Schema = {
    "Deployment": {1: m("metadata", "ObjectMeta"), 2: m("spec", "DeploymentSpec"), 3: m("status", "DeploymentStatus")},
    "DeploymentSpec": {
        1: i32("replicas", ptr=True), 2: m("selector", "LabelSelector", ptr=True), 3: m("template", "PodTemplateSpec"),
        4: m("strategy", "DeploymentStrategy"), 5: i32("minReadySeconds"), 6: i32("revisionHistoryLimit", ptr=True),
        7: b("paused"), 9: i32("progressDeadlineSeconds", ptr=True),
    },
    "DeploymentStrategy": {1: s("type"), 2: m("rollingUpdate", "RollingUpdateDeployment", ptr=True)},
    "RollingUpdateDeployment": {1: m("maxUnavailable", INT_OR_STRING, ptr=True),
                                2: m("maxSurge", INT_OR_STRING, ptr=True)},
    "DeploymentStatus": {
        1: i64("observedGeneration"), 2: i32("replicas"), 3: i32("updatedReplicas"), 7: i32("readyReplicas"),
        4: i32("availableReplicas"), 5: i32("unavailableReplicas"), 6: rm("conditions", "DeploymentCondition"),
        8: i32("collisionCount", ptr=True),
    },
    "DeploymentCondition": {
        1: s("type", always=True), 2: s("status", always=True), 6: m("lastUpdateTime", TIME),
        7: m("lastTransitionTime", TIME), 4: s("reason"), 5: s("message"),
    },
    "ReplicaSet": {1: m("metadata", "ObjectMeta"), 2: m("spec", "ReplicaSetSpec"), 3: m("status", "ReplicaSetStatus")},
    "ReplicaSetSpec": {1: i32("replicas", ptr=True), 4: i32("minReadySeconds"),
                       2: m("selector", "LabelSelector", ptr=True), 3: m("template", "PodTemplateSpec")},
    "ReplicaSetStatus": {
        1: i32("replicas", always=True), 2: i32("fullyLabeledReplicas"), 4: i32("readyReplicas"),
        5: i32("availableReplicas"), 3: i64("observedGeneration"), 6: rm("conditions", "ReplicaSetCondition"),
    },
    "ReplicaSetCondition": {1: s("type", always=True), 2: s("status", always=True), 3: m("lastTransitionTime", TIME),
                            4: s("reason"), 5: s("message")},
}

# ---- k8s.io/api/batch/v1 ----------------------------------------------------------------

BATCH: Schema = {
    "Job": {1: m("metadata", "ObjectMeta"), 2: m("spec", "JobSpec"), 3: m("status", "JobStatus")},
    "JobSpec": {
        1: i32("parallelism", ptr=True), 2: i32("completions", ptr=True), 3: i64("activeDeadlineSeconds", ptr=True),
        11: m("podFailurePolicy", "PodFailurePolicy", ptr=True), 16: m("successPolicy", "SuccessPolicy", ptr=True),
        7: i32("backoffLimit", ptr=True), 12: i32("backoffLimitPerIndex", ptr=True),
        13: i32("maxFailedIndexes", ptr=True), 4: m("selector", "LabelSelector", ptr=True),
        5: b("manualSelector", ptr=True), 6: m("template", "PodTemplateSpec"),
        8: i32("ttlSecondsAfterFinished", ptr=True), 9: s("completionMode", ptr=True), 10: b("suspend", ptr=True),
        14: s("podReplacementPolicy", ptr=True), 15: s("managedBy", ptr=True),
    },
    "JobStatus": {
        1: rm("conditions", "JobCondition"), 2: m("startTime", TIME, ptr=True),
        3: m("completionTime", TIME, ptr=True), 4: i32("active"), 5: i32("succeeded"), 6: i32("failed"),
        11: i32("terminating", ptr=True), 7: s("completedIndexes"), 10: s("failedIndexes", ptr=True),
        8: m("uncountedTerminatedPods", "UncountedTerminatedPods", ptr=True), 9: i32("ready", ptr=True),
    },
    "JobCondition": {
        1: s("type", always=True), 2: s("status", always=True), 3: m("lastProbeTime", TIME),
        4: m("lastTransitionTime", TIME), 5: s("reason"), 6: s("message"),
    },
    "UncountedTerminatedPods": {1: rs("succeeded"), 2: rs("failed")},
    "PodFailurePolicy": {1: rm("rules", "PodFailurePolicyRule")},
    "PodFailurePolicyRule": {
        1: s("action", always=True), 2: m("onExitCodes", "PodFailurePolicyOnExitCodesRequirement", ptr=True),
        3: rm("onPodConditions", "PodFailurePolicyOnPodConditionsPattern"),
    },
    "PodFailurePolicyOnExitCodesRequirement": {1: s("containerName", ptr=True), 2: s("operator", always=True),
                                               3: ri32("values")},
    "PodFailurePolicyOnPodConditionsPattern": {1: s("type", always=True), 2: s("status")},
    "SuccessPolicy": {1: rm("rules", "SuccessPolicyRule")},
    "SuccessPolicyRule": {1: s("succeededIndexes", ptr=True), 2: i32("succeededCount", ptr=True)},
}

# ---- k8s.io/api/authorization/v1 and authentication/v1 (the self-reviews) -----------------

AUTH: Schema = {
    "SelfSubjectAccessReview": {1: m("metadata", "ObjectMeta"), 2: m("spec", "SelfSubjectAccessReviewSpec"),
                                3: m("status", "SubjectAccessReviewStatus")},
    "SelfSubjectAccessReviewSpec": {1: m("resourceAttributes", "ResourceAttributes", ptr=True),
                                    2: m("nonResourceAttributes", "NonResourceAttributes", ptr=True)},
    "ResourceAttributes": {
        1: s("namespace"), 2: s("verb"), 3: s("group"), 4: s("version"), 5: s("resource"), 6: s("subresource"),
        7: s("name"), 8: m("fieldSelector", "FieldSelectorAttributes", ptr=True),
        9: m("labelSelector", "LabelSelectorAttributes", ptr=True),
    },
    "FieldSelectorAttributes": {1: s("rawSelector"), 2: rm("requirements", "FieldSelectorRequirement")},
    "FieldSelectorRequirement": {1: s("key", always=True), 2: s("operator", always=True), 3: rs("values")},
    "LabelSelectorAttributes": {1: s("rawSelector"), 2: rm("requirements", "LabelSelectorRequirement")},
    "NonResourceAttributes": {1: s("path"), 2: s("verb")},
    "SubjectAccessReviewStatus": {1: b("allowed", always=True), 4: b("denied"), 2: s("reason"),
                                  3: s("evaluationError")},
    "SelfSubjectRulesReview": {1: m("metadata", "ObjectMeta"), 2: m("spec", "SelfSubjectRulesReviewSpec"),
                               3: m("status", "SubjectRulesReviewStatus")},
    "SelfSubjectRulesReviewSpec": {1: s("namespace")},
    "SubjectRulesReviewStatus": {1: rm("resourceRules", "ResourceRule"), 2: rm("nonResourceRules", "NonResourceRule"),
                                 3: b("incomplete", always=True), 4: s("evaluationError")},
    "ResourceRule": {1: rs("verbs"), 2: rs("apiGroups"), 3: rs("resources"), 4: rs("resourceNames")},
    "NonResourceRule": {1: rs("verbs"), 2: rs("nonResourceURLs")},
    "SelfSubjectReview": {1: m("metadata", "ObjectMeta"), 2: m("status", "SelfSubjectReviewStatus")},
    "SelfSubjectReviewStatus": {1: m("userInfo", "UserInfo")},
    "UserInfo": {1: s("username"), 2: s("uid"), 3: rs("groups")},
}

SCHEMA: Schema = {**META, **CORE, **APPS, **BATCH, **AUTH}

# (apiVersion, kind) of a runtime.Unknown envelope → top-level message.
TOP_LEVEL: dict[tuple[str, str], str] = {
    ("v1", "Namespace"): "Namespace",
    ("v1", "Pod"): "Pod",
    ("v1", "Service"): "Service",
    ("v1", "Binding"): "Binding",
    ("v1", "Endpoints"): "Endpoints",
    ("v1", "Event"): "Event",
    ("apps/v1", "Deployment"): "Deployment",
    ("apps/v1", "ReplicaSet"): "ReplicaSet",
    ("batch/v1", "Job"): "Job",
    ("authorization.k8s.io/v1", "SelfSubjectAccessReview"): "SelfSubjectAccessReview",
    ("authorization.k8s.io/v1", "SelfSubjectRulesReview"): "SelfSubjectRulesReview",
    ("authentication.k8s.io/v1", "SelfSubjectReview"): "SelfSubjectReview",
}

# Typed clients encode DeleteOptions under their own group-version (or meta.k8s.io/v1).
OPTIONS_KINDS: dict[str, str] = {"DeleteOptions": "DeleteOptions"}
