"""`apply`, `create -f` and `replace -f`: manifests in, `kind/name verb` lines out.

apply is kubectl's client-side apply: the last-applied annotation plus a three-way strategic
merge patch, so a field deleted from the file is deleted on the server and fields set by others
are left alone. Beyond kubectl, a Deployment whose pod template changes gets a
`kubernetes.io/change-cause` naming the file and image unless the user set one; it is kept out
of the last-applied annotation so the stock kubectl still sees the manifest as unchanged.
"""

from __future__ import annotations

import argparse
import copy
from typing import Any

from apimachinery.errors import StatusError
from apimachinery.resources import ResourceInfo
from kubectl_py import cli
from kubectl_py.builder import call, check_manifest_namespace, path_for
from kubectl_py.discovery import display_kind
from kubectl_py.errors import CliError, add_source
from kubectl_py.lastapplied import (
    CHANGE_CAUSE,
    LAST_APPLIED,
    default_change_cause,
    original_of,
    three_way_patch,
    touches_template,
    with_last_applied,
)
from kubectl_py.manifests import Manifest, load_manifests
from kubectl_py.printers import name_line
from kubectl_py.session import Session

FIELD_MANAGER = "kubectl-client-side-apply"
MISSING_ANNOTATION = ("Warning: resource {resource} is missing the kubectl.kubernetes.io/last-applied-configuration "
                      "annotation which is required by kubectl apply. kubectl apply should only be used on resources "
                      "created declaratively by either kubectl create --save-config or kubectl apply. The missing "
                      "annotation will be patched automatically.")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("apply", help="Apply a configuration to a resource by file name or stdin", command="apply")
    cli.add_filename_flags(p, what="that contain the configuration to apply ")
    cli.add_dry_run(p)
    cli.add_output(p, "Output format: name (others print the applied objects)")
    cli.add_selector(p)
    p.add_argument("--prune", action="store_true", help="Delete objects not in the manifests (needs -l)")
    p.add_argument("--change-cause", default="", help="Record this text as kubernetes.io/change-cause")
    p.add_argument("--validate", default="strict", help="strict|warn|ignore (field validation on the server)")
    p.add_argument("--server-side", action="store_true", help="Not supported: kube-py applies client-side")
    p.set_defaults(handler=run_apply)

    p = sub.add_parser("create", help="Create a resource from a file or from stdin", command="create")
    cli.add_filename_flags(p, what="to use to create the resource ")
    cli.add_dry_run(p)
    cli.add_output(p)
    p.add_argument("--save-config", action="store_true", help="Store the last-applied annotation")
    p.add_argument("--validate", default="strict", help="strict|warn|ignore")
    p.set_defaults(handler=run_create)
    from kubectl_py.commands import generators

    generators.register_create(p)

    p = sub.add_parser("replace", help="Replace a resource by file name or stdin", command="replace")
    cli.add_filename_flags(p, what="to use to replace the resource ")
    cli.add_dry_run(p)
    cli.add_output(p)
    p.add_argument("--force", action="store_true", help="Delete and re-create the resource")
    p.add_argument("--save-config", action="store_true", help="Store the last-applied annotation")
    p.add_argument("--validate", default="strict", help="strict|warn|ignore")
    p.set_defaults(handler=run_replace)


def _validation(args: argparse.Namespace) -> str:
    value = str(getattr(args, "validate", "strict")).lower()
    return {"true": "Strict", "strict": "Strict", "warn": "Warn", "false": "Ignore", "ignore": "Ignore"}.get(
        value, "Strict")


def _write_params(manager: str, args: argparse.Namespace, dry_run: str) -> dict[str, Any]:
    return {"fieldManager": manager, "fieldValidation": _validation(args),
            "dryRun": "All" if dry_run == "server" else None}


async def _mapping(session: Session, manifest: Manifest) -> ResourceInfo:
    obj = manifest.obj
    try:
        return await session.resolver.for_kind(obj.get("apiVersion", ""), obj.get("kind", ""))
    except CliError as exc:
        name = (obj.get("metadata") or {}).get("name", "")
        namespace = (obj.get("metadata") or {}).get("namespace", "")
        raise CliError(f'resource mapping not found for name: "{name}" namespace: "{namespace}" from '
                       f'"{manifest.source}": {exc.message}\nensure CRDs are installed first') from None


def _prepare(session: Session, manifest: Manifest, resource: ResourceInfo) -> tuple[dict[str, Any], str]:
    obj = copy.deepcopy(manifest.obj)
    meta = obj.setdefault("metadata", {})
    namespace = check_manifest_namespace(session, obj, resource)
    if namespace:
        meta["namespace"] = namespace
    if not meta.get("name") and not meta.get("generateName"):
        raise CliError(f'error when retrieving current configuration of resource from "{manifest.source}": '
                       "resource name may not be empty")
    return obj, namespace


