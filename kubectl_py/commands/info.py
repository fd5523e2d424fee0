"""Read-only views of the cluster itself: `version`, `api-resources`, `cluster-info`, `events`,
`explain`."""

from __future__ import annotations

import argparse
import os
from typing import Any

from apimachinery.errors import StatusError
from kubectl_py import cli
from kubectl_py.builder import call, path_for
from kubectl_py.errors import CliError
from kubectl_py.printers import new_table_writer, render_lines, to_json, to_yaml
from kubectl_py.session import Session
from kubectl_py.timeutil import age, parse_time

CLIENT_VERSION = "v0.1.0"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("version", help="Print the client and server version information", command="version")
    p.add_argument("--client", action="store_true", help="Client version only (no server required)")
    cli.add_output(p, "One of yaml|json")
    p.set_defaults(handler=run_version)

    p = sub.add_parser("api-resources", help="Print the supported API resources on the server",
                       command="api-resources")
    p.add_argument("--namespaced", default="", help="true: namespaced only, false: cluster-scoped only")
    p.add_argument("--api-group", default="", help="Limit to one API group")
    p.add_argument("--no-headers", action="store_true")
    cli.add_output(p, "wide|name")
    p.set_defaults(handler=run_api_resources)

    p = sub.add_parser("cluster-info", help="Display cluster information", command="cluster-info")
    p.set_defaults(handler=run_cluster_info)

    p = sub.add_parser("events", help="List events", command="events")
    cli.add_all_namespaces(p)
    p.add_argument("--for", dest="for_object", default="", help="Only events about this object (TYPE/NAME)")
    p.add_argument("--types", default="", help="Only these event types (Normal,Warning)")
    p.add_argument("--no-headers", action="store_true")
    cli.add_output(p, "json|yaml")
    p.set_defaults(handler=run_events)

    p = sub.add_parser("explain", help="Get documentation for a resource", command="explain")
    p.add_argument("path", metavar="TYPE[.FIELD…]")
    p.add_argument("--recursive", action="store_true")
    p.set_defaults(handler=run_explain)


async def run_version(session: Session, args: argparse.Namespace) -> int:
    client = {"gitVersion": CLIENT_VERSION, "platform": "kubectl-py"}
    server: dict[str, Any] | None = None
    if not args.client:
        server = await call(session, "GET", "/version")
    if args.output in ("json", "yaml"):
        data: dict[str, Any] = {"clientVersion": client}
        if server is not None:
            data["serverVersion"] = server
        session.out.write(to_json(data) if args.output == "json" else to_yaml(data))
        return 0
    session.print(f"Client Version: kubectl-py {CLIENT_VERSION}")
    if server is not None:
        session.print(f"Server Version: {server.get('gitVersion', '')}")
    return 0


async def run_api_resources(session: Session, args: argparse.Namespace) -> int:
    resources = await session.resolver.resources()
    rows = []
    for r in sorted(resources, key=lambda r: (r.group, r.plural)):
        if args.api_group and r.group != args.api_group:
            continue
        if args.namespaced and str(r.namespaced).lower() != args.namespaced.lower():
            continue
        rows.append(r)
    if args.output == "name":
        for r in rows:
            session.print(f"{r.plural}.{r.group}" if r.group else r.plural)
        return 0
    header = ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"]
    if args.output == "wide":
        header += ["VERBS", "CATEGORIES"]
    lines = [] if args.no_headers else [header]
    for r in rows:
        line = [r.plural, ",".join(r.short_names), r.group_version, str(r.namespaced).lower(), r.kind]
        if args.output == "wide":
            line += ["[" + " ".join(sorted(r.verbs)) + "]", ",".join(r.categories)]
        lines.append(line)
    session.out.write(render_lines(new_table_writer(), lines))
    return 0


def _coloured(text: str, code: str, stream: Any) -> str:
    if os.environ.get("NO_COLOR") or not getattr(stream, "isatty", lambda: False)():
        return text
    return f"\033[{code}m{text}\033[0m"


