"""Resource-based node scores shared by NodeResourcesFit and NodeResourcesBalancedAllocation.

Promises, as upstream's ``resourceAllocationScorer``:

* For cpu and memory the node's usage is the *non-zero* sum (containers without requests
  count 100m / 200Mi) unless ``use_requested``; ephemeral storage and scalar resources
  always use real requests. A scalar resource the pod does not request is left out.
* A resource the node does not offer (allocatable 0) is left out of the weighted average.
* ``LeastAllocated``: ``(capacity - requested) * 100 / capacity`` (0 when over capacity);
  ``MostAllocated``: ``requested * 100 / capacity`` (capped at 100);
  ``RequestedToCapacityRatio``: a piecewise-linear function of utilisation given by
  ``shape`` points (utilisation 0..100 -> score 0..10, scaled by 10). Integer arithmetic
  as upstream, so scores are identical.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kybernetes.scheduler._framework import MAX_NODE_SCORE
from kybernetes.scheduler._nodeinfo import NodeInfo
from kybernetes.scheduler._podinfo import PodInfo
from kybernetes.scheduler._resource import CPU, EPHEMERAL_STORAGE, MEMORY, is_scalar_resource
from kybernetes.scheduler._status import ConfigError

LEAST_ALLOCATED = "LeastAllocated"
MOST_ALLOCATED = "MostAllocated"
REQUESTED_TO_CAPACITY_RATIO = "RequestedToCapacityRatio"
STRATEGIES = (LEAST_ALLOCATED, MOST_ALLOCATED, REQUESTED_TO_CAPACITY_RATIO)

_MAX_UTILIZATION = 100
_MAX_CUSTOM_SCORE = 10


@dataclass(frozen=True, slots=True)
class ResourceSpec:
    name: str
    weight: int


DEFAULT_RESOURCES = (ResourceSpec(CPU, 1), ResourceSpec(MEMORY, 1))

#: scorer(requested per resource, allocatable per resource) -> score
Scorer = Callable[[list[int], list[int]], int]


def parse_resources(plugin: str, raw: Any) -> tuple[ResourceSpec, ...]:
    if raw is None:
        return DEFAULT_RESOURCES
    if not isinstance(raw, list) or not raw:
        raise ConfigError(f"{plugin} args: resources must be a non-empty list")
    out: list[ResourceSpec] = []
    for i, item in enumerate(raw):
        name = item.get("name") if isinstance(item, Mapping) else None
        weight = item.get("weight", 1) if isinstance(item, Mapping) else None
        if not isinstance(name, str) or not name:
            raise ConfigError(f"{plugin} args: resources[{i}].name is required")
        if not isinstance(weight, int) or isinstance(weight, bool) or not 1 <= weight <= 100:
            raise ConfigError(f"{plugin} args: resources[{i}].weight must be in [1, 100]")
        out.append(ResourceSpec(name, weight))
    return tuple(out)


def pod_request_for(pod: PodInfo, name: str, use_requested: bool) -> int:
    if name == CPU:
        return pod.req_cpu if use_requested else pod.non_zero_cpu
    if name == MEMORY:
        return pod.req_mem if use_requested else pod.non_zero_mem
    return pod.requests.get(name, 0)


def allocatable_and_requested(
    node: NodeInfo, name: str, pod_request: int, use_requested: bool
) -> tuple[int, int]:
    if name == CPU:
        used = node.req_cpu if use_requested else node.non_zero_cpu
        return node.alloc_cpu, used + pod_request
    if name == MEMORY:
        used = node.req_mem if use_requested else node.non_zero_mem
        return node.alloc_mem, used + pod_request
    if name == EPHEMERAL_STORAGE:
        return node.alloc_eph, node.req_eph + pod_request
    if pod_request == 0 and is_scalar_resource(name):
        return 0, 0
    if name in node.alloc_scalar:
        return node.alloc_scalar[name], node.req_scalar.get(name, 0) + pod_request
    return 0, 0


def node_vectors(
    node: NodeInfo,
    resources: Sequence[ResourceSpec],
    pod_requests: Sequence[int],
    use_requested: bool,
) -> tuple[list[int], list[int]]:
    requested = [0] * len(resources)
    allocatable = [0] * len(resources)
    for i, spec in enumerate(resources):
        alloc, req = allocatable_and_requested(node, spec.name, pod_requests[i], use_requested)
        if alloc:
            allocatable[i] = alloc
            requested[i] = req
    return requested, allocatable


def least_allocated(weights: Sequence[int]) -> Scorer:
    def score(requested: list[int], allocatable: list[int]) -> int:
        total = weight_sum = 0
        for req, cap, weight in zip(requested, allocatable, weights, strict=True):
            if cap == 0:
                continue
            resource_score = 0 if req > cap else (cap - req) * MAX_NODE_SCORE // cap
            total += resource_score * weight
            weight_sum += weight
        return total // weight_sum if weight_sum else 0

    return score


def most_allocated(weights: Sequence[int]) -> Scorer:
    def score(requested: list[int], allocatable: list[int]) -> int:
        total = weight_sum = 0
        for req, cap, weight in zip(requested, allocatable, weights, strict=True):
            if cap == 0:
                continue
            resource_score = min(req, cap) * MAX_NODE_SCORE // cap
            total += resource_score * weight
            weight_sum += weight
        return total // weight_sum if weight_sum else 0

    return score


def _go_div(a: int, b: int) -> int:
    """Integer division truncating toward zero (Go's), not flooring (Python's)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def parse_shape(plugin: str, raw: Any) -> list[tuple[int, int]]:
    points = (raw or {}).get("shape") if isinstance(raw, Mapping) else None
    if not isinstance(points, list) or not points:
        raise ConfigError(f"{plugin} args: requestedToCapacityRatio.shape must be a non-empty list")
    out: list[tuple[int, int]] = []
    for i, point in enumerate(points):
        util = point.get("utilization") if isinstance(point, Mapping) else None
        value = point.get("score") if isinstance(point, Mapping) else None
        if not isinstance(util, int) or not 0 <= util <= _MAX_UTILIZATION:
            raise ConfigError(f"{plugin} args: shape[{i}].utilization must be in [0, 100]")
        if not isinstance(value, int) or not 0 <= value <= _MAX_CUSTOM_SCORE:
            raise ConfigError(f"{plugin} args: shape[{i}].score must be in [0, 10]")
        if out and util <= out[-1][0]:
            raise ConfigError(f"{plugin} args: shape utilization values must increase")
        out.append((util, value * (MAX_NODE_SCORE // _MAX_CUSTOM_SCORE)))
    return out


def _broken_linear(shape: list[tuple[int, int]]) -> Callable[[int], int]:
    def f(p: int) -> int:
        for i, (util, value) in enumerate(shape):
            if p <= util:
                if i == 0:
                    return shape[0][1]
                prev_util, prev_value = shape[i - 1]
                return prev_value + _go_div(
                    (value - prev_value) * (p - prev_util), util - prev_util
                )
        return shape[-1][1]

    return f


def requested_to_capacity_ratio(weights: Sequence[int], shape: list[tuple[int, int]]) -> Scorer:
    raw = _broken_linear(shape)

    def resource_score(req: int, cap: int) -> int:
        if cap == 0 or req > cap:
            return raw(_MAX_UTILIZATION)
        return raw(req * _MAX_UTILIZATION // cap)

    def score(requested: list[int], allocatable: list[int]) -> int:
        total = weight_sum = 0
        for req, cap, weight in zip(requested, allocatable, weights, strict=True):
            if cap == 0:
                continue
            value = resource_score(req, cap)
            if value > 0:
                total += value * weight
                weight_sum += weight
        # math.Round: halves away from zero (scores are never negative here).
        return (2 * total + weight_sum) // (2 * weight_sum) if weight_sum else 0

    return score


FastScorer = Callable[[int, int, Sequence[NodeInfo]], list[int]]


class NodeScoreMemo:
    """Scores remembered per node until the node changes (its ``generation`` moves) or the
    pod's request differs: replicas of one workload arrive in a row with equal requests,
    and most nodes do not change between their cycles. Same answers, fewer computations."""

    __slots__ = ("_key", "_scores")

    def __init__(self) -> None:
        self._key: tuple[int, int] | None = None
        self._scores: dict[str, tuple[int, int]] = {}

    def table(self, pod_cpu: int, pod_mem: int) -> dict[str, tuple[int, int]]:
        key = (pod_cpu, pod_mem)
        if key != self._key:
            self._key = key
            self._scores = {}
        return self._scores


def cpu_memory_scorer(
    kind: str, resources: Sequence[ResourceSpec], *, use_requested: bool
) -> FastScorer | None:
    """A whole-list scorer for the usual resources (cpu, memory) and the Least/Most
    allocated strategies: the same integers as the generic path, without its per-node
    vectors. None when the configuration is anything else."""
    if [r.name for r in resources] != [CPU, MEMORY] or kind not in (
        LEAST_ALLOCATED,
        MOST_ALLOCATED,
    ):
        return None
    wc, wm = resources[0].weight, resources[1].weight
    least = kind == LEAST_ALLOCATED
    memo = NodeScoreMemo()

    def one(n: NodeInfo, pod_cpu: int, pod_mem: int) -> int:
        ac, am = n.alloc_cpu, n.alloc_mem
        rc = (n.req_cpu if use_requested else n.non_zero_cpu) + pod_cpu
        rm = (n.req_mem if use_requested else n.non_zero_mem) + pod_mem
        total = weight = 0
        if ac:
            if least:
                total += (0 if rc > ac else (ac - rc) * MAX_NODE_SCORE // ac) * wc
            else:
                total += (min(rc, ac) * MAX_NODE_SCORE // ac) * wc
            weight += wc
        if am:
            if least:
                total += (0 if rm > am else (am - rm) * MAX_NODE_SCORE // am) * wm
            else:
                total += (min(rm, am) * MAX_NODE_SCORE // am) * wm
            weight += wm
        return total // weight if weight else 0

    def score(pod_cpu: int, pod_mem: int, nodes: Sequence[NodeInfo]) -> list[int]:
        table = memo.table(pod_cpu, pod_mem)
        out: list[int] = []
        append = out.append
        for n in nodes:
            hit = table.get(n.name)
            if hit is not None and hit[0] == n.generation:
                append(hit[1])
                continue
            value = one(n, pod_cpu, pod_mem)
            table[n.name] = (n.generation, value)
            append(value)
        return out

    return score
