"""Validation of apps/v1 workloads, as upstream's apps validation and apps/v1 strategies.

Selectors are required, non-empty, and must select the pod template's labels; in apps/v1
they are immutable. StatefulSets may only change ``replicas``, ``ordinals``, ``template``,
``updateStrategy``, ``revisionHistoryLimit``, ``persistentVolumeClaimRetentionPolicy`` and
``minReadySeconds``.
"""

from __future__ import annotations

from typing import Final

from kybernetes.api._errors import forbidden, invalid, not_supported, required
from kybernetes.api._names import (
    name_is_dns_label,
    validate_object_meta,
    validate_object_meta_update,
)
from kybernetes.api._validation_common import (
    Errs,
    Obj,
    as_dict,
    as_list,
    immutable,
    int_or_percent_value,
    json_same,
    label_selector,
    nonnegative,
    not_more_than_100_percent,
    positive_int_or_percent,
    selector_is_empty,
    selector_matches_template,
    selector_of,
    struct,
)
from kybernetes.api._validation_core import workload_template_policy
from kybernetes.api._validation_pod import validate_pod_template

STATEFULSET_FORBIDDEN_MSG: Final = (
    "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', "
    "'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and "
    "'minReadySeconds' are forbidden"
)
_STATEFULSET_MUTABLE: Final = (
    "replicas",
    "ordinals",
    "template",
    "updateStrategy",
    "revisionHistoryLimit",
    "persistentVolumeClaimRetentionPolicy",
    "minReadySeconds",
)


def _meta(obj: Obj) -> Obj:
    return as_dict(obj.get("metadata"))


def _selector_and_template(spec: Obj, kind: str, *, extra_volumes: set[str] | None = None) -> Errs:
    """Selector present, valid, non-empty and matching the template; the template valid."""
    errs: Errs = []
    selector = spec.get("selector")
    if selector is None:
        errs.append(required("spec.selector"))
    else:
        errs.extend(label_selector(selector, "spec.selector"))
        if selector_is_empty(selector):
            detail = f"empty selector is invalid for {kind}"
            errs.append(invalid("spec.selector", struct(selector), detail))
    parsed = selector_of(selector)
    template = spec.get("template")
    if parsed is None:
        errs.append(invalid("spec.selector", struct(selector), "invalid label selector"))
    elif selector is not None:
        errs.extend(selector_matches_template(parsed, template, "spec.template.metadata.labels"))
    errs.extend(validate_pod_template(template, "spec.template", extra_volumes=extra_volumes))
    return errs


# -- deployments -------------------------------------------------------------------------------


def _deployment_spec(spec: Obj) -> Errs:
    errs = nonnegative(spec.get("replicas"), "spec.replicas")
    # Upstream's message says "deployment" for replica sets too.
    errs.extend(_selector_and_template(spec, "deployment"))
    errs.extend(
        workload_template_policy(as_dict(spec.get("template")), "spec.template.spec", "ReplicaSet")
    )
    errs.extend(_deployment_strategy(as_dict(spec.get("strategy"))))
    errs.extend(nonnegative(spec.get("minReadySeconds"), "spec.minReadySeconds"))
    errs.extend(nonnegative(spec.get("revisionHistoryLimit"), "spec.revisionHistoryLimit"))
    deadline = spec.get("progressDeadlineSeconds")
    if deadline is not None:
        errs.extend(nonnegative(deadline, "spec.progressDeadlineSeconds"))
        min_ready = spec.get("minReadySeconds") or 0
        if isinstance(deadline, int) and isinstance(min_ready, int) and deadline <= min_ready:
            detail = "must be greater than minReadySeconds"
            errs.append(invalid("spec.progressDeadlineSeconds", deadline, detail))
    return errs


def _deployment_strategy(strategy: Obj) -> Errs:
    kind = strategy.get("type")
    rolling = strategy.get("rollingUpdate")
    if kind == "Recreate":
        if rolling is not None:
            detail = "may not be specified when strategy `type` is 'Recreate'"
            return [forbidden("spec.strategy.rollingUpdate", detail)]
        return []
    if kind != "RollingUpdate":
        return [not_supported("spec.strategy", struct(strategy), ["Recreate", "RollingUpdate"])]
    if not isinstance(rolling, dict):
        detail = "this should be defaulted and never be nil"
        return [required("spec.strategy.rollingUpdate", detail)]
    path = "spec.strategy.rollingUpdate"
    unavailable, surge = rolling.get("maxUnavailable"), rolling.get("maxSurge")
    errs = positive_int_or_percent(unavailable, f"{path}.maxUnavailable")
    errs.extend(positive_int_or_percent(surge, f"{path}.maxSurge"))
    if int_or_percent_value(unavailable) == 0 and int_or_percent_value(surge) == 0:
        errs.append(
            invalid(f"{path}.maxUnavailable", unavailable, "may not be 0 when `maxSurge` is 0")
        )
    errs.extend(not_more_than_100_percent(unavailable, f"{path}.maxUnavailable"))
    return errs


