"""Pod volumes, set up before the pod's sandbox as the kubelet's volume manager does.

Supported: emptyDir (a directory under the kubelet's data dir), hostPath (with its `type`
checks), and the projected kinds — configMap, secret, downwardAPI, projected — whose files
are written once from the objects (ConfigMap `data`/`binaryData`, Secret `data` decoded).
Anything else, and a projected source that needs what kube-py lacks (serviceAccountToken,
clusterTrustBundle), is an error rather than a silent empty directory: the pod stays in
ContainerCreating with a FailedMount event worded as Kubernetes' operation executor does,
`MountVolume.SetUp failed for volume "v" : <cause>`, and the mount is retried with the
volume manager's back-off (0.5 s doubling to 2 min 2 s).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from apimachinery.defaults import DEFAULT_FILE_MODE, VOLUME_SOURCES
from kubelet.downward import DownwardError, container_named, field_ref_value, resource_field_value
from kubelet.objects import ObjectError, ObjectGetter, configmap_data, secret_data

Obj = dict[str, Any]
Payload = dict[str, tuple[bytes, int]]  # relative path → (content, mode)

SUPPORTED = ("emptyDir", "hostPath", "configMap", "secret", "downwardAPI", "projected")
READ_ONLY = ("configMap", "secret", "downwardAPI", "projected")  # Kubernetes mounts these read-only
RETRY_INITIAL = 0.5
RETRY_MAX = 122.0


class MountError(Exception):
    def __init__(self, volume: str, cause: str) -> None:
        super().__init__(f'MountVolume.SetUp failed for volume "{volume}" : {cause}')
        self.volume = volume


class _Cause(Exception):
    """Why one volume (or one projected source) cannot be set up."""


@dataclass
class MountedVolume:
    path: str
    read_only: bool = False


@dataclass
class VolumeContext:
    pod: Obj
    objects: ObjectGetter
    node_name: str = ""
    node_ip: str = ""
    allocatable: dict[str, str] = field(default_factory=dict)

    @property
    def namespace(self) -> str:
        return (self.pod.get("metadata") or {}).get("namespace") or "default"

    def field(self, path: str) -> str | None:
        return field_ref_value(self.pod, path, self.node_name, self.node_ip, "")


def volume_kind(volume: Obj) -> str:
    """The volume's source type (`emptyDir` when none is set, as API defaulting does)."""
    return next((kind for kind in VOLUME_SOURCES if volume.get(kind) is not None), "emptyDir")


async def set_up_volumes(ctx: VolumeContext, volumes_dir: Path) -> tuple[dict[str, MountedVolume], list[MountError]]:
    """Every volume of the pod → (the ones ready by name, one error per volume that is not)."""
    ready: dict[str, MountedVolume] = {}
    failed: list[MountError] = []
    for volume in (ctx.pod.get("spec") or {}).get("volumes") or []:
        name = volume.get("name") or ""
        try:
            ready[name] = await set_up(ctx, volume, volumes_dir / name)
        except (_Cause, OSError) as exc:
            failed.append(MountError(name, str(exc)))
    return ready, failed


async def set_up(ctx: VolumeContext, volume: Obj, target: Path) -> MountedVolume:
    kind = volume_kind(volume)
    source = volume.get(kind) or {}
    if kind not in SUPPORTED:
        raise _Cause(f'volume type "{kind}" is not supported by this kubelet')
    if kind == "hostPath":
        return MountedVolume(host_path(source))
    payload: Payload = {}
    mode = int(source.get("defaultMode", DEFAULT_FILE_MODE)) if isinstance(source, dict) else DEFAULT_FILE_MODE
    if kind == "configMap":
        payload = await _object_payload(ctx, "configmap", source, mode)
    elif kind == "secret":
        payload = await _object_payload(ctx, "secret", {**source, "name": source.get("secretName")}, mode)
    elif kind == "downwardAPI":
        payload = _downward_payload(ctx, source.get("items") or [], mode)
    elif kind == "projected":
        payload = await _projected_payload(ctx, source.get("sources") or [], mode)
    target.mkdir(parents=True, exist_ok=True)
    write_payload(target, payload)
    return MountedVolume(str(target), read_only=kind in READ_ONLY)


