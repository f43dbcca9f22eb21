"""Informer event handlers: what each cluster change means for the cache and the queue.

Promises, as upstream's ``addAllEventHandlers``:

* Pods with ``spec.nodeName`` are *assigned*: they go to the cache (confirming an assumed
  pod) and their arrival, change or departure is a cluster event that may requeue parked
  pods. Pods without it, for a scheduler name we serve, go to the queue; a pod that becomes
  assigned leaves the queue. Terminal pods never reach here (the informer's field selector
  excludes them, so finishing looks like a delete).
* Nodes go to the cache; adds, updates (classified by what changed) and deletes are events.
* PVC, PV and StorageClass adds and updates are events (VolumeBinding registers them).
* A pod that names a PriorityClass but has no ``spec.priority`` (admission did not run)
  gets the class's value from the informer cache.
* Handlers only update in-memory state; they never block and never touch the API.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from kybernetes.client import DeletedFinalStateUnknown, Informer
from kybernetes.scheduler._cache import SchedulerCache
from kybernetes.scheduler._events import (
    ASSIGNED_POD_ADD,
    ASSIGNED_POD_DELETE,
    NODE_ADD,
    NODE_DELETE,
    PV_ADD,
    PV_UPDATE,
    PVC_ADD,
    PVC_UPDATE,
    STORAGE_CLASS_ADD,
    STORAGE_CLASS_UPDATE,
    ClusterEvent,
    Object,
    Resource,
    node_update_actions,
    pod_update_actions,
)
from kybernetes.scheduler._podinfo import pod_uid
from kybernetes.scheduler._queue import SchedulingQueue

log = logging.getLogger("kyb.scheduler.events")

PriorityLookup = Callable[[str], int | None]


def _assigned(pod: Mapping[str, Any]) -> bool:
    return bool((pod.get("spec") or {}).get("nodeName"))


def _unwrap(obj: Object | DeletedFinalStateUnknown) -> Object:
    return obj.obj if isinstance(obj, DeletedFinalStateUnknown) else obj


class EventHandlers:
    def __init__(
        self,
        cache: SchedulerCache,
        queue: SchedulingQueue,
        scheduler_names: frozenset[str],
        priority_of: PriorityLookup,
    ) -> None:
        self.cache = cache
        self.queue = queue
        self.scheduler_names = scheduler_names
        self.priority_of = priority_of

    def _responsible(self, pod: Mapping[str, Any]) -> bool:
        name = (pod.get("spec") or {}).get("schedulerName") or "default-scheduler"
        return name in self.scheduler_names

    def _with_priority(self, pod: Object) -> Object:
        spec = pod.get("spec") or {}
        if spec.get("priority") is not None or not spec.get("priorityClassName"):
            return pod
        value = self.priority_of(str(spec["priorityClassName"]))
        if value is None:
            return pod
        copy = dict(pod)  # shallow: the cached object is shared and stays untouched
        copy["spec"] = {**spec, "priority": value}
        return copy

    # -- pods ------------------------------------------------------------------------------

    def on_pod_add(self, pod: Object) -> None:
        if _assigned(pod):
            self.cache.add_pod(pod)
            self.queue.move_all_to_active_or_backoff(ASSIGNED_POD_ADD, None, pod)
        elif self._responsible(pod):
            self.queue.add(self._with_priority(pod))

    def on_pod_update(self, old: Object, new: Object) -> None:
        if _assigned(new):
            if not _assigned(old):
                self.queue.delete(new)  # bound (by us or anyone): no longer ours to place
                self.cache.add_pod(new)
                self.queue.move_all_to_active_or_backoff(ASSIGNED_POD_ADD, None, new)
                return
            before = self.cache.pod(pod_uid(new))
            after = self.cache.update_pod(new)
            actions = pod_update_actions(before, after) if before is not None else None
            if actions:
                self.queue.move_all_to_active_or_backoff(
                    ClusterEvent(Resource.POD, actions), old, new
                )
        elif self._responsible(new):
            self.queue.update(self._with_priority(old), self._with_priority(new))

    def on_pod_delete(self, obj: Object | DeletedFinalStateUnknown) -> None:
        pod = _unwrap(obj)
        if _assigned(pod):
            self.cache.remove_pod(pod)
            self.queue.move_all_to_active_or_backoff(ASSIGNED_POD_DELETE, pod, None)
        else:
            self.queue.delete(pod)

    # -- nodes -----------------------------------------------------------------------------

    def on_node_add(self, node: Object) -> None:
        self.cache.add_node(node)
        self.queue.move_all_to_active_or_backoff(NODE_ADD, None, node)

    def on_node_update(self, old: Object, new: Object) -> None:
        self.cache.update_node(new)
        actions = node_update_actions(old, new)
        if actions:
            self.queue.move_all_to_active_or_backoff(ClusterEvent(Resource.NODE, actions), old, new)

    def on_node_delete(self, obj: Object | DeletedFinalStateUnknown) -> None:
        node = _unwrap(obj)
        self.cache.remove_node(str((node.get("metadata") or {}).get("name") or ""))
        self.queue.move_all_to_active_or_backoff(NODE_DELETE, node, None)

    # -- storage ---------------------------------------------------------------------------

    def _mover(self, event: ClusterEvent) -> Callable[..., None]:
        def move(*objs: Any) -> None:
            old = objs[0] if len(objs) == 2 else None
            self.queue.move_all_to_active_or_backoff(event, old, objs[-1])

        return move

    def register(self, informers: Mapping[str, Informer]) -> None:
        informers["pods"].add_event_handler(self.on_pod_add, self.on_pod_update, self.on_pod_delete)
        informers["nodes"].add_event_handler(
            self.on_node_add, self.on_node_update, self.on_node_delete
        )
        for name, added, updated in (
            ("pvcs", PVC_ADD, PVC_UPDATE),
            ("pvs", PV_ADD, PV_UPDATE),
            ("storageclasses", STORAGE_CLASS_ADD, STORAGE_CLASS_UPDATE),
        ):
            informers[name].add_event_handler(self._mover(added), self._mover(updated))
