"""Table output (``meta.k8s.io/v1`` Table), what ``kubectl get`` asks for. Pure, no I/O.

:func:`to_table` turns objects of one resource into a Table with upstream's columns for
that kind (pods, nodes, workloads, services, events, storage, RBAC...; a Name/Age table
for the rest). Like the upstream server it always fills every column, the wide ones too:
kubectl hides ``priority > 0`` columns unless asked for ``-o wide``.

Rows are ``{"cells": [...], "object": ...}`` where ``object`` is, by ``include_object``:
``"Metadata"`` (default) a PartialObjectMetadata, ``"Object"`` the object itself,
``"None"`` absent. Finished pods carry upstream's ``Completed`` row condition. Ages and
durations read like upstream's (:func:`human_duration`). Inputs are never modified; rows
may share sub-objects with them (metadata, or the object itself).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

from kybernetes.api import ResourceInfo
from kybernetes.apiserver import _printers_cluster as cluster
from kybernetes.apiserver import _printers_core as core
from kybernetes.apiserver import _printers_workloads as workloads
from kybernetes.apiserver._printers_pod import NODE, POD, node_status, pod_summary
from kybernetes.apiserver._printing import Printer, human_duration

__all__ = [
    "IncludeObject",
    "column_definitions",
    "human_duration",
    "node_status",
    "pod_summary",
    "printer_for",
    "to_table",
]

IncludeObject = Literal["Metadata", "Object", "None"]

#: (group, kind) -> printer. Kinds not listed get a Name/Age table.
PRINTERS: dict[tuple[str, str], Printer] = {
    ("", "Pod"): POD,
    ("", "Node"): NODE,
    ("", "Namespace"): core.NAMESPACE,
    ("", "Service"): core.SERVICE,
    ("", "Endpoints"): core.ENDPOINTS,
    ("", "ConfigMap"): core.CONFIG_MAP,
    ("", "Secret"): core.SECRET,
    ("", "ServiceAccount"): core.SERVICE_ACCOUNT,
    ("", "Event"): core.EVENT,
    ("", "ReplicationController"): workloads.REPLICATION_CONTROLLER,
    ("", "PersistentVolume"): cluster.PERSISTENT_VOLUME,
    ("", "PersistentVolumeClaim"): cluster.PERSISTENT_VOLUME_CLAIM,
    ("", "LimitRange"): cluster.NAME_CREATED_AT,
    ("", "ResourceQuota"): cluster.RESOURCE_QUOTA,
    ("apps", "Deployment"): workloads.DEPLOYMENT,
    ("apps", "ReplicaSet"): workloads.REPLICA_SET,
    ("apps", "StatefulSet"): workloads.STATEFUL_SET,
    ("apps", "DaemonSet"): workloads.DAEMON_SET,
    ("apps", "ControllerRevision"): workloads.CONTROLLER_REVISION,
    ("batch", "Job"): workloads.JOB,
    ("batch", "CronJob"): workloads.CRON_JOB,
    ("policy", "PodDisruptionBudget"): workloads.POD_DISRUPTION_BUDGET,
    ("coordination.k8s.io", "Lease"): core.LEASE,
    ("discovery.k8s.io", "EndpointSlice"): core.ENDPOINT_SLICE,
    ("events.k8s.io", "Event"): core.EVENT,
    ("rbac.authorization.k8s.io", "Role"): cluster.NAME_CREATED_AT,
    ("rbac.authorization.k8s.io", "ClusterRole"): cluster.NAME_CREATED_AT,
    ("rbac.authorization.k8s.io", "RoleBinding"): cluster.ROLE_BINDING,
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"): cluster.CLUSTER_ROLE_BINDING,
    ("storage.k8s.io", "StorageClass"): cluster.STORAGE_CLASS,
    ("scheduling.k8s.io", "PriorityClass"): cluster.PRIORITY_CLASS,
    ("apiextensions.k8s.io", "CustomResourceDefinition"): cluster.NAME_CREATED_AT,
}


def printer_for(info: ResourceInfo) -> Printer:
    return PRINTERS.get((info.group, info.kind), core.GENERIC)


@functools.cache
def _definitions(printer: Printer) -> tuple[dict[str, Any], ...]:
    return tuple(c.definition() for c in printer.columns)


def column_definitions(info: ResourceInfo) -> list[dict[str, Any]]:
    """The ``columnDefinitions`` of ``info``'s tables (built once per printer)."""
    return list(_definitions(printer_for(info)))


def _row_object(obj: Mapping[str, Any], include_object: IncludeObject) -> Any:
    if include_object == "Object":
        return obj
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": obj.get("metadata", {}),
    }


def to_table(
    info: ResourceInfo,
    objects: Sequence[Mapping[str, Any]],
    *,
    include_object: IncludeObject = "Metadata",
    now: datetime | None = None,
    with_column_definitions: bool = True,
    list_metadata: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A ``meta.k8s.io/v1`` Table of ``objects`` (all of resource ``info``).

    ``now`` is the time ages are counted from (default: the current UTC time; tests pass a
    fixed one; a naive datetime is taken as UTC). ``include_object`` must be one of
    ``Metadata``, ``Object``, ``None`` (ValueError otherwise: the caller answers 400).
    ``with_column_definitions=False`` leaves ``columnDefinitions`` empty, as watch events
    after the first do. ``list_metadata`` (``resourceVersion``, ``continue``,
    ``remainingItemCount``) is copied to the Table's ``metadata``.
    """
    if include_object not in ("Metadata", "Object", "None"):
        raise ValueError(f"includeObject must be Metadata, Object or None, not {include_object!r}")
    if now is None:
        now = datetime.now(UTC)
    elif now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    printer = printer_for(info)
    rows = []
    for obj in objects:
        row: dict[str, Any] = {"cells": printer.cells(obj, now)}
        if printer.conditions is not None and (conditions := printer.conditions(obj)):
            row["conditions"] = conditions
        if include_object != "None":
            row["object"] = _row_object(obj, include_object)
        rows.append(row)
    metadata = {
        key: list_metadata[key]
        for key in ("resourceVersion", "continue", "remainingItemCount")
        if list_metadata and list_metadata.get(key) not in (None, "")
    }
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": metadata,
        "columnDefinitions": column_definitions(info) if with_column_definitions else [],
        "rows": rows,
    }
