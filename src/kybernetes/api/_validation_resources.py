"""Validation of resource names and resource lists (container requests and limits, claims,
quotas), as upstream's ``ValidateResourceRequirements`` and friends.

Resources whose name has no ``/`` or lives under ``kubernetes.io/`` are native; the rest
are extended resources, which must be whole numbers and cannot be overcommitted (a request
must equal its limit). Hugepages cannot be overcommitted either.
"""

from __future__ import annotations

from typing import Any, Final

from kybernetes.api._errors import forbidden, invalid, required
from kybernetes.api._names import is_qualified_name
from kybernetes.api._quantity import Quantity
from kybernetes.api._validation_common import Errs, as_dict, nonnegative_quantity

_STANDARD_CONTAINER_RESOURCES: Final = frozenset({"cpu", "memory", "ephemeral-storage"})
#: Quota-able resource names that need no domain prefix (upstream's standard resources).
STANDARD_RESOURCES: Final = frozenset(
    {
        "cpu",
        "memory",
        "ephemeral-storage",
        "requests.cpu",
        "requests.memory",
        "requests.ephemeral-storage",
        "limits.cpu",
        "limits.memory",
        "limits.ephemeral-storage",
        "pods",
        "services",
        "replicationcontrollers",
        "resourcequotas",
        "secrets",
        "configmaps",
        "persistentvolumeclaims",
        "requests.storage",
        "services.nodeports",
        "services.loadbalancers",
        "storage",
    }
)
_INTEGER_STANDARD: Final = frozenset(
    {
        "pods",
        "services",
        "replicationcontrollers",
        "resourcequotas",
        "secrets",
        "configmaps",
        "persistentvolumeclaims",
        "services.nodeports",
        "services.loadbalancers",
    }
)
_HUGEPAGES: Final = "hugepages-"


def is_native(name: str) -> bool:
    return "/" not in name or "kubernetes.io/" in name


def is_hugepages(name: str) -> bool:
    return name.startswith(_HUGEPAGES)


def is_extended(name: str) -> bool:
    if is_native(name) or name.startswith("requests."):
        return False
    return not is_qualified_name(f"requests.{name}")


def overcommit_allowed(name: str) -> bool:
    return is_native(name) and not is_hugepages(name)


def is_integer_resource(name: str) -> bool:
    return is_extended(name) or name in _INTEGER_STANDARD


def validate_resource_name(name: str, field: str) -> Errs:
    errs = [invalid(field, name, msg) for msg in is_qualified_name(name)]
    if "/" not in name and name not in STANDARD_RESOURCES and not is_hugepages(name):
        errs.append(invalid(field, name, "must be a standard resource type or fully qualified"))
    return errs


def _container_resource_name(name: str, field: str) -> Errs:
    errs = [invalid(field, name, msg) for msg in is_qualified_name(name)]
    if "/" not in name:
        if name not in _STANDARD_CONTAINER_RESOURCES and not is_hugepages(name):
            errs.append(invalid(field, name, "must be a standard resource for containers"))
    elif not is_native(name) and not is_extended(name):
        errs.append(invalid(field, name, "doesn't follow extended resource name standard"))
    return errs


def resource_quantity(name: str, value: Any, field: str) -> tuple[Quantity | None, Errs]:
    """Upstream's ``ValidateResourceQuantityValue``: non-negative, whole when it must be."""
    parsed, errs = nonnegative_quantity(value, field)
    if parsed is not None and is_integer_resource(name) and parsed.milli_value() % 1000:
        errs.append(invalid(field, str(parsed), "must be an integer"))
    return parsed, errs


def validate_resource_requirements(resources: Any, field: str) -> Errs:
    """A container's ``resources``: names, quantities, and every request within its limit."""
    resources = as_dict(resources)
    limits_path, requests_path = f"{field}.limits", f"{field}.requests"
    errs: Errs = []
    limits: dict[str, Quantity | None] = {}
    cpu_or_memory = hugepages = False
    for name, value in as_dict(resources.get("limits")).items():
        path = f"{limits_path}[{name}]"
        errs.extend(_container_resource_name(name, path))
        limits[name], found = resource_quantity(name, value, path)
        errs.extend(found)
        cpu_or_memory |= name in ("cpu", "memory")
        hugepages |= is_hugepages(name)
    for name, value in as_dict(resources.get("requests")).items():
        path = f"{requests_path}[{name}]"
        errs.extend(_container_resource_name(name, path))
        request, found = resource_quantity(name, value, path)
        errs.extend(found)
        cpu_or_memory |= name in ("cpu", "memory")
        hugepages |= is_hugepages(name)
        if name in limits:
            limit = limits[name]
            if request is None or limit is None:
                continue
            if request != limit and not overcommit_allowed(name):
                detail = f"must be equal to {name} limit of {limit}"
                errs.append(invalid(requests_path, str(request), detail))
            elif request > limit:
                detail = f"must be less than or equal to {name} limit of {limit}"
                errs.append(invalid(requests_path, str(request), detail))
        elif not overcommit_allowed(name):
            detail = "Limit must be set for non overcommitable resources"
            errs.append(required(limits_path, detail))
    if hugepages and not cpu_or_memory:
        errs.append(forbidden(field, "HugePages require cpu or memory"))
    return errs
