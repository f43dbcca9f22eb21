"""Applying a strategic merge patch (``application/strategic-merge-patch+json``).

Semantics follow the Kubernetes API server, driven by the schema's patch metadata:

- objects merge recursively; ``null`` deletes a key;
- lists with strategy ``merge`` and a merge key merge element-wise by that key (patch
  elements update the live element with the same key, new ones are added); lists of
  primitives with strategy ``merge`` are unioned; every other list is replaced;
- elements end up in the order :mod:`kybernetes.api._smp_order` describes;
- directives: ``$patch: replace`` / ``delete`` on an object (replace it with the rest of
  the patch / make it ``{}``), ``{"$patch": "replace"}`` in a list (the patch's elements
  replace the list), ``{"<key>": v, "$patch": "delete"}`` in a list (remove that element),
  ``$setElementOrder/<list>``, ``$retainKeys`` and ``$deleteFromPrimitiveList/<list>``;
- content the schema does not describe merges like a JSON merge patch (objects merge,
  lists replace), directives still honoured.

Values added where the live object had nothing are cleaned as upstream does: ``null``
members dropped, directive keys removed, maps marked ``$patch: delete`` left out.
Deliberate differences from upstream: ``$patch: merge`` on an object is accepted as the
default merge (upstream rejects it), and a new object marked ``$patch: replace`` keeps its
content (upstream drops it).

The input document and patch are never mutated; the result shares nothing with them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kybernetes.api._jsonvalue import OBJECT, deep_copy, kind, render, value_key
from kybernetes.api._patch import PatchError
from kybernetes.api._schema import SchemaNode
from kybernetes.api._smp_meta import (
    DELETE,
    DELETE_PRIMITIVES,
    DELETE_PRIMITIVES_PREFIX,
    DIRECTIVE,
    MERGE,
    REPLACE,
    RETAIN_KEYS,
    SET_ORDER,
    SET_ORDER_PREFIX,
    FieldMeta,
    bad_patch_type,
    element_kind,
    field_meta,
    is_directive_key,
    no_merge_key,
)
from kybernetes.api._smp_order import normalize, partition

_DROP = object()  # what a new value marked "$patch: delete" turns into: nothing


def apply_strategic_merge_patch(
    doc: Mapping[str, Any], patch: Mapping[str, Any], node: SchemaNode | None
) -> dict[str, Any]:
    """Apply ``patch`` to ``doc`` with the list semantics of schema ``node``.

    ``node`` is the object's schema (``load_schema().for_kind(group, version, kind)``);
    None means no schema (objects merge, lists replace).
    """
    if not isinstance(patch, Mapping):
        raise PatchError("strategic merge patch must be a JSON object", malformed=True)
    if not isinstance(doc, Mapping):
        raise PatchError("strategic merge patch applies to a JSON object")
    return _merge_map(deep_copy(dict(doc)), patch, node)


def _merge_map(
    original: dict[str, Any], patch: Mapping[str, Any], node: SchemaNode | None
) -> dict[str, Any]:
    """Merge ``patch`` into ``original``, which we own and change in place."""
    if DIRECTIVE in patch:
        directive = patch[DIRECTIVE]
        if directive == REPLACE:
            result: dict[str, Any] = _new_value({k: v for k, v in patch.items() if k != DIRECTIVE})
            return result
        if directive == DELETE:
            return {}
        if directive != MERGE:
            raise bad_patch_type(directive, patch)
    if RETAIN_KEYS in patch:
        _retain_keys(original, patch)
    ordered = _set_element_orders(original, patch, node)
    for key, value in patch.items():
        if key in ordered or key in (DIRECTIVE, RETAIN_KEYS) or key.startswith(SET_ORDER):
            continue
        deleting = key.startswith(DELETE_PRIMITIVES)
        if deleting:
            key = _target(key, DELETE_PRIMITIVES_PREFIX, "primitive list")
        if value is None:
            original.pop(key, None)
            continue
        if key not in original or kind(original[key]) != kind(value):
            if not deleting:
                _put_new(original, key, value)
            continue
        if isinstance(value, dict):
            meta = field_meta(node, key)
            if meta.strategy == REPLACE:
                _put_new(original, key, value)
            else:
                original[key] = _merge_map(original[key], value, meta.node)
        elif isinstance(value, list):
            original[key] = _merge_list_field(original[key], value, field_meta(node, key), deleting)
        else:
            original[key] = value
    return original


def _target(key: str, prefix: str, what: str) -> str:
    """The field a parallel-list directive key (``$prefix/field``) is about."""
    if not key.startswith(prefix) or len(key) == len(prefix):
        raise PatchError(f"invalid patch format of {what}: {key!r}", malformed=True)
    return key[len(prefix) :]


def _put_new(original: dict[str, Any], key: str, value: Any) -> None:
    new = _new_value(value)
    if new is _DROP:
        original.pop(key, None)
    else:
        original[key] = new


def _new_value(value: Any) -> Any:
    """A patch value taken as is (nothing to merge with), cleaned of nulls and directives."""
    if isinstance(value, dict):
        if DIRECTIVE in value:
            directive = value[DIRECTIVE]
            if directive == DELETE:
                return _DROP
            if directive not in (REPLACE, MERGE):
                raise bad_patch_type(directive, value)
        out: dict[str, Any] = {}
        for k, v in value.items():
            if v is None or is_directive_key(k):
                continue
            new = _new_value(v)
            if new is not _DROP:
                out[k] = new
        return out
    if isinstance(value, list):
        # Elements carrying a directive are instructions, not data.
        return [_new_value(v) for v in value if not (isinstance(v, dict) and DIRECTIVE in v)]
    return value


def _retain_keys(original: dict[str, Any], patch: Mapping[str, Any]) -> None:
    """``$retainKeys``: clear every live field not listed (the patch may set only those)."""
    listed = patch[RETAIN_KEYS]
    if not isinstance(listed, list):
        raise PatchError("invalid patch format of retainKeys: not a list", malformed=True)
    keep = {k for k in listed if isinstance(k, str)}
    for key, value in patch.items():
        if key in (DIRECTIVE, RETAIN_KEYS) or value is None:
            continue
        if key.startswith((SET_ORDER, DELETE_PRIMITIVES)):
            continue
        if key not in keep:
            raise PatchError(
                f"invalid patch format of retainKeys: {key!r} is patched but not retained",
                malformed=True,
            )
    for key in [k for k in original if k not in keep]:
        del original[key]


def _set_element_orders(
    original: dict[str, Any], patch: Mapping[str, Any], node: SchemaNode | None
) -> set[str]:
    """Merge each list that has a ``$setElementOrder`` and put it in that order.

    Returns the names of the lists done, which the caller must not merge again.
    """
    done: set[str] = set()
    for key, order in patch.items():
        if not key.startswith(SET_ORDER):
            continue
        name = _target(key, SET_ORDER_PREFIX, "setElementOrder list")
        if not isinstance(order, list):
            raise PatchError(f"{key} must be a list, not {kind(order)}", malformed=True)
        done.add(name)
        if name not in original and name not in patch:
            continue
        live, patched = original.get(name), patch.get(name)
        if name in original and not isinstance(live, list):
            raise PatchError(f"{key}: {name} is {kind(live)} in the object, not a list")
        if name in patch and not isinstance(patched, list):
            raise PatchError(f"{key}: {name} is {kind(patched)} in the patch, not a list")
        meta = field_meta(node, name)
        live_list: list[Any] = live if isinstance(live, list) else []
        patch_list: list[Any] = patched if isinstance(patched, list) else []
        elements = element_kind(live_list, patch_list)
        merge_key = meta.merge_key if elements == OBJECT else None
        if elements == OBJECT and not merge_key:
            raise PatchError(f"{key}: cannot order a list of objects without a merge key")
        if merge_key:
            for entry in order:
                if not isinstance(entry, dict) or merge_key not in entry:
                    raise no_merge_key(entry, merge_key)
        _check_order(patch_list, order, merge_key)
        if name in original and name in patch:
            merged = _merge_list_field(live_list, patch_list, meta, False)
        elif name in original:
            merged = live_list
        else:
            merged = _new_value(patch_list)
        mentioned, others = partition(merged, order, merge_key)
        original[name] = normalize(mentioned, others, order, live_list, merge_key)
    return done


def _check_order(patch_list: list[Any], order: list[Any], merge_key: str | None) -> None:
    """The patch list must name a subsequence of ``$setElementOrder`` (deletions aside)."""
    if not patch_list or not order:
        return

    def same(a: Any, b: Any) -> bool:
        if merge_key:
            if not isinstance(a, dict) or merge_key not in a:
                raise no_merge_key(a, merge_key)
            return value_key(a[merge_key]) == value_key(b[merge_key])
        return value_key(a) == value_key(b)

    named = [p for p in patch_list if not (isinstance(p, dict) and DIRECTIVE in p)]
    i = j = 0
    while i < len(named) and j < len(order):
        if same(named[i], order[j]):
            i += 1
        j += 1
    if i < len(named):
        raise PatchError(
            f"The order in patch list:\n{render(patch_list)}\n doesn't match "
            f"{SET_ORDER} list:\n{render(order)}"
        )


def _merge_list_field(
    live: list[Any], patch: list[Any], meta: FieldMeta, deleting: bool
) -> list[Any]:
    # A deletion list deletes whatever the field's strategy (as upstream does since 1.31).
    if meta.strategy != MERGE and not deleting:
        replaced: list[Any] = _new_value(patch)
        return replaced
    if not live and not patch:
        return live
    if element_kind(live, patch) != OBJECT:
        if deleting:
            drop = {value_key(v) for v in patch}
            return [v for v in live if value_key(v) not in drop]
        merged = _union(live, patch)
        mentioned, others = partition(merged, patch, None)
        return normalize(mentioned, others, patch, live, None)
    if deleting:
        raise PatchError(f"{DELETE_PRIMITIVES_PREFIX}{meta.name}: {meta.name} is a list of objects")
    merge_key = meta.merge_key
    if not merge_key:
        raise PatchError(f"cannot merge lists without merge key for {meta.name}")
    live, plain = _special_elements(live, patch, merge_key)
    merged = _merge_elements(live, plain, merge_key, meta.items)
    mentioned, others = partition(merged, plain, merge_key)
    return normalize(mentioned, others, plain, live, merge_key)


def _union(live: list[Any], patch: list[Any]) -> list[Any]:
    seen: set[tuple[Any, ...]] = set()
    out: list[Any] = []
    for value in [*live, *patch]:
        key = value_key(value)
        if key not in seen:
            seen.add(key)
            out.append(value)
    return out


def _special_elements(
    live: list[Any], patch: list[Any], merge_key: str
) -> tuple[list[Any], list[Any]]:
    """Carry out the directive elements; returns (live list, plain patch elements)."""
    plain: list[Any] = []
    replace = False
    for element in patch:
        if DIRECTIVE not in element:
            plain.append(element)
            continue
        directive = element[DIRECTIVE]
        if directive == DELETE:
            if merge_key not in element:
                raise no_merge_key(element, merge_key)
            gone = value_key(element[merge_key])
            live = [e for e in live if not (merge_key in e and value_key(e[merge_key]) == gone)]
        elif directive == REPLACE:
            replace = True  # keep going: the other directive elements must be dropped too
        elif directive == MERGE:
            raise PatchError("merging lists cannot yet be specified in the patch")
        else:
            raise bad_patch_type(directive, element)
    if replace:
        return [_new_value(e) for e in plain], []
    return live, plain


def _merge_elements(
    live: list[Any], plain: list[Any], merge_key: str, node: SchemaNode | None
) -> list[Any]:
    """Merge each patch element into the live element with its key, or add it.

    Returns a new list: ``live`` itself stays the live order the caller sorts by.
    """
    live = list(live)
    where: dict[tuple[Any, ...], int] = {}
    for position, element in enumerate(live):
        if merge_key in element:
            where.setdefault(value_key(element[merge_key]), position)
    for element in plain:
        if merge_key not in element:
            raise no_merge_key(element, merge_key)
        key = value_key(element[merge_key])
        found = where.get(key)
        if found is None:
            where[key] = len(live)
            live.append(_new_value(element))
        else:
            live[found] = _merge_map(live[found], element, node)
    return live
