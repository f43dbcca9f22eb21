"""``/openapi/v3``: the index and one OpenAPI 3.0 document per group/version. Pure, no I/O.

What this module promises:

- :meth:`OpenAPIv3.index` is ``{"paths": {"api/v1": {"serverRelativeURL":
  "/openapi/v3/api/v1?hash=HASH"}, "apis/apps/v1": {...}, ...}}`` for every group/version
  of the registry. ``HASH`` is the uppercase hex SHA-512 of that document's bytes, so it
  changes exactly when the document does (clients cache documents by it).
- :meth:`OpenAPIv3.document` (``"api/v1"``, ``"apis/apps/v1"``) holds ``paths`` for every
  resource and subresource operation (see ``_openapi_operations``) and
  ``components.schemas`` with every definition reachable from them, converted from the
  1.33 definitions (see ``_openapi_schema``). This is what ``kubectl explain`` reads and
  what makes kubectl send ``fieldValidation=Strict``.
- Each document is built once, on first use, and kept with its bytes and hash. Building all
  of them (the index needs every hash) takes a few hundred milliseconds; a server may call
  :meth:`OpenAPIv3.warm` at start-up, off its event loop.
- :meth:`OpenAPIv3.respond` maps a request path to bytes: ``/openapi/v3`` or
  ``/openapi/v3/apis/apps/v1`` (the ``hash`` query parameter is the caller's business:
  it only affects caching headers).

Returned dicts are shared and cached: never mutate them.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from typing import Any

import orjson

from kybernetes.api import KUBE_VERSION, REGISTRY, Registry, Schema, load_schema
from kybernetes.apiserver._discovery import subresource_kind
from kybernetes.apiserver._openapi_operations import (
    DELETE_OPTIONS,
    META,
    PATCH,
    STATUS,
    WATCH_EVENT,
    group_tag,
    operation_tag,
    resource_paths,
)
from kybernetes.apiserver._openapi_schema import ComponentSchemas, ref

PREFIX = "/openapi/v3"

#: Definitions every document carries: what errors, deletes, patches and watches speak.
_ALWAYS = (STATUS, DELETE_OPTIONS, PATCH, WATCH_EVENT, META + "APIResourceList")


@dataclass(frozen=True, slots=True)
class OpenAPIDocument:
    """One group/version document: the dict, its JSON bytes and their SHA-512 (hex)."""

    path: str
    document: dict[str, Any]
    data: bytes
    hash: str


def gv_path(group: str, version: str) -> str:
    """``api/v1`` or ``apis/{group}/{version}``: the key of a document in the index."""
    return f"apis/{group}/{version}" if group else f"api/{version}"


class OpenAPIv3:
    """The OpenAPI v3 documents of a registry, built from a schema on first use."""

    def __init__(self, registry: Registry = REGISTRY, schema: Schema | None = None) -> None:
        self._registry = registry
        self._schema = schema if schema is not None else load_schema()
        self._components = ComponentSchemas(self._schema)
        self._gvs = {gv_path(g, v): (g, v) for g, v in registry.group_versions()}
        self._documents: dict[str, OpenAPIDocument] = {}

    def paths(self) -> list[str]:
        """The index keys, core first: ``["api/v1", "apis/apps/v1", ...]``."""
        return list(self._gvs)

    def get(self, path: str) -> OpenAPIDocument | None:
        """The document at ``path`` (``api/v1``, ``apis/apps/v1``), or None if not served."""
        doc = self._documents.get(path)
        if doc is None:
            if path not in self._gvs:
                return None
            doc = self._documents[path] = self._build(*self._gvs[path])
        return doc

    def document(self, path: str) -> dict[str, Any] | None:
        doc = self.get(path)
        return doc.document if doc is not None else None

    def warm(self) -> None:
        """Build every document now (and the index), e.g. at server start."""
        self.index_bytes()

    @functools.cached_property
    def _index(self) -> tuple[dict[str, Any], bytes]:
        paths = {}
        for path in self._gvs:
            doc = self.get(path)
            assert doc is not None
            paths[path] = {"serverRelativeURL": f"{PREFIX}/{path}?hash={doc.hash}"}
        index = {"paths": paths}
        return index, orjson.dumps(index)

    def index(self) -> dict[str, Any]:
        return self._index[0]

    def index_bytes(self) -> bytes:
        return self._index[1]

    def respond(self, path: str) -> bytes | None:
        """JSON bytes for ``/openapi/v3`` or ``/openapi/v3/<gv path>``; None otherwise."""
        path = path.rstrip("/")
        if path == PREFIX:
            return self.index_bytes()
        if not path.startswith(PREFIX + "/"):
            return None
        doc = self.get(path[len(PREFIX) + 1 :])
        return doc.data if doc is not None else None

    # -- building -----------------------------------------------------------------------

    def _definition_for(self, group: str, version: str, kind: str) -> str | None:
        return self._schema.definition_for(group, version, kind)

    def _build(self, group: str, version: str) -> OpenAPIDocument:
        infos = self._registry.in_group_version(group, version)
        paths: dict[str, Any] = {}
        roots: list[str] = list(_ALWAYS)
        for info in infos:
            paths.update(resource_paths(info, self._definition_for))
            kinds = [info.gvk, (info.group, info.version, info.list_kind)]
            kinds.extend(subresource_kind(info, sub) for sub in info.subresources)
            roots.extend(n for k in kinds if (n := self._definition_for(*k)) is not None)
        prefix = infos[0].url_prefix()
        paths[prefix + "/"] = {
            "get": {
                "description": "get available resources",
                "operationId": f"get{group_tag(group)}{version.capitalize()}APIResources",
                "tags": [operation_tag(group, version)],
                "responses": {
                    "200": {
                        "description": "OK",
                        "content": {"application/json": {"schema": ref(META + "APIResourceList")}},
                    }
                },
            }
        }
        document = {
            "openapi": "3.0.0",
            "info": {"title": "Kubernetes", "version": f"v{KUBE_VERSION}"},
            "paths": paths,
            "components": {"schemas": self._components.closure(roots)},
        }
        # Sorted keys: the bytes, hence the hash, depend only on the content.
        data = orjson.dumps(document, option=orjson.OPT_SORT_KEYS)
        digest = hashlib.sha512(data).hexdigest().upper()
        return OpenAPIDocument(gv_path(group, version), document, data, digest)


@functools.cache
def default_openapi() -> OpenAPIv3:
    """The :class:`OpenAPIv3` of the built-in registry and the 1.33 schema."""
    return OpenAPIv3(REGISTRY)
