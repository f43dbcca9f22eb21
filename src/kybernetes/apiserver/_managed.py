"""Field ownership on every write: who set which field, kept in ``metadata.managedFields``.

A handler describes one write with a :class:`FieldTracker` (the manager, the subresource
written through, whether the request already computed managedFields itself) and hands it to
:class:`~kybernetes.apiserver._storage.ResourceStorage`, which calls it at the points
upstream's field manager runs:

* :meth:`FieldTracker.created` on a new object once it is defaulted, before the strategy
  prepares and validates it (so a creator owns the defaults it got, as upstream, where
  defaulting happens while decoding the body);
* :meth:`FieldTracker.updated` on an update once it is defaulted, against the stored object;
* :meth:`FieldTracker.settled` on an update after validation: a write whose only change is
  managedFields timestamps keeps the stored ones, so it is no write at all.

Server-side apply computes managedFields itself (``record=False``): only ``settled`` applies.
Writes without a tracker (pod binding, deletion marks) leave managedFields as they are, as
upstream's internal updates do.

Creates are the hot path, and controllers stamp out many objects of one shape (the pods of
a ReplicaSet differ only in name and uid): the field set of a create is remembered per
manager and object content without the per-object metadata nobody owns, so each shape is
walked once.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import orjson

from kybernetes.api import (
    FieldSet,
    ResourceInfo,
    SchemaNode,
    default_manager,
    reset_fields,
    revert_managed_fields_timestamps,
    update_managed_fields,
)
from kybernetes.apiserver import _fieldcheck as fieldcheck

Obj = dict[str, Any]

#: Metadata that differs from object to object and that no manager ever owns: left out of
#: the key under which a create's managedFields are remembered.
_PER_OBJECT: Final = frozenset(
    {
        "name",
        "namespace",
        "uid",
        "creationTimestamp",
        "resourceVersion",
        "generation",
        "selfLink",
        "clusterName",
    }
)
_CREATED_MAX: Final = 512
#: (manager, subresource, object without per-object metadata) -> the managedFields entries
#: of its create without their timestamp (JSON; decoded afresh for every object).
_created: dict[tuple[str, str, bytes], bytes] = {}


@dataclass(frozen=True, slots=True)
class FieldTracker:
    """How one write records field ownership (see the module docstring)."""

    manager: str
    #: The subresource written through ("" for the main resource), as upstream records it.
    subresource: str
    node: SchemaNode | None
    #: Fields this endpoint resets, which nobody owns through it.
    ignore: FieldSet | None
    #: False when the request set managedFields itself (server-side apply).
    record: bool = True

    def created(self, obj: Obj, now: str) -> Obj:
        if not self.record:
            return obj
        meta = obj.get("metadata")
        if not isinstance(meta, dict) or meta.get("managedFields") is not None:
            return self._update(None, obj, now)
        try:
            shape = orjson.dumps(
                {**obj, "metadata": {k: v for k, v in meta.items() if k not in _PER_OBJECT}}
            )
        except TypeError:  # integers beyond 64 bits
            return self._update(None, obj, now)
        key = (self.manager, self.subresource, shape)
        known = _created.get(key)
        if known is None:
            out = self._update(None, obj, now)
            entries = out["metadata"].get("managedFields") or []
            if len(_created) >= _CREATED_MAX:
                _created.clear()
            _created[key] = orjson.dumps([{**e, "time": None} for e in entries])
            return out
        entries = orjson.loads(known)
        for entry in entries:
            entry["time"] = now
        meta = {**meta, "managedFields": entries} if entries else meta
        return {**obj, "metadata": meta}

    def _update(self, old: Obj | None, new: Obj, now: str) -> Obj:
        return update_managed_fields(
            old,
            new,
            self.node,
            manager=self.manager,
            now=now,
            subresource=self.subresource,
            ignore=self.ignore,
        )

    def updated(self, new: Obj, old: Obj, now: str) -> Obj:
        if not self.record:
            return new
        return self._update(old, new, now)

    @staticmethod
    def settled(new: Obj, old: Mapping[str, Any]) -> Obj:
        return revert_managed_fields_timestamps(new, old)


def manager_name(field_manager: str, user_agent: str | None) -> str:
    """The ``fieldManager`` parameter, else the name upstream derives from the User-Agent."""
    return field_manager or default_manager(user_agent)


@functools.cache
def _endpoint(group: str, version: str, kind: str, subresource: str, has_status: bool) -> Any:
    # Schema lookups and reset sets are the same for every write to one endpoint.
    return fieldcheck.schema_node(group, version, kind), reset_fields(
        subresource, has_status=has_status
    )


def endpoint_fields(
    info: ResourceInfo, subresource: str
) -> tuple[SchemaNode | None, FieldSet | None]:
    """(the schema of ``info``'s objects, the fields a write through ``subresource`` resets)."""
    node, ignore = _endpoint(
        info.group, info.version, info.kind, subresource, "status" in info.subresources
    )
    return node, ignore


def tracker_for(
    info: ResourceInfo,
    subresource: str,
    field_manager: str,
    user_agent: str | None,
    *,
    record: bool = True,
) -> FieldTracker:
    """The tracker of a write to ``info`` through ``subresource`` ("" for the main resource)."""
    node, ignore = endpoint_fields(info, subresource)
    return FieldTracker(
        manager_name(field_manager, user_agent), subresource, node, ignore, record=record
    )
