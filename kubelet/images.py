"""Images: pulled from an OCI registry (distribution v2 API) or imported from an OCI archive,
unpacked once into a read-only rootfs that containers overlay.

A reference resolves as containerd resolves it (imageref.py): `busybox:1.36` is
`docker.io/library/busybox:1.36`, or `<default registry>/busybox:1.36` when the node has
one; imported archives are found by the name they were imported as. Pulls go over HTTPS
verified with the system's CA bundle, plain HTTP only for insecure registries
(registryhosts.py), with the registry token flow on 401 (registryclient.py); manifest →
config → layers, digests verified. A failed pull is a DriverError (ErrImagePull) worded as
the kubelet shows containerd's: `rpc error: code = NotFound desc = failed to pull and unpack
image "docker.io/library/busybox:1.99": …`, naming the resolved reference and what the
registry answered. Layers are applied in order, honouring whiteouts (`.wh.` files and
`.wh..wh..opq`).
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import logging
import platform
import shutil
import tarfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from kubelet.imageref import ImageRef, InvalidReference, parse_reference
from kubelet.registryclient import RegistryClient
from kubelet.registryerrors import RegistryError
from kubelet.registryhosts import LOOPBACK, RegistryHosts
from kubelet.runtime.interface import DriverError

log = logging.getLogger(__name__)

MANIFEST_TYPES = ",".join([
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
])
ARCHITECTURE = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm"}.get(platform.machine(), platform.machine())
PULL_TIMEOUT = aiohttp.ClientTimeout(total=None, sock_connect=30, sock_read=120)


@dataclass
class Image:
    reference: str
    digest: str  # the config digest, Kubernetes' imageID
    rootfs: Path
    config: dict[str, Any]

    @property
    def entrypoint(self) -> list[str]:
        return list((self.config.get("config") or {}).get("Entrypoint") or [])

    @property
    def cmd(self) -> list[str]:
        return list((self.config.get("config") or {}).get("Cmd") or [])

    @property
    def env(self) -> list[str]:
        return list((self.config.get("config") or {}).get("Env") or [])

    @property
    def working_dir(self) -> str:
        return (self.config.get("config") or {}).get("WorkingDir") or "/"


def pull_error(ref: ImageRef, detail: str, code: str = "Unknown") -> DriverError:
    """containerd's CRI error for a failed pull, as the kubelet puts it in waiting.message."""
    return DriverError(f'rpc error: code = {code} desc = failed to pull and unpack image "{ref.name}": {detail}',
                       "ErrImagePull")


def choose_platform(index: dict[str, Any]) -> dict[str, Any]:
    """An image index's entry for linux on this machine's architecture, else the first."""
    entries = [m for m in index.get("manifests") or [] if isinstance(m, dict)]
    if not entries:
        raise RegistryError("image index lists no manifests")
    for entry in entries:
        wanted = entry.get("platform") or {}
        if wanted.get("os", "linux") == "linux" and wanted.get("architecture", ARCHITECTURE) == ARCHITECTURE:
            return entry
    return entries[0]


async def _sha256(data: bytes) -> str:
    return "sha256:" + (await asyncio.to_thread(hashlib.sha256, data)).hexdigest()


def apply_layer(rootfs: Path, layer: bytes) -> None:
    """Extract one (possibly gzipped) layer tar onto rootfs with OCI whiteouts."""
    with tarfile.open(fileobj=io.BytesIO(layer), mode="r:*") as tar:
        members = []
        for member in tar.getmembers():
            path = Path(member.name)
            if path.is_absolute() or ".." in path.parts:
                continue
            base = path.name
            if base == ".wh..wh..opq":
                target = rootfs / path.parent
                if target.is_dir():
                    for child in target.iterdir():
                        shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()
                continue
            if base.startswith(".wh."):
                victim = rootfs / path.parent / base[4:]
                if victim.is_dir() and not victim.is_symlink():
                    shutil.rmtree(victim)
                elif victim.exists() or victim.is_symlink():
                    victim.unlink()
                continue
            existing = rootfs / path
            if (existing.is_symlink() or existing.is_file()) and not member.isdir():
                existing.unlink()
            members.append(member)
        tar.extractall(rootfs, members=members, filter="tar" if hasattr(tarfile, "tar_filter") else None)


