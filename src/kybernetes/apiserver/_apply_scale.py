"""Server-side apply on the ``scale`` subresource, with ownership kept on the workload.

An ``autoscaling/v1`` Scale has one field anybody can own, ``spec.replicas``, which is the
workload's ``spec.replicas``. As upstream's scale handler does, the apply runs against the
Scale view of the workload, whose managedFields are the workload's entries that own
``spec.replicas`` (as ``autoscaling/v1`` entries owning the Scale's replicas), and the
outcome is carried back:

* :func:`scale_managed_fields` is the view's managedFields;
* :func:`workload_managed_fields` merges the applied view's managedFields into the
  workload's: a manager that lost replicas loses ``spec.replicas`` (keeping its other
  fields), a manager new to replicas gets an entry of the workload's apiVersion with the
  ``scale`` subresource it wrote through.

:func:`serve_scale_apply` answers the PATCH; everything else (conflicts, force, options,
no write when nothing changed) is as for any apply (:mod:`._apply`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from aiohttp import web

from kybernetes.api import FieldSet, ResourceInfo
from kybernetes.api._managedfields import (
    ManagedEntry,
    Managers,
    decode_lenient,
    encode_managed_fields,
)
from kybernetes.apiserver import _fieldcheck as fieldcheck
from kybernetes.apiserver._apply import read_apply_request
from kybernetes.apiserver._deletion import format_time
from kybernetes.apiserver._managed import tracker_for
from kybernetes.apiserver._render import object_response
from kybernetes.apiserver._request import Output, Target, negotiate
from kybernetes.apiserver._scale import SCALE_API_VERSION, SCALE_KIND, apply_scale, to_scale
from kybernetes.apiserver._storage import MAIN, SCALE, ResourceStorage

Obj = dict[str, Any]

#: ``spec.replicas``: the same path in the workload and in its Scale.
REPLICAS: Final = ("f:spec", "f:replicas")
_REPLICAS_SET: Final = FieldSet.from_paths([REPLICAS])
#: Scale's status is computed, never applied (upstream resets it).
_SCALE_RESET: Final = FieldSet.from_paths([("f:status",)])

#: A manager across the two views: its entry keys differ only in apiVersion.
_Who = tuple[str, str, str]


def _who(entry: ManagedEntry) -> _Who:
    return (entry.manager, entry.operation, entry.subresource)


def scale_managed_fields(workload: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    """The managedFields of ``workload``'s Scale view (None: nobody owns replicas)."""
    view: Managers = {}
    for entry in decode_lenient(workload).values():
        if REPLICAS in entry.fields:
            owner = ManagedEntry(
                entry.manager,
                entry.operation,
                SCALE_API_VERSION,
                entry.subresource,
                _REPLICAS_SET,
                entry.time,
            )
            view[owner.key] = owner
    return encode_managed_fields(view)


def workload_managed_fields(
    workload: Mapping[str, Any], scale: Mapping[str, Any], api_version: str
) -> list[dict[str, Any]] | None:
    """``workload``'s managedFields after its Scale view became ``scale``."""
    owners = {_who(e): e for e in decode_lenient(scale).values() if REPLICAS in e.fields}
    out: Managers = {}
    for key, entry in decode_lenient(workload).items():
        if REPLICAS in entry.fields:
            still = owners.pop(_who(entry), None)
            if still is not None:
                entry.time = still.time
            else:
                entry.fields = entry.fields - _REPLICAS_SET
        if entry.fields:
            out[key] = entry
    for owner in owners.values():
        entry = ManagedEntry(
            owner.manager,
            owner.operation,
            api_version,
            owner.subresource,
            _REPLICAS_SET,
            owner.time,
        )
        out[entry.key] = entry
    return encode_managed_fields(out)


async def serve_scale_apply(
    request: web.Request, storage: ResourceStorage, target: Target
) -> web.Response:
    """Answer an apply PATCH on ``target``'s ``scale`` subresource."""
    info: ResourceInfo = target.info
    output = Output(yaml=negotiate(request.headers.get("Accept"), table_allowed=False).yaml)
    req = await read_apply_request(
        request,
        target,
        SCALE,
        node=fieldcheck.node_for(info, SCALE_KIND),
        gvk=(SCALE_API_VERSION, SCALE_KIND),
        ignore=_SCALE_RESET,
    )
    precondition = (req.config.get("metadata") or {}).get("resourceVersion") or ""

    def compute(current: Obj) -> Obj:
        view = to_scale(info, current)
        entries = scale_managed_fields(current)
        if entries is not None:
            view["metadata"]["managedFields"] = entries
        applied = req.apply(view, format_time(storage.now()))
        # Only a resourceVersion the client gave is a precondition (not the view's own).
        applied_meta = applied.setdefault("metadata", {})
        applied_meta["resourceVersion"] = precondition
        out = apply_scale(info, current, applied)
        managed = workload_managed_fields(current, applied, info.api_version)
        meta = {k: v for k, v in out["metadata"].items() if k != "managedFields"}
        if managed is not None:
            meta["managedFields"] = managed
        return {**out, "metadata": meta}

    fields = tracker_for(info, SCALE, req.wopts.field_manager, None, record=False)
    stored, _ = await storage.guaranteed_update(
        target.namespace or "",
        target.name,
        compute,
        subresource=MAIN,
        dry_run=req.wopts.dry_run,
        fields=fields,
    )
    return object_response(info, to_scale(info, stored), output, warnings=req.duplicates)
