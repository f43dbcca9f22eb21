"""Defaulting of the smaller API groups: discovery, scheduling, storage, RBAC, apiextensions.

Resources of these groups that upstream does not default (leases, events.k8s.io events,
pod disruption budgets, controller revisions) have no function here.
"""

from __future__ import annotations

from kybernetes.api._defaults_pod import Obj, child, dicts, set_if_empty, set_if_none

RBAC_GROUP = "rbac.authorization.k8s.io"


def default_endpoint_slice(slice_: Obj) -> None:
    for port in dicts(slice_.get("ports")):
        set_if_none(port, "name", "")
        set_if_none(port, "protocol", "TCP")


def default_priority_class(pc: Obj) -> None:
    set_if_none(pc, "preemptionPolicy", "PreemptLowerPriority")


def default_storage_class(sc: Obj) -> None:
    set_if_none(sc, "reclaimPolicy", "Delete")
    set_if_none(sc, "volumeBindingMode", "Immediate")


def default_role_binding(binding: Obj) -> None:
    """RoleBinding and ClusterRoleBinding: the role and user/group subjects are RBAC's."""
    role_ref = binding.get("roleRef")
    if isinstance(role_ref, dict):
        set_if_empty(role_ref, "apiGroup", RBAC_GROUP)
    for subject in dicts(binding.get("subjects")):
        if subject.get("apiGroup"):
            continue
        if subject.get("kind") == "ServiceAccount":
            subject["apiGroup"] = ""
        elif subject.get("kind") in ("User", "Group"):
            subject["apiGroup"] = RBAC_GROUP


def default_custom_resource_definition(crd: Obj) -> None:
    spec = child(crd, "spec")
    names = child(spec, "names")
    kind = names.get("kind") or ""
    set_if_empty(names, "singular", str(kind).lower())
    if kind:
        set_if_empty(names, "listKind", f"{kind}List")
    conversion = child(spec, "conversion")
    set_if_empty(conversion, "strategy", "None")
    webhook = conversion.get("webhook")
    client_config = webhook.get("clientConfig") if isinstance(webhook, dict) else None
    if isinstance(client_config, dict) and isinstance(client_config.get("service"), dict):
        set_if_none(client_config["service"], "port", 443)
    status = child(crd, "status")
    if not status.get("storedVersions"):
        stored = [v.get("name") for v in dicts(spec.get("versions")) if v.get("storage")]
        if stored:
            status["storedVersions"] = stored[:1]
