"""`describe TYPE [NAME…]`: fetch an object, its events and its relatives, then hand them to
the pure describers in kubectl_py/describers.py."""

from __future__ import annotations

import argparse
from typing import Any

from apimachinery.errors import StatusError
from apimachinery.resources import ResourceInfo
from kubectl_py import cli, describers
from kubectl_py.builder import call, list_namespace, parse_targets, path_for
from kubectl_py.deployutil import owned_replicasets, split_replicasets
from kubectl_py.describers import format_selector
from kubectl_py.errors import CliError
from kubectl_py.session import Session


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("describe", help="Show details of a specific resource or group of resources",
                       command="describe")
    p.add_argument("resources", nargs="*")
    cli.add_selector(p)
    cli.add_all_namespaces(p)
    cli.add_filename_flags(p)
    p.add_argument("--show-events", default="true", nargs="?", const="true", help="Show related events")
    p.set_defaults(handler=run_describe)


async def _events(session: Session, obj: dict[str, Any], kind: str, uid: str | None = None) -> list[dict[str, Any]]:
    meta = obj.get("metadata") or {}
    events_resource = await session.resolver.resolve("events")
    parts = [f"involvedObject.name={meta.get('name')}", f"involvedObject.namespace={meta.get('namespace', '')}"]
    if kind:
        parts.append(f"involvedObject.kind={kind}")
    parts.append(f"involvedObject.uid={uid if uid is not None else meta.get('uid', '')}")
    try:
        listing = await call(session, "GET", path_for(events_resource, meta.get("namespace", "")),
                             params={"fieldSelector": ",".join(parts), "limit": 500})
    except StatusError as exc:
        if exc.code in (400, 404):
            return []
        raise
    return listing.get("items") or []


async def _pods(session: Session, namespace: str, selector: str, field_selector: str = "") -> list[dict[str, Any]]:
    pods = await session.resolver.resolve("pods")
    listing = await call(session, "GET", path_for(pods, namespace),
                         params={"labelSelector": selector, "fieldSelector": field_selector})
    return listing.get("items") or []


def _selector_text(obj: dict[str, Any]) -> str:
    text = format_selector((obj.get("spec") or {}).get("selector"))
    return "" if text == "<none>" else text


async def describe_one(session: Session, resource: ResourceInfo, obj: dict[str, Any], show_events: bool) -> str:
    kind = resource.kind
    namespace = (obj.get("metadata") or {}).get("namespace", "")

    async def events_for(kind_name: str) -> list[dict[str, Any]] | None:
        return await _events(session, obj, kind_name) if show_events else None

    if kind == "Pod":
        return describers.pod(obj, await events_for(""))
    if kind == "Deployment":
        replicasets = await session.resolver.resolve("replicasets.apps")
        listing = await call(session, "GET", path_for(replicasets, namespace),
                             params={"labelSelector": _selector_text(obj), "limit": 500})
        new, old = split_replicasets(obj, owned_replicasets(obj, listing.get("items") or []))
        old_with_pods = [rs for rs in old if (rs.get("spec") or {}).get("replicas") or
                         (rs.get("status") or {}).get("replicas")]
        return describers.deployment(obj, old_with_pods or None, new, await events_for(kind))
    if kind == "ReplicaSet":
        uid = obj["metadata"].get("uid")
        pods = [p for p in await _pods(session, namespace, _selector_text(obj))
                if any(r.get("uid") == uid for r in p["metadata"].get("ownerReferences") or [])]
        return describers.replicaset(obj, pods, await events_for(kind))
    if kind == "Job":
        return describers.job(obj, await events_for(kind))
    if kind == "Service":
        # kubectl 1.32 reads the Service's EndpointSlices (not its Endpoints) for the Endpoints lines.
        slices = await call(session, "GET", path_for(await session.resolver.resolve("endpointslices.discovery.k8s.io"),
                                                     namespace),
                            params={"labelSelector": f"kubernetes.io/service-name={obj['metadata']['name']}"})
        return describers.service(obj, slices.get("items") or [], await events_for(kind))
    if kind == "Endpoints":
        return describers.endpoints(obj, await events_for(kind))
    if kind == "EndpointSlice":
        return describers.endpoint_slice(obj, await events_for(kind))
    if kind == "Node":
        name = obj["metadata"]["name"]
        pods = await _pods(session, "", "", f"spec.nodeName={name},status.phase!=Succeeded,status.phase!=Failed")
        event_list = None
        if show_events:
            event_list = await _events(session, obj, "Node") + await _events(session, obj, "Node", uid=name)
        lease = None
        try:
            leases = await session.resolver.resolve("leases")
            lease = await call(session, "GET", path_for(leases, "kube-node-lease", name))
        except (StatusError, CliError):
            lease = None
        return describers.node(obj, pods, event_list, lease)
    if kind == "Namespace":
        return describers.namespace(obj)
    return describers.generic(obj, await events_for(kind))


async def run_describe(session: Session, args: argparse.Namespace) -> int:
    if args.all_namespaces:
        session.all_namespaces = True
    show_events = str(args.show_events).lower() in ("true", "1", "t")
    objects: list[tuple[ResourceInfo, dict[str, Any]]] = []
    if args.filename:
        from kubectl_py.commands.get import _targets

        targets = await _targets(session, args)
    else:
        targets = await parse_targets(session, args.resources, "describe")
    for target in targets:
        resource = target.resource
        if target.names:
            for name in target.names:
                namespace = session.namespace if resource.namespaced else ""
                objects.append((resource, await call(session, "GET", path_for(resource, namespace, name))))
        else:
            listing = await call(session, "GET", path_for(resource, list_namespace(session, resource)),
                                 params={"labelSelector": args.selector})
            objects += [(resource, item) for item in listing.get("items") or []]
    if not objects:
        namespaced = not session.all_namespaces
        session.warn(f"No resources found in {session.namespace} namespace." if namespaced else "No resources found")
        return 0
    for i, (resource, obj) in enumerate(objects):
        text = await describe_one(session, resource, obj, show_events)
        session.out.write(text if i == 0 else "\n\n" + text)
    session.out.flush()
    return 0
