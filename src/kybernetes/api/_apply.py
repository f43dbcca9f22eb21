"""Server-side apply, as upstream's field manager does it. Pure.

:func:`server_side_apply` answers ``PATCH`` with ``application/apply-patch+yaml``: it merges
the applied configuration into the live object (maps by key, ``map`` lists by their key
fields, ``set`` lists by value, atomic values replaced), takes away the fields this manager
applied last time and no longer applies unless another manager owns them, and records the
applied fields as the manager's ``Apply`` entry in ``metadata.managedFields``. Changing a
field another manager owns raises :class:`ApplyConflict` (409, one ``FieldManagerConflict``
cause per field) unless ``force``, which moves the ownership to the applier. Setting a field
to the value it already has makes the applier a co-owner, never a conflict. Re-applying the
same configuration returns the live object unchanged, managedFields timestamps included.

For ``kubectl`` as the manager it also does what upstream does for objects created with
client-side apply: conflicts on fields whose live value still matches the
``kubectl.kubernetes.io/last-applied-configuration`` annotation are taken over without
``--force-conflicts``, and that annotation is kept in sync with the applied configuration.

``ignore`` holds the fields the endpoint resets (``status`` on the main resource of a kind
with a status subresource, see :func:`~._managedfields.reset_fields`): nobody owns them
through that endpoint and the configuration's values for them are dropped. The API server
still defaults, validates and restores system metadata on the result, as for any write.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import orjson

from kybernetes.api._errors import go_json
from kybernetes.api._fieldpath import (
    FieldSet,
    Trie,
    path_string,
    recursive_difference_tries,
    union_tries,
)
from kybernetes.api._jsonvalue import deep_copy
from kybernetes.api._managedfields import (
    APPLY,
    STRIPPED,
    ManagedEntry,
    ManagerKey,
    Managers,
    decode_lenient,
    encode_managed_fields,
    without_managed,
)
from kybernetes.api._schema import SchemaNode
from kybernetes.api._ssa_merge import merge, remove
from kybernetes.api._ssa_schema import Shape, shape_of
from kybernetes.api._ssa_walk import ShapeError, compare, to_trie, withdrawn

LAST_APPLIED: Final = "kubectl.kubernetes.io/last-applied-configuration"

# Metadata the server sets and restores on every write: a configuration's values for these
# are not applied (``resourceVersion`` is, as a precondition the server checks).
_SERVER_METADATA: Final = frozenset(
    {
        "creationTimestamp",
        "uid",
        "selfLink",
        "generation",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "managedFields",
    }
)


class ApplyError(ValueError):
    """An applied configuration the server cannot apply: 400 BadRequest with this message."""


@dataclass(frozen=True, slots=True)
class Conflict:
    """One field another manager owns: ``manager`` as upstream prints it (``"kubectl"``,
    ``"kube-controller-manager" using apps/v1``), ``field`` like ``.spec.replicas``."""

    manager: str
    field: str

    def cause(self) -> dict[str, str]:
        """The ``details.causes[]`` entry of the 409 Status."""
        return {
            "reason": "FieldManagerConflict",
            "message": f"conflict with {self.manager}",
            "field": self.field,
        }


class ApplyConflict(Exception):
    """Apply changed fields other managers own: 409 Conflict, ``reason: Conflict``, this
    message, and :meth:`causes` as ``details.causes``."""

    def __init__(self, conflicts: list[Conflict]) -> None:
        self.conflicts = tuple(conflicts)
        super().__init__(_conflict_message(self.conflicts))

    @property
    def message(self) -> str:
        return str(self)

    def causes(self) -> list[dict[str, str]]:
        return [c.cause() for c in self.conflicts]


def _conflict_message(conflicts: tuple[Conflict, ...]) -> str:
    if len(conflicts) == 1:
        c = conflicts[0]
        return f"Apply failed with 1 conflict: conflict with {c.manager}: {c.field}"
    lines: list[str] = []
    current = None
    for c in conflicts:  # grouped by manager already
        if c.manager != current:
            current = c.manager
            lines.append(f"conflicts with {c.manager}:")
        lines.append(f"- {c.field}")
    return f"Apply failed with {len(conflicts)} conflicts: " + "\n".join(lines)


def server_side_apply(
    live: Mapping[str, Any] | None,
    applied: Any,
    node: SchemaNode | None,
    *,
    manager: str,
    force: bool,
    now: str,
    subresource: str = "",
    ignore: FieldSet | None = None,
) -> dict[str, Any]:
    """The object after ``manager`` applies ``applied`` to ``live`` (None: create it).

    Returns a new object with ``metadata.managedFields`` updated (timestamp ``now``, an
    RFC 3339 string, when the object changed); equal to ``live`` when nothing changed.
    Raises :class:`ApplyConflict` or :class:`ApplyError`. Never mutates its arguments.
    """
    if not isinstance(applied, dict):
        raise ApplyError("error decoding YAML: the applied configuration is not an object")
    api_version, kind = applied.get("apiVersion"), applied.get("kind")
    if live is not None and (api_version, kind) != (live.get("apiVersion"), live.get("kind")):
        raise ApplyError(f"invalid object type: {_gvk(api_version, kind)}")
    meta = applied.get("metadata")
    if isinstance(meta, dict) and meta.get("managedFields") is not None:
        raise ApplyError("metadata.managedFields must be nil")
    shape = shape_of(node)
    version = str(api_version or (live or {}).get("apiVersion") or "")
    config = _config(applied, shape, ignore)
    live_obj = without_managed(live) if live is not None else {}
    try:
        applied_fields = FieldSet(to_trie(config, shape))
        merged = merge(live_obj, config, shape)
    except ShapeError as e:
        raise ApplyError(
            f"failed to create typed patch object ({_gvk(api_version, kind)}): {e}"
        ) from None

    managers = decode_lenient(live)
    key = (manager, APPLY, "", subresource)
    previous = managers.get(key)
    entry = ManagedEntry(manager, APPLY, version, subresource, applied_fields)
    if previous is not None:
        entry.time, entry.stored = previous.time, previous.stored
    managers[key] = entry
    stripped = applied_fields - STRIPPED
    if previous is not None and previous.fields and previous.fields != stripped:
        merged = _prune(merged, shape, previous.fields.trie, key, managers)

    diff = compare(live_obj, merged, shape, implicit=True)
    changed = bool(diff)
    touched = union_tries(diff.modified, diff.added, root=True)
    removed = diff.removed
    if ignore is not None:
        touched = recursive_difference_tries(touched, ignore.trie, root=True) or {}
        removed = recursive_difference_tries(removed, ignore.trie, root=True) or {}
    overlaps = [
        (other, other.fields & FieldSet(touched))
        for k, other in sorted(managers.items())
        if k != key
    ]
    overlaps = [(other, overlap) for other, overlap in overlaps if overlap]
    if overlaps and not force:
        blocking = overlaps
        if manager == "kubectl":
            blocking = _not_taken_over(live, live_obj, shape, overlaps)
        if blocking:
            raise ApplyConflict(
                [Conflict(o.describe(), path_string(p)) for o, s in blocking for p in s.paths()]
            )
    lost = FieldSet(removed)
    for other, overlap in overlaps:
        other.fields = other.fields - overlap
    for k, other in list(managers.items()):
        if k != key:
            other.fields = other.fields - lost
            if not other.fields:
                del managers[k]
    entry.fields = stripped
    if previous is not None and entry.fields == previous.fields:
        entry.fields = previous.fields  # unchanged: its stored encoding is reused
    if not entry.fields:
        del managers[key]
    elif changed:
        entry.time = now

    result = _fresh(merged)
    if manager == "kubectl":
        _sync_last_applied(result, applied)
    _store_managed(result, encode_managed_fields(managers))
    return result


def _prune(merged: Any, shape: Shape, last: Trie, key: ManagerKey, managers: Managers) -> Any:
    # What the applier owned last time and nobody owns now goes, with what lies below it
    # (so a withdrawn struct field takes its unowned defaults along, as upstream).
    others = [e.fields.trie for k, e in managers.items() if k != key]
    gone = withdrawn(last, managers[key].fields.trie, others, shape)
    return remove(merged, shape, gone) if gone else merged


def _not_taken_over(
    live: Mapping[str, Any] | None,
    live_obj: Mapping[str, Any],
    shape: Shape,
    overlaps: list[tuple[ManagedEntry, FieldSet]],
) -> list[tuple[ManagedEntry, FieldSet]]:
    """The conflicts kubectl cannot take over from its client-side last-applied state: fields
    whose live value no longer matches the annotation (someone else changed them)."""
    meta = (live or {}).get("metadata")
    annotations = meta.get("annotations") if isinstance(meta, dict) else None
    text = annotations.get(LAST_APPLIED) if isinstance(annotations, dict) else None
    if not isinstance(text, str) or not text:
        return overlaps
    try:
        last = orjson.loads(text)
        if not isinstance(last, dict) or last.get("apiVersion") != live_obj.get("apiVersion"):
            return overlaps
        allowed = FieldSet(to_trie(last, shape))
    except (orjson.JSONDecodeError, ShapeError):
        return overlaps
    diff = compare(last, live_obj, shape, implicit=False)
    for changed in (diff.modified, diff.added, diff.removed):
        allowed = allowed - FieldSet(changed)
    remaining = [(other, overlap - allowed) for other, overlap in overlaps]
    return [(other, rest) for other, rest in remaining if rest]


def _sync_last_applied(result: dict[str, Any], applied: dict[str, Any]) -> None:
    meta = result.get("metadata")
    annotations = meta.get("annotations") if isinstance(meta, dict) else None
    if not isinstance(annotations, dict) or not annotations.get(LAST_APPLIED):
        return
    config = applied
    applied_meta = applied.get("metadata")
    if isinstance(applied_meta, dict) and isinstance(applied_meta.get("annotations"), dict):
        kept = {k: v for k, v in applied_meta["annotations"].items() if k != LAST_APPLIED}
        config = {**applied, "metadata": {**applied_meta, "annotations": kept}}
    # Go's encoding/json with a trailing newline, as upstream writes the annotation.
    annotations[LAST_APPLIED] = go_json(config) + "\n"


def _config(applied: dict[str, Any], shape: Shape, ignore: FieldSet | None) -> dict[str, Any]:
    config = applied
    meta = applied.get("metadata")
    if isinstance(meta, dict) and not _SERVER_METADATA.isdisjoint(meta):
        kept = {k: v for k, v in meta.items() if k not in _SERVER_METADATA}
        config = {**applied, "metadata": kept}
    if ignore is not None and ignore:
        config = remove(config, shape, ignore.trie)
    return config


def _fresh(value: Any) -> dict[str, Any]:
    # The merge shares sub-values with the live object and the configuration; the caller
    # gets an object of its own.
    try:
        out = orjson.loads(orjson.dumps(value))
    except TypeError:  # integers beyond 64 bits
        out = deep_copy(value)
    assert isinstance(out, dict)
    return out


def _store_managed(obj: dict[str, Any], entries: list[dict[str, Any]] | None) -> None:
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        if entries is None:
            return
        meta = obj["metadata"] = {}
    if entries is None:
        meta.pop("managedFields", None)
    else:
        meta["managedFields"] = entries


def _gvk(api_version: Any, kind: Any) -> str:
    group, _, version = str(api_version or "").rpartition("/")
    return f"{group}/{version}, Kind={kind or ''}"
