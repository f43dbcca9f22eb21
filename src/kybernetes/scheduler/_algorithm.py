"""The scheduling algorithm: filter the nodes, score the feasible ones, pick the best.

Promises, as upstream's ``schedulePod``:

* A pod nominated to a node (``status.nominatedNodeName``) that still passes the filters is
  placed there without looking further.
* Nodes are examined from a start index that advances round-robin by the number examined
  in the previous cycle, until :func:`num_feasible_nodes_to_find` feasible nodes are
  found: all nodes below 100, else ``percentageOfNodesToScore`` % (adaptive when 0:
  ``50 - nodes/125``, at least 5), and never fewer than 100.
* Scores of the feasible nodes are summed over the score plugins (weighted); the highest
  total wins and ties are broken uniformly at random (reservoir sampling with the
  injectable ``rng``). A single feasible node is taken without scoring.
* No feasible node raises :class:`~._fiterror.FitError` (with the per-node diagnosis); a
  plugin failure raises :class:`~._status.PluginError`.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from kybernetes.scheduler._fiterror import NO_NODES_MESSAGE, Diagnosis, FitError
from kybernetes.scheduler._framework import CycleState
from kybernetes.scheduler._handle import NodeInfoLister
from kybernetes.scheduler._nodeinfo import NodeInfo
from kybernetes.scheduler._podinfo import PodInfo
from kybernetes.scheduler._runtime import Framework
from kybernetes.scheduler._status import Code, PluginError, Status

MIN_FEASIBLE_NODES_TO_FIND = 100
MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND = 5


class NoNodesAvailable(Exception):
    def __str__(self) -> str:
        return NO_NODES_MESSAGE


def num_feasible_nodes_to_find(percentage: int, num_all_nodes: int) -> int:
    if num_all_nodes < MIN_FEASIBLE_NODES_TO_FIND:
        return num_all_nodes
    if percentage == 0:
        percentage = max(50 - num_all_nodes // 125, MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND)
    num = num_all_nodes * percentage // 100
    return max(num, MIN_FEASIBLE_NODES_TO_FIND)


@dataclass(frozen=True, slots=True)
class ScheduleResult:
    node_name: str
    evaluated_nodes: int
    feasible_nodes: int


class Algorithm:
    def __init__(self, snapshot: NodeInfoLister, rng: random.Random | None = None) -> None:
        self.snapshot = snapshot
        self.rng = rng or random.Random()
        self.next_start_node_index = 0

    def schedule_pod(self, fwk: Framework, state: CycleState, pod: PodInfo) -> ScheduleResult:
        all_nodes = self.snapshot.list()
        if not all_nodes:
            raise NoNodesAvailable()
        feasible, diagnosis = self.find_nodes_that_fit(fwk, state, pod, all_nodes)
        if not feasible:
            raise FitError(pod.key, len(all_nodes), diagnosis)
        evaluated = len(feasible) + len(diagnosis.node_to_status)
        if len(feasible) == 1:
            return ScheduleResult(feasible[0].name, evaluated, 1)
        totals = self.prioritize_nodes(fwk, state, pod, feasible)
        return ScheduleResult(self.select_host(feasible, totals), evaluated, len(feasible))

    def find_nodes_that_fit(
        self, fwk: Framework, state: CycleState, pod: PodInfo, all_nodes: Sequence[NodeInfo]
    ) -> tuple[list[NodeInfo], Diagnosis]:
        diagnosis = Diagnosis()
        result, status, blamed = fwk.run_pre_filter(state, pod, all_nodes)
        diagnosis.unschedulable_plugins |= blamed
        if status is not None:
            if not status.is_rejected():
                raise PluginError(status.message)
            diagnosis.absent_status = status
            diagnosis.pre_filter_msg = status.message
            return [], diagnosis
        nominated = str((pod.pod.get("status") or {}).get("nominatedNodeName") or "")
        if nominated:
            node = self.snapshot.get(nominated)
            if node is not None and self._passes(fwk, state, pod, node) is None:
                return [node], diagnosis
        nodes: Sequence[NodeInfo] = all_nodes
        if result is not None and result.node_names is not None:
            nodes = [n for n in all_nodes if n.name in result.node_names]
            diagnosis.absent_status = Status(
                Code.UNSCHEDULABLE_AND_UNRESOLVABLE,
                f"node(s) didn't satisfy plugin(s) [{' '.join(sorted(blamed))}]",
            )
        feasible = self._pass_filters(fwk, state, pod, nodes, diagnosis)
        return feasible, diagnosis

    def _passes(
        self, fwk: Framework, state: CycleState, pod: PodInfo, node: NodeInfo
    ) -> tuple[Status, str] | None:
        if fwk.handle.nominator.has_nominations:
            return fwk.run_filter_with_nominated_pods(state, pod, node)
        return fwk.run_filter(state, pod, node)

    def _pass_filters(
        self,
        fwk: Framework,
        state: CycleState,
        pod: PodInfo,
        nodes: Sequence[NodeInfo],
        diagnosis: Diagnosis,
    ) -> list[NodeInfo]:
        n = len(nodes)
        if n == 0:
            return []
        to_find = num_feasible_nodes_to_find(fwk.percentage_of_nodes_to_score, n)
        start = self.next_start_node_index % n
        feasible: list[NodeInfo] = []
        processed = 0
        # Chunks of exactly as many nodes as are still wanted: the same nodes are examined,
        # in the same order, as one at a time would, but each filter runs once per chunk.
        while processed < n and len(feasible) < to_find:
            k = min(to_find - len(feasible), n - processed)
            a = (start + processed) % n
            chunk = nodes[a : a + k] if a + k <= n else [*nodes[a:], *nodes[: a + k - n]]
            processed += k
            if fwk.handle.nominator.has_nominations:
                results = [fwk.run_filter_with_nominated_pods(state, pod, node) for node in chunk]
            else:
                results = fwk.run_filter_batch(state, pod, chunk)
            if not any(results):
                feasible.extend(chunk)
                continue
            for node, failed in zip(chunk, results, strict=True):
                if failed is None:
                    feasible.append(node)
                    continue
                status, name = failed
                if not status.is_rejected():
                    raise PluginError(f"running {name} on node {node.name}: {status.message}")
                diagnosis.node_to_status[node.name] = status
                diagnosis.unschedulable_plugins.add(name)
        self.next_start_node_index = (start + processed) % n
        return feasible

    def prioritize_nodes(
        self, fwk: Framework, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo]
    ) -> list[int]:
        if not fwk.score_plugins:
            return [1] * len(nodes)
        status = fwk.run_pre_score(state, pod, nodes)
        if status is not None:
            raise PluginError(f"running PreScore plugins: {status.message}")
        return fwk.run_score(state, pod, nodes)

    def select_host(self, nodes: Sequence[NodeInfo], totals: Sequence[int]) -> str:
        best = max(totals)
        ties = [i for i, total in enumerate(totals) if total == best]
        # Uniform among the best, as upstream's reservoir sampling (one draw here).
        return nodes[ties[self.rng.randrange(len(ties))] if len(ties) > 1 else ties[0]].name
