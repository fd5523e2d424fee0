"""`config view|get-contexts|current-context|use-context|set-context`: the kubeconfig files,
read and written with kubectl's precedence (--kubeconfig, then $KUBECONFIG, then ~/.kube/config,
then the data-dir kubeconfig `kube-py up` writes). These commands never contact a server."""

from __future__ import annotations

import argparse
import copy
from pathlib import Path
from typing import Any

import yaml

from kubeclient.kubeconfig import KubeconfigError, kubeconfig_paths, merged_config
from kubectl_py import cli
from kubectl_py.errors import CliError, UsageError
from kubectl_py.printers import new_table_writer, render_lines, to_json, to_yaml
from kubectl_py.session import GlobalOptions, Streams

REDACTED = {"client-key-data": "DATA+OMITTED", "client-certificate-data": "DATA+OMITTED",
            "certificate-authority-data": "DATA+OMITTED", "token": "REDACTED", "password": "REDACTED"}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("config", help="Modify kubeconfig files", command="config")
    verbs = p.add_subparsers(dest="config_verb", metavar="VERB", parser_class=cli.Parser)

    def verb(name: str, help_text: str, handler: Any) -> argparse.ArgumentParser:
        child = verbs.add_parser(name, help=help_text, command=f"config {name}")
        cli.add_global_flags(child, suppress=True)
        child.set_defaults(handler=handler, offline=True)
        return child

    v = verb("view", "Display merged kubeconfig settings", run_view)
    v.add_argument("--minify", action="store_true", help="Only the current context's information")
    v.add_argument("--raw", action="store_true", help="Show secrets and certificate data")
    cli.add_output(v, "yaml|json")
    g = verb("get-contexts", "Describe one or many contexts", run_get_contexts)
    g.add_argument("names", nargs="*")
    g.add_argument("--no-headers", action="store_true")
    cli.add_output(g, "name")
    verb("current-context", "Display the current context", run_current_context)
    u = verb("use-context", "Set the current context in a kubeconfig file", run_use_context)
    u.add_argument("name")
    s = verb("set-context", "Set a context entry (e.g. --current --namespace=x)", run_set_context)
    s.add_argument("name", nargs="?", default="")
    s.add_argument("--current", action="store_true")
    s.add_argument("--cluster", default=None)
    s.add_argument("--user", default=None)
    s.add_argument("--ns", "--namespace-value", dest="ns_value", default=None)


def _config(options: GlobalOptions) -> dict[str, Any]:
    try:
        config = merged_config(kubeconfig_paths(options.kubeconfig or None))
    except KubeconfigError as exc:
        raise CliError(str(exc)) from None
    return {"apiVersion": "v1", "clusters": config["clusters"], "contexts": config["contexts"],
            "current-context": config.get("current-context", ""), "kind": "Config", "preferences": {},
            "users": config["users"]}


def _redact(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: (REDACTED[k] if k in REDACTED and v else _redact(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(v) for v in value]
    return value


def minify(config: dict[str, Any], context: str) -> dict[str, Any]:
    name = context or config.get("current-context", "")
    ctx = next((c for c in config["contexts"] if c.get("name") == name), None)
    if ctx is None:
        raise CliError('current-context must exist in order to minify' if not name else
                       f'context "{name}" does not exist')
    inner = ctx.get("context") or {}
    return {**config, "contexts": [ctx], "current-context": name,
            "clusters": [c for c in config["clusters"] if c.get("name") == inner.get("cluster")],
            "users": [u for u in config["users"] if u.get("name") == inner.get("user")]}


async def run_view(options: GlobalOptions, streams: Streams, args: argparse.Namespace) -> int:
    config = _config(options)
    if args.minify:
        config = minify(config, options.context)
    if not args.raw:
        config = _redact(copy.deepcopy(config))
    streams.out.write(to_json(config) if args.output == "json" else to_yaml(config))
    return 0


async def run_get_contexts(options: GlobalOptions, streams: Streams, args: argparse.Namespace) -> int:
    config = _config(options)
    current = options.context or config.get("current-context", "")
    contexts = config["contexts"]
    if args.names:
        missing = [n for n in args.names if not any(c.get("name") == n for c in contexts)]
        if missing:
            raise CliError(f'context {missing[0]} not found')
        contexts = [c for c in contexts if c.get("name") in args.names]
    if args.output == "name":
        for c in contexts:
            streams.out.write(f"{c.get('name')}\n")
        return 0
    lines = [] if args.no_headers else [["CURRENT", "NAME", "CLUSTER", "AUTHINFO", "NAMESPACE"]]
    for c in sorted(contexts, key=lambda c: c.get("name", "")):
        inner = c.get("context") or {}
        lines.append(["*" if c.get("name") == current else "", c.get("name", ""), inner.get("cluster", ""),
                      inner.get("user", ""), inner.get("namespace", "")])
    streams.out.write(render_lines(new_table_writer(), lines))
    return 0


async def run_current_context(options: GlobalOptions, streams: Streams, args: argparse.Namespace) -> int:
    current = _config(options).get("current-context", "")
    if not current:
        raise CliError("current-context is not set")
    streams.out.write(current + "\n")
    return 0


def _target_file(options: GlobalOptions) -> Path:
    """The file kubectl writes: --kubeconfig, else the first existing file of the chain."""
    paths = kubeconfig_paths(options.kubeconfig or None)
    for path in paths:
        if path.exists():
            return path
    return paths[0]


def _load(path: Path) -> dict[str, Any]:
    try:
        return yaml.safe_load(path.read_text()) or {} if path.exists() else {}
    except yaml.YAMLError as exc:
        raise CliError(f'error loading config file "{path}": {exc}') from None


def _save(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, default_flow_style=False, sort_keys=False))


async def run_use_context(options: GlobalOptions, streams: Streams, args: argparse.Namespace) -> int:
    config = _config(options)
    if not any(c.get("name") == args.name for c in config["contexts"]):
        raise CliError(f'no context exists with the name: "{args.name}"')
    path = _target_file(options)
    data = _load(path)
    data["current-context"] = args.name
    _save(path, data)
    streams.out.write(f'Switched to context "{args.name}".\n')
    return 0


async def run_set_context(options: GlobalOptions, streams: Streams, args: argparse.Namespace) -> int:
    config = _config(options)
    name = config.get("current-context", "") if args.current else args.name
    if not name:
        raise UsageError("you must specify a context name or --current", "config set-context")
    path = _target_file(options)
    data = _load(path)
    contexts = data.setdefault("contexts", [])
    entry = next((c for c in contexts if c.get("name") == name), None)
    existed = entry is not None
    if entry is None:
        entry = {"name": name, "context": {}}
        contexts.append(entry)
    inner = entry.setdefault("context", {})
    namespace = args.ns_value if args.ns_value is not None else (options.namespace or None)
    for key, value in (("cluster", args.cluster), ("user", args.user), ("namespace", namespace)):
        if value is not None:
            inner[key] = value
    _save(path, data)
    streams.out.write(f'Context "{name}" {"modified" if existed else "created"}.\n')
    return 0
