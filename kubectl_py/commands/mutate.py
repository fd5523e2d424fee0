"""Commands that change one aspect of live objects: `scale`, `label`, `annotate`, `patch`,
`set image`. Each sends the same patch type and field manager as kubectl, so the server sees
the same requests whichever client made them."""

from __future__ import annotations

import argparse
import json
from typing import Any

import yaml

from apimachinery.errors import StatusError
from apimachinery.resources import ResourceInfo
from kubectl_py import cli
from kubectl_py.builder import call, list_namespace, parse_targets, path_for
from kubectl_py.discovery import display_kind
from kubectl_py.errors import CliError, UsageError
from kubectl_py.lastapplied import CHANGE_CAUSE
from kubectl_py.printers import parse_output, print_objects
from kubectl_py.session import Session

PATCH_TYPES = {"strategic": "application/strategic-merge-patch+json", "merge": "application/merge-patch+json",
               "json": "application/json-patch+json"}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("scale", help="Set a new size for a deployment, replica set or job", command="scale")
    p.add_argument("resources", nargs="*")
    p.add_argument("--replicas", type=int, required=True, help="The new desired number of replicas")
    p.add_argument("--current-replicas", type=int, default=-1, help="Precondition for current size")
    cli.add_selector(p)
    cli.add_filename_flags(p)
    p.add_argument("--all", action="store_true")
    cli.add_dry_run(p)
    p.set_defaults(handler=run_scale)

    for name, help_text in (("label", "Update the labels on a resource"),
                            ("annotate", "Update the annotations on a resource")):
        p = sub.add_parser(name, help=help_text, command=name)
        p.add_argument("words", nargs="*", metavar="TYPE NAME KEY=VAL… | KEY-")
        p.add_argument("--overwrite", action="store_true", help="Allow existing values to be overwritten")
        cli.add_selector(p)
        cli.add_all_namespaces(p)
        p.add_argument("--all", action="store_true")
        p.add_argument("--list", action="store_true", help="List the current values")
        cli.add_dry_run(p)
        cli.add_output(p)
        p.set_defaults(handler=run_label if name == "label" else run_annotate)

    p = sub.add_parser("patch", help="Update fields of a resource", command="patch")
    p.add_argument("resources", nargs="*")
    p.add_argument("-p", "--patch", default="", help="The patch (JSON or YAML)")
    p.add_argument("--patch-file", default="", help="A file containing the patch")
    p.add_argument("--type", default="strategic", choices=["strategic", "merge", "json"])
    p.add_argument("--subresource", default="", help="status or scale")
    cli.add_filename_flags(p)
    cli.add_dry_run(p)
    cli.add_output(p)
    p.set_defaults(handler=run_patch)

    p = sub.add_parser("set", help="Set specific features on objects", command="set")
    what = p.add_subparsers(dest="set_what", metavar="image", parser_class=cli.Parser)
    image = what.add_parser("image", help="Update the image of a pod template", command="set image")
    cli.add_global_flags(image, suppress=True)
    image.add_argument("words", nargs="+", metavar="TYPE NAME CONTAINER=IMAGE…")
    cli.add_selector(image)
    image.add_argument("--all", action="store_true")
    cli.add_dry_run(image)
    image.add_argument("--change-cause", default="", help="Record this text as kubernetes.io/change-cause")
    image.set_defaults(handler=run_set_image)


async def _each_object(session: Session, words: list[str], selector: str, all_: bool, verb: str) \
        -> list[tuple[ResourceInfo, dict[str, Any]]]:
    found: list[tuple[ResourceInfo, dict[str, Any]]] = []
    for target in await parse_targets(session, words, verb):
        resource = target.resource
        if target.names:
            for name in target.names:
                namespace = session.namespace if resource.namespaced else ""
                found.append((resource, await call(session, "GET", path_for(resource, namespace, name))))
        elif selector or all_:
            listing = await call(session, "GET", path_for(resource, list_namespace(session, resource)),
                                 params={"labelSelector": selector})
            found += [(resource, item) for item in listing.get("items") or []]
        else:
            raise CliError("resource(s) were provided, but no name was specified")
    return found


def _ns(resource: ResourceInfo, obj: dict[str, Any]) -> str:
    return (obj.get("metadata") or {}).get("namespace", "") if resource.namespaced else ""


