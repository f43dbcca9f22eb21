"""Every failure the client raises, typed, and the one place a Status becomes an exception.

Theory of operation:

* :class:`APIError` and its subclasses mean the server answered with an error Status; the
  exception carries that Status (``code``, ``reason``, ``message``, ``details``) as sent.
  Which class is chosen depends on the HTTP code first and ``reason`` second, as upstream's
  ``errors.IsNotFound`` and friends do: 409 ``AlreadyExists`` is :class:`AlreadyExists`,
  any other 409 is :class:`Conflict`; 410 ``Expired`` is :class:`Expired`, any other 410
  :class:`Gone`.
* :class:`TransportError` means no HTTP answer came back: :class:`ConnectError` (nothing was
  sent, so any request may be retried elsewhere) or a connection that broke or timed out
  (:class:`RequestTimeout`) after the request may have reached the server.
* :func:`error_from_status` accepts any body: a Status, other JSON, text, or nothing. It
  never raises while building the exception.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson


class ClientError(Exception):
    """Base of everything :mod:`kybernetes.client` raises on purpose."""


@dataclass(frozen=True, slots=True)
class Cause:
    """One entry of a Status' ``details.causes``."""

    reason: str
    message: str
    field: str = ""


class APIError(ClientError):
    """The server answered with an error Status."""

    def __init__(self, status: Mapping[str, Any], code: int | None = None) -> None:
        self.status: Mapping[str, Any] = status
        self.code: int = int(code if code is not None else status.get("code") or 0)
        self.reason: str = str(status.get("reason") or "")
        self.message: str = str(status.get("message") or "")
        details = status.get("details")
        self.details: Mapping[str, Any] = details if isinstance(details, Mapping) else {}
        super().__init__(f"{self.code} {self.reason or 'Error'}: {self.message}")

    @property
    def causes(self) -> list[Cause]:
        raw = self.details.get("causes")
        if not isinstance(raw, list):
            return []
        return [
            Cause(str(c.get("reason", "")), str(c.get("message", "")), str(c.get("field", "")))
            for c in raw
            if isinstance(c, Mapping)
        ]


class BadRequest(APIError):
    """400."""


class Unauthorized(APIError):
    """401."""


class Forbidden(APIError):
    """403."""


class NotFound(APIError):
    """404."""


class MethodNotAllowed(APIError):
    """405."""


class AlreadyExists(APIError):
    """409 with reason ``AlreadyExists``: a create found the name taken."""


class Conflict(APIError):
    """409 otherwise: usually a stale ``resourceVersion`` (re-read, re-apply, retry)."""


class Gone(APIError):
    """410."""


class Expired(Gone):
    """410 with reason ``Expired``: a resourceVersion or continue token is too old."""


class WatchExpired(Expired):
    """A watch cannot resume from its resourceVersion: list again, then watch from there."""


class Invalid(APIError):
    """422: the object failed validation; :attr:`causes` name the fields."""


class TooManyRequests(APIError):
    """429, after the client's own retries honouring ``Retry-After`` ran out."""

    def __init__(
        self, status: Mapping[str, Any], code: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(status, code)
        self.retry_after = retry_after


class ServerError(APIError):
    """5xx."""


class TransportError(ClientError):
    """No HTTP answer: the connection failed, broke or timed out."""


class ConnectError(TransportError):
    """The connection could not be made, so the request was never sent."""


class RequestTimeout(TransportError, TimeoutError):
    """The per-request timeout passed before the answer came."""


_BY_CODE: dict[int, type[APIError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    405: MethodNotAllowed,
    409: Conflict,
    410: Gone,
    422: Invalid,
    429: TooManyRequests,
}


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (only the delta-seconds form)."""
    if not value:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


def status_from_body(code: int, body: bytes) -> dict[str, Any]:
    """The Status the server sent, or one made up from whatever the body was."""
    try:
        decoded = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        decoded = None
    if isinstance(decoded, dict) and decoded.get("kind") == "Status":
        return decoded
    text = body.decode("utf-8", "replace").strip()
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "status": "Failure",
        "code": code,
        "message": text[:1000] or f"the server answered HTTP {code}",
    }


def error_from_status(code: int, body: bytes, headers: Mapping[str, str] | None = None) -> APIError:
    """The typed exception for an error answer (``headers`` with lower-case names)."""
    status = status_from_body(code, body)
    return error_from_status_object(status, code, headers)


def error_from_status_object(
    status: Mapping[str, Any], code: int | None = None, headers: Mapping[str, str] | None = None
) -> APIError:
    """The typed exception for a decoded Status (e.g. from a watch ERROR event)."""
    if code is None:
        try:
            code = int(status.get("code") or 500)
        except (TypeError, ValueError):
            code = 500
    reason = status.get("reason")
    if code == 409 and reason == "AlreadyExists":
        return AlreadyExists(status, code)
    if code == 410 and reason == "Expired":
        return Expired(status, code)
    if code == 429:
        retry = parse_retry_after((headers or {}).get("retry-after"))
        if retry is None:
            details = status.get("details")
            if isinstance(details, Mapping):
                raw = details.get("retryAfterSeconds")
                retry = float(raw) if isinstance(raw, int | float) else None
        return TooManyRequests(status, code, retry)
    if code >= 500:
        return ServerError(status, code)
    return _BY_CODE.get(code, APIError)(status, code)
