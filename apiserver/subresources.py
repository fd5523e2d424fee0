"""Subresources that are not plain views of the object: scale, binding, finalize, log, exec.

Each rewrites a small request into an update of the parent object (or, for log and exec,
a hop to the kubelet that runs the pod), with the parent's resourceVersion as the
subresource's and the parent's conflict rules.
"""

from __future__ import annotations

import copy
from typing import Any

from aiohttp import web

from apimachinery import errors
from apimachinery.errors import StatusCause
from apimachinery.labels import SelectorError, selector_from_label_selector
from apiserver.bodies import metadata_of, read_object
from apiserver.handlers import (
    ResourceHandler,
    Target,
    apply_patch_body,
    check_fields,
    is_dry_run,
    json_response,
    read_body,
)
from apiserver.registry import now_rfc3339


def scale_of(obj: dict[str, Any]) -> dict[str, Any]:
    meta = obj["metadata"]
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    try:
        selector = str(selector_from_label_selector(spec.get("selector")))
    except SelectorError:
        selector = ""
    scale_meta = {k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp") if k in meta}
    return {"kind": "Scale", "apiVersion": "autoscaling/v1", "metadata": scale_meta,
            "spec": {"replicas": spec.get("replicas", 0)},
            "status": {"replicas": status.get("replicas", 0), "selector": selector}}


async def scale(handler: ResourceHandler, request: web.Request, target: Target) -> web.Response:
    registry = handler.registry
    if request.method == "GET":
        return json_response(scale_of(await registry.get(target.namespace, target.name)))
    if request.method not in ("PUT", "PATCH"):
        raise errors.method_not_allowed(request.method, f"{handler.resource.plural}/scale")
    body = await read_body(request)
    if body is None:
        raise errors.bad_request("the body of the request was empty")
    content_type = request.headers.get("Content-Type", "application/json").split(";")[0].strip()
    if not isinstance(body, dict) and content_type != "application/json-patch+json":
        raise errors.bad_request("the body of the request was in an unknown format")
    pinned = request.method == "PUT" and bool(metadata_of(body).get("resourceVersion"))

    def mutate(current: dict[str, Any]) -> dict[str, Any]:
        old_scale = scale_of(current)
        if request.method == "PATCH":
            # Scale is flat: strategic merge and JSON merge agree on it.
            kind = "application/merge-patch+json" if content_type != "application/json-patch+json" else content_type
            new_scale = apply_patch_body(kind, old_scale, body, ("autoscaling", "Scale"))
        else:
            new_scale = body
        new_rv = metadata_of(new_scale).get("resourceVersion")
        if new_rv and new_rv != current["metadata"]["resourceVersion"]:
            raise errors.conflict(handler.resource.plural, target.name, handler.resource.group)
        replicas = (new_scale.get("spec") or {}).get("replicas", 0)
        if not isinstance(replicas, int) or replicas < 0:
            raise errors.invalid("Scale", target.name, [StatusCause(
                "FieldValueInvalid", f"Invalid value: {replicas}: must be greater than or equal to 0",
                "spec.replicas")], "autoscaling")
        updated = copy.deepcopy(current)
        updated["spec"]["replicas"] = replicas
        return registry.apply_update(updated, current)

    result = await registry.guaranteed_update(target.namespace, target.name, mutate, dry_run=is_dry_run(request),
                                              allow_retry=not pinned)
    return json_response(scale_of(result.obj))


async def binding(handler: ResourceHandler, request: web.Request, target: Target) -> web.Response:
    if request.method != "POST":
        raise errors.method_not_allowed(request.method, "pods/binding")
    body = await read_object(request) or {}
    target_ref = body.get("target") or {}
    node = target_ref.get("name") if isinstance(target_ref, dict) else None
    if node is not None and not isinstance(node, str):
        raise errors.bad_request("json: cannot unmarshal into Go struct field Binding.target.name of type string")
    if not node:
        raise errors.invalid("Binding", target.name, [StatusCause("FieldValueRequired", "Required value",
                                                                   "target.name")])
    registry = handler.registry

    def mutate(pod: dict[str, Any]) -> dict[str, Any]:
        if pod["metadata"].get("deletionTimestamp"):
            raise errors.conflict("pods/binding", target.name, detail=f"pod {target.name} is being deleted, "
                                  "cannot be assigned to a host")
        bound = pod.get("spec", {}).get("nodeName")
        if bound:
            raise errors.conflict("pods/binding", target.name,
                                  detail=f'pod {target.name} is already assigned to node "{bound}"')
        pod["spec"]["nodeName"] = node
        conditions = [c for c in (pod.setdefault("status", {}).get("conditions") or [])
                      if c.get("type") != "PodScheduled"]
        conditions.append({"type": "PodScheduled", "status": "True", "lastProbeTime": None,
                           "lastTransitionTime": now_rfc3339()})
        pod["status"]["conditions"] = conditions
        return pod

    await registry.guaranteed_update(target.namespace, target.name, mutate, dry_run=is_dry_run(request))
    return json_response({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201},
                         status=201)


async def finalize(handler: ResourceHandler, request: web.Request, target: Target) -> web.Response:
    """PUT namespaces/<name>/finalize: only spec.finalizers change; an emptied, terminating
    namespace without metadata finalizers is removed."""
    if request.method != "PUT":
        raise errors.method_not_allowed(request.method, "namespaces/finalize")
    body = await read_object(request) or {}
    check_fields(request, ("", "Namespace"), body)  # a 400 for a spec or finalizers of the wrong type
    finalizers = list((body.get("spec") or {}).get("finalizers") or [])
    registry = handler.registry

    def mutate(ns: dict[str, Any]) -> dict[str, Any]:
        ns.setdefault("spec", {})["finalizers"] = finalizers
        if not finalizers:
            ns["spec"].pop("finalizers")
        return ns

    # The registry's delete-during-update removes a terminating namespace whose last
    # finalizer this clears, in the same compare-and-swap as the write.
    result = await registry.guaranteed_update(target.namespace or "", target.name, mutate,
                                              dry_run=is_dry_run(request))
    return json_response(result.obj)


async def pod_proxy(handler: ResourceHandler, request: web.Request, target: Target,
                    nodes: ResourceHandler) -> web.StreamResponse:
    """pods/log, pods/exec and pods/portforward go to the kubelet on the pod's node."""
    from apiserver import proxy

    pod = await handler.registry.get(target.namespace, target.name)
    node_name = (pod.get("spec") or {}).get("nodeName")
    if not node_name:
        raise errors.bad_request(f"pod {target.name} does not have a host assigned")
    cached = nodes.registry.cache.get(nodes.resource.key("", node_name))
    base = proxy.kubelet_url(cached.obj if cached else None, node_name)
    if target.subresource == "log":
        return await proxy.logs(request, pod, base)
    if target.subresource == "portforward":
        return await proxy.port_forward(request, pod, base)
    return await proxy.exec_(request, pod, base)