async def run_scale(session: Session, args: argparse.Namespace) -> int:
    dry_run = cli.dry_run_mode(args)
    if args.replicas < 0:
        raise CliError("The --replicas=COUNT flag is required, and COUNT must be greater than or equal to 0")
    for resource, obj in await _each_object(session, args.resources, args.selector, args.all, "scale"):
        name = obj["metadata"]["name"]
        if args.current_replicas >= 0 and (obj.get("spec") or {}).get("replicas") != args.current_replicas:
            raise CliError(f"Expected replicas to be {args.current_replicas}, was "
                           f"{(obj.get('spec') or {}).get('replicas')}")
        params = {"dryRun": "All" if dry_run == "server" else None}
        if dry_run != "client":
            if resource.kind == "Job":
                await call(session, "PATCH", path_for(resource, _ns(resource, obj), name), params=params,
                           body={"spec": {"parallelism": args.replicas}},
                           content_type="application/merge-patch+json")
            else:
                await call(session, "PATCH", path_for(resource, _ns(resource, obj), name, "scale"), params=params,
                           body={"spec": {"replicas": args.replicas}}, content_type="application/merge-patch+json")
        session.print(f"{display_kind(resource)}/{name} scaled{cli.dry_run_suffix(dry_run)}")
    return 0


def parse_key_values(words: list[str], what: str) -> tuple[dict[str, str], list[str]]:
    """`k=v` pairs to set and `k-` keys to remove."""
    sets: dict[str, str] = {}
    removes: list[str] = []
    for word in words:
        if word.endswith("-") and "=" not in word:
            removes.append(word[:-1])
        elif "=" in word:
            key, value = word.split("=", 1)
            if not key:
                raise CliError(f"invalid {what} spec: {word}")
            sets[key] = value
        else:
            raise CliError(f"invalid {what} spec: {word}")
    overlap = set(sets) & set(removes)
    if overlap:
        raise CliError(f"can not both modify and remove the following {what}(s) in the same command: "
                       f"{', '.join(sorted(overlap))}")
    return sets, removes


def split_words(words: list[str]) -> tuple[list[str], list[str]]:
    """kubectl's label/annotate grammar: resource words first, then `k=v`/`k-` pairs."""
    resource_words: list[str] = []
    pairs: list[str] = []
    for word in words:
        if "=" in word or (word.endswith("-") and resource_words):
            pairs.append(word)
        elif pairs:
            raise UsageError(f"all resources must be specified before {('label', 'annotation')[0]} changes: {word}")
        else:
            resource_words.append(word)
    return resource_words, pairs


async def _label_like(session: Session, args: argparse.Namespace, field: str, what: str, verb: str) -> int:
    if args.all_namespaces:
        session.all_namespaces = True
    dry_run = cli.dry_run_mode(args)
    resource_words, pairs = split_words(args.words)
    sets, removes = parse_key_values(pairs, what)
    if not pairs and not args.list:
        raise UsageError(f"at least one {what} update is required", verb)
    fmt = parse_output(args.output)
    for resource, obj in await _each_object(session, resource_words, args.selector, args.all, verb):
        meta = obj.get("metadata") or {}
        current = meta.get(field) or {}
        name = meta["name"]
        if args.list:
            for key in sorted(current):
                session.print(f"{key}={current[key]}")
            continue
        if not args.overwrite:
            for key, value in sets.items():
                if key in current and current[key] != value:
                    raise CliError(f"'{key}' already has a value ({current[key]}), and --overwrite is false")
        patch_values: dict[str, Any] = {k: v for k, v in sets.items()}
        patch_values.update({k: None for k in removes if k in current})
        changed = any(current.get(k) != v for k, v in sets.items()) or any(k in current for k in removes)
        kind = display_kind(resource)
        if not changed:
            session.print(f"{kind}/{name} not {'labeled' if field == 'labels' else 'annotated'}")
            continue
        result = obj
        if dry_run != "client":
            result = await call(session, "PATCH", path_for(resource, _ns(resource, obj), name),
                                params={"fieldManager": f"kubectl-{verb}",
                                        "dryRun": "All" if dry_run == "server" else None},
                                body={"metadata": {field: patch_values}},
                                content_type="application/merge-patch+json")
        if fmt.kind:
            session.out.write(print_objects(fmt, [result], True, kind_of=lambda _o, k=kind: k))
        else:
            session.print(f"{kind}/{name} {'labeled' if field == 'labels' else 'annotated'}"
                          f"{cli.dry_run_suffix(dry_run)}")
    return 0


async def run_label(session: Session, args: argparse.Namespace) -> int:
    return await _label_like(session, args, "labels", "label", "label")


async def run_annotate(session: Session, args: argparse.Namespace) -> int:
    return await _label_like(session, args, "annotations", "annotation", "annotate")


