"""NodeAffinity: ``nodeSelector`` and required node affinity filter nodes; preferred terms
add their weights to the score of nodes they match.

``addedAffinity`` (plugin args) is ANDed into every pod's constraints, as upstream's
scheduler-enforced node affinity. A pod whose terms cannot be parsed is unschedulable with
the parse error as its message. When every required term pins ``metadata.name``, PreFilter
narrows the candidate nodes to those names.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

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
from kybernetes.scheduler._framework import CycleState, PreFilterResult
from kybernetes.scheduler._handle import Handle
from kybernetes.scheduler._nodeinfo import NodeInfo
from kybernetes.scheduler._nodeselector import (
    AffinityError,
    NodeSelector,
    NodeSelectorTerm,
    RequiredNodeAffinity,
    parse_preferred_terms,
    parse_required_node_affinity,
)
from kybernetes.scheduler._podinfo import PodInfo
from kybernetes.scheduler._status import SKIP, ConfigError, Status, unresolvable
from kybernetes.scheduler.plugins._helpers import check_args, default_normalize_score

NAME = "NodeAffinity"
REASON_POD = "node(s) didn't match Pod's node affinity/selector"
REASON_ENFORCED = "node(s) didn't match scheduler-enforced node affinity"
_REJECT_POD = unresolvable(REASON_POD)
_REJECT_ENFORCED = unresolvable(REASON_ENFORCED)
_PRE_FILTER_KEY = "PreFilter" + NAME
_PRE_SCORE_KEY = "PreScore" + NAME


class NodeAffinity:
    name = NAME

    def __init__(self, args: Mapping[str, Any], handle: Handle | None = None) -> None:
        check_args(NAME, args, ["addedAffinity"])
        added = args.get("addedAffinity") or {}
        try:
            fake_pod = {"spec": {"affinity": {"nodeAffinity": added}}}
            required = parse_required_node_affinity(fake_pod).required
            self.added_preferred = parse_preferred_terms(fake_pod)
        except AffinityError as e:
            raise ConfigError(f"{NAME} args: addedAffinity: {e}") from None
        self.added_required: NodeSelector | None = required

    def pre_filter(
        self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo]
    ) -> tuple[PreFilterResult | None, Status | None]:
        try:
            required = pod.node_affinity()
            pod.preferred_node_affinity()  # validated now: a bad term is reported once
        except AffinityError as e:
            return None, unresolvable(f"invalid node affinity: {e}")
        if required.empty and self.added_required is None:
            return None, SKIP
        state.write(_PRE_FILTER_KEY, required)
        if required.required is None:
            return None, None
        names: set[str] = set()
        for term in required.required.terms:
            term_names = term.node_names()
            if term_names is None:
                return None, None
            names |= term_names
        return PreFilterResult(frozenset(names)), None

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status | None:
        if self.added_required is not None and not self.added_required.matches(
            node.labels, node.name
        ):
            return _REJECT_ENFORCED
        required: RequiredNodeAffinity | None = state.get(_PRE_FILTER_KEY)
        if required is not None and not required.matches(node.labels, node.name):
            return _REJECT_POD
        return None

    def filter_nodes(
        self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo]
    ) -> list[Status | None]:
        required: RequiredNodeAffinity | None = state.get(_PRE_FILTER_KEY)
        if self.added_required is None and required is not None:
            match = required.matches
            return [None if match(n.labels, n.name) else _REJECT_POD for n in nodes]
        return [self.filter(state, pod, n) for n in nodes]

    def pre_score(
        self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo]
    ) -> Status | None:
        try:
            preferred = pod.preferred_node_affinity() + self.added_preferred
        except AffinityError as e:
            return unresolvable(f"invalid node affinity: {e}")
        if not preferred:
            return SKIP
        state.write(_PRE_SCORE_KEY, preferred)
        return None

    def score(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> int:
        preferred: list[tuple[int, NodeSelectorTerm]] = state.read(_PRE_SCORE_KEY)
        return sum(w for w, term in preferred if term.matches(node.labels, node.name))

    def normalize_score(
        self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo], scores: list[int]
    ) -> Status | None:
        default_normalize_score(scores, reverse=False)
        return None

    def events_to_register(self) -> list[ClusterEventWithHint]:
        nodes = ClusterEvent(Resource.NODE, ActionType.ADD | ActionType.UPDATE_NODE_LABEL)
        return [ClusterEventWithHint(nodes, self._now_matches)]

    def _now_matches(self, pod: PodInfo, old: Object | None, new: Object | None) -> QueueingHint:
        if new is None:
            return QUEUE_SKIP
        try:
            required = pod.node_affinity()
        except AffinityError:
            return QUEUE_SKIP  # only the pod's own update can fix its terms
        meta = new.get("metadata") or {}
        labels, name = meta.get("labels") or {}, meta.get("name") or ""
        if self.added_required is not None and not self.added_required.matches(labels, name):
            return QUEUE_SKIP
        return QUEUE if required.matches(labels, name) else QUEUE_SKIP
