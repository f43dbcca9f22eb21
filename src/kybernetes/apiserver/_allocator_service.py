"""What a service needs allocated, and how an update carries allocations over: pure rules.

* :func:`needs_cluster_ip`: every type but ExternalName (a headless service, ``clusterIP:
  None``, needs the field but gets no address).
* :func:`needs_node_ports` / :func:`should_allocate_node_ports`: NodePort and LoadBalancer
  services have node ports; a LoadBalancer with ``allocateLoadBalancerNodePorts: false``
  only gets the ones it asks for.
* :func:`needs_health_check`: a LoadBalancer with ``externalTrafficPolicy: Local`` also has
  a ``healthCheckNodePort``.
* :func:`prepare_update` applies upstream's update rules to a service spec the caller owns:
  values the update leaves out keep what was allocated (``patchAllocatedValues``),
  ``clusterIP`` and ``clusterIPs`` are kept in step (``normalizeClusterIPs``), and values a
  new type no longer uses are cleared when the user did not change them
  (``dropTypeDependentFields``), so a type change releases what the old type held.
* :func:`held_values` lists what a stored service holds (to release or repair).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

Obj = dict[str, Any]

NODE_PORT_TYPES = ("NodePort", "LoadBalancer")


def service_type(spec: Mapping[str, Any]) -> str:
    return str(spec.get("type") or "ClusterIP")


def needs_cluster_ip(spec: Mapping[str, Any]) -> bool:
    return service_type(spec) != "ExternalName"


def needs_node_ports(spec: Mapping[str, Any]) -> bool:
    return service_type(spec) in NODE_PORT_TYPES


def should_allocate_node_ports(spec: Mapping[str, Any]) -> bool:
    kind = service_type(spec)
    if kind == "NodePort":
        return True
    return kind == "LoadBalancer" and spec.get("allocateLoadBalancerNodePorts") is not False


def needs_health_check(spec: Mapping[str, Any]) -> bool:
    return service_type(spec) == "LoadBalancer" and spec.get("externalTrafficPolicy") == "Local"


def is_port_number(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def ports_of(spec: Mapping[str, Any]) -> list[Obj]:
    ports = spec.get("ports")
    return [p for p in ports if isinstance(p, dict)] if isinstance(ports, list) else []


def node_ports(spec: Mapping[str, Any]) -> list[int]:
    """The distinct node ports the spec's ports name, in order."""
    found: list[int] = []
    for port in ports_of(spec):
        value = port.get("nodePort")
        if isinstance(value, int) and is_port_number(value) and value not in found:
            found.append(value)
    return found


def cluster_ips(spec: Mapping[str, Any]) -> list[str]:
    """The addresses a spec holds (``None`` and empty values are not addresses)."""
    ips = spec.get("clusterIPs")
    if not isinstance(ips, list) or not ips:
        single = spec.get("clusterIP")
        ips = [single] if single else []
    return [ip for ip in ips if isinstance(ip, str) and ip and ip != "None"]


def held_values(spec: Mapping[str, Any]) -> tuple[list[str], list[int]]:
    """(cluster IPs, node ports incl. the health check port) a stored service holds."""
    ips = cluster_ips(spec) if needs_cluster_ip(spec) else []
    ports = node_ports(spec)
    health = spec.get("healthCheckNodePort")
    if needs_health_check(spec) and isinstance(health, int) and is_port_number(health):
        ports.extend([] if health in ports else [health])
    return ips, ports


# -- updates ----------------------------------------------------------------------------------


