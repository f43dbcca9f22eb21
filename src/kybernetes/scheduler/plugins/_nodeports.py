"""NodePorts: a pod's host ports must be free on the node (same protocol and port, on the
same address or 0.0.0.0)."""

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
from kybernetes.scheduler._status import SKIP, Status, unschedulable

NAME = "NodePorts"
REASON = "node(s) didn't have free ports for the requested pod ports"
_REJECT = unschedulable(REASON)


class NodePorts:
    name = NAME

    def pre_filter(
        self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo]
    ) -> tuple[PreFilterResult | None, Status | None]:
        return None, None if pod.host_ports else SKIP

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status | None:
        return _REJECT if node.port_conflict(pod.host_ports) else None

    def events_to_register(self) -> list[ClusterEventWithHint]:
        return [
            ClusterEventWithHint(ClusterEvent(Resource.POD, ActionType.DELETE), _freed_port),
            ClusterEventWithHint(ClusterEvent(Resource.NODE, ActionType.ADD | ActionType.UPDATE)),
        ]


def _freed_port(pod: PodInfo, old: Object | None, new: Object | None) -> QueueingHint:
    if old is None:
        return QUEUE
    deleted = PodInfo(old)
    wanted = {(proto, port) for _, proto, port in pod.host_ports}
    freed = {(proto, port) for _, proto, port in deleted.host_ports}
    return QUEUE if wanted & freed else QUEUE_SKIP
