"""Defaulting of the core/v1 resources other than pods, as upstream's core/v1 does.

Each ``default_*`` function fills unset fields of a dict the caller owns, in place. Service
IP families are chosen here too (upstream does it in the service REST storage): this cluster
is single-stack IPv4 unless a service names IPv6 addresses itself.
"""

from __future__ import annotations

import base64

from kybernetes.api._defaults_pod import (
    Obj,
    child,
    default_pod_template,
    default_pvc_spec,
    default_volume_source,
    dicts,
    set_if_empty,
    set_if_none,
)
from kybernetes.api._qos import canonical_resource_list

#: Label every namespace carries with its own name (set by defaulting, not by users).
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
DEFAULT_CLIENT_IP_AFFINITY_SECONDS = 10800


def default_service(svc: Obj) -> None:
    spec = child(svc, "spec")
    set_if_empty(spec, "sessionAffinity", "None")
    if spec["sessionAffinity"] == "None":
        spec.pop("sessionAffinityConfig", None)
    elif spec["sessionAffinity"] == "ClientIP":
        config = spec.get("sessionAffinityConfig")
        client_ip = config.get("clientIP") if isinstance(config, dict) else None
        if not isinstance(client_ip, dict) or client_ip.get("timeoutSeconds") is None:
            spec["sessionAffinityConfig"] = {
                "clientIP": {"timeoutSeconds": DEFAULT_CLIENT_IP_AFFINITY_SECONDS}
            }
    set_if_empty(spec, "type", "ClusterIP")
    for port in dicts(spec.get("ports")):
        set_if_empty(port, "protocol", "TCP")
        if port.get("targetPort") in (None, 0, ""):
            port["targetPort"] = port.get("port")
    svc_type = spec["type"]
    externally_accessible = svc_type in ("NodePort", "LoadBalancer") or (
        svc_type == "ClusterIP" and bool(spec.get("externalIPs"))
    )
    if externally_accessible:
        set_if_empty(spec, "externalTrafficPolicy", "Cluster")
    if svc_type in ("ClusterIP", "NodePort", "LoadBalancer"):
        set_if_none(spec, "internalTrafficPolicy", "Cluster")
    if svc_type == "LoadBalancer":
        set_if_none(spec, "allocateLoadBalancerNodePorts", True)
        ingress = ((svc.get("status") or {}).get("loadBalancer") or {}).get("ingress")
        for item in dicts(ingress):
            if item.get("ip") and item.get("ipMode") is None:
                item["ipMode"] = "VIP"
    _default_ip_families(spec)


def _default_ip_families(spec: Obj) -> None:
    """Families and policy as upstream's allocator picks them in a single-stack IPv4
    cluster. ExternalName services have none; a headless service without a selector
    requires every family the cluster has."""
    if spec.get("type") == "ExternalName":
        return
    cluster_ips = spec.get("clusterIPs")
    cluster_ip = spec.get("clusterIP")
    if not cluster_ips and cluster_ip:
        spec["clusterIPs"] = cluster_ips = [cluster_ip]
    headless = cluster_ip == "None"
    if headless and not spec.get("selector"):
        set_if_none(spec, "ipFamilyPolicy", "RequireDualStack")
    else:
        set_if_none(spec, "ipFamilyPolicy", "SingleStack")
    if not spec.get("ipFamilies"):
        ips = [ip for ip in (cluster_ips or []) if isinstance(ip, str) and ip != "None"]
        spec["ipFamilies"] = [("IPv6" if ":" in ip else "IPv4") for ip in ips] or ["IPv4"]


def default_namespace(ns: Obj) -> None:
    name = (ns.get("metadata") or {}).get("name")
    if name:
        # Cannot be done for generateName: the API server re-runs defaults once named.
        child(child(ns, "metadata"), "labels")[NAMESPACE_NAME_LABEL] = name
    set_if_empty(child(ns, "status"), "phase", "Active")


def default_node(node: Obj) -> None:
    status = node.get("status")
    if not isinstance(status, dict):
        return
    canonical_resource_list(status.get("capacity"))
    canonical_resource_list(status.get("allocatable"))
    if status.get("allocatable") is None and isinstance(status.get("capacity"), dict):
        status["allocatable"] = dict(status["capacity"])


def default_persistent_volume(pv: Obj) -> None:
    spec = child(pv, "spec")
    set_if_empty(spec, "persistentVolumeReclaimPolicy", "Retain")
    set_if_none(spec, "volumeMode", "Filesystem")
    canonical_resource_list(spec.get("capacity"))
    default_volume_source(spec)
    set_if_empty(child(pv, "status"), "phase", "Pending")


def default_persistent_volume_claim(pvc: Obj) -> None:
    default_pvc_spec(child(pvc, "spec"))
    set_if_empty(child(pvc, "status"), "phase", "Pending")


def default_secret(secret: Obj) -> None:
    set_if_empty(secret, "type", "Opaque")
    # stringData is write-only: upstream's decoding folds it into data (it wins on conflicts).
    string_data = secret.pop("stringData", None)
    if isinstance(string_data, dict) and string_data:
        data = child(secret, "data")
        for key, value in string_data.items():
            data[key] = base64.b64encode(str(value).encode()).decode()


def default_replication_controller(rc: Obj) -> None:
    spec = child(rc, "spec")
    template = spec.get("template")
    if isinstance(template, dict):
        labels = (template.get("metadata") or {}).get("labels")
        if isinstance(labels, dict):
            if not spec.get("selector"):
                spec["selector"] = dict(labels)
            metadata = child(rc, "metadata")
            if not metadata.get("labels"):
                metadata["labels"] = dict(labels)
        default_pod_template(template)
    set_if_none(spec, "replicas", 1)


def default_endpoints(endpoints: Obj) -> None:
    for subset in dicts(endpoints.get("subsets")):
        for port in dicts(subset.get("ports")):
            set_if_empty(port, "protocol", "TCP")


def default_limit_range(limit_range: Obj) -> None:
    """Container items: the default limit falls back to max, the default request to the
    default limit, then to min."""
    for item in dicts((limit_range.get("spec") or {}).get("limits")):
        for key in ("max", "min", "default", "defaultRequest", "maxLimitRequestRatio"):
            canonical_resource_list(item.get(key))
        if item.get("type") != "Container":
            continue
        default = child(item, "default")
        default_request = child(item, "defaultRequest")
        for name, value in (item.get("max") or {}).items():
            default.setdefault(name, value)
        for name, value in default.items():
            default_request.setdefault(name, value)
        for name, value in (item.get("min") or {}).items():
            default_request.setdefault(name, value)


def default_resource_quota(quota: Obj) -> None:
    canonical_resource_list((quota.get("spec") or {}).get("hard"))
    status = quota.get("status")
    if isinstance(status, dict):
        canonical_resource_list(status.get("hard"))
        canonical_resource_list(status.get("used"))
