"""The ResourceQuota admission plugin: writes that would exceed a namespace's quotas fail.

:class:`ResourceQuotaAdmission` is upstream's validating plugin of the same name. For a
create (or an update of pods, services and claims) of a namespaced resource, outside
subresources, it finds the namespace's quotas that apply (:mod:`._admission_quota_usage`,
:mod:`._admission_quota_evaluators`), refuses pods that do not state a constrained
resource (``failed quota: q: must specify limits.cpu for: c``), and charges the request to
each quota's ``status.used``, refusing with 403 ``exceeded quota: q, requested: pods=1,
used: pods=2, limited: pods=2`` when it does not fit.

Theory of operation:

* ``status.used`` is the ledger. Charging is a compare-and-swap of each quota's status
  (:meth:`~._admission_quota_store.QuotaAccess.update_quota_status`); on a conflict the
  quotas are re-read and the request checked again, so concurrent requests, on one API
  server or several, never overshoot a quota. Requests for one namespace are also
  serialized within this process, so they rarely conflict at all.
* A quota whose status is not current (new, or ``spec.hard`` changed) first gets its usage
  computed by listing the namespace's objects, then the request is charged on top, in the
  same swap.
* A quota already charged for this request is never charged twice across retries; if the
  request is refused after some quotas were charged, those charges are refunded.
* Nothing is charged on dry runs.
* Admission only adds. What gives usage back is :meth:`ResourceQuotaAdmission.uncharge`
  (the write after a successful ``admit`` did not happen) and
  :meth:`ResourceQuotaAdmission.recalculate` (recount from the stored objects: after
  deletions, pods finishing, quota changes). Until the quota controller exists, the API
  server calls them (see the wiring note in the report). A recount that runs while a
  charged create is still on its way to the store can briefly under-count, as upstream's
  controller can.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from kybernetes.api import REGISTRY, Quantity, Registry, ResourceInfo
from kybernetes.apiserver import _errors as errors
from kybernetes.apiserver._admission import CREATE, UPDATE, Attributes
from kybernetes.apiserver._admission_podresources import ResourceList, mask, subtract_floor_zero
from kybernetes.apiserver._admission_quota_evaluators import Evaluator, evaluator_for
from kybernetes.apiserver._admission_quota_store import QuotaAccess, QuotaConflict
from kybernetes.apiserver._admission_quota_usage import (
    QuotaRejected,
    check_quotas,
    has_usage_stats,
    matching_resources_of,
    quota_hard,
    quota_used,
    request_delta,
    usage_of,
)

Obj = dict[str, Any]

_ATTEMPTS = 100


def _name(quota: Mapping[str, Any]) -> str:
    return str((quota.get("metadata") or {}).get("name") or "")


def with_status(quota: Obj, used: ResourceList) -> Obj:
    """A copy of ``quota`` whose status records its spec's hard limits and ``used``."""
    hard = (quota.get("spec") or {}).get("hard") or {}
    status = dict(quota.get("status") or {})
    status["hard"] = {k: hard[k] for k in sorted(hard)}
    status["used"] = {k: str(used[k]) for k in sorted(used)}
    return {**quota, "status": status}


