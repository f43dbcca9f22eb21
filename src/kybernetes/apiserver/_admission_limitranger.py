"""The LimitRanger admission plugin: LimitRange defaults and bounds for pods and claims.

:class:`LimitRanger` is upstream's plugin of the same name, both phases:

* mutate (pod creates): every container and init container gets, for each resource it
  leaves unset, the ``default`` limit and ``defaultRequest`` of each ``Container``-type item
  of the namespace's LimitRanges; what was filled in is recorded in the annotation
  ``kubernetes.io/limit-ranger`` (``LimitRanger plugin set: cpu request for container c``).
* validate (pod creates; claim creates and updates): ``Container`` items bound each
  container (``min``, ``max``, ``maxLimitRequestRatio``), ``Pod`` items bound the pod's
  total (:func:`~._admission_podresources.pod_requests` / ``pod_limits``),
  ``PersistentVolumeClaim`` items bound a claim's requested storage. Every violation is
  reported, with upstream's wording (``maximum cpu usage per Container is 2, but limit
  is 4``), in one 403 Forbidden.

Pod updates are not checked (containers' resources are immutable), nor objects being
deleted. The pure functions (:func:`default_pod_resources`, :func:`pod_violations`,
:func:`claim_violations`) take LimitRange objects as stored (already defaulted, so a
``Container`` item's ``defaultRequest`` covers its ``default`` and ``min``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from kybernetes.api import Quantity
from kybernetes.api._jsonvalue import deep_copy
from kybernetes.apiserver import _errors as errors
from kybernetes.apiserver._admission import CREATE, UPDATE, Attributes
from kybernetes.apiserver._admission_mutating import is_pod_create, is_resource
from kybernetes.apiserver._admission_podresources import (
    MAX_MILLI_VALUE,
    ResourceList,
    compare_values,
    container_resources,
    pod_limits,
    pod_requests,
    resource_list,
)

Obj = dict[str, Any]

LIMIT_RANGER_ANNOTATION = "kubernetes.io/limit-ranger"
CONTAINER, POD, CLAIM = "Container", "Pod", "PersistentVolumeClaim"

#: The LimitRange objects of a namespace (the watch cache's, or the store's).
LimitRangeLister = Callable[[str], Awaitable[Sequence[Obj]]]

_ZERO = Quantity(0)


def _items(limit_range: Mapping[str, Any], kind: str) -> list[Mapping[str, Any]]:
    limits = (limit_range.get("spec") or {}).get("limits")
    if not isinstance(limits, list):
        return []
    return [i for i in limits if isinstance(i, Mapping) and i.get("type") == kind]


# -- defaults ---------------------------------------------------------------------------------


def _container_defaults(limit_range: Mapping[str, Any]) -> tuple[Obj, Obj]:
    """(default requests, default limits) of a LimitRange's Container items, raw values."""
    requests: Obj = {}
    limits: Obj = {}
    for item in _items(limit_range, CONTAINER):
        for source, target in (("defaultRequest", requests), ("default", limits)):
            values = item.get(source)
            if isinstance(values, Mapping):
                target.update(values)
    return requests, limits


def _merge_container(container: Obj, requests: Obj, limits: Obj, label: str) -> list[str]:
    """Fill the container's (a dict we own) unset requests and limits; notes what was set."""
    resources = container.get("resources")
    resources = dict(resources) if isinstance(resources, dict) else {}
    notes: list[str] = []
    # Requests are noted before limits, as upstream words it.
    for field, defaults, what in (("requests", requests, "request"), ("limits", limits, "limit")):
        current = resources.get(field)
        current = dict(current) if isinstance(current, dict) else {}
        added = sorted(name for name in defaults if name not in current)
        for name in added:
            current[name] = defaults[name]
        if current:
            resources[field] = current
        if added:
            notes.append(f"{', '.join(added)} {what} for {label} {container.get('name') or ''}")
    if resources:
        container["resources"] = resources
    return notes


def default_pod_resources(pod: Obj, limit_range: Mapping[str, Any]) -> Obj:
    """A copy of ``pod`` with one LimitRange's container defaults applied (or ``pod`` itself
    when there is nothing to fill in)."""
    requests, limits = _container_defaults(limit_range)
    if not requests and not limits:
        return pod
    out: Obj = deep_copy(pod)
    spec = out.get("spec")
    if not isinstance(spec, dict):
        return pod
    notes: list[str] = []
    for key, label in (("containers", "container"), ("initContainers", "init container")):
        for container in spec.get(key) or []:
            if isinstance(container, dict):
                notes += _merge_container(container, requests, limits, label)
    if not notes:
        return pod
    meta = out.setdefault("metadata", {})
    annotations = dict(meta.get("annotations") or {})
    annotations[LIMIT_RANGER_ANNOTATION] = "LimitRanger plugin set: " + "; ".join(notes)
    meta["annotations"] = annotations
    return out


# -- bounds -----------------------------------------------------------------------------------


def min_violation(
    kind: str, name: str, enforced: Quantity, requests: ResourceList, limits: ResourceList
) -> str | None:
    request, limit = requests.get(name), limits.get(name)
    req, lim, bound = compare_values(request or _ZERO, limit or _ZERO, enforced)
    if request is None:
        return f"minimum {name} usage per {kind} is {enforced}.  No request is specified"
    if req < bound:
        return f"minimum {name} usage per {kind} is {enforced}, but request is {request}"
    if limit is not None and lim < bound:
        return f"minimum {name} usage per {kind} is {enforced}, but limit is {limit}"
    return None