class ImageStore:
    """Unpacked images under `root/<config digest>/rootfs`, shared by a node's containers.

    `insecure_registries`: host, host:port or CIDR entries spoken to without TLS checks
    (and over plain HTTP when they do not speak TLS); loopback addresses count too unless
    `loopback_insecure` is False. `credentials`: registry host → (user, password) for
    Basic auth and token requests. `ca_file`: a CA trusted besides the system bundle.
    """

    def __init__(self, root: str | Path, default_registry: str = "", *, insecure_registries: Iterable[str] = (),
                 loopback_insecure: bool = True, credentials: Mapping[str, tuple[str, str]] | None = None,
                 ca_file: str | Path | None = None) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.default_registry = default_registry
        insecure = frozenset(insecure_registries) | (frozenset(LOOPBACK) if loopback_insecure else frozenset())
        self.hosts = RegistryHosts(insecure, dict(credentials or {}), str(ca_file) if ca_file else None)
        self._schemes: dict[str, str] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def _index(self) -> dict[str, str]:
        path = self.root / "references.json"
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError):
            return {}

    def _remember(self, names: Iterable[str], digest: str) -> None:
        index = self._index()
        index.update({name: digest for name in names})
        tmp = self.root / "references.json.tmp"
        tmp.write_text(json.dumps(index, indent=1))
        tmp.replace(self.root / "references.json")

    def _names(self, reference: str) -> list[str]:
        """Index keys that may hold `reference`: resolved with this node's default registry,
        as written (imports, older stores), and resolved against Docker Hub."""
        names = []
        for default in (self.default_registry, ""):
            try:
                names.append(parse_reference(reference, default).name)
            except InvalidReference:
                pass
        names.insert(1, reference)
        return list(dict.fromkeys(names))

    def get(self, reference: str) -> Image | None:
        index = self._index()
        digest = next((index[name] for name in self._names(reference) if name in index), None)
        if not digest:
            return None
        folder = self.root / digest.replace(":", "_")
        if not (folder / "rootfs").is_dir():
            return None
        return Image(reference, digest, folder / "rootfs", json.loads((folder / "config.json").read_text()))

    async def ensure(self, reference: str, pull_policy: str = "IfNotPresent") -> Image:
        lock = self._locks.setdefault(reference, asyncio.Lock())
        async with lock:
            image = self.get(reference)
            if image is not None and pull_policy != "Always":
                return image
            if pull_policy == "Never":
                raise DriverError(f'Container image "{reference}" is not present with pull policy of Never',
                                  "ErrImageNeverPull")
            try:
                return await self.pull(reference)
            except DriverError:
                if image is not None:
                    return image
                raise

    async def pull(self, reference: str) -> Image:
        try:
            ref = parse_reference(reference, self.default_registry)
        except InvalidReference as exc:
            raise DriverError(f'Failed to apply default image tag "{reference}": {exc}', "InvalidImageName") from exc
        async with aiohttp.ClientSession(timeout=PULL_TIMEOUT) as session:
            client = RegistryClient(session, self.hosts, self._schemes)
            try:
                manifest = await self._manifest(client, ref, ref.object)
            except RegistryError as exc:
                if exc.not_found:
                    raise pull_error(ref, f'failed to resolve reference "{ref.name}": {ref.name}: not found '
                                          f"({exc})", "NotFound") from exc
                raise pull_error(ref, f'failed to resolve reference "{ref.name}": {exc}') from exc
            try:
                config_digest = manifest["config"]["digest"]
                config_blob = await self._blob(client, ref, config_digest)
                layers = [await self._blob(client, ref, layer["digest"]) for layer in manifest["layers"]]
            except RegistryError as exc:
                raise pull_error(ref, f"failed to copy: {exc}") from exc
            except (KeyError, TypeError) as exc:
                raise pull_error(ref, f"unsupported manifest: no {exc}") from exc
        try:
            image = await asyncio.to_thread(self._unpack, [ref.name], config_digest, config_blob, layers)
        except (OSError, tarfile.TarError, ValueError) as exc:
            raise pull_error(ref, f"failed to extract layer: {exc}") from exc
        image.reference = reference
        return image

    async def _manifest(self, client: RegistryClient, ref: ImageRef, tag_or_digest: str) -> dict[str, Any]:
        response = await client.get(ref, f"manifests/{tag_or_digest}", MANIFEST_TYPES)
        if tag_or_digest.startswith("sha256:") and await _sha256(response.body) != tag_or_digest:
            raise RegistryError(f"manifest {tag_or_digest} failed verification: its content has another digest")
        try:
            manifest = json.loads(response.body)
        except ValueError as exc:
            raise RegistryError(f"manifest {tag_or_digest} is not JSON: {exc}") from exc
        if not isinstance(manifest, dict):
            raise RegistryError(f"manifest {tag_or_digest} is not a JSON object")
        if "manifests" in manifest:  # an index: this platform's entry
            return await self._manifest(client, ref, choose_platform(manifest)["digest"])
        if manifest.get("schemaVersion") == 1:
            raise RegistryError("schema 1 manifests are not supported (push the image again with a current client)")
        return manifest

    async def _blob(self, client: RegistryClient, ref: ImageRef, digest: str) -> bytes:
        data = (await client.get(ref, f"blobs/{digest}")).body
        algorithm, _, _ = digest.partition(":")
        if algorithm == "sha256" and (actual := await _sha256(data)) != digest:
            raise RegistryError(f"unexpected commit digest {actual}, expected {digest}: failed precondition")
        return data

    def _unpack(self, names: list[str], digest: str, config_blob: bytes, layers: list[bytes]) -> Image:
        folder = self.root / digest.replace(":", "_")
        if not (folder / "rootfs").is_dir():
            staging = self.root / f".staging-{digest.replace(':', '_')}"
            shutil.rmtree(staging, ignore_errors=True)
            (staging / "rootfs").mkdir(parents=True)
            for layer in layers:
                apply_layer(staging / "rootfs", layer)
            (staging / "config.json").write_bytes(config_blob)
            shutil.rmtree(folder, ignore_errors=True)
            staging.rename(folder)
        self._remember(names, digest)
        return Image(names[0], digest, folder / "rootfs", json.loads(config_blob))

    def import_archive(self, archive: str | Path, reference: str = "") -> Image:
        """An OCI image-layout tar (index.json + blobs/) → an unpacked image."""
        with tarfile.open(archive) as tar:
            def read(name: str) -> bytes:
                member = tar.extractfile(name)
                if member is None:
                    raise DriverError(f"{archive}: {name} missing", "ErrImagePull")
                return member.read()

            index = json.loads(read("index.json"))
            descriptor = index["manifests"][0]
            name = reference or (descriptor.get("annotations") or {}).get("io.containerd.image.name") or \
                str(archive)
            manifest = json.loads(read(f"blobs/{descriptor['digest'].replace(':', '/')}"))
            config = read(f"blobs/{manifest['config']['digest'].replace(':', '/')}")
            layers = [read(f"blobs/{layer['digest'].replace(':', '/')}") for layer in manifest["layers"]]
        names = [name]
        try:
            names.append(parse_reference(name).name)
        except InvalidReference:
            pass
        return self._unpack(names, manifest["config"]["digest"], config, layers)
