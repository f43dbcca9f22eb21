"""fieldValidation for request bodies: unknown fields, duplicates and JSON type errors.

Every object written is checked against the resource's 1.33 schema (``api._fields``):

* values of the wrong JSON type are refused (422 Invalid, each field named), so nothing
  downstream ever sees a string where the schema says integer;
* unknown fields are always dropped (Go's decoder drops them upstream); with
  ``fieldValidation=Strict`` they (and duplicate fields in JSON bodies) are a 400
  ``strict decoding error: unknown field "spec.foo"``; with ``Warn`` (the default) each
  becomes a ``Warning`` header; with ``Ignore`` they vanish silently.
"""

from __future__ import annotations

import functools
from typing import Any

from kybernetes.api import ResourceInfo, SchemaNode, load_schema
from kybernetes.api._fields import (
    MAX_STRICT_ERRORS,
    check_fields,
    decode_strict,
    prune_unknown,
    strict_decoding_message,
)
from kybernetes.apiserver import _errors as errors

STRICT, WARN, IGNORE = "Strict", "Warn", "Ignore"


@functools.cache
def schema_node(group: str, version: str, kind: str) -> SchemaNode | None:
    return load_schema().for_kind(group, version, kind)


def node_for(info: ResourceInfo, kind: str = "") -> SchemaNode | None:
    if kind and kind != info.kind:
        if kind == "Scale":
            return schema_node("autoscaling", "v1", "Scale")
        return None
    return schema_node(info.group, info.version, info.kind)


def duplicate_fields(raw: bytes, node: SchemaNode | None) -> list[str]:
    """Strict decoding messages for a raw JSON body (duplicates and unknown fields)."""
    if node is None:
        return []
    try:
        return decode_strict(raw, node)[1]
    except ValueError:
        return []


def check(
    info: ResourceInfo,
    obj: dict[str, Any],
    mode: str,
    *,
    kind: str = "",
    strict_messages: list[str] | None = None,
) -> tuple[dict[str, Any], list[str]]:
    """(the object to use, warnings) for ``obj`` under fieldValidation ``mode``.

    ``strict_messages``: what :func:`duplicate_fields` found in the raw body, if the
    caller ran it (Strict mode on JSON bodies); it supersedes the unknown-field walk.
    """
    node = node_for(info, kind)
    if node is None:
        return obj, []
    unknown, type_errors = check_fields(obj, node)
    if type_errors:
        # The type errors may be in metadata itself: read the name only from a real object.
        meta = obj.get("metadata")
        name = meta.get("name") if isinstance(meta, dict) else None
        name = name if isinstance(name, str) else ""
        raise errors.invalid(kind or info.kind, info.group, name, type_errors)
    messages = strict_messages
    if messages is None:
        messages = list(dict.fromkeys(f'unknown field "{p}"' for p in unknown))
        messages = messages[:MAX_STRICT_ERRORS]
    if messages and mode == STRICT:
        raise errors.bad_request(strict_decoding_message(messages))
    if unknown:
        obj = prune_unknown(obj, node)
    return obj, (messages if mode == WARN else [])
