"""The scheduling queue: active, backoff and unschedulable pods, plus nominations.

Theory of operation (upstream's ``PriorityQueue``):

* **activeQ** is a heap in the profile's queue-sort order (PrioritySort: higher priority,
  then earlier enqueue time, then arrival); :meth:`SchedulingQueue.pop` hands out its head
  and marks the pod *in flight* until :meth:`done`.
* **backoffQ** holds pods waiting out their backoff: ``initial * 2^(attempts-1)`` capped at
  ``max`` (1 s doubling to 10 s by default), counted from their last enqueue time.
  :meth:`flush_backoff_completed` (run every second) moves the expired ones to activeQ.
* **unschedulable pods** failed for a reason some cluster event must change. An event
  (:meth:`move_all_to_active_or_backoff`) moves a pod back only when a plugin that rejected
  it registered that event and its queueing hint says QUEUE; a pod that has been waiting
  longer than ``unschedulable_timeout`` (5 min) is moved by
  :meth:`flush_unschedulable_leftover` regardless. A pod that failed with an error, or with
  no plugin to blame, goes to backoffQ instead.
* **PreEnqueue**: a pod a PreEnqueue plugin rejects (scheduling gates) is parked with the
  unschedulable pods and re-checked on each of its own updates.
* Updates of a parked pod that change what scheduling reads (labels, spec) move it; status
  updates (e.g. the scheduler's own condition) do not, so writing status never loops.
* The **nominator** remembers pods nominated to nodes by preemption (or by
  ``status.nominatedNodeName``), so filters count them on those nodes.
* Pure bookkeeping on an injectable clock; the only await is in :meth:`pop`.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Final, Protocol

from kybernetes.client import Clock
from kybernetes.scheduler._events import (
    QUEUE,
    UNSCHEDULABLE_TIMEOUT,
    ClusterEvent,
    ClusterEventWithHint,
    Object,
    Resource,
    pod_update_actions,
)
from kybernetes.scheduler._podinfo import PodInfo, pod_uid
from kybernetes.scheduler._status import Status

log = logging.getLogger("kyb.scheduler.queue")

ACTIVE: Final = "active"
BACKOFF: Final = "backoff"
UNSCHEDULABLE: Final = "unschedulable"
IN_FLIGHT: Final = "in-flight"

DEFAULT_UNSCHEDULABLE_TIMEOUT: Final = 300.0


class QueueProfile(Protocol):
    """What the queue needs from one profile's framework."""

    def run_pre_enqueue(self, pod: PodInfo) -> tuple[Status, str] | None: ...

    def queueing_hints(self) -> Mapping[str, Sequence[ClusterEventWithHint]]:
        """Plugin name -> the events (with hints) it registered."""
        ...


class QueuedPodInfo:
    __slots__ = (
        "attempts",
        "gated_by",
        "initial_attempt_timestamp",
        "pod",
        "queue",
        "seq",
        "timestamp",
        "unschedulable_plugins",
    )

    def __init__(self, pod: PodInfo, now: float, seq: int) -> None:
        self.pod = pod
        self.timestamp = now
        self.initial_attempt_timestamp: float | None = None
        self.attempts = 0
        self.unschedulable_plugins: set[str] = set()
        self.gated_by = ""
        self.queue = ""
        self.seq = seq

    def __repr__(self) -> str:
        return f"QueuedPodInfo({self.pod.key}, {self.queue}, attempts={self.attempts})"


SortKey = Callable[[PodInfo, float], tuple[Any, ...]]


def _default_sort_key(pod: PodInfo, timestamp: float) -> tuple[Any, ...]:
    return (-pod.priority, timestamp)


