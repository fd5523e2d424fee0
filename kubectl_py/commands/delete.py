"""`delete`: by name, by selector, `--all`, or by the objects in files; waits until they are gone.

Like kubectl, the default is `--cascade=background` and `--wait=true`: the command returns once
the API server no longer has the object (or has a new one with another uid under that name).
"""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import dataclass
from typing import Any

from apimachinery.errors import StatusError
from apimachinery.resources import ResourceInfo
from kubectl_py import cli
from kubectl_py.builder import call, check_manifest_namespace, list_namespace, parse_targets, path_for
from kubectl_py.discovery import display_kind
from kubectl_py.errors import CliError, add_source, is_unreachable, render
from kubectl_py.manifests import load_manifests
from kubectl_py.session import Session, parse_timeout

IMMEDIATE_WARNING = ("Warning: Immediate deletion does not wait for confirmation that the running resource has "
                     "been terminated. The resource may continue to run on the cluster indefinitely.")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("delete", help="Delete resources by file names, stdin, resources and names, or by "
                                      "resources and label selector", command="delete")
    p.add_argument("resources", nargs="*", metavar="TYPE [NAME…] | TYPE/NAME…")
    cli.add_filename_flags(p, what="containing the resource to delete ")
    cli.add_selector(p)
    cli.add_all_namespaces(p)
    cli.add_dry_run(p)
    cli.add_output(p, "Output format: name")
    p.add_argument("--field-selector", default="", help="Selector on supported fields")
    p.add_argument("--all", action="store_true", help="Delete all resources of the given types in the namespace")
    p.add_argument("--cascade", default="background", help="background|foreground|orphan")
    p.add_argument("--grace-period", type=int, default=-1, help="Seconds given to the resource to terminate")
    p.add_argument("--now", action="store_true", help="Signal resources for immediate shutdown (grace period 1)")
    p.add_argument("--force", action="store_true", help="Delete immediately (with --grace-period=0)")
    p.add_argument("--wait", default="true", nargs="?", const="true", help="Wait for resources to be gone")
    p.add_argument("--timeout", default="0s", help="How long to wait for the deletion (0: a long time)")
    p.add_argument("--ignore-not-found", action="store_true", help="Treat a missing resource as success")
    p.set_defaults(handler=run_delete)


@dataclass
class Victim:
    resource: ResourceInfo
    namespace: str
    name: str
    source: str = ""


def propagation(cascade: str) -> str:
    value = cascade.lower()
    mapping = {"background": "Background", "true": "Background", "foreground": "Foreground",
               "orphan": "Orphan", "false": "Orphan"}
    if value not in mapping:
        raise CliError(f'invalid cascade value ({cascade}). Must be "background", "foreground", or "orphan".')
    return mapping[value]


def delete_options(args: argparse.Namespace) -> dict[str, Any]:
    options: dict[str, Any] = {"propagationPolicy": propagation(args.cascade)}
    grace = args.grace_period
    if args.now:
        grace = 1
    if args.force and grace < 0:
        grace = 0
    if grace >= 0:
        options["gracePeriodSeconds"] = grace
    return options


async def _victims(session: Session, args: argparse.Namespace) -> list[Victim]:
    if args.filename:
        victims = []
        for manifest in load_manifests(args.filename, args.recursive, session.streams.inp):
            obj = manifest.obj
            resource = await session.resolver.for_kind(obj.get("apiVersion", ""), obj.get("kind", ""))
            namespace = check_manifest_namespace(session, obj, resource)
            victims.append(Victim(resource, namespace, obj["metadata"]["name"], manifest.source))
        return victims
    targets = await parse_targets(session, args.resources, "delete")
    victims = []
    for target in targets:
        resource = target.resource
        if target.names:
            if args.selector or args.all:
                raise CliError("name cannot be provided when a selector is specified")
            namespace = session.namespace if resource.namespaced else ""
            victims += [Victim(resource, namespace, name) for name in target.names]
            continue
        if not (args.selector or args.all or args.field_selector):
            raise CliError("resource(s) were provided, but no name was specified")
        listing = await call(session, "GET", path_for(resource, list_namespace(session, resource)),
                             params={"labelSelector": args.selector, "fieldSelector": args.field_selector})
        for item in listing.get("items") or []:
            meta = item.get("metadata") or {}
            victims.append(Victim(resource, meta.get("namespace", ""), meta.get("name", "")))
    return victims


async def wait_gone(session: Session, victim: Victim, uid: str, timeout: float) -> bool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        try:
            current = await call(session, "GET", path_for(victim.resource, victim.namespace, victim.name))
        except StatusError as exc:
            if exc.code == 404:
                return True
            raise
        if uid and (current.get("metadata") or {}).get("uid") != uid:
            return True
        await asyncio.sleep(0.2)
    return False


async def run_delete(session: Session, args: argparse.Namespace) -> int:
    if args.all_namespaces:
        session.all_namespaces = True
    dry_run = cli.dry_run_mode(args)
    options = delete_options(args)
    if options.get("gracePeriodSeconds") == 0 and dry_run == "none":
        session.warn(IMMEDIATE_WARNING)
    if dry_run == "server":
        options["dryRun"] = ["All"]
    victims = await _victims(session, args)
    if not victims:
        if not args.filename:
            namespaced = not session.all_namespaces
            session.warn(f"No resources found in {session.namespace} namespace." if namespaced else
                         "No resources found")
        return 0
    wait = str(args.wait).lower() in ("true", "1", "t", "yes") and dry_run == "none"
    timeout = parse_timeout(args.timeout) or 7 * 24 * 3600.0
    errors: list[BaseException] = []
    deleted: list[tuple[Victim, str]] = []
    for victim in victims:
        label = f'{display_kind(victim.resource)} "{victim.name}"'
        try:
            if dry_run != "client":
                result = await call(session, "DELETE", path_for(victim.resource, victim.namespace, victim.name),
                                    body=options)
            else:
                result = {}
        except StatusError as exc:
            if is_unreachable(exc):
                raise
            if exc.code == 404 and args.ignore_not_found:
                continue
            errors.append(add_source(exc, "deleting", victim.source) if victim.source else exc)
            continue
        uid = ((result or {}).get("metadata") or {}).get("uid", "") if isinstance(result, dict) else ""
        if args.output == "name":
            session.print(f"{display_kind(victim.resource)}/{victim.name}")
        else:
            session.print(f"{label} deleted{cli.dry_run_suffix(dry_run)}")
        deleted.append((victim, uid))
    if wait:
        for victim, uid in deleted:
            if not await wait_gone(session, victim, uid, timeout):
                errors.append(CliError(f'timed out waiting for the condition on {victim.resource.plural}/'
                                       f'{victim.name}'))
    if errors:
        for err in errors[:-1]:
            session.warn(render(err, session.config.server)[0])
        raise errors[-1]
    return 0
