"""Field sets in upstream's FieldsV1 format: the ownership unit of server-side apply.

A field set is a set of paths into an object. A path is a tuple of *path elements*, each a
string exactly as FieldsV1 spells it:

- ``f:<name>``: a struct field or a map key (``f:spec``, ``f:app``);
- ``k:<json>``: the item of a ``map``-type list with these key field values, the JSON object
  with its keys sorted (``k:{"containerPort":80,"protocol":"TCP"}``);
- ``v:<json>``: the item of a ``set``-type list with this value (``v:"example.com/fin"``);
- ``i:<n>``: a list position (only ever read from stored data; atomic lists own no items).

:class:`FieldSet` stores the set as a trie of plain dicts that *is* the FieldsV1 document:
each element maps to its child node, ``{}`` marks a member without children and the key
``"."`` marks a member that also has children. Set operations never mutate their operands
and may share unchanged sub-tries with them, so tries are treated as immutable once built.

:func:`path_string` renders a path the way upstream prints it in conflict messages
(``.spec.template.spec.containers[name="web"].image``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Final

import orjson

from kybernetes.api._errors import go_json, go_value

#: A FieldsV1 trie node: element -> child node; ``"."`` marks membership.
Trie = dict[str, "Trie"]

Path = tuple[str, ...]

SELF: Final = "."
_PREFIXES: Final = ("f:", "k:", "v:", "i:")


class FieldsV1Error(ValueError):
    """A FieldsV1 document that is not a well-formed field set."""


# -- path elements -------------------------------------------------------------------------

#: Strings JSON encodes as themselves between quotes (Go escapes <, > and & too).
is_plain: Final = re.compile(r"[A-Za-z0-9 ._/:@+=~,;!#$%()*?^|{}\[\]'`-]*\Z").match


def _json_scalar(value: Any) -> str:
    # Most key values are plain strings or integers: skip the general encoder.
    if value.__class__ is str:
        if is_plain(value):
            return '"' + value + '"'
    elif value.__class__ is int:
        return str(value)
    return go_json(value)


def key_element(fields: dict[str, Any]) -> str:
    """The ``k:`` element of a list item whose key fields have these values."""
    parts = [f'"{name}":{_json_scalar(fields[name])}' for name in sorted(fields)]
    return "k:{" + ",".join(parts) + "}"


def value_element(value: Any) -> str:
    """The ``v:`` element of a set item."""
    return "v:" + _json_scalar(value)


# Canonical spelling of stored k:/v: elements (upstream re-encodes them on decode). The same
# few keys are decoded on every write, so remember them.
_canonical: dict[str, str] = {}
_CANONICAL_MAX: Final = 8192


def _canonical_element(element: str) -> str:
    known = _canonical.get(element)
    if known is not None:
        return known
    kind, text = element[:2], element[2:]
    try:
        if kind == "i:":
            out = "i:" + str(int(text))
        else:
            value = orjson.loads(text)
            if kind == "k:":
                if not isinstance(value, dict) or not value:
                    raise FieldsV1Error(f"invalid key element {element!r}")
                out = key_element(value)
            else:
                out = value_element(value)
    except (orjson.JSONDecodeError, ValueError) as e:
        raise FieldsV1Error(f"invalid path element {element!r}: {e}") from None
    if len(_canonical) >= _CANONICAL_MAX:
        _canonical.clear()
    _canonical[element] = out
    return out


def path_element_string(element: str) -> str:
    """One element as upstream prints it: ``.name``, ``[k=v,...]``, ``[=v]``, ``[i]``."""
    kind, text = element[:2], element[2:]
    if kind == "f:":
        return "." + text
    if kind == "i:":
        return f"[{text}]"
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return f"[{text}]"
    if kind == "k:" and isinstance(value, dict):
        return "[" + ",".join(f"{k}={go_value(v)}" for k, v in value.items()) + "]"
    return f"[={go_value(value)}]"


def path_string(path: Sequence[str]) -> str:
    """A path as upstream prints it (``.spec.containers[name="c"].image``)."""
    return "".join(path_element_string(e) for e in path)


# -- trie algebra (pure; operands are never mutated) ----------------------------------------


def is_member(node: Trie) -> bool:
    """Whether the path leading to ``node`` is itself in the set."""
    return not node or SELF in node


def with_member(node: Trie | None) -> Trie:
    """``node`` with its own path added to the set."""
    if not node:
        return {}
    if SELF in node:
        return node
    return {SELF: {}, **node}


def _finish(children: Trie, member: bool) -> Trie | None:
    if not children:
        return {} if member else None
    if member:
        return {SELF: {}, **children}
    return children


def union_tries(a: Trie, b: Trie, *, root: bool = False) -> Trie:
    """The union of ``a`` and ``b``; ``a`` itself when ``b`` adds nothing."""
    if a is b or (not b and (root or is_member(a))):
        return a
    if not a and (root or is_member(b)):
        return b
    out: Trie | None = None
    for k, v in b.items():
        if k == SELF:
            continue
        mine = a.get(k)
        u = v if mine is None else union_tries(mine, v)
        if u is mine:
            continue
        if out is None:
            out = dict(a)
        out[k] = u
    member = not root and (is_member(a) or is_member(b))
    if out is None:
        if member == (not root and is_member(a)):
            return a
        out = dict(a)
    if member and SELF not in out:
        out = {SELF: {}, **out}
    return out


def difference_tries(a: Trie, b: Trie, *, root: bool = False) -> Trie | None:
    """Members of ``a`` not in ``b`` (children of a removed member survive); ``a`` itself
    when nothing is taken away, None when nothing is left (except at the root)."""
    mine_member = not root and is_member(a)
    member = mine_member and not is_member(b)
    out: Trie | None = None
    for k, theirs in (b if len(b) < len(a) else a).items():
        if k == SELF:
            continue
        mine = a.get(k)
        if mine is None:
            continue
        other = b.get(k) if theirs is mine else theirs
        if other is None:
            continue
        d = difference_tries(mine, other)
        if d is mine:
            continue
        if out is None:
            out = dict(a)
        if d is None:
            del out[k]
        else:
            out[k] = d
    if out is None:
        if member == mine_member:
            return a
        out = dict(a)
    if root:
        return out
    out.pop(SELF, None)
    return _finish(out, member)


def intersection_tries(a: Trie, b: Trie, *, root: bool = False) -> Trie | None:
    member = not root and is_member(a) and is_member(b)
    small, big = (a, b) if len(a) <= len(b) else (b, a)
    out: Trie = {}
    for k, v in small.items():
        if k == SELF:
            continue
        theirs = big.get(k)
        if theirs is not None:
            i = intersection_tries(v, theirs)
            if i is not None:
                out[k] = i
    return out if root else _finish(out, member)


def recursive_difference_tries(a: Trie, b: Trie, *, root: bool = False) -> Trie | None:
    """``a`` without every member of ``b`` and everything below those members (``a`` itself
    when that takes nothing away)."""
    out: Trie | None = None
    for k, theirs in b.items():
        mine = a.get(k) if k != SELF else None
        if mine is None:
            continue
        d = None if is_member(theirs) else recursive_difference_tries(mine, theirs)
        if d is mine:
            continue
        if out is None:
            out = dict(a)
        if d is None:
            del out[k]
        else:
            out[k] = d
    if out is None:
        return a
    if root:
        return out
    out.pop(SELF, None)
    return _finish(out, is_member(a))


def mark(parent: Trie, element: str) -> None:
    """Add ``parent``'s child ``element`` as a member (``parent`` is being built)."""
    node = parent.get(element)
    if node is None:
        parent[element] = {}
    elif node and SELF not in node:
        parent[element] = {SELF: {}, **node}


