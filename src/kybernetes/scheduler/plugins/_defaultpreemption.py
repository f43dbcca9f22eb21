"""DefaultPreemption (PostFilter): when a pod fits nowhere, find a node where evicting
lower-priority pods lets it fit, and nominate the pod to it.

Promises, as upstream:

* Not eligible: ``preemptionPolicy: Never`` (``not eligible due to
  preemptionPolicy=Never.``), or a pod already nominated to a node where a lower-priority
  pod is still terminating because of an earlier preemption.
* Only nodes whose Filter status is Unschedulable are tried (UnschedulableAndUnresolvable
  means evicting cannot help), starting at a random offset, until
  ``max(minCandidateNodesPercentage% of them, minCandidateNodesAbsolute)`` candidates
  are found (stopping early once one that violates no PDB is among them).
* The result names the node and the victims; the scheduler deletes the victims, clears
  weaker nominations on that node and writes ``status.nominatedNodeName``. Without a
  candidate the message is ``preemption: 0/N nodes are available: <histogram>.``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kybernetes.scheduler._fiterror import Diagnosis, FitError
from kybernetes.scheduler._framework import CycleState, PostFilterResult
from kybernetes.scheduler._handle import Handle
from kybernetes.scheduler._podinfo import PodInfo
from kybernetes.scheduler._status import Code, Status, unresolvable, unschedulable
from kybernetes.scheduler.plugins._helpers import check_args, int_arg
from kybernetes.scheduler.plugins._preemption import (
    Candidate,
    pick_candidate,
    select_victims_on_node,
)

NAME = "DefaultPreemption"
NOT_HELPFUL = "Preemption is not helpful for scheduling"
NOT_ELIGIBLE_POLICY = "not eligible due to preemptionPolicy=Never."
NOT_ELIGIBLE_TERMINATING = "not eligible due to a terminating pod on the nominated node."


def terminating_by_preemption(pod: PodInfo) -> bool:
    if not pod.terminating:
        return False
    return any(
        c.get("type") == "DisruptionTarget" and c.get("reason") == "PreemptionByScheduler"
        for c in (pod.pod.get("status") or {}).get("conditions") or ()
    )


class DefaultPreemption:
    name = NAME

    def __init__(self, args: Mapping[str, Any], handle: Handle) -> None:
        check_args(NAME, args, ["minCandidateNodesPercentage", "minCandidateNodesAbsolute"])
        self.min_percentage = int_arg(NAME, args, "minCandidateNodesPercentage", 10, 0, 100)
        self.min_absolute = int_arg(NAME, args, "minCandidateNodesAbsolute", 100, 0, 2**31 - 1)
        self.handle = handle

    def post_filter(
        self, state: CycleState, pod: PodInfo, diagnosis: Diagnosis
    ) -> tuple[PostFilterResult | None, Status | None]:
        result, status = self._preempt(state, pod, diagnosis)
        if status is not None and status.message:
            return result, Status(status.code, "preemption: " + status.message)
        return result, status

    def _eligible(self, pod: PodInfo, diagnosis: Diagnosis) -> str | None:
        if pod.preemption_policy == "Never":
            return NOT_ELIGIBLE_POLICY
        nominated = str((pod.pod.get("status") or {}).get("nominatedNodeName") or "")
        if not nominated:
            return None
        if diagnosis.status_of(nominated).code == Code.UNSCHEDULABLE_AND_UNRESOLVABLE:
            return None
        node = self.handle.snapshot.get(nominated)
        if node is not None and any(
            p.priority < pod.priority and terminating_by_preemption(p) for p in node.pods
        ):
            return NOT_ELIGIBLE_TERMINATING
        return None

    def num_candidates(self, potential: int) -> int:
        n = potential * self.min_percentage // 100
        return min(max(n, self.min_absolute), potential)

    def _preempt(
        self, state: CycleState, pod: PodInfo, diagnosis: Diagnosis
    ) -> tuple[PostFilterResult | None, Status | None]:
        why_not = self._eligible(pod, diagnosis)
        if why_not is not None:
            return None, unschedulable(why_not)
        all_nodes = self.handle.snapshot.list()
        potential = [n for n in all_nodes if diagnosis.status_of(n.name).code == Code.UNSCHEDULABLE]
        statuses: dict[str, Status] = {}
        candidates: list[Candidate] = []
        if potential:
            candidates = self._dry_run(state, pod, potential, statuses)
        if not candidates:
            fit = FitError(
                pod.key,
                len(all_nodes),
                Diagnosis(node_to_status=statuses, absent_status=unresolvable(NOT_HELPFUL)),
            )
            # An empty nomination clears a stale one.
            return PostFilterResult(""), unschedulable(fit.message())
        best = pick_candidate(candidates)
        assert best is not None
        return PostFilterResult(best.node_name, best.victims), None

    def _dry_run(
        self, state: CycleState, pod: PodInfo, potential: list[Any], statuses: dict[str, Status]
    ) -> list[Candidate]:
        wanted = self.num_candidates(len(potential))
        offset = self.handle.rng.randrange(len(potential))
        pdbs = self.handle.cluster.pdbs()
        fine: list[Candidate] = []
        violating: list[Candidate] = []
        for i in range(len(potential)):
            node = potential[(offset + i) % len(potential)].clone()
            victims, violations, status = select_victims_on_node(
                self.handle.runner, state.clone(), pod, node, pdbs
            )
            if status is None and victims:
                (violating if violations else fine).append(
                    Candidate(node.name, victims, violations)
                )
                if fine and len(fine) + len(violating) >= wanted:
                    break
                continue
            statuses[node.name] = status or Status(
                Code.ERROR, f"expected at least one victim pod on node {node.name}"
            )
        return fine + violating
