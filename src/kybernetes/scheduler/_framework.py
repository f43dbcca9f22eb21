"""The scheduling framework's vocabulary: cycle state, results, and the extension points
(what a plugin may look at is in :mod:`._handle`).

Each extension point is one small protocol; a plugin is any object with a ``name`` that
implements one or more of them (the framework finds out which with ``isinstance``). Every
plugin module also implements :class:`EnqueueExtensions` when it can reject pods, declaring
the cluster events that could make such a pod schedulable again.

Calling conventions (speed matters: Filter and Score run once per pod per node):

* Success is ``None``; a rejection is a :class:`~._status.Status`. A plugin that fails
  internally raises (any exception becomes an ``ERROR`` status for the pod).
* ``pod`` is always a :class:`~._podinfo.PodInfo`; nodes are :class:`~._nodeinfo.NodeInfo`.
  Neither may be modified, except a NodeInfo the plugin cloned itself.
* Data a plugin computes in PreFilter/PreScore goes into the :class:`CycleState` under a key
  of its own; values with a ``clone()`` method are cloned when the state is (preemption
  simulates removing pods on a cloned state).
* Filter and Score plugins may add a batch method (``filter_nodes``, ``score_nodes``) that
  answers for many nodes in one call; it must agree exactly with the per-node method (the
  unit tests check this), and the framework uses it when present.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from kybernetes.scheduler._events import ClusterEventWithHint
from kybernetes.scheduler._nodeinfo import NodeInfo
from kybernetes.scheduler._podinfo import PodInfo
from kybernetes.scheduler._status import PluginError, Status

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
