"""Upstream's quota evaluators: what one object of a resource costs against a ResourceQuota.

An :class:`Evaluator` knows, for one resource, which quota resource names it can count
(``matching_resources``), what one object uses (``usage``), whether an object falls in a
quota scope (``matches_scope``) and which resources a pod must state when a quota limits
them (``constraints``). :func:`evaluator_for` picks the evaluator of a resource:

* pods: ``pods``, ``count/pods``, ``cpu``/``requests.cpu``, ``memory``/``requests.memory``,
  ``limits.cpu``, ``limits.memory``, ephemeral storage, hugepages and ``requests.<extended>``;
  a terminal pod (Succeeded/Failed, or past its deletion grace period) only counts in
  ``count/pods``. Scopes: Terminating, NotTerminating, BestEffort, NotBestEffort,
  PriorityClass, CrossNamespacePodAffinity.
* services: ``services``, ``count/services``, ``services.nodeports`` (one per port of a
  NodePort or LoadBalancer service), ``services.loadbalancers``.
* persistentvolumeclaims: ``persistentvolumeclaims``, ``count/persistentvolumeclaims``,
  ``requests.storage`` and their ``<class>.storageclass.storage.k8s.io/`` forms.
* every other namespaced resource but events: ``count/<resource>[.<group>]`` on create
  (plus the legacy names ``configmaps``, ``secrets``, ``replicationcontrollers``,
  ``resourcequotas``).

Only pods have scopes; a quota with scopes never applies to other resources. Pure code.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from kybernetes.api import Quantity, ResourceInfo
from kybernetes.api._qos import pod_qos_class
from kybernetes.apiserver._admission_podresources import (
    ResourceList,
    add,
    container_resources,
    pod_limits,
    pod_requests,
    resource_list,
)

_ONE = Quantity.from_int(1)
_ZERO = Quantity(0)

POD_RESOURCES = frozenset(
    {
        "count/pods",
        "pods",
        "cpu",
        "memory",
        "ephemeral-storage",
        "requests.cpu",
        "requests.memory",
        "requests.ephemeral-storage",
        "limits.cpu",
        "limits.memory",
        "limits.ephemeral-storage",
    }
)
_POD_PREFIXES = ("hugepages-", "requests.hugepages-")
#: A quota on any of these makes every container state the matching request or limit.
_MUST_SPECIFY = frozenset(
    {"cpu", "memory", "requests.cpu", "requests.memory", "limits.cpu", "limits.memory"}
)
SERVICE_RESOURCES = frozenset(
    {"services", "count/services", "services.nodeports", "services.loadbalancers"}
)
CLAIM_RESOURCES = frozenset({"persistentvolumeclaims", "count/persistentvolumeclaims"})
STORAGE_CLASS_SUFFIX = ".storageclass.storage.k8s.io/"
#: Objects counted under an old name as well as ``count/...``.
LEGACY_COUNT_NAMES = {
    ("", "configmaps"): "configmaps",
    ("", "secrets"): "secrets",
    ("", "replicationcontrollers"): "replicationcontrollers",
    ("", "resourcequotas"): "resourcequotas",
}
#: Never charged to a quota.
IGNORED = frozenset({("", "events")})


def is_extended_resource(name: str) -> bool:
    """A resource named by a vendor domain (``example.com/gpu``), not a native one."""
    if "/" not in name or name.startswith("requests."):
        return False
    return "kubernetes.io/" not in name


class Evaluator(Protocol):
    group: str
    plural: str

    def handles(self, operation: str) -> bool: ...

    def matching_resources(self, names: Iterable[str]) -> list[str]: ...

    def usage(self, obj: Mapping[str, Any], now: float) -> ResourceList: ...

    def matches_scope(self, selector: Mapping[str, Any], obj: Mapping[str, Any]) -> bool: ...

    def constraints(self, required: Sequence[str], obj: Mapping[str, Any]) -> str | None: ...


def _parse_time(value: Any) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value).timestamp()
    except ValueError:
        return None


def pod_is_charged(pod: Mapping[str, Any], now: float) -> bool:
    """Whether a pod still counts in compute quota (``QuotaV1Pod``)."""
    if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
        return False
    meta = pod.get("metadata") or {}
    deleted_at = _parse_time(meta.get("deletionTimestamp"))
    grace = meta.get("deletionGracePeriodSeconds")
    # A pod stuck terminating past its grace period (its node is lost) is not charged.
    return not (deleted_at is not None and isinstance(grace, int) and now > deleted_at + grace)


def container_usage(requests: ResourceList, limits: ResourceList) -> ResourceList:
    """Upstream's ``podComputeUsageHelper``: quota names for requests and limits."""
    out: ResourceList = {"pods": _ONE}
    for plain in ("cpu", "memory", "ephemeral-storage"):
        if plain in requests:
            out[plain] = requests[plain]
            out[f"requests.{plain}"] = requests[plain]
        if plain in limits:
            out[f"limits.{plain}"] = limits[plain]
    for name, value in requests.items():
        if name.startswith("hugepages-"):
            out[name] = value
            out[f"requests.{name}"] = value
        if is_extended_resource(name):
            out[f"requests.{name}"] = value
    return out


