"""Self-reviews: the answers `kubectl auth can-i` and `kubectl auth whoami` ask the server for.

Why: kube-py has no authentication or authorization (it listens on loopback or inside test
network namespaces), which in Kubernetes terms is the anonymous user under the AlwaysAllow
authorizer. The review objects report exactly that instead of a 404: every access review
is allowed, the rules review grants `*` on everything, and the caller is
`system:anonymous` in `system:unauthenticated`. Reviews are computed, never stored.
"""

from __future__ import annotations

import copy
from typing import Any

from aiohttp import web

from apimachinery import errors
from apimachinery.resources import ResourceInfo
from apimachinery.validation import StatusCause, invalid
from apiserver.bodies import metadata_of
from apiserver.handlers import json_response, read_body

Obj = dict[str, Any]
ANONYMOUS = {"username": "system:anonymous", "groups": ["system:unauthenticated"]}
EVERYTHING_RULES = {"resourceRules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}],
                    "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}], "incomplete": False}


def review_causes(kind: str, body: Obj) -> list[StatusCause]:
    """authorization/validation: a SelfSubjectAccessReview names exactly one kind of attributes."""
    if kind != "SelfSubjectAccessReview":
        return []
    spec = body.get("spec") if isinstance(body.get("spec"), dict) else {}
    has_resource, has_non_resource = spec.get("resourceAttributes") is not None, \
        spec.get("nonResourceAttributes") is not None
    if has_resource and has_non_resource:
        return [invalid("spec.nonResourceAttributes", "{...}", "cannot be specified in combination with "
                                                              "resourceAttributes")]
    if not has_resource and not has_non_resource:
        return [invalid("spec.resourceAttributes", '"null"',
                        "exactly one of nonResourceAttributes or resourceAttributes must be specified")]
    return []


def answer(kind: str, body: Obj) -> Obj:
    reply = copy.deepcopy(body)
    reply["metadata"] = {**metadata_of(body), "creationTimestamp": None}
    if kind == "SelfSubjectAccessReview":
        reply["status"] = {"allowed": True}
    elif kind == "SelfSubjectRulesReview":
        reply["status"] = copy.deepcopy(EVERYTHING_RULES)
    else:
        reply["status"] = {"userInfo": copy.deepcopy(ANONYMOUS)}
    return reply


async def create(request: web.Request, resource: ResourceInfo) -> web.Response:
    body = await read_body(request)
    if not isinstance(body, dict):
        raise errors.bad_request("the body of the request was in an unknown format")
    kind = body.get("kind") or resource.kind
    if kind != resource.kind:
        raise errors.bad_request(f"the API version in the data ({body.get('apiVersion')}) does not match the "
                                 f"expected API version ({resource.api_version})")
    body = {**body, "apiVersion": resource.api_version, "kind": resource.kind}
    causes = review_causes(resource.kind, body)
    if causes:
        raise errors.invalid(resource.kind, "", causes, resource.group)
    return json_response(answer(resource.kind, body), status=201)
