"""Schema-guided walks over objects for server-side apply: item keys, field sets, diffs.

Each walk follows upstream's structured-merge-diff semantics (see :mod:`._ssa_schema` for the
shapes):

- :func:`to_trie` is the set of fields an object specifies: every scalar and atomic value,
  every associative-list item and every entry of a map, but not a struct field holding a
  non-empty struct (its children say it all) and nothing for empty granular lists.
- :func:`compare` splits the difference between two objects into added, removed and modified
  paths. Leaves are compared by value; a granular node (struct, map, list item) is added or
  removed as a whole when it appears or disappears. With ``implicit`` it diffs as upstream
  diffs Go objects (fields Go always serialises count as present).
- :func:`withdrawn` is what an applier gave up and nobody else holds: what apply removes.

Nothing is mutated. Values that do not fit the schema are treated as leaves, except in
configurations, where an item that cannot be keyed is a :class:`ShapeError` (upstream's
message, with a path prefix).
"""

from __future__ import annotations

import functools
from typing import Any, Final

import orjson

from kybernetes.api._fieldpath import (
    SELF,
    Trie,
    is_member,
    is_plain,
    key_element,
    mark,
    path_element_string,
    value_element,
    with_member,
)
from kybernetes.api._jsonvalue import json_equal
from kybernetes.api._ssa_schema import DEDUCED, DEDUCED_MAP, LEAF, LEAF_SHAPE, LIST, MAP, Shape

# Scalars are leaves whatever their schema says (a scalar where a container belongs is a
# value that does not fit): the walks below settle them without a call.
_SCALARS: Final = frozenset({str, int, float, bool})


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


#: An absent value (``None`` is JSON null, which is present).
MISSING: Final[Any] = _Missing()


