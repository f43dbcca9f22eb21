"""Request paths and query strings for a :class:`~kybernetes.api.ResourceInfo`. Pure.

Promises: namespaced resources get ``/namespaces/{ns}/`` when a namespace is given (and
only list, watch and delete-collection may omit it, meaning all namespaces); cluster-wide
resources refuse a namespace; a subresource must be one the registry declares. Query
values are encoded as the API server parses them (booleans as ``true``/``false``; ``None``
leaves the parameter out).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlencode

from kybernetes.api import ResourceInfo

QueryValue = str | int | float | bool | None

#: Patch type -> Content-Type.
PATCH_CONTENT_TYPES: dict[str, str] = {
    "json": "application/json-patch+json",
    "merge": "application/merge-patch+json",
    "strategic": "application/strategic-merge-patch+json",
    "apply": "application/apply-patch+yaml",
}


def resource_path(
    resource: ResourceInfo,
    *,
    namespace: str | None = None,
    name: str | None = None,
    subresource: str | None = None,
    collection: bool = False,
) -> str:
    """The path of a collection (``collection``) or of one object (``name``)."""
    parts = [resource.url_prefix()]
    if resource.namespaced:
        if namespace:
            parts.append(f"namespaces/{_segment(namespace)}")
        elif not collection:
            raise ValueError(f"{resource.group_resource} is namespaced: a namespace is needed")
    elif namespace:
        raise ValueError(f"{resource.group_resource} is cluster-scoped: no namespace")
    parts.append(resource.plural)
    if name is not None:
        if not name:
            raise ValueError(f"{resource.group_resource}: an object name cannot be empty")
        parts.append(_segment(name))
    elif not collection:
        raise ValueError(f"{resource.group_resource}: a name is needed")
    if subresource:
        if name is None:
            raise ValueError("a subresource belongs to a named object")
        if subresource not in resource.subresources:
            known = ", ".join(sorted(resource.subresources)) or "none"
            raise ValueError(
                f"{resource.group_resource} has no subresource {subresource!r} (has: {known})"
            )
        parts.append(subresource)
    return "/".join(parts)


def _segment(value: str) -> str:
    if "/" in value or value in (".", ".."):
        raise ValueError(f"{value!r} cannot be a path segment")
    return quote(value, safe="")


def query_string(params: Mapping[str, QueryValue | list[str]]) -> str:
    """``?a=b&c=d`` (empty when nothing is set)."""
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, bool):
            pairs.append((key, "true" if value else "false"))
        elif isinstance(value, list):
            pairs.extend((key, str(v)) for v in value)
        else:
            pairs.append((key, str(value)))
    return "?" + urlencode(pairs) if pairs else ""


def object_meta(body: Mapping[str, Any]) -> Mapping[str, Any]:
    meta = body.get("metadata")
    return meta if isinstance(meta, Mapping) else {}
