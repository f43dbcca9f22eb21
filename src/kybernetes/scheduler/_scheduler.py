"""The scheduler process: informers in, bindings, statuses and events out.

Theory of operation:

* Informers (pods that are not terminal, nodes, PVCs, PVs, StorageClasses, PDBs,
  PriorityClasses, namespaces, services and the pod controllers) feed the cache and the
  queue through :mod:`._handlers`; they run whether or not this instance leads, so a
  standby is warm when it takes over.
* While leading (Lease ``kube-system/kube-scheduler`` by default), one loop pops pods and
  runs their scheduling cycle (:class:`~._cycle.SchedulingCore`, synchronous: the cache
  cannot change under it); a success starts the pod's *binding cycle* as a task (Permit
  wait, PreBind, Bind through ``pods/binding``, PostBind) and the loop moves on. Two more
  loops flush the backoff queue every second and long-unschedulable pods every 30 s.
* A binding that fails is undone (the assumed pod is forgotten) and the pod requeued with
  backoff; a 409 means the pod is bound already and it is simply dropped. Together with the
  Binding subresource's own check, no pod is ever bound twice.
* A pod that fits nowhere gets ``PodScheduled=False`` (reason ``Unschedulable``, the
  ``0/N nodes are available: ...`` message; written only when it changed) through
  ``pods/status`` and a ``FailedScheduling`` Warning event; a bound pod a ``Scheduled``
  event. Preemption deletes the victims (marked with a ``DisruptionTarget`` condition
  first), clears weaker nominations on the node, and writes ``status.nominatedNodeName``.
* All tasks live in task groups: leadership loss or cancellation stops every one of them.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Coroutine, Mapping
from typing import Any

from kybernetes.client import (
    NORMAL,
    REAL_CLOCK,
    WARNING,
    Clock,
    EventRecorder,
    Informer,
    LeaderElectionConfig,
    LeaderElector,
    RESTClient,
    SharedInformerFactory,
)
from kybernetes.scheduler._assembly import NullAPI, StaticCluster, build_core
from kybernetes.scheduler._clientside import (
    NAMESPACES,
    NODES,
    PDBS,
    PODS,
    PRIORITY_CLASSES,
    PVCS,
    PVS,
    REPLICA_SETS,
    REPLICATION_CONTROLLERS,
    SERVICES,
    STATEFUL_SETS,
    STORAGE_CLASSES,
    ClientAPI,
    InformerCluster,
)
from kybernetes.scheduler._config import SchedulerConfig
from kybernetes.scheduler._cycle import Failed, Scheduled
from kybernetes.scheduler._handle import AlreadyBound
from kybernetes.scheduler._handlers import EventHandlers
from kybernetes.scheduler._podinfo import PodInfo
from kybernetes.scheduler._queue import QueuedPodInfo
from kybernetes.scheduler._status import Code, Status
from kybernetes.scheduler._writes import StatusWriter
from kybernetes.scheduler.plugins import IN_TREE_REGISTRY, Registry

log = logging.getLogger("kyb.scheduler")

NON_TERMINAL_PODS = "status.phase!=Succeeded,status.phase!=Failed"
COMPONENT = "default-scheduler"
FLUSH_BACKOFF_PERIOD = 1.0
FLUSH_UNSCHEDULABLE_PERIOD = 30.0


class Scheduler:
    def __init__(
        self,
        client: RESTClient,
        config: SchedulerConfig,
        *,
        registry: Registry = IN_TREE_REGISTRY,
        clock: Clock = REAL_CLOCK,
        rng: random.Random | None = None,
        identity: str | None = None,
        leader_elect: bool | None = None,
    ) -> None:
        self.client = client
        self.config = config
        self.clock = clock
        self.factory = SharedInformerFactory(client)
        f = self.factory
        self.informers: dict[str, Informer] = {
            "pods": f.informer(PODS, field_selector=NON_TERMINAL_PODS),
            "nodes": f.informer(NODES),
            "pvcs": f.informer(PVCS),
            "pvs": f.informer(PVS),
            "storageclasses": f.informer(STORAGE_CLASSES),
            "pdbs": f.informer(PDBS),
            "priorityclasses": f.informer(PRIORITY_CLASSES),
            "namespaces": f.informer(NAMESPACES),
            "services": f.informer(SERVICES),
            "replicasets": f.informer(REPLICA_SETS),
            "statefulsets": f.informer(STATEFUL_SETS),
            "replicationcontrollers": f.informer(REPLICATION_CONTROLLERS),
        }
        self.cluster = InformerCluster(self.informers)
        self.api = ClientAPI(client)
        self.core = build_core(
            config, cluster=self.cluster, api=self.api, clock=clock, registry=registry, rng=rng
        )
        self.recorder = EventRecorder(client, COMPONENT, clock=clock)
        self.writer = StatusWriter(client, self.recorder, clock)
        self.handlers = EventHandlers(
            self.core.cache,
            self.core.queue,
            frozenset(self.core.frameworks),
            self.cluster.priority_class_value,
        )
        self.handlers.register(self.informers)
        le = config.leader_election
        self.leader_elect = le.leader_elect if leader_elect is None else leader_elect
        self.elector: LeaderElector | None = None
        if self.leader_elect:
            kwargs: dict[str, Any] = {"identity": identity} if identity else {}
            self.elector = LeaderElector(
                client,
                LeaderElectionConfig(
                    name=le.resource_name,
                    namespace=le.resource_namespace,
                    lease_duration=le.lease_duration,
                    renew_deadline=le.renew_deadline,
                    retry_period=le.retry_period,
                    **kwargs,
                ),
                clock=clock,
            )
        self.synced = asyncio.Event()
        self.leading = asyncio.Event()
        #: Pods bound by this instance (its binding POST succeeded).
        self.bound = 0

    @staticmethod
    def check(config: SchedulerConfig, registry: Registry = IN_TREE_REGISTRY) -> None:
        """Build every profile of ``config`` once, so a bad one fails before serving."""
        build_core(
            config, cluster=StaticCluster(), api=NullAPI(), clock=REAL_CLOCK, registry=registry
        )

    # -- running ---------------------------------------------------------------------------

    async def run(self) -> None:
        """Watch, and schedule while leading, until cancelled (or leadership is lost:
        :class:`~kybernetes.client.LeadershipLost` is raised, as upstream exits)."""
        try:
            await self._run()
        except BaseExceptionGroup as group:
            # Raise the one reason (LeadershipLost, an informer failure) as itself.
            if len(group.exceptions) == 1:
                raise group.exceptions[0] from None
            raise

    async def _run(self) -> None:
        async with asyncio.TaskGroup() as tasks:
            informers = tasks.create_task(self.factory.run(), name="informers")
            recorder = tasks.create_task(self.recorder.run(), name="events")
            try:
                await self.factory.wait_for_sync()
                self.synced.set()
                log.info(
                    "caches synced: %d nodes, %d pods queued",
                    len(self.core.cache),
                    len(self.core.queue),
                )
                if self.elector is not None:
                    await self.elector.run(self._lead)
                else:
                    await self._lead()
            finally:
                informers.cancel()
                recorder.cancel()

    async def _lead(self) -> None:
        self.leading.set()
        log.info("scheduling (profiles: %s)", ", ".join(self.core.frameworks))
        try:
            async with asyncio.TaskGroup() as tasks:
                tasks.create_task(
                    self._every(FLUSH_BACKOFF_PERIOD, self.core.queue.flush_backoff_completed)
                )
                tasks.create_task(
                    self._every(
                        FLUSH_UNSCHEDULABLE_PERIOD, self.core.queue.flush_unschedulable_leftover
                    )
                )
                while True:
                    qpi = await self.core.queue.pop()
                    self.schedule_one(qpi, tasks)
                    # Let informers, bindings and status writes run between pods.
                    await asyncio.sleep(0)
        finally:
            self.leading.clear()

    async def _every(self, period: float, action: Any) -> None:
        while True:
            await self.clock.sleep(period)
            action()

    # -- one pod ---------------------------------------------------------------------------

    def schedule_one(self, qpi: QueuedPodInfo, tasks: asyncio.TaskGroup) -> None:
        outcome = self.core.schedule_one(qpi)
        if outcome is None:
            self.core.queue.done(qpi.pod.uid)
        elif isinstance(outcome, Scheduled):
            tasks.create_task(self._binding_cycle(outcome, tasks), name=f"bind {qpi.pod.key}")
        else:
            self._handle_failure(outcome, tasks)

    async def _binding_cycle(self, s: Scheduled, tasks: asyncio.TaskGroup) -> None:
        pod, node, fwk = s.assumed, s.node_name, s.fwk
        try:
            if s.waiting is not None:
                verdict = await fwk.handle.waiting_pods.wait(s.waiting, self.clock.sleep)
                if verdict is not None:
                    raise _BindingFailed(verdict)
            status = await fwk.run_pre_bind(s.state, pod, node)
            if status is not None:
                raise _BindingFailed(status)
            status = await fwk.run_bind(s.state, pod, node)
            if status is not None:
                raise _BindingFailed(status)
        except AlreadyBound as e:
            log.info("pod %s was bound already (%s); dropping our decision", pod.key, e)
            self.core.unreserve(s)
            self.core.queue.done(pod.uid)
            return
        except asyncio.CancelledError:
            self.core.unreserve(s)
            raise
        except Exception as e:
            status = (
                e.status
                if isinstance(e, _BindingFailed)
                else Status(Code.ERROR, f"binding rejected: {e}")
            )
            log.warning("binding %s to %s failed: %s", pod.key, node, status.message)
            self.core.unreserve(s)
            self._handle_failure(Failed(s.qpi, fwk, status, status.message), tasks)
            return
        self.bound += 1
        self.core.cache.finish_binding(pod)
        self.core.queue.done(pod.uid)
        try:
            fwk.run_post_bind(s.state, pod, node)
        except Exception:
            log.exception("PostBind for %s failed", pod.key)
        self.recorder.event(
            pod.pod,
            NORMAL,
            "Scheduled",
            f"Successfully assigned {pod.namespace}/{pod.name} to {node}",
        )

    def _current(self, pod: PodInfo) -> Mapping[str, Any] | None:
        """The pod as the informer has it now, if it is still pending and the same pod."""
        obj = self.informers["pods"].cache.get_by_name(pod.name, pod.namespace)
        if obj is None or (obj.get("metadata") or {}).get("uid") != pod.uid:
            return None
        if (obj.get("spec") or {}).get("nodeName"):
            return None
        return obj

    def _handle_failure(self, failed: Failed, tasks: asyncio.TaskGroup) -> None:
        qpi, queue = failed.qpi, self.core.queue
        pod = qpi.pod
        if self._current(pod) is None:
            queue.done(pod.uid)  # deleted or bound meanwhile: nothing to retry or report
            return
        qpi.unschedulable_plugins = set(failed.plugins)
        queue.add_unschedulable(qpi, error=failed.is_error)
        if failed.nominated_node is not None:
            queue.add_nominated(pod, failed.nominated_node)
        log.info("pod %s: %s", pod.key, failed.message)
        self.recorder.event(pod.pod, WARNING, "FailedScheduling", failed.message)
        write = self.writer.mark_unschedulable(
            pod, failed.reason, failed.message, failed.nominated_node
        )
        tasks.create_task(_logged(write))
        if failed.victims and failed.nominated_node:
            lower = [
                p
                for p in queue.nominated_pods_for_node(failed.nominated_node)
                if p.priority < pod.priority
            ]
            for p in lower:
                queue.delete_nominated(p.uid)
            tasks.create_task(
                _logged(
                    self.writer.preempt(
                        pod, failed.nominated_node, failed.victims, lower, pod.scheduler_name
                    )
                )
            )


async def _logged(write: Coroutine[Any, Any, None]) -> None:
    """Run a best-effort write; a failure is logged, never allowed to stop the scheduler."""
    try:
        await write
    except Exception:
        log.exception("a status or preemption write failed")


class _BindingFailed(Exception):
    def __init__(self, status: Status) -> None:
        super().__init__(status.message)
        self.status = status
