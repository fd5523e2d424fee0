"""ConfigMaps and Secrets as the kubelet reads them for env vars and volumes.

Kubernetes' kubelet asks its configMap/secret managers, whose not-found error names the
kind in the singular (`configmap "x" not found`, `secret "s" not found`): that is the text
users see in CreateContainerConfigError and FailedMount. Here each read is a plain GET of
/api/v1/namespaces/NS/{configmaps,secrets}/NAME; any 404 — the object is missing, or the
API server does not serve the resource at all ("the server could not find the requested
resource") — is that not-found error, so pods wait until the object appears.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any, Protocol

from apimachinery.errors import StatusError

Obj = dict[str, Any]
PLURALS = {"configmap": "configmaps", "secret": "secrets"}


class ObjectError(Exception):
    """The object could not be had; `not_found` tells the case `optional: true` forgives."""

    def __init__(self, message: str, not_found: bool = False) -> None:
        super().__init__(message)
        self.not_found = not_found


class ObjectGetter(Protocol):
    async def __call__(self, kind: str, namespace: str, name: str) -> Obj: ...


class ApiObjects:
    """`await objects("configmap", ns, name)` → the object, or ObjectError."""

    def __init__(self, client: Any) -> None:
        self.client = client

    async def __call__(self, kind: str, namespace: str, name: str) -> Obj:
        path = f"/api/v1/namespaces/{namespace}/{PLURALS[kind]}/{name}"
        try:
            response = await self.client.request("GET", path)
        except StatusError as exc:
            if exc.code == 404:
                raise ObjectError(f'{kind} "{name}" not found', not_found=True) from exc
            raise ObjectError(str(exc)) from exc
        body = response.json()
        if not isinstance(body, dict):
            raise ObjectError(f"couldn't get {kind} {namespace}/{name}: unexpected answer from the API server")
        return body


def configmap_data(configmap: Obj) -> dict[str, bytes]:
    """`data` (text) and `binaryData` (base64) of a ConfigMap, as file contents."""
    out = {key: str(value).encode() for key, value in (configmap.get("data") or {}).items()}
    for key, value in (configmap.get("binaryData") or {}).items():
        out.setdefault(key, _b64(value))
    return out


def secret_data(secret: Obj) -> dict[str, bytes]:
    """A Secret's `data`, base64-decoded."""
    return {key: _b64(value) for key, value in (secret.get("data") or {}).items()}


def _b64(value: Any) -> bytes:
    try:
        return base64.b64decode(str(value or ""), validate=True)
    except (binascii.Error, ValueError):
        return str(value or "").encode()
