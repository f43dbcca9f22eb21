"""Defaulting of apps/v1 workloads, as upstream's apps/v1 does.

apps/v1 never copies template labels to the object or its selector (extensions/v1beta1
did); the pod template gets the pod spec defaults but not the pod-only ones.
"""

from __future__ import annotations

from kybernetes.api._defaults_pod import (
    Obj,
    child,
    default_pod_template,
    default_pvc_spec,
    dicts,
    set_if_empty,
    set_if_none,
)

DEFAULT_REVISION_HISTORY_LIMIT = 10


def default_deployment(deploy: Obj) -> None:
    spec = child(deploy, "spec")
    set_if_none(spec, "replicas", 1)
    strategy = child(spec, "strategy")
    set_if_empty(strategy, "type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        rolling = child(strategy, "rollingUpdate")
        set_if_none(rolling, "maxUnavailable", "25%")
        set_if_none(rolling, "maxSurge", "25%")
    set_if_none(spec, "revisionHistoryLimit", DEFAULT_REVISION_HISTORY_LIMIT)
    set_if_none(spec, "progressDeadlineSeconds", 600)
    default_pod_template(spec.get("template"))


def default_replica_set(rs: Obj) -> None:
    spec = child(rs, "spec")
    set_if_none(spec, "replicas", 1)
    default_pod_template(spec.get("template"))


def default_daemon_set(ds: Obj) -> None:
    spec = child(ds, "spec")
    strategy = child(spec, "updateStrategy")
    set_if_empty(strategy, "type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        rolling = child(strategy, "rollingUpdate")
        set_if_none(rolling, "maxUnavailable", 1)
        set_if_none(rolling, "maxSurge", 0)
    set_if_none(spec, "revisionHistoryLimit", DEFAULT_REVISION_HISTORY_LIMIT)
    default_pod_template(spec.get("template"))


def default_stateful_set(sts: Obj) -> None:
    spec = child(sts, "spec")
    set_if_empty(spec, "podManagementPolicy", "OrderedReady")
    strategy = child(spec, "updateStrategy")
    if not strategy.get("type"):
        strategy["type"] = "RollingUpdate"
        child(strategy, "rollingUpdate")
    # Upstream gives a partition only to a rolling update that has the sub-object: an
    # explicit ``type: RollingUpdate`` without ``rollingUpdate`` stays without one.
    rolling = strategy.get("rollingUpdate")
    if strategy["type"] == "RollingUpdate" and isinstance(rolling, dict):
        set_if_none(rolling, "partition", 0)
    retention = child(spec, "persistentVolumeClaimRetentionPolicy")
    set_if_empty(retention, "whenDeleted", "Retain")
    set_if_empty(retention, "whenScaled", "Retain")
    set_if_none(spec, "replicas", 1)
    set_if_none(spec, "revisionHistoryLimit", DEFAULT_REVISION_HISTORY_LIMIT)
    default_pod_template(spec.get("template"))
    for claim in dicts(spec.get("volumeClaimTemplates")):
        default_pvc_spec(child(claim, "spec"))
        set_if_empty(child(claim, "status"), "phase", "Pending")
