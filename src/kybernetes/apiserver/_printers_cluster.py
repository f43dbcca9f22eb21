"""Table printers of storage, RBAC, scheduling and quota kinds: PersistentVolume(Claim),
StorageClass, Role(Binding), ClusterRole(Binding), PriorityClass, ResourceQuota, LimitRange
and CustomResourceDefinition, with upstream's columns and cell formats (``RWO,RWX``,
``ClusterRole/admin``, ``cpu: 500m/2``...).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from kybernetes.apiserver._printing import (
    AGE,
    CREATED_AT,
    NAME,
    Column,
    Obj,
    Printer,
    age,
    created_at,
    get,
    items,
    mapping,
    name,
    number,
    text,
)

_ACCESS_MODES = (
    ("ReadWriteOnce", "RWO"),
    ("ReadOnlyMany", "ROX"),
    ("ReadWriteMany", "RWX"),
    ("ReadWriteOncePod", "RWOP"),
)


def access_modes(modes: list[Any]) -> str:
    """``RWO,ROX,RWX,RWOP`` in that order, whatever the object's order."""
    return ",".join(short for mode, short in _ACCESS_MODES if mode in modes)


def _storage_class_of(obj: Obj) -> str:
    beta = text(obj, "metadata", "annotations", "volume.beta.kubernetes.io/storage-class")
    return beta or text(obj, "spec", "storageClassName")


def _quantity(value: Any) -> str:
    return str(value) if isinstance(value, str | int | float) else ""


def _terminating(obj: Obj, phase: str) -> str:
    return "Terminating" if get(obj, "metadata", "deletionTimestamp") is not None else phase


def _pv_cells(pv: Obj, now: datetime) -> list[Any]:
    claim = mapping(pv, "spec", "claimRef")
    return [
        name(pv),
        _quantity(get(pv, "spec", "capacity", "storage")),
        access_modes(items(pv, "spec", "accessModes")),
        text(pv, "spec", "persistentVolumeReclaimPolicy"),
        _terminating(pv, text(pv, "status", "phase")),
        f"{text(claim, 'namespace')}/{text(claim, 'name')}" if claim else "",
        _storage_class_of(pv),
        text(pv, "spec", "volumeAttributesClassName") or "<unset>",
        text(pv, "status", "reason"),
        age(pv, now),
        text(pv, "spec", "volumeMode") or "<unset>",
    ]


def _pvc_cells(pvc: Obj, now: datetime) -> list[Any]:
    bound = bool(text(pvc, "spec", "volumeName"))
    return [
        name(pvc),
        _terminating(pvc, text(pvc, "status", "phase")),
        text(pvc, "spec", "volumeName"),
        _quantity(get(pvc, "status", "capacity", "storage")) if bound else "",
        access_modes(items(pvc, "status", "accessModes")) if bound else "",
        _storage_class_of(pvc),
        text(pvc, "spec", "volumeAttributesClassName") or "<unset>",
        age(pvc, now),
        text(pvc, "spec", "volumeMode") or "<unset>",
    ]


def _binding_cells(obj: Obj, now: datetime) -> list[Any]:
    users, groups, accounts = [], [], []
    for subject in items(obj, "subjects"):
        kind, subject_name = text(subject, "kind"), text(subject, "name")
        if kind == "User":
            users.append(subject_name)
        elif kind == "Group":
            groups.append(subject_name)
        elif kind == "ServiceAccount":
            accounts.append(f"{text(subject, 'namespace')}:{subject_name}")
    role = f"{text(obj, 'roleRef', 'kind')}/{text(obj, 'roleRef', 'name')}"
    return [
        name(obj),
        role,
        age(obj, now),
        ", ".join(users),
        ", ".join(groups),
        ", ".join(accounts),
    ]


def _is_default_class(obj: Obj) -> bool:
    annotations = mapping(obj, "metadata", "annotations")
    return "true" in (
        annotations.get("storageclass.kubernetes.io/is-default-class"),
        annotations.get("storageclass.beta.kubernetes.io/is-default-class"),
    )


def _storage_class_cells(obj: Obj, now: datetime) -> list[Any]:
    return [
        name(obj) + (" (default)" if _is_default_class(obj) else ""),
        text(obj, "provisioner"),
        text(obj, "reclaimPolicy") or "Delete",
        text(obj, "volumeBindingMode") or "Immediate",
        get(obj, "allowVolumeExpansion") is True,
        age(obj, now),
    ]


def _resource_quota_cells(obj: Obj, now: datetime) -> list[Any]:
    hard, used = mapping(obj, "status", "hard"), mapping(obj, "status", "used")
    requests: list[str] = []
    limits: list[str] = []
    for resource in sorted(hard):
        entry = f"{resource}: {_quantity(used.get(resource)) or '0'}/{_quantity(hard[resource])}"
        (limits if resource.startswith("limits.") else requests).append(entry)
    return [name(obj), ", ".join(requests), ", ".join(limits), age(obj, now)]


