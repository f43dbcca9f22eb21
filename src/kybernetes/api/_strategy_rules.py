"""The resource-specific steps of create, update and status-update preparation.

``_strategy`` does what every resource shares (status reset or kept, generation) and then
calls the hook registered here for the resource's (group, kind), on its own copy. Hooks
mutate that copy in place and read ``old`` only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kybernetes.api._defaults_batch import generate_job_selector
from kybernetes.api._defaults_pod import child, dicts
from kybernetes.api._jsonvalue import deep_copy
from kybernetes.api._qos import pod_qos_class
from kybernetes.api._validation_common import json_same

Obj = dict[str, Any]
Key = tuple[str, str]

#: Where apps/v1 keeps a DaemonSet's template generation (an internal field upstream).
DAEMONSET_TEMPLATE_GENERATION = "deprecated.daemonset.template.generation"
NAMESPACE_FINALIZER = "kubernetes"


# -- create ------------------------------------------------------------------------------------


def _create_pod(pod: Obj) -> None:
    pod["status"] = {"phase": "Pending", "qosClass": pod_qos_class(pod)}


def _create_namespace(ns: Obj) -> None:
    ns["status"] = {"phase": "Active"}
    spec = child(ns, "spec")
    finalizers = list(spec.get("finalizers") or [])
    if NAMESPACE_FINALIZER not in finalizers:
        finalizers.append(NAMESPACE_FINALIZER)
    spec["finalizers"] = finalizers


def _create_persistent_volume(pv: Obj) -> None:
    status: Obj = {"phase": "Pending"}
    created = (pv.get("metadata") or {}).get("creationTimestamp")
    if created:
        status["lastPhaseTransitionTime"] = created
    pv["status"] = status


def _create_daemon_set(ds: Obj) -> None:
    child(child(ds, "metadata"), "annotations")[DAEMONSET_TEMPLATE_GENERATION] = "1"


CREATE_HOOKS: dict[Key, Callable[[Obj], None]] = {
    ("", "Pod"): _create_pod,
    ("", "Namespace"): _create_namespace,
    ("", "PersistentVolume"): _create_persistent_volume,
    ("batch", "Job"): generate_job_selector,
    ("apps", "DaemonSet"): _create_daemon_set,
}


# -- update of the main resource ---------------------------------------------------------------


def _update_pod(pod: Obj, old: Obj) -> None:
    # The Priority admission plugin only resolves priority on create; an update that omits
    # it (a PUT of an edited manifest) keeps the old value rather than failing immutability.
    spec = child(pod, "spec")
    old_spec = old.get("spec") or {}
    for key in ("priority", "preemptionPolicy"):
        if spec.get(key) is None and old_spec.get(key) is not None:
            spec[key] = old_spec[key]


def _update_namespace(ns: Obj, old: Obj) -> None:
    spec = child(ns, "spec")
    old_finalizers = (old.get("spec") or {}).get("finalizers")
    if old_finalizers is None:
        spec.pop("finalizers", None)
    else:
        spec["finalizers"] = deep_copy(old_finalizers)


def _update_service(svc: Obj, old: Obj) -> None:
    """Keep what the allocators assigned when an update leaves it out (a PUT of the
    original manifest must not release the cluster IP or node ports)."""
    spec = child(svc, "spec")
    old_spec = old.get("spec") or {}
    new_type, old_type = spec.get("type") or "ClusterIP", old_spec.get("type") or "ClusterIP"
    if new_type != "ExternalName" and old_type != "ExternalName":
        if not spec.get("clusterIP") and old_spec.get("clusterIP"):
            spec["clusterIP"] = old_spec["clusterIP"]
        if not spec.get("clusterIPs") and old_spec.get("clusterIPs"):
            spec["clusterIPs"] = deep_copy(old_spec["clusterIPs"])
        for key in ("ipFamilies", "ipFamilyPolicy"):
            if not spec.get(key) and old_spec.get(key):
                spec[key] = deep_copy(old_spec[key])
    node_port_types = ("NodePort", "LoadBalancer")
    if new_type in node_port_types and old_type in node_port_types:
        _patch_node_ports(spec, old_spec)
    if (
        new_type == old_type == "LoadBalancer"
        and spec.get("externalTrafficPolicy") == "Local"
        and old_spec.get("externalTrafficPolicy") == "Local"
        and not spec.get("healthCheckNodePort")
    ):
        spec["healthCheckNodePort"] = old_spec.get("healthCheckNodePort")


def _patch_node_ports(spec: Obj, old_spec: Obj) -> None:
    new_ports, old_ports = dicts(spec.get("ports")), dicts(old_spec.get("ports"))
    # Node ports both versions already use cannot be handed to another port.
    used = {p.get("nodePort") for p in old_ports} & {p.get("nodePort") for p in new_ports}
    by_name = {p.get("name") or "": p.get("nodePort") for p in old_ports}
    for port in new_ports:
        if port.get("nodePort"):
            continue
        previous = by_name.get(port.get("name") or "")
        if previous and previous not in used:
            port["nodePort"] = previous


def _template_generation(obj: Obj) -> int:
    value = ((obj.get("metadata") or {}).get("annotations") or {}).get(
        DAEMONSET_TEMPLATE_GENERATION
    )
    try:
        return int(value) if isinstance(value, str | int) else 0
    except ValueError:
        return 0


def _update_daemon_set(ds: Obj, old: Obj) -> None:
    generation = _template_generation(old)
    template = (ds.get("spec") or {}).get("template")
    if not json_same(template, (old.get("spec") or {}).get("template")):
        generation += 1
    child(child(ds, "metadata"), "annotations")[DAEMONSET_TEMPLATE_GENERATION] = str(generation)


def _update_crd(crd: Obj, old: Obj) -> None:
    # A version that becomes the storage version is recorded as stored from now on.
    status = child(crd, "status")
    stored = list(status.get("storedVersions") or [])
    for version in dicts((crd.get("spec") or {}).get("versions")):
        if version.get("storage"):
            if version.get("name") not in stored:
                stored.append(version.get("name"))
            break
    if stored:
        status["storedVersions"] = stored


UPDATE_HOOKS: dict[Key, Callable[[Obj, Obj], None]] = {
    ("", "Pod"): _update_pod,
    ("", "Namespace"): _update_namespace,
    ("", "Service"): _update_service,
    ("apps", "DaemonSet"): _update_daemon_set,
    ("apiextensions.k8s.io", "CustomResourceDefinition"): _update_crd,
}


# -- update of the status subresource ----------------------------------------------------------


def _copy_meta_field(obj: Obj, old: Obj, key: str) -> None:
    meta = child(obj, "metadata")
    old_meta = old.get("metadata") or {}
    if key in old_meta:
        meta[key] = deep_copy(old_meta[key])
    else:
        meta.pop(key, None)


def _status_pod(pod: Obj, old: Obj, now: str | None) -> None:
    # Old kubelets corrupted owner references through /status; upstream ignores them there.
    _copy_meta_field(pod, old, "ownerReferences")
    _copy_meta_field(pod, old, "deletionTimestamp")
    status = child(pod, "status")
    old_qos = (old.get("status") or {}).get("qosClass")
    if not status.get("qosClass") and old_qos:
        status["qosClass"] = old_qos


def _status_deployment(deploy: Obj, old: Obj, now: str | None) -> None:
    _copy_meta_field(deploy, old, "labels")


def _status_daemon_set(ds: Obj, old: Obj, now: str | None) -> None:
    annotations = child(child(ds, "metadata"), "annotations")
    generation = ((old.get("metadata") or {}).get("annotations") or {}).get(
        DAEMONSET_TEMPLATE_GENERATION
    )
    if generation is None:
        annotations.pop(DAEMONSET_TEMPLATE_GENERATION, None)
    else:
        annotations[DAEMONSET_TEMPLATE_GENERATION] = generation


def _status_persistent_volume(pv: Obj, old: Obj, now: str | None) -> None:
    status = child(pv, "status")
    old_status = old.get("status") or {}
    if now is None or status.get("phase") == old_status.get("phase"):
        return
    stamp = status.get("lastPhaseTransitionTime")
    if stamp is None or stamp == old_status.get("lastPhaseTransitionTime"):
        status["lastPhaseTransitionTime"] = now


STATUS_HOOKS: dict[Key, Callable[[Obj, Obj, str | None], None]] = {
    ("", "Pod"): _status_pod,
    ("apps", "Deployment"): _status_deployment,
    ("apps", "DaemonSet"): _status_daemon_set,
    ("", "PersistentVolume"): _status_persistent_volume,
}