class SchedulingQueue:
    def __init__(
        self,
        profiles: Mapping[str, QueueProfile],
        clock: Clock,
        *,
        sort_key: SortKey = _default_sort_key,
        initial_backoff: float = 1.0,
        max_backoff: float = 10.0,
        unschedulable_timeout: float = DEFAULT_UNSCHEDULABLE_TIMEOUT,
    ) -> None:
        self._profiles = profiles
        self._clock = clock
        self.sort_key = sort_key
        self.initial_backoff = initial_backoff
        self.max_backoff = max_backoff
        self.unschedulable_timeout = unschedulable_timeout
        self._pods: dict[str, QueuedPodInfo] = {}
        self._active: list[tuple[tuple[Any, ...], int, QueuedPodInfo]] = []
        self._active_count = 0
        self._backoff: list[tuple[float, int, QueuedPodInfo]] = []
        self._unschedulable: dict[str, QueuedPodInfo] = {}
        self._seq = itertools.count()
        self._ready = asyncio.Event()
        self._closed = False
        self.scheduling_cycle = 0
        self._nominated: dict[str, tuple[PodInfo, str]] = {}
        self._nominated_by_node: dict[str, dict[str, PodInfo]] = {}

    # -- adding and removing -----------------------------------------------------------

    def add(self, pod: Object) -> None:
        """A new pending pod."""
        pi = PodInfo(pod)
        if pi.uid in self._pods:
            self.update(self._pods[pi.uid].pod.pod, pod)
            return
        qpi = QueuedPodInfo(pi, self._clock.now(), next(self._seq))
        self._pods[pi.uid] = qpi
        self._nominate_from_status(pi)
        self._enqueue_checked(qpi)

    def _enqueue_checked(self, qpi: QueuedPodInfo) -> None:
        profile = self._profiles.get(qpi.pod.scheduler_name)
        rejected = profile.run_pre_enqueue(qpi.pod) if profile is not None else None
        if rejected is not None:
            qpi.gated_by = rejected[1]
            self._to_unschedulable(qpi)
        else:
            qpi.gated_by = ""
            self._to_active(qpi)

    def update(self, old: Object, new: Object) -> None:
        qpi = self._pods.get(pod_uid(new))
        if qpi is None:
            self.add(new)
            return
        old_pi = qpi.pod
        pi = qpi.pod = old_pi.with_pod(new)
        self._nominate_from_status(pi)
        if qpi.queue == ACTIVE:
            self._push_active(qpi)  # its order may have changed; the old entry goes stale
        elif qpi.queue == UNSCHEDULABLE:
            if qpi.gated_by:
                self._unschedulable.pop(pi.uid, None)
                self._enqueue_checked(qpi)
            elif pod_update_actions(old_pi, pi):
                self._unschedulable.pop(pi.uid, None)
                self._requeue(qpi)

    def delete(self, pod: Object) -> None:
        uid = pod_uid(pod)
        qpi = self._pods.pop(uid, None)
        self.delete_nominated(uid)
        if qpi is None:
            return
        if qpi.queue == ACTIVE:
            self._active_count -= 1
        self._unschedulable.pop(uid, None)
        qpi.queue = ""  # stale heap entries are skipped

    def done(self, uid: str) -> None:
        """Stop tracking an in-flight pod: it is bound (or its binding is under way)."""
        qpi = self._pods.get(uid)
        if qpi is not None and qpi.queue == IN_FLIGHT:
            del self._pods[uid]

    # -- the three queues --------------------------------------------------------------

    def _push_active(self, qpi: QueuedPodInfo) -> None:
        qpi.seq = next(self._seq)
        key = self.sort_key(qpi.pod, qpi.timestamp)
        heapq.heappush(self._active, (key, qpi.seq, qpi))

    def _to_active(self, qpi: QueuedPodInfo) -> None:
        if qpi.queue != ACTIVE:
            self._active_count += 1
        qpi.queue = ACTIVE
        self._push_active(qpi)
        self._ready.set()

    def _to_backoff(self, qpi: QueuedPodInfo) -> None:
        qpi.queue = BACKOFF
        qpi.seq = next(self._seq)
        heapq.heappush(self._backoff, (self.backoff_expiry(qpi), qpi.seq, qpi))

    def _to_unschedulable(self, qpi: QueuedPodInfo) -> None:
        qpi.queue = UNSCHEDULABLE
        self._unschedulable[qpi.pod.uid] = qpi

    def backoff_duration(self, qpi: QueuedPodInfo) -> float:
        duration = self.initial_backoff
        for _ in range(1, qpi.attempts):
            if duration > self.max_backoff - duration:
                return self.max_backoff
            duration += duration
        return duration

    def backoff_expiry(self, qpi: QueuedPodInfo) -> float:
        return qpi.timestamp + self.backoff_duration(qpi)

    def _requeue(self, qpi: QueuedPodInfo) -> None:
        """Back to activeQ, or to backoffQ while it is still backing off."""
        if qpi.attempts and self.backoff_expiry(qpi) > self._clock.now():
            self._to_backoff(qpi)
        else:
            self._to_active(qpi)

    async def pop(self) -> QueuedPodInfo:
        """The next pod to schedule (waits until there is one); it is then in flight."""
        while True:
            while self._active:
                _, seq, qpi = heapq.heappop(self._active)
                if qpi.queue != ACTIVE or seq != qpi.seq or self._pods.get(qpi.pod.uid) is not qpi:
                    continue
                self._active_count -= 1
                qpi.queue = IN_FLIGHT
                qpi.attempts += 1
                if qpi.initial_attempt_timestamp is None:
                    qpi.initial_attempt_timestamp = self._clock.now()
                self.scheduling_cycle += 1
                return qpi
            self._ready.clear()
            await self._ready.wait()

    def add_unschedulable(self, qpi: QueuedPodInfo, *, error: bool = False) -> None:
        """Requeue a pod whose attempt failed (rejected by ``qpi.unschedulable_plugins``)."""
        if self._pods.get(qpi.pod.uid) is not qpi:
            return  # deleted (or replaced) while in flight
        qpi.timestamp = self._clock.now()
        if error or not qpi.unschedulable_plugins:
            self._to_backoff(qpi)
        else:
            self._to_unschedulable(qpi)

    def flush_backoff_completed(self) -> int:
        now = self._clock.now()
        moved = 0
        while self._backoff and self._backoff[0][0] <= now:
            _, seq, qpi = heapq.heappop(self._backoff)
            if qpi.queue == BACKOFF and seq == qpi.seq and self._pods.get(qpi.pod.uid) is qpi:
                self._to_active(qpi)
                moved += 1
        return moved

    def flush_unschedulable_leftover(self) -> int:
        now = self._clock.now()
        stale = [
            qpi
            for qpi in self._unschedulable.values()
            if not qpi.gated_by and now - qpi.timestamp >= self.unschedulable_timeout
        ]
        return self._move(stale, UNSCHEDULABLE_TIMEOUT, None, None)

    def move_all_to_active_or_backoff(
        self, event: ClusterEvent, old: Object | None = None, new: Object | None = None
    ) -> int:
        """A cluster event happened: requeue the parked pods it may help."""
        candidates = [qpi for qpi in self._unschedulable.values() if not qpi.gated_by]
        return self._move(candidates, event, old, new)

    def _move(
        self,
        pods: Iterable[QueuedPodInfo],
        event: ClusterEvent,
        old: Object | None,
        new: Object | None,
    ) -> int:
        moved = 0
        for qpi in pods:
            if event is UNSCHEDULABLE_TIMEOUT or self._worth_requeuing(qpi, event, old, new):
                del self._unschedulable[qpi.pod.uid]
                self._requeue(qpi)
                moved += 1
        return moved

    def _worth_requeuing(
        self, qpi: QueuedPodInfo, event: ClusterEvent, old: Object | None, new: Object | None
    ) -> bool:
        if not qpi.unschedulable_plugins or event.resource == Resource.WILDCARD:
            return True
        profile = self._profiles.get(qpi.pod.scheduler_name)
        if profile is None:
            return True
        hints = profile.queueing_hints()
        for plugin in qpi.unschedulable_plugins:
            registrations = hints.get(plugin)
            if registrations is None:
                return True  # a plugin that registered nothing: any event may help
            for reg in registrations:
                if not reg.event.matches(event):
                    continue
                if reg.hint is None:
                    return True
                try:
                    if reg.hint(qpi.pod, old, new) is QUEUE:
                        return True
                except Exception:
                    log.exception("queueing hint of %s failed; requeueing %s", plugin, qpi.pod.key)
                    return True
        return False

    # -- nominations -------------------------------------------------------------------

    def _nominate_from_status(self, pi: PodInfo) -> None:
        node = str((pi.pod.get("status") or {}).get("nominatedNodeName") or "")
        if node:
            self.add_nominated(pi, node)
        elif pi.uid in self._nominated and not pi.node_name:
            # Keep a nomination we made until the API shows it (status lags behind).
            self.add_nominated(pi, self._nominated[pi.uid][1])

    def add_nominated(self, pi: PodInfo, node_name: str) -> None:
        self.delete_nominated(pi.uid)
        if not node_name:
            return
        self._nominated[pi.uid] = (pi, node_name)
        self._nominated_by_node.setdefault(node_name, {})[pi.uid] = pi

    def delete_nominated(self, uid: str) -> None:
        entry = self._nominated.pop(uid, None)
        if entry is None:
            return
        on_node = self._nominated_by_node.get(entry[1])
        if on_node is not None:
            on_node.pop(uid, None)
            if not on_node:
                del self._nominated_by_node[entry[1]]

    def nominated_pods_for_node(self, node_name: str) -> list[PodInfo]:
        return list(self._nominated_by_node.get(node_name, {}).values())

    def nominated_node(self, uid: str) -> str:
        entry = self._nominated.get(uid)
        return entry[1] if entry else ""

    @property
    def has_nominations(self) -> bool:
        return bool(self._nominated)

    # -- introspection -----------------------------------------------------------------

    def lengths(self) -> tuple[int, int, int]:
        """(active, backoff, unschedulable) counts."""
        backoff = sum(1 for q in self._pods.values() if q.queue == BACKOFF)
        return self._active_count, backoff, len(self._unschedulable)

    def get(self, uid: str) -> QueuedPodInfo | None:
        return self._pods.get(uid)

    def __len__(self) -> int:
        return sum(1 for q in self._pods.values() if q.queue != IN_FLIGHT)
