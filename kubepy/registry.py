"""A private image registry for clusters on machines without internet registries: Debian's
`docker-registry` (Distribution v2) started on an address the nodes reach, seeded with a
`busybox` image built from the host's static busybox, so `image: busybox:1.36` runs under
the runc driver out of the box (no network needed; machine-notes §8 has the recipe).

Debian builds busybox without FEATURE_WGET_TIMEOUT, yet its wget still parses `-T N` and
stores the number through a NULL pointer: `wget -T 2 …` dies of SIGSEGV (exit 139) before
it opens a socket, on the host as in any container. The image's `wget` is therefore a small
wrapper that takes `-T`/`--timeout` itself and enforces it with busybox's `timeout`. The
image also names only glibc's built-in NSS modules (`files`, `dns`) in /etc/nsswitch.conf,
so the static binary never tries to dlopen a libnss_*.so the image does not have, and
looks names up in the kubelet's /etc/hosts before DNS, as Kubernetes pods expect.
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
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"

WGET_WRAPPER = b"""#!/bin/sh
# kube-py: Debian's busybox has no wget -T (FEATURE_WGET_TIMEOUT is off) but still parses it,
# writing the value through a NULL pointer (SIGSEGV). Take -T/--timeout here and enforce it
# with the timeout applet; everything else goes to busybox wget unchanged.
seconds=
n=$#
while [ "$n" -gt 0 ]; do
  arg=$1; shift; n=$((n - 1))
  case $arg in
    --) set -- "$@" --
        while [ "$n" -gt 0 ]; do set -- "$@" "$1"; shift; n=$((n - 1)); done
        break ;;
    -T|--timeout|-[cqS]T|-[cqS][cqS]T|-[cqS][cqS][cqS]T)
        if [ "$n" -eq 0 ]; then echo "wget: option requires an argument -- 'T'" >&2; exit 1; fi
        case $arg in -T|--timeout) ;; *) set -- "$@" "${arg%T}" ;; esac
        seconds=$1; shift; n=$((n - 1)) ;;
    -T*) seconds=${arg#-T} ;;
    --timeout=*) seconds=${arg#--timeout=} ;;
    -[cqS]T*|-[cqS][cqS]T*|-[cqS][cqS][cqS]T*) set -- "$@" "${arg%%T*}"; seconds=${arg#*T} ;;
    *) set -- "$@" "$arg" ;;
  esac
done
case $seconds in
  ''|0) exec /bin/busybox wget "$@" ;;
