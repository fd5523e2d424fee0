"""Reading `-f FILE|DIR|URL|-` the way kubectl's resource builder does.

Multi-document YAML and JSON (a `List` is flattened), directories in name order (only
.yaml/.yml/.json files, recursively with `-R`), stdin as `-`. Parse errors name the file and
the line, because "invalid YAML" with no position is useless in a 300-line manifest.
YAML is read with YAML 1.1 rules, as kubectl does, except that timestamps stay strings.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import yaml

from kubectl_py.errors import CliError

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")


class _Loader(yaml.SafeLoader):
    """SafeLoader without the timestamp resolver (sigs.k8s.io/yaml keeps them as strings)."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@dataclass
class Manifest:
    obj: dict[str, Any]
    source: str  # the file name kubectl would print in `error when creating "<source>"`


def expand_paths(filenames: list[str], recursive: bool) -> Iterator[str]:
    for name in filenames:
        if name == "-" or name.startswith(("http://", "https://")):
            yield name
            continue
        path = Path(name)
        if not path.exists():
            raise CliError(f'the path "{name}" does not exist')
        if path.is_dir():
            entries = sorted(path.rglob("*") if recursive else path.iterdir())
            for entry in entries:
                if entry.is_file() and entry.suffix in MANIFEST_SUFFIXES:
                    yield str(entry)
        else:
            yield name


def parse_documents(text: str, source: str) -> list[dict[str, Any]]:
    """Every object in a YAML/JSON stream; `List` kinds are flattened."""
    try:
        docs = list(yaml.load_all(text, Loader=_Loader))  # noqa: S506 - _Loader is a SafeLoader
    except yaml.YAMLError as exc:
        raise CliError(f"error parsing {source}: {yaml_error_text(exc)}") from None
    objects: list[dict[str, Any]] = []
    for doc in docs:
        if doc is None:
            continue
        if not isinstance(doc, dict):
            raise CliError(f"error parsing {source}: error converting YAML to JSON: the document is a "
                           f"{type(doc).__name__}, not an object")
        if not doc:
            continue
        if doc.get("kind", "").endswith("List") and isinstance(doc.get("items"), list):
            objects.extend(item for item in doc["items"] if isinstance(item, dict))
            continue
        for field in ("apiVersion", "kind"):
            if not doc.get(field):
                raise CliError(f"error validating \"{source}\": error validating data: {field} not set")
        objects.append(json.loads(json.dumps(doc, default=str)))
    return objects


def yaml_error_text(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    if mark is not None:
        return f"error converting YAML to JSON: yaml: line {mark.line + 1}: {problem}"
    return f"error converting YAML to JSON: yaml: {problem}"


def read_source(name: str, stdin: TextIO | None = None) -> str:
    if name == "-":
        return (stdin or sys.stdin).read()
    if name.startswith(("http://", "https://")):
        import urllib.request

        try:
            with urllib.request.urlopen(name, timeout=30) as resp:  # noqa: S310 - the user asked for it
                return resp.read().decode()
        except OSError as exc:
            raise CliError(f'unable to read URL "{name}": {exc}') from None
    try:
        return Path(name).read_text()
    except UnicodeDecodeError:
        raise CliError(f"error parsing {name}: the file is not UTF-8 text") from None
    except OSError as exc:
        raise CliError(f'the path "{name}" cannot be read: {exc.strerror}') from None


def load_manifests(filenames: list[str], recursive: bool = False, stdin: TextIO | None = None) -> list[Manifest]:
    if not filenames:
        raise CliError("must specify one of -f and -k", exit_code=2)
    manifests: list[Manifest] = []
    for name in expand_paths(filenames, recursive):
        source = "STDIN" if name == "-" else name
        manifests.extend(Manifest(obj, source) for obj in parse_documents(read_source(name, stdin), source))
    return manifests
