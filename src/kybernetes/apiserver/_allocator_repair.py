"""Repair of service allocations: make the allocation keys agree with the stored services.

Allocation keys and service objects are written separately (the store has no multi-key
transaction), so a crash between the two leaves them apart: a key whose service was never
stored or was deleted without its release (a leak), or, after a restore, a service holding
a value with no key (a hole through which another service could get the same value).

:func:`repair` reads the services and the keys at one store revision, then:

* registers every value a service holds that has no key (create-if-absent; a value taken
  meanwhile is left for the next run);
* rewrites a key whose record names a service that does not hold it to name one that does;
* frees every key no service holds, unless it was taken less than ``leak_grace`` seconds
  ago: such a key may belong to a create still on its way to the store, on this or another
  API server;
* reports values held by several services and values outside today's ranges (it cannot
  fix those: a person must change the services).

Run it at start and every few minutes (upstream repairs every 3 minutes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from kybernetes import store as st
from kybernetes.api import REGISTRY
from kybernetes.apiserver import _errors as errors
from kybernetes.apiserver._allocator_pool import Owner, Pool, parse_record
from kybernetes.apiserver._allocator_service import held_values
from kybernetes.apiserver._codec import from_kv
from kybernetes.apiserver._keys import resource_prefix

if TYPE_CHECKING:
    from kybernetes.apiserver._allocator import ServiceAllocator


@dataclass(slots=True)
class RepairReport:
    #: Keys freed because no service holds them.
    released: list[str] = field(default_factory=list)
    #: Keys created for values services hold.
    registered: list[str] = field(default_factory=list)
    #: Keys rewritten to name the service that holds them.
    reowned: list[str] = field(default_factory=list)
    #: ``"VALUE: ns/a, ns/b"`` for values several services hold.
    duplicates: list[str] = field(default_factory=list)
    #: ``"ns/a: VALUE"`` for values outside the configured ranges.
    out_of_range: list[str] = field(default_factory=list)


def _held(
    pool: Pool, services: list[dict[str, object]], ips: bool, report: RepairReport
) -> dict[str, list[Owner]]:
    """Canonical value name -> the services holding it."""
    held: dict[str, list[Owner]] = {}
    for svc in services:
        owner = Owner.of(svc)
        spec = svc.get("spec")
        values = held_values(spec if isinstance(spec, dict) else {})[0 if ips else 1]
        for value in values:
            try:
                name = pool.space.name(pool.space.offset(value))
            except ValueError:  # NotInRange is one
                report.out_of_range.append(f"{owner.service}: {value}")
                continue
            owners = held.setdefault(name, [])
            if owner not in owners:
                owners.append(owner)
    return held


async def _repair_pool(
    pool: Pool,
    held: dict[str, list[Owner]],
    revision: int,
    now: float,
    leak_grace: float,
    report: RepairReport,
) -> None:
    store = pool.store
    existing = await store.range(pool.prefix, revision=revision)
    keys = {kv.key[len(pool.prefix) :]: kv for kv in existing.kvs}
    for name, owners in held.items():
        if len(owners) > 1:
            report.duplicates.append(f"{name}: {', '.join(o.service for o in owners)}")
        kv = keys.get(name)
        try:
            if kv is None:
                await store.create(pool.key(name), owners[0].record(now))
                report.registered.append(pool.key(name))
            elif not any(o.owns(kv.value) for o in owners):
                record = owners[0].record(now)
                await store.update(pool.key(name), record, expected_revision=kv.mod_revision)
                report.reowned.append(pool.key(name))
        except (st.AlreadyExists, st.Conflict, st.NotFound):
            continue  # changed since the snapshot: the next run looks again
    for name, kv in keys.items():
        if name in held:
            continue
        taken_at = (parse_record(kv.value) or {}).get("allocatedAt")
        if isinstance(taken_at, int | float) and now - taken_at < leak_grace:
            continue
        try:
            await store.delete(kv.key, expected_revision=kv.mod_revision)
        except (st.Conflict, st.NotFound):
            continue
        report.released.append(kv.key)


async def repair(allocator: ServiceAllocator, *, leak_grace: float = 60.0) -> RepairReport:
    """Reconcile ``allocator``'s keys with the stored services (see the module docstring)."""
    report = RepairReport()
    info = REGISTRY.get("", "v1", "services")
    assert info is not None
    try:
        result = await allocator.store.range(resource_prefix(info))
        services = [from_kv(kv) for kv in result.kvs]
        now = allocator.clock()
        for pool, ips in ((allocator.ips, True), (allocator.ports, False)):
            held = _held(pool, services, ips, report)
            await _repair_pool(pool, held, result.revision, now, leak_grace, report)
    except st.StoreError as e:
        raise errors.from_store_error(e) from None
    return report
