"""A container's environment, resolved as Kubernetes 1.32's makeEnvironmentVariables does.

envFrom first (configMapRef/secretRef, each key with the optional prefix), then env in
order, later names overriding earlier ones: `value` with `$(VAR)` expanded against what is
defined so far, or `valueFrom` (fieldRef, resourceFieldRef, configMapKeyRef, secretKeyRef).
A missing ConfigMap, Secret or key is an error — the container does not start and waits
in CreateContainerConfigError with exactly the kubelet's message — unless the reference
says `optional: true`, which skips it silently. Objects are read once per resolution.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kubelet.downward import DownwardError, container_named, resource_field_value
from kubelet.expansion import expand
from kubelet.objects import ObjectError, ObjectGetter, secret_data

Obj = dict[str, Any]


class EnvError(Exception):
    """Why the environment cannot be made; the message is the container's waiting message."""


async def make_environment(pod: Obj, container: Obj, objects: ObjectGetter,
                           field_value: Callable[[str], str | None],
                           allocatable: dict[str, str] | None = None) -> dict[str, str]:
    namespace = (pod.get("metadata") or {}).get("namespace") or "default"
    cache: dict[tuple[str, str], Obj | None] = {}

    async def lookup(kind: str, name: str, optional: bool) -> Obj | None:
        """The object, or None when it is missing and optional (skip this reference)."""
        if (kind, name) not in cache:
            try:
                cache[(kind, name)] = await objects(kind, namespace, name)
            except ObjectError as exc:
                if exc.not_found and optional:
                    return None
                raise EnvError(str(exc)) from exc
        return cache[(kind, name)]

    env: dict[str, str] = {}
    for source in container.get("envFrom") or []:
        if source.get("configMapRef") is not None:
            kind, ref = "configmap", source["configMapRef"]
        elif source.get("secretRef") is not None:
            kind, ref = "secret", source["secretRef"]
        else:
            continue
        found = await lookup(kind, ref.get("name") or "", bool(ref.get("optional")))
        if found is None:
            continue
        if kind == "configmap":
            values = {k: str(v) for k, v in (found.get("data") or {}).items()}
        else:
            values = {k: v.decode(errors="replace") for k, v in secret_data(found).items()}
        prefix = source.get("prefix") or ""
        for key, value in values.items():
            env[prefix + key] = value

    for var in container.get("env") or []:
        name = var.get("name") or ""
        value = str(var.get("value") or "")
        source = var.get("valueFrom")
        if value:
            env[name] = expand(value, env)
            continue
        if not source:
            env[name] = ""
            continue
        if source.get("fieldRef") is not None:
            path = source["fieldRef"].get("fieldPath") or ""
            resolved = field_value(path)
            if resolved is None:
                raise EnvError(f"unsupported fieldPath: {path}")
            env[name] = resolved
        elif source.get("resourceFieldRef") is not None:
            selector = source["resourceFieldRef"]
            target = container_named(pod, selector["containerName"]) if selector.get("containerName") else container
            try:
                env[name] = resource_field_value(selector, target or {}, allocatable or {})
            except DownwardError as exc:
                raise EnvError(str(exc)) from exc
        elif source.get("configMapKeyRef") is not None:
            resolved = await _key(lookup, "configmap", source["configMapKeyRef"], namespace)
            if resolved is not None:
                env[name] = resolved
        elif source.get("secretKeyRef") is not None:
            resolved = await _key(lookup, "secret", source["secretKeyRef"], namespace)
            if resolved is not None:
                env[name] = resolved
    return env


async def _key(lookup: Callable[..., Any], kind: str, ref: Obj, namespace: str) -> str | None:
    name, key, optional = ref.get("name") or "", ref.get("key") or "", bool(ref.get("optional"))
    found = await lookup(kind, name, optional)
    if found is None:
        return None
    if kind == "configmap":
        data: dict[str, Any] = found.get("data") or {}
        title = "ConfigMap"
    else:
        data = {k: v.decode(errors="replace") for k, v in secret_data(found).items()}
        title = "Secret"
    if key not in data:
        if optional:
            return None
        raise EnvError(f"couldn't find key {key} in {title} {namespace}/{name}")
    return str(data[key])