async def _get_current(session: Session, resource: ResourceInfo, namespace: str, name: str,
                       source: str) -> dict[str, Any] | None:
    try:
        return await call(session, "GET", path_for(resource, namespace, name))
    except StatusError as exc:
        if exc.code == 404 and exc.reason == "NotFound" and not exc.message.startswith("namespaces"):
            return None
        raise add_source(exc, "retrieving current configuration of", source) from None


def _add_change_cause(obj: dict[str, Any], resource: ResourceInfo, cause: str) -> None:
    if resource.kind != "Deployment" or not cause:
        return
    annotations = obj.setdefault("metadata", {}).setdefault("annotations", {})
    annotations.setdefault(CHANGE_CAUSE, cause)


def _user_change_cause(obj: dict[str, Any], args: argparse.Namespace, source: str) -> str:
    declared = ((obj.get("metadata") or {}).get("annotations") or {}).get(CHANGE_CAUSE)
    if declared:
        return ""
    return args.change_cause or default_change_cause("apply", source, obj)


async def apply_one(session: Session, manifest: Manifest, args: argparse.Namespace, dry_run: str) -> str:
    resource = await _mapping(session, manifest)
    obj, namespace = _prepare(session, manifest, resource)
    name = obj["metadata"]["name"]
    kind = display_kind(resource)
    modified = with_last_applied(obj)
    current = await _get_current(session, resource, namespace, name, manifest.source)
    suffix = cli.dry_run_suffix(dry_run)
    cause = _user_change_cause(obj, args, manifest.source)
    if current is None:
        body = copy.deepcopy(modified)
        _add_change_cause(body, resource, cause)
        if dry_run != "client":
            try:
                await call(session, "POST", path_for(resource, namespace),
                           params=_write_params(FIELD_MANAGER, args, dry_run), body=body)
            except StatusError as exc:
                raise add_source(exc, "creating", manifest.source) from None
        return name_line(kind, name, "created" + suffix)
    original = original_of(current)
    if original is None:
        session.warn(MISSING_ANNOTATION.format(resource=f"{resource.plural}/{name}"))
    for attempt in range(5):
        patch = three_way_patch(original, modified, current, resource)
        if not patch:
            return name_line(kind, name, "unchanged" + suffix)
        if touches_template(patch) and cause:
            patch.setdefault("metadata", {}).setdefault("annotations", {})[CHANGE_CAUSE] = cause
        if dry_run == "client":
            return name_line(kind, name, "configured" + suffix)
        try:
            await call(session, "PATCH", path_for(resource, namespace, name),
                       params=_write_params(FIELD_MANAGER, args, dry_run), body=patch,
                       content_type="application/strategic-merge-patch+json")
            return name_line(kind, name, "configured" + suffix)
        except StatusError as exc:
            if exc.code != 409 or attempt == 4:
                raise add_source(exc, "patching", manifest.source) from None
            current = await _get_current(session, resource, namespace, name, manifest.source) or {}
            original = original_of(current)
    raise CliError("apply gave up after 5 conflicts")


async def _each(session: Session, manifests: list[Manifest], action: Any) -> int:
    """Run `action` for every manifest, printing as kubectl does and reporting every failure."""
    failures: list[BaseException] = []
    for manifest in manifests:
        try:
            line = await action(manifest)
            if line:
                session.print(line)
        except (StatusError, CliError) as exc:
            from kubectl_py.errors import is_unreachable

            if isinstance(exc, StatusError) and is_unreachable(exc):
                raise
            failures.append(exc)
    if not failures:
        return 0
    from kubectl_py.errors import render

    for failure in failures[:-1]:
        session.warn(render(failure)[0])
    raise failures[-1]


async def run_apply(session: Session, args: argparse.Namespace) -> int:
    if args.server_side:
        raise CliError("--server-side is not supported by kubectl-py; kube-py applies client-side")
    dry_run = cli.dry_run_mode(args)
    manifests = load_manifests(args.filename, args.recursive, session.streams.inp)
    if not manifests:
        raise CliError("no objects passed to apply")
    if args.prune and not args.selector:
        raise CliError("all resources selected for prune without explicitly passing --all. To prune all "
                       "resources, pass the --all flag. If you did not mean to prune all resources, specify a "
                       "label selector")

    async def action(manifest: Manifest) -> str:
        line = await apply_one(session, manifest, args, dry_run)
        return line.split(" ", 1)[0] if args.output == "name" else line

    code = await _each(session, manifests, action)
    if args.prune:
        await _prune(session, manifests, args.selector, dry_run)
    return code


