"""Regressions found by new users, the clients' own suites and a fuzzer, each against a real
API server on SQLite and on real etcd: storage races are 404/409 (never 500), route shapes
answer as Kubernetes' routes do, Status bodies match Kubernetes' bytes."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import aiohttp
import orjson
import pytest

from tests.fixtures.apiserver import ApiServerProcess


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def call(session: aiohttp.ClientSession, method: str, url: str,
               body: Any = None) -> tuple[int, bytes]:
    data = orjson.dumps(body) if body is not None else None
    async with session.request(method, url, data=data, headers={"Content-Type": "application/json"}) as resp:
        return resp.status, await resp.read()


@pytest.fixture
async def http(api_server: ApiServerProcess):
    async with aiohttp.ClientSession(base_url=api_server.url) as session:
        yield session


def namespace(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def pod(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}]}}


async def test_finalize_races_end_in_success_or_not_found(http: aiohttp.ClientSession,
                                                         api_server: ApiServerProcess) -> None:
    """The namespace controller's finalize racing the final removal: 200 once, then 404."""
    name = unique("fin")
    assert (await call(http, "POST", "/api/v1/namespaces", namespace(name)))[0] == 201
    assert (await call(http, "DELETE", f"/api/v1/namespaces/{name}"))[0] == 200
    finalize = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}, "spec": {"finalizers": []}}
    answers = await asyncio.gather(*(call(http, "PUT", f"/api/v1/namespaces/{name}/finalize", finalize)
                                     for _ in range(4)))
    codes = sorted(code for code, _ in answers)
    assert codes[0] == 200 and set(codes) <= {200, 404, 409}, answers
    assert (await call(http, "GET", f"/api/v1/namespaces/{name}"))[0] == 404
    code, body = await call(http, "PUT", f"/api/v1/namespaces/{name}/finalize", finalize)
    assert code == 404 and orjson.loads(body)["reason"] == "NotFound"
    assert "unhandled error" not in api_server.log_tail(400)


async def test_terminating_namespace_with_spec_finalizers_survives_updates(http: aiohttp.ClientSession) -> None:
    """Only clearing spec.finalizers removes a terminating namespace; a status write does not."""
    name = unique("keep")
    await call(http, "POST", "/api/v1/namespaces", namespace(name))
    await call(http, "DELETE", f"/api/v1/namespaces/{name}")
    code, body = await call(http, "GET", f"/api/v1/namespaces/{name}")
    current = orjson.loads(body)
    assert current["spec"]["finalizers"] == ["kubernetes"]
    current["status"]["conditions"] = [{"type": "NamespaceContentRemaining", "status": "False",
                                        "reason": "ContentRemoved", "message": "All content successfully removed"}]
    code, _ = await call(http, "PUT", f"/api/v1/namespaces/{name}/status", current)
    assert code == 200
    assert (await call(http, "GET", f"/api/v1/namespaces/{name}"))[0] == 200
    await call(http, "PUT", f"/api/v1/namespaces/{name}/finalize",
               {"metadata": {"name": name}, "spec": {"finalizers": []}})
    assert (await call(http, "GET", f"/api/v1/namespaces/{name}"))[0] == 404


@pytest.mark.parametrize("method", ["DELETE", "POST", "PUT", "PATCH"])
@pytest.mark.parametrize("path", ["/api/v1/pods", "/apis/apps/v1/deployments", "/apis/batch/v1/jobs",
                                  "/api/v1/services", "/api/v1/endpoints", "/apis/discovery.k8s.io/v1/endpointslices",
                                  "/apis/coordination.k8s.io/v1/leases", "/api/v1/events"])
async def test_all_namespaces_path_serves_only_list_and_watch(http: aiohttp.ClientSession,
                                                              method: str, path: str) -> None:
    """DELETE /api/v1/pods once deleted every pod in every namespace; Kubernetes answers 405."""
    ns = unique("keep")
    await call(http, "POST", "/api/v1/namespaces", namespace(ns))
    await call(http, "POST", f"/api/v1/namespaces/{ns}/pods", pod("survivor"))
    code, body = await call(http, method, path, {} if method != "DELETE" else None)
    assert code == 405, body
    status = orjson.loads(body)
    assert status["reason"] == "MethodNotAllowed"
    assert (await call(http, "GET", f"/api/v1/namespaces/{ns}/pods/survivor"))[0] == 200
    assert (await call(http, "GET", path))[0] == 200


async def test_object_under_all_namespaces_path_is_not_found(http: aiohttp.ClientSession) -> None:
    code, body = await call(http, "GET", "/api/v1/pods/anything")
    assert code == 404 and orjson.loads(body)["reason"] == "NotFound"


