"""Resource arithmetic in plain integers: what a pod requests and what a node offers.

Promises, as upstream's ``framework.Resource`` and ``resourcehelper.PodRequests``:

* CPU is counted in milli-cores, every other resource in whole units (bytes, counts), each
  rounded up; quantities are summed exactly (in nano-units) before rounding.
* :func:`pod_requests`: regular containers add up; a sidecar (init container with
  ``restartPolicy: Always``) runs beside them and beside every later init container; the
  pod needs the larger of that sum and its biggest init step; ``spec.overhead`` is added.
* :func:`pod_non_zero_requests` is the same for cpu and memory with upstream's defaults
  (100m, 200Mi) for a container that sets no request: what scoring spreads by, so pods
  without requests do not all pile onto one node.
* Scalar resources are extended resources (``example.com/gpu``), ``hugepages-*`` and
  ``attachable-volumes-*``; other names are ignored.
* Unparseable quantities count as zero (the API server rejects them before they get here).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from typing import Any, Final

from kybernetes.api import QuantityError, parse_quantity

CPU: Final = "cpu"
MEMORY: Final = "memory"
EPHEMERAL_STORAGE: Final = "ephemeral-storage"
PODS: Final = "pods"

#: Upstream's defaults for containers that request nothing (used only for scoring).
DEFAULT_MILLI_CPU_REQUEST: Final = 100
DEFAULT_MEMORY_REQUEST: Final = 200 * 1024 * 1024

_NANO: Final = 10**9
_MILLI_IN_NANO: Final = 10**6


@functools.lru_cache(maxsize=8192)
def _nanos_cached(kind: str, raw: str | int | float) -> int:
    try:
        return parse_quantity(raw).nanos
    except QuantityError:
        return 0


def quantity_nanos(raw: Any) -> int:
    """The exact value of a JSON quantity in nano-units (0 when it is not one)."""
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        return 0
    return _nanos_cached(type(raw).__name__, raw)


def to_units(name: str, nanos: int) -> int:
    """Milli-cores for cpu, whole units for the rest; rounded up, away from zero."""
    d = _MILLI_IN_NANO if name == CPU else _NANO
    magnitude = -(-abs(nanos) // d)
    return magnitude if nanos >= 0 else -magnitude


def is_scalar_resource(name: str) -> bool:
    return "/" in name or name.startswith(("hugepages-", "attachable-volumes-"))


def resource_units(raw: Any) -> dict[str, int]:
    """A JSON resource list as ``{name: units}`` (cpu in milli-cores)."""
    if not isinstance(raw, Mapping):
        return {}
    return {str(name): to_units(str(name), quantity_nanos(value)) for name, value in raw.items()}


def _container_nanos(container: Mapping[str, Any]) -> dict[str, int]:
    resources = container.get("resources")
    requests = resources.get("requests") if isinstance(resources, Mapping) else None
    if not isinstance(requests, Mapping):
        return {}
    return {str(k): quantity_nanos(v) for k, v in requests.items()}


def _add(into: dict[str, int], values: Mapping[str, int]) -> None:
    for name, value in values.items():
        into[name] = into.get(name, 0) + value


def _max(into: dict[str, int], values: Mapping[str, int]) -> None:
    for name, value in values.items():
        if name not in into or value > into[name]:
            into[name] = value


def _containers(spec: Mapping[str, Any], key: str) -> Iterable[Mapping[str, Any]]:
    items = spec.get(key)
    if not isinstance(items, list):
        return ()
    return [c for c in items if isinstance(c, Mapping)]


def _aggregate(spec: Mapping[str, Any], defaults: Mapping[str, int] | None) -> dict[str, int]:
    def requests_of(container: Mapping[str, Any]) -> dict[str, int]:
        own = _container_nanos(container)
        if defaults:
            for name, value in defaults.items():
                own.setdefault(name, value)
        return own

    total: dict[str, int] = {}
    for container in _containers(spec, "containers"):
        _add(total, requests_of(container))
    sidecars: dict[str, int] = {}
    init_peak: dict[str, int] = {}
    for container in _containers(spec, "initContainers"):
        own = requests_of(container)
        if container.get("restartPolicy") == "Always":
            _add(total, own)
            _add(sidecars, own)
            step = dict(sidecars)
        else:
            step = dict(own)
            _add(step, sidecars)
        _max(init_peak, step)
    _max(total, init_peak)
    overhead = spec.get("overhead")
    if isinstance(overhead, Mapping):
        _add(total, {str(k): quantity_nanos(v) for k, v in overhead.items()})
    return total


def pod_requests(pod: Mapping[str, Any]) -> dict[str, int]:
    """What the whole pod requests, ``{name: units}`` (see the module docstring)."""
    spec = pod.get("spec") or {}
    return {name: to_units(name, nanos) for name, nanos in _aggregate(spec, None).items()}


_NON_ZERO_DEFAULTS: Final = {
    CPU: DEFAULT_MILLI_CPU_REQUEST * _MILLI_IN_NANO,
    MEMORY: DEFAULT_MEMORY_REQUEST * _NANO,
}


def pod_non_zero_requests(pod: Mapping[str, Any]) -> tuple[int, int]:
    """(milli-cpu, memory) with the defaults for containers that request none."""
    spec = pod.get("spec") or {}
    total = _aggregate(spec, _NON_ZERO_DEFAULTS)
    return to_units(CPU, total.get(CPU, 0)), to_units(MEMORY, total.get(MEMORY, 0))
