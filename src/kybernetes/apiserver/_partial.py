"""Metadata-only responses (``Accept: application/json;as=PartialObjectMetadata;...``).

The garbage collector, namespace cleanup and client-go's metadata informers read only the
metadata of objects. Promises, as upstream:

* GET answers ``{"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
  "metadata": {...}}``; LIST answers a ``PartialObjectMetadataList`` of those, with the
  list's ``resourceVersion``, ``continue`` and ``remainingItemCount``; WATCH events (and
  their bookmarks) carry PartialObjectMetadata objects.
* Asking for a list type on one object (or the reverse on a list) is 406 NotAcceptable.
* ``v1beta1`` is accepted too and echoed in ``apiVersion``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from aiohttp import web

from kybernetes.api import ResourceInfo
from kybernetes.apiserver import _errors as errors
from kybernetes.apiserver._codec import CachedObject
from kybernetes.apiserver._list import ListResult

PARTIAL = "PartialObjectMetadata"
PARTIAL_LIST = "PartialObjectMetadataList"
PARTIAL_KINDS = (PARTIAL, PARTIAL_LIST)
GROUP = "meta.k8s.io"


def _not_acceptable(asked: str, got: str) -> errors.APIError:
    return errors.APIError(
        406, "NotAcceptable", f"you requested {asked}, but the requested object is {got}"
    )


def partial(obj: Mapping[str, Any], version: str = "v1") -> dict[str, Any]:
    return {
        "kind": PARTIAL,
        "apiVersion": f"{GROUP}/{version}",
        "metadata": obj.get("metadata", {}),
    }


def _json(body: bytes) -> web.Response:
    response = web.Response(body=body)
    response.content_type = "application/json"
    return response


def object_response(obj: Mapping[str, Any], kind: str, version: str) -> web.Response:
    if kind != PARTIAL:
        raise _not_acceptable(kind, "not a list")
    return _json(orjson.dumps(partial(obj, version)))


def list_response(result: ListResult, kind: str, version: str) -> web.Response:
    if kind != PARTIAL_LIST:
        raise _not_acceptable(kind, "a list")
    meta: dict[str, Any] = {"resourceVersion": str(result.revision)}
    if result.continue_token:
        meta["continue"] = result.continue_token
    if result.remaining is not None:
        meta["remainingItemCount"] = result.remaining
    doc = {
        "kind": PARTIAL_LIST,
        "apiVersion": f"{GROUP}/{version}",
        "metadata": meta,
        "items": [partial(o.decode(), version) for o in result.items],
    }
    return _json(orjson.dumps(doc))


def event_encoder(version: str) -> Any:
    """Encodes each watch event's object as PartialObjectMetadata."""

    def encode(obj: CachedObject) -> bytes:
        return orjson.dumps(partial(orjson.loads(obj.raw), version))

    return encode


def bookmark_info(info: ResourceInfo, version: str) -> ResourceInfo:
    """What watch bookmarks of a metadata-only watch name as their kind."""
    return ResourceInfo(GROUP, version, PARTIAL, info.plural, info.singular, info.namespaced)