def _index_key(element: str) -> tuple[int, str]:
    try:
        return (int(element[2:]), "")
    except ValueError:
        return (1 << 62, element)


def _sorted_copy(node: Trie) -> dict[str, Any]:
    # A node's children are all of one kind (f: for maps, k:/v: for lists), and "." sorts
    # before every element, so plain string order is upstream's order; i: needs numbers.
    keys = sorted(node)
    if keys and keys[-1][0] == "i":
        keys = [SELF] * (SELF in node) + sorted((k for k in node if k != SELF), key=_index_key)
    return {k: _sorted_copy(node[k]) if node[k] else {} for k in keys}


def _parse(raw: Any, *, root: bool) -> Trie:
    if not isinstance(raw, dict):
        raise FieldsV1Error(f"expected a JSON object, got {type(raw).__name__}")
    out: Trie = {}
    member = False
    for k, v in raw.items():
        if k == SELF:
            if v != {}:
                raise FieldsV1Error('the "." entry must map to an empty object')
            member = not root
            continue
        if not isinstance(k, str) or not k.startswith(_PREFIXES):
            raise FieldsV1Error(f"invalid path element {k!r}")
        element = k if k[0] == "f" else _canonical_element(k)
        child = _parse(v, root=False)
        mine = out.get(element)
        out[element] = child if mine is None else union_tries(mine, child)
    if member and out:
        return {SELF: {}, **out}
    return out


