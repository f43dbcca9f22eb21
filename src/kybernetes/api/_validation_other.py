"""Validation of the smaller API groups: leases, RBAC, priority classes, pod disruption
budgets, endpoint slices and custom resource definitions (the basics), as upstream's.

RBAC object names are path segments (``system:controller:x`` is fine), not DNS names.
"""

from __future__ import annotations

from typing import Any, Final

from kybernetes.api._errors import forbidden, invalid, not_supported, required
from kybernetes.api._names import (
    is_dns1123_label,
    name_is_dns_subdomain,
    validate_object_meta,
    validate_object_meta_update,
    validate_path_segment_name,
)
from kybernetes.api._validation_common import (
    Errs,
    Obj,
    as_dict,
    as_list,
    as_str,
    immutable,
    is_int,
    json_same,
    label_selector,
    not_more_than_100_percent,
    port_num_errors,
    positive_int_or_percent,
    struct,
)
from kybernetes.api._validation_containers import PROTOCOLS

RBAC_GROUP: Final = "rbac.authorization.k8s.io"
HIGHEST_USER_PRIORITY: Final = 1_000_000_000
SYSTEM_PRIORITY_CLASSES: Final = {
    "system-node-critical": 2_000_001_000,
    "system-cluster-critical": 2_000_000_000,
}


def _meta(obj: Obj) -> Obj:
    return as_dict(obj.get("metadata"))


def _meta_update(new: Obj, old: Obj) -> Errs:
    return validate_object_meta_update(_meta(new), _meta(old))


# -- leases ------------------------------------------------------------------------------------


def _lease_spec(lease: Obj) -> Errs:
    spec = as_dict(lease.get("spec"))
    errs: Errs = []
    duration = spec.get("leaseDurationSeconds")
    if is_int(duration) and duration <= 0:
        errs.append(invalid("spec.leaseDurationSeconds", duration, "must be greater than 0"))
    transitions = spec.get("leaseTransitions")
    if is_int(transitions) and transitions < 0:
        detail = "must be greater than or equal to 0"
        errs.append(invalid("spec.leaseTransitions", transitions, detail))
    return errs


def validate_lease(lease: Obj) -> Errs:
    return validate_object_meta(_meta(lease), namespaced=True) + _lease_spec(lease)


def validate_lease_update(new: Obj, old: Obj) -> Errs:
    return _meta_update(new, old) + _lease_spec(new)


# -- RBAC --------------------------------------------------------------------------------------


def _rules(rules: Any, namespaced: bool) -> Errs:
    errs: Errs = []
    for i, rule in enumerate(as_list(rules)):
        rule = as_dict(rule)
        path = f"rules[{i}]"
        if not as_list(rule.get("verbs")):
            errs.append(required(f"{path}.verbs", "verbs must contain at least one value"))
        urls = as_list(rule.get("nonResourceURLs"))
        if urls:
            if namespaced:
                detail = "namespaced rules cannot apply to non-resource URLs"
                errs.append(invalid(f"{path}.nonResourceURLs", urls, detail))
            if any(as_list(rule.get(k)) for k in ("apiGroups", "resources", "resourceNames")):
                detail = "rules cannot apply to both regular resources and non-resource URLs"
                errs.append(invalid(f"{path}.nonResourceURLs", urls, detail))
            continue
        if not as_list(rule.get("apiGroups")):
            detail = "resource rules must supply at least one api group"
            errs.append(required(f"{path}.apiGroups", detail))
        if not as_list(rule.get("resources")):
            detail = "resource rules must supply at least one resource"
            errs.append(required(f"{path}.resources", detail))
    return errs


def validate_role(role: Obj) -> Errs:
    meta = _meta(role)
    errs = validate_object_meta(meta, namespaced=True, name_validator=validate_path_segment_name)
    return errs + _rules(role.get("rules"), namespaced=True)


def validate_role_update(new: Obj, old: Obj) -> Errs:
    return _meta_update(new, old) + _rules(new.get("rules"), namespaced=True)


def validate_cluster_role(role: Obj) -> Errs:
    meta = _meta(role)
    errs = validate_object_meta(meta, namespaced=False, name_validator=validate_path_segment_name)
    return errs + _rules(role.get("rules"), namespaced=False)


def validate_cluster_role_update(new: Obj, old: Obj) -> Errs:
    return _meta_update(new, old) + _rules(new.get("rules"), namespaced=False)