async def test_status_body_is_kubernetes_bytes(http: aiohttp.ClientSession) -> None:
    """The official client's e2e compares an AlreadyExists body exactly."""
    ns = unique("dup")
    await call(http, "POST", "/api/v1/namespaces", namespace(ns))
    code, body = await call(http, "POST", "/api/v1/namespaces", namespace(ns))
    assert code == 409
    expected = (b'{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":'
                b'"namespaces \\"' + ns.encode() + b'\\" already exists","reason":"AlreadyExists",'
                b'"details":{"name":"' + ns.encode() + b'","kind":"namespaces"},"code":409}\n')
    assert body == expected


async def raw(session: aiohttp.ClientSession, method: str, url: str, data: bytes,
              content_type: str = "application/json", **headers: str) -> tuple[int, bytes, aiohttp.ClientResponse]:
    async with session.request(method, url, data=data, headers={"Content-Type": content_type, **headers}) as resp:
        return resp.status, await resp.read(), resp


async def test_unknown_field_with_control_characters_gets_its_answer(http: aiohttp.ClientSession) -> None:
    """The raw field name once went into the Warning header: stored, then no response."""
    ns = unique("warn")
    await call(http, "POST", "/api/v1/namespaces", namespace(ns))
    body = pod("odd")
    body["spec"]["bad\nfield"] = 1
    body["spec"]["x\u0001"] = 2
    status, _, resp = await raw(http, "POST", f"/api/v1/namespaces/{ns}/pods", orjson.dumps(body))
    assert status == 201
    assert resp.headers["Warning"] == '299 - "unknown field \\"spec.bad\\nfield\\"", 299 - "unknown field \\"spec.x\\x01\\""'


@pytest.mark.parametrize("payload", [b"[" * 100_000 + b"]" * 100_000, b"- " * 100_000 + b"x",
                                     b"a:\n" + b"".join(b" " * i + b"b:\n" for i in range(1, 600))])
async def test_deep_yaml_is_a_fast_400(http: aiohttp.ClientSession, payload: bytes) -> None:
    status, body, _ = await raw(http, "POST", "/api/v1/namespaces", payload, "application/yaml")
    assert status == 400 and orjson.loads(body)["reason"] == "BadRequest"


async def test_deep_json_patch_is_a_400(http: aiohttp.ClientSession) -> None:
    ns = unique("deep")
    await call(http, "POST", "/api/v1/namespaces", namespace(ns))
    value = b'{"a":' * 990 + b"1" + b"}" * 990
    patch = b'[{"op":"add","path":"/metadata/annotations","value":' + value + b"}]"
    status, body, _ = await raw(http, "PATCH", f"/api/v1/namespaces/{ns}", patch, "application/json-patch+json")
    assert status == 400, body


async def test_negative_limit_lists_everything(http: aiohttp.ClientSession) -> None:
    ns = unique("lim")
    await call(http, "POST", "/api/v1/namespaces", namespace(ns))
    for name in ("a", "b"):
        await call(http, "POST", f"/api/v1/namespaces/{ns}/pods", pod(name))
    code, body = await call(http, "GET", f"/api/v1/namespaces/{ns}/pods?limit=-1")
    listed = orjson.loads(body)
    assert code == 200 and [p["metadata"]["name"] for p in listed["items"]] == ["a", "b"]
    assert "continue" not in listed["metadata"]


@pytest.mark.parametrize("metadata", [None, "x", 1, ["a"]])
@pytest.mark.parametrize("verb", ["create", "update", "merge", "strategic", "apply"])
async def test_malformed_metadata_is_a_client_error(http: aiohttp.ClientSession, verb: str, metadata: Any) -> None:
    ns = unique("meta")
    await call(http, "POST", "/api/v1/namespaces", namespace(ns))
    await call(http, "POST", f"/api/v1/namespaces/{ns}/pods", pod("p"))
    body = orjson.dumps({"apiVersion": "v1", "kind": "Pod", "metadata": metadata,
                         "spec": {"containers": [{"name": "c", "image": "busybox"}]}})
    url, method, content_type = {
        "create": (f"/api/v1/namespaces/{ns}/pods", "POST", "application/json"),
        "update": (f"/api/v1/namespaces/{ns}/pods/p", "PUT", "application/json"),
        "merge": (f"/api/v1/namespaces/{ns}/pods/p", "PATCH", "application/merge-patch+json"),
        "strategic": (f"/api/v1/namespaces/{ns}/pods/p", "PATCH", "application/strategic-merge-patch+json"),
        "apply": (f"/api/v1/namespaces/{ns}/pods/p?fieldManager=t", "PATCH", "application/apply-patch+yaml"),
    }[verb]
    status, answer, _ = await raw(http, method, url, body, content_type)
    if verb in ("merge", "strategic", "apply") and metadata is None:
        # A null in a merge patch deletes the field; name and namespace come from the URL.
        assert status in (200, 422), answer
    else:
        assert 400 <= status < 500, answer
    assert orjson.loads(answer)["kind"] in ("Status", "Pod")


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
async def test_invalid_compressed_body_is_a_400(http: aiohttp.ClientSession, encoding: str) -> None:
    status, body, _ = await raw(http, "POST", "/api/v1/namespaces", b"\x1f\x8b\x08\x00garbage",
                                **{"Content-Encoding": encoding})
    assert status == 400 and orjson.loads(body)["reason"] == "BadRequest"