def host_path(source: Obj) -> str:
    """The hostPath's path after Kubernetes' `type` checks (creating it for ...OrCreate)."""
    path, kind = str(source.get("path") or ""), source.get("type") or ""
    target = Path(path)
    if kind == "DirectoryOrCreate" and not target.exists():
        target.mkdir(mode=0o755, parents=True)
    elif kind == "FileOrCreate" and not target.exists():
        target.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
        target.touch(mode=0o644)
    checks: dict[str, tuple[Callable[[int], bool], str]] = {
        "Directory": (stat.S_ISDIR, "a directory"), "DirectoryOrCreate": (stat.S_ISDIR, "a directory"),
        "File": (stat.S_ISREG, "a file"), "FileOrCreate": (stat.S_ISREG, "a file"),
        "Socket": (stat.S_ISSOCK, "a socket file"), "CharDevice": (stat.S_ISCHR, "a character device"),
        "BlockDevice": (stat.S_ISBLK, "a block device"),
    }
    if kind in checks:
        test, what = checks[kind]
        try:
            ok = test(os.stat(path).st_mode)
        except OSError:
            ok = False
        if not ok:
            raise _Cause(f"hostPath type check failed: {path} is not {what}")
    return path


async def _object_payload(ctx: VolumeContext, kind: str, source: Obj, default_mode: int) -> Payload:
    """configmap.MakePayload / secret.MakePayload, after reading the object."""
    name, optional = str(source.get("name") or ""), bool(source.get("optional"))
    try:
        found = await ctx.objects(kind, ctx.namespace, name)
    except ObjectError as exc:
        if not (exc.not_found and optional):
            raise _Cause(str(exc)) from exc
        found = {}
    data = configmap_data(found) if kind == "configmap" else secret_data(found)
    items = source.get("items") or []
    if not items:
        return {key: (value, default_mode) for key, value in data.items()}
    payload: Payload = {}
    for item in items:
        key = str(item.get("key") or "")
        if key not in data:
            if optional:
                continue
            raise _Cause(f"configmap references non-existent config key: {key}" if kind == "configmap"
                         else f"references non-existent secret key: {key}")
        payload[str(item.get("path") or key)] = (data[key], int(item.get("mode", default_mode)))
    return payload


def _downward_payload(ctx: VolumeContext, items: list[Obj], default_mode: int) -> Payload:
    """downwardapi.CollectData: one file per item, a fieldRef or a container's resourceFieldRef."""
    payload: Payload = {}
    errors: list[str] = []
    for item in items:
        mode = int(item.get("mode", default_mode))
        if item.get("fieldRef") is not None:
            path = (item["fieldRef"] or {}).get("fieldPath") or ""
            value = ctx.field(path)
            if value is None:
                errors.append(f"unsupported fieldPath: {path}")
                continue
        elif item.get("resourceFieldRef") is not None:
            selector = item["resourceFieldRef"] or {}
            container = container_named(ctx.pod, str(selector.get("containerName") or ""))
            try:
                value = resource_field_value(selector, container or {}, ctx.allocatable)
            except DownwardError as exc:
                errors.append(str(exc))
                continue
        else:
            value = ""
        payload[str(item.get("path") or "")] = (value.encode(), mode)
    if errors:
        raise _Cause(_aggregate(errors))
    return payload


async def _projected_payload(ctx: VolumeContext, sources: list[Obj], default_mode: int) -> Payload:
    """projected's collectData: every source into one directory; errors aggregated."""
    payload: Payload = {}
    errors: list[str] = []
    for source in sources:
        try:
            if source.get("configMap") is not None:
                payload.update(await _object_payload(ctx, "configmap", source["configMap"], default_mode))
            elif source.get("secret") is not None:
                payload.update(await _object_payload(ctx, "secret", source["secret"], default_mode))
            elif source.get("downwardAPI") is not None:
                payload.update(_downward_payload(ctx, (source["downwardAPI"] or {}).get("items") or [], default_mode))
            else:
                kind = next(iter(source), "unknown")
                errors.append(f"projected source {kind} is not supported by this kubelet")
        except _Cause as exc:
            errors.append(str(exc))
    if errors:
        raise _Cause(_aggregate(errors))
    return payload


def _aggregate(errors: list[str]) -> str:
    """utilerrors.NewAggregate's message: the error itself, or `[a, b]` for several."""
    return errors[0] if len(errors) == 1 else f"[{', '.join(errors)}]"


def write_payload(target: Path, payload: Payload) -> None:
    """Write the files (relative paths only: nothing may land outside the volume)."""
    for relative, (content, mode) in payload.items():
        parts = PurePosixPath(relative).parts
        if not relative or PurePosixPath(relative).is_absolute() or ".." in parts:
            raise _Cause(f"invalid path {relative!r}: must be relative and may not contain '..'")
        path = target.joinpath(*parts)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_bytes(content)
        os.chmod(tmp, mode & 0o777)
        tmp.replace(path)
