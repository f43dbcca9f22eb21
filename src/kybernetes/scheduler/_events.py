"""Cluster events and queueing hints: when to retry a pod that did not fit.

Each plugin that can reject a pod declares (``events_to_register``) the cluster events that
could make that pod schedulable again, each with an optional *queueing hint*: a function of
(pod, old object, new object) answering :data:`QUEUE` or :data:`QUEUE_SKIP`. When an event
arrives, an unschedulable pod moves back to the active (or backoff) queue only if one of
the plugins that rejected it registered a matching event and its hint (if any) says QUEUE.

Promises:

* :class:`ActionType` is a flag set; an update is classified into the precise flags that
  changed (:func:`node_update_actions`, :func:`pod_update_actions`), and a registration
  matches when resources are equal (or either is ``*``) and the flags intersect.
* A hint that raises is treated as QUEUE (retrying is always safe, missing a retry is not).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from kybernetes.scheduler._podinfo import PodInfo

Object = dict[str, Any]


class ActionType(enum.IntFlag):
    ADD = 1
    DELETE = 2
    UPDATE_NODE_ALLOCATABLE = 4
    UPDATE_NODE_LABEL = 8
    UPDATE_NODE_TAINT = 16
    UPDATE_NODE_CONDITION = 32
    UPDATE_NODE_ANNOTATION = 64
    UPDATE_POD_LABEL = 128
    UPDATE_POD_SCALE_DOWN = 256
    UPDATE_POD_TOLERATION = 512
    UPDATE_POD_SCHEDULING_GATES_ELIMINATED = 1024
    #: Any other update (of resources without finer classification).
    UPDATE_OTHER = 2048
    UPDATE = (
        UPDATE_NODE_ALLOCATABLE
        | UPDATE_NODE_LABEL
        | UPDATE_NODE_TAINT
        | UPDATE_NODE_CONDITION
        | UPDATE_NODE_ANNOTATION
        | UPDATE_POD_LABEL
        | UPDATE_POD_SCALE_DOWN
        | UPDATE_POD_TOLERATION
        | UPDATE_POD_SCHEDULING_GATES_ELIMINATED
        | UPDATE_OTHER
    )
    ALL = ADD | DELETE | UPDATE


class Resource(enum.StrEnum):
    #: Assigned pods (pods on nodes; pending pods' own updates are handled by the queue).
    POD = "Pod"
    NODE = "Node"
    PVC = "PersistentVolumeClaim"
    PV = "PersistentVolume"
    STORAGE_CLASS = "StorageClass"
    WILDCARD = "*"


@dataclass(frozen=True, slots=True)
class ClusterEvent:
    resource: Resource
    action: ActionType
    label: str = ""

    def matches(self, other: ClusterEvent) -> bool:
        """Whether a registration (self) covers an event that happened (other)."""
        same = self.resource == other.resource or Resource.WILDCARD in (
            self.resource,
            other.resource,
        )
        return same and bool(self.action & other.action)

    def __str__(self) -> str:
        return self.label or f"{self.resource}/{self.action!r}"


class QueueingHint(enum.Enum):
    QUEUE_SKIP = 0
    QUEUE = 1


QUEUE: Final = QueueingHint.QUEUE
QUEUE_SKIP: Final = QueueingHint.QUEUE_SKIP

#: hint(pending pod, old object or None, new object or None) -> QUEUE or QUEUE_SKIP
QueueingHintFn = Callable[[PodInfo, Object | None, Object | None], QueueingHint]


@dataclass(frozen=True, slots=True)
class ClusterEventWithHint:
    event: ClusterEvent
    hint: QueueingHintFn | None = None


# Events the scheduler itself reports (labels as upstream's, for logs).
NODE_ADD: Final = ClusterEvent(Resource.NODE, ActionType.ADD, "NodeAdd")
NODE_DELETE: Final = ClusterEvent(Resource.NODE, ActionType.DELETE, "NodeDelete")
ASSIGNED_POD_ADD: Final = ClusterEvent(Resource.POD, ActionType.ADD, "AssignedPodAdd")
ASSIGNED_POD_DELETE: Final = ClusterEvent(Resource.POD, ActionType.DELETE, "AssignedPodDelete")
PVC_ADD: Final = ClusterEvent(Resource.PVC, ActionType.ADD, "PvcAdd")
PVC_UPDATE: Final = ClusterEvent(Resource.PVC, ActionType.UPDATE, "PvcUpdate")
PV_ADD: Final = ClusterEvent(Resource.PV, ActionType.ADD, "PvAdd")
PV_UPDATE: Final = ClusterEvent(Resource.PV, ActionType.UPDATE, "PvUpdate")
STORAGE_CLASS_ADD: Final = ClusterEvent(Resource.STORAGE_CLASS, ActionType.ADD, "StorageClassAdd")
STORAGE_CLASS_UPDATE: Final = ClusterEvent(
    Resource.STORAGE_CLASS, ActionType.UPDATE, "StorageClassUpdate"
)
#: The periodic flush of pods left unschedulable too long: matches every registration.
UNSCHEDULABLE_TIMEOUT: Final = ClusterEvent(
    Resource.WILDCARD, ActionType.ALL, "UnschedulableTimeout"
)
#: Something happened that the scheduler cannot classify (e.g. a preemption): retry all.
WILDCARD_EVENT: Final = ClusterEvent(Resource.WILDCARD, ActionType.ALL, "WildCardEvent")


def _get(obj: Mapping[str, Any], *path: str) -> Any:
    value: Any = obj
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def _conditions(node: Mapping[str, Any]) -> dict[str, Any]:
    return {
        str(c.get("type")): c.get("status")
        for c in _get(node, "status", "conditions") or ()
        if isinstance(c, Mapping)
    }


def node_update_actions(old: Mapping[str, Any], new: Mapping[str, Any]) -> ActionType:
    """What changed between two versions of a Node (0 when nothing the scheduler reads)."""
    actions = ActionType(0)
    if _get(old, "status", "allocatable") != _get(new, "status", "allocatable"):
        actions |= ActionType.UPDATE_NODE_ALLOCATABLE
    if _get(old, "metadata", "labels") != _get(new, "metadata", "labels"):
        actions |= ActionType.UPDATE_NODE_LABEL
    if _get(old, "spec", "taints") != _get(new, "spec", "taints") or bool(
        _get(old, "spec", "unschedulable")
    ) != bool(_get(new, "spec", "unschedulable")):
        actions |= ActionType.UPDATE_NODE_TAINT
    if _conditions(old) != _conditions(new):
        actions |= ActionType.UPDATE_NODE_CONDITION
    if _get(old, "metadata", "annotations") != _get(new, "metadata", "annotations"):
        actions |= ActionType.UPDATE_NODE_ANNOTATION
    if _get(old, "status", "images") != _get(new, "status", "images"):
        actions |= ActionType.UPDATE_OTHER
    return actions


def pod_update_actions(old: PodInfo, new: PodInfo) -> ActionType:
    """What changed between two versions of a pod, for the plugins' registrations."""
    actions = ActionType(0)
    if old.labels != new.labels:
        actions |= ActionType.UPDATE_POD_LABEL
    if (
        new.req_cpu < old.req_cpu
        or new.req_mem < old.req_mem
        or new.req_eph < old.req_eph
        or any(v < old.req_scalar.get(k, 0) for k, v in new.req_scalar.items())
        or set(old.req_scalar) - set(new.req_scalar)
    ):
        actions |= ActionType.UPDATE_POD_SCALE_DOWN
    if old.tolerations != new.tolerations:
        actions |= ActionType.UPDATE_POD_TOLERATION
    old_gates = _get(old.pod, "spec", "schedulingGates")
    new_gates = _get(new.pod, "spec", "schedulingGates")
    if old_gates and not new_gates:
        actions |= ActionType.UPDATE_POD_SCHEDULING_GATES_ELIMINATED
    if not actions and old.pod.get("spec") != new.pod.get("spec"):
        actions |= ActionType.UPDATE_OTHER
    return actions
