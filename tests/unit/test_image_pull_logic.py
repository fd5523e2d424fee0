"""Image pulls without a registry: reference resolution (containerd's normalisation),
WWW-Authenticate parsing, token request URLs, insecure-registry matching, and the words
of failures (Distribution error bodies, Go's connection errors, the kubelet's message)."""

from __future__ import annotations

import pytest

from kubelet.imageref import ImageRef, InvalidReference, parse_reference
from kubelet.images import choose_platform, pull_error
from kubelet.registryauth import Challenge, basic_authorization, parse_www_authenticate, token_url
from kubelet.registryerrors import server_message
from kubelet.registryhosts import LOOPBACK, RegistryHosts, parse_insecure_registries, split_host


@pytest.mark.parametrize(("reference", "default", "name", "endpoint"), [
    ("busybox", "", "docker.io/library/busybox:latest", "registry-1.docker.io"),
    ("busybox:1.99", "", "docker.io/library/busybox:1.99", "registry-1.docker.io"),
    ("library/busybox:1.36", "", "docker.io/library/busybox:1.36", "registry-1.docker.io"),
    ("bitnami/nginx:1", "", "docker.io/bitnami/nginx:1", "registry-1.docker.io"),
    ("index.docker.io/busybox", "", "docker.io/library/busybox:latest", "registry-1.docker.io"),
    ("busybox:1.36", "127.0.0.1:5000", "127.0.0.1:5000/busybox:1.36", "127.0.0.1:5000"),
    ("team/app", "10.0.0.1:5000", "10.0.0.1:5000/team/app:latest", "10.0.0.1:5000"),
    ("quay.io/coreos/etcd:v3.5", "127.0.0.1:5000", "quay.io/coreos/etcd:v3.5", "quay.io"),
    ("localhost/app:dev", "", "localhost/app:dev", "localhost"),
    ("localhost:5000/a/b/c:1", "", "localhost:5000/a/b/c:1", "localhost:5000"),
    ("[::1]:5000/app:1", "", "[::1]:5000/app:1", "[::1]:5000"),
    ("registry.k8s.io/pause:3.9", "", "registry.k8s.io/pause:3.9", "registry.k8s.io"),
])
def test_references_resolve_as_containerd_does(reference: str, default: str, name: str, endpoint: str) -> None:
    ref = parse_reference(reference, default)
    assert (ref.name, ref.endpoint) == (name, endpoint)


def test_digests_pin_the_manifest() -> None:
    digest = "sha256:" + "ab" * 32
    pinned = parse_reference(f"busybox@{digest}")
    assert (pinned.name, pinned.object, pinned.tag) == (f"docker.io/library/busybox@{digest}", digest, "")
    both = parse_reference(f"host:5000/app:1.0@{digest}")
    assert both == ImageRef("host:5000", "app", "1.0", digest) and both.object == digest
    assert both.name == f"host:5000/app:1.0@{digest}"


@pytest.mark.parametrize(("reference", "why"), [
    ("Busybox:1", "repository name must be lowercase"),
    ("busybox:1@sha256:abc", "invalid reference format"),
    ("busybox:bad tag", "invalid reference format"),
    ("host:5000/", "invalid reference format"),
    ("a//b", "invalid reference format"),
    ("", "invalid reference format"),
])
def test_malformed_references(reference: str, why: str) -> None:
    with pytest.raises(InvalidReference, match=why):
        parse_reference(reference)


def test_bearer_challenge() -> None:
    [challenge] = parse_www_authenticate(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
        'scope="repository:library/busybox:pull"')
    assert challenge == Challenge("bearer", {"realm": "https://auth.docker.io/token", "service": "registry.docker.io",
                                             "scope": "repository:library/busybox:pull"})


def test_several_challenges_quoted_commas_and_escapes() -> None:
    challenges = parse_www_authenticate(
        'Basic realm="a \\"quoted\\" realm", Bearer realm="https://t/token", service=reg ,'
        'scope="repository:a/b:pull,push", error="insufficient_scope"')
    assert [c.scheme for c in challenges] == ["basic", "bearer"]
    assert challenges[0].params == {"realm": 'a "quoted" realm'}
    assert challenges[1].params == {"realm": "https://t/token", "service": "reg", "scope": "repository:a/b:pull,push",
                                    "error": "insufficient_scope"}


