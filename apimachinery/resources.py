"""The resources kube-py serves, described once.

Discovery, OpenAPI, routing, storage keys, Table printing and the clients all read this table, so
adding a kind is one entry here plus its strategy and printer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]


@dataclass(frozen=True)
class Subresource:
    name: str  # "status", "scale", "binding", "log", "exec"
    kind: str
    group: str = ""  # response kind's group; "" = same as the resource
    version: str = ""
    verbs: tuple[str, ...] = ("get", "patch", "update")


@dataclass(frozen=True)
class ResourceInfo:
    group: str  # "" for core
    version: str
    kind: str
    plural: str
    singular: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    subresources: tuple[Subresource, ...] = ()
    storage_prefix: str = ""  # Kubernetes' etcd prefix when it differs from the plural
    verbs: tuple[str, ...] = tuple(VERBS)
    has_status: bool = field(default=False)
    stored: bool = True  # False: a create-only review answered by the server, never persisted
    returns_deleted_object: bool = False  # a DELETE answers with the object, not a Status (ReturnDeletedObject)

    @property
    def group_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def api_version(self) -> str:
        return self.group_version

    @property
    def list_kind(self) -> str:
        return f"{self.kind}List"

    def key_prefix(self, namespace: str = "") -> str:
        """`/registry/<prefix>/` or `/registry/<prefix>/<ns>/` (trailing slash: no prefix clashes)."""
        base = f"/registry/{self.storage_prefix or self.plural}/"
        return f"{base}{namespace}/" if (self.namespaced and namespace) else base

    def key(self, namespace: str, name: str) -> str:
        return f"{self.key_prefix(namespace)}{name}"

    def base_path(self) -> str:
        return f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"


def _status(kind: str) -> Subresource:
    return Subresource("status", kind)


SCALE = Subresource("scale", "Scale", group="autoscaling", version="v1")

RESOURCES: tuple[ResourceInfo, ...] = (
    ResourceInfo("", "v1", "Namespace", "namespaces", "namespace", False, ("ns",), (),
                 (_status("Namespace"), Subresource("finalize", "Namespace", verbs=("update",))), has_status=True,
                 returns_deleted_object=True,
                 verbs=("create", "delete", "get", "list", "patch", "update", "watch")),
    ResourceInfo("", "v1", "Node", "nodes", "node", False, ("no",), (), (_status("Node"),),
                 storage_prefix="minions", has_status=True),
    ResourceInfo("", "v1", "Pod", "pods", "pod", True, ("po",), ("all",),
                 (_status("Pod"),
                  Subresource("binding", "Binding", verbs=("create",)),
                  Subresource("log", "Pod", verbs=("get",)),
                  Subresource("exec", "PodExecOptions", verbs=("create", "get")),
                  Subresource("portforward", "PodPortForwardOptions", verbs=("create", "get"))), has_status=True,
                 returns_deleted_object=True),
    ResourceInfo("", "v1", "Service", "services", "service", True, ("svc",), ("all",), (_status("Service"),),
                 storage_prefix="services/specs", has_status=True, returns_deleted_object=True,
                 verbs=("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")),
    ResourceInfo("", "v1", "Endpoints", "endpoints", "endpoints", True, ("ep",), (),
                 storage_prefix="services/endpoints"),
    ResourceInfo("", "v1", "Event", "events", "event", True, ("ev",), ()),
    ResourceInfo("apps", "v1", "Deployment", "deployments", "deployment", True, ("deploy",), ("all",),
                 (SCALE, _status("Deployment")), has_status=True),
    ResourceInfo("apps", "v1", "ReplicaSet", "replicasets", "replicaset", True, ("rs",), ("all",),
                 (SCALE, _status("ReplicaSet")), has_status=True),
    ResourceInfo("batch", "v1", "Job", "jobs", "job", True, (), ("all",), (_status("Job"),), has_status=True),
    ResourceInfo("coordination.k8s.io", "v1", "Lease", "leases", "lease", True, (), ()),
    ResourceInfo("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", "endpointslice", True, (), ()),
    ResourceInfo("apiregistration.k8s.io", "v1", "APIService", "apiservices", "apiservice", False, (),
                 ("api-extensions",), (_status("APIService"),), storage_prefix="apiregistration.k8s.io/apiservices",
                 has_status=True),
    # kube-py authorizes every request (Kubernetes' AlwaysAllow): these reviews say so.
    ResourceInfo("authorization.k8s.io", "v1", "SelfSubjectAccessReview", "selfsubjectaccessreviews",
                 "selfsubjectaccessreview", False, verbs=("create",), stored=False),
    ResourceInfo("authorization.k8s.io", "v1", "SelfSubjectRulesReview", "selfsubjectrulesreviews",
                 "selfsubjectrulesreview", False, verbs=("create",), stored=False),
    ResourceInfo("authentication.k8s.io", "v1", "SelfSubjectReview", "selfsubjectreviews", "selfsubjectreview",
                 False, verbs=("create",), stored=False),
)

BY_GROUP_VERSION_PLURAL: dict[tuple[str, str, str], ResourceInfo] = {
    (r.group, r.version, r.plural): r for r in RESOURCES
}
BY_KIND: dict[tuple[str, str], ResourceInfo] = {(r.group, r.kind): r for r in RESOURCES}


def group_versions() -> list[tuple[str, str]]:
    """Distinct (group, version) pairs in declaration order."""
    seen: list[tuple[str, str]] = []
    for r in RESOURCES:
        if (r.group, r.version) not in seen:
            seen.append((r.group, r.version))
    return seen


def lookup(group: str, version: str, plural: str) -> ResourceInfo | None:
    return BY_GROUP_VERSION_PLURAL.get((group, version, plural))


def resolve(name: str) -> ResourceInfo:
    """A plural, singular, short name or Kind (case-insensitive; `deployments.apps` too) → resource."""
    wanted = name.lower()
    group = ""
    if "." in wanted:
        wanted, group = wanted.split(".", 1)
    for r in RESOURCES:
        if group and r.group != group:
            continue
        if wanted in (r.plural, r.singular, r.kind.lower(), *r.short_names):
            return r
    raise KeyError(f'the server doesn\'t have a resource type "{name}"')