def _walk(node: Trie, prefix: Path) -> Iterator[Path]:
    for k in _sorted_copy({k: {} for k in node if k != SELF}):
        child = node[k]
        path = (*prefix, k)
        if is_member(child):
            yield path
        yield from _walk(child, path)


class FieldSet:
    """An immutable set of field paths (see the module docstring)."""

    __slots__ = ("_root",)

    def __init__(self, root: Trie | None = None) -> None:
        # ``root`` must be a canonical trie that nobody mutates afterwards.
        self._root: Trie = root if root is not None else {}

    @classmethod
    def from_fields_v1(cls, fields: Any) -> FieldSet:
        """Parse a FieldsV1 document (``k:``/``v:`` elements are re-encoded canonically)."""
        return cls(_parse(fields, root=True))

    @classmethod
    def from_paths(cls, paths: Iterable[Sequence[str]]) -> FieldSet:
        root: Trie = {}
        for path in paths:
            if not path:
                continue
            node = root
            for element in path[:-1]:
                child = node.get(element)
                if child is None:
                    child = node[element] = {}
                elif not child:
                    child = node[element] = {SELF: {}}
                node = child
            mark(node, path[-1])
        return cls(_parse(root, root=True))

    @property
    def trie(self) -> Trie:
        """The underlying trie (read-only by convention)."""
        return self._root

    def to_fields_v1(self) -> dict[str, Any]:
        """A fresh FieldsV1 document, elements in upstream's order."""
        return _sorted_copy(self._root)

    def paths(self) -> list[Path]:
        """Every member path, in upstream's order."""
        return list(_walk(self._root, ()))

    def __contains__(self, path: object) -> bool:
        if not isinstance(path, tuple) or not path:
            return False
        node = self._root
        for element in path:
            child = node.get(element)
            if child is None:
                return False
            node = child
        return is_member(node)

    def is_empty(self) -> bool:
        return not self._root

    def __bool__(self) -> bool:
        return bool(self._root)

    def __eq__(self, other: object) -> bool:
        # Tries are canonical (a member leaf is ``{}``, "." only next to children), so dict
        # equality, which runs in C, is set equality.
        return isinstance(other, FieldSet) and self._root == other._root

    def __repr__(self) -> str:
        return f"FieldSet({orjson.dumps(self.to_fields_v1()).decode()})"

    def union(self, other: FieldSet) -> FieldSet:
        return FieldSet(union_tries(self._root, other._root, root=True))

    def difference(self, other: FieldSet) -> FieldSet:
        return FieldSet(difference_tries(self._root, other._root, root=True))

    def intersection(self, other: FieldSet) -> FieldSet:
        return FieldSet(intersection_tries(self._root, other._root, root=True))

    def recursive_difference(self, other: FieldSet) -> FieldSet:
        """This set without the members of ``other`` and everything below them."""
        return FieldSet(recursive_difference_tries(self._root, other._root, root=True))

    __or__ = union
    __sub__ = difference
    __and__ = intersection
