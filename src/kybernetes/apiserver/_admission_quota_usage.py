"""The ResourceQuota admission decision, as pure code: which quotas apply, what a request
adds, whether it fits.

:func:`matching_resources_of` tells whether a quota applies to an object (it limits a
resource the object's evaluator counts, and the object is in the quota's scopes);
:func:`request_delta` is what a write adds to usage; :func:`check_quotas` charges it to each
applicable quota or raises :class:`QuotaRejected` with upstream's message (``exceeded
quota: q, requested: pods=1, used: pods=2, limited: pods=2``); :func:`usage_of` recounts a
quota's usage from stored objects. A quota's limits are its ``spec.hard``: the API server
keeps ``status.hard`` equal to it (there is no quota controller yet to copy it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kybernetes.api import Quantity
from kybernetes.apiserver._admission_podresources import (
    ResourceList,
    add,
    mask,
    resource_list,
    subtract_floor_zero,
)
from kybernetes.apiserver._admission_quota_evaluators import Evaluator

Obj = dict[str, Any]


class QuotaRejected(Exception):
    """The request does not fit; the message is upstream's (without the "is forbidden")."""


def pretty(values: Mapping[str, Quantity]) -> str:
    """``a=1,b=2`` sorted by name, as upstream prints resource lists in quota errors."""
    return ",".join(f"{name}={values[name]}" for name in sorted(values))


# -- quotas -----------------------------------------------------------------------------------


def quota_hard(quota: Mapping[str, Any]) -> ResourceList:
    """The limits a quota sets (``spec.hard``; the API server keeps ``status.hard`` equal)."""
    return resource_list((quota.get("spec") or {}).get("hard"))


def quota_used(quota: Mapping[str, Any]) -> ResourceList:
    return resource_list((quota.get("status") or {}).get("used"))


def has_usage_stats(quota: Mapping[str, Any], names: Iterable[str]) -> bool:
    """Whether the quota's status is current for ``names`` (its recorded hard limits are
    the spec's and each name has a used value)."""
    status = quota.get("status") or {}
    if resource_list(status.get("hard")) != quota_hard(quota):
        return False
    used = quota_used(quota)
    return all(name in used for name in names)


def scope_selectors(quota: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    spec = quota.get("spec") or {}
    selectors: list[Mapping[str, Any]] = [
        {"scopeName": scope, "operator": "Exists"}
        for scope in spec.get("scopes") or []
        if isinstance(scope, str)
    ]
    expressions = (spec.get("scopeSelector") or {}).get("matchExpressions") or []
    selectors += [e for e in expressions if isinstance(e, Mapping)]
    return selectors


def matches_scopes(quota: Mapping[str, Any], evaluator: Evaluator, obj: Mapping[str, Any]) -> bool:
    return all(evaluator.matches_scope(s, obj) for s in scope_selectors(quota))


def matching_resources_of(
    quota: Mapping[str, Any], evaluator: Evaluator, obj: Mapping[str, Any]
) -> list[str] | None:
    """The resources of ``quota`` that ``obj`` is charged to, or None when the quota does
    not apply to it (no resource it counts, or out of its scopes)."""
    restricted = evaluator.matching_resources(quota_hard(quota))
    if not restricted or not matches_scopes(quota, evaluator, obj):
        return None
    return restricted


def request_delta(
    evaluator: Evaluator,
    operation: str,
    obj: Mapping[str, Any],
    old: Mapping[str, Any] | None,
    now: float,
) -> ResourceList:
    """What a write adds to usage: the object's usage, less the old object's on an update
    (never negative), zero entries dropped."""
    delta = evaluator.usage(obj, now)
    negative = sorted(name for name, q in delta.items() if q.sign() < 0)
    if negative:
        raise QuotaRejected(f"quota usage is negative for resource(s): {','.join(negative)}")
    if operation == "UPDATE" and old is not None:
        delta = subtract_floor_zero(delta, evaluator.usage(old, now))
    return {name: q for name, q in delta.items() if not q.is_zero()}


@dataclass(frozen=True, slots=True)
class QuotaCharge:
    """One quota's part of an admitted request."""

    quota: Mapping[str, Any]
    #: The quota's usage after the request.
    used: ResourceList
    #: What the request adds to it (may be empty: then the quota needs no write).
    requested: ResourceList

    @property
    def name(self) -> str:
        return str((self.quota.get("metadata") or {}).get("name") or "")


def check_quotas(quotas: Sequence[Mapping[str, Any]], delta: ResourceList) -> list[QuotaCharge]:
    """Charge ``delta`` to each quota (whose status must be current); QuotaRejected on the
    first one it would exceed."""
    charges: list[QuotaCharge] = []
    for quota in quotas:
        hard = quota_hard(quota)
        used = quota_used(quota)
        requested = mask(delta, hard)
        new_used = add(used, requested)
        exceeded = [n for n in requested if new_used[n] > hard[n]]
        if exceeded:
            name = (quota.get("metadata") or {}).get("name") or ""
            raise QuotaRejected(
                f"exceeded quota: {name}, requested: {pretty(mask(requested, exceeded))}, "
                f"used: {pretty(mask(used, exceeded))}, limited: {pretty(mask(hard, exceeded))}"
            )
        charges.append(QuotaCharge(quota, new_used, requested))
    return charges


def usage_of(
    quota: Mapping[str, Any],
    evaluator: Evaluator,
    objects: Iterable[Mapping[str, Any]],
    now: float,
) -> ResourceList:
    """What the objects of one resource use of ``quota``'s resources (zero entries kept for
    every resource the evaluator counts), honouring the quota's scopes."""
    names = evaluator.matching_resources(quota_hard(quota))
    total: ResourceList = {name: Quantity(0) for name in names}
    for obj in objects:
        if matches_scopes(quota, evaluator, obj):
            total = add(total, mask(evaluator.usage(obj, now), names))
    return total
