"""Merging an applied configuration into a live object, and taking fields out of one.

- :func:`merge` is upstream's merge of a configuration into the live object: maps merge by
  key, associative lists by item key, leaves (scalars, atomic lists and maps) are replaced.
  Items of associative lists come out in upstream's order: the configuration's order for the
  items it names, live-only items where they were. A configuration ``null`` unsets a leaf.
- :func:`remove` drops the paths of a field set from an object, copying only along those
  paths; a container a removal empties goes too (upstream's walk leaves it null).

Results share unchanged sub-values with their inputs; nothing is mutated.
"""

from __future__ import annotations

from typing import Any

from kybernetes.api._fieldpath import SELF, Trie, is_member
from kybernetes.api._ssa_schema import LEAF, LEAF_SHAPE, LIST, MAP, Shape
from kybernetes.api._ssa_walk import (
    MISSING,
    ShapeError,
    fits,
    index_items,
    is_empty_value,
    item_element,
    resolve_shape,
)


def merge(live: Any, config: Any, shape: Shape) -> Any:
    """``config`` merged into ``live`` (a configuration ``null`` unsets a leaf: the entry is
    dropped). Either may be :data:`MISSING`."""
    if config is MISSING:
        return live
    if live is not MISSING and live == config:
        return live  # keeps sharing with the live object, which makes diffing it cheap
    shape = resolve_shape(shape, live, config)
    if (
        shape.kind == LEAF
        or not (fits(shape, live) and fits(shape, config))
        or (is_empty_value(live) and is_empty_value(config))
    ):
        return config
    if shape.kind == MAP:
        return _merge_map(
            live if isinstance(live, dict) else {},
            config if isinstance(config, dict) else {},
            shape,
        )
    return _merge_list(
        live if isinstance(live, list) else [], config if isinstance(config, list) else [], shape
    )


def _merge_map(live: dict[str, Any], config: dict[str, Any], shape: Shape) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, lv in live.items():
        cv = config.get(k, MISSING)
        if cv is MISSING:
            out[k] = lv
            continue
        v = merge(lv, cv, shape.child(k))
        if v is not None:
            out[k] = v
    for k, cv in config.items():
        if k not in live:
            v = merge(MISSING, cv, shape.child(k))
            if v is not None:
                out[k] = v
    return out


def _merge_list(live: list[Any], config: list[Any], shape: Shape) -> list[Any]:
    items = shape.items or LEAF_SHAPE
    cfg = index_items(config, shape, strict=True)
    try:
        lseq = [(item_element(item, shape, i), item) for i, item in enumerate(live)]
    except ShapeError:
        return config
    lmap: dict[str, Any] = {}
    for element, item in lseq:
        seen = lmap.get(element, MISSING)
        if seen is MISSING:
            lmap[element] = item
        else:
            lmap[element] = (*seen, item) if isinstance(seen, tuple) else (seen, item)

    def merged(element: str) -> Any:
        lv = lmap.get(element, MISSING)
        if isinstance(lv, tuple):
            lv = MISSING  # duplicates in the live list: the configuration's item replaces them
        return merge(lv, cfg[element], items)

    corder = list(cfg)
    shared = [e for e in corder if e in lmap]
    next_shared = 0
    done: set[str] = set()
    out: list[Any] = []
    li = ci = 0
    while li < len(lseq) or ci < len(corder):
        if li < len(lseq) and ci < len(corder):
            lel = lseq[li][0]
            if lel == corder[ci]:
                out.append(merged(lel))
                done.add(lel)
                li += 1
                ci += 1
                next_shared += 1
                continue
            if lel in cfg and next_shared < len(shared) and shared[next_shared] != lel:
                li += 1  # a shared item, placed when the configuration reaches it
                continue
        if li < len(lseq):
            lel, litem = lseq[li]
            if lel not in cfg:
                out.append(litem)
                li += 1
                continue
            if lel in done:
                li += 1
                continue
        if ci >= len(corder):  # unreachable: every shared item is emitted by now
            li += 1
            continue
        cel = corder[ci]
        out.append(merged(cel))
        done.add(cel)
        ci += 1
        if next_shared < len(shared) and shared[next_shared] == cel:
            next_shared += 1
    return [v for v in out if v is not None]


def remove(value: Any, shape: Shape, trie: Trie) -> Any:
    """``value`` without the members of ``trie`` (its children trie) and their subtrees.
    Containers that a removal empties are removed too, as upstream's walk leaves them null."""
    if not trie:
        return value
    shape = resolve_shape(shape, value)
    if shape.kind == MAP and isinstance(value, dict):
        out: dict[str, Any] | None = None
        for element, sub in trie.items():
            if element == SELF or element[0] != "f":
                continue
            name = element[2:]
            if name not in value:
                continue
            if out is None:
                out = dict(value)
            if is_member(sub):
                del out[name]
                continue
            child = value[name]
            pruned = remove(child, shape.child(name), sub)
            if pruned is not child and isinstance(pruned, dict | list) and not pruned:
                del out[name]
            else:
                out[name] = pruned
        return value if out is None else out
    if shape.kind == LIST and isinstance(value, list):
        items = shape.items or LEAF_SHAPE
        kept: list[Any] = []
        changed = False
        for i, item in enumerate(value):
            found: Trie | None
            try:
                found = trie.get(item_element(item, shape, i))
            except ShapeError:
                found = None
            if found is None:
                kept.append(item)
            elif not is_member(found):
                pruned = remove(item, items, found)
                changed = changed or pruned is not item
                kept.append(pruned)
            else:
                changed = True
        return kept if changed else value
    return value
