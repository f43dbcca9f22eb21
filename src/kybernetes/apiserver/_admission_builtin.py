"""The built-in admission plugins, assembled in upstream's order from the seams they need.

:func:`builtin_admission` builds every plugin of this package but NamespaceLifecycle (the
core's) from three seams the API server implements, and returns them ready to chain:

* mutating, in upstream's order: LimitRanger, ServiceAccount, DefaultTolerationSeconds;
* validating, in upstream's order, to run after NamespaceLifecycle: LimitRanger,
  ServiceAccount, ResourceQuota (always last: it charges quota, so every other check must
  already have passed).

The plugins are also returned by name, for the calls outside admission: ``quota.uncharge``
and ``quota.recalculate``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from kybernetes.api import REGISTRY, Registry
from kybernetes.apiserver._admission import Admission
from kybernetes.apiserver._admission_limitranger import LimitRangeLister, LimitRanger
from kybernetes.apiserver._admission_mutating import MutatingChain
from kybernetes.apiserver._admission_quota import ResourceQuotaAdmission
from kybernetes.apiserver._admission_quota_store import QuotaAccess
from kybernetes.apiserver._admission_serviceaccount import (
    ServiceAccountAdmission,
    ServiceAccountGetter,
)
from kybernetes.apiserver._admission_tolerations import DefaultTolerationSeconds


@dataclass(frozen=True, slots=True)
class BuiltinAdmission:
    mutating: MutatingChain
    validating: tuple[Admission, ...]
    limit_ranger: LimitRanger
    service_accounts: ServiceAccountAdmission
    quota: ResourceQuotaAdmission


def builtin_admission(
    *,
    get_service_account: ServiceAccountGetter,
    list_limit_ranges: LimitRangeLister,
    quota_access: QuotaAccess,
    registry: Registry = REGISTRY,
    clock: Callable[[], float] = time.time,
) -> BuiltinAdmission:
    limit_ranger = LimitRanger(list_limit_ranges)
    service_accounts = ServiceAccountAdmission(get_service_account)
    quota = ResourceQuotaAdmission(quota_access, registry=registry, clock=clock)
    return BuiltinAdmission(
        mutating=MutatingChain([limit_ranger, service_accounts, DefaultTolerationSeconds()]),
        validating=(limit_ranger, service_accounts, quota),
        limit_ranger=limit_ranger,
        service_accounts=service_accounts,
        quota=quota,
    )
