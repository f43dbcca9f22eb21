"""The ``scale`` subresource: an ``autoscaling/v1`` Scale view of a workload. Pure.

``to_scale`` presents deployments, replica sets, stateful sets and replication controllers
as ``{spec: {replicas}, status: {replicas, selector}}`` with the selector as a string
(what ``kubectl scale`` and HPAs read); ``apply_scale`` writes ``spec.replicas`` back.
The Scale carries the workload's resourceVersion, so a PUT of a stale Scale is a 409.
"""

from __future__ import annotations

from typing import Any

from kybernetes.api import ResourceInfo
from kybernetes.api import _errors as field_errors
from kybernetes.api._labelselector import format_label_selector
from kybernetes.apiserver import _errors as errors

SCALE_KIND, SCALE_API_VERSION = "Scale", "autoscaling/v1"

Obj = dict[str, Any]


def _selector(info: ResourceInfo, obj: Obj) -> str:
    selector = (obj.get("spec") or {}).get("selector")
    if info.kind == "ReplicationController":
        # A plain label map: kubectl prints it as a=b,c=d.
        if isinstance(selector, dict):
            return ",".join(f"{k}={v}" for k, v in sorted(selector.items()))
        return ""
    if not isinstance(selector, dict):
        return ""
    text = format_label_selector(selector)
    return "" if text == "<none>" else text


def to_scale(info: ResourceInfo, obj: Obj) -> Obj:
    meta = obj.get("metadata") or {}
    scale_meta = {
        k: meta[k]
        for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
        if k in meta
    }
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    replicas = spec.get("replicas")
    return {
        "kind": SCALE_KIND,
        "apiVersion": SCALE_API_VERSION,
        "metadata": scale_meta,
        "spec": {"replicas": replicas if isinstance(replicas, int) else 0},
        "status": {
            "replicas": status.get("replicas") or 0,
            "selector": _selector(info, obj),
        },
    }


def apply_scale(info: ResourceInfo, obj: Obj, scale: Obj) -> Obj:
    """``obj`` with the Scale's replicas; carries the Scale's resourceVersion as the
    precondition of the write (empty: unconditional)."""
    meta = scale.get("metadata") or {}
    name = str(meta.get("name") or (obj.get("metadata") or {}).get("name") or "")
    replicas = (scale.get("spec") or {}).get("replicas", 0)
    if replicas is None:
        replicas = 0
    if not isinstance(replicas, int) or isinstance(replicas, bool):
        raise errors.invalid(
            SCALE_KIND,
            "autoscaling",
            name,
            [field_errors.invalid("spec.replicas", replicas, "must be an integer")],
        )
    if replicas < 0:
        raise errors.invalid(
            SCALE_KIND,
            "autoscaling",
            name,
            [field_errors.invalid("spec.replicas", replicas, "must be greater than or equal to 0")],
        )
    out = {**obj, "spec": {**(obj.get("spec") or {}), "replicas": replicas}}
    out_meta = dict(obj.get("metadata") or {})
    out_meta["resourceVersion"] = meta.get("resourceVersion") or ""
    out["metadata"] = out_meta
    return out
