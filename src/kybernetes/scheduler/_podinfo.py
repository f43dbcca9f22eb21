"""A pod parsed once for scheduling: :class:`PodInfo`.

Every pod the scheduler holds (pending in the queue, or assigned in the cache) is wrapped
once, when it arrives or changes, so plugins read integers and parsed selectors instead of
walking JSON per node. Promises:

* ``pod`` is the object as received; it is never modified (informer objects are shared).
* Requests follow :mod:`._resource`; ``priority`` is ``spec.priority`` (the API server
  resolves the PriorityClass at admission), 0 when absent.
* Pod (anti-)affinity terms are parsed as upstream's ``AffinityTerm``: a term without
  ``namespaces`` and ``namespaceSelector`` means the pod's own namespace; a ``null``
  selector matches nothing and ``{}`` everything; ``matchLabelKeys``/``mismatchLabelKeys``
  are merged into the selector from the pod's own labels. A term that cannot be parsed
  sets ``affinity_error`` (the pod is then unschedulable with that message) and is dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kybernetes.api import (
    LabelOperator,
    LabelRequirement,
    LabelSelector,
    SelectorError,
    label_selector_from_api,
)
from kybernetes.scheduler._nodeselector import (
    AffinityError,
    NodeSelectorTerm,
    RequiredNodeAffinity,
    parse_preferred_terms,
    parse_required_node_affinity,
)
from kybernetes.scheduler._resource import (
    CPU,
    EPHEMERAL_STORAGE,
    MEMORY,
    is_scalar_resource,
    pod_non_zero_requests,
    pod_requests,
)
from kybernetes.scheduler._selectors import matcher

Object = dict[str, Any]


class AffinityTerm:
    __slots__ = (
        "all_namespaces",
        "match",
        "namespace_selector",
        "namespaces",
        "selector",
        "topology_key",
        "weight",
    )

    def __init__(
        self,
        namespaces: frozenset[str],
        selector: LabelSelector,
        topology_key: str,
        namespace_selector: LabelSelector,
        weight: int = 0,
    ) -> None:
        self.namespaces = namespaces
        self.selector = selector
        self.match = matcher(selector)
        self.topology_key = topology_key
        self.namespace_selector = namespace_selector
        #: ``namespaceSelector: {}`` selects every namespace, whatever its labels.
        self.all_namespaces = namespace_selector.empty
        self.weight = weight

    def matches(
        self, namespace: str, labels: Mapping[str, str], ns_labels: Mapping[str, str] | None
    ) -> bool:
        """Whether a pod (its namespace and labels) is selected by this term."""
        if (
            namespace in self.namespaces
            or self.all_namespaces
            or (ns_labels is not None and self.namespace_selector.matches(ns_labels))
        ):
            return self.match(labels)
        return False

    def with_namespaces(self, namespaces: frozenset[str]) -> AffinityTerm:
        """This term with its (non-empty) namespace selector resolved into ``namespaces``."""
        if self.all_namespaces:
            return self
        return AffinityTerm(
            self.namespaces | namespaces,
            self.selector,
            self.topology_key,
            LabelSelector.nothing(),
            self.weight,
        )


def _selector(raw: Any, path: str) -> LabelSelector:
    if raw is not None and not isinstance(raw, Mapping):
        raise SelectorError(f"{path}: must be an object")
    return label_selector_from_api(raw)


def _term(pod: Mapping[str, Any], raw: Any, path: str, weight: int = 0) -> AffinityTerm:
    if not isinstance(raw, Mapping):
        raise SelectorError(f"{path}: must be an object")
    meta = pod.get("metadata") or {}
    labels = meta.get("labels") or {}
    topology_key = raw.get("topologyKey")
    if not isinstance(topology_key, str) or not topology_key:
        raise SelectorError(f"{path}.topologyKey: Required value: can not be empty")
    try:
        selector = _selector(raw.get("labelSelector"), f"{path}.labelSelector")
    except SelectorError as e:
        raise SelectorError(f"{path}.labelSelector: {e}") from None
    extra: list[LabelRequirement] = []
    for field, op in (
        ("matchLabelKeys", LabelOperator.IN),
        ("mismatchLabelKeys", LabelOperator.NOT_IN),
    ):
        for key in raw.get(field) or ():
            if isinstance(key, str) and key in labels:
                extra.append(LabelRequirement.create(key, op, [str(labels[key])]))
    if extra and not selector.matches_nothing:
        selector = selector.add(*extra)
    ns_raw = raw.get("namespaceSelector")
    try:
        ns_selector = _selector(ns_raw, f"{path}.namespaceSelector")
    except SelectorError as e:
        raise SelectorError(f"{path}.namespaceSelector: {e}") from None
    names = raw.get("namespaces") or []
    if not names and ns_raw is None:
        namespaces = frozenset({str(meta.get("namespace") or "")})
    else:
        namespaces = frozenset(str(n) for n in names)
    return AffinityTerm(namespaces, selector, topology_key, ns_selector, weight)


def _terms(
    pod: Mapping[str, Any], kind: str, path: str
) -> tuple[list[AffinityTerm], list[AffinityTerm]]:
    affinity = ((pod.get("spec") or {}).get("affinity") or {}).get(kind) or {}
    required_raw = affinity.get("requiredDuringSchedulingIgnoredDuringExecution") or []
    preferred_raw = affinity.get("preferredDuringSchedulingIgnoredDuringExecution") or []
    required = [
        _term(pod, t, f"{path}.requiredDuringSchedulingIgnoredDuringExecution[{i}]")
        for i, t in enumerate(required_raw)
    ]
    preferred: list[AffinityTerm] = []
    for i, item in enumerate(preferred_raw):
        where = f"{path}.preferredDuringSchedulingIgnoredDuringExecution[{i}]"
        if not isinstance(item, Mapping):
            raise SelectorError(f"{where}: must be an object")
        weight = item.get("weight") or 0
        if not isinstance(weight, int) or isinstance(weight, bool):
            raise SelectorError(f"{where}.weight: must be an integer")
        preferred.append(
            _term(pod, item.get("podAffinityTerm"), f"{where}.podAffinityTerm", weight)
        )
    return required, preferred


def pod_uid(pod: Mapping[str, Any]) -> str:
    """The key PodInfo files a pod under: its uid (``namespace/name`` if it has none)."""
    meta = pod.get("metadata") or {}
    uid = meta.get("uid")
    return str(uid) if uid else f"{meta.get('namespace') or ''}/{meta.get('name') or ''}"


def normalized_image_name(name: str) -> str:
    """``name:latest`` when the image names no tag or digest (upstream's normalisation)."""
    if name.rfind(":") <= name.rfind("/"):
        return name + ":latest"
    return name


def _host_ports(spec: Mapping[str, Any]) -> tuple[tuple[str, str, int], ...]:
    containers = list(spec.get("containers") or ())
    containers += [
        c for c in spec.get("initContainers") or () if c.get("restartPolicy") == "Always"
    ]
    out: list[tuple[str, str, int]] = []
    for container in containers:
        for port in container.get("ports") or ():
            host_port = port.get("hostPort") or 0
            if isinstance(host_port, int) and host_port > 0:
                ip = port.get("hostIP") or "0.0.0.0"
                out.append((ip, port.get("protocol") or "TCP", host_port))
    return tuple(out)


class PodInfo:
    __slots__ = (
        "_node_affinity",
        "_preferred_node_affinity",
        "affinity_error",
        "host_ports",
        "images",
        "key",
        "labels",
        "name",
        "namespace",
        "node_name",
        "non_zero_cpu",
        "non_zero_mem",
        "pod",
        "preferred_affinity_terms",
        "preferred_anti_affinity_terms",
        "priority",
        "req_cpu",
        "req_eph",
        "req_mem",
        "req_scalar",
        "requests",
        "required_affinity_terms",
        "required_anti_affinity_terms",
        "scheduler_name",
        "terminating",
        "tolerations",
        "uid",
    )

    def __init__(self, pod: Mapping[str, Any]) -> None:
        self.pod: Object = pod  # type: ignore[assignment]
        meta = pod.get("metadata") or {}
        spec = pod.get("spec") or {}
        self.namespace: str = meta.get("namespace") or ""
        self.name: str = meta.get("name") or ""
        self.key = f"{self.namespace}/{self.name}"
        self.uid: str = meta.get("uid") or self.key
        self.labels: Mapping[str, str] = meta.get("labels") or {}
        self.terminating = meta.get("deletionTimestamp") is not None
        priority = spec.get("priority")
        self.priority = priority if isinstance(priority, int) else 0
        self.node_name: str = spec.get("nodeName") or ""
        self.scheduler_name: str = spec.get("schedulerName") or "default-scheduler"
        self.tolerations: tuple[Mapping[str, Any], ...] = tuple(spec.get("tolerations") or ())
        self.requests = pod_requests(pod)
        self.req_cpu = self.requests.get(CPU, 0)
        self.req_mem = self.requests.get(MEMORY, 0)
        self.req_eph = self.requests.get(EPHEMERAL_STORAGE, 0)
        self.req_scalar = {k: v for k, v in self.requests.items() if v and is_scalar_resource(k)}
        self.non_zero_cpu, self.non_zero_mem = pod_non_zero_requests(pod)
        self.host_ports = _host_ports(spec)
        self.images = tuple(
            normalized_image_name(str(c["image"]))
            for key in ("initContainers", "containers")
            for c in spec.get(key) or ()
            if c.get("image")
        )
        self._node_affinity: Any = None
        self._preferred_node_affinity: Any = None
        self.affinity_error: str | None = None
        self.required_affinity_terms: list[AffinityTerm] = []
        self.preferred_affinity_terms: list[AffinityTerm] = []
        self.required_anti_affinity_terms: list[AffinityTerm] = []
        self.preferred_anti_affinity_terms: list[AffinityTerm] = []
        if spec.get("affinity"):
            self._parse_affinity(pod)

    def _parse_affinity(self, pod: Mapping[str, Any]) -> None:
        try:
            req, pref = _terms(pod, "podAffinity", "spec.affinity.podAffinity")
            anti_req, anti_pref = _terms(pod, "podAntiAffinity", "spec.affinity.podAntiAffinity")
        except SelectorError as e:
            self.affinity_error = f"invalid pod affinity: {e}"
            return
        self.required_affinity_terms = req
        self.preferred_affinity_terms = pref
        self.required_anti_affinity_terms = anti_req
        self.preferred_anti_affinity_terms = anti_pref

    def with_pod(self, pod: Mapping[str, Any]) -> PodInfo:
        """A PodInfo for a new version of this pod: the parsed fields are reused when the
        spec is unchanged apart from ``nodeName`` (binding), else everything is parsed."""
        spec = pod.get("spec") or {}
        old_spec = self.pod.get("spec") or {}
        meta = pod.get("metadata") or {}
        old_meta = self.pod.get("metadata") or {}
        same = (
            meta.get("labels") == old_meta.get("labels")
            and meta.get("deletionTimestamp") == old_meta.get("deletionTimestamp")
            and meta.get("uid") == old_meta.get("uid")
            and len(spec) == len(old_spec)
            and all(v == old_spec.get(k) for k, v in spec.items() if k != "nodeName")
        )
        if not same:
            return PodInfo(pod)
        out = PodInfo.__new__(PodInfo)
        for slot in PodInfo.__slots__:
            setattr(out, slot, getattr(self, slot))
        out.pod = pod  # type: ignore[assignment]
        out.node_name = spec.get("nodeName") or ""
        # nodeName is not part of node affinity: the parsed form stays valid.
        return out

    def with_node(self, node_name: str) -> PodInfo:
        """This pod as assumed on ``node_name`` (shallow copies; the original is shared)."""
        obj = dict(self.pod)
        obj["spec"] = {**(self.pod.get("spec") or {}), "nodeName": node_name}
        return self.with_pod(obj)

    def node_affinity(self) -> RequiredNodeAffinity:
        """The pod's ``nodeSelector`` and required node affinity, parsed once; raises
        :class:`~._nodeselector.AffinityError` (every time) if they cannot be parsed."""
        cached = self._node_affinity
        if cached is None:
            try:
                cached = parse_required_node_affinity(self.pod)
            except AffinityError as e:
                cached = e
            self._node_affinity = cached
        if isinstance(cached, AffinityError):
            raise cached
        result: RequiredNodeAffinity = cached
        return result

    def preferred_node_affinity(self) -> list[tuple[int, NodeSelectorTerm]]:
        """(weight, term) of the preferred node affinity, parsed once (raises like
        :meth:`node_affinity`)."""
        cached = self._preferred_node_affinity
        if cached is None:
            try:
                cached = parse_preferred_terms(self.pod)
            except AffinityError as e:
                cached = e
            self._preferred_node_affinity = cached
        if isinstance(cached, AffinityError):
            raise cached
        result: list[tuple[int, NodeSelectorTerm]] = cached
        return result

    @property
    def has_affinity(self) -> bool:
        """Any pod affinity or anti-affinity term (upstream's ``PodsWithAffinity``)."""
        return bool(
            self.required_affinity_terms
            or self.preferred_affinity_terms
            or self.required_anti_affinity_terms
            or self.preferred_anti_affinity_terms
        )

    @property
    def has_required_anti_affinity(self) -> bool:
        return bool(self.required_anti_affinity_terms)

    @property
    def preemption_policy(self) -> str:
        return str((self.pod.get("spec") or {}).get("preemptionPolicy") or "PreemptLowerPriority")

    @property
    def start_time(self) -> str:
        """``status.startTime`` (RFC 3339 sorts as text), or the creation time."""
        status = self.pod.get("status") or {}
        meta = self.pod.get("metadata") or {}
        return str(status.get("startTime") or meta.get("creationTimestamp") or "")

    def __repr__(self) -> str:
        return f"PodInfo({self.key})"
