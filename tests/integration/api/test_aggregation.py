"""The aggregation layer against a real API server: local APIServices, validation, and a real
HTTPS aggregated server reached through an APIService (discovery, the proxy hop with the
caller's identity and never its credentials, the Available condition and its reasons)."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.fixtures.apiserver import ApiServerProcess
from tests.fixtures.extension_apiserver import GROUP, VERSION, ExtensionServer
from tests.fixtures.pki import make_pki

APISERVICES = "/apis/apiregistration.k8s.io/v1/apiservices"


async def call(server: ApiServerProcess, method: str, path: str, body: Any = None,
               headers: dict[str, str] | None = None) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as session, session.request(
            method, server.url + path, json=body, headers=headers or {}) as response:
        text = await response.text()
        try:
            return response.status, json.loads(text)
        except ValueError:
            return response.status, text


def apiservice(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService", "metadata": {"name": name},
            "spec": spec}


async def wait_condition(server: ApiServerProcess, name: str, reason: str) -> dict[str, Any]:
    last: Any = None
    for _ in range(400):
        _, last = await call(server, "GET", f"{APISERVICES}/{name}")
        for cond in (last.get("status") or {}).get("conditions") or []:
            if cond["type"] == "Available" and cond.get("reason") == reason:
                return cond
        await asyncio.sleep(0.05)
    raise AssertionError(f"{name} never became {reason}: {last}")


@pytest.fixture
async def extension(tmp_path: Path) -> AsyncIterator[tuple[ExtensionServer, str]]:
    pki = make_pki(tmp_path / "pki", dns_names=("api.wardle.svc",))
    server = ExtensionServer(pki.server_cert, pki.server_key)
    await server.start()
    try:
        yield server, base64.b64encode(pki.ca_cert.read_bytes()).decode()
    finally:
        await server.stop()


async def test_local_apiservices_are_registered_and_printed(api_server: ApiServerProcess, kubectl: Any) -> None:
    out = await asyncio.to_thread(kubectl.ok, "get", "apiservices")
    lines = out.splitlines()
    assert lines[0].split() == ["NAME", "SERVICE", "AVAILABLE", "AGE"]
    rows = {line.split()[0]: line.split()[1:3] for line in lines[1:]}
    assert rows["v1."] == ["Local", "True"] and rows["v1.apps"] == ["Local", "True"]
    assert "v1.apiregistration.k8s.io" not in rows  # the aggregator's own group has none
    status, apps = await call(api_server, "GET", f"{APISERVICES}/v1.apps")
    assert status == 200
    assert apps["metadata"]["labels"] == {"kube-aggregator.kubernetes.io/automanaged": "onstart"}
    assert apps["spec"] == {"group": "apps", "version": "v1", "groupPriorityMinimum": 17800, "versionPriority": 15}
    _, groups = await call(api_server, "GET", "/apis")
    names = [g["name"] for g in groups["groups"]]
    assert names[:3] == ["apiregistration.k8s.io", "apps", "authentication.k8s.io"]


async def test_validation_names_the_field(api_server: ApiServerProcess) -> None:
    status, body = await call(api_server, "POST", APISERVICES, apiservice(
        "wrong.name", {"group": "wardle.example.com", "version": "v1alpha1", "groupPriorityMinimum": 0,
                       "versionPriority": 15, "service": {"namespace": "wardle"}}))
    assert status == 422, body
    causes = {c["field"]: c["message"] for c in body["details"]["causes"]}
    assert causes["metadata.name"] == 'Invalid value: "wrong.name": must be `spec.version+"."+spec.group`: ' \
                                      '"v1alpha1.wardle.example.com"'
    assert causes["spec.groupPriorityMinimum"] == "Invalid value: 0: must be positive and less than 20000"
    assert causes["spec.service.name"] == "Required value"
    status, _ = await call(api_server, "GET", f"{APISERVICES}/wrong.name")
    assert status == 404


async def test_an_aggregated_server_is_discovered_proxied_and_probed(
        api_server: ApiServerProcess, kubectl: Any, extension: tuple[ExtensionServer, str]) -> None:
    backend, ca_bundle = extension
    await call(api_server, "POST", "/api/v1/namespaces", {"metadata": {"name": "wardle"}})
    service = {"metadata": {"name": "api", "namespace": "wardle"},
               "spec": {"type": "ExternalName", "externalName": "localhost"}}
    status, body = await call(api_server, "POST", "/api/v1/namespaces/wardle/services", service)
    assert status == 201, body
    name = f"{VERSION}.{GROUP}"
    status, created = await call(api_server, "POST", APISERVICES, apiservice(name, {
        "group": GROUP, "version": VERSION, "groupPriorityMinimum": 1000, "versionPriority": 15, "caBundle": ca_bundle,
        "service": {"namespace": "wardle", "name": "api", "port": backend.port}}))
    assert status == 201, created
    passed = await wait_condition(api_server, name, "Passed")
    assert passed == {"type": "Available", "status": "True", "reason": "Passed", "message": "all checks passed",
                      "lastTransitionTime": passed["lastTransitionTime"]}
    probe = next(s for s in backend.seen if s["path"] == f"/apis/{GROUP}/{VERSION}")
    assert (probe["user"], probe["groups"]) == ("system:kube-aggregator", ["system:masters"])

    _, groups = await call(api_server, "GET", "/apis")
    wardle = next(g for g in groups["groups"] if g["name"] == GROUP)
    assert wardle["preferredVersion"] == {"groupVersion": f"{GROUP}/{VERSION}", "version": VERSION}
    status, group_doc = await call(api_server, "GET", f"/apis/{GROUP}")
    assert status == 200 and group_doc["kind"] == "APIGroup"
    resources = await asyncio.to_thread(kubectl.ok, "api-resources", f"--api-group={GROUP}")
    assert "flunders" in resources and "Flunder" in resources
    out = await asyncio.to_thread(kubectl.ok, "get", "flunders", "-n", "default")
    assert "fred" in out

    backend.seen.clear()
    status, listed = await call(api_server, "GET", f"/apis/{GROUP}/{VERSION}/namespaces/ns1/flunders",
                                headers={"Authorization": "Bearer secret", "X-Remote-User": "system:admin"})
    assert status == 200 and listed["items"][0]["metadata"]["namespace"] == "ns1"
    assert backend.seen == [{"path": f"/apis/{GROUP}/{VERSION}/namespaces/ns1/flunders", "user": "system:anonymous",
                             "groups": ["system:unauthenticated"], "authorization": None}]

    backend.healthy = False  # a change to the Service makes the aggregator look again
    await call(api_server, "PATCH", "/api/v1/namespaces/wardle/services/api",
               {"metadata": {"labels": {"poke": "1"}}}, headers={"Content-Type": "application/merge-patch+json"})
    failed = await wait_condition(api_server, name, "FailedDiscoveryCheck")
    url = f"https://localhost:{backend.port}/apis/{GROUP}/{VERSION}"
    assert failed["status"] == "False"
    assert failed["message"] == f"failing or missing response from {url}: bad status from {url}: 503"
    out = await asyncio.to_thread(kubectl.ok, "get", "apiservice", name)
    assert "False (FailedDiscoveryCheck)" in out
    status, text = await call(api_server, "GET", f"/apis/{GROUP}/{VERSION}/namespaces/ns1/flunders")
    assert (status, text) == (503, "service unavailable\n")

    status, _ = await call(api_server, "DELETE", f"{APISERVICES}/{name}")
    assert status == 200
    status, _ = await call(api_server, "GET", f"/apis/{GROUP}")
    assert status == 404


@pytest.mark.parametrize(("service", "endpoints", "reason", "message"), [
    (None, None, "ServiceNotFound", 'service/api in "missing" is not present'),
    ({"ports": [{"port": 8443}]}, None, "ServicePortError", 'service/api in "missing" is not listening on port 443'),
    ({"ports": [{"port": 443, "targetPort": 8443}]}, None, "EndpointsNotFound",
     'cannot find endpoints for service/api in "missing"'),
    ({"ports": [{"port": 443, "name": "https", "targetPort": 8443}]},
     {"subsets": [{"addresses": [{"ip": "10.9.9.9"}], "ports": [{"port": 8443, "name": "other"}]}]},
     "MissingEndpoints", 'endpoints for service/api in "missing" have no addresses with port name "https"'),
])
async def test_unavailable_reasons(api_server: ApiServerProcess, service: dict[str, Any] | None,
                                   endpoints: dict[str, Any] | None, reason: str, message: str) -> None:
    await call(api_server, "POST", "/api/v1/namespaces", {"metadata": {"name": "missing"}})
    await call(api_server, "DELETE", "/api/v1/namespaces/missing/services/api")
    await call(api_server, "DELETE", "/api/v1/namespaces/missing/endpoints/api")
    if service is not None:
        status, body = await call(api_server, "POST", "/api/v1/namespaces/missing/services",
                                  {"metadata": {"name": "api"}, "spec": service})
        assert status == 201, body
    if endpoints is not None:
        status, body = await call(api_server, "POST", "/api/v1/namespaces/missing/endpoints",
                                  {"metadata": {"name": "api"}, **endpoints})
        assert status == 201, body
    name = f"v1.{reason.lower()}.example.com"
    status, body = await call(api_server, "POST", APISERVICES, apiservice(name, {
        "group": f"{reason.lower()}.example.com", "version": "v1", "groupPriorityMinimum": 100,
        "versionPriority": 10, "insecureSkipTLSVerify": True, "service": {"namespace": "missing", "name": "api"}}))
    assert status == 201, body
    assert body["spec"]["service"]["port"] == 443
    condition = await wait_condition(api_server, name, reason)
    assert (condition["status"], condition["message"]) == ("False", message)
    await call(api_server, "DELETE", f"{APISERVICES}/{name}")


async def test_the_python_client_creates_and_deletes_one(api_server: ApiServerProcess) -> None:
    from kubernetes import client

    configuration = client.Configuration()
    configuration.host = api_server.url
    with client.ApiClient(configuration) as api_client:
        api = client.ApiregistrationV1Api(api_client)
        body = apiservice("v1alpha1.pyclient.example.com", {
            "group": "pyclient.example.com", "version": "v1alpha1", "insecureSkipTLSVerify": True,
            "groupPriorityMinimum": 1000, "versionPriority": 15, "service": {"name": "api", "namespace": "wardle"}})
        created = await asyncio.to_thread(api.create_api_service, body)
        assert created.spec.service.port == 443
        listed = await asyncio.to_thread(api.list_api_service)
        assert "v1alpha1.pyclient.example.com" in [i.metadata.name for i in listed.items]
        await asyncio.to_thread(api.delete_api_service, "v1alpha1.pyclient.example.com")
