"""`kubectl auth can-i` and `kubectl auth whoami` against kube-py: the anonymous user under an
allow-everything authorizer, answered by computed (never stored) self-reviews, including the
protobuf bodies kubectl's typed clients send; bad reviews get Kubernetes' errors."""

from __future__ import annotations

import pytest

from apimachinery.errors import StatusError
from kubeclient.rest import ApiClient
from tests.fixtures.apiserver import ApiServerProcess
from tests.integration.api.conftest import Kubectl


def test_kubectl_auth_can_i_and_whoami(kubectl: Kubectl) -> None:
    assert kubectl.ok("auth", "can-i", "create", "pods") == "yes\n"
    assert kubectl.ok("auth", "can-i", "delete", "deployments.apps", "--all-namespaces") == "yes\n"
    assert kubectl.ok("auth", "can-i", "get", "/healthz") == "yes\n"
    rules = kubectl.ok("auth", "can-i", "--list").splitlines()
    assert rules[0].split() == ["Resources", "Non-Resource", "URLs", "Resource", "Names", "Verbs"]
    assert rules[1].split() == ["*.*", "[]", "[]", "[*]"]
    assert kubectl.ok("auth", "whoami").splitlines() == ["ATTRIBUTE   VALUE", "Username    system:anonymous",
                                                          "Groups      [system:unauthenticated]"]
    listed = kubectl("get", "selfsubjectaccessreviews")
    assert listed.returncode == 1 and "MethodNotAllowed" in listed.stderr
    resources = kubectl.ok("api-resources", "--api-group", "authorization.k8s.io")
    assert "selfsubjectaccessreviews" in resources and "selfsubjectrulesreviews" in resources


async def test_reviews_over_rest(api_server: ApiServerProcess) -> None:
    async with ApiClient(api_server.url) as client:
        review = {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
                  "spec": {"resourceAttributes": {"verb": "list", "resource": "pods", "namespace": "default"}}}
        answer = await client.create("selfsubjectaccessreviews", review)
        assert answer["status"] == {"allowed": True}
        assert answer["spec"] == review["spec"]
        with pytest.raises(StatusError) as info:
            await client.create("selfsubjectaccessreviews", {**review, "spec": {}})
        assert info.value.code == 422
        assert info.value.message == (
            'SelfSubjectAccessReview.authorization.k8s.io "" is invalid: spec.resourceAttributes: Invalid value: '
            '"null": exactly one of nonResourceAttributes or resourceAttributes must be specified')
        resp = await client.request("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews",
                                    body={"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"})
        assert resp.status == 201 and resp.json()["status"]["userInfo"]["username"] == "system:anonymous"
        with pytest.raises(StatusError) as listed:
            await client.request("GET", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews")
        assert listed.value.code == 405
