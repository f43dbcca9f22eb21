"""PATCH bodies: decode by content type and apply to the current object. Pure.

JSON patch, JSON merge patch and strategic merge patch go through ``kybernetes.api``
(list semantics from the schema). Server-side apply has its own path (:mod:`._apply`,
:mod:`._apply_scale`) and is refused here with a 415 should it ever arrive. Malformed
patches are 400; patches that do not apply (a failed ``test``, a path that is not there)
are 422, as upstream.
"""

from __future__ import annotations

from typing import Any

import orjson

from kybernetes.api import (
    PatchError,
    SchemaNode,
    apply_json_patch,
    apply_merge_patch,
    apply_strategic_merge_patch,
)
from kybernetes.api._jsonvalue import drop_nulls
from kybernetes.apiserver import _errors as errors
from kybernetes.apiserver import _nesting as nesting
from kybernetes.apiserver._request import (
    APPLY_PATCH,
    JSON_PATCH,
    MERGE_PATCH,
    STRATEGIC_MERGE_PATCH,
)

SUPPORTED = (JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH)


def decode_patch(raw: bytes, content_type: str) -> Any:
    if content_type == APPLY_PATCH:
        raise errors.APIError(
            415,
            "UnsupportedMediaType",
            "server-side apply (application/apply-patch+yaml) is not supported on this endpoint",
        )
    if content_type not in SUPPORTED:
        raise errors.unsupported_media_type(content_type, (*SUPPORTED, APPLY_PATCH))
    try:
        patch = orjson.loads(raw)
    except orjson.JSONDecodeError as e:
        raise errors.bad_request(f"error decoding patch: {e}") from None
    nesting.check_value(patch, raw)
    if content_type == JSON_PATCH:
        if not isinstance(patch, list):
            raise errors.bad_request(
                "json: cannot unmarshal object into Go value of type jsonpatch.Patch"
            )
    elif not isinstance(patch, dict):
        raise errors.bad_request("error decoding patch: the patch is not a JSON object")
    return patch


def apply_patch(
    content_type: str, current: dict[str, Any], patch: Any, node: SchemaNode | None
) -> dict[str, Any]:
    """``current`` with ``patch`` applied (``current`` is not changed)."""
    try:
        if content_type == JSON_PATCH:
            result: Any = apply_json_patch(current, patch)
        elif content_type == MERGE_PATCH:
            result = apply_merge_patch(current, patch)
        else:
            result = apply_strategic_merge_patch(current, patch, node)
    except PatchError as e:
        if e.malformed:
            raise errors.bad_request(str(e)) from None
        raise errors.APIError(422, "Invalid", str(e)) from None
    if not isinstance(result, dict):
        raise errors.APIError(422, "Invalid", "the patch result is not a JSON object")
    result = drop_nulls(result)
    assert isinstance(result, dict)
    return result
