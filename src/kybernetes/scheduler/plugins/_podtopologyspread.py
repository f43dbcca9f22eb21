"""PodTopologySpread: keep matching pods spread over topology domains.

Filter (``whenUnsatisfiable: DoNotSchedule``): a node passes when, for every constraint,
it has the topology key and ``pods matching in its domain + (1 if the pod matches itself)
- global minimum <= maxSkew``; the minimum is over eligible domains (nodes that pass the
node inclusion policies), taken as 0 while fewer than ``minDomains`` domains exist.
Score (``ScheduleAnyway`` and the default constraints): fewer matching pods in a node's
domains scores higher (weighted by log(domains + 2)), normalised to 0..100.

Reasons: ``node(s) didn't match pod topology spread constraints`` (Unschedulable) and
``... (missing required label)`` (UnschedulableAndUnresolvable). Args: ``defaultConstraints``
and ``defaultingType`` (``System``, the default, or ``List``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from kybernetes.api import SelectorError
from kybernetes.scheduler._events import ActionType, ClusterEvent, ClusterEventWithHint, Resource
from kybernetes.scheduler._framework import MAX_NODE_SCORE, CycleState, PreFilterResult
from kybernetes.scheduler._handle import Handle
from kybernetes.scheduler._nodeinfo import NodeInfo
from kybernetes.scheduler._nodeselector import AffinityError
from kybernetes.scheduler._podinfo import PodInfo
from kybernetes.scheduler._status import SKIP, ConfigError, Status, unresolvable, unschedulable
from kybernetes.scheduler.plugins._helpers import check_args
from kybernetes.scheduler.plugins._podtopologyspread_common import (
    DO_NOT_SCHEDULE,
    LABEL_HOSTNAME,
    SCHEDULE_ANYWAY,
    SYSTEM_DEFAULT_CONSTRAINTS,
    Constraint,
    FilterState,
    Pair,
    count_matching,
    default_selector,
    has_all_keys,
    parse_constraints,
)

NAME = "PodTopologySpread"
REASON = "node(s) didn't match pod topology spread constraints"
REASON_MISSING_LABEL = REASON + " (missing required label)"
_REJECT = unschedulable(REASON)
_REJECT_MISSING = unresolvable(REASON_MISSING_LABEL)
_PRE_FILTER_KEY = "PreFilter" + NAME
_PRE_SCORE_KEY = "PreScore" + NAME


class _ScoreState:
    __slots__ = ("constraints", "ignored", "pair_counts", "weights")

    def __init__(self, constraints: list[Constraint]) -> None:
        self.constraints = constraints
        self.ignored: set[str] = set()
        self.pair_counts: dict[Pair, int] = {}
        self.weights: list[float] = []


class PodTopologySpread:
    name = NAME

    def __init__(self, args: Mapping[str, Any], handle: Handle) -> None:
        check_args(NAME, args, ["defaultConstraints", "defaultingType"])
        kind = args.get("defaultingType") or "System"
        raw = args.get("defaultConstraints") or []
        if kind not in ("System", "List"):
            raise ConfigError(f"{NAME} args: defaultingType must be System or List, got {kind!r}")
        if kind == "System" and raw:
            raise ConfigError(
                f"{NAME} args: defaultConstraints must be empty with defaultingType System"
            )
        for i, c in enumerate(raw):
            if not isinstance(c, Mapping) or c.get("labelSelector") is not None:
                raise ConfigError(
                    f"{NAME} args: defaultConstraints[{i}] must be an object without labelSelector"
                )
        self.defaults: tuple[Mapping[str, Any], ...] = (
            SYSTEM_DEFAULT_CONSTRAINTS if kind == "System" else tuple(raw)
        )
        self.system_defaulted = kind == "System"
        self.handle = handle

    def _constraints(self, pod: PodInfo, action: str) -> list[Constraint]:
        own = (pod.pod.get("spec") or {}).get("topologySpreadConstraints") or []
        if own:
            return parse_constraints(own, pod.labels, action)
        constraints = parse_constraints(self.defaults, pod.labels, action)
        if not constraints:
            return []
        selector = default_selector(pod, self.handle.cluster)
        if selector.empty:
            return []
        return [
            Constraint(c.max_skew, c.topology_key, selector, c.min_domains) for c in constraints
        ]

    # -- filtering -------------------------------------------------------------------------

    def pre_filter(
        self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo]
    ) -> tuple[PreFilterResult | None, Status | None]:
        try:
            constraints = self._constraints(pod, DO_NOT_SCHEDULE)
            required = pod.node_affinity() if constraints else None
        except (SelectorError, AffinityError) as e:
            return None, unresolvable(f"invalid topology spread constraint: {e}")
        if not constraints or required is None:
            return None, SKIP
        s = FilterState(constraints, required)
        s.count(pod, self.handle.snapshot.list())
        state.write(_PRE_FILTER_KEY, s)
        return None, None

    def add_pod(
        self, state: CycleState, pod: PodInfo, pod_to_add: PodInfo, node: NodeInfo
    ) -> Status | None:
        s: FilterState = state.read(_PRE_FILTER_KEY)
        s.update_with_pod(pod_to_add, pod, node, 1)
        return None

    def remove_pod(
        self, state: CycleState, pod: PodInfo, pod_to_remove: PodInfo, node: NodeInfo
    ) -> Status | None:
        s: FilterState = state.read(_PRE_FILTER_KEY)
        s.update_with_pod(pod_to_remove, pod, node, -1)
        return None

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status | None:
        s: FilterState = state.read(_PRE_FILTER_KEY)
        labels = node.labels
        for c, self_match in zip(s.constraints, s.self_match, strict=True):
            value = labels.get(c.topology_key)
            if value is None:
                return _REJECT_MISSING
            matched = s.match_num.get((c.topology_key, value), 0)
            if matched + self_match - s.min_match(c) > c.max_skew:
                return _REJECT
        return None

    def filter_nodes(
        self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo]
    ) -> list[Status | None]:
        s: FilterState = state.read(_PRE_FILTER_KEY)
        # Per constraint: (key, maxSkew, self match - global minimum), fixed for the call.
        specs = [
            (c.topology_key, c.max_skew, self_match - s.min_match(c))
            for c, self_match in zip(s.constraints, s.self_match, strict=True)
        ]
        match_num = s.match_num
        out: list[Status | None] = []
        for node in nodes:
            labels = node.labels
            status: Status | None = None
            for key, max_skew, base in specs:
                value = labels.get(key)
                if value is None:
                    status = _REJECT_MISSING
                    break
                if match_num.get((key, value), 0) + base > max_skew:
                    status = _REJECT
                    break
            out.append(status)
        return out

    # -- scoring ---------------------------------------------------------------------------

    def pre_score(
        self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo]
    ) -> Status | None:
        all_nodes = self.handle.snapshot.list()
        if not nodes or not all_nodes:
            return SKIP
        try:
            constraints = self._constraints(pod, SCHEDULE_ANYWAY)
            if not constraints:
                return SKIP
            required = pod.node_affinity()
        except (SelectorError, AffinityError) as e:
            return unresolvable(f"invalid topology spread constraint: {e}")
        own = bool((pod.pod.get("spec") or {}).get("topologySpreadConstraints"))
        require_all = own or not self.system_defaulted
        s = _ScoreState(constraints)
        domains = [0] * len(constraints)
        for node in nodes:
            if require_all and not has_all_keys(node.labels, constraints):
                s.ignored.add(node.name)
                continue
            for i, c in enumerate(constraints):
                if c.topology_key == LABEL_HOSTNAME:
                    continue  # per-node counts are made in score
                pair = (c.topology_key, node.labels.get(c.topology_key, ""))
                if pair not in s.pair_counts:
                    s.pair_counts[pair] = 0
                    domains[i] += 1
        for i, c in enumerate(constraints):
            size = len(nodes) - len(s.ignored) if c.topology_key == LABEL_HOSTNAME else domains[i]
            s.weights.append(math.log(size + 2))
        for node in all_nodes:
            if require_all and not has_all_keys(node.labels, constraints):
                continue
            for c in constraints:
                if not c.includes_node(pod, node, required):
                    continue
                pair = (c.topology_key, node.labels.get(c.topology_key, ""))
                if pair in s.pair_counts:
                    s.pair_counts[pair] += count_matching(node.pods, c.selector, pod.namespace)
        state.write(_PRE_SCORE_KEY, s)
        return None

    def score(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> int:
        s: _ScoreState = state.read(_PRE_SCORE_KEY)
        if node.name in s.ignored:
            return 0
        total = 0.0
        for i, c in enumerate(s.constraints):
            value = node.labels.get(c.topology_key)
            if value is None:
                continue
            if c.topology_key == LABEL_HOSTNAME:
                count = count_matching(node.pods, c.selector, pod.namespace)
            else:
                count = s.pair_counts.get((c.topology_key, value), 0)
            total += count * s.weights[i] + (c.max_skew - 1)
        return _round_half_away(total)

    def normalize_score(
        self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo], scores: list[int]
    ) -> Status | None:
        s: _ScoreState = state.read(_PRE_SCORE_KEY)
        valid = [
            score for node, score in zip(nodes, scores, strict=True) if node.name not in s.ignored
        ]
        low = min(valid, default=0)
        high = max(valid, default=0)
        for i, node in enumerate(nodes):
            if node.name in s.ignored:
                scores[i] = 0
            elif high == 0:
                scores[i] = MAX_NODE_SCORE
            else:
                scores[i] = MAX_NODE_SCORE * (high + low - scores[i]) // high
        return None

    def events_to_register(self) -> list[ClusterEventWithHint]:
        pods = ClusterEvent(
            Resource.POD, ActionType.ADD | ActionType.UPDATE_POD_LABEL | ActionType.DELETE
        )
        nodes = ClusterEvent(
            Resource.NODE,
            ActionType.ADD
            | ActionType.DELETE
            | ActionType.UPDATE_NODE_LABEL
            | ActionType.UPDATE_NODE_TAINT,
        )
        return [ClusterEventWithHint(pods), ClusterEventWithHint(nodes)]


def _round_half_away(x: float) -> int:
    """Go's ``math.Round``: halves away from zero (Python's ``round`` goes to even)."""
    return math.floor(x + 0.5) if x >= 0 else -math.floor(-x + 0.5)
