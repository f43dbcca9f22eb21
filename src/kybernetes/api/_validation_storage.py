"""Validation of persistent volumes, claims and storage classes, as upstream's.

A claim's spec is immutable after creation except its storage request (which may grow, or
shrink back to no less than the capacity it reports) and a ``volumeName`` set once.
"""

from __future__ import annotations

from typing import Any, Final

from kybernetes.api._errors import forbidden, invalid, not_supported, required
from kybernetes.api._jsonvalue import deep_copy
from kybernetes.api._names import (
    is_qualified_name,
    name_is_dns_subdomain,
    validate_object_meta,
    validate_object_meta_update,
)
from kybernetes.api._quantity import Quantity
from kybernetes.api._validation_common import (
    Errs,
    Obj,
    as_dict,
    as_list,
    immutable,
    json_same,
    label_selector,
    one_of,
    quantity,
)
from kybernetes.api._validation_resources import resource_quantity
from kybernetes.api._validation_volumes import VOLUME_SOURCES

ACCESS_MODES: Final = ("ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod")
VOLUME_MODES: Final = ("Block", "Filesystem")
RECLAIM_POLICIES: Final = ("Delete", "Recycle", "Retain")
PVC_IMMUTABLE_MSG: Final = (
    "spec is immutable after creation except resources.requests for bound claims"
)
_NOT_POSITIVE: Final = "must be greater than zero"


def _access_modes(modes: Any, field: str, required_detail: str) -> Errs:
    modes = as_list(modes)
    errs: Errs = []
    if not modes:
        errs.append(required(field, required_detail))
    for mode in modes:
        if mode not in ACCESS_MODES:
            errs.append(not_supported(field, mode, ACCESS_MODES))
    if "ReadWriteOncePod" in modes and len(modes) > 1:
        errs.append(forbidden(field, "may not use ReadWriteOncePod with other access modes"))
    return errs


def _positive_storage(value: Any, field: str) -> Errs:
    parsed, errs = quantity(value, field)
    if parsed is not None and parsed.sign() <= 0:
        return [invalid(field, str(parsed), _NOT_POSITIVE)]
    if parsed is not None:
        errs.extend(resource_quantity("storage", value, field)[1])
    return errs


def validate_pvc_spec(spec: Any, field: str) -> Errs:
    spec = as_dict(spec)
    errs = _access_modes(
        spec.get("accessModes"), f"{field}.accessModes", "at least 1 access mode is required"
    )
    if spec.get("selector") is not None:
        errs.extend(label_selector(spec.get("selector"), f"{field}.selector"))
    requests = as_dict(as_dict(spec.get("resources")).get("requests"))
    # Upstream reports the storage request at resources[storage], not resources.requests.
    storage_path = f"{field}.resources[storage]"
    if "storage" not in requests:
        errs.append(required(storage_path))
    else:
        errs.extend(_positive_storage(requests["storage"], storage_path))
    class_name = spec.get("storageClassName")
    if isinstance(class_name, str) and class_name:
        errs.extend(
            invalid(f"{field}.storageClassName", class_name, m)
            for m in name_is_dns_subdomain(class_name, False)
        )
    if spec.get("volumeMode") is not None:
        errs.extend(one_of(spec.get("volumeMode"), f"{field}.volumeMode", VOLUME_MODES))
    return errs


def validate_persistent_volume_claim(pvc: Obj) -> Errs:
    errs = validate_object_meta(as_dict(pvc.get("metadata")), namespaced=True)
    return errs + validate_pvc_spec(pvc.get("spec"), "spec")


def _storage(obj: Obj, *path: str) -> Quantity | None:
    node: Any = obj
    for key in path:
        node = as_dict(node).get(key)
    if node is None:
        return None
    return quantity(node, "")[0]


def validate_persistent_volume_claim_update(new: Obj, old: Obj) -> Errs:
    errs = validate_object_meta_update(as_dict(new.get("metadata")), as_dict(old.get("metadata")))
    errs.extend(validate_pvc_spec(new.get("spec"), "spec"))
    spec, old_spec = deep_copy(as_dict(new.get("spec"))), deep_copy(as_dict(old.get("spec")))
    if not old_spec.get("volumeName"):
        # The binder sets volumeName once.
        if "volumeName" in spec:
            old_spec["volumeName"] = spec["volumeName"]
        else:
            old_spec.pop("volumeName", None)
    # A bound claim may change its storage request; nothing else may change.
    if as_dict(new.get("status")).get("phase") == "Bound":
        for candidate in (spec, old_spec):
            requests = as_dict(as_dict(candidate.get("resources")).get("requests"))
            requests.pop("storage", None)
    if not json_same(spec, old_spec):
        errs.append(forbidden("spec", PVC_IMMUTABLE_MSG))
    new_size = _storage(new, "spec", "resources", "requests", "storage")
    old_size = _storage(old, "spec", "resources", "requests", "storage")
    capacity = _storage(old, "status", "capacity", "storage")
    shrinking = new_size is not None and old_size is not None and new_size < old_size
    # Shrinking back is allowed down to (not including) what the volume reports, so a
    # failed expansion can be retried smaller (RecoverVolumeExpansionFailure).
    if shrinking and new_size is not None and (capacity is None or new_size <= capacity):
        field = "spec.resources.requests.storage"
        detail = (
            "field can not be less than status.capacity"
            if capacity is not None
            else "field can not be less than previous value"
        )
        errs.append(forbidden(field, detail))
    errs.extend(
        immutable(
            as_dict(new.get("spec")).get("volumeMode"), old_spec.get("volumeMode"), "volumeMode"
        )
    )
    return errs


