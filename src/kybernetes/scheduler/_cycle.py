"""The scheduling cycle of one pod, without I/O: decide, assume, reserve, permit.

:meth:`SchedulingCore.schedule_one` takes a pod popped from the queue and returns what
happened: :class:`Scheduled` (the pod is assumed on its node in the cache; the caller runs
the binding cycle) or :class:`Failed` (with the message users see, the plugins to blame
for requeueing, and, after preemption, the node to nominate and the victims to evict),
or None when the pod must not be scheduled at all (being deleted, or no profile for it).
Nothing here awaits, so the cache cannot change under a cycle.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from kybernetes.scheduler._algorithm import Algorithm, NoNodesAvailable, ScheduleResult
from kybernetes.scheduler._cache import SchedulerCache
from kybernetes.scheduler._fiterror import NO_NODES_MESSAGE, FitError
from kybernetes.scheduler._framework import CycleState
from kybernetes.scheduler._handle import WaitingPod
from kybernetes.scheduler._podinfo import PodInfo
from kybernetes.scheduler._queue import QueuedPodInfo, SchedulingQueue
from kybernetes.scheduler._runtime import Framework
from kybernetes.scheduler._status import Code, PluginError, Status, unresolvable

log = logging.getLogger("kyb.scheduler")

REASON_UNSCHEDULABLE = "Unschedulable"
REASON_SCHEDULER_ERROR = "SchedulerError"


@dataclass
class Scheduled:
    qpi: QueuedPodInfo
    fwk: Framework
    state: CycleState
    #: The pod as assumed: ``spec.nodeName`` set to the chosen node.
    assumed: PodInfo
    node_name: str
    result: ScheduleResult
    #: Permit plugins asked to wait: the binding cycle waits for their verdict first.
    waiting: WaitingPod | None = None


@dataclass
class Failed:
    qpi: QueuedPodInfo
    fwk: Framework
    status: Status
    message: str
    #: Plugins that rejected the pod (their events may make it schedulable).
    plugins: set[str] = field(default_factory=set)
    #: After PostFilter: the node to nominate ("" clears a nomination; None: unchanged).
    nominated_node: str | None = None
    victims: list[PodInfo] = field(default_factory=list)

    @property
    def reason(self) -> str:
        return REASON_UNSCHEDULABLE if self.status.is_rejected() else REASON_SCHEDULER_ERROR

    @property
    def is_error(self) -> bool:
        return not self.status.is_rejected()


def assumed_copy(pod: PodInfo, node_name: str) -> PodInfo:
    """``pod`` with ``spec.nodeName`` set (shallow copies: the original is shared)."""
    return pod.with_node(node_name)


class SchedulingCore:
    def __init__(
        self,
        frameworks: Mapping[str, Framework],
        cache: SchedulerCache,
        queue: SchedulingQueue,
        algorithm: Algorithm,
    ) -> None:
        self.frameworks = frameworks
        self.cache = cache
        self.queue = queue
        self.algorithm = algorithm

    def framework_for(self, pod: PodInfo) -> Framework | None:
        return self.frameworks.get(pod.scheduler_name)

    def schedule_one(self, qpi: QueuedPodInfo) -> Scheduled | Failed | None:
        pod = qpi.pod
        fwk = self.framework_for(pod)
        if fwk is None or pod.terminating or self.cache.is_assumed(pod.uid):
            return None
        state = CycleState()
        try:
            result = self.algorithm.schedule_pod(fwk, state, pod)
        except NoNodesAvailable:
            return Failed(qpi, fwk, unresolvable(NO_NODES_MESSAGE), NO_NODES_MESSAGE)
        except FitError as fit:
            return self._unschedulable(qpi, fwk, state, fit)
        except PluginError as e:
            return Failed(qpi, fwk, Status(Code.ERROR, str(e)), str(e))
        except Exception as e:  # a plugin bug must not stop the scheduler
            log.exception("scheduling %s failed", pod.key)
            return Failed(qpi, fwk, Status(Code.ERROR, repr(e)), repr(e))
        return self._assume(qpi, fwk, state, result)

    def _unschedulable(
        self, qpi: QueuedPodInfo, fwk: Framework, state: CycleState, fit: FitError
    ) -> Failed:
        nominated: str | None = None
        victims: list[PodInfo] = []
        if fwk.post_filter_plugins:
            try:
                outcome, status = fwk.run_post_filter(state, qpi.pod, fit.diagnosis)
            except Exception:
                log.exception("PostFilter for %s failed", qpi.pod.key)
                outcome, status = None, None
            if status is not None and status.message:
                fit.diagnosis.post_filter_msg = status.message
            if outcome is not None:
                nominated = outcome.nominated_node_name
                victims = outcome.victims
        status = Status(Code.UNSCHEDULABLE)
        return Failed(
            qpi,
            fwk,
            status,
            fit.message(),
            set(fit.diagnosis.unschedulable_plugins),
            nominated,
            victims,
        )

    def _assume(
        self, qpi: QueuedPodInfo, fwk: Framework, state: CycleState, result: ScheduleResult
    ) -> Scheduled | Failed:
        node = result.node_name
        assumed = assumed_copy(qpi.pod, node)
        self.cache.assume_pod(assumed)
        self.queue.delete_nominated(assumed.uid)
        try:
            rejected = fwk.run_reserve(state, assumed, node)
            if rejected is not None:
                raise _Rejected(*rejected)
            permit = fwk.run_permit(state, assumed, node)
            if isinstance(permit, tuple):
                raise _Rejected(*permit)
        except _Rejected as r:
            self._undo(fwk, state, assumed, node)
            plugins = {r.plugin} if r.status.is_rejected() else set()
            return Failed(qpi, fwk, r.status, r.status.message, plugins)
        except Exception as e:
            log.exception("reserving %s on %s failed", assumed.key, node)
            self._undo(fwk, state, assumed, node)
            return Failed(qpi, fwk, Status(Code.ERROR, repr(e)), repr(e))
        waiting = None
        if permit:
            waiting = WaitingPod(assumed, permit)
            fwk.handle.waiting_pods.add(waiting)
        return Scheduled(qpi, fwk, state, assumed, node, result, waiting)

    def _undo(self, fwk: Framework, state: CycleState, assumed: PodInfo, node: str) -> None:
        try:
            fwk.run_unreserve(state, assumed, node)
        finally:
            self.cache.forget_pod(assumed)

    def unreserve(self, scheduled: Scheduled) -> None:
        """Undo a scheduled pod whose binding cycle failed."""
        self._undo(scheduled.fwk, scheduled.state, scheduled.assumed, scheduled.node_name)


class _Rejected(Exception):
    def __init__(self, status: Status, plugin: str) -> None:
        super().__init__(status.message)
        self.status = status
        self.plugin = plugin