def _patch_allocated_values(spec: Obj, old: Mapping[str, Any]) -> None:
    if needs_cluster_ip(old) and needs_cluster_ip(spec):
        if not spec.get("clusterIP") and old.get("clusterIP"):
            spec["clusterIP"] = old["clusterIP"]
        if not spec.get("clusterIPs") and old.get("clusterIPs"):
            spec["clusterIPs"] = list(old["clusterIPs"])
    if needs_node_ports(old) and needs_node_ports(spec):
        # Node ports both versions use cannot be handed to another port.
        used = set(node_ports(old)) & set(node_ports(spec))
        by_name = {str(p.get("name") or ""): p.get("nodePort") for p in ports_of(old)}
        ports = [dict(p) for p in ports_of(spec)]
        for port in ports:
            if not port.get("nodePort"):
                previous = by_name.get(str(port.get("name") or ""))
                if is_port_number(previous) and previous not in used:
                    port["nodePort"] = previous
        if ports:
            spec["ports"] = ports
    keep_health = needs_health_check(old) and needs_health_check(spec)
    if keep_health and not spec.get("healthCheckNodePort") and old.get("healthCheckNodePort"):
        spec["healthCheckNodePort"] = old["healthCheckNodePort"]


def _same_cluster_ips(spec: Mapping[str, Any], old: Mapping[str, Any]) -> bool:
    return list(spec.get("clusterIPs") or []) == list(old.get("clusterIPs") or [])


def _normalize_cluster_ips(spec: Obj, old: Mapping[str, Any]) -> None:
    # An old client sent clusterIP only: keep the plural in step.
    same_single = old.get("clusterIP") == spec.get("clusterIP")
    if old.get("clusterIPs") and not spec.get("clusterIPs") and same_single:
        spec["clusterIPs"] = list(old["clusterIPs"])
    if old.get("clusterIP") != spec.get("clusterIP"):
        if old.get("clusterIP") and not spec.get("clusterIP") and _same_cluster_ips(spec, old):
            spec.pop("clusterIPs", None)
        if spec.get("clusterIP") and _same_cluster_ips(spec, old):
            spec["clusterIPs"] = [spec["clusterIP"]]


def _externally_accessible(spec: Mapping[str, Any]) -> bool:
    kind = service_type(spec)
    return kind in NODE_PORT_TYPES or (kind == "ClusterIP" and bool(spec.get("externalIPs")))


def _drop_type_dependent_fields(spec: Obj, old: Mapping[str, Any]) -> None:
    if needs_cluster_ip(old) and not needs_cluster_ip(spec):
        if spec.get("clusterIP") == old.get("clusterIP") and _same_cluster_ips(spec, old):
            spec.pop("clusterIP", None)
            spec.pop("clusterIPs", None)
        for key in ("ipFamilies", "ipFamilyPolicy"):
            if spec.get(key) == old.get(key):
                spec.pop(key, None)
    if needs_node_ports(old) and not needs_node_ports(spec):
        new_ports = [p.get("nodePort") for p in ports_of(spec)]
        if new_ports == [p.get("nodePort") for p in ports_of(old)]:
            spec["ports"] = [
                {k: v for k, v in p.items() if k != "nodePort"} for p in ports_of(spec)
            ]
    same_health = spec.get("healthCheckNodePort") == old.get("healthCheckNodePort")
    if needs_health_check(old) and not needs_health_check(spec) and same_health:
        spec.pop("healthCheckNodePort", None)
    leaving_lb = service_type(old) == "LoadBalancer" and service_type(spec) != "LoadBalancer"
    for key in ("allocateLoadBalancerNodePorts", "loadBalancerClass"):
        if leaving_lb and spec.get(key) is not None and spec.get(key) == old.get(key):
            spec.pop(key, None)
    same_policy = spec.get("externalTrafficPolicy") == old.get("externalTrafficPolicy")
    if _externally_accessible(old) and not _externally_accessible(spec) and same_policy:
        spec.pop("externalTrafficPolicy", None)


def prepare_update(spec: Obj, old: Mapping[str, Any]) -> None:
    """Apply the update rules of the module docstring to ``spec`` (owned by the caller),
    given the stored service's spec ``old``. Idempotent."""
    _patch_allocated_values(spec, old)
    _normalize_cluster_ips(spec, old)
    _drop_type_dependent_fields(spec, old)
