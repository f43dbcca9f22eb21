"""Table printers of services, endpoints, namespaces, events, configuration and leases,
with upstream's columns and cell formats (``80/TCP,443:30443/TCP``,
``10.0.0.1:80,10.0.0.2:80 + 3 more...``, ``pod/web-0``), and the Name/Age table of every
other kind.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from kybernetes.apiserver._printing import (
    AGE,
    NAME,
    Column,
    Obj,
    Printer,
    age,
    count_of,
    format_labels,
    get,
    items,
    join_limited,
    mapping,
    name,
    number,
    simple_cells,
    since,
    text,
)


def _service_external_ip(svc: Obj) -> str:
    kind = text(svc, "spec", "type") or "ClusterIP"
    external = [str(ip) for ip in items(svc, "spec", "externalIPs")]
    if kind in ("ClusterIP", "NodePort"):
        return ",".join(external) or "<none>"
    if kind == "LoadBalancer":
        ingress = set()
        for entry in items(svc, "status", "loadBalancer", "ingress"):
            if text(entry, "ip") or text(entry, "hostname"):
                ingress.add(text(entry, "ip") or text(entry, "hostname"))
        addresses = sorted(ingress) + external
        return ",".join(addresses) or "<pending>"
    if kind == "ExternalName":
        return text(svc, "spec", "externalName")
    return "<unknown>"


def service_ports(svc: Obj) -> str:
    """``80/TCP,443:30443/TCP``: port, node port when allocated, protocol."""
    pieces = []
    for port in items(svc, "spec", "ports"):
        protocol = text(port, "protocol") or "TCP"
        node_port = number(port, "nodePort")
        prefix = (
            f"{number(port, 'port')}:{node_port}" if node_port > 0 else str(number(port, "port"))
        )
        pieces.append(f"{prefix}/{protocol}")
    return ",".join(pieces) or "<none>"


def _service_cells(svc: Obj, now: datetime) -> list[Any]:
    cluster_ips = items(svc, "spec", "clusterIPs")
    cluster_ip = str(cluster_ips[0]) if cluster_ips else text(svc, "spec", "clusterIP")
    return [
        name(svc),
        text(svc, "spec", "type"),
        cluster_ip or "<none>",
        _service_external_ip(svc),
        service_ports(svc),
        age(svc, now),
        format_labels(get(svc, "spec", "selector")),
    ]


def format_endpoints(endpoints: Obj) -> str:
    """Up to three ``ip:port`` (or bare IPs for port-less subsets) and a count of the rest."""
    subsets = items(endpoints, "subsets")
    if not subsets:
        return "<none>"
    shown: list[str] = []
    count = 0
    for subset in subsets:
        addresses = [text(a, "ip") for a in items(subset, "addresses")]
        ports = items(subset, "ports")
        for port in ports or [None]:
            count += len(addresses)
            for ip in addresses:
                if port is None:
                    shown.append(ip)
                else:
                    host = f"[{ip}]" if ":" in ip else ip
                    shown.append(f"{host}:{number(port, 'port')}")
    return join_limited(shown, count)


def _endpoint_slice_cells(obj: Obj, now: datetime) -> list[Any]:
    ports = []
    for port in items(obj, "ports"):
        value = get(port, "port")
        ports.append(str(value) if isinstance(value, int) else text(port, "name") or "*")
    addresses = [str(a) for e in items(obj, "endpoints") for a in items(e, "addresses")]
    return [
        name(obj),
        text(obj, "addressType"),
        join_limited(ports, len(ports)) or "<unset>",
        join_limited(addresses, len(addresses)) or "<unset>",
        age(obj, now),
    ]


def _core_event_view(event: Obj) -> Obj:
    """An ``events.k8s.io/v1`` Event seen with the field names of a core Event."""
    if "regarding" not in event and "note" not in event and "deprecatedCount" not in event:
        return event
    return {
        "metadata": event.get("metadata"),
        "type": event.get("type"),
        "reason": event.get("reason"),
        "message": event.get("note"),
        "involvedObject": event.get("regarding"),
        "source": event.get("deprecatedSource"),
        "reportingComponent": event.get("reportingController"),
        "reportingInstance": event.get("reportingInstance"),
        "firstTimestamp": event.get("deprecatedFirstTimestamp"),
        "lastTimestamp": event.get("deprecatedLastTimestamp"),
        "eventTime": event.get("eventTime"),
        "count": event.get("deprecatedCount"),
        "series": event.get("series"),
    }


def _event_cells(raw: Obj, now: datetime) -> list[Any]:
    event = _core_event_view(raw)
    first_raw = get(event, "firstTimestamp") or get(event, "eventTime")
    first = since(first_raw, now)
    last = since(get(event, "lastTimestamp"), now) if get(event, "lastTimestamp") else first
    count = number(event, "count")
    series = mapping(event, "series")
    if series:
        last = since(get(series, "lastObservedTime"), now)
        count = number(series, "count")
    elif count == 0:
        count = 1  # singleton events of the new API carry no count
    involved = mapping(event, "involvedObject")
    target = text(involved, "kind").lower()
    if text(involved, "name"):
        target = f"{target}/{text(involved, 'name')}"
    component = text(event, "source", "component") or text(event, "reportingComponent")
    instance = text(event, "source", "host") or text(event, "reportingInstance")
    source = f"{component}, {instance}" if instance else component
    return [
        last,
        text(event, "type"),
        text(event, "reason"),
        target,
        text(involved, "fieldPath"),
        source,
        text(event, "message").strip(),
        first,
        count,
        name(event),
    ]


SERVICE = Printer(
    columns=(
        NAME,
        Column("Type", doc=("core.v1.ServiceSpec", "type")),
        Column("Cluster-IP", doc=("core.v1.ServiceSpec", "clusterIP")),
        Column("External-IP", doc=("core.v1.ServiceSpec", "externalIPs")),
        Column("Port(s)", doc=("core.v1.ServiceSpec", "ports")),
        AGE,
        Column("Selector", doc=("core.v1.ServiceSpec", "selector"), priority=1),
    ),
    cells=_service_cells,
)
ENDPOINTS = Printer(
    columns=(NAME, Column("Endpoints", doc=("core.v1.Endpoints", "subsets")), AGE),
    cells=simple_cells(format_endpoints),
)
_SLICE = "discovery.v1.EndpointSlice"
ENDPOINT_SLICE = Printer(
    columns=(
        NAME,
        Column("AddressType", doc=(_SLICE, "addressType")),
        Column("Ports", doc=(_SLICE, "ports")),
        Column("Endpoints", doc=(_SLICE, "endpoints")),
        AGE,
    ),
    cells=_endpoint_slice_cells,
)
NAMESPACE = Printer(
    columns=(NAME, Column("Status", doc="The status of the namespace"), AGE),
    cells=simple_cells(("status", "phase")),
)
_EV = "core.v1.Event"
EVENT = Printer(
    columns=(
        Column("Last Seen", doc=(_EV, "lastTimestamp")),
        Column("Type", doc=(_EV, "type")),
        Column("Reason", doc=(_EV, "reason")),
        Column("Object", doc=(_EV, "involvedObject")),
        Column("Subobject", doc=("core.v1.ObjectReference", "fieldPath"), priority=1),
        Column("Source", doc=(_EV, "source"), priority=1),
        Column("Message", doc=(_EV, "message")),
        Column("First Seen", doc=(_EV, "firstTimestamp"), priority=1),
        Column("Count", doc=(_EV, "count"), priority=1),
        Column("Name", doc=("meta.v1.ObjectMeta", "name"), priority=1, format="name"),
    ),
    cells=_event_cells,
)
CONFIG_MAP = Printer(
    columns=(NAME, Column("Data", doc=("core.v1.ConfigMap", "data")), AGE),
    cells=simple_cells(count_of("data", "binaryData")),
)
SECRET = Printer(
    columns=(
        NAME,
        Column("Type", doc=("core.v1.Secret", "type")),
        Column("Data", doc=("core.v1.Secret", "data")),
        AGE,
    ),
    cells=simple_cells(lambda o: text(o, "type"), count_of("data")),
)
SERVICE_ACCOUNT = Printer(
    columns=(NAME, Column("Secrets", doc=("core.v1.ServiceAccount", "secrets")), AGE),
    cells=simple_cells(count_of("secrets")),
)
LEASE = Printer(
    columns=(NAME, Column("Holder", doc=("coordination.v1.LeaseSpec", "holderIdentity")), AGE),
    cells=simple_cells(lambda o: text(o, "spec", "holderIdentity")),
)
GENERIC = Printer(columns=(NAME, AGE), cells=simple_cells())
