"""Validation of the core/v1 resources besides pods and services: namespaces, config maps,
secrets, replication controllers, nodes, limit ranges and resource quotas, with upstream's
paths and messages. Each ``validate_*`` takes a (defaulted, prepared) object; each
``validate_*_update`` the new and old objects and includes the create checks on the new one.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any, Final

from kybernetes.api._errors import (
    ErrorType,
    FieldError,
    forbidden,
    invalid,
    not_supported,
    required,
    too_long,
)
from kybernetes.api._labels import LabelSelector
from kybernetes.api._names import (
    is_qualified_name,
    is_valid_label_value,
    name_is_dns_label,
    validate_object_meta,
    validate_object_meta_update,
)
from kybernetes.api._validation_common import (
    Errs,
    Obj,
    as_dict,
    as_list,
    as_str,
    immutable,
    json_same,
    nonnegative,
    selector_matches_template,
    struct,
)
from kybernetes.api._validation_containers import config_map_key_errors
from kybernetes.api._validation_pod import TAINT_EFFECTS, validate_pod_template
from kybernetes.api._validation_resources import resource_quantity, validate_resource_name

MAX_SECRET_SIZE: Final = 1024 * 1024
IMMUTABLE_SET_MSG: Final = "field is immutable when `immutable` is set"


def _meta(obj: Obj) -> Obj:
    return as_dict(obj.get("metadata"))


def _meta_update(new: Obj, old: Obj) -> Errs:
    return validate_object_meta_update(_meta(new), _meta(old))


# -- namespaces --------------------------------------------------------------------------------


def validate_namespace(ns: Obj) -> Errs:
    errs = validate_object_meta(_meta(ns), namespaced=False, name_validator=name_is_dns_label)
    return errs + _namespace_finalizers(ns)


def _namespace_finalizers(ns: Obj) -> Errs:
    errs: Errs = []
    for finalizer in as_list(as_dict(ns.get("spec")).get("finalizers")):
        if not isinstance(finalizer, str):
            continue
        path = "spec.finalizers"
        messages = is_qualified_name(finalizer)
        errs.extend(invalid(path, finalizer, m) for m in messages)
        if not messages and finalizer != "kubernetes" and "/" not in finalizer:
            detail = "name is neither a standard finalizer name nor is it fully qualified"
            errs.append(invalid(path, finalizer, detail))
    return errs


def validate_namespace_update(new: Obj, old: Obj) -> Errs:
    return _meta_update(new, old) + _namespace_finalizers(new)


# -- config maps and secrets -------------------------------------------------------------------


def _decoded_size(value: Any) -> int | None:
    if not isinstance(value, str):
        return 0
    try:
        return len(base64.b64decode(value, validate=True))
    except (binascii.Error, ValueError):
        return None


def validate_config_map(cm: Obj) -> Errs:
    return validate_object_meta(_meta(cm), namespaced=True) + _config_map_body(cm)


def _config_map_body(cm: Obj) -> Errs:
    errs: Errs = []
    data, binary = as_dict(cm.get("data")), as_dict(cm.get("binaryData"))
    total = 0
    for key, value in data.items():
        errs.extend(invalid(f"data[{key}]", key, m) for m in config_map_key_errors(key))
        if key in binary:
            errs.append(invalid(f"data[{key}]", key, "duplicate of key present in binaryData"))
        total += len(value.encode()) if isinstance(value, str) else 0
    for key, value in binary.items():
        errs.extend(invalid(f"binaryData[{key}]", key, m) for m in config_map_key_errors(key))
        total += _decoded_size(value) or 0
    if total > MAX_SECRET_SIZE:
        # Upstream reports this on the empty path: the whole object is too big.
        errs.append(too_long("", MAX_SECRET_SIZE))
    return errs


def _immutable_data(new: Obj, old: Obj, keys: tuple[str, ...]) -> Errs:
    if old.get("immutable") is not True:
        return []
    errs: Errs = []
    if new.get("immutable") is not True:
        errs.append(forbidden("immutable", IMMUTABLE_SET_MSG))
    for key in keys:
        if not json_same(new.get(key) or {}, old.get(key) or {}):
            errs.append(forbidden(key, IMMUTABLE_SET_MSG))
    return errs


def validate_config_map_update(new: Obj, old: Obj) -> Errs:
    errs = _meta_update(new, old) + _immutable_data(new, old, ("data", "binaryData"))
    return errs + _config_map_body(new)


_SECRET_REQUIRED_KEYS: Final = {
    "kubernetes.io/dockercfg": (".dockercfg",),
    "kubernetes.io/dockerconfigjson": (".dockerconfigjson",),
    "kubernetes.io/ssh-auth": ("ssh-privatekey",),
    "kubernetes.io/tls": ("tls.crt", "tls.key"),
}


def _secret_body(secret: Obj) -> Errs:
    errs: Errs = []
    data = as_dict(secret.get("data"))
    total = 0
    for key, value in data.items():
        errs.extend(invalid(f"data[{key}]", key, m) for m in config_map_key_errors(key))
        size = _decoded_size(value)
        if size is None:
            errs.append(
                invalid(f"data[{key}]", "<secret contents redacted>", "illegal base64 data")
            )
        total += size or 0
    if total > MAX_SECRET_SIZE:
        errs.append(too_long("data", MAX_SECRET_SIZE))
    secret_type = secret.get("type") or "Opaque"
    if secret_type == "kubernetes.io/service-account-token":
        annotations = as_dict(_meta(secret).get("annotations"))
        if not annotations.get("kubernetes.io/service-account.name"):
            errs.append(required("metadata.annotations[kubernetes.io/service-account.name]"))
    elif secret_type == "kubernetes.io/basic-auth" and not {"username", "password"} & set(data):
        # Either may be empty, but one of them must be there.
        errs.append(required("data[username]"))
        errs.append(required("data[password]"))
    for key in _SECRET_REQUIRED_KEYS.get(secret_type, ()):
        if key not in data or (key == "ssh-privatekey" and not data[key]):
            errs.append(required(f"data[{key}]"))
    return errs


def validate_secret(secret: Obj) -> Errs:
    return validate_object_meta(_meta(secret), namespaced=True) + _secret_body(secret)


def validate_secret_update(new: Obj, old: Obj) -> Errs:
    errs = _meta_update(new, old)
    errs.extend(immutable(new.get("type"), old.get("type"), "type"))
    errs.extend(_immutable_data(new, old, ("data",)))
    return errs + _secret_body(new)


# -- replication controllers -------------------------------------------------------------------


def _rc_spec(spec: Obj) -> Errs:
    errs = nonnegative(spec.get("minReadySeconds"), "spec.minReadySeconds")
    selector = as_dict(spec.get("selector"))
    if not selector:
        errs.append(required("spec.selector"))
    errs.extend(nonnegative(spec.get("replicas"), "spec.replicas"))
    template = spec.get("template")
    if not isinstance(template, dict):
        errs.append(required("spec.template"))
        return errs
    if selector:
        sel = LabelSelector.from_set({k: str(v) for k, v in selector.items()})
        errs.extend(selector_matches_template(sel, template, "spec.template.metadata.labels"))
    errs.extend(validate_pod_template(template, "spec.template"))
    errs.extend(workload_template_policy(template, "spec.template.spec", "ReplicationController"))
    return errs


def workload_template_policy(template: Obj, field: str, kind: str) -> Errs:
    """Controllers that keep pods running need ``restartPolicy: Always`` and no deadline."""
    spec = as_dict(template.get("spec"))
    errs: Errs = []
    policy = spec.get("restartPolicy")
    if policy != "Always":
        errs.append(not_supported(f"{field}.restartPolicy", policy or "", ["Always"]))
    if spec.get("activeDeadlineSeconds") is not None:
        detail = f"activeDeadlineSeconds in {kind} is not Supported"
        errs.append(forbidden(f"{field}.activeDeadlineSeconds", detail))
    return errs


def validate_replication_controller(rc: Obj) -> Errs:
    return validate_object_meta(_meta(rc), namespaced=True) + _rc_spec(as_dict(rc.get("spec")))


def validate_replication_controller_update(new: Obj, old: Obj) -> Errs:
    return _meta_update(new, old) + _rc_spec(as_dict(new.get("spec")))


# -- nodes -------------------------------------------------------------------------------------


def _node_body(node: Obj) -> Errs:
    errs: Errs = []
    seen: set[tuple[Any, Any]] = set()
    for i, taint in enumerate(as_list(as_dict(node.get("spec")).get("taints"))):
        taint = as_dict(taint)
        path = f"spec.taints[{i}]"
        key = as_str(taint.get("key"))
        errs.extend(invalid(f"{path}.key", key, m) for m in is_qualified_name(key))
        value = taint.get("value")
        if isinstance(value, str):
            errs.extend(invalid(f"{path}.value", value, m) for m in is_valid_label_value(value))
        effect = taint.get("effect")
        if not effect:
            errs.append(required(f"{path}.effect"))
        elif effect not in TAINT_EFFECTS:
            errs.append(not_supported(f"{path}.effect", effect, TAINT_EFFECTS))
        if (key, effect) in seen:
            detail = "taints must be unique by key and effect pair"
            errs.append(FieldError(ErrorType.DUPLICATE, path, detail, struct(taint)))
        seen.add((key, effect))
    status = as_dict(node.get("status"))
    for key in ("capacity", "allocatable"):
        for name, value in as_dict(status.get(key)).items():
            path = f"status.{key}[{name}]"
            errs.extend(validate_resource_name(name, path))
            errs.extend(resource_quantity(name, value, path)[1])
    return errs


def validate_node(node: Obj) -> Errs:
    return validate_object_meta(_meta(node), namespaced=False) + _node_body(node)


def validate_node_update(new: Obj, old: Obj) -> Errs:
    errs = _meta_update(new, old) + _node_body(new)
    spec, old_spec = as_dict(new.get("spec")), as_dict(old.get("spec"))
    for key, label in (("podCIDR", "podCIDR"), ("providerID", "providerID")):
        if old_spec.get(key) and spec.get(key) != old_spec.get(key):
            detail = f'node updates may not change {label} except from "" to valid'
            errs.append(forbidden(f"spec.{key}", detail))
    old_cidrs = as_list(old_spec.get("podCIDRs"))
    if old_cidrs and not json_same(as_list(spec.get("podCIDRs")), old_cidrs):
        detail = 'node updates may not change podCIDR except from "" to valid'
        errs.append(forbidden("spec.podCIDRs", detail))
    return errs


# -- limit ranges and quotas -------------------------------------------------------------------

_LIMIT_TYPES: Final = ("Pod", "Container", "PersistentVolumeClaim")
_QUOTA_SCOPES: Final = (
    "Terminating",
    "NotTerminating",
    "BestEffort",
    "NotBestEffort",
    "PriorityClass",
    "CrossNamespacePodAffinity",
    "VolumeAttributesClass",
)


def _limit_range_body(lr: Obj) -> Errs:
    errs: Errs = []
    for i, item in enumerate(as_list(as_dict(lr.get("spec")).get("limits"))):
        item = as_dict(item)
        path = f"spec.limits[{i}]"
        kind = item.get("type")
        if not kind:
            errs.append(required(f"{path}.type"))
        elif kind not in _LIMIT_TYPES and "/" not in str(kind):
            errs.append(not_supported(f"{path}.type", kind, _LIMIT_TYPES))
        for key in ("max", "min", "default", "defaultRequest", "maxLimitRequestRatio"):
            for name, value in as_dict(item.get(key)).items():
                sub = f"{path}.{key}[{name}]"
                errs.extend(validate_resource_name(name, sub))
                errs.extend(resource_quantity(name, value, sub)[1])
        if kind == "Pod" and (item.get("default") or item.get("defaultRequest")):
            errs.append(forbidden(f"{path}.default", "may not be specified when `type` is 'Pod'"))
    return errs


def validate_limit_range(lr: Obj) -> Errs:
    return validate_object_meta(_meta(lr), namespaced=True) + _limit_range_body(lr)


def validate_limit_range_update(new: Obj, old: Obj) -> Errs:
    return _meta_update(new, old) + _limit_range_body(new)


def _quota_body(quota: Obj) -> Errs:
    spec = as_dict(quota.get("spec"))
    errs: Errs = []
    for name, value in as_dict(spec.get("hard")).items():
        path = f"spec.hard[{name}]"
        errs.extend(validate_resource_name(name, path))
        errs.extend(resource_quantity(name, value, path)[1])
    for i, scope in enumerate(as_list(spec.get("scopes"))):
        if scope not in _QUOTA_SCOPES:
            errs.append(not_supported(f"spec.scopes[{i}]", scope, _QUOTA_SCOPES))
    return errs


def validate_resource_quota(quota: Obj) -> Errs:
    return validate_object_meta(_meta(quota), namespaced=True) + _quota_body(quota)


def validate_resource_quota_update(new: Obj, old: Obj) -> Errs:
    return _meta_update(new, old) + _quota_body(new)
