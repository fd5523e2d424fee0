"""The minimal OpenAPI v3 documents kubectl's default validation needs (kubectl-wire §4.1),
and an OpenAPI v2 document without definitions for what kubectl still reads from v2 (it
validates a `kind: List` file against v2 and skips kinds the document does not define).

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


# Asked for as `...spec.v2@v1.0+protobuf`; answered, as kube-openapi does, with a type Go's mime parser reads.
OPENAPI_V2_PROTOBUF = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
OPENAPI_INFO = {"title": "Kubernetes", "version": "v1.32.0"}


def openapi_v2_document() -> Obj:
    return {"swagger": "2.0", "info": dict(OPENAPI_INFO), "paths": {}, "definitions": {}}


def _length_delimited(field_number: int, payload: bytes) -> bytes:
    header, length = bytearray([field_number << 3 | 2]), len(payload)
    while length >= 0x80:
        header.append(length & 0x7F | 0x80)
        length >>= 7
    header.append(length)
    return bytes(header) + payload


def openapi_v2_protobuf() -> bytes:
    """The same document as gnostic's openapi_v2.Document (swagger = 1, info = 2 with
    title = 1 and version = 2, paths = 8), which is what client-go's OpenAPISchema() parses."""
    info = _length_delimited(1, OPENAPI_INFO["title"].encode()) + _length_delimited(2, OPENAPI_INFO["version"].encode())
    return _length_delimited(1, b"2.0") + _length_delimited(2, info) + _length_delimited(8, b"")
