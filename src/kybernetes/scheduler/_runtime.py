"""One profile's framework: its plugins, wired to the extension points, and how to run them.

Promises, as upstream's ``frameworkImpl``:

* Plugins are built once per profile from the registry, with their ``pluginConfig`` args;
  ``multiPoint`` plugins are placed at every point they implement (unless disabled there),
  after plugins explicitly re-configured at that point keep their place. A plugin enabled
  at a point it does not implement, a missing or doubled queue sort, or no bind plugin is a
  :class:`~._status.ConfigError`.
* PreFilter/PreScore ``SKIP`` removes that plugin's Filter/Score for the cycle. Filters run
  in order and stop at the first rejection. Scores are normalised, checked to lie in
  0..100, multiplied by the plugin's weight (default 1) and summed per node.
* With nominated pods on a node, filters run twice: once as if the nominated pods of equal
  or higher priority were there, once without; the pod must pass both.
* Bind plugins run in order until one does not answer ``SKIP``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kybernetes.scheduler._config import ProfileConfig
from kybernetes.scheduler._events import ClusterEventWithHint
from kybernetes.scheduler._framework import (
    MAX_NODE_SCORE,
    BatchFilterPlugin,
    BatchScorePlugin,
    BindPlugin,
    CycleState,
    FilterPlugin,
    NormalizeScorePlugin,
    PermitPlugin,
    PostBindPlugin,
    PostFilterPlugin,
    PostFilterResult,
    PreBindPlugin,
    PreEnqueuePlugin,
    PreFilterExtensions,
    PreFilterPlugin,
    PreFilterResult,
    PreScorePlugin,
    QueueSortPlugin,
    ReservePlugin,
    ScorePlugin,
)
from kybernetes.scheduler._handle import Handle
from kybernetes.scheduler._nodeinfo import NodeInfo
from kybernetes.scheduler._placement import (
    build_plugins,
    collect_hints,
    place_plugins,
    score_weights,
)
from kybernetes.scheduler._podinfo import PodInfo
from kybernetes.scheduler._status import (
    Code,
    ConfigError,
    PluginError,
    Status,
    error,
    unresolvable,
)
from kybernetes.scheduler.plugins import Registry

FilterFailure = tuple[Status, str]


class Framework:
    def __init__(
        self, profile: ProfileConfig, registry: Registry, handle: Handle, *, percentage: int = 0
    ) -> None:
        self.profile_name = profile.scheduler_name
        self.handle = handle
        handle.runner = self
        self.percentage_of_nodes_to_score = (
            profile.percentage_of_nodes_to_score
            if profile.percentage_of_nodes_to_score is not None
            else percentage
        )
        self.plugins = build_plugins(profile, registry, handle)
        points = place_plugins(profile, self.plugins)
        self.points = points

        def at(point: str) -> list[Any]:
            return [self.plugins[n] for n in points[point]]

        self.pre_enqueue_plugins: list[PreEnqueuePlugin] = at("preEnqueue")
        sorts = at("queueSort")
        if len(sorts) != 1:
            raise ConfigError(
                f'profile "{profile.scheduler_name}": exactly one queueSort plugin is needed, '
                f"got {len(sorts)}"
            )
        self.queue_sort: QueueSortPlugin = sorts[0]
        self.pre_filter_plugins: list[PreFilterPlugin] = at("preFilter")
        self.pre_filter_extensions: list[PreFilterExtensions] = [
            p for p in self.pre_filter_plugins if isinstance(p, PreFilterExtensions)
        ]
        self.filter_plugins: list[FilterPlugin] = at("filter")
        self.post_filter_plugins: list[PostFilterPlugin] = at("postFilter")
        self.pre_score_plugins: list[PreScorePlugin] = at("preScore")
        self.score_plugins: list[ScorePlugin] = at("score")
        self.reserve_plugins: list[ReservePlugin] = at("reserve")
        self.permit_plugins: list[PermitPlugin] = at("permit")
        self.pre_bind_plugins: list[PreBindPlugin] = at("preBind")
        self.bind_plugins: list[BindPlugin] = at("bind")
        self.post_bind_plugins: list[PostBindPlugin] = at("postBind")
        if not self.bind_plugins:
            raise ConfigError(
                f'profile "{profile.scheduler_name}": at least one bind plugin is needed'
            )
        self.weights = score_weights(profile, [p.name for p in self.score_plugins])
        # Protocol isinstance checks are slow: decide once which fast paths exist.
        self._filter_fns = [
            (p.name, p.filter, p.filter_nodes if isinstance(p, BatchFilterPlugin) else None)
            for p in self.filter_plugins
        ]
        self._score_fns = [
            (
                p,
                p.score_nodes if isinstance(p, BatchScorePlugin) else None,
                p.normalize_score if isinstance(p, NormalizeScorePlugin) else None,
            )
            for p in self.score_plugins
        ]
        self._hints = collect_hints(points, self.plugins)

    # -- queue side ------------------------------------------------------------------------

    def queueing_hints(self) -> Mapping[str, Sequence[ClusterEventWithHint]]:
        return self._hints

    def run_pre_enqueue(self, pod: PodInfo) -> tuple[Status, str] | None:
        for plugin in self.pre_enqueue_plugins:
            status = plugin.pre_enqueue(pod)
            if status is not None and status.code != Code.SUCCESS:
                return status, plugin.name
        return None

    # -- filtering -------------------------------------------------------------------------

    def run_pre_filter(
        self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo]
    ) -> tuple[PreFilterResult | None, Status | None, set[str]]:
        """(narrowed nodes or None, rejection or None, plugins to blame)."""
        result: PreFilterResult | None = None
        narrowing: list[str] = []
        for plugin in self.pre_filter_plugins:
            r, status = plugin.pre_filter(state, pod, nodes)
            if status is not None and status.code != Code.SUCCESS:
                if status.code == Code.SKIP:
                    state.skip_filter_plugins.add(plugin.name)
                    continue
                if status.is_rejected():
                    return None, status, {plugin.name}
                return (
                    None,
                    error(f"running PreFilter plugin {plugin.name}: {status.message}"),
                    set(),
                )
            if r is not None and r.node_names is not None:
                narrowing.append(plugin.name)
                result = r.merge(result)
                if result.node_names is not None and not result.node_names:
                    which = (
                        f"plugin {narrowing[0]}"
                        if len(narrowing) == 1
                        else f"plugin(s) [{' '.join(narrowing)}] simultaneously"
                    )
                    return result, unresolvable(f"node(s) didn't satisfy {which}"), set(narrowing)
        # Plugins that narrowed the nodes are to blame for the nodes they left out.
        return result, None, set(narrowing)

    def active_filters(self, state: CycleState) -> list[tuple[str, Any]]:
        """(name, bound filter) of the filters that run this cycle, in order."""
        skip = state.skip_filter_plugins
        return [(p.name, p.filter) for p in self.filter_plugins if p.name not in skip]

    def run_filter_batch(
        self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo]
    ) -> list[FilterFailure | None]:
        """``[run_filter(state, pod, n) for n in nodes]``, one plugin at a time over the
        nodes still passing (each plugin's batch method when it has one)."""
        results: list[FilterFailure | None] = [None] * len(nodes)
        index = list(range(len(nodes)))
        current: Sequence[NodeInfo] = nodes
        skip = state.skip_filter_plugins
        for name, fn, batch in self._filter_fns:
            if name in skip:
                continue
            if not current:
                break
            if batch is not None:
                statuses = batch(state, pod, current)
            else:
                statuses = [fn(state, pod, n) for n in current]
            if not any(statuses):
                continue  # all passed: the common case
            kept_index: list[int] = []
            kept: list[NodeInfo] = []
            for i, status, node in zip(index, statuses, current, strict=True):
                if status is None or status.code == Code.SUCCESS:
                    kept_index.append(i)
                    kept.append(node)
                else:
                    results[i] = (status, name)
            index, current = kept_index, kept
        return results

    def run_filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> FilterFailure | None:
        for name, fn in self.active_filters(state):
            status = fn(state, pod, node)
            if status is not None and status.code != Code.SUCCESS:
                return status, name
        return None

    def run_pre_filter_add_pod(
        self, state: CycleState, pod: PodInfo, pod_to_add: PodInfo, node: NodeInfo
    ) -> None:
        for plugin in self.pre_filter_extensions:
            if plugin.name not in state.skip_filter_plugins:
                status = plugin.add_pod(state, pod, pod_to_add, node)
                if status is not None and status.code != Code.SUCCESS:
                    raise PluginError(f"{plugin.name} AddPod: {status.message}")

    def run_pre_filter_remove_pod(
        self, state: CycleState, pod: PodInfo, pod_to_remove: PodInfo, node: NodeInfo
    ) -> None:
        for plugin in self.pre_filter_extensions:
            if plugin.name not in state.skip_filter_plugins:
                status = plugin.remove_pod(state, pod, pod_to_remove, node)
                if status is not None and status.code != Code.SUCCESS:
                    raise PluginError(f"{plugin.name} RemovePod: {status.message}")

    def _with_nominated(
        self, state: CycleState, pod: PodInfo, node: NodeInfo
    ) -> tuple[CycleState, NodeInfo] | None:
        nominated = [
            p
            for p in self.handle.nominator.nominated_pods_for_node(node.name)
            if p.priority >= pod.priority and p.uid != pod.uid
        ]
        if not nominated:
            return None
        state, node = state.clone(), node.clone()
        for p in nominated:
            node.add_pod(p)
            self.run_pre_filter_add_pod(state, pod, p, node)
        return state, node

    def run_filter_with_nominated_pods(
        self, state: CycleState, pod: PodInfo, node: NodeInfo
    ) -> FilterFailure | None:
        added = self._with_nominated(state, pod, node)
        if added is not None:
            failed = self.run_filter(added[0], pod, added[1])
            if failed is not None:
                return failed
        return self.run_filter(state, pod, node)

    def run_post_filter(
        self, state: CycleState, pod: PodInfo, diagnosis: Any
    ) -> tuple[PostFilterResult | None, Status | None]:
        result: PostFilterResult | None = None
        last: Status | None = Status(Code.UNSCHEDULABLE)
        for plugin in self.post_filter_plugins:
            r, status = plugin.post_filter(state, pod, diagnosis)
            if status is None or status.code == Code.SUCCESS:
                return r, None
            if status.code == Code.ERROR:
                return None, status
            last = status
            result = r if r is not None else result
        return result, last

    # -- scoring ---------------------------------------------------------------------------

    def run_pre_score(
        self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo]
    ) -> Status | None:
        for plugin in self.pre_score_plugins:
            status = plugin.pre_score(state, pod, nodes)
            if status is None or status.code == Code.SUCCESS:
                continue
            if status.code == Code.SKIP:
                state.skip_score_plugins.add(plugin.name)
                continue
            return status
        return None

    def run_score(self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo]) -> list[int]:
        totals = [0] * len(nodes)
        skip = state.skip_score_plugins
        for plugin, batch, normalize in self._score_fns:
            if plugin.name in skip:
                continue
            if batch is not None:
                scores = batch(state, pod, nodes)
            else:
                fn = plugin.score
                scores = [fn(state, pod, n) for n in nodes]
            if normalize is not None:
                status = normalize(state, pod, nodes, scores)
                if status is not None and status.code != Code.SUCCESS:
                    raise PluginError(f"{plugin.name} NormalizeScore: {status.message}")
            if scores and (min(scores) < 0 or max(scores) > MAX_NODE_SCORE):
                raise PluginError(f"{plugin.name} returned a score outside [0, {MAX_NODE_SCORE}]")
            weight = self.weights[plugin.name]
            totals = [t + s * weight for t, s in zip(totals, scores, strict=True)]
        return totals

    # -- reserve, permit, bind ---------------------------------------------------------------

    def run_reserve(
        self, state: CycleState, pod: PodInfo, node_name: str
    ) -> tuple[Status, str] | None:
        for plugin in self.reserve_plugins:
            status = plugin.reserve(state, pod, node_name)
            if status is not None and status.code != Code.SUCCESS:
                return status, plugin.name
        return None

    def run_unreserve(self, state: CycleState, pod: PodInfo, node_name: str) -> None:
        for plugin in reversed(self.reserve_plugins):
            plugin.unreserve(state, pod, node_name)

    def run_permit(
        self, state: CycleState, pod: PodInfo, node_name: str
    ) -> tuple[Status, str] | dict[str, float] | None:
        """None (allowed), a rejection (status, plugin), or the plugins that asked to
        ``WAIT`` with their timeouts."""
        waits: dict[str, float] = {}
        for plugin in self.permit_plugins:
            status, timeout = plugin.permit(state, pod, node_name)
            if status is None or status.code == Code.SUCCESS:
                continue
            if status.code == Code.WAIT:
                waits[plugin.name] = timeout
                continue
            return status, plugin.name
        return waits or None

    async def run_pre_bind(self, state: CycleState, pod: PodInfo, node_name: str) -> Status | None:
        for plugin in self.pre_bind_plugins:
            status = await plugin.pre_bind(state, pod, node_name)
            if status is not None and status.code != Code.SUCCESS:
                return status
        return None

    async def run_bind(self, state: CycleState, pod: PodInfo, node_name: str) -> Status | None:
        for plugin in self.bind_plugins:
            status = await plugin.bind(state, pod, node_name)
            if status is not None and status.code == Code.SKIP:
                continue
            return status
        return error(f"no bind plugin bound pod {pod.key}")

    def run_post_bind(self, state: CycleState, pod: PodInfo, node_name: str) -> None:
        for plugin in self.post_bind_plugins:
            plugin.post_bind(state, pod, node_name)
