"""NodeName: a pod that names a node (``spec.nodeName``) fits only that node."""

from __future__ import annotations

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
from kybernetes.scheduler._framework import CycleState, PreFilterResult
from kybernetes.scheduler._nodeinfo import NodeInfo
from kybernetes.scheduler._podinfo import PodInfo
from kybernetes.scheduler._status import SKIP, Status, unresolvable

NAME = "NodeName"
REASON = "node(s) didn't match the requested node name"
_REJECT = unresolvable(REASON)


class NodeName:
    name = NAME

    def pre_filter(
        self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo]
    ) -> tuple[PreFilterResult | None, Status | None]:
        # Nothing to check for the usual pod (no nodeName): skip the per-node Filter.
        return None, None if pod.node_name else SKIP

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status | None:
        if pod.node_name and pod.node_name != node.name:
            return _REJECT
        return None

    def events_to_register(self) -> list[ClusterEventWithHint]:
        event = ClusterEvent(Resource.NODE, ActionType.ADD | ActionType.UPDATE_NODE_LABEL)
        return [ClusterEventWithHint(event, _node_named)]


def _node_named(pod: PodInfo, old: Object | None, new: Object | None) -> QueueingHint:
    name = ((new or {}).get("metadata") or {}).get("name")
    return QUEUE if not pod.node_name or name == pod.node_name else QUEUE_SKIP