def _name_created_at(obj: Obj, _: datetime) -> list[Any]:
    return [name(obj), created_at(obj)]


_PV, _PVC = "core.v1.PersistentVolumeSpec", "core.v1.PersistentVolumeClaimSpec"
PERSISTENT_VOLUME = Printer(
    columns=(
        NAME,
        Column("Capacity", doc=(_PV, "capacity")),
        Column("Access Modes", doc=(_PV, "accessModes")),
        Column("Reclaim Policy", doc=(_PV, "persistentVolumeReclaimPolicy")),
        Column("Status", doc=("core.v1.PersistentVolumeStatus", "phase")),
        Column("Claim", doc=(_PV, "claimRef")),
        Column("StorageClass", doc="StorageClass of the pv"),
        Column("VolumeAttributesClass", doc="VolumeAttributesClass of the pv"),
        Column("Reason", doc=("core.v1.PersistentVolumeStatus", "reason")),
        AGE,
        Column("VolumeMode", doc=(_PV, "volumeMode"), priority=1),
    ),
    cells=_pv_cells,
)
PERSISTENT_VOLUME_CLAIM = Printer(
    columns=(
        NAME,
        Column("Status", doc=("core.v1.PersistentVolumeClaimStatus", "phase")),
        Column("Volume", doc=(_PVC, "volumeName")),
        Column("Capacity", doc=("core.v1.PersistentVolumeClaimStatus", "capacity")),
        Column("Access Modes", doc=("core.v1.PersistentVolumeClaimStatus", "accessModes")),
        Column("StorageClass", doc="StorageClass of the pvc"),
        Column("VolumeAttributesClass", doc="VolumeAttributesClass of the pvc"),
        AGE,
        Column("VolumeMode", doc=(_PVC, "volumeMode"), priority=1),
    ),
    cells=_pvc_cells,
)
_RB = "rbac.v1.RoleBinding"
ROLE_BINDING = Printer(
    columns=(
        NAME,
        Column("Role", doc=(_RB, "roleRef")),
        AGE,
        Column("Users", doc="Users in the roleBinding", priority=1),
        Column("Groups", doc="Groups in the roleBinding", priority=1),
        Column("ServiceAccounts", doc="ServiceAccounts in the roleBinding", priority=1),
    ),
    cells=_binding_cells,
)
CLUSTER_ROLE_BINDING = Printer(
    columns=(
        NAME,
        Column("Role", doc=("rbac.v1.ClusterRoleBinding", "roleRef")),
        AGE,
        Column("Users", doc="Users in the clusterRoleBinding", priority=1),
        Column("Groups", doc="Groups in the clusterRoleBinding", priority=1),
        Column("ServiceAccounts", doc="ServiceAccounts in the clusterRoleBinding", priority=1),
    ),
    cells=_binding_cells,
)
NAME_CREATED_AT = Printer(columns=(NAME, CREATED_AT), cells=_name_created_at)
_SC = "storage.v1.StorageClass"
STORAGE_CLASS = Printer(
    columns=(
        NAME,
        Column("Provisioner", doc=(_SC, "provisioner")),
        Column("ReclaimPolicy", doc=(_SC, "reclaimPolicy")),
        Column("VolumeBindingMode", doc=(_SC, "volumeBindingMode")),
        Column("AllowVolumeExpansion", doc=(_SC, "allowVolumeExpansion")),
        AGE,
    ),
    cells=_storage_class_cells,
)
_PC = "scheduling.v1.PriorityClass"


def _priority_class_cells(obj: Obj, now: datetime) -> list[Any]:
    policy = text(obj, "preemptionPolicy") or "PreemptLowerPriority"
    return [
        name(obj),
        number(obj, "value"),
        get(obj, "globalDefault") is True,
        age(obj, now),
        policy,
    ]


PRIORITY_CLASS = Printer(
    columns=(
        NAME,
        Column("Value", type="integer", doc=(_PC, "value")),
        Column("Global-Default", type="boolean", doc=(_PC, "globalDefault")),
        AGE,
        Column("PreemptionPolicy", doc=(_PC, "preemptionPolicy")),
    ),
    cells=_priority_class_cells,
)
RESOURCE_QUOTA = Printer(
    columns=(
        NAME,
        Column(
            "Request",
            doc="Request represents a minimum amount of cpu/memory that a container may consume.",
        ),
        Column(
            "Limit",
            doc="Limits control the maximum amount of cpu/memory that a container may use "
            "independent of contention on the node.",
        ),
        AGE,
    ),
    cells=_resource_quota_cells,
)
