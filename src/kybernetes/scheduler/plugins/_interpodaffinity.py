"""InterPodAffinity: required pod affinity / anti-affinity filter nodes by the pods already
in each topology domain (existing pods' anti-affinity included); preferred terms score.

Promises, as upstream: namespaces default to the pod's own; ``namespaceSelector`` is
resolved against the Namespace objects; reasons are ``node(s) didn't match pod affinity
rules`` (UnschedulableAndUnresolvable), ``node(s) didn't match pod anti-affinity rules``
and ``node(s) didn't satisfy existing pods anti-affinity rules`` (Unschedulable: evicting
the pods in the way can help). A pod whose terms cannot be parsed is unschedulable with
the parse error. Args: ``hardPodAffinityWeight`` (default 1, 0..100) and
``ignorePreferredTermsOfExistingPods``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kybernetes.scheduler._events import ActionType, ClusterEvent, ClusterEventWithHint, Resource
from kybernetes.scheduler._framework import MAX_NODE_SCORE, CycleState, PreFilterResult
from kybernetes.scheduler._handle import Handle
from kybernetes.scheduler._nodeinfo import NodeInfo
from kybernetes.scheduler._podinfo import AffinityTerm, PodInfo
from kybernetes.scheduler._status import SKIP, Status, unresolvable, unschedulable
from kybernetes.scheduler.plugins._helpers import check_args, int_arg
from kybernetes.scheduler.plugins._interpodaffinity_filtering import PreFilterState
from kybernetes.scheduler.plugins._interpodaffinity_scoring import (
    TopologyScore,
    node_score,
    normalize,
    topology_scores,
)

NAME = "InterPodAffinity"
REASON_AFFINITY = "node(s) didn't match pod affinity rules"
REASON_ANTI_AFFINITY = "node(s) didn't match pod anti-affinity rules"
REASON_EXISTING_ANTI_AFFINITY = "node(s) didn't satisfy existing pods anti-affinity rules"
_REJECT_AFFINITY = unresolvable(REASON_AFFINITY)
_REJECT_ANTI = unschedulable(REASON_ANTI_AFFINITY)
_REJECT_EXISTING = unschedulable(REASON_EXISTING_ANTI_AFFINITY)
_PRE_FILTER_KEY = "PreFilter" + NAME
_PRE_SCORE_KEY = "PreScore" + NAME


class InterPodAffinity:
    name = NAME

    def __init__(self, args: Mapping[str, Any], handle: Handle) -> None:
        check_args(NAME, args, ["hardPodAffinityWeight", "ignorePreferredTermsOfExistingPods"])
        self.hard_weight = int_arg(NAME, args, "hardPodAffinityWeight", 1, 0, 100)
        self.ignore_existing_preferred = bool(args.get("ignorePreferredTermsOfExistingPods"))
        self.handle = handle

    def _resolve(self, terms: Sequence[AffinityTerm]) -> list[AffinityTerm]:
        out: list[AffinityTerm] = []
        for term in terms:
            if term.all_namespaces or term.namespace_selector.matches_nothing:
                out.append(term)
                continue
            names = frozenset(
                str((ns.get("metadata") or {}).get("name") or "")
                for ns in self.handle.cluster.namespaces()
                if term.namespace_selector.matches((ns.get("metadata") or {}).get("labels") or {})
            )
            out.append(term.with_namespaces(names))
        return out

    def pre_filter(
        self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo]
    ) -> tuple[PreFilterResult | None, Status | None]:
        if pod.affinity_error:
            return None, unresolvable(pod.affinity_error)
        snapshot = self.handle.snapshot
        with_anti = snapshot.have_pods_with_required_anti_affinity()
        if (
            not with_anti
            and not pod.required_affinity_terms
            and not pod.required_anti_affinity_terms
        ):
            return None, SKIP
        s = PreFilterState(
            pod,
            self._resolve(pod.required_affinity_terms),
            self._resolve(pod.required_anti_affinity_terms),
            self.handle.cluster.namespace_labels(pod.namespace),
        )
        s.count_existing_anti(with_anti)
        s.count_incoming(snapshot.list())
        if not s.existing_anti and not s.required and not s.required_anti:
            return None, SKIP
        state.write(_PRE_FILTER_KEY, s)
        return None, None

    def add_pod(
        self, state: CycleState, pod: PodInfo, pod_to_add: PodInfo, node: NodeInfo
    ) -> Status | None:
        s: PreFilterState = state.read(_PRE_FILTER_KEY)
        s.update_with_pod(pod_to_add, node, 1)
        return None

    def remove_pod(
        self, state: CycleState, pod: PodInfo, pod_to_remove: PodInfo, node: NodeInfo
    ) -> Status | None:
        s: PreFilterState = state.read(_PRE_FILTER_KEY)
        s.update_with_pod(pod_to_remove, node, -1)
        return None

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status | None:
        s: PreFilterState = state.read(_PRE_FILTER_KEY)
        if not s.satisfies_affinity(node):
            return _REJECT_AFFINITY
        if not s.satisfies_anti_affinity(node):
            return _REJECT_ANTI
        if not s.satisfies_existing_anti_affinity(node):
            return _REJECT_EXISTING
        return None

    def filter_nodes(
        self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo]
    ) -> list[Status | None]:
        s: PreFilterState = state.read(_PRE_FILTER_KEY)
        if not s.required and not s.anti and not s.existing_anti:
            return [None] * len(nodes)
        anti_keys = [t.topology_key for t in s.required_anti] if s.anti else []
        anti, existing = s.anti, s.existing_anti
        out: list[Status | None] = []
        for node in nodes:
            if s.required and not s.satisfies_affinity(node):
                out.append(_REJECT_AFFINITY)
                continue
            labels = node.labels
            status: Status | None = None
            for key in anti_keys:
                value = labels.get(key)
                if value is not None and anti.get((key, value), 0) > 0:
                    status = _REJECT_ANTI
                    break
            if status is None and existing:
                for pair in labels.items():
                    if existing.get(pair, 0) > 0:
                        status = _REJECT_EXISTING
                        break
            out.append(status)
        return out

    def pre_score(
        self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo]
    ) -> Status | None:
        if pod.affinity_error:
            return unresolvable(pod.affinity_error)
        preferred = pod.preferred_affinity_terms
        preferred_anti = pod.preferred_anti_affinity_terms
        has_constraints = bool(preferred or preferred_anti)
        if self.ignore_existing_preferred and not has_constraints:
            return SKIP
        snapshot = self.handle.snapshot
        candidates = snapshot.list() if has_constraints else snapshot.have_pods_with_affinity()
        if not candidates:
            return SKIP
        scores = topology_scores(
            pod,
            self._resolve(preferred),
            self._resolve(preferred_anti),
            self.handle.cluster.namespace_labels(pod.namespace),
            candidates,
            self.hard_weight,
        )
        if not scores:
            return SKIP
        state.write(_PRE_SCORE_KEY, scores)
        return None

    def score(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> int:
        scores: TopologyScore = state.read(_PRE_SCORE_KEY)
        return node_score(scores, node)

    def normalize_score(
        self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo], scores: list[int]
    ) -> Status | None:
        normalize(scores, MAX_NODE_SCORE)
        return None

    def events_to_register(self) -> list[ClusterEventWithHint]:
        pods = ClusterEvent(
            Resource.POD, ActionType.ADD | ActionType.UPDATE_POD_LABEL | ActionType.DELETE
        )
        nodes = ClusterEvent(Resource.NODE, ActionType.ADD | ActionType.UPDATE_NODE_LABEL)
        return [ClusterEventWithHint(pods), ClusterEventWithHint(nodes)]