def max_violation(
    kind: str, name: str, enforced: Quantity, requests: ResourceList, limits: ResourceList
) -> str | None:
    request, limit = requests.get(name), limits.get(name)
    req, lim, bound = compare_values(request or _ZERO, limit or _ZERO, enforced)
    if limit is None:
        return f"maximum {name} usage per {kind} is {enforced}.  No limit is specified"
    if lim > bound:
        return f"maximum {name} usage per {kind} is {enforced}, but limit is {limit}"
    if request is not None and req > bound:
        return f"maximum {name} usage per {kind} is {enforced}, but request is {request}"
    return None


def max_request_violation(
    kind: str, name: str, enforced: Quantity, requests: ResourceList
) -> str | None:
    """The claim form of ``max``: only the request counts."""
    request = requests.get(name)
    req, _, bound = compare_values(request or _ZERO, _ZERO, enforced)
    if request is None:
        return f"maximum {name} usage per {kind} is {enforced}.  No request is specified"
    if req > bound:
        return f"maximum {name} usage per {kind} is {enforced}, but request is {request}"
    return None


def ratio_violation(
    kind: str, name: str, enforced: Quantity, requests: ResourceList, limits: ResourceList
) -> str | None:
    request, limit = requests.get(name), limits.get(name)
    req, lim, _ = compare_values(request or _ZERO, limit or _ZERO, enforced)
    head = f"{name} max limit to request ratio per {kind} is {enforced}"
    if request is None or req == 0:
        return f"{head}, but no request is specified or request is 0"
    if limit is None or lim == 0:
        return f"{head}, but no limit is specified or limit is 0"
    observed = lim / req
    shown = observed
    bound = float(enforced.value())
    if enforced.value() <= MAX_MILLI_VALUE:
        observed *= 1000
        bound = float(enforced.milli_value())
    if observed > bound:
        return f"{head}, but provided ratio is {shown:f}"
    return None


def _bounds(
    item: Mapping[str, Any], kind: str, requests: ResourceList, limits: ResourceList
) -> list[str]:
    found: list[str] = []
    checks = (
        ("min", min_violation),
        ("max", max_violation),
        ("maxLimitRequestRatio", ratio_violation),
    )
    for field, check in checks:
        for name, enforced in resource_list(item.get(field)).items():
            problem = check(kind, name, enforced, requests, limits)
            if problem:
                found.append(problem)
    return found


def pod_violations(pod: Mapping[str, Any], limit_range: Mapping[str, Any]) -> list[str]:
    """Every way ``pod`` breaks one LimitRange's Container and Pod items."""
    found: list[str] = []
    spec = pod.get("spec") or {}
    for item in (limit_range.get("spec") or {}).get("limits") or []:
        if not isinstance(item, Mapping):
            continue
        if item.get("type") == CONTAINER:
            for key in ("containers", "initContainers"):
                for c in spec.get(key) or []:
                    if isinstance(c, Mapping):
                        requests = container_resources(c, "requests")
                        limits = container_resources(c, "limits")
                        found += _bounds(item, CONTAINER, requests, limits)
        elif item.get("type") == POD:
            found += _bounds(item, POD, pod_requests(pod), pod_limits(pod))
    return found


def claim_violations(claim: Mapping[str, Any], limit_range: Mapping[str, Any]) -> list[str]:
    """Every way a PersistentVolumeClaim breaks one LimitRange's claim items."""
    found: list[str] = []
    resources = (claim.get("spec") or {}).get("resources")
    requests = resource_list(resources.get("requests") if isinstance(resources, Mapping) else None)
    for item in _items(limit_range, CLAIM):
        for name, enforced in resource_list(item.get("min")).items():
            problem = min_violation(CLAIM, name, enforced, requests, {})
            if problem:
                found.append(problem)
        for name, enforced in resource_list(item.get("max")).items():
            problem = max_request_violation(CLAIM, name, enforced, requests)
            if problem:
                found.append(problem)
    return found


def aggregate(problems: Sequence[str]) -> str:
    """Upstream's aggregate error text: one message, or ``[a, b]``."""
    return problems[0] if len(problems) == 1 else "[" + ", ".join(problems) + "]"


# -- the plugin -------------------------------------------------------------------------------


def _being_deleted(attrs: Attributes) -> bool:
    old = attrs.old
    return old is not None and (old.get("metadata") or {}).get("deletionTimestamp") is not None


class LimitRanger:
    """Upstream's LimitRanger plugin (see the module docstring); mutating and validating."""

    def __init__(self, list_limit_ranges: LimitRangeLister) -> None:
        self._list = list_limit_ranges

    async def mutate(self, attrs: Attributes) -> Obj | None:
        if not is_pod_create(attrs):
            return None
        pod = attrs.obj
        assert pod is not None
        out = pod
        for limit_range in await self._list(attrs.namespace):
            out = default_pod_resources(out, limit_range)
        return None if out is pod else out

    async def admit(self, attrs: Attributes) -> None:
        obj = attrs.obj
        if obj is None or _being_deleted(attrs):
            return
        check: Callable[[Mapping[str, Any], Mapping[str, Any]], list[str]]
        if is_pod_create(attrs):
            check = pod_violations
        elif attrs.operation in (CREATE, UPDATE) and is_resource(
            attrs, "", "persistentvolumeclaims"
        ):
            check = claim_violations
        else:
            return
        for limit_range in await self._list(attrs.namespace):
            problems = check(obj, limit_range)
            if problems:
                raise errors.forbidden(attrs.info, attrs.name, aggregate(problems))
