"""Preemption arithmetic: which pods to evict from one node, and which node to pick.

Promises, as upstream's default preemption evaluator:

* :func:`select_victims_on_node` (on a *cloned* node and cycle state) removes every pod of
  lower priority; if the pod still does not fit, the node is not a candidate. It then
  reprieves victims one by one, most important first (higher priority, then earlier
  start), PDB-violating ones before the others, keeping a pod whenever the preemptor
  still fits with it. What remains are the victims, with how many of them violate a
  PodDisruptionBudget.
* :func:`pick_candidate` prefers, in order: fewest PDB violations, lowest highest-victim
  priority, smallest sum of priorities, fewest victims, latest start among the highest
  priority victims, then the first candidate.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kybernetes.api import SelectorError, label_selector_from_api
from kybernetes.scheduler._framework import CycleState
from kybernetes.scheduler._handle import PluginsRunner
from kybernetes.scheduler._nodeinfo import NodeInfo
from kybernetes.scheduler._podinfo import PodInfo
from kybernetes.scheduler._status import Status, unresolvable

NO_VICTIMS = "No preemption victims found for incoming pod"
_MAX_INT32 = 2**31 - 1
#: Pods without a start time count as starting now: after every recorded time.
_NOW = "~"


@dataclass
class Candidate:
    node_name: str
    victims: list[PodInfo]
    pdb_violations: int


def _start(pod: PodInfo) -> str:
    return str((pod.pod.get("status") or {}).get("startTime") or _NOW)


def more_important(a: PodInfo, b: PodInfo) -> bool:
    if a.priority != b.priority:
        return a.priority > b.priority
    return _start(a) < _start(b)


def _importance_order(a: PodInfo, b: PodInfo) -> int:
    return -1 if more_important(a, b) else 1 if more_important(b, a) else 0


def split_by_pdb_violation(
    pods: Sequence[PodInfo], pdbs: Sequence[Mapping[str, Any]]
) -> tuple[list[PodInfo], list[PodInfo]]:
    allowed = [int((pdb.get("status") or {}).get("disruptionsAllowed") or 0) for pdb in pdbs]
    violating: list[PodInfo] = []
    fine: list[PodInfo] = []
    for pod in pods:
        violated = False
        if pod.labels:
            for i, pdb in enumerate(pdbs):
                meta = pdb.get("metadata") or {}
                if meta.get("namespace") != pod.namespace:
                    continue
                try:
                    selector = label_selector_from_api((pdb.get("spec") or {}).get("selector"))
                except SelectorError:
                    continue
                # A PDB with a nil or empty selector matches nothing here (as upstream).
                if selector.empty or selector.matches_nothing or not selector.matches(pod.labels):
                    continue
                if pod.name in ((pdb.get("status") or {}).get("disruptedPods") or {}):
                    continue  # already being disrupted: counted by the API server
                allowed[i] -= 1
                if allowed[i] < 0:
                    violated = True
        (violating if violated else fine).append(pod)
    return violating, fine


def select_victims_on_node(
    runner: PluginsRunner,
    state: CycleState,
    pod: PodInfo,
    node: NodeInfo,
    pdbs: Sequence[Mapping[str, Any]],
) -> tuple[list[PodInfo], int, Status | None]:
    """(victims, PDB violations, None) or ([], 0, why the node cannot be a candidate)."""
    potential = [p for p in node.pods if p.priority < pod.priority]
    for victim in potential:
        node.remove_pod(victim.uid)
        runner.run_pre_filter_remove_pod(state, pod, victim, node)
    if not potential:
        return [], 0, unresolvable(NO_VICTIMS)
    failed = runner.run_filter_with_nominated_pods(state, pod, node)
    if failed is not None:
        return [], 0, failed[0]
    potential.sort(key=functools.cmp_to_key(_importance_order))
    violating, fine = split_by_pdb_violation(potential, pdbs)
    victims: list[PodInfo] = []
    violations = 0

    def reprieve(p: PodInfo) -> bool:
        node.add_pod(p)
        runner.run_pre_filter_add_pod(state, pod, p, node)
        if runner.run_filter_with_nominated_pods(state, pod, node) is None:
            return True
        node.remove_pod(p.uid)
        runner.run_pre_filter_remove_pod(state, pod, p, node)
        victims.append(p)
        return False

    for p in violating:
        if not reprieve(p):
            violations += 1
    for p in fine:
        reprieve(p)
    return victims, violations, None


def _earliest_start_of_highest(victims: Sequence[PodInfo]) -> str:
    highest = max(p.priority for p in victims)
    return min(_start(p) for p in victims if p.priority == highest)


def pick_candidate(candidates: Sequence[Candidate]) -> Candidate | None:
    if not candidates:
        return None
    criteria = (
        lambda c: -c.pdb_violations,
        lambda c: -c.victims[0].priority,
        lambda c: -sum(p.priority + _MAX_INT32 + 1 for p in c.victims),
        lambda c: -len(c.victims),
    )
    best = list(candidates)
    for criterion in criteria:
        top = max(criterion(c) for c in best)
        best = [c for c in best if criterion(c) == top]
        if len(best) == 1:
            return best[0]
    latest = max(_earliest_start_of_highest(c.victims) for c in best)
    return next(c for c in best if _earliest_start_of_highest(c.victims) == latest)
