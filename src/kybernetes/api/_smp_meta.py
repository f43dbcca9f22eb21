"""What strategic merge patch needs to know about a field, read from the schema.

A field's patch metadata is its patch strategy (``merge``, ``replace``, or none, plus an
optional ``retainKeys``) and, for lists of objects, its merge key. Where the schema does
not describe a field (no schema, free-form JSON, an unknown name) the metadata is empty,
which makes objects merge and lists replace: JSON merge patch behaviour, as upstream
treats unknown content.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kybernetes.api._jsonvalue import ARRAY, OBJECT, kind, render
from kybernetes.api._patch import PatchError
from kybernetes.api._schema import SchemaNode

# The directive vocabulary of application/strategic-merge-patch+json.
DIRECTIVE = "$patch"
DELETE = "delete"
REPLACE = "replace"
MERGE = "merge"
RETAIN_KEYS = "$retainKeys"
SET_ORDER = "$setElementOrder"
DELETE_PRIMITIVES = "$deleteFromPrimitiveList"
SET_ORDER_PREFIX = SET_ORDER + "/"
DELETE_PRIMITIVES_PREFIX = DELETE_PRIMITIVES + "/"

_RETAIN_KEYS_STRATEGY = "retainKeys"


@dataclass(frozen=True, slots=True)
class FieldMeta:
    """Patch metadata of one field. ``node`` is the field's schema (None: unknown)."""

    name: str
    node: SchemaNode | None
    strategy: str = ""
    retain_keys: bool = False
    merge_key: str | None = None

    @property
    def items(self) -> SchemaNode | None:
        """The schema of the elements, when the field is a list."""
        return self.node.items if self.node is not None else None


def child(node: SchemaNode | None, key: str) -> SchemaNode | None:
    """The schema of ``key`` in an object (a named property or a map's value schema)."""
    if node is None:
        return None
    found = node.field(key)
    return found if found is not None else node.additional_properties


def field_meta(parent: SchemaNode | None, key: str) -> FieldMeta:
    node = child(parent, key)
    if node is None:
        return FieldMeta(key, None)
    retain, strategy = _split_strategy(node.patch_strategy)
    return FieldMeta(key, node, strategy, retain, node.patch_merge_key)


def _split_strategy(raw: str | None) -> tuple[bool, str]:
    """(has retainKeys, the other strategy) from e.g. ``merge,retainKeys``."""
    if not raw:
        return False, ""
    parts = [p.strip() for p in raw.split(",")]
    if len(parts) == 1:
        return (True, "") if parts[0] == _RETAIN_KEYS_STRATEGY else (False, parts[0])
    if len(parts) == 2 and _RETAIN_KEYS_STRATEGY in parts:
        other = parts[1] if parts[0] == _RETAIN_KEYS_STRATEGY else parts[0]
        return True, other
    raise PatchError(f"unexpected patch strategy: {raw}")


PRIMITIVE = "primitive"


def element_kind(*lists: list[Any]) -> str | None:
    """``object`` or ``primitive``: what every element of ``lists`` is (None: all empty).

    Objects mixed with primitives, and lists of lists, cannot be merged.
    """
    found: str | None = None
    for values in lists:
        for value in values:
            current = kind(value)
            if current == ARRAY:
                raise PatchError("lists of lists are not supported")
            current = OBJECT if current == OBJECT else PRIMITIVE
            if found is not None and found != current:
                raise PatchError(f"list element types are not identical: {render(list(lists))}")
            found = current
    return found


def no_merge_key(element: Any, merge_key: str) -> PatchError:
    return PatchError(f"map: {render(element)} does not contain declared merge key: {merge_key}")


def bad_patch_type(value: Any, element: Any) -> PatchError:
    shown = value if isinstance(value, str) else render(value)
    return PatchError(f"unknown patch type: {shown} in map: {render(element)}")


def is_directive_key(key: str) -> bool:
    """Keys that carry directives rather than data."""
    return (
        key in (DIRECTIVE, RETAIN_KEYS)
        or key.startswith(SET_ORDER_PREFIX)
        or key.startswith(DELETE_PRIMITIVES_PREFIX)
    )
