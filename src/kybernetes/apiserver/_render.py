"""Writing responses: objects, lists and Tables as JSON (or YAML), Statuses, warnings.

Every response body of the API is produced here, so the content types, the ``Warning``
header format (``299 - "text"``) and the Status shape of errors are the same everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import orjson
import yaml
from aiohttp import web
from multidict import CIMultiDict

from kybernetes.api import ResourceInfo
from kybernetes.apiserver import _partial as partial
from kybernetes.apiserver._codec import CachedObject
from kybernetes.apiserver._errors import APIError
from kybernetes.apiserver._list import ListResult, list_body
from kybernetes.apiserver._request import JSON, YAML, Output
from kybernetes.apiserver._tables import IncludeObject, to_table

_INCLUDE: dict[str, IncludeObject] = {"Object": "Object", "Metadata": "Metadata", "None": "None"}


def include_object(query: Mapping[str, str]) -> IncludeObject:
    return _INCLUDE.get(query.get("includeObject", ""), "Metadata")


#: Warnings quote user input (unknown field names), so they are bounded as KEP-1693 bounds
#: them: each cut to 256 characters, at most 4 KiB of them per response.
_WARNING_CHARS, _WARNINGS_TOTAL = 256, 4096
#: Control characters cannot go in a header (aiohttp refuses to send the response at all).
_HEADER_UNSAFE = {c: " " for c in [*range(0x20), 0x7F]}


def warning_headers(warnings: Iterable[str]) -> CIMultiDict[str]:
    headers: CIMultiDict[str] = CIMultiDict()
    total = 0
    for text in warnings:
        if len(text) > _WARNING_CHARS:
            text = text[: _WARNING_CHARS - 3] + "..."
        text = text.translate(_HEADER_UNSAFE)
        total += len(text)
        if total > _WARNINGS_TOTAL:
            break
        escaped = text.replace("\\", "\\\\").replace('"', '\\"')
        headers.add("Warning", f'299 - "{escaped}"')
    return headers


def _response(
    body: bytes, status: int, content_type: str, warnings: Sequence[str] = ()
) -> web.Response:
    headers = warning_headers(warnings) if warnings else None
    # The constructor sets the header directly; the ``content_type`` property would parse
    # and regenerate it on every response.
    return web.Response(body=body, status=status, headers=headers, content_type=content_type)


def raw_json_response(body: bytes) -> web.Response:
    """An object already encoded as JSON (from the watch cache)."""
    return _response(body, 200, JSON)


def _encode(doc: Any, output: Output) -> tuple[bytes, str]:
    if output.yaml:
        return yaml.safe_dump(doc, sort_keys=False).encode(), YAML
    return orjson.dumps(doc), JSON


def _table(doc: dict[str, Any], output: Output) -> dict[str, Any]:
    if output.table == "v1beta1":
        doc["apiVersion"] = "meta.k8s.io/v1beta1"
    return doc


def object_response(
    info: ResourceInfo,
    obj: Mapping[str, Any],
    output: Output,
    *,
    status: int = 200,
    warnings: Sequence[str] = (),
    query: Mapping[str, str] | None = None,
) -> web.Response:
    """One object, or its one-row Table when the client asked for a Table of ``info``."""
    if output.partial:
        return partial.object_response(obj, output.partial, output.partial_version)
    if output.table and obj.get("kind") == info.kind:
        doc = to_table(info, [obj], include_object=include_object(query or {}))
        body, content_type = _encode(_table(doc, output), output)
    else:
        body, content_type = _encode(obj, output)
    return _response(body, status, content_type, warnings)


def list_response(
    info: ResourceInfo, result: ListResult, output: Output, query: Mapping[str, str]
) -> web.Response:
    if output.partial:
        return partial.list_response(result, output.partial, output.partial_version)
    if output.table:
        meta: dict[str, Any] = {"resourceVersion": str(result.revision)}
        if result.continue_token:
            meta["continue"] = result.continue_token
        if result.remaining is not None:
            meta["remainingItemCount"] = result.remaining
        doc = to_table(
            info,
            [o.decode() for o in result.items],
            include_object=include_object(query),
            list_metadata=meta,
        )
        body, content_type = _encode(_table(doc, output), output)
    elif output.yaml:
        body, content_type = _encode(orjson.loads(list_body(info, result)), output)
    else:
        body, content_type = list_body(info, result), JSON
    return _response(body, 200, content_type)


def table_event_encoder(info: ResourceInfo, output: Output, query: Mapping[str, str]) -> Any:
    """An encoder of watch event objects as one-row Tables (definitions only in the first)."""
    first = True
    include = include_object(query)

    def encode(obj: CachedObject) -> bytes:
        nonlocal first
        doc = to_table(info, [obj.decode()], include_object=include, with_column_definitions=first)
        first = False
        return orjson.dumps(_table(doc, output))

    return encode


def status_response(err: APIError) -> web.Response:
    response = web.Response(
        body=orjson.dumps(err.status()), status=err.code, headers=dict(err.headers) or None
    )
    response.content_type = JSON
    if err.retry_after is not None and err.code in (429, 503, 504):
        response.headers["Retry-After"] = str(err.retry_after)
    return response


def success_status(info: ResourceInfo, name: str, uid: str = "") -> dict[str, Any]:
    details: dict[str, Any] = {"name": name, "group": info.group, "kind": info.plural}
    if uid:
        details["uid"] = uid
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": details,
    }