esac
# In the background, so the shell prints no "Terminated" notice when the time is up.
exec 4<&0
/bin/busybox timeout "$seconds" /bin/busybox wget "$@" <&4 &
pid=$!
trap 'kill "$pid" 2>/dev/null; exit 143' INT TERM HUP
wait "$pid" 2>&-  # its notice of the kill, not wanted
status=$?
if [ "$status" -eq 143 ]; then echo "wget: download timed out" >&2; exit 1; fi
exit "$status"
"""
NSSWITCH = b"passwd: files\ngroup: files\nshadow: files\nhosts: files dns\nnetworks: files\nprotocols: files\n" \
    b"services: files\n"
SERVICES = b"".join(f"{name}\t\t{port}/tcp\n{name}\t\t{port}/udp\n".encode() for name, port in (
    ("ftp", 21), ("ssh", 22), ("telnet", 23), ("smtp", 25), ("domain", 53), ("http", 80), ("pop3", 110),
    ("ntp", 123), ("imap", 143), ("https", 443), ("postgresql", 5432), ("http-alt", 8080)))


def busybox_layer() -> bytes:
    applets = subprocess.run([str(BUSYBOX), "--list"], capture_output=True, text=True, check=True).stdout.split()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        def add_dir(name: str, mode: int) -> None:
            info = tarfile.TarInfo(name)
            info.type, info.mode = tarfile.DIRTYPE, mode
            tar.addfile(info)

        def add_file(name: str, data: bytes, mode: int = 0o644) -> None:
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), mode
            tar.addfile(info, io.BytesIO(data))

        for folder in ("bin", "sbin", "usr", "usr/bin", "usr/sbin", "etc", "proc", "sys", "dev", "tmp", "var",
                       "var/www", "root"):
            add_dir(folder, 0o1777 if folder == "tmp" else 0o755)
        add_file("bin/busybox", BUSYBOX.read_bytes(), 0o755)
        add_file("bin/wget", WGET_WRAPPER, 0o755)
        for applet in applets:
            if applet in ("busybox", "wget"):
                continue
            info = tarfile.TarInfo(f"bin/{applet}")
            info.type, info.linkname = tarfile.SYMTYPE, "busybox"
            tar.addfile(info)
        add_file("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n")
        add_file("etc/group", b"root:x:0:\nnogroup:x:65534:\n")
        add_file("etc/nsswitch.conf", NSSWITCH)
        add_file("etc/services", SERVICES)
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


def registry_config(folder: Path, address: str, *, tls: tuple[Path, Path] | None = None,
                    auth: dict[str, dict[str, str]] | None = None) -> Path:
    """docker-registry's config.yml; `tls` = (certificate, key) serves HTTPS, `auth` is its
    `auth:` section, e.g. {"token": {"realm": …, "service": …, "issuer": …, "rootcertbundle": …}}
    or {"htpasswd": {"realm": …, "path": …}}."""
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "config.yml"
    text = (f"version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {folder / 'data'}\n"
            f"  delete:\n    enabled: true\nhttp:\n  addr: {address}\n")
    if tls is not None:
        text += f"  tls:\n    certificate: {tls[0]}\n    key: {tls[1]}\n"
    for kind, options in (auth or {}).items():
        text += f"auth:\n  {kind}:\n" + "".join(f"    {key}: {json.dumps(str(value))}\n" for key, value in options.items())
    config.write_text(text)
    return config


def registry_argv(folder: Path, address: str, *, tls: tuple[Path, Path] | None = None,
                  auth: dict[str, dict[str, str]] | None = None) -> list[str]:
    """The command that serves a registry on `address` from `folder`; ValueError without one."""
    binary = shutil.which("docker-registry")
    if binary is None:
        raise ValueError("docker-registry is not installed")
    return [binary, "serve", str(registry_config(folder, address, tls=tls, auth=auth))]


def wait_until_serving(address: str, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://{address}/v2/", timeout=1):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def manifest_digest(address: str, repository: str = "busybox", tag: str = "1.36") -> str | None:
    """The digest the registry serves for `repository:tag` (None when it has none)."""
    request = urllib.request.Request(f"http://{address}/v2/{repository}/manifests/{tag}", method="HEAD",
                                     headers={"Accept": OCI_MANIFEST})
    try:
        with urllib.request.urlopen(request, timeout=2) as resp:
            return resp.headers.get("Docker-Content-Digest")
    except OSError:
        return None


def has_busybox(address: str, tag: str = "1.36") -> bool:
    return manifest_digest(address, "busybox", tag) is not None


def seed_busybox(address: str, tags: tuple[str, ...] = ("1.36", "latest")) -> list[str]:
    """Push busybox (built from the host's) under `tags` unless the registry already serves
    this very image (an older seed, e.g. without the wget wrapper, is replaced); → references pushed."""
    if not BUSYBOX.exists():
        return []
    layer = busybox_layer()
    _, manifest = image_blobs(layer)
    ours = "sha256:" + hashlib.sha256(manifest).hexdigest()
    return [push_busybox(address, "busybox", tag, layer=layer) for tag in tags
            if manifest_digest(address, "busybox", tag) != ours]


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


def push_busybox(host: str, repository: str = "busybox", tag: str = "1.36", *, layer: bytes | None = None) -> str:
    """Push the busybox image to the registry at `host`; → `host/repository:tag`."""
    layer = busybox_layer() if layer is None else layer
    config, manifest = image_blobs(layer)
    _upload(host, repository, layer)
    _upload(host, repository, config)
    put = urllib.request.Request(f"http://{host}/v2/{repository}/manifests/{tag}", data=manifest, method="PUT",
                                 headers={"Content-Type": OCI_MANIFEST})
    with urllib.request.urlopen(put):
        pass
    return f"{host}/{repository}:{tag}"
