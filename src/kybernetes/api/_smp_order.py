"""Element order of merged lists, as the API server decides it.

After a list merge, elements named by the patch ("patch items") keep the patch's order
(or ``$setElementOrder``'s), elements only the server had keep the live order, and the two
runs are interleaved: a server-only element goes before a patch item only when both sit in
the live list and it came first there. So an element new to the list lands right after the
patch item before it in the patch, not at the end, e.g. live ``[a, b, c]`` patched with
``[b, d]`` gives ``[a, b, d, c]``, and patched with ``[d]`` gives ``[d, a, b, c]``.

Elements are identified by their merge key's value (objects) or by value (primitives).
"""

from __future__ import annotations

from collections.abc import Callable
from sys import maxsize
from typing import Any

from kybernetes.api._jsonvalue import value_key
from kybernetes.api._smp_meta import no_merge_key

Key = tuple[Any, ...]


def identity(merge_key: str | None) -> Callable[[Any], Key]:
    """How elements are told apart: by merge key value, or by value for primitives."""
    if not merge_key:
        return value_key

    def by_merge_key(element: Any) -> Key:
        if not isinstance(element, dict) or merge_key not in element:
            raise no_merge_key(element, merge_key)
        return value_key(element[merge_key])

    return by_merge_key


def partition(
    merged: list[Any], named: list[Any], merge_key: str | None
) -> tuple[list[Any], list[Any]]:
    """Split ``merged`` into (elements ``named`` mentions, the others)."""
    ident = identity(merge_key)
    if merge_key:
        # An element of the naming list without the key names nothing.
        names = {value_key(n[merge_key]) for n in named if isinstance(n, dict) and merge_key in n}
    else:
        names = {value_key(n) for n in named}
    mentioned: list[Any] = []
    others: list[Any] = []
    for element in merged:
        (mentioned if ident(element) in names else others).append(element)
    return mentioned, others


def normalize(
    patch_items: list[Any],
    server_only: list[Any],
    patch_order: list[Any],
    server_order: list[Any],
    merge_key: str | None,
) -> list[Any]:
    """Sort each run by its order list, then interleave them (see the module doc)."""
    ident = identity(merge_key)
    server_pos = _positions(server_order, ident)
    patch_sorted = _sort_by(patch_items, _positions(patch_order, ident), ident)
    left = _sort_by(server_only, server_pos, ident)
    right = patch_sorted
    out: list[Any] = []
    i = j = 0
    while i < len(left) or j < len(right):
        if j >= len(right):
            out.append(left[i])
            i += 1
            continue
        if i < len(left):
            li = server_pos.get(ident(left[i]))
            ri = server_pos.get(ident(right[j]))
            if li is not None and ri is not None and li < ri:
                out.append(left[i])
                i += 1
                continue
        out.append(right[j])
        j += 1
    return out


def _positions(order: list[Any], ident: Callable[[Any], Key]) -> dict[Key, int]:
    positions: dict[Key, int] = {}
    for index, element in enumerate(order):
        positions.setdefault(ident(element), index)
    return positions


def _sort_by(items: list[Any], positions: dict[Key, int], ident: Callable[[Any], Key]) -> list[Any]:
    # Stable: equal keys (duplicates in a live list) keep their relative order; elements
    # the order does not know go last.
    return sorted(items, key=lambda e: positions.get(ident(e), maxsize))