async def run_cluster_info(session: Session, args: argparse.Namespace) -> int:
    await call(session, "GET", "/version")
    title = _coloured("Kubernetes control plane", "0;32", session.out)
    url = _coloured(session.config.server, "0;33", session.out)
    session.print(f"{title} is running at {url}")
    session.print("")
    session.print("To further debug and diagnose cluster problems, use 'kubectl-py get events -A' and "
                  "'kubectl-py describe node'.")
    return 0


def event_interval(event: dict[str, Any]) -> str:
    last = event.get("lastTimestamp") or event.get("eventTime") or (event.get("metadata") or {}).get(
        "creationTimestamp")
    first = event.get("firstTimestamp") or event.get("eventTime") or last
    count = event.get("count") or 1
    if count > 1:
        return f"{age(last)} (x{count} over {age(first)})"
    return age(last)


def _event_time(event: dict[str, Any]) -> str:
    return event.get("lastTimestamp") or event.get("eventTime") or (event.get("metadata") or {}).get(
        "creationTimestamp") or ""


async def run_events(session: Session, args: argparse.Namespace) -> int:
    if args.all_namespaces:
        session.all_namespaces = True
    resource = await session.resolver.resolve("events")
    params: dict[str, Any] = {}
    if args.for_object:
        kind, _, name = args.for_object.partition("/")
        target = await session.resolver.resolve(kind)
        params["fieldSelector"] = f"involvedObject.kind={target.kind},involvedObject.name={name}"
    namespace = "" if session.all_namespaces else session.namespace
    listing = await call(session, "GET", path_for(resource, namespace), params=params)
    items = listing.get("items") or []
    if args.types:
        wanted = {t.strip().lower() for t in args.types.split(",")}
        items = [e for e in items if str(e.get("type", "")).lower() in wanted]
    items.sort(key=lambda e: parse_time(_event_time(e)) or parse_time("1970-01-01T00:00:00Z"))  # type: ignore[arg-type,return-value]
    if args.output in ("json", "yaml"):
        data = {"apiVersion": "v1", "items": items, "kind": "List", "metadata": {"resourceVersion": ""}}
        session.out.write(to_json(data) if args.output == "json" else to_yaml(data))
        return 0
    if not items:
        session.warn(f"No events found in {session.namespace} namespace." if not session.all_namespaces
                     else "No events found.")
        return 0
    header = (["NAMESPACE"] if session.all_namespaces else []) + ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    lines = [] if args.no_headers else [header]
    for e in items:
        obj = e.get("involvedObject") or {}
        line = [event_interval(e), e.get("type", ""), e.get("reason", ""),
                f"{str(obj.get('kind', '')).lower()}/{obj.get('name', '')}", str(e.get("message", "")).strip()]
        if session.all_namespaces:
            line.insert(0, (e.get("metadata") or {}).get("namespace", ""))
        lines.append(line)
    session.out.write(render_lines(new_table_writer(), lines))
    return 0


def _schema_for(doc: dict[str, Any], group: str, version: str, kind: str) -> tuple[dict[str, Any] | None,
                                                                                  dict[str, Any]]:
    schemas = (doc.get("components") or {}).get("schemas") or {}
    for schema in schemas.values():
        for gvk in schema.get("x-kubernetes-group-version-kind") or []:
            if gvk.get("group", "") == group and gvk.get("version") == version and gvk.get("kind") == kind:
                return schema, schemas
    return None, schemas


def _strip_optional(node: Any) -> Any:
    """pydantic's `X | None` is anyOf [X, null]; explain wants X."""
    if isinstance(node, list):
        return [_strip_optional(n) for n in node]
    if not isinstance(node, dict):
        return node
    options = node.get("anyOf")
    if isinstance(options, list):
        kept = [o for o in options if o != {"type": "null"}]
        if len(kept) == 1:
            rest = {k: v for k, v in node.items() if k != "anyOf"}
            return _strip_optional({**kept[0], **rest})
    return {k: _strip_optional(v) for k, v in node.items()}


