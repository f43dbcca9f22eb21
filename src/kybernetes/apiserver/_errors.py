"""Every failure the API server reports is an :class:`APIError` carrying a Kubernetes Status.

The constructors below reproduce upstream's reasons, codes and message wordings, because
kubectl prints them verbatim (``Error from server (NotFound): pods "x" not found``) and
clients branch on ``reason``. :func:`from_store_error` is the one place where store errors
become Statuses; handlers never build a Status by hand.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kybernetes import store
from kybernetes.api import ResourceInfo
from kybernetes.api._errors import FieldError, invalid_message

#: The request body limit upstream enforces (and clients expect 413 beyond).
MAX_REQUEST_BODY = 3 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Cause:
    """One entry of ``details.causes``: why, in which field."""

    reason: str
    message: str
    field: str = ""

    def to_dict(self) -> dict[str, str]:
        out = {"reason": self.reason, "message": self.message}
        if self.field:
            out["field"] = self.field
        return out


@dataclass(slots=True)
class APIError(Exception):
    """An HTTP error with its Kubernetes Status. ``headers`` go on the response too."""

    code: int
    reason: str
    message: str
    name: str = ""
    group: str = ""
    kind: str = ""
    causes: Sequence[Cause] = ()
    retry_after: int | None = None
    headers: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        Exception.__init__(self, self.message)

    def __str__(self) -> str:
        return f"{self.code} {self.reason}: {self.message}"

    def status(self) -> dict[str, Any]:
        """The ``v1 Status`` object for the response body."""
        details: dict[str, Any] = {}
        if self.name:
            details["name"] = self.name
        if self.group:
            details["group"] = self.group
        if self.kind:
            details["kind"] = self.kind
        if self.causes:
            details["causes"] = [c.to_dict() for c in self.causes]
        if self.retry_after is not None:
            details["retryAfterSeconds"] = self.retry_after
        out: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if details:
            out["details"] = details
        return out


def _qualified(info: ResourceInfo | None, resource: str = "") -> tuple[str, str, str]:
    """(``plural.group`` as messages print it, plural, group)."""
    if info is None:
        return resource, resource, ""
    return info.group_resource, info.plural, info.group


def not_found(info: ResourceInfo | None, name: str, *, resource: str = "") -> APIError:
    qualified, plural, group = _qualified(info, resource)
    message = f'{qualified} "{name}" not found' if name else f"{qualified} not found"
    return APIError(404, "NotFound", message, name=name, group=group, kind=plural)


def namespace_not_found(namespace: str) -> APIError:
    return APIError(
        404, "NotFound", f'namespaces "{namespace}" not found', name=namespace, kind="namespaces"
    )


def already_exists(info: ResourceInfo | None, name: str) -> APIError:
    qualified, plural, group = _qualified(info)
    return APIError(
        409, "AlreadyExists", f'{qualified} "{name}" already exists', name, group, plural
    )


def conflict(info: ResourceInfo | None, name: str, why: str = "") -> APIError:
    qualified, plural, group = _qualified(info)
    why = why or (
        "the object has been modified; please apply your changes to the latest version "
        "and try again"
    )
    message = f'Operation cannot be fulfilled on {qualified} "{name}": {why}'
    return APIError(409, "Conflict", message, name, group, plural)


def invalid(kind: str, group: str, name: str, errors: Sequence[FieldError]) -> APIError:
    """422 Invalid, worded as upstream: ``Pod "x" is invalid: spec.a: Required value``."""
    causes = [Cause(str(e.type), e.body(), e.field) for e in errors]
    message = invalid_message(group, kind, name, errors)
    return APIError(422, "Invalid", message, name, group, kind, causes)


def forbidden(
    info: ResourceInfo | None, name: str, why: str, *, causes: Sequence[Cause] = ()
) -> APIError:
    qualified, plural, group = _qualified(info)
    subject = f'{qualified} "{name}"' if name else qualified
    return APIError(403, "Forbidden", f"{subject} is forbidden: {why}", name, group, plural, causes)


def bad_request(message: str) -> APIError:
    return APIError(400, "BadRequest", message)


def method_not_allowed() -> APIError:
    message = "the server does not allow this method on the requested resource"
    return APIError(405, "MethodNotAllowed", message)


def not_acceptable(accepted: Iterable[str]) -> APIError:
    message = "only the following media types are accepted: " + ", ".join(accepted)
    return APIError(406, "NotAcceptable", message)


def unsupported_media_type(content_type: str, accepted: Iterable[str]) -> APIError:
    message = (
        f"the body of the request was in an unknown format ({content_type or 'none'}) - "
        "accepted media types include: " + ", ".join(accepted)
    )
    return APIError(415, "UnsupportedMediaType", message)


def request_entity_too_large(limit: int = MAX_REQUEST_BODY) -> APIError:
    return APIError(413, "RequestEntityTooLarge", f"Request entity too large: limit is {limit}")


def expired(message: str) -> APIError:
    return APIError(410, "Expired", message)


def too_old_resource_version(requested: int, oldest: int) -> APIError:
    return expired(f"too old resource version: {requested} ({oldest})")


def continue_expired() -> APIError:
    return expired(
        "The provided continue parameter is too old to display a consistent list result. "
        "You can start a new list without the continue parameter."
    )


def too_large_resource_version(requested: int, current: int) -> APIError:
    message = f"Too large resource version: {requested}, current: {current}"
    cause = Cause("ResourceVersionTooLarge", "Too large resource version")
    return APIError(504, "Timeout", message, causes=[cause], retry_after=1)


def too_many_requests(message: str, retry_after: int = 1) -> APIError:
    return APIError(429, "TooManyRequests", message, retry_after=retry_after)


def service_unavailable(message: str) -> APIError:
    return APIError(503, "ServiceUnavailable", message)


def internal_error(message: str) -> APIError:
    return APIError(
        500,
        "InternalError",
        f"Internal error occurred: {message}",
        causes=[Cause("", message)],
    )


def from_store_error(
    err: store.StoreError, info: ResourceInfo | None = None, name: str = ""
) -> APIError:
    """The Status a store error means for a request on ``info``/``name``."""
    if isinstance(err, store.NotFound):
        return not_found(info, name)
    if isinstance(err, store.AlreadyExists):
        return already_exists(info, name)
    if isinstance(err, store.Conflict):
        return conflict(info, name)
    if isinstance(err, store.Compacted):
        return too_old_resource_version(err.revision, err.compact_revision + 1)
    if isinstance(err, store.FutureRevision):
        return too_large_resource_version(err.revision, err.current)
    if isinstance(err, store.ValueTooLarge):
        return request_entity_too_large(err.limit)
    if isinstance(err, store.Unavailable):
        return service_unavailable(f"the datastore is unavailable: {err}")
    return internal_error(str(err))
