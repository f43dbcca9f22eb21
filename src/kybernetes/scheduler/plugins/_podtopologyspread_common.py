"""PodTopologySpread's building blocks: constraints, default selectors, and filter state.

Promises, as upstream:

* A constraint's selector is its ``labelSelector`` (``null`` matches nothing) with
  ``matchLabelKeys`` merged in from the pod's own labels; ``minDomains`` defaults to 1,
  ``nodeAffinityPolicy`` to Honor (only nodes matching the pod's node affinity/selector
  count), ``nodeTaintsPolicy`` to Ignore.
* Without constraints of its own, a pod gets the *default* constraints (system defaults:
  hostname maxSkew 3 and zone maxSkew 5, both ScheduleAnyway) with a selector made of the
  selectors of the Services, ReplicationController, ReplicaSet or StatefulSet that own or
  select it; a pod nothing selects gets none.
* Counting skips pods in other namespaces and terminating pods; an empty selector counts
  nothing.
* :class:`FilterState` keeps matching-pod counts per topology pair for the eligible nodes,
  the number of domains per key, and the two smallest counts per key (the "critical
  paths") under simulated additions and removals.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from kybernetes.api import (
    LabelOperator,
    LabelRequirement,
    LabelSelector,
    SelectorError,
    label_selector_from_api,
)
from kybernetes.scheduler._handle import ClusterLister
from kybernetes.scheduler._nodeinfo import NodeInfo
from kybernetes.scheduler._nodeselector import RequiredNodeAffinity
from kybernetes.scheduler._podinfo import PodInfo
from kybernetes.scheduler._selectors import matcher
from kybernetes.scheduler._taints import find_untolerated

DO_NOT_SCHEDULE: Final = "DoNotSchedule"
SCHEDULE_ANYWAY: Final = "ScheduleAnyway"
HONOR: Final = "Honor"
IGNORE: Final = "Ignore"
LABEL_HOSTNAME: Final = "kubernetes.io/hostname"
LABEL_ZONE: Final = "topology.kubernetes.io/zone"
_MAX_INT32: Final = 2**31 - 1

SYSTEM_DEFAULT_CONSTRAINTS: Final = (
    {"topologyKey": LABEL_HOSTNAME, "whenUnsatisfiable": SCHEDULE_ANYWAY, "maxSkew": 3},
    {"topologyKey": LABEL_ZONE, "whenUnsatisfiable": SCHEDULE_ANYWAY, "maxSkew": 5},
)

Pair = tuple[str, str]


@dataclass(frozen=True, slots=True)
class Constraint:
    max_skew: int
    topology_key: str
    selector: LabelSelector
    min_domains: int = 1
    node_affinity_policy: str = HONOR
    node_taints_policy: str = IGNORE

    def includes_node(self, pod: PodInfo, node: NodeInfo, required: RequiredNodeAffinity) -> bool:
        if (
            self.node_affinity_policy == HONOR
            and not required.empty
            and not required.matches(node.labels, node.name)
        ):
            return False
        if self.node_taints_policy != HONOR or not node.taints:
            return True
        untolerated = find_untolerated(node.taints, pod.tolerations) is not None
        return not (self.node_taints_policy == HONOR and untolerated)


def parse_constraints(
    raw: Iterable[Mapping[str, Any]], pod_labels: Mapping[str, str], action: str
) -> list[Constraint]:
    """The constraints of ``raw`` whose ``whenUnsatisfiable`` is ``action``; raises
    :class:`~kybernetes.api.SelectorError` for a selector that cannot be parsed."""
    out: list[Constraint] = []
    for i, c in enumerate(raw):
        if (c.get("whenUnsatisfiable") or DO_NOT_SCHEDULE) != action:
            continue
        try:
            selector = label_selector_from_api(c.get("labelSelector"))
            extra = [
                LabelRequirement.create(key, LabelOperator.IN, [str(pod_labels[key])])
                for key in c.get("matchLabelKeys") or ()
                if key in pod_labels
            ]
        except SelectorError as e:
            raise SelectorError(f"spec.topologySpreadConstraints[{i}].labelSelector: {e}") from None
        if extra and not selector.matches_nothing:
            selector = selector.add(*extra)
        out.append(
            Constraint(
                max_skew=int(c.get("maxSkew") or 1),
                topology_key=str(c.get("topologyKey") or ""),
                selector=selector,
                min_domains=int(c.get("minDomains") or 1),
                node_affinity_policy=c.get("nodeAffinityPolicy") or HONOR,
                node_taints_policy=c.get("nodeTaintsPolicy") or IGNORE,
            )
        )
    return out


def default_selector(pod: PodInfo, cluster: ClusterLister) -> LabelSelector:
    """Upstream's ``DefaultSelector``: what the pod's Services and controller select."""
    merged: dict[str, str] = {}
    for service in cluster.services(pod.namespace):
        selector = (service.get("spec") or {}).get("selector") or {}
        if selector and all(pod.labels.get(k) == v for k, v in selector.items()):
            merged.update(selector)
    selector = LabelSelector.from_set(merged)
    owner = next(
        (
            ref
            for ref in (pod.pod.get("metadata") or {}).get("ownerReferences") or ()
            if ref.get("controller")
        ),
        None,
    )
    if owner is None:
        return selector
    kind = owner.get("kind")
    controller = cluster.controller(str(kind), pod.namespace, str(owner.get("name") or ""))
    if controller is None:
        return selector
    spec = controller.get("spec") or {}
    if kind == "ReplicationController":
        merged.update(spec.get("selector") or {})
        return LabelSelector.from_set(merged)
    if kind in ("ReplicaSet", "StatefulSet"):
        try:
            other = label_selector_from_api(spec.get("selector"))
        except SelectorError:
            return selector
        if not other.matches_nothing:
            return selector.add(*other.requirements)
    return selector


def count_matching(pods: Sequence[PodInfo], selector: LabelSelector, namespace: str) -> int:
    if selector.empty or not pods:
        return 0
    match = matcher(selector)
    n = 0
    for p in pods:
        if not p.terminating and p.namespace == namespace and match(p.labels):
            n += 1
    return n


def has_all_keys(labels: Mapping[str, str], constraints: Sequence[Constraint]) -> bool:
    for c in constraints:  # noqa: SIM110 (once per node: no generator)
        if c.topology_key not in labels:
            return False
    return True


class CriticalPaths:
    """The two smallest (value, count) of one topology key, as upstream tracks them."""

    __slots__ = ("nums", "values")

    def __init__(self) -> None:
        self.values = ["", ""]
        self.nums = [_MAX_INT32, _MAX_INT32]

    def clone(self) -> CriticalPaths:
        out = CriticalPaths()
        out.values = list(self.values)
        out.nums = list(self.nums)
        return out

    @property
    def min(self) -> int:
        return self.nums[0]

    def update(self, value: str, num: int) -> None:
        values, nums = self.values, self.nums
        i = 0 if value == values[0] else 1 if value == values[1] else -1
        if i >= 0:
            nums[i] = num
            if nums[0] > nums[1]:
                values.reverse()
                nums.reverse()
        elif num < nums[0]:
            values[1], nums[1] = values[0], nums[0]
            values[0], nums[0] = value, num
        elif num < nums[1]:
            values[1], nums[1] = value, num


class FilterState:
    __slots__ = ("constraints", "critical", "domains", "match_num", "required", "self_match")

    def __init__(self, constraints: list[Constraint], required: RequiredNodeAffinity) -> None:
        self.constraints = constraints
        self.required = required
        self.match_num: dict[Pair, int] = {}
        self.domains: dict[str, int] = {}
        self.critical: dict[str, CriticalPaths] = {}
        self.self_match: list[int] = []

    def clone(self) -> FilterState:
        out = FilterState(self.constraints, self.required)
        out.self_match = self.self_match
        out.match_num = dict(self.match_num)
        out.domains = dict(self.domains)
        out.critical = {k: v.clone() for k, v in self.critical.items()}
        return out

    def count(self, pod: PodInfo, nodes: Sequence[NodeInfo]) -> None:
        #: Whether the pod itself matches each constraint (Filter's "self match").
        self.self_match = [1 if c.selector.matches(pod.labels) else 0 for c in self.constraints]
        match_num = self.match_num
        # Every node is eligible unless a policy can exclude some: the usual case, counted
        # in a tight loop (this runs over all nodes for every pod).
        everywhere = self.required.empty and all(
            c.node_taints_policy != HONOR for c in self.constraints
        )
        specs = [(c, c.topology_key, c.selector, not c.selector.empty) for c in self.constraints]
        namespace = pod.namespace
        for node in nodes:
            labels = node.labels
            if not has_all_keys(labels, self.constraints):
                continue
            pods = node.pods
            for c, key, selector, counts in specs:
                if not everywhere and not c.includes_node(pod, node, self.required):
                    continue
                pair = (key, labels[key])
                matched = count_matching(pods, selector, namespace) if pods and counts else 0
                match_num[pair] = match_num.get(pair, 0) + matched
        for key, _ in self.match_num:
            self.domains[key] = self.domains.get(key, 0) + 1
        for c in self.constraints:
            self.critical[c.topology_key] = CriticalPaths()
        for (key, value), num in self.match_num.items():
            self.critical[key].update(value, num)

    def min_match(self, c: Constraint) -> int:
        paths = self.critical.get(c.topology_key)
        if paths is None:
            return 0
        if self.domains.get(c.topology_key, 0) < c.min_domains:
            return 0  # fewer eligible domains than minDomains: the global minimum is 0
        return paths.min

    def update_with_pod(
        self, other: PodInfo, incoming: PodInfo, node: NodeInfo, delta: int
    ) -> None:
        if other.namespace != incoming.namespace or not has_all_keys(node.labels, self.constraints):
            return
        for c in self.constraints:
            if not c.selector.matches(other.labels) or not c.includes_node(
                incoming, node, self.required
            ):
                continue
            value = node.labels[c.topology_key]
            pair = (c.topology_key, value)
            self.match_num[pair] = self.match_num.get(pair, 0) + delta
            self.critical[c.topology_key].update(value, self.match_num[pair])