def test_odd_challenges() -> None:
    assert parse_www_authenticate("") == []
    assert parse_www_authenticate("Basic") == [Challenge("basic")]
    assert parse_www_authenticate('BASIC Realm="x"') == [Challenge("basic", {"realm": "x"})]


def test_token_url_carries_service_and_scope() -> None:
    challenge = Challenge("bearer", {"realm": "https://auth.example/token?x=1", "service": "reg"})
    assert str(token_url(challenge, "repository:app:pull")) == \
        "https://auth.example/token?x=1&service=reg&scope=repository:app:pull"
    challenge.params["scope"] = "repository:other:pull"  # the registry's own scope wins
    assert token_url(challenge, "repository:app:pull").query["scope"] == "repository:other:pull"


def test_basic_authorization() -> None:
    assert basic_authorization("aladdin", "opensesame") == "Basic YWxhZGRpbjpvcGVuc2VzYW1l"


def test_insecure_registry_flags_and_matching() -> None:
    assert parse_insecure_registries(["a:5000,b", " c ", ""]) == {"a:5000", "b", "c"}
    hosts = RegistryHosts(frozenset({"reg.local:5000", "plain.example", "10.96.0.0/12", *LOOPBACK}))
    assert hosts.is_insecure("reg.local:5000") and not hosts.is_insecure("reg.local:5001")
    assert hosts.is_insecure("plain.example") and hosts.is_insecure("plain.example:8443")
    assert hosts.is_insecure("10.100.1.2:5000") and not hosts.is_insecure("10.200.1.2:5000")
    assert hosts.is_insecure("127.0.0.1:41234") and hosts.is_insecure("127.1.2.3") and hosts.is_insecure("[::1]:5000")
    assert hosts.is_insecure("localhost:5000")
    assert not hosts.is_insecure("registry-1.docker.io") and not hosts.is_insecure("quay.io:443")
    assert not RegistryHosts(frozenset()).is_insecure("127.0.0.1:5000")
    assert split_host("[::1]:5000") == ("::1", "5000") and split_host("h") == ("h", "")


def test_credentials_by_registry_or_endpoint() -> None:
    hosts = RegistryHosts(credentials={"docker.io": ("u", "p"), "127.0.0.1:5000": ("a", "b")})
    assert hosts.credentials_for("docker.io", "registry-1.docker.io") == ("u", "p")
    assert hosts.credentials_for("127.0.0.1:5000", "127.0.0.1:5000") == ("a", "b")
    assert hosts.credentials_for("quay.io", "quay.io") is None


def test_distribution_error_bodies() -> None:
    body = b'{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{"Tag":"1.99"}}]}'
    assert server_message(body) == ": manifest unknown: manifest unknown"
    assert server_message(b"<html>oops</html>") == "" and server_message(b'{"errors": []}') == ""


def test_kubelet_message_names_the_resolved_reference() -> None:
    ref = parse_reference("busybox:1.99")
    error = pull_error(ref, 'failed to resolve reference "docker.io/library/busybox:1.99": not found', "NotFound")
    assert error.reason == "ErrImagePull"
    assert str(error) == ('rpc error: code = NotFound desc = failed to pull and unpack image '
                          '"docker.io/library/busybox:1.99": failed to resolve reference '
                          '"docker.io/library/busybox:1.99": not found')


def test_index_picks_this_platform() -> None:
    index = {"manifests": [
        {"digest": "sha256:arm", "platform": {"os": "linux", "architecture": "arm64"}},
        {"digest": "sha256:win", "platform": {"os": "windows", "architecture": "amd64"}},
        {"digest": "sha256:amd", "platform": {"os": "linux", "architecture": "amd64"}},
    ]}
    import kubelet.images as images

    wanted = {"amd64": "sha256:amd", "arm64": "sha256:arm"}.get(images.ARCHITECTURE, "sha256:arm")
    assert choose_platform(index)["digest"] == wanted