# -- persistent volumes ------------------------------------------------------------------------


def _pv_spec(spec: Obj) -> Errs:
    errs = _access_modes(spec.get("accessModes"), "spec.accessModes", "")
    capacity = as_dict(spec.get("capacity"))
    if not capacity:
        errs.append(required("spec.capacity"))
    elif set(capacity) != {"storage"}:
        errs.append(not_supported("spec.capacity", capacity, ["storage"]))
    for name, value in capacity.items():
        errs.extend(_positive_storage(value, f"spec.capacity[{name}]"))
    policy = spec.get("persistentVolumeReclaimPolicy")
    if policy:
        errs.extend(one_of(policy, "spec.persistentVolumeReclaimPolicy", RECLAIM_POLICIES))
    sources = [key for key in (*VOLUME_SOURCES, "local") if spec.get(key) is not None]
    if not sources:
        errs.append(required("spec", "must specify a volume type"))
    for extra in sources[1:]:
        errs.append(forbidden(f"spec.{extra}", "may not specify more than 1 volume type"))
    if spec.get("volumeMode") is not None:
        errs.extend(one_of(spec.get("volumeMode"), "spec.volumeMode", VOLUME_MODES))
    return errs


def validate_persistent_volume(pv: Obj) -> Errs:
    errs = validate_object_meta(as_dict(pv.get("metadata")), namespaced=False)
    return errs + _pv_spec(as_dict(pv.get("spec")))


def validate_persistent_volume_update(new: Obj, old: Obj) -> Errs:
    errs = validate_object_meta_update(as_dict(new.get("metadata")), as_dict(old.get("metadata")))
    spec, old_spec = as_dict(new.get("spec")), as_dict(old.get("spec"))
    errs.extend(_pv_spec(spec))
    source_keys = (*VOLUME_SOURCES, "local")
    new_source = {k: spec[k] for k in source_keys if k in spec}
    old_source = {k: old_spec[k] for k in source_keys if k in old_spec}
    if not json_same(new_source, old_source):
        detail = "spec.persistentvolumesource is immutable after creation"
        errs.append(forbidden("spec.persistentvolumesource", detail))
    errs.extend(immutable(spec.get("volumeMode"), old_spec.get("volumeMode"), "volumeMode"))
    if old_spec.get("nodeAffinity") is not None:
        errs.extend(
            immutable(spec.get("nodeAffinity"), old_spec.get("nodeAffinity"), "nodeAffinity")
        )
    return errs


# -- storage classes ---------------------------------------------------------------------------


def _storage_class_body(sc: Obj) -> Errs:
    errs: Errs = []
    provisioner = sc.get("provisioner")
    if not provisioner:
        errs.append(required("provisioner"))
    elif isinstance(provisioner, str):
        lowered = provisioner.lower()
        errs.extend(invalid("provisioner", lowered, m) for m in is_qualified_name(lowered))
    policy = sc.get("reclaimPolicy")
    if policy is not None:
        errs.extend(one_of(policy, "reclaimPolicy", ("Delete", "Retain")))
    mode = sc.get("volumeBindingMode")
    if mode is not None:
        errs.extend(one_of(mode, "volumeBindingMode", ("Immediate", "WaitForFirstConsumer")))
    return errs


def validate_storage_class(sc: Obj) -> Errs:
    return validate_object_meta(
        as_dict(sc.get("metadata")), namespaced=False
    ) + _storage_class_body(sc)


def validate_storage_class_update(new: Obj, old: Obj) -> Errs:
    errs = validate_object_meta_update(as_dict(new.get("metadata")), as_dict(old.get("metadata")))
    errs.extend(_storage_class_body(new))
    for key in ("parameters", "provisioner", "reclaimPolicy", "volumeBindingMode"):
        if key == "parameters":
            same = json_same(new.get(key) or {}, old.get(key) or {})
            if not same:
                errs.append(forbidden(key, "updates to parameters are forbidden."))
            continue
        if not json_same(new.get(key), old.get(key)):
            errs.extend(immutable(new.get(key), old.get(key), key))
    return errs
