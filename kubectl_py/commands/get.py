"""`get`: server-side Tables printed as kubectl prints them, or objects as json/yaml/name/jsonpath.

The server does the per-kind columns (apiserver/printers.py); this module only decorates and
aligns them, exactly as kubectl's table printer does, so one printer serves every kind.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any

from apimachinery.errors import StatusError
from apimachinery.resources import ResourceInfo
from kubectl_py import cli, jsonpath
from kubectl_py.builder import Target, call, list_namespace, parse_targets, path_for
from kubectl_py.discovery import display_kind
from kubectl_py.errors import CliError, is_unreachable, render
from kubectl_py.manifests import load_manifests
from kubectl_py.printers import (
    TABLE_ACCEPT,
    OutputFormat,
    TableOptions,
    fallback_table,
    new_table_writer,
    parse_output,
    print_objects,
    render_lines,
    table_lines,
)
from kubectl_py.session import Session
from kubectl_py.tabwriter import TabWriter


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("get", help="Display one or many resources", command="get")
    p.add_argument("resources", nargs="*", metavar="TYPE[.VERSION][.GROUP] [NAME…]")
    cli.add_all_namespaces(p)
    cli.add_output(p, "Output format: json|yaml|name|wide|jsonpath=…|custom-columns=…")
    cli.add_selector(p)
    cli.add_filename_flags(p, what="identifying the resource to get ")
    p.add_argument("--field-selector", default="", help="Selector on supported fields (e.g. status.phase=Running)")
    p.add_argument("--show-labels", action="store_true", help="Show all labels as the last column")
    p.add_argument("-L", "--label-columns", action="append", default=[], help="Labels to show as columns")
    p.add_argument("--sort-by", default="", help="Sort by a JSONPath expression (e.g. .metadata.name)")
    p.add_argument("--no-headers", action="store_true", help="Don't print headers")
    p.add_argument("--ignore-not-found", action="store_true", help="Treat a missing object as success")
    p.add_argument("-w", "--watch", action="store_true", help="After listing, watch for changes")
    p.add_argument("--watch-only", action="store_true", help="Watch for changes without listing first")
    p.add_argument("--chunk-size", type=int, default=500, help="Return large lists in chunks of this size")
    p.set_defaults(handler=run_get)


@dataclass
class Fetched:
    """One kubectl `Info`: a Table (or object) for one resource type or one named object."""

    resource: ResourceInfo
    data: dict[str, Any]
    named: bool


def _label_columns(args: argparse.Namespace) -> list[str]:
    return [key for value in args.label_columns for key in value.split(",") if key]


async def _targets(session: Session, args: argparse.Namespace) -> list[Target]:
    if args.filename:
        targets: list[Target] = []
        for manifest in load_manifests(args.filename, args.recursive, session.streams.inp):
            obj = manifest.obj
            resource = await session.resolver.for_kind(obj.get("apiVersion", ""), obj.get("kind", ""))
            targets.append(Target(resource, [obj["metadata"]["name"]]))
        return targets
    return await parse_targets(session, args.resources, "get")


async def _list(session: Session, resource: ResourceInfo, args: argparse.Namespace, accept: str,
                params: dict[str, Any]) -> dict[str, Any]:
    """Every page of a list (kubectl's --chunk-size), joined into one list or Table."""
    path = path_for(resource, list_namespace(session, resource))
    query = {"labelSelector": args.selector, "fieldSelector": args.field_selector,
             "limit": args.chunk_size or None, **params}
    first = await call(session, "GET", path, params=query, accept=accept)
    key = "rows" if first.get("kind") == "Table" else "items"
    token = (first.get("metadata") or {}).get("continue")
    while token:
        page = await call(session, "GET", path, params={**query, "continue": token}, accept=accept)
        first[key] = (first.get(key) or []) + (page.get(key) or [])
        token = (page.get("metadata") or {}).get("continue")
    return first


async def fetch(session: Session, targets: list[Target], args: argparse.Namespace, accept: str,
                params: dict[str, Any], errors: list[BaseException]) -> list[Fetched]:
    fetched: list[Fetched] = []
    for target in targets:
        resource = target.resource
        if not target.names:
            fetched.append(Fetched(resource, await _list(session, resource, args, accept, params), False))
            continue
        for name in target.names:
            namespace = session.namespace if resource.namespaced else ""
            try:
                obj = await call(session, "GET", path_for(resource, namespace, name), params=params, accept=accept)
                fetched.append(Fetched(resource, obj, True))
            except StatusError as exc:
                if is_unreachable(exc):
                    raise
                if not (exc.code == 404 and args.ignore_not_found):
                    errors.append(exc)
    return fetched


def _as_table(item: Fetched) -> dict[str, Any]:
    data = item.data
    if data.get("kind") == "Table":
        return data
    objects = data.get("items") if "items" in data else [data]
    return fallback_table(list(objects or []))


def _sort_rows(table: dict[str, Any], expression: str) -> None:
    def key(row: dict[str, Any]) -> tuple[int, Any]:
        values = jsonpath.find(expression, row.get("object") or {})
        if not values:
            return (0, "")
        value = values[0]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return (2, jsonpath.text_of(value))
        return (1, value)

    rows = table.get("rows") or []
    try:
        rows.sort(key=key)
    except TypeError:
        rows.sort(key=lambda r: str(key(r)))


def print_tables(session: Session, fetched: list[Fetched], args: argparse.Namespace, wide: bool) -> bool:
    """Print human-readable output; True if anything was written."""
    resources = {(f.resource.group, f.resource.kind) for f in fetched}
    with_kind = len(resources) > 1
    written = False
    writer: TabWriter = new_table_writer()
    last: ResourceInfo | None = None
    last_columns: Any = None
    for item in fetched:
        table = _as_table(item)
        if args.sort_by:
            _sort_rows(table, args.sort_by)
        if last is None or item.resource != last:
            pending = writer.flush()
            if pending:
                session.out.write(pending)
                written = True
            writer = new_table_writer()
            separator = last is not None and not args.no_headers and written
            last, last_columns = item.resource, None
        else:
            separator = False
        options = TableOptions(wide=wide, with_namespace=session.all_namespaces and item.resource.namespaced,
                               kind_prefix=display_kind(item.resource) if with_kind else "",
                               show_labels=args.show_labels, label_columns=_label_columns(args),
                               no_headers=args.no_headers)
        columns = table.get("columnDefinitions")
        lines = table_lines(table, options, print_headers=columns != last_columns)
        if table.get("rows"):
            last_columns = columns
        if lines:
            if separator:
                session.out.write("\n")
            writer.write("".join("\t".join(line) + "\n" for line in lines))
    rest = writer.flush()
    if rest:
        session.out.write(rest)
        written = True
    session.out.flush()
    return written


def _with_type(obj: dict[str, Any], resource: ResourceInfo) -> dict[str, Any]:
    if "kind" not in obj:
        return {"apiVersion": resource.group_version, "kind": resource.kind, **obj}
    return obj


async def run_get(session: Session, args: argparse.Namespace) -> int:
    fmt = parse_output(args.output)
    if args.all_namespaces:
        session.all_namespaces = True
    targets = await _targets(session, args)
    if args.watch or args.watch_only:
        return await watch(session, targets, args, fmt)
    errors: list[BaseException] = []
    human = fmt.kind in ("", "wide")
    if human:
        params = {"includeObject": "Object"} if args.sort_by else {}
        fetched = await fetch(session, targets, args, TABLE_ACCEPT, params, errors)
        written = print_tables(session, fetched, args, fmt.kind == "wide")
        if not written and not errors and not args.ignore_not_found:
            namespaced = not session.all_namespaces and all(t.resource.namespaced for t in targets)
            session.warn(f"No resources found in {session.namespace} namespace." if namespaced
                         else "No resources found")
    else:
        fetched = await fetch(session, targets, args, "application/json", {}, errors)
        objects: list[dict[str, Any]] = []
        kinds: dict[int, ResourceInfo] = {}
        for item in fetched:
            items = item.data.get("items") if not item.named else [item.data]
            for obj in items or []:
                obj = _with_type(obj, item.resource)
                kinds[id(obj)] = item.resource
                objects.append(obj)
        if args.sort_by:
            objects.sort(key=lambda o: jsonpath.text_of((jsonpath.find(args.sort_by, o) or [""])[0]))
        single = len(targets) == 1 and len(targets[0].names) == 1 and "," not in "".join(args.resources[:1])
        if objects or not single:
            session.out.write(print_objects(fmt, objects, single, kind_of=lambda o: display_kind(kinds[id(o)])))
    if errors:
        for err in errors[:-1]:
            session.warn(render(err, session.config.server)[0])
        raise errors[-1]
    return 0


async def watch(session: Session, targets: list[Target], args: argparse.Namespace, fmt: OutputFormat) -> int:
    """`get -w`: print the list (unless --watch-only), then one line per event until the server ends."""
    if len(targets) != 1 or len(targets[0].names) > 1:
        raise CliError("watch is only supported on individual resources and resource collections - more than 1 "
                       "resource was found")
    target = targets[0]
    resource = target.resource
    human = fmt.kind in ("", "wide")
    accept = TABLE_ACCEPT if human else "application/json"
    namespace = list_namespace(session, resource) if not target.names else \
        (session.namespace if resource.namespaced else "")
    options = TableOptions(wide=fmt.kind == "wide", with_namespace=session.all_namespaces and resource.namespaced,
                           show_labels=args.show_labels, label_columns=_label_columns(args),
                           no_headers=args.no_headers)
    writer = new_table_writer()
    columns: Any = None
    headers_done = False
    params: dict[str, Any] = {"labelSelector": args.selector, "fieldSelector": args.field_selector}
    skip_first = False
    if target.names:
        current = await call(session, "GET", path_for(resource, namespace, target.names[0]), accept=accept)
        initial = current
        params = {"fieldSelector": f"metadata.name={target.names[0]}", "resourceVersion": "0"}
        skip_first = True
    else:
        initial = await _list(session, resource, args, accept, {})
        params["resourceVersion"] = (initial.get("metadata") or {}).get("resourceVersion", "")

    def emit(data: dict[str, Any]) -> None:
        nonlocal columns, headers_done
        if human:
            table = data if data.get("kind") == "Table" else fallback_table(
                data.get("items") if "items" in data else [data])
            if table.get("columnDefinitions"):
                if table["columnDefinitions"] != columns:
                    headers_done = False
                columns = table["columnDefinitions"]
            else:
                table = {**table, "columnDefinitions": columns}
            lines = table_lines(table, options, print_headers=not headers_done)
            if table.get("rows"):
                headers_done = True
            text = render_lines(writer, lines)
        else:
            objects = data.get("items") if "items" in data else [data]
            text = "".join(print_objects(fmt, [_with_type(o, resource)], True,
                                         kind_of=lambda o: display_kind(resource)) for o in objects or [])
        session.out.write(text)
        session.out.flush()

    if not args.watch_only:
        emit(initial)
    elif human and initial.get("columnDefinitions"):
        columns = initial["columnDefinitions"]
    async for event in session.api.watch_path(path_for(resource, namespace), params, accept):
        if event.get("type") == "BOOKMARK":
            continue
        if skip_first:
            skip_first = False
            if not args.watch_only:
                continue
        emit(event.get("object") or {})
    return 0