def _subject(subject: Obj, field: str, namespaced: bool) -> Errs:
    errs: Errs = []
    name = as_str(subject.get("name"))
    group = subject.get("apiGroup") or ""
    if not name:
        errs.append(required(f"{field}.name"))
    kind = subject.get("kind")
    if kind == "ServiceAccount":
        if name:
            errs.extend(
                invalid(f"{field}.name", name, m) for m in name_is_dns_subdomain(name, False)
            )
        if group:
            errs.append(not_supported(f"{field}.apiGroup", group, [""]))
        if not namespaced and not subject.get("namespace"):
            errs.append(required(f"{field}.namespace"))
    elif kind in ("User", "Group"):
        if group != RBAC_GROUP:
            errs.append(not_supported(f"{field}.apiGroup", group, [RBAC_GROUP]))
    else:
        errs.append(not_supported(f"{field}.kind", kind or "", ["ServiceAccount", "User", "Group"]))
    return errs


def _binding_body(binding: Obj, namespaced: bool) -> Errs:
    errs: Errs = []
    ref = as_dict(binding.get("roleRef"))
    if ref.get("apiGroup") != RBAC_GROUP:
        errs.append(not_supported("roleRef.apiGroup", ref.get("apiGroup") or "", [RBAC_GROUP]))
    kinds = ["Role", "ClusterRole"] if namespaced else ["ClusterRole"]
    if ref.get("kind") not in kinds:
        errs.append(not_supported("roleRef.kind", ref.get("kind") or "", kinds))
    name = as_str(ref.get("name"))
    if not name:
        errs.append(required("roleRef.name"))
    else:
        errs.extend(
            invalid("roleRef.name", name, m) for m in validate_path_segment_name(name, False)
        )
    for i, subject in enumerate(as_list(binding.get("subjects"))):
        errs.extend(_subject(as_dict(subject), f"subjects[{i}]", namespaced))
    return errs


def validate_role_binding(binding: Obj) -> Errs:
    meta = _meta(binding)
    errs = validate_object_meta(meta, namespaced=True, name_validator=validate_path_segment_name)
    return errs + _binding_body(binding, namespaced=True)


def validate_cluster_role_binding(binding: Obj) -> Errs:
    meta = _meta(binding)
    errs = validate_object_meta(meta, namespaced=False, name_validator=validate_path_segment_name)
    return errs + _binding_body(binding, namespaced=False)


def _binding_update(new: Obj, old: Obj, namespaced: bool) -> Errs:
    errs = _binding_body(new, namespaced) + _meta_update(new, old)
    if not json_same(new.get("roleRef"), old.get("roleRef")):
        errs.append(invalid("roleRef", struct(new.get("roleRef")), "cannot change roleRef"))
    return errs


def validate_role_binding_update(new: Obj, old: Obj) -> Errs:
    return _binding_update(new, old, namespaced=True)


def validate_cluster_role_binding_update(new: Obj, old: Obj) -> Errs:
    return _binding_update(new, old, namespaced=False)


# -- priority classes --------------------------------------------------------------------------


def validate_priority_class(pc: Obj) -> Errs:
    meta = _meta(pc)
    errs = validate_object_meta(meta, namespaced=False)
    name = str(meta.get("name") or "")
    value = pc.get("value")
    if name.startswith("system-"):
        problem = None
        if name not in SYSTEM_PRIORITY_CLASSES:
            problem = f"{name} is not a known system priority class"
        elif value != SYSTEM_PRIORITY_CLASSES[name]:
            problem = f"value of {name} PriorityClass must be {SYSTEM_PRIORITY_CLASSES[name]}"
        if problem is not None:
            detail = (
                "priority class names with 'system-' prefix are reserved for system use only. "
                f"error: {problem}"
            )
            errs.append(forbidden("metadata.name", detail))
    elif is_int(value) and value > HIGHEST_USER_PRIORITY:
        detail = f"maximum allowed value of a user defined priority is {HIGHEST_USER_PRIORITY}"
        errs.append(forbidden("value", detail))
    policy = pc.get("preemptionPolicy")
    if policy is not None and policy not in ("PreemptLowerPriority", "Never"):
        errs.append(not_supported("preemptionPolicy", policy, ("PreemptLowerPriority", "Never")))
    return errs


def validate_priority_class_update(new: Obj, old: Obj) -> Errs:
    errs = _meta_update(new, old)
    if new.get("value") != old.get("value"):
        errs.append(forbidden("value", "may not be changed in an update."))
    errs.extend(
        immutable(new.get("preemptionPolicy"), old.get("preemptionPolicy"), "preemptionPolicy")
    )
    return errs


# -- pod disruption budgets --------------------------------------------------------------------


