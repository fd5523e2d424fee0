"""`kubectl-py auth can-i` and `auth whoami`: kubectl's self-review commands.

Both ask the server (SelfSubjectAccessReview / SelfSubjectRulesReview / SelfSubjectReview)
and print what kubectl prints: `yes` or `no` (exit 1 on no), the rules table of `--list`,
the ATTRIBUTE/VALUE table of whoami.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from kubectl_py import cli
from kubectl_py.builder import call
from kubectl_py.errors import CliError
from kubectl_py.printers import new_table_writer, render_lines, to_yaml
from kubectl_py.session import Session

AUTHZ = "/apis/authorization.k8s.io/v1"
USAGE = ("you must specify two arguments: verb resource or verb resource/resourceName.\n"
         "See 'kubectl auth can-i -h' for help and examples.")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("auth", help="Inspect authorization", command="auth")
    verbs = p.add_subparsers(dest="auth_verb", metavar="VERB", parser_class=cli.Parser)
    can = verbs.add_parser("can-i", help="Check whether an action is allowed", command="auth can-i")
    cli.add_global_flags(can, suppress=True)
    can.add_argument("args", nargs="*", metavar="VERB [TYPE | TYPE/NAME | NONRESOURCEURL]")
    cli.add_all_namespaces(can)
    can.add_argument("--list", action="store_true", help="List all allowed actions")
    can.add_argument("-q", "--quiet", action="store_true", help="No output; the exit code says it")
    can.add_argument("--subresource", default="", help="SubResource such as pod/log or deployment/scale")
    can.set_defaults(handler=run_can_i)
    who = verbs.add_parser("whoami", help="Experimental: Check self subject attributes", command="auth whoami")
    cli.add_global_flags(who, suppress=True)
    cli.add_output(who, "json|yaml")
    who.set_defaults(handler=run_whoami)


async def _resource_attributes(session: Session, args: argparse.Namespace) -> dict[str, Any]:
    verb, target = args.args
    if target.startswith("/"):
        return {"nonResourceAttributes": {"verb": verb, "path": target}}
    kind, _, name = target.partition("/")
    attributes: dict[str, Any] = {"namespace": "" if args.all_namespaces else session.namespace, "verb": verb}
    if kind == "*":
        attributes["resource"] = "*"
    else:
        try:
            resource = await session.resolver.resolve(kind)
        except CliError:
            session.warn(f"Warning: the server doesn't have a resource type '{kind}'\n")
            attributes["resource"] = kind
        else:
            attributes.update(group=resource.group, resource=resource.plural)
            if not resource.namespaced and not args.all_namespaces:
                session.warn(f"Warning: resource '{resource.plural}' is not namespace scoped\n")
    if args.subresource:
        attributes["subresource"] = args.subresource
    if name:
        attributes["name"] = name
    return {"resourceAttributes": {k: v for k, v in attributes.items() if v}}


async def run_can_i(session: Session, args: argparse.Namespace) -> int:
    if args.list:
        return await _list(session, args)
    if len(args.args) != 2:
        raise CliError(USAGE)
    review = {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
              "spec": await _resource_attributes(session, args)}
    answer = await call(session, "POST", f"{AUTHZ}/selfsubjectaccessreviews", body=review)
    allowed = bool((answer.get("status") or {}).get("allowed"))
    if not args.quiet:
        session.print("yes" if allowed else "no")
    return 0 if allowed else 1


def _go_order_json(answer: dict[str, Any], user: dict[str, Any]) -> str:
    """kubectl prints the typed object: fields in Go struct order, not sorted."""
    info = {k: user[k] for k in ("username", "uid", "groups", "extra") if user.get(k)}
    ordered = {"kind": answer.get("kind"), "apiVersion": answer.get("apiVersion"),
               "metadata": answer.get("metadata") or {"creationTimestamp": None}, "status": {"userInfo": info}}
    return json.dumps(ordered, indent=4) + "\n"


def _bracket(values: list[str] | None) -> str:
    return "[" + " ".join(values or []) + "]"


async def _list(session: Session, args: argparse.Namespace) -> int:
    review = {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectRulesReview",
              "spec": {"namespace": "" if args.all_namespaces else session.namespace}}
    status = (await call(session, "POST", f"{AUTHZ}/selfsubjectrulesreviews", body=review)).get("status") or {}
    lines = [["Resources", "Non-Resource URLs", "Resource Names", "Verbs"]]
    for rule in status.get("resourceRules") or []:
        resources = [f"{r}.{g}" if g else r for g in rule.get("apiGroups") or [""] for r in rule.get("resources") or []]
        lines.append([",".join(resources), "[]", _bracket(rule.get("resourceNames")), _bracket(rule.get("verbs"))])
    for rule in status.get("nonResourceRules") or []:
        lines.append(["", _bracket(rule.get("nonResourceURLs")), "[]", _bracket(rule.get("verbs"))])
    session.out.write(render_lines(new_table_writer(), lines))
    return 0


async def run_whoami(session: Session, args: argparse.Namespace) -> int:
    review = {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}
    answer = await call(session, "POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", body=review)
    user = (answer.get("status") or {}).get("userInfo") or {}
    if args.output in ("json", "yaml"):
        session.out.write(_go_order_json(answer, user) if args.output == "json" else to_yaml(answer))
        return 0
    lines = [["ATTRIBUTE", "VALUE"], ["Username", user.get("username", "")]]
    if user.get("uid"):
        lines.append(["UID", user["uid"]])
    if user.get("groups"):
        lines.append(["Groups", _bracket(user["groups"])])
    for key, values in sorted((user.get("extra") or {}).items()):
        lines.append([f"Extra: {key}", _bracket(values)])
    session.out.write(render_lines(new_table_writer(), lines))
    return 0
