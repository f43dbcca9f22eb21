"""The table of per-resource validators ``_strategy`` dispatches to, keyed by (group, kind).

A resource missing here gets the generic checks: object metadata with a DNS-1123 subdomain
name on create, metadata immutability on update.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kybernetes.api import _validation_apps as apps
from kybernetes.api import _validation_batch as batch
from kybernetes.api import _validation_core as core
from kybernetes.api import _validation_other as other
from kybernetes.api import _validation_storage as storage
from kybernetes.api._errors import FieldError
from kybernetes.api._validation_pod import validate_pod, validate_pod_update
from kybernetes.api._validation_service import validate_service, validate_service_update

Obj = dict[str, Any]
Key = tuple[str, str]
CreateValidator = Callable[[Obj], list[FieldError]]
UpdateValidator = Callable[[Obj, Obj], list[FieldError]]

_RBAC = "rbac.authorization.k8s.io"

VALIDATORS: dict[Key, tuple[CreateValidator, UpdateValidator]] = {
    ("", "Pod"): (validate_pod, validate_pod_update),
    ("", "Service"): (validate_service, validate_service_update),
    ("", "Namespace"): (core.validate_namespace, core.validate_namespace_update),
    ("", "ConfigMap"): (core.validate_config_map, core.validate_config_map_update),
    ("", "Secret"): (core.validate_secret, core.validate_secret_update),
    ("", "ReplicationController"): (
        core.validate_replication_controller,
        core.validate_replication_controller_update,
    ),
    ("", "Node"): (core.validate_node, core.validate_node_update),
    ("", "LimitRange"): (core.validate_limit_range, core.validate_limit_range_update),
    ("", "ResourceQuota"): (core.validate_resource_quota, core.validate_resource_quota_update),
    ("", "PersistentVolume"): (
        storage.validate_persistent_volume,
        storage.validate_persistent_volume_update,
    ),
    ("", "PersistentVolumeClaim"): (
        storage.validate_persistent_volume_claim,
        storage.validate_persistent_volume_claim_update,
    ),
    ("storage.k8s.io", "StorageClass"): (
        storage.validate_storage_class,
        storage.validate_storage_class_update,
    ),
    ("apps", "Deployment"): (apps.validate_deployment, apps.validate_deployment_update),
    ("apps", "ReplicaSet"): (apps.validate_replica_set, apps.validate_replica_set_update),
    ("apps", "DaemonSet"): (apps.validate_daemon_set, apps.validate_daemon_set_update),
    ("apps", "StatefulSet"): (apps.validate_stateful_set, apps.validate_stateful_set_update),
    ("apps", "ControllerRevision"): (
        apps.validate_controller_revision,
        apps.validate_controller_revision_update,
    ),
    ("batch", "Job"): (batch.validate_job, batch.validate_job_update),
    ("batch", "CronJob"): (batch.validate_cron_job, batch.validate_cron_job_update),
    ("coordination.k8s.io", "Lease"): (other.validate_lease, other.validate_lease_update),
    (_RBAC, "Role"): (other.validate_role, other.validate_role_update),
    (_RBAC, "ClusterRole"): (other.validate_cluster_role, other.validate_cluster_role_update),
    (_RBAC, "RoleBinding"): (other.validate_role_binding, other.validate_role_binding_update),
    (_RBAC, "ClusterRoleBinding"): (
        other.validate_cluster_role_binding,
        other.validate_cluster_role_binding_update,
    ),
    ("scheduling.k8s.io", "PriorityClass"): (
        other.validate_priority_class,
        other.validate_priority_class_update,
    ),
    ("policy", "PodDisruptionBudget"): (
        other.validate_pod_disruption_budget,
        other.validate_pod_disruption_budget_update,
    ),
    ("discovery.k8s.io", "EndpointSlice"): (
        other.validate_endpoint_slice,
        other.validate_endpoint_slice_update,
    ),
    ("apiextensions.k8s.io", "CustomResourceDefinition"): (
        other.validate_custom_resource_definition,
        other.validate_custom_resource_definition_update,
    ),
}