@pytest.mark.parametrize("content_type, doc", [
    ("application/yaml", b'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: "a\\uD800"\n'),
    ("application/yaml", b'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: s\n  annotations:\n    a: "x\\uD800"\n'),
    ("application/json", b'{"metadata": {"name": "s", "annotations": {"a": "x\\ud800"}}}')])
async def test_lone_surrogates_are_a_client_error(http: aiohttp.ClientSession, content_type: str,
                                                  doc: bytes) -> None:
    """Once a plain-text 500: the Status itself could not be encoded."""
    status, body, _ = await raw(http, "POST", "/api/v1/namespaces", doc, content_type)
    assert status in (400, 422) and orjson.loads(body)["kind"] == "Status", body


def test_status_encoding_survives_lone_surrogates() -> None:
    from apimachinery import errors
    from apiserver.handlers import encode_json

    status = errors.bad_request("bad name \ud800").to_status()
    assert orjson.loads(encode_json(status))["message"] == "bad name \ufffd"


@pytest.mark.parametrize("rv", ["v1", "0", "-1", "1.5"])
async def test_create_ignores_a_resource_version_that_is_not_a_revision(http: aiohttp.ClientSession,
                                                                        rv: str) -> None:
    name = unique("rv")
    body = namespace(name)
    body["metadata"]["resourceVersion"] = rv
    code, answer = await call(http, "POST", "/api/v1/namespaces", body)
    assert code == 201, answer
    assert orjson.loads(answer)["metadata"]["resourceVersion"] not in ("", rv)


async def test_create_refuses_a_numeric_resource_version(http: aiohttp.ClientSession) -> None:
    body = namespace(unique("rv"))
    body["metadata"]["resourceVersion"] = "12"
    code, answer = await call(http, "POST", "/api/v1/namespaces", body)
    assert code == 500 and orjson.loads(answer)["message"] == \
        "resourceVersion should not be set on objects to be created"


@pytest.mark.parametrize("kind_path, returns_object", [
    ("/api/v1/namespaces/{ns}/pods/x", True), ("/api/v1/namespaces/{ns}/services/x", True),
    ("/api/v1/namespaces/{ns}/endpoints/x", False), ("/apis/apps/v1/namespaces/{ns}/deployments/x", False)])
async def test_delete_answers_as_the_kind_registry_does(http: aiohttp.ClientSession, kind_path: str,
                                                       returns_object: bool) -> None:
    ns = unique("del")
    await call(http, "POST", "/api/v1/namespaces", namespace(ns))
    path = kind_path.format(ns=ns)
    collection, _ = path.rsplit("/", 1)
    seeds = {"pods": pod("x"),
             "services": {"metadata": {"name": "x"}, "spec": {"ports": [{"port": 80}]}},
             "endpoints": {"metadata": {"name": "x"}},
             "deployments": {"metadata": {"name": "x"}, "spec": {
                 "selector": {"matchLabels": {"a": "b"}},
                 "template": {"metadata": {"labels": {"a": "b"}},
                              "spec": {"containers": [{"name": "c", "image": "i"}]}}}}}
    code, created = await call(http, "POST", collection, seeds[collection.rsplit("/", 1)[1]])
    assert code == 201, created
    code, body = await call(http, "DELETE", path)
    answer = orjson.loads(body)
    assert code == 200
    if returns_object:
        assert answer["kind"] != "Status" and answer["metadata"]["name"] == "x"
    else:
        assert answer["kind"] == "Status" and answer["status"] == "Success"
        assert ("group" in answer["details"]) == path.startswith("/apis/")


@pytest.mark.parametrize("edit, field", [
    (lambda p: p["metadata"].update(name="web\n"), "metadata.name"),
    (lambda p: p["metadata"].update(labels={"app": "x\n"}), "metadata.labels"),
    (lambda p: p["metadata"].update(labels={"app\n": "x"}), "metadata.labels"),
    (lambda p: p["spec"]["containers"][0].update(resources={"requests": {"cpu": "2 "}}),
     "spec.containers[0].resources.requests[cpu]"),
    (lambda p: p["spec"]["containers"][0].update(resources={"requests": {"memory": "12Gi "}}),
     "spec.containers[0].resources.requests[memory]"),
])
async def test_trailing_newlines_and_spaces_are_invalid(http: aiohttp.ClientSession, edit: Any, field: str) -> None:
    ns = unique("val")
    await call(http, "POST", "/api/v1/namespaces", namespace(ns))
    body = pod("web")
    edit(body)
    code, answer = await call(http, "POST", f"/api/v1/namespaces/{ns}/pods", body)
    status = orjson.loads(answer)
    assert code == 422 and status["reason"] == "Invalid", answer
    assert any(c["field"].startswith(field) for c in status["details"]["causes"]), answer