def validate_deployment(deploy: Obj) -> Errs:
    return validate_object_meta(_meta(deploy), namespaced=True) + _deployment_spec(
        as_dict(deploy.get("spec"))
    )


def validate_deployment_update(new: Obj, old: Obj) -> Errs:
    spec, old_spec = as_dict(new.get("spec")), as_dict(old.get("spec"))
    errs = validate_object_meta_update(_meta(new), _meta(old)) + _deployment_spec(spec)
    return errs + immutable(spec.get("selector"), old_spec.get("selector"), "spec.selector")


# -- replica sets ------------------------------------------------------------------------------


def _replica_set_spec(spec: Obj) -> Errs:
    errs = nonnegative(spec.get("replicas"), "spec.replicas")
    errs.extend(nonnegative(spec.get("minReadySeconds"), "spec.minReadySeconds"))
    errs.extend(_selector_and_template(spec, "deployment"))
    errs.extend(
        workload_template_policy(as_dict(spec.get("template")), "spec.template.spec", "ReplicaSet")
    )
    return errs


def validate_replica_set(rs: Obj) -> Errs:
    return validate_object_meta(_meta(rs), namespaced=True) + _replica_set_spec(
        as_dict(rs.get("spec"))
    )


def validate_replica_set_update(new: Obj, old: Obj) -> Errs:
    spec, old_spec = as_dict(new.get("spec")), as_dict(old.get("spec"))
    errs = validate_object_meta_update(_meta(new), _meta(old)) + _replica_set_spec(spec)
    return errs + immutable(spec.get("selector"), old_spec.get("selector"), "spec.selector")


# -- daemon sets -------------------------------------------------------------------------------


def _daemon_set_spec(spec: Obj) -> Errs:
    selector = spec.get("selector")
    errs = label_selector(selector, "spec.selector")
    parsed = selector_of(selector)
    template = as_dict(spec.get("template"))
    if parsed is not None:
        errs.extend(selector_matches_template(parsed, template, "spec.template.metadata.labels"))
    if isinstance(selector, dict) and selector_is_empty(selector):
        errs.append(
            invalid("spec.selector", struct(selector), "empty selector is invalid for daemonset")
        )
    errs.extend(validate_pod_template(template, "spec.template"))
    tspec = as_dict(template.get("spec"))
    if tspec.get("restartPolicy") != "Always":
        field = "spec.template.spec.restartPolicy"
        errs.append(not_supported(field, tspec.get("restartPolicy") or "", ["Always"]))
    if tspec.get("activeDeadlineSeconds") is not None:
        field = "spec.template.spec.activeDeadlineSeconds"
        detail = "activeDeadlineSeconds must be nil for daemonset"
        errs.append(invalid(field, tspec.get("activeDeadlineSeconds"), detail))
    errs.extend(nonnegative(spec.get("minReadySeconds"), "spec.minReadySeconds"))
    errs.extend(_daemon_set_strategy(as_dict(spec.get("updateStrategy"))))
    errs.extend(nonnegative(spec.get("revisionHistoryLimit"), "spec.revisionHistoryLimit"))
    return errs


def _daemon_set_strategy(strategy: Obj) -> Errs:
    kind = strategy.get("type")
    if kind == "OnDelete":
        return []
    if kind != "RollingUpdate":
        return [
            not_supported("spec.updateStrategy", struct(strategy), ["RollingUpdate", "OnDelete"])
        ]
    rolling = strategy.get("rollingUpdate")
    path = "spec.updateStrategy.rollingUpdate"
    if not isinstance(rolling, dict):
        return [required(path)]
    unavailable, surge = rolling.get("maxUnavailable"), rolling.get("maxSurge")
    errs = positive_int_or_percent(unavailable, f"{path}.maxUnavailable")
    errs.extend(positive_int_or_percent(surge, f"{path}.maxSurge"))
    errs.extend(not_more_than_100_percent(unavailable, f"{path}.maxUnavailable"))
    errs.extend(not_more_than_100_percent(surge, f"{path}.maxSurge"))
    has_unavailable = int_or_percent_value(unavailable) != 0
    has_surge = int_or_percent_value(surge) != 0
    if has_unavailable and has_surge:
        errs.append(
            invalid(f"{path}.maxSurge", surge, "may not be set when maxUnavailable is non-zero")
        )
    elif not has_unavailable and not has_surge:
        errs.append(required(f"{path}.maxUnavailable", "cannot be 0 when maxSurge is 0"))
    return errs


