"""Validation of services, as upstream's ``ValidateService`` and ``ValidateServiceUpdate``.

Cluster IPs may not change once allocated (except when a service becomes or stops being an
``ExternalName`` one); the update strategy restores the allocated values a PUT leaves out, so
only a real change reaches this check.
"""

from __future__ import annotations

import ipaddress
from typing import Any, Final

from kybernetes.api._errors import duplicate, forbidden, invalid, not_supported, required
from kybernetes.api._names import (
    is_dns1123_label,
    is_dns1123_subdomain,
    name_is_dns1035_label,
    validate_labels,
    validate_object_meta,
    validate_object_meta_update,
)
from kybernetes.api._validation_common import (
    Errs,
    Obj,
    as_dict,
    as_list,
    as_str,
    is_int,
    one_of,
    port_num_errors,
    port_num_or_name,
    struct,
)
from kybernetes.api._validation_containers import PROTOCOLS

SERVICE_TYPES: Final = ("ClusterIP", "ExternalName", "LoadBalancer", "NodePort")
_IP_MSG: Final = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"


def _is_headless(spec: Obj) -> bool:
    return spec.get("clusterIP") == "None"


def _ip_errors(ip: Any, field: str) -> Errs:
    if not isinstance(ip, str):
        return []
    try:
        ipaddress.ip_address(ip)
    except ValueError:
        return [invalid(field, ip, _IP_MSG)]
    return []


def validate_service(svc: Obj) -> Errs:
    errs = validate_object_meta(
        as_dict(svc.get("metadata")), namespaced=True, name_validator=name_is_dns1035_label
    )
    return errs + _spec(as_dict(svc.get("spec")))


def _spec(spec: Obj) -> Errs:
    errs: Errs = []
    svc_type = spec.get("type")
    ports = [as_dict(p) for p in as_list(spec.get("ports"))]
    headless = _is_headless(spec)
    if not ports and not headless and svc_type != "ExternalName":
        errs.append(required("spec.ports"))
    cluster_ips = as_list(spec.get("clusterIPs"))
    if svc_type in ("LoadBalancer", "NodePort") and headless:
        detail = f"may not be set to 'None' for {svc_type} services"
        errs.append(invalid("spec.clusterIPs[0]", "None", detail))
    elif svc_type == "ExternalName":
        for key in ("clusterIPs", "ipFamilies", "ipFamilyPolicy"):
            if spec.get(key):
                errs.append(forbidden(f"spec.{key}", "may not be set for ExternalName services"))
        cname = str(spec.get("externalName") or "").removesuffix(".")
        if cname:
            errs.extend(invalid("spec.externalName", cname, m) for m in is_dns1123_subdomain(cname))
        else:
            errs.append(required("spec.externalName"))
    names: set[str] = set()
    for i, port in enumerate(ports):
        errs.extend(_port(port, f"spec.ports[{i}]", len(ports) > 1, names))
    if spec.get("selector") is not None:
        errs.extend(validate_labels(spec.get("selector"), "spec.selector"))
    affinity = spec.get("sessionAffinity")
    errs.extend(one_of(affinity, "spec.sessionAffinity", ("ClientIP", "None")))
    if affinity == "None" and spec.get("sessionAffinityConfig") is not None:
        detail = "must not be set when session affinity is None"
        errs.append(forbidden("spec.sessionAffinityConfig", detail))
    elif affinity == "ClientIP":
        errs.extend(_client_ip_config(spec.get("sessionAffinityConfig")))
    if svc_type != "ExternalName":
        errs.extend(_cluster_ips(spec, cluster_ips))
    for i, ip in enumerate(as_list(spec.get("externalIPs"))):
        errs.extend(_ip_errors(ip, f"spec.externalIPs[{i}]"))
    errs.extend(one_of(svc_type, "spec.type", SERVICE_TYPES))
    errs.extend(_port_uniqueness(ports, svc_type))
    errs.extend(_traffic_policies(spec))
    return errs


def _port(port: Obj, field: str, require_name: bool, names: set[str]) -> Errs:
    errs: Errs = []
    name = as_str(port.get("name"))
    if require_name and not name:
        errs.append(required(f"{field}.name"))
    elif name:
        errs.extend(invalid(f"{field}.name", name, m) for m in is_dns1123_label(name))
        if name in names:
            errs.append(duplicate(f"{field}.name", name))
        names.add(name)
    number = port.get("port")
    number = number if is_int(number) else 0
    errs.extend(invalid(f"{field}.port", number, m) for m in port_num_errors(number))
    errs.extend(one_of(port.get("protocol"), f"{field}.protocol", PROTOCOLS))
    errs.extend(port_num_or_name(port.get("targetPort"), f"{field}.targetPort"))
    node_port = port.get("nodePort")
    if is_int(node_port) and node_port != 0:
        errs.extend(invalid(f"{field}.nodePort", node_port, m) for m in port_num_errors(node_port))
    return errs