def _pdb_spec(pdb: Obj) -> Errs:
    spec = as_dict(pdb.get("spec"))
    errs: Errs = []
    if spec.get("minAvailable") is not None and spec.get("maxUnavailable") is not None:
        detail = "minAvailable and maxUnavailable cannot be both set"
        errs.append(invalid("spec", struct(spec), detail))
    for key in ("minAvailable", "maxUnavailable"):
        if spec.get(key) is not None:
            errs.extend(positive_int_or_percent(spec[key], f"spec.{key}"))
            errs.extend(not_more_than_100_percent(spec[key], f"spec.{key}"))
    errs.extend(label_selector(spec.get("selector"), "spec.selector"))
    policy = spec.get("unhealthyPodEvictionPolicy")
    if policy is not None and policy not in ("AlwaysAllow", "IfHealthyBudget"):
        choices = ("AlwaysAllow", "IfHealthyBudget")
        errs.append(not_supported("spec.unhealthyPodEvictionPolicy", policy, choices))
    return errs


def validate_pod_disruption_budget(pdb: Obj) -> Errs:
    return validate_object_meta(_meta(pdb), namespaced=True) + _pdb_spec(pdb)


def validate_pod_disruption_budget_update(new: Obj, old: Obj) -> Errs:
    return _meta_update(new, old) + _pdb_spec(new)


# -- endpoint slices ---------------------------------------------------------------------------

_ADDRESS_TYPES: Final = ("FQDN", "IPv4", "IPv6")


def _endpoint_slice_body(eps: Obj) -> Errs:
    errs: Errs = []
    address_type = eps.get("addressType")
    if not address_type:
        errs.append(required("addressType"))
    elif address_type not in _ADDRESS_TYPES:
        errs.append(not_supported("addressType", address_type, _ADDRESS_TYPES))
    for i, endpoint in enumerate(as_list(eps.get("endpoints"))):
        addresses = as_list(as_dict(endpoint).get("addresses"))
        path = f"endpoints[{i}].addresses"
        if not addresses:
            errs.append(required(path, "must contain at least 1 address"))
        elif len(addresses) > 100:
            errs.append(invalid(path, len(addresses), "must contain at most 100 addresses"))
    for i, port in enumerate(as_list(eps.get("ports"))):
        port = as_dict(port)
        path = f"ports[{i}]"
        name = port.get("name")
        if isinstance(name, str) and name:
            errs.extend(invalid(f"{path}.name", name, m) for m in is_dns1123_label(name))
        number = port.get("port")
        if is_int(number):
            errs.extend(invalid(f"{path}.port", number, m) for m in port_num_errors(number))
        protocol = port.get("protocol")
        if protocol is not None and protocol not in PROTOCOLS:
            errs.append(not_supported(f"{path}.protocol", protocol, PROTOCOLS))
    return errs


def validate_endpoint_slice(eps: Obj) -> Errs:
    return validate_object_meta(_meta(eps), namespaced=True) + _endpoint_slice_body(eps)


def validate_endpoint_slice_update(new: Obj, old: Obj) -> Errs:
    errs = _meta_update(new, old) + _endpoint_slice_body(new)
    return errs + immutable(new.get("addressType"), old.get("addressType"), "addressType")


# -- custom resource definitions (the basics; schemas are validated elsewhere) -----------------


def _crd_body(crd: Obj) -> Errs:
    spec = as_dict(crd.get("spec"))
    names = as_dict(spec.get("names"))
    group = str(spec.get("group") or "")
    plural = str(names.get("plural") or "")
    errs: Errs = []
    name = str(_meta(crd).get("name") or "")
    if name != f"{plural}.{group}":
        errs.append(invalid("metadata.name", name, 'must be spec.names.plural+"."+spec.group'))
    if not group:
        errs.append(required("spec.group"))
    elif "." not in group:
        errs.append(invalid("spec.group", group, "should be a domain with at least one dot"))
    if not plural:
        errs.append(required("spec.names.plural"))
    if not names.get("kind"):
        errs.append(required("spec.names.kind"))
    if spec.get("scope") not in ("Cluster", "Namespaced"):
        errs.append(not_supported("spec.scope", spec.get("scope") or "", ("Cluster", "Namespaced")))
    versions = as_list(spec.get("versions"))
    if not versions:
        errs.append(
            invalid(
                "spec.versions", versions, "must have exactly one version marked as storage version"
            )
        )
    elif sum(1 for v in versions if as_dict(v).get("storage") is True) != 1:
        detail = "must have exactly one version marked as storage version"
        errs.append(invalid("spec.versions", [struct(v) for v in versions], detail))
    return errs


def validate_custom_resource_definition(crd: Obj) -> Errs:
    return validate_object_meta(_meta(crd), namespaced=False) + _crd_body(crd)


def validate_custom_resource_definition_update(new: Obj, old: Obj) -> Errs:
    errs = _meta_update(new, old) + _crd_body(new)
    old_spec, spec = as_dict(old.get("spec")), as_dict(new.get("spec"))
    errs.extend(immutable(spec.get("group"), old_spec.get("group"), "spec.group"))
    if old_spec.get("scope") != spec.get("scope"):
        errs.extend(immutable(spec.get("scope"), old_spec.get("scope"), "spec.scope"))
    return errs