class ResourceQuotaAdmission:
    """Upstream's ResourceQuota plugin (see the module docstring); validating only."""

    def __init__(
        self,
        access: QuotaAccess,
        *,
        registry: Registry = REGISTRY,
        clock: Callable[[], float] = time.time,
        attempts: int = _ATTEMPTS,
    ) -> None:
        self._access = access
        self._registry = registry
        self._clock = clock
        self._attempts = attempts
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    def _lock(self, namespace: str) -> asyncio.Lock:
        lock = self._locks.get(namespace)
        if lock is None:
            lock = self._locks[namespace] = asyncio.Lock()
        return lock

    @staticmethod
    def _evaluator(attrs: Attributes) -> Evaluator | None:
        if attrs.subresource or not attrs.namespace or attrs.obj is None:
            return None
        if attrs.operation not in (CREATE, UPDATE):
            return None
        evaluator = evaluator_for(attrs.info)
        if evaluator is None or not evaluator.handles(attrs.operation):
            return None
        return evaluator

    # -- admission ---------------------------------------------------------------------------

    async def admit(self, attrs: Attributes) -> None:
        evaluator = self._evaluator(attrs)
        if evaluator is None:
            return
        charged: dict[str, ResourceList] = {}
        async with self._lock(attrs.namespace):
            try:
                for _ in range(self._attempts):
                    if await self._attempt(attrs, evaluator, charged):
                        return
                raise errors.internal_error("resource quota evaluation timed out")
            except BaseException:
                if charged:
                    await self._refund(attrs.namespace, charged)
                raise

    def _refuse(self, attrs: Attributes, why: str) -> errors.APIError:
        return errors.forbidden(attrs.info, attrs.name, why)

    async def _attempt(
        self, attrs: Attributes, evaluator: Evaluator, charged: dict[str, ResourceList]
    ) -> bool:
        """One read-check-swap round; False when a swap lost a race (try again)."""
        obj = attrs.obj
        assert obj is not None
        applicable: list[tuple[Obj, list[str]]] = []
        for quota in await self._access.list_quotas(attrs.namespace):
            restricted = matching_resources_of(quota, evaluator, obj)
            if restricted is None:
                continue
            problem = evaluator.constraints(restricted, obj)
            if problem:
                raise self._refuse(attrs, f"failed quota: {_name(quota)}: {problem}")
            applicable.append((quota, restricted))
        if not applicable:
            return True
        try:
            delta = request_delta(evaluator, attrs.operation, obj, attrs.old, self._clock())
        except QuotaRejected as e:
            raise self._refuse(attrs, str(e)) from None
        if not delta:
            return True
        pending: list[Obj] = []
        refreshed: set[str] = set()
        for quota, restricted in applicable:
            if _name(quota) in charged:
                continue
            if not has_usage_stats(quota, restricted):
                quota = with_status(quota, await self._current_usage(quota, attrs.namespace))
                refreshed.add(_name(quota))
            pending.append(quota)
        try:
            charges = check_quotas(pending, delta)
        except QuotaRejected as e:
            raise self._refuse(attrs, str(e)) from None
        if attrs.dry_run:
            return True
        done = True
        for charge in charges:
            if not charge.requested and charge.name not in refreshed:
                continue
            try:
                await self._access.update_quota_status(with_status(dict(charge.quota), charge.used))
            except QuotaConflict:
                done = False
                continue
            if charge.requested:
                charged[charge.name] = charge.requested
        return done

    # -- giving usage back -------------------------------------------------------------------

    async def uncharge(self, attrs: Attributes) -> None:
        """Give back what :meth:`admit` charged for ``attrs`` when the write it admitted did
        not happen (the store refused it, or a retry will admit it again)."""
        evaluator = self._evaluator(attrs)
        if evaluator is None or attrs.dry_run:
            return
        obj = attrs.obj
        assert obj is not None
        try:
            delta = request_delta(evaluator, attrs.operation, obj, attrs.old, self._clock())
        except QuotaRejected:
            return
        if not delta:
            return
        async with self._lock(attrs.namespace):
            amounts: dict[str, ResourceList] = {}
            for quota in await self._access.list_quotas(attrs.namespace):
                if matching_resources_of(quota, evaluator, obj) is not None:
                    amount = mask(delta, quota_hard(quota))
                    if amount:
                        amounts[_name(quota)] = amount
            await self._refund(attrs.namespace, amounts)

    async def _refund(self, namespace: str, amounts: Mapping[str, ResourceList]) -> None:
        remaining = dict(amounts)
        for _ in range(self._attempts):
            if not remaining:
                return
            quotas = {_name(q): q for q in await self._access.list_quotas(namespace)}
            # A quota that vanished needs no refund.
            remaining = {k: v for k, v in remaining.items() if k in quotas}
            for name, amount in list(remaining.items()):
                quota = quotas[name]
                used = subtract_floor_zero(quota_used(quota), amount)
                try:
                    await self._access.update_quota_status(with_status(quota, used))
                except QuotaConflict:
                    continue
                del remaining[name]

    async def recalculate(self, namespace: str) -> None:
        """Recount every quota of ``namespace`` from the stored objects and record it."""
        async with self._lock(namespace):
            for _ in range(self._attempts):
                stale = False
                for quota in await self._access.list_quotas(namespace):
                    used = await self._current_usage(quota, namespace)
                    if has_usage_stats(quota, quota_hard(quota)) and quota_used(quota) == used:
                        continue
                    try:
                        await self._access.update_quota_status(with_status(quota, used))
                    except QuotaConflict:
                        stale = True
                if not stale:
                    return

    # -- usage -------------------------------------------------------------------------------

    def _evaluators(self, names: list[str]) -> Iterator[tuple[ResourceInfo, Evaluator]]:
        """One evaluator per resource (whatever its versions) counting any of ``names``."""
        seen: set[tuple[str, str]] = set()
        for info in self._registry:
            key = (info.group, info.plural)
            if key in seen:
                continue
            evaluator = evaluator_for(info)
            if evaluator is not None and evaluator.matching_resources(names):
                seen.add(key)
                yield info, evaluator

    async def _current_usage(self, quota: Obj, namespace: str) -> ResourceList:
        """What the namespace's stored objects use of each of the quota's resources."""
        names = list(quota_hard(quota))
        used: ResourceList = {name: Quantity(0) for name in names}
        now = self._clock()
        for info, evaluator in self._evaluators(names):
            objects = await self._access.list_objects(info, namespace)
            used.update(usage_of(quota, evaluator, objects, now))
        return used
