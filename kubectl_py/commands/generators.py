"""Objects built from flags: `create namespace|deployment`, `run` (a bare pod), `expose`.

Unlike the stock kubectl 1.32, which POSTs these as protobuf, kubectl-py sends JSON, so they
work against kube-py's API server. `--dry-run=client -o yaml` prints the object instead, a
convenient way to start a manifest.
"""

from __future__ import annotations

import argparse
import json
import re
from typing import Any

from apimachinery.resources import ResourceInfo
from kubectl_py import cli
from kubectl_py.builder import call, path_for
from kubectl_py.discovery import display_kind
from kubectl_py.errors import CliError, UsageError
from kubectl_py.printers import parse_output, print_objects
from kubectl_py.session import Session


def register_create(create: argparse.ArgumentParser) -> None:
    kinds = create.add_subparsers(dest="create_kind", metavar="KIND", parser_class=cli.Parser, required=False)
    ns = kinds.add_parser("namespace", aliases=["ns"], help="Create a namespace", command="create namespace")
    cli.add_global_flags(ns, suppress=True)
    ns.add_argument("name")
    cli.add_dry_run(ns)
    cli.add_output(ns)
    ns.set_defaults(handler=run_create_namespace)

    dep = kinds.add_parser("deployment", aliases=["deploy"], help="Create a deployment",
                           command="create deployment")
    cli.add_global_flags(dep, suppress=True)
    dep.add_argument("name")
    dep.add_argument("--image", action="append", default=[], required=True, help="Image(s) to run")
    dep.add_argument("-r", "--replicas", type=int, default=1)
    dep.add_argument("--port", type=int, default=-1, help="The containerPort to expose")
    cli.add_dry_run(dep)
    cli.add_output(dep)
    dep.set_defaults(handler=run_create_deployment)


def register(sub: argparse._SubParsersAction) -> None:
    run = sub.add_parser("run", help="Run a particular image in a pod", command="run")
    run.add_argument("name")
    run.add_argument("--image", required=True)
    run.add_argument("--port", type=int, default=-1)
    run.add_argument("-l", "--labels", default="", help="Comma-separated labels (default run=NAME)")
    run.add_argument("--env", action="append", default=[], help="Environment variables (KEY=VALUE)")
    run.add_argument("--restart", default="Always", choices=["Always", "OnFailure", "Never"])
    run.add_argument("--command", dest="use_command", action="store_true",
                     help="Use the words after -- as the command, not args")
    run.add_argument("--image-pull-policy", default="")
    cli.add_dry_run(run)
    cli.add_output(run)
    run.set_defaults(handler=run_run)

    expose = sub.add_parser("expose", help="Expose a deployment, pod or replica set as a Service",
                            command="expose")
    expose.add_argument("resources", nargs="+")
    expose.add_argument("--port", default="", help="The port the service serves on")
    expose.add_argument("--target-port", default="", help="The container port to send traffic to")
    expose.add_argument("--name", default="", help="The service name (default: the resource's)")
    expose.add_argument("--type", default="", help="ClusterIP, NodePort, LoadBalancer")
    expose.add_argument("--protocol", default="", help="TCP, UDP or SCTP (default: the exposed port's, else TCP)")
    expose.add_argument("--selector", default="", help="Label selector for the service")
    expose.add_argument("-l", "--labels", default="", help="Labels for the service (default: the resource's)")
    expose.add_argument("--cluster-ip", default="", help="ClusterIP to request, or 'None' for a headless service")
    expose.add_argument("--session-affinity", default="", choices=["", "None", "ClientIP"])
    expose.add_argument("--external-ip", default="", help="An external IP to accept traffic on")
    cli.add_dry_run(expose)
    cli.add_output(expose)
    expose.set_defaults(handler=run_expose)


