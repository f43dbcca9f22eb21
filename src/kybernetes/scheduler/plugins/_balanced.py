"""NodeResourcesBalancedAllocation: prefer nodes whose resource utilisations (with this pod)
are close to each other: score = (1 - standard deviation of the fractions) * 100.

Uses real requests (not the non-zero defaults); a pod that requests none of the scored
resources is skipped, as upstream 1.33 does, so best-effort pods do not pile onto one node.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from kybernetes.scheduler._framework import MAX_NODE_SCORE, CycleState
from kybernetes.scheduler._handle import Handle
from kybernetes.scheduler._nodeinfo import NodeInfo
from kybernetes.scheduler._podinfo import PodInfo
from kybernetes.scheduler._resource import CPU, MEMORY
from kybernetes.scheduler._status import SKIP, Status
from kybernetes.scheduler.plugins._helpers import check_args
from kybernetes.scheduler.plugins._resource_scoring import (
    NodeScoreMemo,
    node_vectors,
    parse_resources,
    pod_request_for,
)

NAME = "NodeResourcesBalancedAllocation"
_PRE_SCORE_KEY = "PreScore" + NAME


def balanced_score(requested: list[int], allocatable: list[int]) -> int:
    fractions = [min(r / a, 1.0) for r, a in zip(requested, allocatable, strict=True) if a]
    if len(fractions) == 2:
        std = abs((fractions[0] - fractions[1]) / 2)
    elif len(fractions) > 2:
        mean = sum(fractions) / len(fractions)
        std = math.sqrt(sum((f - mean) ** 2 for f in fractions) / len(fractions))
    else:
        std = 0.0
    return int((1 - std) * MAX_NODE_SCORE)


class NodeResourcesBalancedAllocation:
    name = NAME

    def __init__(self, args: Mapping[str, Any], handle: Handle | None = None) -> None:
        check_args(NAME, args, ["resources"])
        self.resources = parse_resources(NAME, args.get("resources"))
        # Weights do not matter to this score: only which resources are compared.
        self.cpu_memory = [r.name for r in self.resources] == [CPU, MEMORY]
        self.memo = NodeScoreMemo()

    def pre_score(
        self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo]
    ) -> Status | None:
        requests = [pod_request_for(pod, r.name, True) for r in self.resources]
        if not any(requests):
            return SKIP
        state.write(_PRE_SCORE_KEY, requests)
        return None

    def score_nodes(self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo]) -> list[int]:
        if not self.cpu_memory:
            return [self.score(state, pod, n) for n in nodes]
        cpu, mem = pod.req_cpu, pod.req_mem
        table = self.memo.table(cpu, mem)
        out: list[int] = []
        append = out.append
        for n in nodes:
            hit = table.get(n.name)
            if hit is not None and hit[0] == n.generation:
                append(hit[1])
                continue
            ac, am = n.alloc_cpu, n.alloc_mem
            if ac and am:
                fc = (n.req_cpu + cpu) / ac
                fm = (n.req_mem + mem) / am
                diff = (fc if fc < 1.0 else 1.0) - (fm if fm < 1.0 else 1.0)
                value = int((1 - (diff if diff >= 0 else -diff) / 2) * MAX_NODE_SCORE)
            else:
                value = self.score(state, pod, n)
            table[n.name] = (n.generation, value)
            append(value)
        return out

    def score(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> int:
        requests: list[int] = state.read(_PRE_SCORE_KEY)
        requested, allocatable = node_vectors(node, self.resources, requests, True)
        return balanced_score(requested, allocatable)
