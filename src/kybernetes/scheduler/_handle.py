"""What a plugin may look at and act through: the :class:`Handle` its factory receives.

* :class:`NodeInfoLister`: the nodes as of this cycle (the scheduler cache);
* :class:`ClusterLister`: other objects (claims, volumes, classes, budgets, namespaces,
  services, controllers), read from informer caches in the scheduler process;
* :class:`ClusterAPI`: the writes plugins make (binding, claim annotations);
* :class:`Nominator`: pods nominated to nodes by preemption;
* :class:`WaitingPods`: pods held at Permit, which plugins allow or reject;
* ``runner``: the framework itself, for plugins that simulate (preemption).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from kybernetes.scheduler._framework import CycleState
from kybernetes.scheduler._nodeinfo import NodeInfo
from kybernetes.scheduler._podinfo import PodInfo
from kybernetes.scheduler._status import Code, PluginError, Status


class NodeInfoLister(Protocol):
    """The cluster's nodes as of this cycle (the scheduler cache, assumed pods included)."""

    def list(self) -> Sequence[NodeInfo]: ...

    def get(self, name: str) -> NodeInfo | None: ...

    def have_pods_with_affinity(self) -> Sequence[NodeInfo]: ...

    def have_pods_with_required_anti_affinity(self) -> Sequence[NodeInfo]: ...

    def image_node_count(self, image: str) -> int:
        """On how many nodes ``image`` (a normalized name) is present."""
        ...


class ClusterLister(Protocol):
    """Other objects plugins read (from informer caches in the scheduler process)."""

    def pvc(self, namespace: str, name: str) -> Mapping[str, Any] | None: ...

    def pv(self, name: str) -> Mapping[str, Any] | None: ...

    def storage_class(self, name: str) -> Mapping[str, Any] | None: ...

    def pdbs(self) -> Sequence[Mapping[str, Any]]: ...

    def namespace_labels(self, name: str) -> Mapping[str, str] | None: ...

    def namespaces(self) -> Sequence[Mapping[str, Any]]: ...

    def services(self, namespace: str) -> Sequence[Mapping[str, Any]]: ...

    def controller(self, kind: str, namespace: str, name: str) -> Mapping[str, Any] | None:
        """A ReplicaSet, StatefulSet or ReplicationController by kind and name."""
        ...


class ClusterAPI(Protocol):
    """The writes plugins make (DefaultBinder, VolumeBinding); the scheduler implements it
    on the client, tests with fakes."""

    def bind(self, pod: Mapping[str, Any], node_name: str) -> Awaitable[None]:
        """POST the pod's Binding; raises ``AlreadyBound`` when it is bound already."""
        ...

    def annotate_pvc(
        self, namespace: str, name: str, annotations: Mapping[str, str]
    ) -> Awaitable[None]: ...


class AlreadyBound(Exception):
    """The pod was bound (by this or another scheduler) before our binding arrived."""


class Nominator(Protocol):
    @property
    def has_nominations(self) -> bool:
        """Whether any pod is nominated anywhere (filters then consider nominated pods)."""
        ...

    def nominated_pods_for_node(self, node_name: str) -> Sequence[PodInfo]: ...


class PluginsRunner(Protocol):
    """What preemption needs from the framework running it."""

    def run_filter_with_nominated_pods(
        self, state: CycleState, pod: PodInfo, node: NodeInfo
    ) -> tuple[Status, str] | None: ...

    def run_pre_filter_add_pod(
        self, state: CycleState, pod: PodInfo, pod_to_add: PodInfo, node: NodeInfo
    ) -> None: ...

    def run_pre_filter_remove_pod(
        self, state: CycleState, pod: PodInfo, pod_to_remove: PodInfo, node: NodeInfo
    ) -> None: ...


class WaitingPod:
    """A pod a Permit plugin holds before binding: each waiting plugin must :meth:`allow`
    it before its own timeout; one :meth:`reject` (or a timeout) ends the wait."""

    def __init__(self, pod: PodInfo, timeouts: Mapping[str, float]) -> None:
        self.pod = pod
        self.timeouts = dict(timeouts)
        self.pending = set(timeouts)
        self.verdict: asyncio.Future[Status | None] = asyncio.get_running_loop().create_future()

    def allow(self, plugin: str) -> None:
        self.pending.discard(plugin)
        if not self.pending and not self.verdict.done():
            self.verdict.set_result(None)

    def reject(self, plugin: str, message: str) -> None:
        if not self.verdict.done():
            self.verdict.set_result(Status(Code.UNSCHEDULABLE, message or f"rejected by {plugin}"))


class WaitingPods:
    """The pods held at Permit, by uid (plugins reach it through :class:`Handle`)."""

    def __init__(self) -> None:
        self._pods: dict[str, WaitingPod] = {}

    def add(self, waiting: WaitingPod) -> None:
        self._pods[waiting.pod.uid] = waiting

    def get(self, uid: str) -> WaitingPod | None:
        return self._pods.get(uid)

    def remove(self, uid: str) -> None:
        self._pods.pop(uid, None)

    def __iter__(self) -> Iterator[WaitingPod]:
        return iter(list(self._pods.values()))

    async def wait(
        self, waiting: WaitingPod, clock_sleep: Callable[[float], Awaitable[None]]
    ) -> Status | None:
        """The verdict: None when every plugin allowed, else why not (timeouts included)."""
        elapsed = 0.0
        try:
            while not waiting.verdict.done():
                pending = sorted((waiting.timeouts[p], p) for p in waiting.pending)
                deadline, plugin = pending[0]
                sleeper = asyncio.ensure_future(clock_sleep(deadline - elapsed))
                both: set[asyncio.Future[Any]] = {sleeper, waiting.verdict}
                await asyncio.wait(both, return_when=asyncio.FIRST_COMPLETED)
                if not sleeper.done():
                    sleeper.cancel()
                    break
                elapsed = deadline
                if plugin in waiting.pending:
                    waiting.reject(
                        plugin,
                        f"rejected due to timeout after waiting {deadline}s at plugin {plugin}",
                    )
            return waiting.verdict.result()
        finally:
            self.remove(waiting.pod.uid)


class _NoRunner:
    def __getattr__(self, name: str) -> Any:
        raise PluginError("the plugin handle is not attached to a framework yet")


@dataclass
class Handle:
    """Given to every plugin factory: the plugin's window on the scheduler."""

    snapshot: NodeInfoLister
    cluster: ClusterLister
    api: ClusterAPI
    nominator: Nominator
    rng: random.Random = field(default_factory=random.Random)
    waiting_pods: WaitingPods = field(default_factory=WaitingPods)
    runner: PluginsRunner = field(default_factory=_NoRunner)
