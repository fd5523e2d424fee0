"""From command-line words to API targets: kubectl's resource builder, small.

`get deploy,rs web`, `get deploy/web pod/x`, `get all -l app=web` and the `-n`/`-A` scoping all
end up as `Target`s (a REST mapping, a namespace and zero or more names). Requests go through
`call`, which prints the server's `Warning:` headers on stderr the way kubectl does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from apimachinery.resources import ResourceInfo
from kubeclient.rest import object_path
from kubectl_py.errors import CliError, UsageError
from kubectl_py.session import Session


@dataclass
class Target:
    resource: ResourceInfo
    names: list[str] = field(default_factory=list)


async def call(session: Session, method: str, path: str, *, params: dict[str, Any] | None = None,
               body: Any = None, content_type: str = "application/json", accept: str = "") -> Any:
    headers = {"Accept": accept} if accept else None
    resp = await session.api.request(method, path, params=params, body=body, content_type=content_type,
                                     headers=headers)
    for warning in resp.warnings:
        session.warn(f"Warning: {warning}")
    return resp.json() if resp.body and "json" in resp.headers.get("Content-Type", "application/json") else \
        resp.body.decode(errors="replace")


def namespace_for(session: Session, resource: ResourceInfo, obj_namespace: str = "") -> str:
    """The namespace a request is scoped to ("" for cluster-scoped kinds and for -A lists)."""
    if not resource.namespaced:
        return ""
    return obj_namespace or session.namespace


def list_namespace(session: Session, resource: ResourceInfo) -> str:
    if not resource.namespaced or session.all_namespaces:
        return ""
    return session.namespace


def path_for(resource: ResourceInfo, namespace: str = "", name: str = "", subresource: str = "") -> str:
    return object_path(resource, namespace, name, subresource)


async def parse_targets(session: Session, words: list[str], verb: str = "get") -> list[Target]:
    """`TYPE[,TYPE…] [NAME…]` or `TYPE/NAME…` (kubectl's ResourceTypeOrNameArgs)."""
    if not words:
        raise UsageError(f'you must specify the type of resource to {verb}. Use "kubectl-py api-resources" for a '
                         "complete list of supported resources.", verb)
    if any("/" in w for w in words):
        if not all("/" in w for w in words):
            raise CliError("there is no need to specify a resource type as a separate argument when passing "
                           "arguments in resource/name form (e.g. 'kubectl-py get resource/<resource_name>' "
                           "instead of 'kubectl-py get resource resource/<resource_name>'")
        targets: list[Target] = []
        for word in words:
            kind, name = word.split("/", 1)
            if not name:
                raise CliError("arguments in resource/name form must have a single resource and name")
            resource = await session.resolver.resolve(kind)
            if targets and targets[-1].resource == resource:
                targets[-1].names.append(name)
            else:
                targets.append(Target(resource, [name]))
        return targets
    kinds, names = words[0], words[1:]
    resources: list[ResourceInfo] = []
    for kind in kinds.split(","):
        if not kind:
            continue
        for resource in await session.resolver.expand(kind):
            if resource not in resources:
                resources.append(resource)
    if names and len(resources) > 1 and "," not in kinds:
        raise CliError(f"you may only specify a single resource type with names; {kinds} expands to several")
    return [Target(r, list(names)) for r in resources]


def check_manifest_namespace(session: Session, obj: dict[str, Any], resource: ResourceInfo) -> str:
    """The namespace of a manifest object, refusing a clash with an explicit `-n` as kubectl does."""
    if not resource.namespaced:
        return ""
    declared = (obj.get("metadata") or {}).get("namespace", "")
    if declared and session.explicit_namespace and declared != session.namespace:
        raise CliError(f'the namespace from the provided object "{declared}" does not match the namespace '
                       f'"{session.namespace}". You must pass \'--namespace={declared}\' to perform this operation.')
    return declared or session.namespace