def validate_daemon_set(ds: Obj) -> Errs:
    return validate_object_meta(_meta(ds), namespaced=True) + _daemon_set_spec(
        as_dict(ds.get("spec"))
    )


def validate_daemon_set_update(new: Obj, old: Obj) -> Errs:
    spec, old_spec = as_dict(new.get("spec")), as_dict(old.get("spec"))
    errs = validate_object_meta_update(_meta(new), _meta(old)) + _daemon_set_spec(spec)
    return errs + immutable(spec.get("selector"), old_spec.get("selector"), "spec.selector")


# -- stateful sets -----------------------------------------------------------------------------


def _stateful_set_spec(spec: Obj) -> Errs:
    errs: Errs = []
    policy = spec.get("podManagementPolicy")
    if not policy:
        errs.append(required("spec.podManagementPolicy"))
    elif policy not in ("OrderedReady", "Parallel"):
        errs.append(
            invalid("spec.podManagementPolicy", policy, "must be 'OrderedReady' or 'Parallel'")
        )
    errs.extend(_stateful_set_strategy(as_dict(spec.get("updateStrategy"))))
    retention = as_dict(spec.get("persistentVolumeClaimRetentionPolicy"))
    for key in ("whenDeleted", "whenScaled"):
        value = retention.get(key)
        if value is not None and value not in ("Retain", "Delete"):
            field = f"spec.persistentVolumeClaimRetentionPolicy.{key}"
            errs.append(not_supported(field, value, ("Retain", "Delete")))
    errs.extend(nonnegative(spec.get("replicas"), "spec.replicas"))
    errs.extend(nonnegative(spec.get("minReadySeconds"), "spec.minReadySeconds"))
    errs.extend(nonnegative(as_dict(spec.get("ordinals")).get("start"), "spec.ordinals.start"))
    # Mounts may name a volume claim template as well as a pod volume.
    claims = {
        str(as_dict(c.get("metadata")).get("name"))
        for c in as_list(spec.get("volumeClaimTemplates"))
        if isinstance(c, dict)
    }
    errs.extend(_selector_and_template(spec, "statefulset", extra_volumes=claims))
    errs.extend(
        workload_template_policy(as_dict(spec.get("template")), "spec.template.spec", "StatefulSet")
    )
    return errs


def _stateful_set_strategy(strategy: Obj) -> Errs:
    kind = strategy.get("type")
    rolling = strategy.get("rollingUpdate")
    if not kind:
        return [required("spec.updateStrategy")]
    if kind == "OnDelete":
        if rolling is not None:
            detail = "only allowed for updateStrategy 'RollingUpdate'"
            return [invalid("spec.updateStrategy.rollingUpdate", struct(rolling), detail)]
        return []
    if kind == "RollingUpdate":
        partition = as_dict(rolling).get("partition")
        return nonnegative(partition, "spec.updateStrategy.rollingUpdate.partition")
    detail = "must be 'RollingUpdate' or 'OnDelete'"
    return [invalid("spec.updateStrategy", struct(strategy), detail)]


def validate_stateful_set(sts: Obj) -> Errs:
    errs = validate_object_meta(_meta(sts), namespaced=True, name_validator=name_is_dns_label)
    return errs + _stateful_set_spec(as_dict(sts.get("spec")))


def validate_stateful_set_update(new: Obj, old: Obj) -> Errs:
    spec, old_spec = as_dict(new.get("spec")), as_dict(old.get("spec"))
    errs = validate_object_meta_update(_meta(new), _meta(old)) + _stateful_set_spec(spec)
    rest = {k: v for k, v in spec.items() if k not in _STATEFULSET_MUTABLE}
    old_rest = {k: v for k, v in old_spec.items() if k not in _STATEFULSET_MUTABLE}
    if not json_same(rest, old_rest):
        errs.append(forbidden("spec", STATEFULSET_FORBIDDEN_MSG))
    return errs


# -- controller revisions ----------------------------------------------------------------------


def validate_controller_revision(rev: Obj) -> Errs:
    errs = validate_object_meta(_meta(rev), namespaced=True)
    if rev.get("data") is None:
        errs.append(required("data"))
    errs.extend(nonnegative(rev.get("revision"), "revision"))
    return errs


def validate_controller_revision_update(new: Obj, old: Obj) -> Errs:
    errs = validate_object_meta_update(_meta(new), _meta(old))
    return errs + immutable(new.get("data"), old.get("data"), "data")
