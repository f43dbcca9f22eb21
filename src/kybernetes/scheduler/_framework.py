"""The scheduling framework's vocabulary: cycle state, extension points, and the plugin handle.

Each extension point is one small protocol; a plugin is any object with a ``name`` that
implements one or more of them (the framework finds out which with ``isinstance``). Every
plugin module also implements :class:`EnqueueExtensions` when it can reject pods, declaring
the cluster events that could make such a pod schedulable again.

Calling conventions (speed matters: Filter and Score run once per pod per node):

* Filter and Score plugins may add a batch method (``filter_nodes``, ``score_nodes``) that
  answers for many nodes in one call; it must agree exactly with the per-node method (the
  unit tests check this), and the framework uses it when present.

* Success is ``None``; a rejection is a :class:`~._status.Status`. A plugin that fails
  internally raises (any exception becomes an ``ERROR`` status for the pod).
* ``pod`` is always a :class:`~._podinfo.PodInfo`; nodes are :class:`~._nodeinfo.NodeInfo`.
  Neither may be modified, except a NodeInfo the plugin cloned itself.
* Data a plugin computes in PreFilter/PreScore goes into the :class:`CycleState` under a key
  of its own; values with a ``clone()`` method are cloned when the state is (preemption
  simulates removing pods on a cloned state).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from kybernetes.scheduler._events import ClusterEventWithHint
from kybernetes.scheduler._nodeinfo import NodeInfo
from kybernetes.scheduler._podinfo import PodInfo
from kybernetes.scheduler._status import Code, PluginError, Status

Object = dict[str, Any]

MAX_NODE_SCORE = 100
MIN_NODE_SCORE = 0


class CycleState:
    """Per-pod, per-cycle scratch space shared by the plugins of one profile."""

    __slots__ = ("_data", "skip_filter_plugins", "skip_score_plugins")

    def __init__(self) -> None:
        self._data: dict[str, Any] = {}
        self.skip_filter_plugins: set[str] = set()
        self.skip_score_plugins: set[str] = set()

    def write(self, key: str, value: Any) -> None:
        self._data[key] = value

    def read(self, key: str) -> Any:
        try:
            return self._data[key]
        except KeyError:
            raise PluginError(f"no {key!r} in the cycle state") from None

    def get(self, key: str) -> Any:
        return self._data.get(key)

    def clone(self) -> CycleState:
        out = CycleState()
        for key, value in self._data.items():
            clone = getattr(value, "clone", None)
            out._data[key] = clone() if clone is not None else value
        out.skip_filter_plugins = set(self.skip_filter_plugins)
        out.skip_score_plugins = set(self.skip_score_plugins)
        return out


@dataclass(frozen=True, slots=True)
class PreFilterResult:
    """Nodes a PreFilter plugin already knows are the only candidates (None: all nodes)."""

    node_names: frozenset[str] | None = None

    def merge(self, other: PreFilterResult | None) -> PreFilterResult:
        if other is None or other.node_names is None:
            return self
        if self.node_names is None:
            return other
        return PreFilterResult(self.node_names & other.node_names)


@dataclass(slots=True)
class PostFilterResult:
    """What a PostFilter plugin (preemption) decided: nominate the pod to a node after
    evicting ``victims``; an empty ``nominated_node_name`` clears an earlier nomination."""

    nominated_node_name: str = ""
    victims: list[PodInfo] = field(default_factory=list)


# -- the extension points -----------------------------------------------------------------


@runtime_checkable
class Plugin(Protocol):
    name: str


@runtime_checkable
class EnqueueExtensions(Protocol):
    def events_to_register(self) -> list[ClusterEventWithHint]: ...


@runtime_checkable
class PreEnqueuePlugin(Protocol):
    name: str

    def pre_enqueue(self, pod: PodInfo) -> Status | None: ...


@runtime_checkable
class QueueSortPlugin(Protocol):
    name: str

    def sort_key(self, pod: PodInfo, timestamp: float) -> tuple[Any, ...]: ...


@runtime_checkable
class PreFilterPlugin(Protocol):
    name: str

    def pre_filter(
        self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo]
    ) -> tuple[PreFilterResult | None, Status | None]: ...


@runtime_checkable
class PreFilterExtensions(Protocol):
    """Keeps PreFilter state right when a pod is added to / removed from a node in a
    simulation (nominated pods, preemption victims)."""

    name: str

    def add_pod(
        self, state: CycleState, pod: PodInfo, pod_to_add: PodInfo, node: NodeInfo
    ) -> Status | None: ...

    def remove_pod(
        self, state: CycleState, pod: PodInfo, pod_to_remove: PodInfo, node: NodeInfo
    ) -> Status | None: ...


@runtime_checkable
class FilterPlugin(Protocol):
    name: str

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status | None: ...


@runtime_checkable
class BatchFilterPlugin(Protocol):
    """Optional fast path of a Filter plugin: the answers for many nodes at once, exactly
    what ``filter`` would answer for each (one Python call instead of one per node)."""

    name: str

    def filter_nodes(
        self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo]
    ) -> list[Status | None]: ...


@runtime_checkable
class PostFilterPlugin(Protocol):
    name: str

    def post_filter(
        self, state: CycleState, pod: PodInfo, diagnosis: Any
    ) -> tuple[PostFilterResult | None, Status | None]: ...


@runtime_checkable
class PreScorePlugin(Protocol):
    name: str

    def pre_score(
        self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo]
    ) -> Status | None: ...


@runtime_checkable
class ScorePlugin(Protocol):
    name: str

    def score(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> int: ...


@runtime_checkable
class BatchScorePlugin(Protocol):
    """Optional fast path of a Score plugin: ``[score(state, pod, n) for n in nodes]``."""

    name: str

    def score_nodes(
        self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo]
    ) -> list[int]: ...


@runtime_checkable
class NormalizeScorePlugin(Protocol):
    """Scales a Score plugin's raw scores (one per node, in order) into 0..100 in place."""

    name: str

    def normalize_score(
        self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo], scores: list[int]
    ) -> Status | None: ...


@runtime_checkable
class ReservePlugin(Protocol):
    name: str

    def reserve(self, state: CycleState, pod: PodInfo, node_name: str) -> Status | None: ...

    def unreserve(self, state: CycleState, pod: PodInfo, node_name: str) -> None: ...


@runtime_checkable
class PermitPlugin(Protocol):
    """Success, a rejection, or ``WAIT`` with a timeout (seconds) the binding cycle honours."""

    name: str

    def permit(
        self, state: CycleState, pod: PodInfo, node_name: str
    ) -> tuple[Status | None, float]: ...


@runtime_checkable
class PreBindPlugin(Protocol):
    name: str

    async def pre_bind(self, state: CycleState, pod: PodInfo, node_name: str) -> Status | None: ...


@runtime_checkable
class BindPlugin(Protocol):
    """Binds the pod; ``SKIP`` passes the pod to the next bind plugin."""

    name: str

    async def bind(self, state: CycleState, pod: PodInfo, node_name: str) -> Status | None: ...


@runtime_checkable
class PostBindPlugin(Protocol):
    name: str

    def post_bind(self, state: CycleState, pod: PodInfo, node_name: str) -> None: ...


# -- what plugins may look at --------------------------------------------------------------


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
