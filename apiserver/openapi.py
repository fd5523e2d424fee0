"""The minimal OpenAPI v3 documents kubectl's default validation needs (kubectl-wire §4.1).

kubectl apply/create/replace look for a PATCH operation tagged with the object's
group-version-kind that declares a `fieldValidation` query parameter; finding it, they
leave validation to the server (`fieldValidation=Strict`). No component schemas are
published on purpose: partial schemas would make kubectl build wrong strategic merge
patches, while none makes it use its compiled-in merge keys, which are right.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from apiserver.resources import RESOURCES, group_versions

Obj = dict[str, Any]


def _path(group: str, version: str) -> str:
    return f"apis/{group}/{version}" if group else f"api/{version}"


def openapi_v3_document(group: str, version: str) -> Obj:
    paths: Obj = {}
    for r in RESOURCES:
        if (r.group, r.version) != (group, version) or not r.stored:
            continue
        scope = "/namespaces/{namespace}" if r.namespaced else ""
        paths[f"{r.base_path()}{scope}/{r.plural}/{{name}}"] = {"patch": {
            "x-kubernetes-group-version-kind": {"group": group, "version": version, "kind": r.kind},
            "parameters": [{"name": "fieldValidation", "in": "query", "schema": {"type": "string"}},
                           {"name": "dryRun", "in": "query", "schema": {"type": "string"}}],
            "requestBody": {"content": {"application/strategic-merge-patch+json": {},
                                        "application/merge-patch+json": {}, "application/json-patch+json": {}}},
            "responses": {"200": {"description": "OK"}}}}
    return {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": "v1.32.0"}, "paths": paths,
            "components": {"schemas": {}}}


def openapi_v3_hash(group: str, version: str) -> str:
    raw = json.dumps(openapi_v3_document(group, version), sort_keys=True).encode()
    return hashlib.sha512(raw).hexdigest()[:64].upper()


def openapi_v3_root() -> Obj:
    return {"paths": {_path(g, v): {"serverRelativeURL": f"/openapi/v3/{_path(g, v)}?hash={openapi_v3_hash(g, v)}"}
                      for g, v in group_versions()}}