async def test_quantities_are_stored_canonical(http: aiohttp.ClientSession) -> None:
    ns = unique("qty")
    await call(http, "POST", "/api/v1/namespaces", namespace(ns))
    body = pod("q")
    body["spec"]["containers"][0]["resources"] = {"requests": {"cpu": "0.5", "memory": "1024Mi"},
                                                  "limits": {"cpu": 2, "memory": "2048Mi"}}
    code, answer = await call(http, "POST", f"/api/v1/namespaces/{ns}/pods", body)
    assert code == 201, answer
    resources = orjson.loads(answer)["spec"]["containers"][0]["resources"]
    assert resources == {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"cpu": "2", "memory": "2Gi"}}


async def test_defaulted_status_shapes(http: aiohttp.ClientSession) -> None:
    ns = unique("st")
    await call(http, "POST", "/api/v1/namespaces", namespace(ns))
    code, svc = await call(http, "POST", f"/api/v1/namespaces/{ns}/services",
                           {"metadata": {"name": "s"}, "spec": {"ports": [{"port": 80}]}})
    assert code == 201 and orjson.loads(svc)["status"] == {"loadBalancer": {}}
    template = {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}
    code, rs = await call(http, "POST", f"/apis/apps/v1/namespaces/{ns}/replicasets",
                          {"metadata": {"name": "r"}, "spec": {"selector": {"matchLabels": {"a": "b"}},
                                                                "template": template}})
    assert code == 201 and orjson.loads(rs)["status"] == {"replicas": 0}
    code, deploy = await call(http, "POST", f"/apis/apps/v1/namespaces/{ns}/deployments",
                              {"metadata": {"name": "d"}, "spec": {"selector": {"matchLabels": {"a": "b"}},
                                                                    "template": template}})
    assert code == 201 and orjson.loads(deploy)["status"] == {}
    code, job = await call(http, "POST", f"/apis/batch/v1/namespaces/{ns}/jobs",
                           {"metadata": {"name": "j"}, "spec": {"template": {
                               "spec": {**template["spec"], "restartPolicy": "Never"}}}})
    assert code == 201 and orjson.loads(job)["status"] == {}
    code, created = await call(http, "POST", f"/api/v1/namespaces/{ns}/pods", pod("p"))
    assert orjson.loads(created)["status"] == {"phase": "Pending", "qosClass": "BestEffort"}


async def test_empty_metadata_lists_are_not_stored(http: aiohttp.ClientSession) -> None:
    ns = unique("omit")
    await call(http, "POST", "/api/v1/namespaces", namespace(ns))
    body = pod("p")
    body["metadata"].update(ownerReferences=[], finalizers=[], annotations={}, labels={})
    code, answer = await call(http, "POST", f"/api/v1/namespaces/{ns}/pods", body)
    meta = orjson.loads(answer)["metadata"]
    assert code == 201 and not {"ownerReferences", "finalizers", "annotations", "labels"} & set(meta)


async def test_watch_list_ends_initial_events_with_a_bookmark(http: aiohttp.ClientSession) -> None:
    ns = unique("wl")
    await call(http, "POST", "/api/v1/namespaces", namespace(ns))
    for name in ("a", "b"):
        await call(http, "POST", f"/api/v1/namespaces/{ns}/pods", pod(name))
    query = "watch=1&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan"
    events: list[dict[str, Any]] = []
    async with http.get(f"/api/v1/namespaces/{ns}/pods?{query}&timeoutSeconds=5") as resp:
        assert resp.status == 200
        async for line in resp.content:
            events.append(orjson.loads(line))
            if events[-1]["type"] == "BOOKMARK":
                break
    assert [e["type"] for e in events] == ["ADDED", "ADDED", "BOOKMARK"]
    assert events[-1]["object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}


@pytest.mark.parametrize("query, field", [
    ("sendInitialEvents=true&allowWatchBookmarks=true", "resourceVersionMatch"),
    ("sendInitialEvents=true&resourceVersionMatch=NotOlderThan", "allowWatchBookmarks"),
    ("resourceVersionMatch=NotOlderThan", "resourceVersionMatch"),
])
async def test_watch_list_options_are_validated(http: aiohttp.ClientSession, query: str, field: str) -> None:
    code, body = await call(http, "GET", f"/api/v1/pods?watch=1&{query}")
    status = orjson.loads(body)
    assert code == 422 and status["details"]["causes"][0]["field"] == field, body