class ShapeError(ValueError):
    """A value that does not fit its schema (an unkeyable or duplicate list item)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        self.path = ""

    def prefixed(self, element: str) -> ShapeError:
        self.path = element + self.path
        return self

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


def resolve_shape(shape: Shape, *values: Any) -> Shape:
    if shape.kind != DEDUCED:
        return shape
    return DEDUCED_MAP if any(isinstance(v, dict) for v in values) else LEAF_SHAPE


def fits(shape: Shape, value: Any) -> bool:
    if value is MISSING or value is None:
        return True
    return isinstance(value, dict) if shape.kind == MAP else isinstance(value, list)


def is_empty_value(value: Any) -> bool:
    return value is MISSING or value is None or not value


# -- list item keys ------------------------------------------------------------------------


def item_element(item: Any, shape: Shape, index: int) -> str:
    """The path element of an associative list item (``shape`` is the list's)."""
    if not shape.keys:
        if isinstance(item, dict | list):
            what = "map" if isinstance(item, dict) else "list"
            raise ShapeError(
                f"element {index}: associative list without keys has an element "
                f"that's a {what} type"
            )
        return value_element(item)
    if not isinstance(item, dict):
        raise ShapeError(
            f"element {index}: associative list with keys has an element that is not a map type"
        )
    if len(shape.keys) == 1:
        # The common case (containers, env, volumes by name): one key, a plain string.
        value = item.get(shape.keys[0])
        if value.__class__ is str and is_plain(value):
            return f'k:{{"{shape.keys[0]}":"{value}"}}'
    fields: dict[str, Any] = {}
    for name in shape.keys:
        value = item.get(name)
        if value is None:
            if name not in shape.key_defaults:
                raise ShapeError(
                    f"element {index}: associative list with keys has an element "
                    f'that omits key field "{name}" (and doesn\'t have default '
                    "value)"
                )
            value = shape.key_defaults[name]
        fields[name] = value
    return key_element(fields)


def index_items(items: list[Any], shape: Shape, *, strict: bool) -> dict[str, Any]:
    """Items by path element. Duplicates are an error when ``strict``; otherwise the
    element maps to a tuple of all its items (live objects may hold duplicates)."""
    out: dict[str, Any] = {}
    for i, item in enumerate(items):
        element = item_element(item, shape, i)
        seen = out.get(element, MISSING)
        if seen is MISSING:
            out[element] = item
        elif strict:
            raise ShapeError(f"duplicate entries for key {path_element_string(element)}")
        else:
            out[element] = (*seen, item) if isinstance(seen, tuple) else (seen, item)
    return out


# -- field sets ----------------------------------------------------------------------------


def to_trie(obj: Any, shape: Shape) -> Trie:
    """The field set of ``obj`` (a configuration: list items must be keyable and unique).
    The trie may be shared with earlier calls: never mutate it."""
    try:
        text = orjson.dumps(obj)
    except TypeError:  # integers beyond 64 bits
        return _node_set(obj, shape) or {}
    return _cached_trie(shape, text)


# Clients re-apply the same configurations over and over (kubectl apply in a loop, GitOps
# controllers): remember the field sets of recent ones.
@functools.lru_cache(maxsize=256)
def _cached_trie(shape: Shape, text: bytes) -> Trie:
    return _node_set(orjson.loads(text), shape) or {}


def _node_set(value: Any, shape: Shape) -> Trie | None:
    shape = resolve_shape(shape, value)
    kind = shape.kind
    if kind == LEAF:
        return {}
    if value is None:
        return None
    if not fits(shape, value):
        return {}
    out: Trie = {}
    if kind == MAP:
        fields = shape.fields
        for k, v in value.items():
            declared = fields.get(k)
            if v.__class__ in _SCALARS:
                out["f:" + k] = {}
                continue
            try:
                child = _node_set(v, declared or shape.child(k))
            except ShapeError as e:
                raise e.prefixed("." + k) from None
            if declared is None:
                child = with_member(child)
            if child is not None:
                out["f:" + k] = child
    else:
        assert shape.items is not None
        for i, item in enumerate(value):
            element = item_element(item, shape, i)
            if element in out:
                raise ShapeError(f"duplicate entries for key {path_element_string(element)}")
            try:
                out[element] = with_member(_node_set(item, shape.items))
            except ShapeError as e:
                raise e.prefixed(path_element_string(element)) from None
    return out or None


def withdrawn(last: Trie, new: Trie | None, others: list[Trie], shape: Shape) -> Trie:
    """The top-most paths of ``last`` (an applier's previous set) that neither ``new`` (its
    set now) nor any of ``others`` (the other managers' sets) owns, a declared struct field
    counting as owned when anything below it is (upstream's ``EnsureNamedFieldsAreMembers``).
    Removing those paths is upstream's prune."""
    shape = resolve_shape(shape, {})
    out: Trie = {}
    for element, mine in last.items():
        if element == SELF:
            continue
        now = new.get(element) if new is not None else None
        if now is not None and now == mine:
            continue  # applied again as it was: all of it is still owned
        theirs = [t[element] for t in others if element in t]
        if shape.kind == MAP:
            name = element[2:]
            declared = element[0] == "f" and name in shape.fields
            child_shape = shape.child(name)
        else:
            declared = False
            child_shape = shape.items or LEAF_SHAPE
        if (declared or is_member(mine)) and not (
            (now is not None and (declared or is_member(now)))
            or any(declared or is_member(t) for t in theirs)
        ):
            out[element] = {}
            continue
        if mine:
            below = withdrawn(mine, now, theirs, child_shape)
            if below:
                out[element] = below
    return out


# -- diff ----------------------------------------------------------------------------------


class Diff:
    """Added, removed and modified paths between two objects, as root tries."""

    __slots__ = ("added", "modified", "removed")

    def __init__(self) -> None:
        self.added: Trie = {}
        self.removed: Trie = {}
        self.modified: Trie = {}

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.modified)


def compare(old: Any, new: Any, shape: Shape, *, implicit: bool) -> Diff:
    """How ``new`` differs from ``old`` (both root objects; ``old`` may be ``{}``)."""
    diff = Diff()
    if old is not new and old != new:
        _cmp_map(
            old,
            new,
            resolve_shape(shape, old, new),
            diff.added,
            diff.removed,
            diff.modified,
            implicit,
        )
    return diff


