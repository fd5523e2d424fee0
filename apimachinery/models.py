"""Typed object model (pydantic v2) with Kubernetes' JSON field names.

The API server's hot path stays on plain dicts (validated by `scheme`, defaulted by
`defaults`); these models are the typed view for clients, controllers and tests:
`parse(kind_key, obj)` and `to_dict(model)` round-trip real manifests exactly, unknown
fields included (extra="allow"), with Python attribute names and camelCase aliases.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

IntOrString = int | str
Time = str  # RFC 3339, kept as text to round-trip exactly


class K8sModel(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="allow", alias_generator=to_camel)


# ---- meta -----------------------------------------------------------------------------

class OwnerReference(K8sModel):
    api_version: str
    kind: str
    name: str
    uid: str
    controller: bool | None = None
    block_owner_deletion: bool | None = None


class ObjectMeta(K8sModel):
    name: str | None = None
    generate_name: str | None = None
    namespace: str | None = None
    uid: str | None = None
    resource_version: str | None = None
    generation: int | None = None
    creation_timestamp: Time | None = None
    deletion_timestamp: Time | None = None
    deletion_grace_period_seconds: int | None = None
    labels: dict[str, str] | None = None
    annotations: dict[str, str] | None = None
    owner_references: list[OwnerReference] | None = None
    finalizers: list[str] | None = None
    managed_fields: list[dict[str, Any]] | None = None


class ListMeta(K8sModel):
    resource_version: str | None = None
    continue_: str | None = Field(default=None, alias="continue")
    remaining_item_count: int | None = None


class StatusCause(K8sModel):
    reason: str | None = None
    message: str | None = None
    field: str | None = None


class StatusDetails(K8sModel):
    name: str | None = None
    group: str | None = None
    kind: str | None = None
    uid: str | None = None
    causes: list[StatusCause] | None = None
    retry_after_seconds: int | None = None


class Status(K8sModel):
    api_version: str | None = "v1"
    kind: str | None = "Status"
    metadata: ListMeta | None = None
    status: str | None = None
    message: str | None = None
    reason: str | None = None
    details: StatusDetails | None = None
    code: int | None = None


class Preconditions(K8sModel):
    uid: str | None = None
    resource_version: str | None = None


class DeleteOptions(K8sModel):
    api_version: str | None = None
    kind: str | None = None
    grace_period_seconds: int | None = None
    preconditions: Preconditions | None = None
    propagation_policy: str | None = None
    orphan_dependents: bool | None = None
    dry_run: list[str] | None = None


class WatchEvent(K8sModel):
    type: str
    object: dict[str, Any]


class TableColumnDefinition(K8sModel):
    name: str
    type: str
    format: str = ""
    description: str = ""
    priority: int = 0


class TableRow(K8sModel):
    cells: list[Any]
    object: dict[str, Any] | None = None


class Table(K8sModel):
    api_version: str = "meta.k8s.io/v1"
    kind: str = "Table"
    metadata: ListMeta | None = None
    column_definitions: list[TableColumnDefinition] = []
    rows: list[TableRow] = []


class LabelSelectorRequirement(K8sModel):
    key: str
    operator: str
    values: list[str] | None = None


class LabelSelector(K8sModel):
    match_labels: dict[str, str] | None = None
    match_expressions: list[LabelSelectorRequirement] | None = None


class Condition(K8sModel):
    type: str
    status: str
    reason: str | None = None
    message: str | None = None
    last_transition_time: Time | None = None
    last_update_time: Time | None = None
    last_probe_time: Time | None = None
    last_heartbeat_time: Time | None = None
    observed_generation: int | None = None


class ObjectReference(K8sModel):
    kind: str | None = None
    namespace: str | None = None
    name: str | None = None
    uid: str | None = None
    api_version: str | None = None
    resource_version: str | None = None
    field_path: str | None = None


# ---- core/v1: pods --------------------------------------------------------------------

class ContainerPort(K8sModel):
    name: str | None = None
    container_port: int
    host_port: int | None = None
    host_ip: str | None = Field(default=None, alias="hostIP")
    protocol: str | None = None


class EnvVar(K8sModel):
    name: str
    value: str | None = None
    value_from: dict[str, Any] | None = None


class ResourceRequirements(K8sModel):
    limits: dict[str, IntOrString] | None = None
    requests: dict[str, IntOrString] | None = None


class ExecAction(K8sModel):
    command: list[str] | None = None


class HTTPGetAction(K8sModel):
    path: str | None = None
    port: IntOrString
    host: str | None = None
    scheme: str | None = None
    http_headers: list[dict[str, str]] | None = None


class TCPSocketAction(K8sModel):
    port: IntOrString
    host: str | None = None


class Probe(K8sModel):
    exec: ExecAction | None = None
    http_get: HTTPGetAction | None = None
    tcp_socket: TCPSocketAction | None = None
    grpc: dict[str, Any] | None = None
    initial_delay_seconds: int | None = None
    timeout_seconds: int | None = None
    period_seconds: int | None = None
    success_threshold: int | None = None
    failure_threshold: int | None = None
    termination_grace_period_seconds: int | None = None


class LifecycleHandler(K8sModel):
    exec: ExecAction | None = None
    http_get: HTTPGetAction | None = None
    tcp_socket: TCPSocketAction | None = None


class Lifecycle(K8sModel):
    post_start: LifecycleHandler | None = None
    pre_stop: LifecycleHandler | None = None


class VolumeMount(K8sModel):
    name: str
    mount_path: str
    read_only: bool | None = None
    sub_path: str | None = None


class Container(K8sModel):
    name: str
    image: str | None = None
    command: list[str] | None = None
    args: list[str] | None = None
    working_dir: str | None = None
    env: list[EnvVar] | None = None
    env_from: list[dict[str, Any]] | None = None
    ports: list[ContainerPort] | None = None
    resources: ResourceRequirements | None = None
    liveness_probe: Probe | None = None
    readiness_probe: Probe | None = None
    startup_probe: Probe | None = None
    lifecycle: Lifecycle | None = None
    volume_mounts: list[VolumeMount] | None = None
    image_pull_policy: str | None = None
    security_context: dict[str, Any] | None = None
    stdin: bool | None = None
    tty: bool | None = None
    termination_message_path: str | None = None
    termination_message_policy: str | None = None
    restart_policy: str | None = None


class EmptyDirVolumeSource(K8sModel):
    medium: str | None = None
    size_limit: IntOrString | None = None


class HostPathVolumeSource(K8sModel):
    path: str
    type: str | None = None


class Volume(K8sModel):
    name: str
    empty_dir: EmptyDirVolumeSource | None = None
    host_path: HostPathVolumeSource | None = None
    config_map: dict[str, Any] | None = None
    secret: dict[str, Any] | None = None
    projected: dict[str, Any] | None = None
    persistent_volume_claim: dict[str, Any] | None = None


class Toleration(K8sModel):
    key: str | None = None
    operator: str | None = None
    value: str | None = None
    effect: str | None = None
    toleration_seconds: int | None = None


class PodSpec(K8sModel):
    containers: list[Container]
    init_containers: list[Container] | None = None
    volumes: list[Volume] | None = None
    node_name: str | None = None
    node_selector: dict[str, str] | None = None
    affinity: dict[str, Any] | None = None
    tolerations: list[Toleration] | None = None
    restart_policy: str | None = None
    termination_grace_period_seconds: int | None = None
    active_deadline_seconds: int | None = None
    dns_policy: str | None = None
    service_account_name: str | None = None
    service_account: str | None = None
    host_network: bool | None = None
    hostname: str | None = None
    subdomain: str | None = None
    scheduler_name: str | None = None
    priority: int | None = None
    priority_class_name: str | None = None
    security_context: dict[str, Any] | None = None
    image_pull_secrets: list[dict[str, str]] | None = None
    enable_service_links: bool | None = None
    preemption_policy: str | None = None
    readiness_gates: list[dict[str, str]] | None = None
    overhead: dict[str, IntOrString] | None = None


class ContainerStatus(K8sModel):
    name: str
    image: str
    image_id: str = Field(alias="imageID")
    ready: bool
    restart_count: int
    state: dict[str, Any] | None = None
    last_state: dict[str, Any] | None = None
    container_id: str | None = Field(default=None, alias="containerID")
    started: bool | None = None


class PodStatus(K8sModel):
    phase: str | None = None
    conditions: list[Condition] | None = None
    message: str | None = None
    reason: str | None = None
    host_ip: str | None = Field(default=None, alias="hostIP")
    pod_ip: str | None = Field(default=None, alias="podIP")
    pod_ips: list[dict[str, str]] | None = Field(default=None, alias="podIPs")
    host_ips: list[dict[str, str]] | None = Field(default=None, alias="hostIPs")
    start_time: Time | None = None
    container_statuses: list[ContainerStatus] | None = None
    init_container_statuses: list[ContainerStatus] | None = None
    qos_class: str | None = None
    nominated_node_name: str | None = None


class PodTemplateSpec(K8sModel):
    metadata: ObjectMeta | None = None
    spec: PodSpec | None = None


class TopLevel(K8sModel):
    api_version: str | None = None
    kind: str | None = None
    metadata: ObjectMeta | None = None


class Pod(TopLevel):
    spec: PodSpec | None = None
    status: PodStatus | None = None


class Binding(TopLevel):
    target: ObjectReference


# ---- core/v1: the rest ----------------------------------------------------------------

class NamespaceSpec(K8sModel):
    finalizers: list[str] | None = None


class Namespace(TopLevel):
    spec: NamespaceSpec | None = None
    status: dict[str, Any] | None = None


class Taint(K8sModel):
    key: str
    value: str | None = None
    effect: str
    time_added: Time | None = None


class NodeSpec(K8sModel):
    pod_cidr: str | None = Field(default=None, alias="podCIDR")
    pod_cidrs: list[str] | None = Field(default=None, alias="podCIDRs")
    unschedulable: bool | None = None
    taints: list[Taint] | None = None


class NodeStatus(K8sModel):
    capacity: dict[str, IntOrString] | None = None
    allocatable: dict[str, IntOrString] | None = None
    conditions: list[Condition] | None = None
    addresses: list[dict[str, str]] | None = None
    daemon_endpoints: dict[str, Any] | None = None
    node_info: dict[str, str] | None = None


class Node(TopLevel):
    spec: NodeSpec | None = None
    status: NodeStatus | None = None


class ServicePort(K8sModel):
    name: str | None = None
    protocol: str | None = None
    port: int
    target_port: IntOrString | None = None
    node_port: int | None = None
    app_protocol: str | None = None


class ServiceSpec(K8sModel):
    type: str | None = None
    selector: dict[str, str] | None = None
    ports: list[ServicePort] | None = None
    cluster_ip: str | None = Field(default=None, alias="clusterIP")
    cluster_ips: list[str] | None = Field(default=None, alias="clusterIPs")
    external_name: str | None = None
    external_ips: list[str] | None = Field(default=None, alias="externalIPs")
    session_affinity: str | None = None
    external_traffic_policy: str | None = None
    internal_traffic_policy: str | None = None
    ip_families: list[str] | None = None
    ip_family_policy: str | None = None
    publish_not_ready_addresses: bool | None = None


class Service(TopLevel):
    spec: ServiceSpec | None = None
    status: dict[str, Any] | None = None


class Endpoints(TopLevel):
    subsets: list[dict[str, Any]] | None = None


# ---- discovery.k8s.io/v1 --------------------------------------------------------------

class EndpointConditions(K8sModel):
    ready: bool | None = None
    serving: bool | None = None
    terminating: bool | None = None


class Endpoint(K8sModel):
    addresses: list[str]
    conditions: EndpointConditions | None = None
    hostname: str | None = None
    target_ref: ObjectReference | None = None
    node_name: str | None = None
    zone: str | None = None
    hints: dict[str, Any] | None = None


class EndpointPort(K8sModel):
    name: str | None = None
    protocol: str | None = None
    port: int | None = None
    app_protocol: str | None = None


class EndpointSlice(TopLevel):
    address_type: str
    endpoints: list[Endpoint] | None = None
    ports: list[EndpointPort] | None = None


# ---- authorization.k8s.io/v1, authentication.k8s.io/v1: computed self-reviews ----------

class SelfSubjectAccessReview(TopLevel):
    spec: dict[str, Any] | None = None
    status: dict[str, Any] | None = None


class SelfSubjectRulesReview(TopLevel):
    spec: dict[str, Any] | None = None
    status: dict[str, Any] | None = None


class SelfSubjectReview(TopLevel):
    status: dict[str, Any] | None = None


class Event(TopLevel):
    involved_object: ObjectReference
    reason: str | None = None
    message: str | None = None
    source: dict[str, str] | None = None
    first_timestamp: Time | None = None
    last_timestamp: Time | None = None
    count: int | None = None
    type: str | None = None
    event_time: Time | None = None
    reporting_component: str | None = None
    reporting_instance: str | None = None


# ---- apps, batch, coordination, autoscaling -------------------------------------------

class RollingUpdateDeployment(K8sModel):
    max_surge: IntOrString | None = None
    max_unavailable: IntOrString | None = None


class DeploymentStrategy(K8sModel):
    type: str | None = None
    rolling_update: RollingUpdateDeployment | None = None


class DeploymentSpec(K8sModel):
    replicas: int | None = None
    selector: LabelSelector
    template: PodTemplateSpec
    strategy: DeploymentStrategy | None = None
    min_ready_seconds: int | None = None
    revision_history_limit: int | None = None
    paused: bool | None = None
    progress_deadline_seconds: int | None = None


class DeploymentStatus(K8sModel):
    observed_generation: int | None = None
    replicas: int | None = None
    updated_replicas: int | None = None
    ready_replicas: int | None = None
    available_replicas: int | None = None
    unavailable_replicas: int | None = None
    conditions: list[Condition] | None = None
    collision_count: int | None = None


class Deployment(TopLevel):
    spec: DeploymentSpec | None = None
    status: DeploymentStatus | None = None


class ReplicaSetSpec(K8sModel):
    replicas: int | None = None
    min_ready_seconds: int | None = None
    selector: LabelSelector
    template: PodTemplateSpec | None = None


class ReplicaSetStatus(K8sModel):
    replicas: int = 0
    fully_labeled_replicas: int | None = None
    ready_replicas: int | None = None
    available_replicas: int | None = None
    observed_generation: int | None = None
    conditions: list[Condition] | None = None


class ReplicaSet(TopLevel):
    spec: ReplicaSetSpec | None = None
    status: ReplicaSetStatus | None = None


class JobSpec(K8sModel):
    parallelism: int | None = None
    completions: int | None = None
    active_deadline_seconds: int | None = None
    backoff_limit: int | None = None
    selector: LabelSelector | None = None
    manual_selector: bool | None = None
    template: PodTemplateSpec
    ttl_seconds_after_finished: int | None = None
    completion_mode: str | None = None
    suspend: bool | None = None
    pod_replacement_policy: str | None = None


class JobStatus(K8sModel):
    conditions: list[Condition] | None = None
    start_time: Time | None = None
    completion_time: Time | None = None
    active: int | None = None
    succeeded: int | None = None
    failed: int | None = None
    ready: int | None = None
    terminating: int | None = None
    uncounted_terminated_pods: dict[str, list[str]] | None = None


class Job(TopLevel):
    spec: JobSpec | None = None
    status: JobStatus | None = None


class LeaseSpec(K8sModel):
    holder_identity: str | None = None
    lease_duration_seconds: int | None = None
    acquire_time: Time | None = None
    renew_time: Time | None = None
    lease_transitions: int | None = None


class Lease(TopLevel):
    spec: LeaseSpec | None = None


class ServiceReference(K8sModel):
    namespace: str | None = None
    name: str | None = None
    port: int | None = None


class APIServiceSpec(K8sModel):
    service: ServiceReference | None = None
    group: str | None = None
    version: str | None = None
    insecure_skip_tls_verify: bool | None = Field(default=None, alias="insecureSkipTLSVerify")
    ca_bundle: str | None = None
    group_priority_minimum: int | None = None
    version_priority: int | None = None


class APIServiceStatus(K8sModel):
    conditions: list[Condition] | None = None


class APIService(TopLevel):
    spec: APIServiceSpec | None = None
    status: APIServiceStatus | None = None


class ScaleSpec(K8sModel):
    replicas: int | None = None


class ScaleStatus(K8sModel):
    replicas: int
    selector: str | None = None


class Scale(TopLevel):
    spec: ScaleSpec | None = None
    status: ScaleStatus | None = None


MODELS: dict[tuple[str, str], type[TopLevel]] = {
    ("", "Pod"): Pod, ("", "Namespace"): Namespace, ("", "Node"): Node, ("", "Service"): Service,
    ("", "Endpoints"): Endpoints, ("", "Event"): Event, ("", "Binding"): Binding,
    ("apps", "Deployment"): Deployment, ("apps", "ReplicaSet"): ReplicaSet, ("batch", "Job"): Job,
    ("coordination.k8s.io", "Lease"): Lease, ("autoscaling", "Scale"): Scale,
    ("discovery.k8s.io", "EndpointSlice"): EndpointSlice,
    ("apiregistration.k8s.io", "APIService"): APIService,
    ("authorization.k8s.io", "SelfSubjectAccessReview"): SelfSubjectAccessReview,
    ("authorization.k8s.io", "SelfSubjectRulesReview"): SelfSubjectRulesReview,
    ("authentication.k8s.io", "SelfSubjectReview"): SelfSubjectReview,
}


def parse(kind_key: tuple[str, str], obj: dict[str, Any]) -> TopLevel:
    return MODELS[kind_key].model_validate(obj)


def to_dict(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(by_alias=True, exclude_none=True, exclude_unset=True)