def _label_match(operator: str, key_value: str | None, values: Sequence[Any]) -> bool:
    if operator == "Exists":
        return key_value is not None
    if operator == "DoesNotExist":
        return key_value is None
    if operator == "In":
        return key_value is not None and key_value in values
    if operator == "NotIn":
        return key_value is None or key_value not in values
    return False


def _cross_namespace(affinity: Any) -> bool:
    if not isinstance(affinity, Mapping):
        return False
    for kind in ("podAffinity", "podAntiAffinity"):
        rules = affinity.get(kind)
        if not isinstance(rules, Mapping):
            continue
        terms = list(rules.get("requiredDuringSchedulingIgnoredDuringExecution") or [])
        for weighted in rules.get("preferredDuringSchedulingIgnoredDuringExecution") or []:
            if isinstance(weighted, Mapping):
                terms.append(weighted.get("podAffinityTerm"))
        for term in terms:
            if isinstance(term, Mapping) and (
                term.get("namespaces") or term.get("namespaceSelector") is not None
            ):
                return True
    return False


class PodEvaluator:
    group, plural = "", "pods"

    def handles(self, operation: str) -> bool:
        return operation in ("CREATE", "UPDATE")

    def matching_resources(self, names: Iterable[str]) -> list[str]:
        return [
            n
            for n in names
            if n in POD_RESOURCES
            or n.startswith(_POD_PREFIXES)
            or (n.startswith("requests.") and is_extended_resource(n[len("requests.") :]))
        ]

    def usage(self, obj: Mapping[str, Any], now: float) -> ResourceList:
        out: ResourceList = {"count/pods": _ONE}
        if not pod_is_charged(obj, now):
            return out
        return add(out, container_usage(pod_requests(obj), pod_limits(obj)))

    def matches_scope(self, selector: Mapping[str, Any], obj: Mapping[str, Any]) -> bool:
        spec = obj.get("spec") or {}
        scope = str(selector.get("scopeName") or "")
        if scope in ("Terminating", "NotTerminating"):
            deadline = spec.get("activeDeadlineSeconds")
            terminating = isinstance(deadline, int) and deadline >= 0
            return terminating == (scope == "Terminating")
        if scope in ("BestEffort", "NotBestEffort"):
            return (pod_qos_class(obj) == "BestEffort") == (scope == "BestEffort")
        if scope == "PriorityClass":
            name = spec.get("priorityClassName") or None
            values = selector.get("values") or []
            return _label_match(str(selector.get("operator")), name, values)
        if scope == "CrossNamespacePodAffinity":
            return _cross_namespace(spec.get("affinity"))
        return False

    def constraints(self, required: Sequence[str], obj: Mapping[str, Any]) -> str | None:
        needed = set(required) & _MUST_SPECIFY
        if not needed:
            return None
        missing: dict[str, set[str]] = {}
        spec = obj.get("spec") or {}
        for key in ("containers", "initContainers"):
            for c in spec.get(key) or []:
                if not isinstance(c, Mapping):
                    continue
                has = container_usage(
                    container_resources(c, "requests"), container_resources(c, "limits")
                )
                for name in needed - set(has):
                    missing.setdefault(name, set()).add(str(c.get("name") or ""))
        if not missing:
            return None
        parts = [f"{name} for: {','.join(sorted(missing[name]))}" for name in sorted(missing)]
        return "must specify " + "; ".join(parts)


def _no_scope(selector: Mapping[str, Any], obj: Mapping[str, Any]) -> bool:
    return False