def _cmp(
    old: Any, new: Any, shape: Shape, element: str, add: Trie, rem: Trie, mod: Trie, implicit: bool
) -> None:
    if old is MISSING:
        add[element] = _whole(new, shape, implicit)
        return
    if new is MISSING:
        rem[element] = _whole(old, shape, implicit)
        return
    shape = resolve_shape(shape, old, new)
    leaf = (
        shape.kind == LEAF
        or not (fits(shape, old) and fits(shape, new))
        or (is_empty_value(old) and is_empty_value(new))
    )
    indexed: tuple[dict[str, Any], dict[str, Any]] | None = None
    if not leaf and shape.kind == LIST:
        try:
            indexed = (
                index_items(old, shape, strict=False) if isinstance(old, list) else {},
                index_items(new, shape, strict=False) if isinstance(new, list) else {},
            )
        except ShapeError:
            leaf = True  # items that cannot be keyed: compare the lists as values
    if leaf:
        if old is MISSING:
            mark(add, element)
        elif new is MISSING:
            mark(rem, element)
        elif not json_equal(old, new):
            mark(mod, element)
        return
    ca: Trie = {}
    cr: Trie = {}
    cm: Trie = {}
    if indexed is not None:
        _cmp_items(indexed[0], indexed[1], shape.items or LEAF_SHAPE, ca, cr, cm, implicit)
    else:
        _cmp_map(old, new, shape, ca, cr, cm, implicit)
    if ca:
        add[element] = ca
    if cr:
        rem[element] = cr
    if cm:
        mod[element] = cm
    if old is MISSING:
        mark(add, element)
    elif new is MISSING:
        mark(rem, element)


def _whole(value: Any, shape: Shape, implicit: bool) -> Trie:
    """The diff node of a value that appeared or disappeared as a whole: itself and, for a
    granular value, everything in it."""
    shape = resolve_shape(shape, value)
    if shape.kind == LEAF or not fits(shape, value) or is_empty_value(value):
        return {}
    out: Trie = {SELF: {}}
    if shape.kind == MAP:
        for k, v in value.items():
            scalar = v is None or v.__class__ in _SCALARS
            out["f:" + k] = {} if scalar else _whole(v, shape.child(k), implicit)
        zeros = shape.implicit if implicit else None
        if zeros:
            for k, zero in zeros.items():
                if k not in value:
                    out["f:" + k] = _whole(zero, shape.child(k), implicit)
        return out
    try:
        items = index_items(value, shape, strict=False)
    except ShapeError:
        return {}  # items that cannot be keyed: the list is a value
    for element, item in items.items():
        if isinstance(item, tuple):
            out[element] = {}
        else:
            out[element] = _whole(item, shape.items or LEAF_SHAPE, implicit)
    return out


def _cmp_map(
    old: Any, new: Any, shape: Shape, add: Trie, rem: Trie, mod: Trie, implicit: bool
) -> None:
    o = old if isinstance(old, dict) else {}
    n = new if isinstance(new, dict) else {}
    zeros = shape.implicit if implicit else None
    o_zero = zeros if zeros and isinstance(old, dict) else None
    n_zero = zeros if zeros and isinstance(new, dict) else None
    for k, ov in o.items():
        nv = n.get(k, MISSING)
        if nv is MISSING and n_zero is not None and k in n_zero:
            nv = n_zero[k]
        # ``==`` runs in C; it only errs on true vs 1, which no schema allows in one field.
        if ov is not nv and ov != nv:
            if ov.__class__ in _SCALARS and nv.__class__ in _SCALARS:
                mark(mod, "f:" + k)
            else:
                _cmp(ov, nv, shape.child(k), "f:" + k, add, rem, mod, implicit)
    for k, nv in n.items():
        if k not in o:
            ov = o_zero[k] if o_zero is not None and k in o_zero else MISSING
            _cmp(ov, nv, shape.child(k), "f:" + k, add, rem, mod, implicit)
    if zeros and (o_zero is None) != (n_zero is None):
        # One side exists, the other does not: its Go zero fields appear or disappear too.
        for k, zero in zeros.items():
            if k not in o and k not in n:
                ov, nv = (zero, MISSING) if o_zero is not None else (MISSING, zero)
                _cmp(ov, nv, shape.child(k), "f:" + k, add, rem, mod, implicit)


def _cmp_items(
    o: dict[str, Any],
    n: dict[str, Any],
    items: Shape,
    add: Trie,
    rem: Trie,
    mod: Trie,
    implicit: bool,
) -> None:
    for element, ov in o.items():
        nv = n.get(element, MISSING)
        if ov is nv or ov == nv:
            continue
        if isinstance(ov, tuple) or isinstance(nv, tuple):
            # Duplicated items are compared as one value.
            _cmp(_group(ov), _group(nv), LEAF_SHAPE, element, add, rem, mod, implicit)
        else:
            _cmp(ov, nv, items, element, add, rem, mod, implicit)
    for element, nv in n.items():
        if element not in o:
            shape = LEAF_SHAPE if isinstance(nv, tuple) else items
            _cmp(MISSING, _group(nv), shape, element, add, rem, mod, implicit)


def _group(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value