def _schema_from_models(group: str, kind: str) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """The typed models in apimachinery, when the server publishes no schemas (it doesn't, on purpose)."""
    from apimachinery.models import MODELS

    model = MODELS.get((group, kind))
    if model is None:
        return None, {}
    raw = _strip_optional(model.model_json_schema(by_alias=True))
    return raw, raw.pop("$defs", {})


def _deref(schema: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref") or next((s.get("$ref") for s in schema.get("allOf") or [] if "$ref" in s), None)
    if ref:
        target = schemas.get(ref.rsplit("/", 1)[-1]) or {}
        return {**target, "description": schema.get("description") or target.get("description", "")}
    return schema


def _type_name(schema: dict[str, Any], schemas: dict[str, Any]) -> str:
    schema = _deref(schema, schemas)
    kind = schema.get("type", "Object" if schema.get("properties") else "")
    if kind == "array":
        return f"[]{_type_name(schema.get('items') or {}, schemas)}"
    if kind == "object" and "additionalProperties" in schema:
        return f"map[string]{_type_name(schema['additionalProperties'] or {}, schemas)}"
    return {"object": "Object", "": "Object"}.get(kind, kind)


async def run_explain(session: Session, args: argparse.Namespace) -> int:
    kind_name, *fields = args.path.split(".")
    resource = await session.resolver.resolve(kind_name)
    root = await call(session, "GET", "/openapi/v3")
    key = f"apis/{resource.group}/{resource.version}" if resource.group else f"api/{resource.version}"
    entry = (root.get("paths") or {}).get(key)
    if not entry:
        raise CliError(f'couldn\'t find resource for "{resource.group_version}, Kind={resource.kind}"')
    try:
        doc = await call(session, "GET", entry.get("serverRelativeURL") or f"/openapi/v3/{key}")
    except StatusError as exc:
        raise CliError(f"unable to read the OpenAPI document: {exc.message}") from None
    schema, schemas = _schema_for(doc, resource.group, resource.version, resource.kind)
    if schema is None:
        schema, schemas = _schema_from_models(resource.group, resource.kind)
    if schema is None:
        raise CliError(f'the server publishes no schema for "{resource.group_version}, Kind={resource.kind}"')
    path = []
    for field in fields:
        schema = _deref(schema, schemas)
        if schema.get("type") == "array":
            schema = _deref(schema.get("items") or {}, schemas)
        props = schema.get("properties") or {}
        if field not in props:
            raise CliError(f'field "{field}" does not exist')
        path.append(field)
        schema = props[field]
    lines = [f"GROUP:      {resource.group}" if resource.group else "", f"KIND:       {resource.kind}",
             f"VERSION:    {resource.version}", ""]
    lines = [line for i, line in enumerate(lines) if line or i == 3]
    if path:
        lines += [f"FIELD: {path[-1]} <{_type_name(schema, schemas)}>", ""]
    resolved = _deref(schema, schemas)
    lines += ["DESCRIPTION:"]
    lines += [f"    {line}" for line in (resolved.get("description") or "<empty>").splitlines()]
    props = resolved.get("properties") or ((_deref(resolved.get("items") or {}, schemas)).get("properties")
                                           if resolved.get("type") == "array" else {}) or {}
    if props:
        lines += ["", "FIELDS:"]
        required = set(resolved.get("required") or [])
        for name in sorted(props):
            suffix = " -required-" if name in required else ""
            lines.append(f"  {name}\t<{_type_name(props[name], schemas)}>{suffix}")
            description = (_deref(props[name], schemas).get("description") or "").splitlines()
            lines += [f"    {line}" for line in description[:3]]
            lines.append("")
    session.out.write("\n".join(lines).rstrip("\n") + "\n")
    return 0
