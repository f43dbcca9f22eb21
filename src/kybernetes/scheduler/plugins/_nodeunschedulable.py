"""NodeUnschedulable: cordoned nodes (``spec.unschedulable``) take only pods that tolerate
the ``node.kubernetes.io/unschedulable:NoSchedule`` taint."""

from __future__ import annotations

import operator
from collections.abc import Sequence

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
from kybernetes.scheduler._status import Status, unresolvable
from kybernetes.scheduler._taints import NO_SCHEDULE, TAINT_NODE_UNSCHEDULABLE, tolerations_tolerate

#: C-level attribute access: these flags are checked for every node of every cycle.
_UNSCHEDULABLE = operator.attrgetter("unschedulable")
NAME = "NodeUnschedulable"
REASON = "node(s) were unschedulable"
_REJECT = unresolvable(REASON)
_TAINT = {"key": TAINT_NODE_UNSCHEDULABLE, "effect": NO_SCHEDULE}


class NodeUnschedulable:
    name = NAME

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status | None:
        if not node.unschedulable or tolerations_tolerate(pod.tolerations, _TAINT):
            return None
        return _REJECT

    def filter_nodes(
        self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo]
    ) -> list[Status | None]:
        if not any(map(_UNSCHEDULABLE, nodes)):
            return [None] * len(nodes)
        return [self.filter(state, pod, n) for n in nodes]

    def events_to_register(self) -> list[ClusterEventWithHint]:
        nodes = ClusterEvent(Resource.NODE, ActionType.ADD | ActionType.UPDATE_NODE_TAINT)
        return [ClusterEventWithHint(nodes, _schedulable_now)]


def _schedulable_now(pod: PodInfo, old: Object | None, new: Object | None) -> QueueingHint:
    unschedulable = bool(((new or {}).get("spec") or {}).get("unschedulable"))
    if not unschedulable or tolerations_tolerate(pod.tolerations, _TAINT):
        return QUEUE
    return QUEUE_SKIP
