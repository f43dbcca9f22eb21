"""NodeResourcesFit: a pod fits a node only if its requests fit in what is left of the
node's allocatable (and one more pod fits); scores nodes by a resource strategy.

Promises, as upstream:

* Reasons are ``Too many pods`` and ``Insufficient <resource>`` (cpu, memory,
  ephemeral-storage, then extended resources by name), all of them reported. When a request
  exceeds the node's whole allocatable the status is UnschedulableAndUnresolvable
  (evicting pods there cannot help), otherwise Unschedulable.
* ``ignoredResources`` / ``ignoredResourceGroups`` exempt extended resources from the check.
* Scoring (``scoringStrategy``): ``LeastAllocated`` (default, spreads), ``MostAllocated``
  (packs) or ``RequestedToCapacityRatio``, over ``resources`` (default cpu and memory,
  weight 1 each), using the non-zero request defaults for cpu and memory.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from kybernetes.scheduler._events import (
    QUEUE,
    QUEUE_SKIP,
    ActionType,
    ClusterEvent,
    ClusterEventWithHint,
    Object,
    QueueingHint,
    Resource,
)
from kybernetes.scheduler._framework import CycleState
from kybernetes.scheduler._handle import Handle
from kybernetes.scheduler._nodeinfo import NodeInfo
from kybernetes.scheduler._podinfo import PodInfo
from kybernetes.scheduler._status import Code, ConfigError, Status
from kybernetes.scheduler.plugins._helpers import check_args
from kybernetes.scheduler.plugins._resource_scoring import (
    LEAST_ALLOCATED,
    MOST_ALLOCATED,
    REQUESTED_TO_CAPACITY_RATIO,
    STRATEGIES,
    Scorer,
    cpu_memory_scorer,
    least_allocated,
    most_allocated,
    node_vectors,
    parse_resources,
    parse_shape,
    pod_request_for,
    requested_to_capacity_ratio,
)

NAME = "NodeResourcesFit"
TOO_MANY_PODS: Final = "Too many pods"
INSUFFICIENT_CPU: Final = "Insufficient cpu"
INSUFFICIENT_MEMORY: Final = "Insufficient memory"
INSUFFICIENT_EPHEMERAL: Final = "Insufficient ephemeral-storage"
_PRE_SCORE_KEY = "PreScore" + NAME


def is_extended_resource(name: str) -> bool:
    """A vendor resource (``example.com/gpu``): prefixed, and not in a kubernetes.io domain."""
    domain, slash, _ = name.partition("/")
    if not slash or name.startswith("requests."):
        return False
    return not (domain == "kubernetes.io" or domain.endswith(".kubernetes.io"))


class NodeResourcesFit:
    name = NAME

    def __init__(self, args: Mapping[str, Any], handle: Handle | None = None) -> None:
        check_args(NAME, args, ["ignoredResources", "ignoredResourceGroups", "scoringStrategy"])
        self.ignored = frozenset(args.get("ignoredResources") or ())
        self.ignored_groups = frozenset(args.get("ignoredResourceGroups") or ())
        strategy = args.get("scoringStrategy") or {}
        if not isinstance(strategy, Mapping):
            raise ConfigError(f"{NAME} args: scoringStrategy must be an object")
        kind = strategy.get("type") or LEAST_ALLOCATED
        if kind not in STRATEGIES:
            raise ConfigError(
                f"{NAME} args: scoringStrategy.type {kind!r} is not one of {', '.join(STRATEGIES)}"
            )
        self.resources = parse_resources(NAME, strategy.get("resources"))
        weights = [r.weight for r in self.resources]
        self.scorer: Scorer
        if kind == MOST_ALLOCATED:
            self.scorer = most_allocated(weights)
        elif kind == REQUESTED_TO_CAPACITY_RATIO:
            shape = parse_shape(NAME, strategy.get("requestedToCapacityRatio"))
            self.scorer = requested_to_capacity_ratio(weights, shape)
        else:
            self.scorer = least_allocated(weights)
        self.fast = cpu_memory_scorer(kind, self.resources, use_requested=False)

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status | None:
        reasons: list[str] | None = None
        unresolvable = False
        if len(node.pods) + 1 > node.alloc_pods:
            reasons = [TOO_MANY_PODS]
        cpu, mem = pod.req_cpu, pod.req_mem
        if cpu > 0 and cpu > node.alloc_cpu - node.req_cpu:
            reasons = [*(reasons or ()), INSUFFICIENT_CPU]
            unresolvable = cpu > node.alloc_cpu
        if mem > 0 and mem > node.alloc_mem - node.req_mem:
            reasons = [*(reasons or ()), INSUFFICIENT_MEMORY]
            unresolvable = unresolvable or mem > node.alloc_mem
        eph = pod.req_eph
        if eph > 0 and eph > node.alloc_eph - node.req_eph:
            reasons = [*(reasons or ()), INSUFFICIENT_EPHEMERAL]
            unresolvable = unresolvable or eph > node.alloc_eph
        if pod.req_scalar:
            for name in sorted(pod.req_scalar):
                want = pod.req_scalar[name]
                if self._ignored(name):
                    continue
                have = node.alloc_scalar.get(name, 0)
                if want > have - node.req_scalar.get(name, 0):
                    reasons = [*(reasons or ()), f"Insufficient {name}"]
                    unresolvable = unresolvable or want > have
        if reasons is None:
            return None
        code = Code.UNSCHEDULABLE_AND_UNRESOLVABLE if unresolvable else Code.UNSCHEDULABLE
        return Status(code, *reasons)

    def filter_nodes(
        self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo]
    ) -> list[Status | None]:
        if pod.req_eph or pod.req_scalar:
            return [self.filter(state, pod, n) for n in nodes]
        cpu, mem, fit = pod.req_cpu, pod.req_mem, self.filter
        # The common case inline (pod count, cpu, memory); the full check only on failure.
        return [
            None
            if len(n.pods) < n.alloc_pods
            and (cpu <= 0 or cpu <= n.alloc_cpu - n.req_cpu)
            and (mem <= 0 or mem <= n.alloc_mem - n.req_mem)
            else fit(state, pod, n)
            for n in nodes
        ]

    def _ignored(self, name: str) -> bool:
        if not is_extended_resource(name):
            return False
        return name in self.ignored or name.partition("/")[0] in self.ignored_groups

    def pre_score(
        self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo]
    ) -> Status | None:
        state.write(_PRE_SCORE_KEY, [pod_request_for(pod, r.name, False) for r in self.resources])
        return None

    def score(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> int:
        requests: list[int] = state.read(_PRE_SCORE_KEY)
        requested, allocatable = node_vectors(node, self.resources, requests, False)
        return self.scorer(requested, allocatable)

    def score_nodes(self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo]) -> list[int]:
        if self.fast is None:
            return [self.score(state, pod, n) for n in nodes]
        return self.fast(pod.non_zero_cpu, pod.non_zero_mem, nodes)

    def events_to_register(self) -> list[ClusterEventWithHint]:
        pods = ClusterEvent(Resource.POD, ActionType.DELETE | ActionType.UPDATE_POD_SCALE_DOWN)
        nodes = ClusterEvent(
            Resource.NODE,
            ActionType.ADD
            | ActionType.UPDATE_NODE_ALLOCATABLE
            | ActionType.UPDATE_NODE_TAINT
            | ActionType.UPDATE_NODE_LABEL,
        )
        return [ClusterEventWithHint(pods), ClusterEventWithHint(nodes, self._fits_node)]

    def _fits_node(self, pod: PodInfo, old: Object | None, new: Object | None) -> QueueingHint:
        if new is None:
            return QUEUE_SKIP
        empty = NodeInfo(new)
        if self.filter(CycleState(), pod, empty) is not None:
            return QUEUE_SKIP  # it would not fit even on the empty node
        if old is None:
            return QUEUE
        before = NodeInfo(old)
        grew = (
            empty.alloc_cpu > before.alloc_cpu
            or empty.alloc_mem > before.alloc_mem
            or empty.alloc_eph > before.alloc_eph
            or empty.alloc_pods > before.alloc_pods
            or any(v > before.alloc_scalar.get(k, 0) for k, v in empty.alloc_scalar.items())
        )
        # Fits now, but if nothing the pod asks for grew, our verdict cannot have changed.
        return QUEUE if grew else QUEUE_SKIP