async def _emit(session: Session, args: argparse.Namespace, resource: ResourceInfo, obj: dict[str, Any],
                verb: str, manager: str) -> int:
    dry_run = cli.dry_run_mode(args)
    namespace = session.namespace if resource.namespaced else ""
    if dry_run == "client":
        result = client_side_object(obj, namespace if session.explicit_namespace else "")
    if resource.namespaced:
        obj["metadata"].setdefault("namespace", namespace)
    if dry_run != "client":
        result = await call(session, "POST", path_for(resource, namespace),
                            params={"fieldManager": manager, "dryRun": "All" if dry_run == "server" else None},
                            body=obj)
    fmt = parse_output(args.output)
    kind = display_kind(resource)
    if fmt.kind and fmt.kind != "name":
        session.out.write(print_objects(fmt, [result], True, kind_of=lambda _o: kind))
    elif fmt.kind == "name":
        session.print(f"{kind}/{result['metadata']['name']}")
    else:
        session.print(f"{kind}/{result['metadata']['name']} {verb}{cli.dry_run_suffix(dry_run)}")
    return 0


def client_side_object(obj: dict[str, Any], namespace: str) -> dict[str, Any]:
    """What kubectl prints for `--dry-run=client`: the Go struct as built, so empty
    creationTimestamps show as null and the namespace only appears when -n was given."""
    out = json.loads(json.dumps(obj))  # not deepcopy: shared dicts would print as YAML anchors
    if namespace:
        out["metadata"]["namespace"] = namespace
    out["metadata"].setdefault("creationTimestamp", None)
    template = (out.get("spec") or {}).get("template")
    if isinstance(template, dict):
        template.setdefault("metadata", {}).setdefault("creationTimestamp", None)
    return out


def container_name(image: str) -> str:
    """kubectl's parseImageName: last path element, without tag or digest."""
    base = image.split("@", 1)[0].rsplit("/", 1)[-1]
    return base.split(":", 1)[0]


async def run_create_namespace(session: Session, args: argparse.Namespace) -> int:
    obj = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": args.name}, "spec": {}, "status": {}}
    return await _emit(session, args, await session.resolver.resolve("namespaces"), obj, "created", "kubectl-create")


async def run_create_deployment(session: Session, args: argparse.Namespace) -> int:
    labels = {"app": args.name}
    names = [container_name(image) for image in args.image]
    if len(set(names)) != len(names):
        names = [f"{n}-{i}" for i, n in enumerate(names)] if len(args.image) > 1 else names
    containers: list[dict[str, Any]] = [{"image": image, "name": name, "resources": {}}
                                        for image, name in zip(args.image, names, strict=True)]
    if args.port >= 0:
        containers[0]["ports"] = [{"containerPort": args.port}]
    if args.after_dashes:
        containers[0]["command"] = list(args.after_dashes)
    obj = {"apiVersion": "apps/v1", "kind": "Deployment",
           "metadata": {"labels": labels, "name": args.name},
           "spec": {"replicas": args.replicas, "selector": {"matchLabels": labels}, "strategy": {},
                    "template": {"metadata": {"labels": labels}, "spec": {"containers": containers}}},
           "status": {}}
    return await _emit(session, args, await session.resolver.resolve("deployments.apps"), obj, "created",
                       "kubectl-create")


def _labels(text: str, default: dict[str, str]) -> dict[str, str]:
    if not text:
        return default
    out = {}
    for part in text.split(","):
        if "=" not in part:
            raise CliError(f"invalid label spec: {part}")
        key, value = part.split("=", 1)
        out[key] = value
    return out


async def run_run(session: Session, args: argparse.Namespace) -> int:
    if not re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", args.name):
        raise CliError(f"invalid pod name {args.name!r}: must be a DNS-1123 label")
    container: dict[str, Any] = {"image": args.image, "name": args.name, "resources": {}}
    if args.port >= 0:
        container["ports"] = [{"containerPort": args.port}]
    if args.env:
        container["env"] = [{"name": e.split("=", 1)[0], "value": e.split("=", 1)[1] if "=" in e else ""}
                            for e in args.env]
    if args.after_dashes:
        container["command" if args.use_command else "args"] = list(args.after_dashes)
    elif args.use_command:
        raise UsageError("--command requires a command after --", "run")
    if args.image_pull_policy:
        container["imagePullPolicy"] = args.image_pull_policy
    obj = {"apiVersion": "v1", "kind": "Pod",
           "metadata": {"labels": _labels(args.labels, {"run": args.name}), "name": args.name},
           "spec": {"containers": [container], "dnsPolicy": "ClusterFirst", "restartPolicy": args.restart},
           "status": {}}
    return await _emit(session, args, await session.resolver.resolve("pods"), obj, "created", "kubectl-run")