async def _prune(session: Session, manifests: list[Manifest], selector: str, dry_run: str) -> None:
    """Delete objects that match the selector, carry the last-applied annotation and are not in the files."""
    kept: set[tuple[str, str, str, str]] = set()
    kinds: dict[str, ResourceInfo] = {}
    for manifest in manifests:
        resource = await _mapping(session, manifest)
        namespace = check_manifest_namespace(session, manifest.obj, resource)
        kept.add((resource.group, resource.kind, namespace, manifest.obj["metadata"]["name"]))
        kinds[f"{resource.group}/{resource.kind}"] = resource
    for resource in kinds.values():
        namespace = session.namespace if resource.namespaced else ""
        listing = await call(session, "GET", path_for(resource, namespace), params={"labelSelector": selector})
        for item in listing.get("items") or []:
            meta = item.get("metadata") or {}
            key = (resource.group, resource.kind, meta.get("namespace", ""), meta.get("name", ""))
            if key in kept or LAST_APPLIED not in (meta.get("annotations") or {}):
                continue
            if dry_run != "client":
                await call(session, "DELETE", path_for(resource, key[2], key[3]),
                           params={"dryRun": "All" if dry_run == "server" else None},
                           body={"propagationPolicy": "Background"})
            session.print(name_line(display_kind(resource), key[3], "pruned" + cli.dry_run_suffix(dry_run)))


async def run_create(session: Session, args: argparse.Namespace) -> int:
    dry_run = cli.dry_run_mode(args)
    manifests = load_manifests(args.filename, args.recursive, session.streams.inp)
    if not manifests:
        raise CliError("no objects passed to create")

    async def action(manifest: Manifest) -> str:
        resource = await _mapping(session, manifest)
        obj, namespace = _prepare(session, manifest, resource)
        if args.save_config:
            obj = with_last_applied(obj)
        created = obj
        if dry_run != "client":
            try:
                created = await call(session, "POST", path_for(resource, namespace),
                                     params=_write_params("kubectl-create", args, dry_run), body=obj)
            except StatusError as exc:
                raise add_source(exc, "creating", manifest.source) from None
        name = (created.get("metadata") or {}).get("name") or obj["metadata"].get("name", "")
        line = name_line(display_kind(resource), name, "created" + cli.dry_run_suffix(dry_run))
        return line.split(" ", 1)[0] if args.output == "name" else line

    return await _each(session, manifests, action)


async def run_replace(session: Session, args: argparse.Namespace) -> int:
    dry_run = cli.dry_run_mode(args)
    manifests = load_manifests(args.filename, args.recursive, session.streams.inp)
    if not manifests:
        raise CliError("no objects passed to replace")

    async def action(manifest: Manifest) -> str:
        resource = await _mapping(session, manifest)
        obj, namespace = _prepare(session, manifest, resource)
        name = obj["metadata"]["name"]
        params = _write_params("kubectl-replace", args, dry_run)
        try:
            current = await call(session, "GET", path_for(resource, namespace, name))
        except StatusError as exc:
            raise add_source(exc, "replacing", manifest.source) from None
        annotations = (current.get("metadata") or {}).get("annotations") or {}
        if args.save_config:
            obj = with_last_applied(obj)
        elif LAST_APPLIED in annotations:
            obj.setdefault("metadata", {}).setdefault("annotations", {})
            obj["metadata"]["annotations"].setdefault(LAST_APPLIED, annotations[LAST_APPLIED])
        if dry_run != "client":
            try:
                if args.force:
                    await call(session, "DELETE", path_for(resource, namespace, name),
                               body={"propagationPolicy": "Background"})
                    session.print(name_line(display_kind(resource), name, "deleted"))
                    obj["metadata"].pop("resourceVersion", None)
                    await call(session, "POST", path_for(resource, namespace), params=params, body=obj)
                else:
                    if not obj["metadata"].get("resourceVersion"):
                        obj["metadata"]["resourceVersion"] = current["metadata"].get("resourceVersion")
                    await call(session, "PUT", path_for(resource, namespace, name), params=params, body=obj)
            except StatusError as exc:
                raise add_source(exc, "replacing", manifest.source) from None
        line = name_line(display_kind(resource), name, "replaced" + cli.dry_run_suffix(dry_run))
        return line.split(" ", 1)[0] if args.output == "name" else line

    return await _each(session, manifests, action)
