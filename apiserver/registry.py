"""The generic registry: Kubernetes' `registry/generic/registry/store.go` in miniature.

One `Registry` per resource turns REST verbs into storage operations with Kubernetes'
semantics: system fields on create, generateName retries, the optimistic-concurrency
update loop with its byte-equal no-op short-cut, the spec/status split, graceful and
finalizer-blocked deletion. Handlers parse HTTP; this module never sees a request.
"""

from __future__ import annotations

import copy
import logging
import secrets
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from apimachinery import errors
from apimachinery.defaults import apply_defaults
from apimachinery.errors import StatusCause, StatusError
from apimachinery.validation import validate
from apiserver.codec import decode_from_storage, encode_for_storage
from apiserver.resources import ResourceInfo
from apiserver.storage import (
    CompactedError,
    ConflictError,
    KeyExistsError,
    KeyNotFoundError,
    KeyValue,
    Storage,
    StorageError,
    StorageUnavailableError,
)
from apiserver.strategy import Strategy, strategy_for
from apiserver.watchcache import WatchCache

log = logging.getLogger(__name__)

NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
MAX_GENERATE_ATTEMPTS = 8
MAX_UPDATE_RETRIES = 20

Mutation = Callable[[dict[str, Any]], Awaitable[dict[str, Any]] | dict[str, Any]]


