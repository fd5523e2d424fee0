"""Image pulls against real Distribution registries (Debian's docker-registry): HTTPS verified
with an explicit CA file, refused without it, unverified TLS and plain HTTP only for insecure
registries, the Docker token flow against a token server whose JWTs docker-registry checks
itself (x5c chained to its rootcertbundle), htpasswd Basic auth, and the kubelet's wording of
failures (the resolved reference plus what the registry or the network answered)."""

from __future__ import annotations

import shutil
import warnings
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from kubelet.images import ImageStore
from kubelet.runtime.interface import DriverError
from tests.fixtures.apiserver import free_port
from tests.fixtures.images import RegistryServer
from tests.fixtures.pki import Pki, make_pki
from tests.fixtures.token_server import TokenServer

pytestmark = pytest.mark.skipif(
    shutil.which("docker-registry") is None or shutil.which("openssl") is None,
    reason="needs docker-registry and openssl, which hack/install-system-packages.sh installs only when root")


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


def running(server: RegistryServer, *repositories: str) -> Iterator[RegistryServer]:
    server.start()
    try:
        for repository in repositories:
            server.push_busybox(repository)
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def plain_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryServer]:
    yield from running(RegistryServer(tmp_path_factory.mktemp("plain")), "busybox")


@pytest.fixture(scope="module")
def tls_registry(tmp_path_factory: pytest.TempPathFactory, pki: Pki) -> Iterator[RegistryServer]:
    server = RegistryServer(tmp_path_factory.mktemp("tls"), tls=(pki.server_cert, pki.server_key), ca_file=pki.ca_cert)
    yield from running(server, "busybox")


@pytest.fixture(scope="module")
def token_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def token_registry(tmp_path_factory: pytest.TempPathFactory, pki: Pki, token_port: int) -> Iterator[RegistryServer]:
    realm = TokenServer(pki, port=token_port)
    server = RegistryServer(tmp_path_factory.mktemp("token"), tls=(pki.server_cert, pki.server_key),
                            ca_file=pki.ca_cert, auth=realm.registry_auth())
    yield from running(server, "public/busybox", "private/busybox")


@pytest.fixture
async def token_server(pki: Pki, token_port: int) -> AsyncIterator[TokenServer]:
    server = TokenServer(pki, users={"alice": "s3cret"}, public={"public/busybox"}, port=token_port)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture(scope="module")
def htpasswd_registry(tmp_path_factory: pytest.TempPathFactory, pki: Pki) -> Iterator[RegistryServer]:
    with warnings.catch_warnings():  # bcrypt for htpasswd; `crypt` is deprecated but in 3.11's stdlib
        warnings.simplefilter("ignore", DeprecationWarning)
        import crypt
    folder = tmp_path_factory.mktemp("htpasswd")
    (folder / "htpasswd").write_text(f"bob:{crypt.crypt('hunter2', crypt.mksalt(crypt.METHOD_BLOWFISH))}\n")
    server = RegistryServer(folder, tls=(pki.server_cert, pki.server_key), ca_file=pki.ca_cert,
                            auth={"htpasswd": {"realm": "kube-py test", "path": str(folder / "htpasswd")}})
    yield from running(server, "busybox")


async def pull_error(store: ImageStore, reference: str) -> str:
    with pytest.raises(DriverError) as info:
        await store.pull(reference)
    assert info.value.reason == "ErrImagePull"
    return str(info.value)


# ---- TLS and insecure registries ---------------------------------------------------------


async def test_https_verified_with_the_given_ca(tmp_path: Path, tls_registry: RegistryServer, pki: Pki) -> None:
    store = ImageStore(tmp_path, loopback_insecure=False, ca_file=pki.ca_cert)
    image = await store.pull(f"{tls_registry.host}/busybox:1.36")
    assert (image.rootfs / "bin" / "busybox").is_file()
    assert store._schemes[tls_registry.host] == "https"


async def test_https_without_the_ca_is_refused(tmp_path: Path, tls_registry: RegistryServer) -> None:
    message = await pull_error(ImageStore(tmp_path, loopback_insecure=False), f"{tls_registry.host}/busybox:1.36")
    assert message.startswith(f'rpc error: code = Unknown desc = failed to pull and unpack image '
                              f'"{tls_registry.host}/busybox:1.36": failed to resolve reference'), message
    assert f'Get "https://{tls_registry.host}/v2/busybox/manifests/1.36"' in message
    assert "tls: failed to verify certificate" in message


