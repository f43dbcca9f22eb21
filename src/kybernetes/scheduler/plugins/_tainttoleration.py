"""TaintToleration: NoSchedule/NoExecute taints a pod does not tolerate exclude the node;
untolerated PreferNoSchedule taints lower its score.

Node conditions reach the scheduler as taints (not-ready, unreachable, memory/disk/PID
pressure), so this plugin is also what keeps pods off unhealthy nodes. Score is the count
of untolerated PreferNoSchedule taints, normalized in reverse (fewer is better).
"""

from __future__ import annotations

import operator
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
from kybernetes.scheduler._framework import CycleState
from kybernetes.scheduler._nodeinfo import NodeInfo
from kybernetes.scheduler._podinfo import PodInfo
from kybernetes.scheduler._status import SKIP, Status, unresolvable
from kybernetes.scheduler._taints import (
    PREFER_NO_SCHEDULE,
    find_untolerated,
    node_taints,
    tolerations_tolerate,
)
from kybernetes.scheduler.plugins._helpers import default_normalize_score

#: C-level attribute access: these flags are checked for every node of every cycle.
_TAINTS = operator.attrgetter("taints")
_PREFER = operator.attrgetter("prefer_no_schedule_taints")
NAME = "TaintToleration"
_STATE_KEY = "PreScore" + NAME


class TaintToleration:
    name = NAME

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status | None:
        if not node.taints:
            return None
        taint = find_untolerated(node.taints, pod.tolerations)
        if taint is None:
            return None
        key, value = taint.get("key") or "", taint.get("value") or ""
        return unresolvable(f"node(s) had untolerated taint {{{key}: {value}}}")

    def filter_nodes(
        self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo]
    ) -> list[Status | None]:
        if not any(map(_TAINTS, nodes)):
            return [None] * len(nodes)
        return [self.filter(state, pod, n) if n.taints else None for n in nodes]

    def pre_score(
        self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo]
    ) -> Status | None:
        # Every node scores the same when none has a PreferNoSchedule taint: skipping the
        # plugin then changes no total's order, and saves a call per node.
        if not any(map(_PREFER, nodes)):
            return SKIP
        tolerations = [
            t
            for t in pod.tolerations
            if (t.get("effect") or PREFER_NO_SCHEDULE) == PREFER_NO_SCHEDULE
        ]
        state.write(_STATE_KEY, tolerations)
        return None

    def score(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> int:
        tolerations: list[Mapping[str, Any]] = state.read(_STATE_KEY)
        return sum(
            1 for t in node.prefer_no_schedule_taints if not tolerations_tolerate(tolerations, t)
        )

    def normalize_score(
        self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo], scores: list[int]
    ) -> Status | None:
        default_normalize_score(scores, reverse=True)
        return None

    def events_to_register(self) -> list[ClusterEventWithHint]:
        nodes = ClusterEvent(
            Resource.NODE,
            ActionType.ADD | ActionType.UPDATE_NODE_TAINT | ActionType.UPDATE_NODE_LABEL,
        )
        return [ClusterEventWithHint(nodes, _now_tolerated)]


def _now_tolerated(pod: PodInfo, old: Object | None, new: Object | None) -> QueueingHint:
    was = old is None or find_untolerated(node_taints(old), pod.tolerations) is not None
    now = new is not None and find_untolerated(node_taints(new), pod.tolerations) is not None
    return QUEUE if was and not now else QUEUE_SKIP
