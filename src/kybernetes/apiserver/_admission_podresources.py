"""Resource lists and what a whole pod requests: the arithmetic LimitRanger and quota share.

A resource list is a ``{name: Quantity}`` dict built with :func:`resource_list` from the JSON
form (values that do not parse are skipped: validation reports them); :func:`add`,
:func:`maximum`, :func:`mask` and :func:`subtract_floor_zero` combine them. :func:`pod_requests`
and :func:`pod_limits` follow upstream's ``PodRequests`` / ``PodLimits`` (component-helpers):

* regular containers add up;
* a sidecar (an init container with ``restartPolicy: Always``) runs beside the regular
  containers, so it is added to them, and every init container after it runs beside it too;
* the pod needs at least the largest init step (an ordinary init container plus the
  sidecars started before it), so the result is the per-resource maximum of the two;
* ``spec.overhead`` is added: to every request, and to limits already present.

Pod-level ``spec.resources`` (alpha in 1.33) are not considered. Nothing here mutates its
input.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from kybernetes.api import Quantity, QuantityError, parse_quantity

ResourceList = dict[str, Quantity]

#: Upstream compares in milli-units unless a value would overflow int64 doing so.
MAX_MILLI_VALUE = (2**63 - 1) // 1000


def resource_list(raw: Any) -> ResourceList:
    """The quantities of a JSON resource list; unparseable entries are skipped."""
    out: ResourceList = {}
    if not isinstance(raw, Mapping):
        return out
    for name, value in raw.items():
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            continue
        try:
            out[str(name)] = parse_quantity(value)
        except QuantityError:
            continue
    return out


def add(a: Mapping[str, Quantity], b: Mapping[str, Quantity]) -> ResourceList:
    """Per-resource sum (a resource in one list only is kept as is)."""
    out = dict(a)
    for name, value in b.items():
        out[name] = out[name] + value if name in out else value
    return out


def maximum(a: Mapping[str, Quantity], b: Mapping[str, Quantity]) -> ResourceList:
    """Per-resource maximum."""
    out = dict(a)
    for name, value in b.items():
        if name not in out or value > out[name]:
            out[name] = value
    return out


def mask(values: Mapping[str, Quantity], names: Iterable[str]) -> ResourceList:
    keep = set(names)
    return {k: v for k, v in values.items() if k in keep}


def subtract_floor_zero(a: Mapping[str, Quantity], b: Mapping[str, Quantity]) -> ResourceList:
    """``a - b`` per resource, never below zero."""
    out = dict(a)
    for name, value in b.items():
        left = out.get(name, Quantity(0)) - value
        out[name] = left if left.sign() > 0 else Quantity(0, left.format)
    return out


def _containers(pod: Mapping[str, Any], key: str) -> Iterable[Mapping[str, Any]]:
    items = (pod.get("spec") or {}).get(key)
    return [c for c in items if isinstance(c, Mapping)] if isinstance(items, list) else []


def container_resources(container: Mapping[str, Any], field: str) -> ResourceList:
    """``resources.requests`` or ``resources.limits`` of one container."""
    resources = container.get("resources")
    return resource_list(resources.get(field) if isinstance(resources, Mapping) else None)


def _is_sidecar(container: Mapping[str, Any]) -> bool:
    return container.get("restartPolicy") == "Always"


def _aggregate(pod: Mapping[str, Any], field: str) -> ResourceList:
    total: ResourceList = {}
    for container in _containers(pod, "containers"):
        total = add(total, container_resources(container, field))
    sidecars: ResourceList = {}
    init_peak: ResourceList = {}
    for container in _containers(pod, "initContainers"):
        own = container_resources(container, field)
        if _is_sidecar(container):
            total = add(total, own)
            sidecars = add(sidecars, own)
            step = sidecars
        else:
            step = add(own, sidecars)
        init_peak = maximum(init_peak, step)
    return maximum(total, init_peak)


def pod_requests(pod: Mapping[str, Any]) -> ResourceList:
    """What the pod as a whole requests (see the module docstring)."""
    requests = _aggregate(pod, "requests")
    overhead = resource_list((pod.get("spec") or {}).get("overhead"))
    return add(requests, overhead)


def pod_limits(pod: Mapping[str, Any]) -> ResourceList:
    """The pod's effective limits; overhead only raises limits that are set."""
    limits = _aggregate(pod, "limits")
    overhead = resource_list((pod.get("spec") or {}).get("overhead"))
    return {
        name: value + overhead[name] if name in overhead else value
        for name, value in limits.items()
    }


def compare_values(*quantities: Quantity) -> tuple[int, ...]:
    """Upstream's ``requestLimitEnforcedValues``: integer values to compare, in milli-units
    when none would overflow int64 that way, else in whole units (rounded up)."""
    if all(q.value() <= MAX_MILLI_VALUE for q in quantities):
        return tuple(q.milli_value() for q in quantities)
    return tuple(q.value() for q in quantities)
