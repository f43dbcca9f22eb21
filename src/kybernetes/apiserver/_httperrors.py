"""The last line of defence: whatever leaves the HTTP layer as an error is a Status.

Resource handlers already turn failures into Statuses (``_handlers.guarded``). This
middleware covers what never reaches them: aiohttp's own answers (no route matches, e.g. a
path with a newline in a segment, which no route pattern accepts; the body limit) and an
unexpected exception in any handler. Each becomes a ``v1 Status`` with the same code and
upstream's reason, so clients that decode every error body (kubectl, client-go, the Python
client) never meet aiohttp's plain-text ``404: Not Found``.
"""

from __future__ import annotations

import logging

from aiohttp import web
from aiohttp.typedefs import Handler

from kybernetes.apiserver import _errors as errors
from kybernetes.apiserver._render import status_response

log = logging.getLogger(__name__)

#: Upstream's ``reason`` per status code (what ``metav1.StatusReason`` says for it).
_REASONS = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    406: "NotAcceptable",
    409: "Conflict",
    410: "Gone",
    413: "RequestEntityTooLarge",
    415: "UnsupportedMediaType",
    422: "Invalid",
    429: "TooManyRequests",
    503: "ServiceUnavailable",
    504: "Timeout",
}


def status_of(exc: web.HTTPException) -> errors.APIError:
    """The Status an aiohttp HTTP error stands for."""
    code = exc.status
    if code == 404:
        return errors.APIError(404, "NotFound", "the server could not find the requested resource")
    if code == 405:
        return errors.method_not_allowed()
    if code == 413:
        return errors.request_entity_too_large()
    reason = _REASONS.get(code, "BadRequest" if code < 500 else "InternalError")
    return errors.APIError(code, reason, exc.text or exc.reason)


@web.middleware
async def errors_as_status(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException as e:
        if e.status < 400:
            raise  # redirects and the like are answers, not errors
        return status_response(status_of(e))
    except ConnectionError:
        raise  # the client went away: nobody to answer
    except Exception as e:
        log.exception("internal error serving %s %s", request.method, request.path)
        return status_response(errors.internal_error(f"{type(e).__name__}: {e}"))
