"""`rollout status|history|undo|pause|resume|restart` for Deployments.

Messages, patches and requests are kubectl's (polymorphichelpers/{rollout_status,history,
rollback}.go); the computations live in kubectl_py/deployutil.py. `history --diff=A..B` is the
one addition: a unified diff of two revisions' pod templates.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from apimachinery.errors import StatusError
from apimachinery.resources import ResourceInfo
from kubectl_py import cli
from kubectl_py.builder import Target, call, parse_targets, path_for
from kubectl_py.deployutil import (
    RolloutError,
    history,
    history_diff,
    history_revision,
    history_table,
    owned_replicasets,
    rollback_patch,
    rollback_target,
    rollout_status,
)
from kubectl_py.describers import format_selector, pod_template_text
from kubectl_py.discovery import display_kind
from kubectl_py.errors import CliError
from kubectl_py.session import Session, parse_timeout
from kubectl_py.timeutil import now_utc, rfc3339


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("rollout", help="Manage the rollout of a resource", command="rollout")
    verbs = p.add_subparsers(dest="rollout_verb", metavar="VERB", parser_class=cli.Parser)

    def verb(name: str, help_text: str, handler: Any) -> argparse.ArgumentParser:
        child = verbs.add_parser(name, help=help_text, command=f"rollout {name}")
        cli.add_global_flags(child, suppress=True)
        child.add_argument("resources", nargs="*", metavar="TYPE NAME | TYPE/NAME")
        cli.add_filename_flags(child)
        cli.add_selector(child)
        child.set_defaults(handler=handler)
        return child

    s = verb("status", "Show the status of the rollout", run_status)
    s.add_argument("-w", "--watch", default="true", nargs="?", const="true", help="Watch until the rollout ends")
    s.add_argument("--revision", type=int, default=0, help="Pin to a specific revision")
    s.add_argument("--timeout", default="0s", help="How long to wait (0: forever)")
    h = verb("history", "View rollout history", run_history)
    h.add_argument("--revision", type=int, default=0, help="See the details of this revision")
    h.add_argument("--diff", default="", help="Show a unified diff of two revisions' templates, e.g. --diff=1..3")
    cli.add_output(h)
    u = verb("undo", "Undo a previous rollout", run_undo)
    u.add_argument("--to-revision", type=int, default=0, help="The revision to roll back to (0: the previous one)")
    cli.add_dry_run(u)
    for name, text, handler in (("pause", "Mark the provided resource as paused", run_pause),
                                ("resume", "Resume a paused resource", run_resume),
                                ("restart", "Restart a resource", run_restart)):
        child = verb(name, text, handler)
        cli.add_dry_run(child)


async def _deployments(session: Session, args: argparse.Namespace) -> list[tuple[ResourceInfo, str]]:
    targets: list[Target]
    if args.filename:
        from kubectl_py.manifests import load_manifests

        targets = []
        for manifest in load_manifests(args.filename, args.recursive, session.streams.inp):
            resource = await session.resolver.for_kind(manifest.obj.get("apiVersion", ""),
                                                        manifest.obj.get("kind", ""))
            targets.append(Target(resource, [manifest.obj["metadata"]["name"]]))
    else:
        targets = await parse_targets(session, args.resources, "get")
    found: list[tuple[ResourceInfo, str]] = []
    for target in targets:
        if target.resource.kind != "Deployment":
            raise CliError(f"no {args.rollout_verb} support for {target.resource.kind} yet: kube-py rolls out "
                           "Deployments")
        names = target.names
        if not names:
            if not args.selector:
                raise CliError("required resource not specified")
            listing = await call(session, "GET", path_for(target.resource, session.namespace),
                                 params={"labelSelector": args.selector})
            names = [item["metadata"]["name"] for item in listing.get("items") or []]
        found += [(target.resource, name) for name in names]
    if not found:
        raise CliError("required resource not specified")
    return found


async def _get(session: Session, resource: ResourceInfo, name: str) -> dict[str, Any]:
    return await call(session, "GET", path_for(resource, session.namespace, name))


async def _owned(session: Session, deployment: dict[str, Any]) -> list[dict[str, Any]]:
    rs_resource = await session.resolver.resolve("replicasets.apps")
    selector = format_selector((deployment.get("spec") or {}).get("selector"))
    listing = await call(session, "GET", path_for(rs_resource, deployment["metadata"]["namespace"]),
                         params={"labelSelector": "" if selector == "<none>" else selector})
    return owned_replicasets(deployment, listing.get("items") or [])


async def run_history(session: Session, args: argparse.Namespace) -> int:
    for resource, name in await _deployments(session, args):
        deployment = await _get(session, resource, name)
        entries = history(await _owned(session, deployment))
        kind = display_kind(resource)
        try:
            if args.diff:
                a, sep, b = args.diff.partition("..")
                if not sep:
                    raise CliError("--diff takes two revisions, e.g. --diff=1..3")
                try:
                    text = history_diff(entries, int(a), int(b))
                except ValueError:
                    raise CliError(f"invalid revisions in --diff={args.diff}") from None
                session.out.write(text or f"revisions {a} and {b} have identical pod templates\n")
                continue
            if args.revision > 0:
                body = history_revision(entries, args.revision)
                session.out.write(f"{kind}/{name} with revision #{args.revision}\n{body}\n")
            else:
                session.out.write(f"{kind}/{name} \n{history_table(entries)}\n")
        except RolloutError as exc:
            raise CliError(str(exc)) from None
    session.out.flush()
    return 0


async def run_undo(session: Session, args: argparse.Namespace) -> int:
    dry_run = cli.dry_run_mode(args)
    for resource, name in await _deployments(session, args):
        deployment = await _get(session, resource, name)
        owned = await _owned(session, deployment)
        try:
            target = rollback_target(deployment, owned, args.to_revision)
        except RolloutError as exc:
            raise CliError(str(exc)) from None
        kind = display_kind(resource)
        if dry_run == "client":
            session.out.write(f"{kind}/{name} Pod Template:\n" +
                              pod_template_text((target.get("spec") or {}).get("template")).split("\n", 1)[1] + "\n")
            continue
        if (deployment.get("spec") or {}).get("paused"):
            raise CliError("you cannot rollback a paused deployment; resume it first with 'kubectl rollout resume' "
                           "and try again")
        from kubectl_py.deployutil import equal_ignore_hash

        if equal_ignore_hash((target.get("spec") or {}).get("template") or {},
                             (deployment.get("spec") or {}).get("template") or {}):
            session.print(f"{kind}/{name} skipped rollback (current template already matches revision "
                          f"{args.to_revision})")
            continue
        try:
            await call(session, "PATCH", path_for(resource, session.namespace, name),
                       params={"dryRun": "All" if dry_run == "server" else None},
                       body=rollback_patch(deployment, target), content_type="application/json-patch+json")
        except StatusError as exc:
            raise CliError(f"failed restoring revision {args.to_revision}: {exc.message}") from None
        session.print(f"{kind}/{name} rolled back{cli.dry_run_suffix(dry_run)}")
    return 0


async def _toggle_pause(session: Session, args: argparse.Namespace, paused: bool) -> int:
    dry_run = cli.dry_run_mode(args)
    errors: list[str] = []
    for resource, name in await _deployments(session, args):
        deployment = await _get(session, resource, name)
        kind = display_kind(resource)
        if bool((deployment.get("spec") or {}).get("paused")) == paused:
            errors.append(f'{resource.group}/{resource.version}, Resource={resource.plural} "{name}" '
                          + ("is already paused" if paused else "is not paused"))
            continue
        if dry_run != "client":
            await call(session, "PATCH", path_for(resource, session.namespace, name),
                       params={"fieldManager": "kubectl-rollout", "dryRun": "All" if dry_run == "server" else None},
                       body={"spec": {"paused": paused}}, content_type="application/strategic-merge-patch+json")
        session.print(f"{kind}/{name} {'paused' if paused else 'resumed'}{cli.dry_run_suffix(dry_run)}")
    if errors:
        raise CliError("\n".join(errors))
    return 0


async def run_pause(session: Session, args: argparse.Namespace) -> int:
    return await _toggle_pause(session, args, True)


async def run_resume(session: Session, args: argparse.Namespace) -> int:
    return await _toggle_pause(session, args, False)


async def run_restart(session: Session, args: argparse.Namespace) -> int:
    dry_run = cli.dry_run_mode(args)
    for resource, name in await _deployments(session, args):
        deployment = await _get(session, resource, name)
        if (deployment.get("spec") or {}).get("paused"):
            raise CliError(f'{resource.plural}.{resource.group} "{name}" can\'t restart paused deployment (run '
                           "rollout resume first)")
        patch = {"spec": {"template": {"metadata": {"annotations": {
            "kubectl.kubernetes.io/restartedAt": rfc3339(now_utc())}}}}}
        if dry_run != "client":
            await call(session, "PATCH", path_for(resource, session.namespace, name),
                       params={"fieldManager": "kubectl-rollout", "dryRun": "All" if dry_run == "server" else None},
                       body=patch, content_type="application/strategic-merge-patch+json")
        session.print(f"{display_kind(resource)}/{name} restarted{cli.dry_run_suffix(dry_run)}")
    return 0


async def run_status(session: Session, args: argparse.Namespace) -> int:
    targets = await _deployments(session, args)
    watch = str(args.watch).lower() in ("true", "1", "t")
    timeout = parse_timeout(args.timeout)
    for resource, name in targets:
        try:
            if timeout:
                await asyncio.wait_for(_status_one(session, resource, name, args.revision, watch), timeout)
            else:
                await _status_one(session, resource, name, args.revision, watch)
        except TimeoutError:
            raise CliError("timed out waiting for the condition") from None
        except RolloutError as exc:
            raise CliError(str(exc)) from None
    return 0


async def _status_one(session: Session, resource: ResourceInfo, name: str, revision: int, watch: bool) -> None:
    """List, then watch from the list's resourceVersion, printing the status on every change."""
    path = path_for(resource, session.namespace)
    selector = f"metadata.name={name}"
    while True:
        listing = await call(session, "GET", path, params={"fieldSelector": selector, "resourceVersion": "0"})
        items = listing.get("items") or []
        if not items:
            raise StatusError(404, "NotFound", f'{resource.plural}.{resource.group} "{name}" not found')
        state = rollout_status(items[0], revision)
        session.print(state.message)
        if state.done or not watch:
            return
        rv = (listing.get("metadata") or {}).get("resourceVersion", "")
        try:
            async for event in session.api.watch_path(path, {"fieldSelector": selector, "resourceVersion": rv,
                                                            "allowWatchBookmarks": "true"}):
                kind = event.get("type")
                if kind == "DELETED":
                    raise CliError("object has been deleted")
                if kind not in ("ADDED", "MODIFIED"):
                    continue
                state = rollout_status(event.get("object") or {}, revision)
                session.print(state.message)
                if state.done:
                    return
        except StatusError as exc:
            if exc.code != 410:
                raise
        # the server ended the watch or the RV expired: relist and continue, like a reflector