def parse_patch(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise CliError(f"unable to parse \"{text}\": {exc}") from None


async def run_patch(session: Session, args: argparse.Namespace) -> int:
    dry_run = cli.dry_run_mode(args)
    if bool(args.patch) == bool(args.patch_file):
        raise UsageError("must specify exactly one of --patch or --patch-file containing the contents of the patch",
                         "patch")
    text = args.patch
    if args.patch_file:
        from kubectl_py.manifests import read_source

        text = read_source(args.patch_file, session.streams.inp)
    body = parse_patch(text)
    fmt = parse_output(args.output)
    if args.filename:
        from kubectl_py.commands.get import _targets

        targets = await _targets(session, args)
    else:
        targets = await parse_targets(session, args.resources, "patch")
    for target in targets:
        resource = target.resource
        if not target.names:
            raise CliError("resource(s) were provided, but no name was specified")
        for name in target.names:
            namespace = session.namespace if resource.namespaced else ""
            before = await call(session, "GET", path_for(resource, namespace, name, args.subresource))
            result = before
            if dry_run != "client":
                result = await call(session, "PATCH", path_for(resource, namespace, name, args.subresource),
                                    params={"fieldManager": "kubectl-patch",
                                            "dryRun": "All" if dry_run == "server" else None},
                                    body=body, content_type=PATCH_TYPES[args.type])
            kind = display_kind(resource)
            if fmt.kind:
                session.out.write(print_objects(fmt, [result], True, kind_of=lambda _o, k=kind: k))
                continue
            same = (before.get("metadata") or {}).get("resourceVersion") == \
                (result.get("metadata") or {}).get("resourceVersion")
            session.print(f"{kind}/{name} {'patched (no change)' if same and dry_run == 'none' else 'patched'}"
                          f"{cli.dry_run_suffix(dry_run)}")
    return 0


def _pod_spec(obj: dict[str, Any]) -> dict[str, Any] | None:
    if obj.get("kind") == "Pod" or "containers" in (obj.get("spec") or {}):
        return obj.get("spec")
    return ((obj.get("spec") or {}).get("template") or {}).get("spec")


async def run_set_image(session: Session, args: argparse.Namespace) -> int:
    dry_run = cli.dry_run_mode(args)
    resource_words = [w for w in args.words if "=" not in w]
    images = dict(w.split("=", 1) for w in args.words if "=" in w)
    if not images:
        raise UsageError("at least one image update is required", "set image")
    for resource, obj in await _each_object(session, resource_words, args.selector, args.all, "set image"):
        spec = _pod_spec(obj)
        if spec is None:
            raise CliError(f"{resource.kind} has no pod template")
        names = [c["name"] for c in spec.get("containers") or []]
        init_names = [c["name"] for c in spec.get("initContainers") or []]
        wanted = names if "*" in images else [n for n in images if n in names]
        missing = [n for n in images if n != "*" and n not in names and n not in init_names]
        name = obj["metadata"]["name"]
        if missing:
            raise CliError(f'unable to find container named "{missing[0]}"')
        containers = [{"image": images.get(n, images.get("*")), "name": n} for n in wanted]
        patch_spec: dict[str, Any] = {}
        if containers:
            patch_spec["$setElementOrder/containers"] = [{"name": n} for n in names]
            patch_spec["containers"] = containers
        inits = [{"image": images[n], "name": n} for n in init_names if n in images]
        if inits:
            patch_spec["$setElementOrder/initContainers"] = [{"name": n} for n in init_names]
            patch_spec["initContainers"] = inits
        patch: dict[str, Any] = {"spec": patch_spec} if resource.kind == "Pod" else \
            {"spec": {"template": {"spec": patch_spec}}}
        unchanged = all(c.get("image") == images.get(c["name"], images.get("*", c.get("image")))
                        for c in (spec.get("containers") or []) + (spec.get("initContainers") or []))
        if resource.kind == "Deployment" and not unchanged:
            cause = args.change_cause or f"kubectl-py set image {display_kind(resource)}/{name} " + \
                " ".join(f"{k}={v}" for k, v in images.items())
            patch["metadata"] = {"annotations": {CHANGE_CAUSE: cause}}
        if dry_run != "client" and not unchanged:
            try:
                await call(session, "PATCH", path_for(resource, _ns(resource, obj), name),
                           params={"fieldManager": "kubectl-set", "dryRun": "All" if dry_run == "server" else None},
                           body=patch, content_type="application/strategic-merge-patch+json")
            except StatusError:
                raise
        session.print(f"{display_kind(resource)}/{name} image updated{cli.dry_run_suffix(dry_run)}")
    return 0