def now_rfc3339(delta_seconds: float = 0) -> str:
    moment = datetime.now(UTC) + timedelta(seconds=delta_seconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def generate_name(prefix: str) -> str:
    return prefix[:58] + "".join(secrets.choice(NAME_ALPHABET) for _ in range(5))


@dataclass
class WriteResult:
    obj: dict[str, Any]
    created: bool = False
    deleted: bool = False  # removed from storage (as opposed to marked for deletion)
    warnings: list[str] = field(default_factory=list)


@dataclass
class DeleteOptions:
    grace_period_seconds: int | None = None
    propagation_policy: str | None = None
    orphan_dependents: bool | None = None
    precondition_uid: str | None = None
    precondition_rv: str | None = None
    dry_run: bool = False

    @classmethod
    def from_dict(cls, body: dict[str, Any], dry_run: bool = False) -> DeleteOptions:
        pre = body.get("preconditions") or {}
        grace = body.get("gracePeriodSeconds")
        policy = body.get("propagationPolicy")
        if policy not in (None, "Orphan", "Background", "Foreground"):
            raise errors.invalid("DeleteOptions", "", [StatusCause(
                "FieldValueNotSupported",
                f'Unsupported value: "{policy}": supported values: "Foreground", "Background", "Orphan"',
                "propagationPolicy")])
        return cls(
            grace_period_seconds=int(grace) if grace is not None else None,
            propagation_policy=policy,
            orphan_dependents=body.get("orphanDependents"),
            precondition_uid=pre.get("uid"),
            precondition_rv=pre.get("resourceVersion"),
            dry_run=dry_run or "All" in (body.get("dryRun") or []),
        )


class Registry:
    """Storage-backed CRUD for one resource."""

    def __init__(self, resource: ResourceInfo, storage: Storage, cache: WatchCache,
                 namespace_lookup: Callable[[str], dict[str, Any] | None] | None = None) -> None:
        self.resource = resource
        self.storage = storage
        self.cache = cache
        self.strategy: Strategy = strategy_for(resource)
        self.namespace_lookup = namespace_lookup
        self.kind_key = (resource.group, resource.kind)
        self.create_hooks: list[Callable[[dict[str, Any]], Awaitable[None]]] = []
        self.update_hooks: list[Callable[[dict[str, Any], dict[str, Any]], Awaitable[None]]] = []

    # ---- reads -------------------------------------------------------------------------

    async def get_kv(self, namespace: str, name: str) -> KeyValue:
        kv = await self.storage.get(self.resource.key(namespace, name))
        if kv is None:
            raise errors.not_found(self.resource.plural, name, self.resource.group)
        return kv

    async def get(self, namespace: str, name: str) -> dict[str, Any]:
        kv = await self.get_kv(namespace, name)
        return decode_from_storage(kv.value, kv.mod_revision)

    # ---- create ------------------------------------------------------------------------

    async def create(self, namespace: str, obj: dict[str, Any], *, dry_run: bool = False) -> WriteResult:
        meta = obj.setdefault("metadata", {})
        if _parses_as_nonzero_revision(meta.get("resourceVersion")):
            # etcd3's store refuses exactly this; anything else is ignored and overwritten.
            raise StatusError(500, "InternalError", "resourceVersion should not be set on objects to be created")
        meta.pop("resourceVersion", None)
        await self._check_namespace_for_create(namespace)
        self._prepare_identity(obj, namespace)
        generated = not meta.get("name") and bool(meta.get("generateName"))
        if generated:
            meta["name"] = generate_name(meta["generateName"])
        self._system_fields_for_create(obj)
        self.strategy.prepare_for_create(obj)
        obj = apply_defaults(self.kind_key, obj)
        self._validate(obj, None)
        for hook in self.create_hooks:
            await hook(obj)
        if dry_run:
            return WriteResult(obj, created=True)
        attempts = MAX_GENERATE_ATTEMPTS if generated else 1
        for attempt in range(attempts):
            key = self.resource.key(namespace, obj["metadata"]["name"])
            try:
                revision = await self.storage.create(key, encode_for_storage(obj))
            except KeyExistsError:
                if generated and attempt + 1 < attempts:
                    obj["metadata"]["name"] = generate_name(obj["metadata"]["generateName"])
                    continue
                if generated:
                    raise errors.generate_name_conflict(self.resource.plural, obj["metadata"]["name"],
                                                        self.resource.group) from None
                existing = await self.storage.get(key)
                terminating = bool(existing and orjson.loads(existing.value)["metadata"].get("deletionTimestamp"))
                raise errors.already_exists(self.resource.plural, obj["metadata"]["name"], self.resource.group,
                                            terminating=terminating) from None
            obj["metadata"]["resourceVersion"] = str(revision)
            return WriteResult(obj, created=True)
        raise AssertionError("unreachable")

    def _prepare_identity(self, obj: dict[str, Any], namespace: str) -> None:
        obj["apiVersion"] = self.resource.api_version
        obj["kind"] = self.resource.kind
        meta = obj["metadata"]
        if self.resource.namespaced:
            if meta.get("namespace") and meta["namespace"] != namespace:
                raise errors.bad_request("the namespace of the provided object does not match the namespace "
                                         "sent on the request")
            meta["namespace"] = namespace
        else:
            meta.pop("namespace", None)
        if not meta.get("name") and not meta.get("generateName"):
            raise errors.invalid(self.resource.kind, "", [StatusCause(
                "FieldValueRequired", "name or generateName is required", "metadata.name")], self.resource.group)

    def _system_fields_for_create(self, obj: dict[str, Any]) -> None:
        meta = obj["metadata"]
        meta["uid"] = str(uuid.uuid4())
        meta["creationTimestamp"] = now_rfc3339()
        for transient in ("deletionTimestamp", "deletionGracePeriodSeconds", "selfLink", "managedFields"):
            meta.pop(transient, None)

    async def _check_namespace_for_create(self, namespace: str) -> None:
        if not self.resource.namespaced or self.namespace_lookup is None:
            return
        ns = self.namespace_lookup(namespace)
        if ns is None:
            # NamespaceLifecycle's live lookup: a namespace created a moment ago may not be in
            # the watch cache yet.
            kv = await self.storage.get(f"/registry/namespaces/{namespace}")
            ns = decode_from_storage(kv.value, kv.mod_revision) if kv is not None else None
        if ns is None:
            raise errors.not_found("namespaces", namespace)
        if ns["metadata"].get("deletionTimestamp"):
            raise errors.forbidden(
                f"{self.resource.plural} \"\" is forbidden: unable to create new content in namespace "
                f"{namespace} because it is being terminated",
                [StatusCause("NamespaceTerminating",
                             f"namespace {namespace} is being terminated", "metadata.namespace")])

    def _validate(self, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
        drop_empty_metadata(obj)
        causes = validate(self.kind_key, obj, old)
        if causes:
            raise errors.invalid(self.resource.kind, obj["metadata"].get("name", ""), causes, self.resource.group)

    # ---- update ------------------------------------------------------------------------

    async def guaranteed_update(self, namespace: str, name: str, mutate: Mutation, *,
                                dry_run: bool = False, allow_retry: bool = True) -> WriteResult:
        """Read, mutate, write with compare-and-swap; retry on conflicts the caller did not
        pin with a resourceVersion. Byte-identical results are not written."""
        key = self.resource.key(namespace, name)
        for _ in range(MAX_UPDATE_RETRIES):
            kv = await self.get_kv(namespace, name)
            current = decode_from_storage(kv.value, kv.mod_revision)
            result = mutate(copy.deepcopy(current))
            new = await result if isinstance(result, Awaitable) else result
            if self._should_delete_during_update(new, current):
                if dry_run:
                    return WriteResult(new, deleted=True)
                try:
                    revision, _ = await self.storage.delete(key, expected_revision=kv.mod_revision)
                except (ConflictError, KeyNotFoundError):
                    continue
                new["metadata"]["resourceVersion"] = str(revision)
                return WriteResult(new, deleted=True)
            for hook in self.update_hooks:
                await hook(new, current)
            encoded = encode_for_storage(new)
            if encoded == kv.value or dry_run:
                if not dry_run:
                    new = current
                return WriteResult(new)
            try:
                revision = await self.storage.update(key, encoded, kv.mod_revision)
            except ConflictError as exc:
                if not allow_retry:
                    raise errors.conflict(self.resource.plural, name, self.resource.group) from None
                if exc.current is None:
                    raise errors.not_found(self.resource.plural, name, self.resource.group) from None
                continue
            new["metadata"]["resourceVersion"] = str(revision)
            return WriteResult(new)
        raise errors.conflict(self.resource.plural, name, self.resource.group)

    def _should_delete_during_update(self, new: dict[str, Any], old: dict[str, Any]) -> bool:
        """An update that clears the last finalizer of an object marked for deletion removes it
        (a Namespace also waits for its spec.finalizers, as ShouldDeleteNamespaceDuringUpdate)."""
        old_meta = old["metadata"]
        if self.resource.kind == "Namespace" and (new.get("spec") or {}).get("finalizers"):
            return False
        return bool(old_meta.get("deletionTimestamp")) and not old_meta.get("deletionGracePeriodSeconds") \
            and not new["metadata"].get("finalizers")

    def apply_update(self, new: dict[str, Any], old: dict[str, Any], *, subresource: str = "") -> dict[str, Any]:
        """Everything between "the client's new object" and "what we store" (BeforeUpdate)."""
        meta, old_meta = new.setdefault("metadata", {}), old["metadata"]
        requested_rv = meta.get("resourceVersion")
        if requested_rv and requested_rv != old_meta.get("resourceVersion"):
            raise errors.conflict(self.resource.plural, old_meta["name"], self.resource.group)
        if meta.get("name") and meta["name"] != old_meta["name"]:
            raise errors.bad_request(f"the name of the object ({meta['name']}) does not match the name on the URL "
                                     f"({old_meta['name']})")
        if self.resource.namespaced and meta.get("namespace") and meta["namespace"] != old_meta.get("namespace"):
            raise errors.bad_request("the namespace of the provided object does not match the namespace sent on "
                                     "the request")
        new["apiVersion"], new["kind"] = self.resource.api_version, self.resource.kind
        meta["name"] = old_meta["name"]
        if self.resource.namespaced:
            meta["namespace"] = old_meta["namespace"]
        meta["uid"] = old_meta["uid"]
        meta["creationTimestamp"] = old_meta["creationTimestamp"]
        meta["resourceVersion"] = old_meta["resourceVersion"]
        for pinned in ("deletionTimestamp", "deletionGracePeriodSeconds"):
            if pinned in old_meta:
                meta[pinned] = old_meta[pinned]
            else:
                meta.pop(pinned, None)
        meta.pop("managedFields", None)
        if subresource == "status":
            self.strategy.prepare_for_status_update(new, old)
        else:
            self.strategy.prepare_for_update(new, old)
        new = apply_defaults(self.kind_key, new)
        self._validate(new, old)
        meta = new["metadata"]
        meta["resourceVersion"] = old_meta["resourceVersion"]
        return new

    async def update(self, namespace: str, name: str, body: dict[str, Any], *, subresource: str = "",
                     dry_run: bool = False) -> WriteResult:
        pinned = bool((body.get("metadata") or {}).get("resourceVersion"))

        def mutate(current: dict[str, Any]) -> dict[str, Any]:
            return self.apply_update(copy.deepcopy(body), current, subresource=subresource)

        return await self.guaranteed_update(namespace, name, mutate, dry_run=dry_run, allow_retry=not pinned)

    # ---- delete ------------------------------------------------------------------------

    async def delete(self, namespace: str, name: str, options: DeleteOptions) -> WriteResult:
        key = self.resource.key(namespace, name)
        for _ in range(MAX_UPDATE_RETRIES):
            kv = await self.get_kv(namespace, name)
            current = decode_from_storage(kv.value, kv.mod_revision)
            meta = current["metadata"]
            if options.precondition_uid and options.precondition_uid != meta.get("uid"):
                raise errors.conflict(self.resource.plural, name, self.resource.group,
                                      f"Precondition failed: UID in precondition: {options.precondition_uid}, "
                                      f"UID in object meta: {meta.get('uid')}")
            if options.precondition_rv and options.precondition_rv != meta.get("resourceVersion"):
                raise errors.conflict(self.resource.plural, name, self.resource.group,
                                      f"Precondition failed: ResourceVersion in precondition: "
                                      f"{options.precondition_rv}, ResourceVersion in object meta: "
                                      f"{meta.get('resourceVersion')}")
            marked = self._mark_for_deletion(current, options)
            if marked is None:
                if options.dry_run:
                    return WriteResult(current, deleted=True)
                try:
                    revision, _ = await self.storage.delete(key, expected_revision=kv.mod_revision)
                except (ConflictError, KeyNotFoundError):
                    continue
                current["metadata"]["resourceVersion"] = str(revision)
                return WriteResult(current, deleted=True)
            if options.dry_run or marked == current:
                return WriteResult(marked if options.dry_run else current)
            try:
                revision = await self.storage.update(key, encode_for_storage(marked), kv.mod_revision)
            except ConflictError:
                continue
            marked["metadata"]["resourceVersion"] = str(revision)
            return WriteResult(marked)
        raise errors.conflict(self.resource.plural, name, self.resource.group)

    def _mark_for_deletion(self, obj: dict[str, Any], options: DeleteOptions) -> dict[str, Any] | None:
        """→ the object to store with deletion marks, or None when it can be removed now."""
        new = copy.deepcopy(obj)
        meta = new["metadata"]
        finalizers = self._finalizers_after_policy(meta, options)
        if finalizers:
            meta["finalizers"] = finalizers
        else:
            meta.pop("finalizers", None)
        if self.strategy.graceful:
            grace = self._pod_grace(new, options)
            if grace > 0:
                self._set_graceful(meta, grace)
                return new
            if finalizers:
                self._set_graceful(meta, 0)
                return new
            return None
        if self.resource.kind == "Namespace":
            if not meta.get("deletionTimestamp"):
                meta["deletionTimestamp"] = now_rfc3339()
                meta["deletionGracePeriodSeconds"] = 0
            new.setdefault("status", {})["phase"] = "Terminating"
            if (new.get("spec") or {}).get("finalizers") or finalizers:
                return new
            return None
        if finalizers:
            if not meta.get("deletionTimestamp"):
                meta["deletionTimestamp"] = now_rfc3339()
                if meta.get("generation"):
                    meta["generation"] += 1
            meta["deletionGracePeriodSeconds"] = 0
            return new
        return None

    def _finalizers_after_policy(self, meta: dict[str, Any], options: DeleteOptions) -> list[str]:
        finalizers = [f for f in (meta.get("finalizers") or [])]
        policy = options.propagation_policy
        if policy is None and options.orphan_dependents is not None:
            policy = "Orphan" if options.orphan_dependents else "Background"
        if policy is None and not {"orphan", "foregroundDeletion"} & set(finalizers) \
                and self.strategy.orphan_by_default and not meta.get("deletionTimestamp"):
            policy = "Orphan"
        if policy == "Orphan":
            finalizers = [f for f in finalizers if f != "foregroundDeletion"]
            if "orphan" not in finalizers:
                finalizers.append("orphan")
        elif policy == "Foreground":
            finalizers = [f for f in finalizers if f != "orphan"]
            if "foregroundDeletion" not in finalizers:
                finalizers.append("foregroundDeletion")
        elif policy == "Background":
            finalizers = [f for f in finalizers if f not in ("orphan", "foregroundDeletion")]
        return finalizers

    @staticmethod
    def _pod_grace(pod: dict[str, Any], options: DeleteOptions) -> int:
        spec, status = pod.get("spec") or {}, pod.get("status") or {}
        grace = options.grace_period_seconds
        if grace is None:
            grace = spec.get("terminationGracePeriodSeconds") or 0
        if grace < 0:
            grace = 1
        if not spec.get("nodeName") or status.get("phase") in ("Succeeded", "Failed"):
            grace = 0
        current = pod["metadata"].get("deletionGracePeriodSeconds")
        if current is not None and pod["metadata"].get("deletionTimestamp"):
            if grace >= current:
                return current if current > 0 else grace
        return grace

    @staticmethod
    def _set_graceful(meta: dict[str, Any], grace: int) -> None:
        already = meta.get("deletionTimestamp")
        if already and meta.get("deletionGracePeriodSeconds") is not None and grace >= meta["deletionGracePeriodSeconds"]:
            return
        meta["deletionTimestamp"] = now_rfc3339(grace)
        meta["deletionGracePeriodSeconds"] = grace
        if not already and meta.get("generation"):
            meta["generation"] += 1


OMITEMPTY_METADATA = ("labels", "annotations", "ownerReferences", "finalizers", "managedFields")


def drop_empty_metadata(obj: dict[str, Any]) -> None:
    """ObjectMeta's lists and maps are `omitempty`: Kubernetes never stores `ownerReferences: []`."""
    meta = obj.get("metadata")
    if isinstance(meta, dict):
        for name in OMITEMPTY_METADATA:
            if name in meta and meta[name] in ([], {}, None):
                del meta[name]


def _parses_as_nonzero_revision(value: Any) -> bool:
    """What APIObjectVersioner.ObjectResourceVersion accepts (strconv.ParseUint), non-zero."""
    return isinstance(value, str) and value.isascii() and value.isdigit() and int(value) != 0


def status_for_storage_error(exc: StorageError, resource: ResourceInfo, name: str = "") -> StatusError:
    """The API error a storage failure means (storage/errors.go's Interpret*Error)."""
    name = name or getattr(exc, "key", "").rsplit("/", 1)[-1]
    if isinstance(exc, KeyNotFoundError) or (isinstance(exc, ConflictError) and exc.current is None):
        return errors.not_found(resource.plural, name, resource.group)
    if isinstance(exc, KeyExistsError):
        return errors.already_exists(resource.plural, name, resource.group)
    if isinstance(exc, ConflictError):
        return errors.conflict(resource.plural, name, resource.group)
    if isinstance(exc, CompactedError):
        return errors.gone("The resourceVersion for the provided watch is too old.")
    if isinstance(exc, StorageUnavailableError):
        return errors.service_unavailable(str(exc) or "storage is unavailable")
    return errors.internal(str(exc))


def is_compacted(exc: BaseException) -> bool:
    return isinstance(exc, CompactedError)
