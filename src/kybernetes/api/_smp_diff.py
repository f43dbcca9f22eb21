"""Creating a strategic merge patch: the two-way diff kubectl computes.

:func:`create_strategic_merge_patch` returns a patch that, applied to ``original`` with
:func:`~kybernetes.api._smp.apply_strategic_merge_patch` and the same schema, yields
``modified``. Per field it emits:

- changed or added values as themselves (recursing into objects), removed fields as
  ``null``;
- for merge lists of objects: changed elements as their diff plus merge key, new elements
  whole, removed ones as ``{"<key>": v, "$patch": "delete"}``, and a
  ``$setElementOrder/<list>`` whenever the list's content or order changed;
- for merge lists of primitives: additions in the list, removals in
  ``$deleteFromPrimitiveList/<list>``, and ``$setElementOrder/<list>`` on any change;
- ``$retainKeys`` (sorted) for objects whose strategy says ``retainKeys``;
- other lists whole when they differ.

``modified`` is assumed to hold no ``null`` members (null means delete in a patch) and
unique merge keys in merge lists, as valid Kubernetes objects do.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kybernetes.api._jsonvalue import OBJECT, deep_copy, json_equal, kind, value_key
from kybernetes.api._patch import PatchError
from kybernetes.api._schema import SchemaNode
from kybernetes.api._smp_meta import (
    DELETE,
    DELETE_PRIMITIVES_PREFIX,
    DIRECTIVE,
    MERGE,
    REPLACE,
    RETAIN_KEYS,
    SET_ORDER_PREFIX,
    FieldMeta,
    element_kind,
    field_meta,
    no_merge_key,
)


def create_strategic_merge_patch(
    original: Mapping[str, Any], modified: Mapping[str, Any], node: SchemaNode | None
) -> dict[str, Any]:
    """The strategic merge patch from ``original`` to ``modified`` (schema ``node``)."""
    if not isinstance(original, Mapping) or not isinstance(modified, Mapping):
        raise PatchError("strategic merge patches are made between JSON objects")
    return _diff_maps(original, modified, node, retain_keys=False)


def _diff_maps(
    original: Mapping[str, Any],
    modified: Mapping[str, Any],
    node: SchemaNode | None,
    *,
    retain_keys: bool,
) -> dict[str, Any]:
    patch: dict[str, Any] = {}
    for key, new in modified.items():
        if key not in original:
            patch[key] = deep_copy(new)
            continue
        old = original[key]
        if kind(old) != kind(new):
            patch[key] = deep_copy(new)
        elif isinstance(new, dict):
            meta = field_meta(node, key)
            if meta.strategy == REPLACE:
                if not json_equal(old, new):
                    patch[key] = deep_copy(new)
            else:
                sub = _diff_maps(old, new, meta.node, retain_keys=meta.retain_keys)
                if sub:
                    patch[key] = sub
        elif isinstance(new, list):
            meta = field_meta(node, key)
            if meta.strategy == MERGE:
                _diff_lists(patch, key, old, new, meta)
            elif not json_equal(old, new):
                patch[key] = deep_copy(new)
        elif not json_equal(old, new):
            patch[key] = new
    for key in original:
        if key not in modified:
            patch[key] = None
    if retain_keys:
        retained = [k for k, v in modified.items() if v is not None]
        # Only worth sending when something changes: then the server clears the rest.
        dropped = any(v is not None and k not in modified for k, v in original.items())
        if retained and (patch or dropped):
            patch[RETAIN_KEYS] = sorted(retained)
    return patch


def _diff_lists(
    patch: dict[str, Any], key: str, old: list[Any], new: list[Any], meta: FieldMeta
) -> None:
    """Put the diff of merge list ``key`` (and its parallel directive lists) into ``patch``."""
    if not old:
        if new:
            patch[key] = deep_copy(new)
        return
    if element_kind(old, new) == OBJECT:
        _diff_object_lists(patch, key, old, new, meta)
        return
    old_keys = {value_key(v) for v in old}
    new_keys = {value_key(v) for v in new}
    added = _unique(v for v in new if value_key(v) not in old_keys)
    removed = _unique(v for v in old if value_key(v) not in new_keys)
    if added:
        patch[key] = added
    if removed:
        patch[DELETE_PRIMITIVES_PREFIX + key] = removed
    if new and (removed or not json_equal(old, new)):
        patch[SET_ORDER_PREFIX + key] = list(new)


def _diff_object_lists(
    patch: dict[str, Any], key: str, old: list[Any], new: list[Any], meta: FieldMeta
) -> None:
    merge_key = meta.merge_key
    if not merge_key:
        raise PatchError(f"cannot merge lists without merge key for {key}")
    for element in (*old, *new):
        if merge_key not in element:
            raise no_merge_key(element, merge_key)
    by_key: dict[tuple[Any, ...], Any] = {}
    for element in old:
        by_key.setdefault(value_key(element[merge_key]), element)
    changes: list[Any] = []
    for element in new:
        before = by_key.get(value_key(element[merge_key]))
        if before is None:
            changes.append(deep_copy(element))
            continue
        sub = _diff_maps(before, element, meta.items, retain_keys=meta.retain_keys)
        if sub:
            changes.append({merge_key: element[merge_key], **sub})
    kept = {value_key(e[merge_key]) for e in new}
    gone = _unique(e[merge_key] for e in old if value_key(e[merge_key]) not in kept)
    changes.extend({merge_key: value, DIRECTIVE: DELETE} for value in gone)
    if changes:
        patch[key] = changes
    same_order = len(old) == len(new) and all(
        value_key(a[merge_key]) == value_key(b[merge_key]) for a, b in zip(old, new, strict=True)
    )
    if new and (changes or not same_order):
        patch[SET_ORDER_PREFIX + key] = [{merge_key: e[merge_key]} for e in new]


def _unique(values: Any) -> list[Any]:
    seen: set[tuple[Any, ...]] = set()
    out: list[Any] = []
    for value in values:
        k = value_key(value)
        if k not in seen:
            seen.add(k)
            out.append(deep_copy(value))
    return out
