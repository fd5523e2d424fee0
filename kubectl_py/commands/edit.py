"""`edit`: the live object in $KUBE_EDITOR/$EDITOR, saved back as a JSON merge patch.

Like kubectl, an unchanged or emptied file cancels; a server rejection reopens nothing but
prints the error and keeps a copy of the edit so the work is not lost.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shlex
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import yaml

from apimachinery.errors import StatusError
from kubectl_py import cli
from kubectl_py.builder import call, parse_targets, path_for
from kubectl_py.discovery import display_kind
from kubectl_py.errors import CliError
from kubectl_py.manifests import _Loader, yaml_error_text
from kubectl_py.printers import to_json, to_yaml
from kubectl_py.session import Session

HEADER = ("# Please edit the object below. Lines beginning with a '#' will be ignored,\n"
          "# and an empty file will abort the edit. If an error occurs while saving this file will be\n"
          "# reopened with the relevant failures.\n#\n")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("edit", help="Edit a resource on the server", command="edit")
    p.add_argument("resources", nargs="+")
    p.add_argument("-o", "--output", default="yaml", choices=["yaml", "json"], help="Format to edit in")
    cli.add_filename_flags(p)
    p.set_defaults(handler=run_edit)


def merge_patch(original: Any, edited: Any) -> Any:
    """RFC 7386 patch turning `original` into `edited` (None deletes)."""
    if not isinstance(original, dict) or not isinstance(edited, dict):
        return edited
    patch: dict[str, Any] = {}
    for key in original:
        if key not in edited:
            patch[key] = None
    for key, value in edited.items():
        if key not in original:
            patch[key] = value
        elif original[key] != value:
            patch[key] = merge_patch(original[key], value)
    return patch


def editor_command() -> list[str]:
    editor = os.environ.get("KUBE_EDITOR") or os.environ.get("EDITOR") or "vi"
    return shlex.split(editor)


def _run_editor(path: Path) -> int:
    return subprocess.call([*editor_command(), str(path)])  # noqa: S603 - the user's own editor


async def run_edit(session: Session, args: argparse.Namespace) -> int:
    targets = await parse_targets(session, args.resources, "edit")
    for target in targets:
        resource = target.resource
        if not target.names:
            raise CliError("resource(s) were provided, but no name was specified")
        for name in target.names:
            namespace = session.namespace if resource.namespaced else ""
            original = await call(session, "GET", path_for(resource, namespace, name))
            text = HEADER + (to_yaml(original) if args.output == "yaml" else to_json(original))
            with tempfile.NamedTemporaryFile("w", suffix=f".{args.output}", prefix="kubectl-py-edit-",
                                             delete=False) as handle:
                handle.write(text)
                path = Path(handle.name)
            code = await asyncio.to_thread(_run_editor, path)
            if code != 0:
                raise CliError(f"there was a problem with the editor {' '.join(editor_command())!r}")
            edited_text = await asyncio.to_thread(path.read_text)
            body = "\n".join(line for line in edited_text.splitlines() if not line.lstrip().startswith("#"))
            if not body.strip():
                path.unlink(missing_ok=True)
                session.warn("Edit cancelled, saved file was empty.")
                continue
            try:
                edited = yaml.load(body, Loader=_Loader)  # noqa: S506 - a SafeLoader
            except yaml.YAMLError as exc:
                raise CliError(f"{yaml_error_text(exc)} (your edit is kept in {path})") from None
            patch = merge_patch(original, edited)
            kind = display_kind(resource)
            if not patch:
                path.unlink(missing_ok=True)
                session.warn("Edit cancelled, no changes made.")
                continue
            try:
                await call(session, "PATCH", path_for(resource, namespace, name),
                           params={"fieldManager": "kubectl-edit"}, body=patch,
                           content_type="application/merge-patch+json")
            except StatusError as exc:
                session.warn(f"A copy of your changes has been stored to \"{path}\"")
                raise exc from None
            path.unlink(missing_ok=True)
            session.print(f"{kind}/{name} edited")
    return 0
