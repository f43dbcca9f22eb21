"""What built-in admission needs done when an API server starts, and every few minutes after.

:func:`start_admission` runs once the watch caches are primed and the system namespaces
exist, before the server answers requests:

* each system namespace gets its ``default`` service account (if it has none);
* the quotas of every namespace that has some are recounted (objects may have come and
  gone while no server counted);
* the allocation repair reconciles cluster IP and node port keys with the stored services;
* the ``default/kubernetes`` service exists (cluster IP: the first address of the service
  range; port 443 ``https`` to the API server's port) with Endpoints naming this server,
  as upstream's API server maintains them. A failure here is logged, not fatal: the
  maintenance loop tries again.

:func:`maintain_admission` repeats the repair and the ``kubernetes`` service check every
``interval`` seconds (upstream repairs every 3 minutes), logging what it changed, until
cancelled; a failed round is logged and the next one tries again.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from typing import Any

from kybernetes.apiserver import _errors as errors
from kybernetes.apiserver._admission import SYSTEM_NAMESPACES
from kybernetes.apiserver._admission_serviceaccount import ensure_default_service_account
from kybernetes.apiserver._admission_wiring import SERVICE_ACCOUNTS, SERVICES, AdmissionWiring
from kybernetes.apiserver._allocator import ServiceAllocator
from kybernetes.apiserver._allocator_repair import RepairReport

log = logging.getLogger(__name__)

Obj = dict[str, Any]

KUBERNETES = "kubernetes"
KUBERNETES_NAMESPACE = "default"
HTTPS_PORT = 443
#: Upstream repairs service allocations every 3 minutes.
REPAIR_INTERVAL = 180.0
ENDPOINTS = ("", "endpoints")


def kubernetes_ports(port: int) -> list[Obj]:
    return [{"name": "https", "port": HTTPS_PORT, "protocol": "TCP", "targetPort": port}]


def kubernetes_service(cluster_ip: str, port: int) -> Obj:
    """The ``default/kubernetes`` Service of an API server listening on ``port``."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": KUBERNETES,
            "namespace": KUBERNETES_NAMESPACE,
            "labels": {"component": "apiserver", "provider": "kubernetes"},
        },
        "spec": {
            "type": "ClusterIP",
            "clusterIP": cluster_ip,
            "clusterIPs": [cluster_ip],
            "ports": kubernetes_ports(port),
            "sessionAffinity": "None",
        },
    }


def kubernetes_endpoints(address: str, port: int) -> Obj:
    """The Endpoints of the ``kubernetes`` service: this API server's address and port."""
    return {
        "apiVersion": "v1",
        "kind": "Endpoints",
        "metadata": {
            "name": KUBERNETES,
            "namespace": KUBERNETES_NAMESPACE,
            # Upstream keeps this object out of EndpointSlice mirroring.
            "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"},
        },
        "subsets": [
            {
                "addresses": [{"ip": address}],
                "ports": [{"name": "https", "port": port, "protocol": "TCP"}],
            }
        ],
    }


def advertised_address(bound: str) -> str:
    """The address clients reach the server at: the bound one, or loopback for a wildcard."""
    try:
        address = ipaddress.ip_address(bound)
    except ValueError:
        return "127.0.0.1"
    return "127.0.0.1" if address.is_unspecified else str(address)


def _ports_match(current: Obj, wanted: list[Obj]) -> bool:
    ports = (current.get("spec") or {}).get("ports")
    if not isinstance(ports, list) or len(ports) != len(wanted):
        return False
    return all(
        isinstance(have, dict) and all(have.get(k) == v for k, v in want.items())
        for have, want in zip(ports, wanted, strict=True)
    )


async def ensure_kubernetes_service(wiring: AdmissionWiring, address: str, port: int) -> None:
    """Create the ``kubernetes`` service (or fix its ports) and point its Endpoints here."""
    services = wiring.resource(SERVICES).storage
    ip = wiring.allocator.kubernetes_service_ip
    # Look first: a create of an existing service would fail on its taken IP, not 409.
    try:
        current: Obj | None = await services.get(KUBERNETES_NAMESPACE, KUBERNETES)
    except errors.APIError as e:
        if e.code != 404:
            raise
        current = None
    if current is None:
        await services.create(KUBERNETES_NAMESPACE, kubernetes_service(ip, port))
    else:
        if (current.get("spec") or {}).get("clusterIP") != ip:
            log.warning("the kubernetes service does not have the cluster IP %s", ip)
        wanted = kubernetes_ports(port)
        if not _ports_match(current, wanted):

            def with_ports(obj: Obj) -> Obj:
                meta = {k: v for k, v in obj["metadata"].items() if k != "resourceVersion"}
                return {**obj, "metadata": meta, "spec": {**obj["spec"], "ports": wanted}}

            await services.guaranteed_update(KUBERNETES_NAMESPACE, KUBERNETES, with_ports)
    endpoints = wiring.resource(ENDPOINTS).storage
    await endpoints.update(KUBERNETES_NAMESPACE, KUBERNETES, kubernetes_endpoints(address, port))


async def repair_allocations(allocator: ServiceAllocator) -> RepairReport:
    """Run the allocation repair and log what it found."""
    report = await allocator.repair()
    for what, keys in (
        ("freed", report.released),
        ("registered", report.registered),
        ("re-owned", report.reowned),
    ):
        if keys:
            log.info("service allocation repair %s %d keys: %s", what, len(keys), ", ".join(keys))
    for duplicate in report.duplicates:
        log.warning("service allocation held by several services: %s", duplicate)
    for value in report.out_of_range:
        log.warning("service allocation outside the configured ranges: %s", value)
    return report


async def start_admission(wiring: AdmissionWiring, *, address: str, port: int) -> None:
    """Start-up work (see the module docstring); the caches must be primed."""
    create_account = wiring.resource(SERVICE_ACCOUNTS).storage.create
    for namespace in SYSTEM_NAMESPACES:
        await ensure_default_service_account(create_account, namespace)
    for namespace in sorted(wiring.namespaces_with_quotas()):
        await wiring.built.quota.recalculate(namespace)
    await repair_allocations(wiring.allocator)
    try:
        await ensure_kubernetes_service(wiring, advertised_address(address), port)
    except errors.APIError:
        log.exception("could not set up the kubernetes service; retrying later")


async def maintain_admission(
    wiring: AdmissionWiring, *, address: str, port: int, interval: float = REPAIR_INTERVAL
) -> None:
    """Repair allocations and check the kubernetes service every ``interval`` seconds."""
    while True:
        await asyncio.sleep(interval)
        try:
            await repair_allocations(wiring.allocator)
            await ensure_kubernetes_service(wiring, advertised_address(address), port)
        except Exception:
            log.exception("service allocation maintenance failed; retrying later")
