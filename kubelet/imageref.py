"""Image references resolved the way Kubernetes' runtimes (containerd's reference/docker
package) resolve them, so error messages name the same fully qualified reference.

`busybox:1.36` is `docker.io/library/busybox:1.36` unless the node has a default registry,
then `<registry>/busybox:1.36`; a first path component with a dot, a colon or `localhost`
is a registry host. Docker Hub's API lives on `registry-1.docker.io`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DOCKER_HUB = "docker.io"
DOCKER_HUB_ENDPOINT = "registry-1.docker.io"
_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
_TAG = re.compile(r"[\w][\w.-]{0,127}")
_DIGEST = re.compile(r"[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[0-9a-fA-F]{32,}")
_HOST = re.compile(r"(?:[a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)*|\[[0-9a-fA-F:.]+\])(?::[0-9]+)?")


class InvalidReference(ValueError):
    """Not an image reference (Kubernetes' InvalidImageName)."""


@dataclass(frozen=True)
class ImageRef:
    registry: str  # as written (`docker.io`, `127.0.0.1:5000`)
    repository: str
    tag: str = ""
    digest: str = ""

    @property
    def object(self) -> str:
        """What the manifest is fetched by: the digest if pinned, else the tag."""
        return self.digest or self.tag or "latest"

    @property
    def name(self) -> str:
        """The fully resolved reference, e.g. `docker.io/library/busybox:1.36`."""
        base = f"{self.registry}/{self.repository}"
        if self.digest:
            return f"{base}:{self.tag}@{self.digest}" if self.tag else f"{base}@{self.digest}"
        return f"{base}:{self.tag or 'latest'}"

    @property
    def endpoint(self) -> str:
        """host[:port] the registry API answers on."""
        return DOCKER_HUB_ENDPOINT if self.registry == DOCKER_HUB else self.registry


def parse_reference(reference: str, default_registry: str = "") -> ImageRef:
    """`[host[:port]/]path[:tag][@digest]` → ImageRef; InvalidReference when malformed."""
    rest, digest = reference, ""
    if "@" in rest:
        rest, digest = rest.split("@", 1)
        if not _DIGEST.fullmatch(digest):
            raise InvalidReference(f'couldn\'t parse image name "{reference}": invalid reference format')
    tag = ""
    if ":" in rest.rsplit("/", 1)[-1]:
        rest, tag = rest.rsplit(":", 1)
        if not _TAG.fullmatch(tag):
            raise InvalidReference(f'couldn\'t parse image name "{reference}": invalid reference format')
    first, _, remainder = rest.partition("/")
    if remainder and ("." in first or ":" in first or first == "localhost"):
        registry, path = first, remainder
        if not _HOST.fullmatch(registry):
            raise InvalidReference(f'couldn\'t parse image name "{reference}": invalid reference format')
    else:
        registry, path = default_registry or DOCKER_HUB, rest
    if registry == "index.docker.io":
        registry = DOCKER_HUB
    if registry == DOCKER_HUB and "/" not in path:
        path = f"library/{path}"
    if not path or not all(_COMPONENT.fullmatch(part) for part in path.split("/")):
        detail = "invalid reference format" + (": repository name must be lowercase" if path != path.lower() else "")
        raise InvalidReference(f'couldn\'t parse image name "{reference}": {detail}')
    return ImageRef(registry, path, tag if tag or digest else "latest", digest)
