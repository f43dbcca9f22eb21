"""A pod's quality-of-service class and the canonical form of resource lists.

:func:`pod_qos_class` is upstream's ``ComputePodQOS`` over container resources (pod-level
resources are an alpha feature in 1.33 and not served): only cpu and memory count, init
containers count, ephemeral containers do not. :func:`canonical_resource_list` is what
upstream's decoding and ``SetDefaults_ResourceList`` do to every resource list: each
quantity printed in canonical form and rounded up to milli precision. Values that do not
parse are left alone for validation to report. Parsed and canonical quantities are cached
(:func:`parsed_quantity`): every write repeats the same few values.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from kybernetes.api._quantity import (
    ERR_FORMAT,
    Quantity,
    QuantityError,
    normalize_quantity,
    parse_quantity,
)

_QOS_RESOURCES = ("cpu", "memory")
_MILLI_IN_NANOS = 1_000_000


def parsed_quantity(raw: Any) -> Quantity | QuantityError:
    """``parse_quantity(raw)``, or the error it raises, cached: the same few quantities
    (``100m``, ``64Mi``) come back on every write, and parsing dominates their validation."""
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        return QuantityError(ERR_FORMAT)
    # The type is part of the key: 1, 1.0 and True hash alike but parse differently.
    return _parse_cached(type(raw).__name__, raw)


@functools.lru_cache(maxsize=4096)
def _parse_cached(_kind: str, raw: str | int | float) -> Quantity | QuantityError:
    try:
        return parse_quantity(raw)
    except QuantityError as exc:
        return exc


def _positive_sums(containers: list[Any], field: str) -> tuple[dict[str, Quantity], bool]:
    """Sum of the positive cpu/memory quantities of ``field`` (requests or limits), and
    whether every container set both a cpu and a memory value in it."""
    sums: dict[str, Quantity] = {}
    every_container_has_both = True
    for container in containers:
        resources = container.get("resources") if isinstance(container, dict) else None
        values = resources.get(field) if isinstance(resources, dict) else None
        found: set[str] = set()
        for name, raw in (values or {}).items() if isinstance(values, dict) else ():
            if name not in _QOS_RESOURCES:
                continue
            quantity = parsed_quantity(raw)
            if isinstance(quantity, QuantityError):
                continue
            if quantity.sign() > 0:
                found.add(name)
                sums[name] = sums[name] + quantity if name in sums else quantity
        if found != set(_QOS_RESOURCES):
            every_container_has_both = False
    return sums, every_container_has_both


def pod_qos_class(pod: Mapping[str, Any]) -> str:
    """``Guaranteed``, ``Burstable`` or ``BestEffort``."""
    spec = pod.get("spec") or {}
    containers = [
        c
        for key in ("containers", "initContainers")
        for c in (spec.get(key) or [])
        if isinstance(c, dict)
    ]
    requests, _ = _positive_sums(containers, "requests")
    limits, guaranteed = _positive_sums(containers, "limits")
    if not requests and not limits:
        return "BestEffort"
    if guaranteed:
        guaranteed = all(name in limits and limits[name] == q for name, q in requests.items())
    if guaranteed and len(requests) == len(limits):
        return "Guaranteed"
    return "Burstable"


def canonical_quantity(raw: Any) -> Any:
    """``raw`` in upstream's stored form, or unchanged when it is not a quantity."""
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        return raw
    return _canonical_cached(type(raw).__name__, raw)


@functools.lru_cache(maxsize=4096)
def _canonical_cached(_kind: str, raw: str | int | float) -> Any:
    try:
        quantity = parse_quantity(normalize_quantity(raw))
    except QuantityError:
        return raw
    nanos = quantity.nanos
    if nanos % _MILLI_IN_NANOS:
        # Rounded away from zero, to whole milli-units.
        step = -(-abs(nanos) // _MILLI_IN_NANOS) * _MILLI_IN_NANOS
        quantity = Quantity(step if nanos > 0 else -step, quantity.format)
    return str(quantity)


def canonical_resource_list(values: Any) -> None:
    """Rewrite every quantity of a resource list (a dict the caller owns) in place."""
    if isinstance(values, dict):
        for name, raw in values.items():
            values[name] = canonical_quantity(raw)
