"""Output formats, kept apart from the commands that fetch what they print.

Server-side Tables are decorated exactly as kubectl's table printer does (NAMESPACE first with
-A, `kind/` prefix on the name column when several kinds print, LABELS and -L columns last,
priority>0 columns only with -o wide) and aligned with Go's tabwriter (minwidth 6, padding 3,
widths remembered across a watch). `-o json` matches Go's MarshalIndent (sorted keys, four
spaces, HTML-escaped), `-o yaml` matches sigs.k8s.io/yaml's layout closely.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import yaml

from kubectl_py import jsonpath
from kubectl_py.errors import CliError
from kubectl_py.tabwriter import TabWriter
from kubectl_py.timeutil import age

TABLE_ACCEPT = ("application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,"
                "application/json")


def new_table_writer() -> TabWriter:
    """kubectl's printers.GetNewTabWriter."""
    return TabWriter(minwidth=6, padding=3, remember_widths=True)


# ---- JSON and YAML ------------------------------------------------------------------------

def to_json(obj: Any) -> str:
    text = json.dumps(obj, sort_keys=True, indent=4, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026") + "\n"


class _Emitter(yaml.emitter.Emitter):
    def choose_scalar_style(self) -> str:
        style = super().choose_scalar_style()
        return '"' if style == "'" else style


class _Dumper(_Emitter, yaml.serializer.Serializer, yaml.representer.SafeRepresenter, yaml.resolver.Resolver):
    def __init__(self, stream: Any, **kwargs: Any) -> None:
        _Emitter.__init__(self, stream, canonical=kwargs.get("canonical"), indent=kwargs.get("indent"),
                          width=kwargs.get("width"), allow_unicode=kwargs.get("allow_unicode"),
                          line_break=kwargs.get("line_break"))
        yaml.serializer.Serializer.__init__(self, encoding=kwargs.get("encoding"),
                                            explicit_start=kwargs.get("explicit_start"),
                                            explicit_end=kwargs.get("explicit_end"),
                                            version=kwargs.get("version"), tags=kwargs.get("tags"))
        yaml.representer.SafeRepresenter.__init__(self, default_style=kwargs.get("default_style"),
                                                  default_flow_style=kwargs.get("default_flow_style"),
                                                  sort_keys=kwargs.get("sort_keys", True))
        yaml.resolver.Resolver.__init__(self)


def _represent_str(dumper: _Dumper, value: str) -> yaml.ScalarNode:
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_Dumper.add_representer(str, _represent_str)


def to_yaml(obj: Any) -> str:
    return yaml.dump(obj, Dumper=_Dumper, default_flow_style=False, sort_keys=True, allow_unicode=True, width=80)


def as_list(items: list[dict[str, Any]]) -> dict[str, Any]:
    """What `get -o yaml|json` prints for zero or several objects."""
    return {"apiVersion": "v1", "items": items, "kind": "List", "metadata": {"resourceVersion": ""}}


# ---- name printer --------------------------------------------------------------------------

def name_line(kind: str, name: str, operation: str = "") -> str:
    """`deployment.apps/web created` (kubectl's NamePrinter)."""
    return f"{kind}/{name} {operation}".rstrip() if operation else f"{kind}/{name}"


# ---- tables --------------------------------------------------------------------------------

@dataclass
class TableOptions:
    wide: bool = False
    with_namespace: bool = False
    kind_prefix: str = ""  # "deployment.apps" when several kinds print
    show_labels: bool = False
    label_columns: list[str] = field(default_factory=list)
    no_headers: bool = False


def format_labels(labels: dict[str, str] | None) -> str:
    if not labels:
        return "<none>"
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        for i, ch in enumerate(value):
            if ch in "\f\n\r":
                return value[:i] + "..."
        return value
    return jsonpath.go_sprint(value)


def _row_meta(row: dict[str, Any]) -> dict[str, Any]:
    return ((row.get("object") or {}).get("metadata")) or {}


def table_lines(table: dict[str, Any], options: TableOptions, print_headers: bool = True) -> list[list[str]]:
    """The rows (header first) kubectl prints for one server-side Table."""
    columns = list(table.get("columnDefinitions") or [])
    shown = [i for i, c in enumerate(columns) if options.wide or not c.get("priority")]
    name_index = next((i for i, c in enumerate(columns) if c.get("format") == "name" and c.get("type") == "string"),
                      -1)
    rows = table.get("rows") or []
    label_heads = [key.rsplit("/", 1)[-1].upper() for key in options.label_columns]
    out: list[list[str]] = []
    if print_headers and not options.no_headers and rows:
        header = [str(columns[i].get("name", "")).upper() for i in shown]
        if options.with_namespace:
            header.insert(0, "NAMESPACE")
        header += label_heads
        if options.show_labels:
            header.append("LABELS")
        out.append(header)
    for row in rows:
        cells = list(row.get("cells") or [])
        line = []
        for i in shown:
            value = _cell(cells[i]) if i < len(cells) else ""
            if i == name_index and options.kind_prefix:
                value = f"{options.kind_prefix}/{value}"
            line.append(value)
        meta = _row_meta(row)
        if options.with_namespace:
            line.insert(0, meta.get("namespace", ""))
        labels = meta.get("labels") or {}
        line += [labels.get(key, "") for key in options.label_columns]
        if options.show_labels:
            line.append(format_labels(labels))
        out.append(line)
    return out


def fallback_table(objects: list[dict[str, Any]]) -> dict[str, Any]:
    """A NAME/AGE Table for a server that ignored the Table Accept header (kubectl does the same)."""
    return {
        "kind": "Table", "apiVersion": "meta.k8s.io/v1",
        "columnDefinitions": [{"name": "Name", "type": "string", "format": "name", "priority": 0},
                              {"name": "Age", "type": "string", "format": "", "priority": 0}],
        "rows": [{"cells": [(o.get("metadata") or {}).get("name", ""),
                            age((o.get("metadata") or {}).get("creationTimestamp"))],
                  "object": o} for o in objects],
    }


# ---- custom columns --------------------------------------------------------------------------

@dataclass
class Column:
    header: str
    expression: str


def parse_custom_columns(spec: str) -> list[Column]:
    columns = []
    for part in spec.split(","):
        if ":" not in part:
            raise CliError(f'unexpected custom-columns spec: {part}, expected <header>:<json-path-expr>')
        header, expr = part.split(":", 1)
        columns.append(Column(header, expr))
    return columns


def custom_column_lines(objects: list[dict[str, Any]], columns: list[Column], no_headers: bool = False) \
        -> list[list[str]]:
    out = [] if no_headers else [[c.header for c in columns]]
    for obj in objects:
        line = []
        for column in columns:
            values = jsonpath.find(column.expression, obj)
            line.append(",".join(jsonpath.go_sprint(v) for v in values) if values else "<none>")
        out.append(line)
    return out


def render_lines(writer: TabWriter, lines: list[list[str]]) -> str:
    writer.write("".join("\t".join(line) + "\n" for line in lines))
    return writer.flush()


# ---- output format selection -------------------------------------------------------------

@dataclass
class OutputFormat:
    kind: str  # "" (table) | wide | json | yaml | name | jsonpath | custom-columns
    argument: str = ""


def parse_output(value: str) -> OutputFormat:
    if not value:
        return OutputFormat("")
    name, _, argument = value.partition("=")
    if name in ("json", "yaml", "name", "wide") and not argument:
        return OutputFormat(name)
    if name in ("jsonpath", "jsonpath-as-json", "custom-columns", "go-template") and argument:
        if name == "go-template":
            raise CliError("go-template output is not supported by kubectl-py; use -o jsonpath=...")
        return OutputFormat(name, argument)
    if name in ("jsonpath-file", "custom-columns-file", "template", "go-template-file"):
        raise CliError(f"output format {name!r} is not supported by kubectl-py")
    raise CliError(f'unable to match a printer suitable for the output format "{value}", allowed formats are: '
                   "custom-columns,json,jsonpath,name,wide,yaml", exit_code=1)


def print_objects(fmt: OutputFormat, objects: list[dict[str, Any]], single: bool,
                  kind_of: Any = None) -> str:
    """json/yaml/name/jsonpath/custom-columns for objects already fetched (not Tables)."""
    data: Any = objects[0] if single and len(objects) == 1 else as_list(objects)
    if fmt.kind == "json":
        return to_json(data)
    if fmt.kind == "yaml":
        return to_yaml(data)
    if fmt.kind == "name":
        return "".join(name_line(kind_of(o), o["metadata"]["name"]) + "\n" for o in objects)
    if fmt.kind in ("jsonpath", "jsonpath-as-json"):
        template = fmt.argument
        if fmt.kind == "jsonpath-as-json":
            return to_json(jsonpath.find(template, data))
        return jsonpath.execute(template, data)
    if fmt.kind == "custom-columns":
        return render_lines(new_table_writer(), custom_column_lines(objects, parse_custom_columns(fmt.argument)))
    raise CliError(f"unknown output format {fmt.kind}")
