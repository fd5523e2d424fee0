"""Images: pulled from an OCI registry (distribution v2 API) or imported from an OCI archive,
unpacked once into a read-only rootfs that containers overlay.

An image reference `host:port/name:tag` is pulled over plain HTTP from that registry
(manifest → config → layers, digests verified); `name:tag` without a registry host is
looked up among imported archives and then on the default registry given to the store.
Layers are applied in order, honouring whiteouts (`.wh.` files and `.wh..wh..opq`).
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import logging
import shutil
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from kubelet.runtime.interface import DriverError

log = logging.getLogger(__name__)

MANIFEST_TYPES = ",".join([
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
])


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


def split_reference(reference: str, default_registry: str = "") -> tuple[str, str, str]:
    """→ (registry host or "", repository, tag-or-digest)."""
    name, tag = reference, "latest"
    if "@" in name:
        name, tag = name.split("@", 1)
    elif ":" in name.rsplit("/", 1)[-1]:
        name, tag = name.rsplit(":", 1)
    first = name.split("/", 1)[0]
    if "/" in name and ("." in first or ":" in first or first == "localhost"):
        return first, name.split("/", 1)[1], tag
    return default_registry, name, tag


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
    """Unpacked images under `root/<config digest>/rootfs`, shared by a node's containers."""

    def __init__(self, root: str | Path, default_registry: str = "") -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.default_registry = default_registry
        self._locks: dict[str, asyncio.Lock] = {}

    def _index(self) -> dict[str, str]:
        path = self.root / "references.json"
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError):
            return {}

    def _remember(self, reference: str, digest: str) -> None:
        index = self._index()
        index[reference] = digest
        tmp = self.root / "references.json.tmp"
        tmp.write_text(json.dumps(index, indent=1))
        tmp.replace(self.root / "references.json")

    def get(self, reference: str) -> Image | None:
        digest = self._index().get(reference)
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
        registry, repository, tag = split_reference(reference, self.default_registry)
        if not registry:
            raise DriverError(f'failed to pull image "{reference}": no registry for it and it was not imported',
                              "ErrImagePull")
        base = f"http://{registry}/v2/{repository}"
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=300)) as session:
                manifest = await self._manifest(session, base, tag)
                config_blob = await self._blob(session, base, manifest["config"]["digest"])
                layers = [await self._blob(session, base, layer["digest"]) for layer in manifest["layers"]]
        except aiohttp.ClientError as exc:
            raise DriverError(f'failed to pull image "{reference}": {exc}', "ErrImagePull") from exc
        return await asyncio.to_thread(self._unpack, reference, manifest["config"]["digest"], config_blob, layers)

    async def _manifest(self, session: aiohttp.ClientSession, base: str, tag: str) -> dict[str, Any]:
        async with session.get(f"{base}/manifests/{tag}", headers={"Accept": MANIFEST_TYPES}) as resp:
            if resp.status == 404:
                raise DriverError(f"manifest unknown: {base.split('/v2/', 1)[1]}:{tag} not found", "ErrImagePull")
            resp.raise_for_status()
            manifest = json.loads(await resp.read())
        if "manifests" in manifest:  # an index: pick linux/amd64, else the first
            chosen = next((m for m in manifest["manifests"]
                           if (m.get("platform") or {}).get("architecture") in ("amd64", None)), manifest["manifests"][0])
            return await self._manifest(session, base, chosen["digest"])
        return manifest

    async def _blob(self, session: aiohttp.ClientSession, base: str, digest: str) -> bytes:
        async with session.get(f"{base}/blobs/{digest}") as resp:
            resp.raise_for_status()
            data = await resp.read()
        algorithm, _, expected = digest.partition(":")
        if algorithm == "sha256" and hashlib.sha256(data).hexdigest() != expected:
            raise DriverError(f"blob {digest} failed verification", "ErrImagePull")
        return data

    def _unpack(self, reference: str, digest: str, config_blob: bytes, layers: list[bytes]) -> Image:
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
        self._remember(reference, digest)
        return Image(reference, digest, folder / "rootfs", json.loads(config_blob))

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
        return self._unpack(name, manifest["config"]["digest"], config, layers)