async def test_insecure_registry_skips_verification(tmp_path: Path, tls_registry: RegistryServer) -> None:
    store = ImageStore(tmp_path, loopback_insecure=False, insecure_registries={tls_registry.host})
    await store.pull(f"{tls_registry.host}/busybox:1.36")
    assert store._schemes[tls_registry.host] == "https"  # TLS still, only unverified


async def test_plain_http_only_for_insecure_registries(tmp_path: Path, plain_registry: RegistryServer) -> None:
    reference = f"{plain_registry.host}/busybox:1.36"
    message = await pull_error(ImageStore(tmp_path / "a", loopback_insecure=False), reference)
    assert f"--insecure-registry {plain_registry.host}" in message and f'"{reference}"' in message
    marked = ImageStore(tmp_path / "b", loopback_insecure=False, insecure_registries={plain_registry.host})
    await marked.pull(reference)
    assert marked._schemes[plain_registry.host] == "http"
    loopback = ImageStore(tmp_path / "c", plain_registry.host)  # loopback counts as insecure by default
    assert (await loopback.pull("busybox:1.36")).digest == (await marked.pull(reference)).digest


async def test_missing_image_says_not_found_with_the_registry_answer(tmp_path: Path,
                                                                     plain_registry: RegistryServer) -> None:
    message = await pull_error(ImageStore(tmp_path, plain_registry.host), "busybox:1.99")
    resolved = f"{plain_registry.host}/busybox:1.99"
    assert message.startswith(f'rpc error: code = NotFound desc = failed to pull and unpack image "{resolved}": '
                              f'failed to resolve reference "{resolved}": {resolved}: not found'), message
    assert "404 Not Found: manifest unknown" in message


async def test_refused_connection_names_host_and_port(tmp_path: Path) -> None:
    port = free_port()
    message = await pull_error(ImageStore(tmp_path), f"127.0.0.1:{port}/busybox:1.36")
    assert f'"127.0.0.1:{port}/busybox:1.36"' in message
    assert f"dial tcp 127.0.0.1:{port}: connect: connection refused" in message


# ---- token auth -------------------------------------------------------------------------


async def test_anonymous_token_for_a_public_repository(tmp_path: Path, token_registry: RegistryServer,
                                                       token_server: TokenServer, pki: Pki) -> None:
    store = ImageStore(tmp_path, loopback_insecure=False, ca_file=pki.ca_cert)
    image = await store.pull(f"{token_registry.host}/public/busybox:1.36")
    assert (image.rootfs / "bin" / "busybox").is_file()
    asked = token_server.requests[0]
    assert asked == {"user": "", "service": "kube-py-test-registry", "scope": "repository:public/busybox:pull"}


async def test_private_repository_needs_credentials(tmp_path: Path, token_registry: RegistryServer,
                                                   token_server: TokenServer, pki: Pki) -> None:
    reference = f"{token_registry.host}/private/busybox:1.36"
    message = await pull_error(ImageStore(tmp_path / "anon", loopback_insecure=False, ca_file=pki.ca_cert), reference)
    assert f'failed to pull and unpack image "{reference}"' in message
    assert "pull access denied" in message and "401 Unauthorized" in message, message

    store = ImageStore(tmp_path / "alice", loopback_insecure=False, ca_file=pki.ca_cert,
                       credentials={token_registry.host: ("alice", "s3cret")})
    assert (await store.pull(reference)).digest.startswith("sha256:")
    assert token_server.requests[-1]["user"] == "alice"

    wrong = ImageStore(tmp_path / "mallory", loopback_insecure=False, ca_file=pki.ca_cert,
                       credentials={token_registry.host: ("alice", "guess")})
    message = await pull_error(wrong, reference)
    assert f"failed to fetch token: unexpected status from GET request to {token_server.realm}" in message
    assert "401 Unauthorized: unauthorized: invalid username or password" in message, message


# ---- Basic auth --------------------------------------------------------------------------


async def test_basic_auth_with_htpasswd(tmp_path: Path, htpasswd_registry: RegistryServer, pki: Pki) -> None:
    reference = f"{htpasswd_registry.host}/busybox:1.36"
    message = await pull_error(ImageStore(tmp_path / "anon", loopback_insecure=False, ca_file=pki.ca_cert), reference)
    assert "401 Unauthorized" in message and f'"{reference}"' in message
    store = ImageStore(tmp_path / "bob", loopback_insecure=False, ca_file=pki.ca_cert,
                       credentials={htpasswd_registry.host: ("bob", "hunter2")})
    assert (await store.pull(reference)).digest.startswith("sha256:")