def _introspect_selector(kind: str, source: dict[str, Any]) -> dict[str, str]:
    """kubectl's MapBasedSelectorForObject, with its error messages."""
    spec = source.get("spec") or {}
    problem = ""
    if kind == "Pod":
        selector = (source.get("metadata") or {}).get("labels") or {}
        problem = "" if selector else "the pod has no labels and cannot be exposed"
    elif kind in ("Service", "ReplicationController"):
        selector = spec.get("selector") or {}
        problem = "" if selector else f"the {kind.lower()} has no pod selector set"
    else:
        sel = spec.get("selector") or {}
        if sel.get("matchExpressions"):
            problem = f"couldn't convert expressions - \"{sel['matchExpressions']}\" to map-based selector format"
        selector = sel.get("matchLabels") or {}
    if problem:
        raise CliError(f"couldn't retrieve selectors via --selector flag or introspection: {problem}")
    return selector


def _exposed_ports(kind: str, spec: dict[str, Any]) -> list[tuple[int, str]]:
    """kubectl's PortsForObject + ProtocolsForObject: (port, protocol) of the exposed object."""
    if kind == "Service":
        return [(int(p["port"]), p.get("protocol", "TCP")) for p in spec.get("ports") or [] if p.get("port")]
    pod_spec = ((spec.get("template") or {}).get("spec") or {}) if kind != "Pod" else spec
    return [(int(p["containerPort"]), p.get("protocol", "TCP"))
            for c in pod_spec.get("containers") or [] for p in c.get("ports") or [] if p.get("containerPort")]


def _port_value(text: str) -> int | str:
    return int(text) if text.isdigit() else text


async def run_expose(session: Session, args: argparse.Namespace) -> int:
    from kubectl_py.builder import parse_targets

    targets = await parse_targets(session, args.resources, "expose")
    if len(targets) != 1 or len(targets[0].names) != 1:
        raise UsageError("expose takes exactly one resource, e.g. deployment/web", "expose")
    resource, name = targets[0].resource, targets[0].names[0]
    source = await call(session, "GET", path_for(resource, session.namespace, name))
    spec = source.get("spec") or {}
    selector = _labels(args.selector, {}) if args.selector else _introspect_selector(resource.kind, source)
    headless = args.cluster_ip == "None"
    exposed = _exposed_ports(resource.kind, spec)
    numbers = [args.port] if args.port else [str(number) for number, _ in exposed]
    if not numbers and not headless:
        raise CliError("couldn't find port via --port flag or introspection")
    protocols = dict(exposed)
    ports: list[dict[str, Any]] = []
    for index, number in enumerate(numbers):
        if not number.isdigit():
            raise CliError(f'strconv.Atoi: parsing "{number}": invalid syntax')
        port: dict[str, Any] = {"port": int(number),
                                "protocol": args.protocol or protocols.get(int(number), "TCP"),
                                "targetPort": _port_value(args.target_port or number)}
        if len(numbers) > 1:
            port["name"] = f"port-{index + 1}"
        ports.append(port)
    labels = _labels(args.labels, {}) if args.labels else (source.get("metadata") or {}).get("labels") or {}
    service_spec: dict[str, Any] = {"ports": ports, "selector": selector} if ports else {"selector": selector}
    if args.type:
        service_spec["type"] = args.type
    if args.cluster_ip:
        service_spec["clusterIP"] = args.cluster_ip
    if args.session_affinity:
        service_spec["sessionAffinity"] = args.session_affinity
    if args.external_ip:
        service_spec["externalIPs"] = [args.external_ip]
    service: dict[str, Any] = {"apiVersion": "v1", "kind": "Service",
                               "metadata": {"name": args.name or name, "labels": labels},
                               "spec": service_spec, "status": {"loadBalancer": {}}}
    return await _emit(session, args, await session.resolver.resolve("services"), service, "exposed",
                       "kubectl-expose")
