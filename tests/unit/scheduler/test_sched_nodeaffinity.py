"""NodeAffinity: nodeSelector, required and preferred terms, addedAffinity, bad terms."""

from __future__ import annotations

from typing import Any

import pytest
from tests.support.scheduling import make_core, make_node, make_pod, node_info, schedule

from kybernetes.scheduler import SKIP, Code, ConfigError, CycleState, Failed, PodInfo, Scheduled
from kybernetes.scheduler.plugins import NodeAffinity


def _required(*exprs: dict[str, Any]) -> dict[str, Any]:
    return {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [{"matchExpressions": list(exprs)}]
            }
        }
    }


ZONE_A = make_node("a1", labels={"zone": "a", "disk": "ssd"})
ZONE_B = make_node("b1", labels={"zone": "b"})


@pytest.mark.parametrize(
    ("spec", "fits_a", "fits_b"),
    [
        ({"nodeSelector": {"zone": "a"}}, True, False),
        ({"nodeSelector": {"zone": "a", "disk": "hdd"}}, False, False),
        ({"affinity": _required({"key": "zone", "operator": "In", "values": ["b"]})}, False, True),
        ({"affinity": _required({"key": "disk", "operator": "DoesNotExist"})}, False, True),
        (
            {
                "nodeSelector": {"disk": "ssd"},
                "affinity": _required({"key": "zone", "operator": "NotIn", "values": ["b"]}),
            },
            True,
            False,
        ),
    ],
)
def test_filter(spec: dict[str, Any], fits_a: bool, fits_b: bool) -> None:
    plugin, state = NodeAffinity({}), CycleState()
    pod = PodInfo(make_pod("p", spec=spec))
    assert plugin.pre_filter(state, pod, [])[1] is None
    for node, fits in ((ZONE_A, fits_a), (ZONE_B, fits_b)):
        status = plugin.filter(state, pod, node_info(node))
        assert (status is None) is fits
        if status is not None:
            assert status.code == Code.UNSCHEDULABLE_AND_UNRESOLVABLE
            assert status.reasons == ("node(s) didn't match Pod's node affinity/selector",)
    infos = [node_info(ZONE_A), node_info(ZONE_B)]
    assert plugin.filter_nodes(state, pod, infos) == [plugin.filter(state, pod, n) for n in infos]


def test_skip_and_node_name_narrowing() -> None:
    plugin = NodeAffinity({})
    assert plugin.pre_filter(CycleState(), PodInfo(make_pod("p")), [])[1] is SKIP
    pinned = _required()
    pinned["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][
        "nodeSelectorTerms"
    ] = [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["b1"]}]}]
    result, status = plugin.pre_filter(
        CycleState(), PodInfo(make_pod("p", spec={"affinity": pinned})), []
    )
    assert status is None and result is not None and result.node_names == frozenset({"b1"})


def test_preferred_scoring() -> None:
    plugin, state = NodeAffinity({}), CycleState()
    spec = {
        "affinity": {
            "nodeAffinity": {
                "preferredDuringSchedulingIgnoredDuringExecution": [
                    {
                        "weight": 10,
                        "preference": {
                            "matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]
                        },
                    },
                    {
                        "weight": 30,
                        "preference": {"matchExpressions": [{"key": "disk", "operator": "Exists"}]},
                    },
                ]
            }
        }
    }
    pod = PodInfo(make_pod("p", spec=spec))
    nodes = [node_info(ZONE_A), node_info(ZONE_B), node_info(make_node("c", labels={"zone": "a"}))]
    assert plugin.pre_score(state, pod, nodes) is None
    scores = [plugin.score(state, pod, n) for n in nodes]
    assert scores == [40, 0, 10]
    plugin.normalize_score(state, pod, nodes, scores)
    assert scores == [100, 0, 25]
    assert plugin.pre_score(CycleState(), PodInfo(make_pod("q")), nodes) is SKIP


def test_added_affinity() -> None:
    plugin = NodeAffinity(
        {
            "addedAffinity": _required({"key": "zone", "operator": "In", "values": ["a"]})[
                "nodeAffinity"
            ]
        }
    )
    state = CycleState()
    pod = PodInfo(make_pod("p"))
    assert plugin.pre_filter(state, pod, [])[1] is None
    status = plugin.filter(state, pod, node_info(ZONE_B))
    assert status is not None and status.reasons == (
        "node(s) didn't match scheduler-enforced node affinity",
    )
    assert plugin.filter(state, pod, node_info(ZONE_A)) is None
    with pytest.raises(ConfigError):
        NodeAffinity(
            {"addedAffinity": _required({"key": "zone", "operator": "Bad"})["nodeAffinity"]}
        )


async def test_invalid_affinity_is_unschedulable_with_a_message_and_others_still_schedule() -> None:
    core = make_core([ZONE_A, ZONE_B])
    bad = make_pod(
        "bad", spec={"affinity": _required({"key": "zone", "operator": "Near", "values": ["a"]})}
    )
    outcome = await schedule(core, bad)
    assert isinstance(outcome, Failed) and not outcome.is_error
    assert outcome.message == (
        "0/2 nodes are available: invalid node affinity: spec.affinity.nodeAffinity."
        "requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0]"
        '.operator: "Near" is not a valid node selector operator. '
        "preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling."
    )
    good = await schedule(core, make_pod("good", spec={"nodeSelector": {"zone": "b"}}))
    assert isinstance(good, Scheduled) and good.node_name == "b1"