class ServiceEvaluator:
    group, plural = "", "services"

    def handles(self, operation: str) -> bool:
        return operation in ("CREATE", "UPDATE")

    def matching_resources(self, names: Iterable[str]) -> list[str]:
        return [n for n in names if n in SERVICE_RESOURCES]

    def usage(self, obj: Mapping[str, Any], now: float) -> ResourceList:
        spec = obj.get("spec") or {}
        ports = [p for p in spec.get("ports") or [] if isinstance(p, Mapping)]
        out: ResourceList = {
            "count/services": _ONE,
            "services": _ONE,
            "services.loadbalancers": _ZERO,
            "services.nodeports": _ZERO,
        }
        kind = spec.get("type") or "ClusterIP"
        if kind == "NodePort":
            out["services.nodeports"] = Quantity.from_int(len(ports))
        elif kind == "LoadBalancer":
            if spec.get("allocateLoadBalancerNodePorts") is False:
                # Only node ports asked for explicitly will exist.
                explicit = sum(1 for p in ports if p.get("nodePort"))
                out["services.nodeports"] = Quantity.from_int(explicit)
            else:
                out["services.nodeports"] = Quantity.from_int(len(ports))
            out["services.loadbalancers"] = _ONE
        return out

    matches_scope = staticmethod(_no_scope)

    def constraints(self, required: Sequence[str], obj: Mapping[str, Any]) -> str | None:
        return None


class ClaimEvaluator:
    group, plural = "", "persistentvolumeclaims"

    def handles(self, operation: str) -> bool:
        return operation in ("CREATE", "UPDATE")

    def matching_resources(self, names: Iterable[str]) -> list[str]:
        return [
            n
            for n in names
            if n in CLAIM_RESOURCES
            or n == "requests.storage"
            or (
                STORAGE_CLASS_SUFFIX in n
                and n.endswith(("/requests.storage", "/persistentvolumeclaims"))
            )
        ]

    def usage(self, obj: Mapping[str, Any], now: float) -> ResourceList:
        spec = obj.get("spec") or {}
        out: ResourceList = {"persistentvolumeclaims": _ONE, "count/persistentvolumeclaims": _ONE}
        storage_class = spec.get("storageClassName")
        if not storage_class:
            annotations = (obj.get("metadata") or {}).get("annotations") or {}
            storage_class = annotations.get("volume.beta.kubernetes.io/storage-class")
        if isinstance(storage_class, str) and storage_class:
            out[f"{storage_class}{STORAGE_CLASS_SUFFIX}persistentvolumeclaims"] = _ONE
        resources = spec.get("resources")
        requested = resource_list(
            resources.get("requests") if isinstance(resources, Mapping) else None
        ).get("storage")
        allocated = resource_list((obj.get("status") or {}).get("allocatedResources")).get(
            "storage"
        )
        # Charge the larger of what is asked and what was already allocated (resizes).
        storage = max((q for q in (requested, allocated) if q is not None), default=None)
        if storage is not None:
            out["requests.storage"] = storage
            if isinstance(storage_class, str) and storage_class:
                out[f"{storage_class}{STORAGE_CLASS_SUFFIX}requests.storage"] = storage
        return out

    matches_scope = staticmethod(_no_scope)

    def constraints(self, required: Sequence[str], obj: Mapping[str, Any]) -> str | None:
        return None


class ObjectCountEvaluator:
    """Counts objects of any resource: ``count/<resource>[.<group>]``, on create only."""

    def __init__(self, info: ResourceInfo) -> None:
        self.group, self.plural = info.group, info.plural
        self.names = [f"count/{info.group_resource}"]
        legacy = LEGACY_COUNT_NAMES.get((info.group, info.plural))
        if legacy:
            self.names.append(legacy)

    def handles(self, operation: str) -> bool:
        return operation == "CREATE"

    def matching_resources(self, names: Iterable[str]) -> list[str]:
        return [n for n in names if n in self.names]

    def usage(self, obj: Mapping[str, Any], now: float) -> ResourceList:
        return {name: _ONE for name in self.names}

    matches_scope = staticmethod(_no_scope)

    def constraints(self, required: Sequence[str], obj: Mapping[str, Any]) -> str | None:
        return None


def evaluator_for(info: ResourceInfo) -> Evaluator | None:
    """The evaluator of a namespaced resource; None for what quota never charges."""
    if not info.namespaced or (info.group, info.plural) in IGNORED:
        return None
    key = (info.group, info.plural)
    if key == ("", "pods"):
        return PodEvaluator()
    if key == ("", "services"):
        return ServiceEvaluator()
    if key == ("", "persistentvolumeclaims"):
        return ClaimEvaluator()
    return ObjectCountEvaluator(info)