def _port_uniqueness(ports: list[Obj], svc_type: Any) -> Errs:
    errs: Errs = []
    node_ports: set[tuple[Any, Any]] = set()
    seen: set[tuple[Any, Any]] = set()
    for i, port in enumerate(ports):
        path = f"spec.ports[{i}]"
        node_port = port.get("nodePort")
        if node_port:
            if svc_type == "ClusterIP":
                detail = "may not be used when `type` is 'ClusterIP'"
                errs.append(forbidden(f"{path}.nodePort", detail))
            key = (port.get("protocol"), node_port)
            if key in node_ports:
                errs.append(duplicate(f"{path}.nodePort", node_port))
            node_ports.add(key)
        key = (port.get("protocol"), port.get("port"))
        if key in seen:
            errs.append(duplicate(path, struct({"port": key[1], "protocol": key[0]})))
        seen.add(key)
    return errs


def _client_ip_config(config: Any) -> Errs:
    field = "spec.sessionAffinityConfig.clientIP.timeoutSeconds"
    client_ip = as_dict(as_dict(config).get("clientIP"))
    seconds = client_ip.get("timeoutSeconds")
    if seconds is None:
        return [required(field)]
    if is_int(seconds) and not 0 < seconds <= 86400:
        return [invalid(field, seconds, "must be greater than 0 and less than 86400")]
    return []


def _cluster_ips(spec: Obj, cluster_ips: list[Any]) -> Errs:
    errs: Errs = []
    cluster_ip = spec.get("clusterIP")
    if cluster_ip and cluster_ips and cluster_ips[0] != cluster_ip:
        detail = "must be empty or the first value must match spec.clusterIP"
        errs.append(invalid("spec.clusterIPs", cluster_ips, detail))
    for i, ip in enumerate(cluster_ips):
        if ip == "None":
            if i > 0 or len(cluster_ips) > 1:
                detail = "must not be set to 'None' when there is more than one clusterIP"
                errs.append(invalid(f"spec.clusterIPs[{i}]", ip, detail))
            continue
        errs.extend(_ip_errors(ip, f"spec.clusterIPs[{i}]"))
    policy = spec.get("ipFamilyPolicy")
    if policy is not None:
        choices = ("PreferDualStack", "RequireDualStack", "SingleStack")
        errs.extend(one_of(policy, "spec.ipFamilyPolicy", choices))
    families = as_list(spec.get("ipFamilies"))
    for i, family in enumerate(families):
        if family not in ("IPv4", "IPv6"):
            errs.append(not_supported(f"spec.ipFamilies[{i}]", family, ("IPv4", "IPv6")))
        elif family in families[:i]:
            errs.append(duplicate(f"spec.ipFamilies[{i}]", family))
    if policy == "SingleStack" and len(families) > 1:
        detail = "when ipFamilyPolicy is SingleStack, only one ipFamily may be specified"
        errs.append(invalid("spec.ipFamilies", families, detail))
    return errs


def _traffic_policies(spec: Obj) -> Errs:
    errs: Errs = []
    svc_type = spec.get("type")
    external = spec.get("externalTrafficPolicy")
    exposed = svc_type in ("NodePort", "LoadBalancer") or (
        svc_type == "ClusterIP" and as_list(spec.get("externalIPs"))
    )
    if exposed:
        if not external:
            errs.append(required("spec.externalTrafficPolicy"))
        elif external not in ("Cluster", "Local"):
            errs.append(not_supported("spec.externalTrafficPolicy", external, ("Cluster", "Local")))
    elif external:
        detail = "may only be set for externally-accessible services"
        errs.append(invalid("spec.externalTrafficPolicy", external, detail))
    internal = spec.get("internalTrafficPolicy")
    if svc_type in ("ClusterIP", "NodePort", "LoadBalancer"):
        if internal is None:
            errs.append(required("spec.internalTrafficPolicy"))
        elif internal not in ("Cluster", "Local"):
            errs.append(not_supported("spec.internalTrafficPolicy", internal, ("Cluster", "Local")))
    health = spec.get("healthCheckNodePort")
    if health and not (svc_type == "LoadBalancer" and external == "Local"):
        detail = (
            "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"
        )
        errs.append(invalid("spec.healthCheckNodePort", health, detail))
    return errs


def validate_service_update(new: Obj, old: Obj) -> Errs:
    errs = validate_object_meta_update(as_dict(new.get("metadata")), as_dict(old.get("metadata")))
    spec, old_spec = as_dict(new.get("spec")), as_dict(old.get("spec"))
    old_ips = as_list(old_spec.get("clusterIPs"))
    if old_ips and old_spec.get("type") != "ExternalName" and spec.get("type") != "ExternalName":
        new_ips = as_list(spec.get("clusterIPs"))
        if not new_ips or new_ips[0] != old_ips[0]:
            errs.append(invalid("spec.clusterIPs[0]", new_ips, "may not change once set"))
        elif len(new_ips) > 1 and len(old_ips) > 1 and new_ips[1] != old_ips[1]:
            errs.append(invalid("spec.clusterIPs[1]", new_ips, "may not change once set"))
        new_families, old_families = (
            as_list(spec.get("ipFamilies")),
            as_list(old_spec.get("ipFamilies")),
        )
        if new_families and old_families and new_families[0] != old_families[0]:
            errs.append(invalid("spec.ipFamilies[0]", new_families[0], "may not change once set"))
    return errs + _spec(spec)
