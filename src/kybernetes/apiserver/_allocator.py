"""Service cluster IPs and node ports, allocated through the store so no two services share one.

:class:`ServiceAllocator` gives services their ``clusterIP`` (from a service CIDR, default
``10.96.0.0/12``) and node ports (default ``30000-32767``), as upstream's service registry
does, with upstream's errors (422 ``spec.clusterIPs: Invalid value: []string{"10.96.0.10"}:
failed to allocate IP 10.96.0.10: provided IP is already allocated``, ``spec.ports[0].nodePort:
Invalid value: 30080: provided port is already allocated``, out-of-range values likewise,
and a 500 ``failed to allocate a serviceIP: range is full`` when nothing is free).

Theory of operation:

* Every allocated value is one store key, created only if absent:
  ``/registry/ranges/serviceips/10.96.0.10`` and ``/registry/ranges/servicenodeports/30080``,
  whose value records the owning service (namespace/name and uid) and when it was taken.
  The store's create-if-absent is the only arbiter, so concurrent requests, and several API
  servers sharing one store, can never hand out one value twice.
* Random values are probed a bounded number of times per band (see
  :mod:`._allocator_ranges`); when probing keeps hitting taken values the allocator lists
  what is taken, tries free values, and only then answers "range is full".
* :meth:`ServiceAllocator.allocate_create` / :meth:`~ServiceAllocator.allocate_update` return
  the service with its values filled in and an :class:`Allocation`: ``commit()`` it once the
  service is stored (it frees what the update gave up), ``revert()`` it if the write does
  not happen (it frees what was newly taken). Dry runs take nothing.
* :meth:`ServiceAllocator.release` frees a deleted service's values; a key is only ever
  freed by (a request about) the service recorded as its owner.
* :meth:`ServiceAllocator.repair` (:mod:`._allocator_repair`) reconciles keys with the stored
  services after a crash: frees keys no service holds, re-registers values held but missing.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

from kybernetes import store as st
from kybernetes.api._errors import OMITTED, ErrorType, FieldError, go_quote, invalid
from kybernetes.api._jsonvalue import deep_copy
from kybernetes.apiserver import _errors as errors
from kybernetes.apiserver._allocator_pool import Owner, Pool, RangeFull, Taken
from kybernetes.apiserver._allocator_ranges import (
    DEFAULT_NODE_PORT_RANGE,
    DEFAULT_SERVICE_CIDR,
    NotInRange,
    ip_space,
    port_space,
)
from kybernetes.apiserver._allocator_repair import RepairReport, repair
from kybernetes.apiserver._allocator_service import (
    held_values,
    needs_cluster_ip,
    needs_health_check,
    needs_node_ports,
    node_ports,
    prepare_update,
    should_allocate_node_ports,
)

Obj = dict[str, Any]

IPS_PREFIX = "/registry/ranges/serviceips/"
PORTS_PREFIX = "/registry/ranges/servicenodeports/"
DEFAULT_PROBES = 32


class Allocation:
    """What one create or update took and gives up; settle it with commit or revert."""

    def __init__(self, owner: Owner) -> None:
        self.owner = owner
        self._taken: list[tuple[Pool, str]] = []
        self._given_up: list[tuple[Pool, str]] = []

    def took(self, pool: Pool, name: str) -> None:
        self._taken.append((pool, name))

    def gives_up(self, pool: Pool, name: str) -> None:
        self._given_up.append((pool, name))

    @property
    def taken(self) -> list[str]:
        """Store keys newly created for this request."""
        return [pool.key(name) for pool, name in self._taken]

    @property
    def given_up(self) -> list[str]:
        """Store keys freed on commit."""
        return [pool.key(name) for pool, name in self._given_up]

    async def commit(self) -> None:
        """The service was stored: free what it no longer holds."""
        given_up, self._given_up, self._taken = self._given_up, [], []
        for pool, name in given_up:
            await pool.release(name, self.owner)

    async def revert(self) -> None:
        """The service was not stored: free what was taken for it."""
        taken, self._taken, self._given_up = self._taken, [], []
        for pool, name in taken:
            await pool.release(name, self.owner)


def _go_strings(values: list[Any]) -> str:
    """How upstream prints a ``[]string`` bad value (Go's ``%#v``)."""
    return "[]string{" + ", ".join(go_quote(str(v)) for v in values) + "}"


def _requested_port(value: Any) -> int | None:
    """A node port the user asked for (any non-zero integer; range errors come later)."""
    if isinstance(value, int) and not isinstance(value, bool) and value != 0:
        return value
    return None


class ServiceAllocator:
    """Cluster IP and node port allocation for services, on a shared store."""

    def __init__(
        self,
        store: st.Store,
        *,
        service_cidr: str = DEFAULT_SERVICE_CIDR,
        node_port_range: str = DEFAULT_NODE_PORT_RANGE,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.time,
        probes: int = DEFAULT_PROBES,
    ) -> None:
        self.store = store
        self.clock = clock
        rng = rng or random.Random()
        self.ips = Pool(store, IPS_PREFIX, ip_space(service_cidr), rng, probes, clock)
        self.ports = Pool(store, PORTS_PREFIX, port_space(node_port_range), rng, probes, clock)

    @property
    def kubernetes_service_ip(self) -> str:
        """The first address of the range, kept for the ``default/kubernetes`` service."""
        return self.ips.space.name(0)

    # -- create and update -------------------------------------------------------------------

    async def allocate_create(self, svc: Obj, *, dry_run: bool = False) -> tuple[Obj, Allocation]:
        """``svc`` (not mutated) with its cluster IP and node ports, and what was taken.

        Call it once the service has its name and uid, before it is validated."""
        out: Obj = {**svc, "spec": deep_copy(svc.get("spec") or {})}
        spec = out["spec"]
        txn = Allocation(Owner.of(svc))
        try:
            if needs_cluster_ip(spec):
                await self._assign_ip(out, txn, dry_run)
            if needs_node_ports(spec):
                await self._init_node_ports(out, txn, dry_run)
            if needs_health_check(spec):
                await self._assign_health_check(spec, txn, dry_run)
        except BaseException:
            await txn.revert()
            raise
        return out, txn

    async def allocate_update(
        self, new: Obj, old: Obj, *, dry_run: bool = False
    ) -> tuple[Obj, Allocation]:
        """``new`` (not mutated) with what it keeps, gains and loses relative to the stored
        ``old`` applied; values it gives up are freed on ``commit``."""
        out: Obj = {**new, "spec": deep_copy(new.get("spec") or {})}
        spec, old_spec = out["spec"], old.get("spec") or {}
        prepare_update(spec, old_spec)
        txn = Allocation(Owner.of(old))
        try:
            old_ips, _ = held_values(old_spec)
            if needs_cluster_ip(old_spec) and not needs_cluster_ip(spec):
                for ip in old_ips:
                    self._give_up_ip(txn, ip)
            elif needs_cluster_ip(spec) and not needs_cluster_ip(old_spec):
                await self._assign_ip(out, txn, dry_run)
            if needs_node_ports(old_spec) and not needs_node_ports(spec):
                for port in node_ports(old_spec):
                    txn.gives_up(self.ports, str(port))
            if needs_node_ports(spec):
                await self._update_node_ports(out, old_spec, txn, dry_run)
            if needs_health_check(spec) and not needs_health_check(old_spec):
                await self._assign_health_check(spec, txn, dry_run)
            elif needs_health_check(old_spec) and not needs_health_check(spec):
                health = old_spec.get("healthCheckNodePort")
                if isinstance(health, int) and health > 0:
                    txn.gives_up(self.ports, str(health))
        except BaseException:
            await txn.revert()
            raise
        return out, txn

    async def release(self, svc: Obj) -> None:
        """Free everything a deleted service held (call once it is gone from the store)."""
        owner = Owner.of(svc)
        ips, ports = held_values(svc.get("spec") or {})
        for ip in ips:
            name = self._canonical_ip(ip)
            if name is not None:
                await self.ips.release(name, owner)
        for port in ports:
            await self.ports.release(str(port), owner)

    async def repair(self, *, leak_grace: float = 60.0) -> RepairReport:
        """Reconcile allocation keys with the stored services; see :mod:`._allocator_repair`."""
        return await repair(self, leak_grace=leak_grace)

    # -- cluster IPs -------------------------------------------------------------------------

    def _canonical_ip(self, ip: str) -> str | None:
        try:
            return self.ips.space.name(self.ips.space.offset(ip))
        except ValueError:
            return None

    def _give_up_ip(self, txn: Allocation, ip: str) -> None:
        name = self._canonical_ip(ip)
        if name is not None:
            txn.gives_up(self.ips, name)

    async def _assign_ip(self, svc: Obj, txn: Allocation, dry_run: bool) -> None:
        spec = svc["spec"]
        name = str((svc.get("metadata") or {}).get("name") or "")
        ips = spec.get("clusterIPs")
        ips = list(ips) if isinstance(ips, list) and ips else []
        if not ips and spec.get("clusterIP"):
            ips = [spec["clusterIP"]]
        requested = ips[0] if ips else ""
        if requested == "None":
            return
        if len(ips) > 1:
            detail = f"{_go_strings(ips)}: this cluster is not configured for dual-stack services"
            raise self._invalid(name, FieldError(ErrorType.INVALID, "spec.clusterIPs", detail))
        if not requested:
            try:
                ip = await self.ips.claim_next(txn.owner, dry_run=dry_run)
            except RangeFull:
                raise errors.internal_error(
                    "failed to allocate a serviceIP: range is full"
                ) from None
            if not dry_run:
                txn.took(self.ips, ip)
        else:
            if not isinstance(requested, str):
                return  # not a string: validation reports it
            try:
                key_name = self.ips.space.name(self.ips.space.offset(requested))
                if await self.ips.claim(key_name, txn.owner, dry_run=dry_run):
                    txn.took(self.ips, key_name)
            except NotInRange as e:
                raise self._ip_error(name, ips, requested, str(e)) from None
            except Taken:
                raise self._ip_error(
                    name, ips, requested, self.ips.space.allocated_message
                ) from None
            except ValueError:
                return  # not an IP address: validation reports it
            ip = requested
        spec["clusterIP"] = ip
        spec["clusterIPs"] = [ip]

    def _ip_error(self, name: str, ips: list[Any], ip: str, why: str) -> errors.APIError:
        detail = f"{_go_strings(ips)}: failed to allocate IP {ip}: {why}"
        return self._invalid(
            name, FieldError(ErrorType.INVALID, "spec.clusterIPs", detail, OMITTED)
        )

    @staticmethod
    def _invalid(name: str, error: FieldError) -> errors.APIError:
        return errors.invalid("Service", "", name, [error])

    # -- node ports --------------------------------------------------------------------------

    async def _claim_port(
        self, name: str, index: int, port: int, txn: Allocation, dry_run: bool
    ) -> None:
        """Take a requested node port; 422 on the field ``spec.ports[index].nodePort``."""
        try:
            self.ports.space.offset(port)
            if await self.ports.claim(str(port), txn.owner, dry_run=dry_run):
                txn.took(self.ports, str(port))
        except (NotInRange, Taken) as e:
            why = self.ports.space.allocated_message if isinstance(e, Taken) else str(e)
            field = f"spec.ports[{index}].nodePort"
            raise self._invalid(name, invalid(field, port, why)) from None

    async def _next_port(self, txn: Allocation, dry_run: bool, what: str = "a nodePort") -> int:
        try:
            port = await self.ports.claim_next(txn.owner, dry_run=dry_run)
        except RangeFull:
            raise errors.internal_error(f"failed to allocate {what}: range is full") from None
        if not dry_run:
            txn.took(self.ports, port)
        return int(port)

    @staticmethod
    def _own_ports(spec: Obj) -> list[Any]:
        """The spec's ports as a list we own (dict entries copied, anything else kept)."""
        ports = spec.get("ports")
        if not isinstance(ports, list):
            return []
        spec["ports"] = [dict(p) if isinstance(p, dict) else p for p in ports]
        return list(spec["ports"])

    async def _init_node_ports(self, svc: Obj, txn: Allocation, dry_run: bool) -> None:
        """Upstream's create rules: ports sharing a port number (TCP and UDP 53) share one
        node port; requested values are honoured, the rest drawn at random."""
        spec = svc["spec"]
        name = str((svc.get("metadata") or {}).get("name") or "")
        allocate = should_allocate_node_ports(spec)
        ports = self._own_ports(spec)
        by_port: dict[Any, int] = {}
        for i, port in enumerate(ports):
            if not isinstance(port, dict):
                continue
            requested = _requested_port(port.get("nodePort"))
            if port.get("nodePort") not in (None, 0) and requested is None:
                continue  # not a number: validation reports it
            if requested is None and not allocate:
                continue
            shared = by_port.get(port.get("port"))
            if shared is None:
                wanted = next(
                    (
                        value
                        for p in ports[i:]
                        if isinstance(p, dict) and p.get("port") == port.get("port")
                        for value in [_requested_port(p.get("nodePort"))]
                        if value is not None
                    ),
                    None,
                )
                if wanted is not None:
                    await self._claim_port(name, i, wanted, txn, dry_run)
                else:
                    wanted = await self._next_port(txn, dry_run)
                port["nodePort"] = by_port[port.get("port")] = wanted
            elif requested is None:
                port["nodePort"] = shared
            elif requested != shared:
                await self._claim_port(name, i, requested, txn, dry_run)

    async def _update_node_ports(
        self, svc: Obj, old_spec: Obj, txn: Allocation, dry_run: bool
    ) -> None:
        """Upstream's update rules: keep old node ports, take new requested ones, draw the
        missing ones, give up those no port uses any more."""
        spec = svc["spec"]
        name = str((svc.get("metadata") or {}).get("name") or "")
        allocate = should_allocate_node_ports(spec)
        old_ports = node_ports(old_spec)
        taken_now: set[int] = set()
        for i, port in enumerate(self._own_ports(spec)):
            if not isinstance(port, dict):
                continue
            requested = _requested_port(port.get("nodePort"))
            if requested is None:
                if port.get("nodePort") not in (None, 0) or not allocate:
                    continue
                port["nodePort"] = await self._next_port(txn, dry_run)
            elif requested not in old_ports and requested not in taken_now:
                await self._claim_port(name, i, requested, txn, dry_run)
                taken_now.add(requested)
        still_used = node_ports(spec)
        for port_number in old_ports:
            if port_number not in still_used:
                txn.gives_up(self.ports, str(port_number))

    async def _assign_health_check(self, spec: Obj, txn: Allocation, dry_run: bool) -> None:
        requested = _requested_port(spec.get("healthCheckNodePort"))
        if requested is None:
            spec["healthCheckNodePort"] = await self._next_port(
                txn, dry_run, "a HealthCheck NodePort 0"
            )
            return
        try:
            self.ports.space.offset(requested)
            if await self.ports.claim(str(requested), txn.owner, dry_run=dry_run):
                txn.took(self.ports, str(requested))
        except (NotInRange, Taken) as e:
            why = self.ports.space.allocated_message if isinstance(e, Taken) else str(e)
            raise errors.internal_error(
                f"failed to allocate requested HealthCheck NodePort {requested}: {why}"
            ) from None
