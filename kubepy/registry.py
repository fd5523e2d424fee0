"""A private image registry for clusters on machines without internet registries: Debian's
`docker-registry` (Distribution v2) started on an address the nodes reach, seeded with a
`busybox` image built from the host's static busybox, so `image: busybox:1.36` runs under
the runc driver out of the box (no network needed; machine-notes §8 has the recipe).
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
import tarfile
import time
import urllib.request
from pathlib import Path

BUSYBOX = Path("/bin/busybox")


def busybox_layer() -> bytes:
    applets = subprocess.run([str(BUSYBOX), "--list"], capture_output=True, text=True, check=True).stdout.split()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        def add_dir(name: str) -> None:
            info = tarfile.TarInfo(name)
            info.type, info.mode = tarfile.DIRTYPE, 0o755
            tar.addfile(info)

        def add_file(name: str, data: bytes, mode: int = 0o644) -> None:
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), mode
            tar.addfile(info, io.BytesIO(data))

        for folder in ("bin", "sbin", "usr", "usr/bin", "usr/sbin", "etc", "proc", "sys", "dev", "tmp", "var",
                       "var/www", "root"):
            add_dir(folder)
        add_file("bin/busybox", BUSYBOX.read_bytes(), 0o755)
        for applet in applets:
            if applet == "busybox":
                continue
            info = tarfile.TarInfo(f"bin/{applet}")
            info.type, info.linkname = tarfile.SYMTYPE, "busybox"
            tar.addfile(info)
        add_file("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n")
        add_file("etc/group", b"root:x:0:\n")
        add_file("etc/hostname", b"busybox\n")
        add_file("var/www/index.html", b"hello from kube-py\n")
    return buffer.getvalue()


def image_blobs(layer: bytes) -> tuple[bytes, bytes]:
    """→ (config, manifest) JSON bytes for a one-layer image."""
    layer_digest = "sha256:" + hashlib.sha256(layer).hexdigest()
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
                                    "Cmd": ["sh"]},
                         "rootfs": {"type": "layers", "diff_ids": [layer_digest]}}).encode()
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": "sha256:" + hashlib.sha256(config).hexdigest(), "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer_digest,
                    "size": len(layer)}],
    }).encode()
    return config, manifest



def registry_config(folder: Path, address: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "config.yml"
    config.write_text(f"version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {folder / 'data'}\n"
                      f"  delete:\n    enabled: true\nhttp:\n  addr: {address}\n")
    return config


def registry_argv(folder: Path, address: str) -> list[str]:
    """The command that serves a registry on `address` from `folder`; ValueError without one."""
    binary = shutil.which("docker-registry")
    if binary is None:
        raise ValueError("docker-registry is not installed")
    return [binary, "serve", str(registry_config(folder, address))]


def wait_until_serving(address: str, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://{address}/v2/", timeout=1):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def has_busybox(address: str, tag: str = "1.36") -> bool:
    try:
        with urllib.request.urlopen(f"http://{address}/v2/busybox/manifests/{tag}", timeout=2):
            return True
    except OSError:
        return False


def seed_busybox(address: str, tags: tuple[str, ...] = ("1.36", "latest")) -> list[str]:
    """Push busybox (built from the host's) under `tags` unless present; → references pushed."""
    if not BUSYBOX.exists():
        return []
    return [push_busybox(address, "busybox", tag) for tag in tags if not has_busybox(address, tag)]


def _upload(host: str, repository: str, blob: bytes) -> str:
    digest = "sha256:" + hashlib.sha256(blob).hexdigest()
    start = urllib.request.Request(f"http://{host}/v2/{repository}/blobs/uploads/", method="POST")
    with urllib.request.urlopen(start) as resp:
        location = resp.headers["Location"]
    if location.startswith("/"):
        location = f"http://{host}{location}"
    separator = "&" if "?" in location else "?"
    put = urllib.request.Request(f"{location}{separator}digest={digest}", data=blob, method="PUT",
                                 headers={"Content-Type": "application/octet-stream"})
    with urllib.request.urlopen(put):
        pass
    return digest


def push_busybox(host: str, repository: str = "busybox", tag: str = "1.36") -> str:
    """Push the busybox image to the registry at `host`; → `host/repository:tag`."""
    layer = busybox_layer()
    config, manifest = image_blobs(layer)
    _upload(host, repository, layer)
    _upload(host, repository, config)
    put = urllib.request.Request(f"http://{host}/v2/{repository}/manifests/{tag}", data=manifest, method="PUT",
                                 headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"})
    with urllib.request.urlopen(put):
        pass
    return f"{host}/{repository}:{tag}"
