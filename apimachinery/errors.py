"""Typed errors shared by every component.

Two families live here. `ApiMachineryError` (a ValueError) is what the pure helpers raise
on bad input: a bad quantity, selector or patch gets a typed error with a clear message,
never a bare exception. `StatusError` is an API error that renders as a Kubernetes
`metav1.Status` body, with the reason, code and message formats of
k8s.io/apimachinery/pkg/api/errors, so kubectl prints `Error from server (NotFound): ...`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class ApiMachineryError(ValueError):
    """Bad input to a pure API-machinery helper."""


@dataclass
class StatusCause:
    """One `metav1.StatusCause`: a field path and what is wrong with it."""

    type: str
    message: str
    field: str = ""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"reason": self.type, "message": self.message}
        if self.field:
            out["field"] = self.field
        return out


@dataclass
class StatusError(Exception):
    """An API error carried to the client as a `metav1.Status`."""

    code: int
    reason: str
    message: str
    name: str = ""
    group: str = ""
    kind: str = ""
    causes: list[StatusCause] = field(default_factory=list)
    retry_after_seconds: int | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message

    def to_status(self) -> dict[str, Any]:
        status: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
        }
        details: dict[str, Any] = {}
        if self.name:
            details["name"] = self.name
        if self.group:
            details["group"] = self.group
        if self.kind:
            details["kind"] = self.kind
        if self.causes:
            details["causes"] = [c.to_dict() for c in self.causes]
        if self.retry_after_seconds is not None:
            details["retryAfterSeconds"] = self.retry_after_seconds
        if details:
            status["details"] = details
        status["code"] = self.code  # metav1.Status's field order: details before code
        return status


def qualified(resource: str, group: str) -> str:
    """`deployments.apps`, or just `pods` for the core group, as Kubernetes prints them."""
    return f"{resource}.{group}" if group else resource


def not_found(resource: str, name: str, group: str = "") -> StatusError:
    return StatusError(404, "NotFound", f'{qualified(resource, group)} "{name}" not found',
                       name=name, group=group, kind=resource)


def already_exists(resource: str, name: str, group: str = "", terminating: bool = False) -> StatusError:
    prefix = "object is being deleted: " if terminating else ""
    return StatusError(409, "AlreadyExists", f'{prefix}{qualified(resource, group)} "{name}" already exists',
                       name=name, group=group, kind=resource)


def generate_name_conflict(resource: str, name: str, group: str = "") -> StatusError:
    err = already_exists(resource, name, group)
    err.retry_after_seconds = 1
    return err


OPTIMISTIC_LOCK_MSG = "the object has been modified; please apply your changes to the latest version and try again"


def conflict(resource: str, name: str, group: str = "", detail: str = OPTIMISTIC_LOCK_MSG) -> StatusError:
    return StatusError(409, "Conflict",
                       f'Operation cannot be fulfilled on {qualified(resource, group)} "{name}": {detail}',
                       name=name, group=group, kind=resource)


def invalid(kind: str, name: str, causes: list[StatusCause], group: str = "") -> StatusError:
    """422 Invalid with Kubernetes' message: `Kind.group "name" is invalid: [a, b]`."""
    parts = [f"{c.field}: {c.message}" if c.field else c.message for c in causes]
    joined = parts[0] if len(parts) == 1 else "[" + ", ".join(parts) + "]"
    qualified_kind = f"{kind}.{group}" if group else kind
    return StatusError(422, "Invalid", f'{qualified_kind} "{name}" is invalid: {joined}',
                       name=name, group=group, kind=kind, causes=causes)


def bad_request(message: str) -> StatusError:
    return StatusError(400, "BadRequest", message)


def forbidden(message: str, causes: list[StatusCause] | None = None) -> StatusError:
    return StatusError(403, "Forbidden", message, causes=causes or [])


def method_not_allowed(verb: str, resource: str) -> StatusError:
    return StatusError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource",
                       kind=resource)


def gone(message: str) -> StatusError:
    return StatusError(410, "Expired", message)


def too_large(message: str = "Request entity too large") -> StatusError:
    return StatusError(413, "RequestEntityTooLarge", message)


def unsupported_media_type(content_type: str) -> StatusError:
    return StatusError(415, "UnsupportedMediaType", f"the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/strategic-merge-patch+json, application/merge-patch+json, application/json-patch+json (got {content_type})")


def not_acceptable(message: str) -> StatusError:
    return StatusError(406, "NotAcceptable", message)


def service_unavailable(message: str) -> StatusError:
    return StatusError(503, "ServiceUnavailable", message)


def timeout(message: str, retry_after: int = 1) -> StatusError:
    return StatusError(504, "Timeout", message, retry_after_seconds=retry_after)


def internal(message: str) -> StatusError:
    return StatusError(500, "InternalError", f"Internal error occurred: {message}")
