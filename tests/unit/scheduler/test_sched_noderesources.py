"""NodeResourcesFit (filter and the three scoring strategies) and BalancedAllocation."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.support.scheduling import make_node, make_pod, node_info

from kybernetes.scheduler import SKIP, Code, ConfigError, CycleState, PodInfo
from kybernetes.scheduler.plugins import NodeResourcesBalancedAllocation, NodeResourcesFit

GPU = "example.com/gpu"


def _fit(**args: Any) -> NodeResourcesFit:
    return NodeResourcesFit(args)


@pytest.mark.parametrize(
    ("pod", "node_kwargs", "existing", "want"),
    [
        (make_pod("p", cpu="1", memory="1Gi"), {}, [], None),
        (
            make_pod("p", cpu="1"),
            {"pods": "1"},
            [make_pod("e")],
            (Code.UNSCHEDULABLE, ("Too many pods",)),
        ),
        (
            make_pod("p", cpu="3"),
            {},
            [make_pod("e", cpu="2")],
            (Code.UNSCHEDULABLE, ("Insufficient cpu",)),
        ),
        (
            make_pod("p", cpu="5"),
            {},
            [],
            (Code.UNSCHEDULABLE_AND_UNRESOLVABLE, ("Insufficient cpu",)),
        ),
        (
            make_pod("p", cpu="3", memory="15Gi"),
            {},
            [make_pod("e", cpu="2", memory="2Gi")],
            (Code.UNSCHEDULABLE, ("Insufficient cpu", "Insufficient memory")),
        ),
        # A pod that requests nothing only needs a pod slot.
        (make_pod("p"), {"cpu": "0", "memory": "0"}, [], None),
    ],
)
def test_fit_filter(
    pod: dict[str, Any], node_kwargs: dict[str, Any], existing: list[Any], want: Any
) -> None:
    node = node_info(make_node("n", **node_kwargs), *existing)
    status = _fit().filter(CycleState(), PodInfo(pod), node)
    assert (None if status is None else (status.code, status.reasons)) == want
    assert _fit().filter_nodes(CycleState(), PodInfo(pod), [node]) == [status]


def _gpu_pod(count: str = "1", **extra: str) -> PodInfo:
    pod = make_pod("g")
    pod["spec"]["containers"][0]["resources"] = {"requests": {GPU: count, **extra}}
    return PodInfo(pod)


def test_fit_extended_and_ephemeral_resources() -> None:
    plain = node_info(make_node("plain"))
    with_gpu = node_info(make_node("gpu", extra={GPU: "2"}))
    status = _fit().filter(CycleState(), _gpu_pod(), plain)
    assert status is not None and status.reasons == (f"Insufficient {GPU}",)
    assert status.code == Code.UNSCHEDULABLE_AND_UNRESOLVABLE
    assert _fit().filter(CycleState(), _gpu_pod("2"), with_gpu) is None
    assert _fit().filter(CycleState(), _gpu_pod("3"), with_gpu) is not None
    assert _fit(ignoredResources=[GPU]).filter(CycleState(), _gpu_pod(), plain) is None
    assert (
        _fit(ignoredResourceGroups=["example.com"]).filter(CycleState(), _gpu_pod(), plain) is None
    )
    eph = _gpu_pod("0", **{"ephemeral-storage": "1Gi"})
    status = _fit().filter(CycleState(), eph, plain)
    assert status is not None and status.reasons == ("Insufficient ephemeral-storage",)


def _scores(plugin: Any, pod: PodInfo, nodes: list[Any]) -> list[int]:
    state = CycleState()
    assert plugin.pre_score(state, pod, nodes) is None
    one_by_one = [plugin.score(state, pod, n) for n in nodes]
    assert plugin.score_nodes(state, pod, nodes) == one_by_one
    return one_by_one


# Node 4 cpu / 8Gi with 1 cpu / 2Gi in use; the pod asks 2 cpu / 1Gi: cpu 75% used after,
# memory 37.5% used after.
NODE = make_node("n", cpu="4", memory="8Gi")
USED = make_pod("used", cpu="1", memory="2Gi")
POD = PodInfo(make_pod("p", cpu="2", memory="1Gi"))


@pytest.mark.parametrize(
    ("strategy", "want"),
    [
        ({}, 43),  # LeastAllocated: (25 + 62) / 2
        ({"type": "MostAllocated"}, 56),  # (75 + 37) / 2
        ({"resources": [{"name": "cpu", "weight": 2}, {"name": "memory", "weight": 1}]}, 37),
        (
            {
                "type": "RequestedToCapacityRatio",
                "requestedToCapacityRatio": {
                    "shape": [{"utilization": 0, "score": 0}, {"utilization": 100, "score": 10}]
                },
            },
            56,  # round((75 + 37) / 2)
        ),
        (
            {
                "type": "RequestedToCapacityRatio",
                "requestedToCapacityRatio": {
                    "shape": [{"utilization": 0, "score": 10}, {"utilization": 100, "score": 0}]
                },
            },
            44,  # round((25 + 63) / 2)
        ),
    ],
)
def test_fit_scoring_strategies(strategy: dict[str, Any], want: int) -> None:
    plugin = _fit(scoringStrategy=strategy)
    assert _scores(plugin, POD, [node_info(NODE, USED)]) == [want]


def test_requested_to_capacity_ratio_truncates_like_go() -> None:
    shape = [{"utilization": 0, "score": 10}, {"utilization": 30, "score": 0}]
    plugin = _fit(
        scoringStrategy={
            "type": "RequestedToCapacityRatio",
            "requestedToCapacityRatio": {"shape": shape},
            "resources": [{"name": "cpu", "weight": 1}],
        }
    )
    pod = PodInfo(make_pod("p", cpu="400m"))
    # 10% utilisation: 100 - 100*10/30 = 100 - 33 (Go truncates toward zero, not -34).
    assert _scores(plugin, pod, [node_info(make_node("n", cpu="4"))]) == [67]


def test_least_allocated_counts_default_requests_for_empty_pods() -> None:
    empty = PodInfo(make_pod("e"))
    busy = node_info(make_node("busy", cpu="1", memory="1Gi"), make_pod("x"), make_pod("y"))
    idle = node_info(make_node("idle", cpu="1", memory="1Gi"))
    busy_score, idle_score = _scores(_fit(), empty, [busy, idle])
    assert busy_score < idle_score


@pytest.mark.parametrize(
    "strategy",
    [
        {"type": "Nope"},
        {"resources": [{"name": "cpu", "weight": 0}]},
        {"type": "RequestedToCapacityRatio", "requestedToCapacityRatio": {"shape": []}},
        {
            "type": "RequestedToCapacityRatio",
            "requestedToCapacityRatio": {
                "shape": [{"utilization": 50, "score": 1}, {"utilization": 40, "score": 2}]
            },
        },
    ],
)
def test_fit_rejects_bad_args(strategy: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        _fit(scoringStrategy=strategy)
    with pytest.raises(ConfigError, match="unknown field"):
        _fit(bogus=1)


def test_balanced_allocation() -> None:
    plugin = NodeResourcesBalancedAllocation({})
    assert _scores(plugin, POD, [node_info(NODE, USED)]) == [81]  # 100 * (1 - |0.75-0.375|/2)
    assert plugin.pre_score(CycleState(), PodInfo(make_pod("besteffort")), []) is SKIP
    three = NodeResourcesBalancedAllocation(
        {"resources": [{"name": "cpu"}, {"name": "memory"}, {"name": GPU}]}
    )
    gpu_pod = make_pod("p", cpu="2", memory="4Gi")
    gpu_pod["spec"]["containers"][0]["resources"]["requests"][GPU] = "1"
    node = node_info(make_node("n", cpu="4", memory="8Gi", extra={GPU: "2"}))
    # Fractions 0.5, 0.5, 0.5: no deviation.
    assert _scores(three, PodInfo(gpu_pod), [node]) == [100]


_quantities = st.integers(min_value=0, max_value=9000)


@settings(max_examples=60, deadline=None)
@given(
    nodes=st.lists(
        st.tuples(_quantities, _quantities, st.integers(0, 4), st.integers(0, 3)),
        min_size=1,
        max_size=6,
    ),
    pod=st.tuples(_quantities, _quantities),
)
def test_batch_paths_agree_with_per_node_calls(
    nodes: list[tuple[int, int, int, int]], pod: tuple[int, int]
) -> None:
    infos = []
    for i, (cpu, mem, max_pods, existing) in enumerate(nodes):
        info = node_info(
            make_node(f"n{i}", cpu=f"{cpu}m", memory=f"{mem}Mi", pods=str(max_pods)),
            *[
                make_pod(f"e{i}-{j}", cpu=f"{cpu // 3}m", memory=f"{mem // 4}Mi")
                for j in range(existing)
            ],
        )
        infos.append(info)
    incoming = PodInfo(make_pod("p", cpu=f"{pod[0]}m", memory=f"{pod[1]}Mi"))
    for plugin in (_fit(), _fit(scoringStrategy={"type": "MostAllocated"})):
        state = CycleState()
        assert plugin.filter_nodes(state, incoming, infos) == [
            plugin.filter(state, incoming, n) for n in infos
        ]
        _scores(plugin, incoming, infos)
    balanced = NodeResourcesBalancedAllocation({})
    if balanced.pre_score(CycleState(), incoming, infos) is None:
        _scores(balanced, incoming, infos)


def test_remembered_scores_follow_node_changes_and_pod_requests() -> None:
    fit, balanced = _fit(), NodeResourcesBalancedAllocation({})
    infos = [node_info(make_node(f"n{i}", cpu="4", memory="8Gi")) for i in range(3)]
    small, big = (
        PodInfo(make_pod("s", cpu="1", memory="1Gi")),
        PodInfo(make_pod("b", cpu="3", memory="1Gi")),
    )
    for plugin in (fit, balanced):
        first = _scores(plugin, small, infos)
        infos[1].add_pod(PodInfo(make_pod("x", cpu="2", memory="4Gi")))
        second = _scores(plugin, small, infos)  # checks the batch against per-node scores
        assert second[0] == first[0] and second[1] != first[1]
        clone = infos[2].clone()
        clone.add_pod(PodInfo(make_pod("y", cpu="1")))
        assert _scores(plugin, small, [clone]) != [first[2]]
        _scores(plugin, big, infos)
