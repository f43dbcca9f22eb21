"""Field ownership of ordinary writes: create, update, patch and subresource writes.

:func:`update_managed_fields` is upstream's field manager for every write that is not an
apply: the writer's ``Update`` entry (identified by manager, apiVersion and subresource) gains
the fields the write added or changed, every other manager loses them, and fields the write
removed are removed from every entry. The entry's timestamp moves only when it gained fields.
A request body's own managedFields replace the stored ones (kubectl rewrites them to move
client-side-apply ownership to server-side apply; ``[]`` or ``[{}]`` clears them), except on
subresources. Fields the endpoint resets (``ignore``) are never owned through it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kybernetes.api._fieldpath import (
    FieldSet,
    difference_tries,
    recursive_difference_tries,
    union_tries,
)
from kybernetes.api._managedfields import (
    STRIPPED,
    UPDATE,
    ManagedEntry,
    ManagedFieldsError,
    Managers,
    cap_update_managers,
    decode_lenient,
    decode_managed_fields,
    encode_managed_fields,
    without_managed,
)
from kybernetes.api._schema import SchemaNode
from kybernetes.api._ssa_schema import shape_of
from kybernetes.api._ssa_walk import compare


def update_managed_fields(
    old: Mapping[str, Any] | None,
    new: Mapping[str, Any],
    node: SchemaNode | None,
    *,
    manager: str,
    now: str,
    subresource: str = "",
    ignore: FieldSet | None = None,
) -> dict[str, Any]:
    """``new`` (a create when ``old`` is None, else an update of ``old``) with managedFields
    recording that ``manager`` made this write (an ``Update`` entry, timestamp ``now``).

    Returns a shallow copy of ``new`` with a new ``metadata``; never fails: on input it cannot
    diff it keeps ``old``'s managedFields, as upstream does.
    """
    try:
        managers = _update(old, new, node, manager, now, subresource, ignore)
    except (ValueError, TypeError):
        fallback = (old or {}).get("metadata")
        kept = fallback.get("managedFields") if isinstance(fallback, dict) else None
        return _with_managed(new, kept)
    return _with_managed(new, encode_managed_fields(managers))


def _update(
    old: Mapping[str, Any] | None,
    new: Mapping[str, Any],
    node: SchemaNode | None,
    manager: str,
    now: str,
    subresource: str,
    ignore: FieldSet | None,
) -> Managers:
    shape = shape_of(node)
    version = str(new.get("apiVersion") or (old or {}).get("apiVersion") or "")
    managers = _live_or_new_managers(old, new, subresource)
    old_obj = without_managed(old) if old is not None else {}
    diff = compare(old_obj, without_managed(new), shape, implicit=True)
    touched = union_tries(diff.modified, diff.added, root=True)
    theirs_touched, theirs_removed = touched, diff.removed
    if ignore is not None:
        theirs_touched = recursive_difference_tries(touched, ignore.trie, root=True) or {}
        theirs_removed = recursive_difference_tries(diff.removed, ignore.trie, root=True) or {}
    key = (manager, UPDATE, version, subresource)
    for k, entry in list(managers.items()):
        trie = entry.fields.trie
        if k != key:  # the writer's own entry keeps what it changes again
            trie = difference_tries(trie, theirs_touched, root=True) or {}
        trie = difference_tries(trie, theirs_removed, root=True) or {}
        if not trie:
            del managers[k]
        elif trie is not entry.fields.trie:
            entry.fields = FieldSet(trie)
    mine = difference_tries(touched, diff.removed, root=True) or {}
    if ignore is not None:
        mine = recursive_difference_tries(mine, ignore.trie, root=True) or {}
    fields = FieldSet(mine) - STRIPPED
    if fields:
        previous = managers.get(key)
        entry = ManagedEntry(manager, UPDATE, version, subresource, fields, now)
        if previous is not None:
            # Union in this order keeps the previous set itself when nothing is new.
            entry.fields, entry.stored = previous.fields | fields, previous.stored
        managers[key] = entry
    cap_update_managers(managers)
    return managers


def _live_or_new_managers(
    old: Mapping[str, Any] | None, new: Mapping[str, Any], subresource: str
) -> Managers:
    # Subresources never set managedFields; a main-resource body may (kubectl does, to move
    # client-side-apply ownership to server-side apply), and clears them with [] or [{}].
    if not subresource:
        meta = new.get("metadata")
        entries = meta.get("managedFields") if isinstance(meta, dict) else None
        if entries == [] or entries == [{}]:
            return {}
        if entries is not None:
            try:
                decoded = decode_managed_fields(entries)
            except ManagedFieldsError:
                decoded = {}
            if decoded:
                return decoded
    return decode_lenient(old)


def _with_managed(new: Mapping[str, Any], entries: Any) -> dict[str, Any]:
    meta = new.get("metadata")
    if not isinstance(meta, dict):
        return dict(new)
    meta = {k: v for k, v in meta.items() if k != "managedFields"}
    if entries is not None:
        meta["managedFields"] = entries
    return {**new, "metadata": meta}
