"""The algorithm and the cycle: node sampling, round robin, ties, messages, reserve/permit."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Mapping
from typing import Any

import pytest
from tests.support.scheduling import make_core, make_node, make_pod, schedule

from kybernetes.client import FakeClock
from kybernetes.scheduler import (
    IN_TREE_REGISTRY,
    WAIT,
    Code,
    CycleState,
    Diagnosis,
    Failed,
    FitError,
    Handle,
    NullAPI,
    PodInfo,
    Scheduled,
    StaticCluster,
    Status,
    build_core,
    num_feasible_nodes_to_find,
    parse_config,
    unresolvable,
    unschedulable,
)


@pytest.mark.parametrize(
    ("percentage", "nodes", "want"),
    [
        (0, 50, 50),
        (0, 100, 100),
        (0, 1000, 420),  # 50 - 1000/125 = 42 %
        (0, 5000, 500),  # 10 %
        (0, 6000, 300),  # 50 - 48 = 2 %, raised to 5 %
        (30, 1000, 300),
        (1, 1000, 100),  # never fewer than 100
        (100, 150, 150),
    ],
)
def test_num_feasible_nodes_to_find(percentage: int, nodes: int, want: int) -> None:
    assert num_feasible_nodes_to_find(percentage, nodes) == want


async def test_round_robin_start_and_evaluated_count() -> None:
    core = make_core([make_node(f"n{i:03d}") for i in range(250)])
    # 250 nodes: 48 % -> 120 nodes examined per cycle.
    first = await schedule(core, make_pod("a", cpu="100m"))
    assert isinstance(first, Scheduled) and first.result.evaluated_nodes == 120
    assert core.algorithm.next_start_node_index == 120
    await schedule(core, make_pod("b", cpu="100m"))
    assert core.algorithm.next_start_node_index == 240
    await schedule(core, make_pod("c", cpu="100m"))
    assert core.algorithm.next_start_node_index == 110  # wrapped around


async def test_ties_are_broken_at_random_and_spread() -> None:
    config = {"profiles": [{"plugins": {"score": {"disabled": [{"name": "*"}]}}}]}
    core = make_core([make_node(f"n{i}") for i in range(3)], config=config, seed=7)
    picks: Counter[str] = Counter()
    for i in range(60):
        outcome = await schedule(core, make_pod(f"p{i}"))
        assert isinstance(outcome, Scheduled)
        picks[outcome.node_name] += 1
    assert set(picks) == {"n0", "n1", "n2"} and min(picks.values()) >= 10


async def test_spreading_by_least_allocated() -> None:
    core = make_core([make_node(f"n{i}", cpu="4") for i in range(4)])
    picks: Counter[str] = Counter()
    for i in range(8):
        outcome = await schedule(core, make_pod(f"p{i}", cpu="1"))
        assert isinstance(outcome, Scheduled)
        picks[outcome.node_name] += 1
    assert sorted(picks.values()) == [2, 2, 2, 2]


def test_fit_error_message_sorts_counted_reasons_as_strings() -> None:
    statuses = {f"n{i}": unschedulable("Insufficient cpu") for i in range(10)}
    statuses.update({"t1": unresolvable("node(s) had untolerated taint {k: v}")})
    statuses.update({"t2": unresolvable("node(s) had untolerated taint {k: v}")})
    diagnosis = Diagnosis(node_to_status=statuses, absent_status=unresolvable("absent"))
    fit = FitError("ns/p", 13, diagnosis)
    assert fit.message() == (
        "0/13 nodes are available: 1 absent, 10 Insufficient cpu, "
        "2 node(s) had untolerated taint {k: v}."
    )
    diagnosis.post_filter_msg = "preemption: not eligible due to preemptionPolicy=Never."
    assert fit.message().endswith("{k: v}. preemption: not eligible due to preemptionPolicy=Never.")


async def test_no_nodes() -> None:
    outcome = await schedule(make_core(), make_pod("p"))
    assert isinstance(outcome, Failed) and outcome.message == "no nodes available to schedule pods"
    assert outcome.reason == "Unschedulable"


async def test_pods_of_other_schedulers_and_terminating_pods_are_not_scheduled() -> None:
    core = make_core([make_node("n")])
    assert await schedule(core, make_pod("p", scheduler_name="other")) is None
    dying = make_pod("d")
    dying["metadata"]["deletionTimestamp"] = "2025-01-01T00:00:00Z"
    assert await schedule(core, dying) is None


class _Gate:
    """An out-of-tree plugin: Reserve rejects pods labelled ``deny``, Permit makes pods
    labelled ``hold`` wait."""

    name = "Gate"

    def __init__(self, args: Mapping[str, Any], handle: Handle) -> None:
        self.unreserved: list[str] = []

    def reserve(self, state: CycleState, pod: PodInfo, node_name: str) -> Status | None:
        return unschedulable("denied at reserve") if "deny" in pod.labels else None

    def unreserve(self, state: CycleState, pod: PodInfo, node_name: str) -> None:
        self.unreserved.append(pod.name)

    def permit(
        self, state: CycleState, pod: PodInfo, node_name: str
    ) -> tuple[Status | None, float]:
        return (WAIT, 30.0) if "hold" in pod.labels else (None, 0.0)


def _gated_core() -> Any:
    config = parse_config(
        {"profiles": [{"plugins": {"multiPoint": {"enabled": [{"name": "Gate"}]}}}]},
        [*IN_TREE_REGISTRY, "Gate"],
    )
    core = build_core(
        config,
        cluster=StaticCluster(),
        api=NullAPI(),
        clock=FakeClock(),
        registry={**IN_TREE_REGISTRY, "Gate": _Gate},
        rng=random.Random(0),
    )
    core.cache.add_node(make_node("n", cpu="1"))
    return core


async def test_reserve_rejection_undoes_the_assumption() -> None:
    core = _gated_core()
    outcome = await schedule(core, make_pod("x", cpu="1", labels={"deny": "1"}))
    assert isinstance(outcome, Failed) and outcome.plugins == {"Gate"}
    assert outcome.message == "denied at reserve"
    assert core.frameworks["default-scheduler"].plugins["Gate"].unreserved == ["x"]
    node = core.cache.get("n")
    assert node is not None and node.req_cpu == 0


async def test_permit_wait_allow_and_timeout() -> None:
    core = _gated_core()
    outcome = await schedule(core, make_pod("h", cpu="500m", labels={"hold": "1"}))
    assert isinstance(outcome, Scheduled) and outcome.waiting is not None
    waiting_pods = outcome.fwk.handle.waiting_pods
    assert waiting_pods.get(outcome.assumed.uid) is outcome.waiting
    clock = FakeClock()
    verdict = asyncio.ensure_future(waiting_pods.wait(outcome.waiting, clock.sleep))
    await clock.wait_sleepers()
    outcome.waiting.allow("Gate")
    assert await verdict is None
    second = await schedule(core, make_pod("h2", cpu="500m", labels={"hold": "1"}))
    assert isinstance(second, Scheduled) and second.waiting is not None
    verdict = asyncio.ensure_future(waiting_pods.wait(second.waiting, clock.sleep))
    await clock.wait_sleepers()
    clock.advance(30)
    status = await verdict
    assert status is not None and status.code == Code.UNSCHEDULABLE
    assert status.message == "rejected due to timeout after waiting 30.0s at plugin Gate"


async def test_assumed_pods_count_before_binding_and_are_forgotten_on_failure() -> None:
    core = make_core([make_node("n", cpu="1")])
    core.queue.add(make_pod("a", cpu="1"))
    first = core.schedule_one(await core.queue.pop())
    assert isinstance(first, Scheduled)
    core.queue.add(make_pod("b", cpu="1"))
    second = core.schedule_one(await core.queue.pop())
    assert isinstance(second, Failed), "the assumed pod already uses the node"
    core.unreserve(first)  # its binding failed
    core.queue.add(make_pod("c", cpu="1"))
    third = core.schedule_one(await core.queue.pop())
    assert isinstance(third, Scheduled)
