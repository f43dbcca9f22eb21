"""PodTopologySpread: maxSkew, whenUnsatisfiable, minDomains, inclusion policies, defaults."""

from __future__ import annotations

from collections import Counter
from typing import Any

from tests.support.scheduling import make_core, make_node, make_pod, schedule

from kybernetes.scheduler import SKIP, CycleState, Failed, PodInfo, Scheduled, StaticCluster
from kybernetes.scheduler.plugins import PodTopologySpread

ZONE = "topology.kubernetes.io/zone"


def _nodes(*zones: str) -> list[dict[str, Any]]:
    return [make_node(f"{z}{i}", labels={ZONE: z}) for z in zones for i in (1, 2)]


def _spread(max_skew: int = 1, when: str = "DoNotSchedule", **extra: Any) -> dict[str, Any]:
    constraint = {
        "maxSkew": max_skew,
        "topologyKey": ZONE,
        "whenUnsatisfiable": when,
        "labelSelector": {"matchLabels": {"app": "web"}},
        **extra,
    }
    return {"topologySpreadConstraints": [constraint]}


def _web(name: str, **kwargs: Any) -> dict[str, Any]:
    return make_pod(name, labels={"app": "web"}, **kwargs)


async def test_max_skew_keeps_zones_even() -> None:
    core = make_core(_nodes("a", "b"), [_web("old1", node_name="a1"), _web("old2", node_name="a2")])
    zones: Counter[str] = Counter()
    for i in range(4):
        outcome = await schedule(core, _web(f"w{i}", spec=_spread()))
        assert isinstance(outcome, Scheduled)
        zones[outcome.node_name[0]] += 1
    # b had to catch up first: 2 in a already, so b gets 2 before a gets any more.
    assert zones == {"b": 3, "a": 1}


async def test_nodes_without_the_key_are_rejected_but_do_not_block_others() -> None:
    core = make_core([*_nodes("a"), make_node("bare")], [_web("old", node_name="a1")])
    outcome = await schedule(core, _web("w", spec=_spread()))
    # Only zone a is a domain (bare has no zone label): the pod goes to a.
    assert isinstance(outcome, Scheduled) and outcome.node_name.startswith("a")
    failed = await schedule(make_core([make_node("bare")]), _web("w", spec=_spread()))
    assert isinstance(failed, Failed)
    assert failed.message.startswith(
        "0/1 nodes are available: 1 node(s) didn't match pod topology spread constraints "
        "(missing required label)."
    )


async def test_skew_rejects_an_overloaded_domain() -> None:
    nodes = [make_node("a1", labels={ZONE: "a"}), make_node("b1", labels={ZONE: "b"}, cpu="0")]
    core = make_core(nodes, [_web("x", node_name="a1")])
    outcome = await schedule(core, _web("w", cpu="1", spec=_spread()))
    assert isinstance(outcome, Failed)
    assert outcome.message.startswith(
        "0/2 nodes are available: 1 Insufficient cpu, "
        "1 node(s) didn't match pod topology spread constraints."
    )


async def test_min_domains_treats_the_minimum_as_zero() -> None:
    core = make_core(_nodes("a", "b"), [_web("x", node_name="a1"), _web("y", node_name="b1")])
    outcome = await schedule(core, _web("w", spec=_spread(minDomains=3)))
    assert isinstance(outcome, Failed)
    assert "4 node(s) didn't match pod topology spread constraints" in outcome.message
    outcome = await schedule(core, _web("v", spec=_spread(minDomains=2)))
    assert isinstance(outcome, Scheduled)


async def test_node_affinity_policy_honor_and_ignore() -> None:
    # Zone c is full of matching pods but excluded by the pod's nodeSelector: with Honor it
    # does not count, so a and b (empty) are balanced and either is fine.
    nodes = [*_nodes("a", "b"), make_node("c1", labels={ZONE: "c", "pool": "other"})]
    for n in nodes[:4]:
        n["metadata"]["labels"]["pool"] = "main"
    existing = [_web(f"c{i}", node_name="c1") for i in range(3)]
    existing.append(_web("a", node_name="a1"))
    core = make_core(nodes, existing)
    honor = {**_spread(), "nodeSelector": {"pool": "main"}}
    outcome = await schedule(core, _web("h", spec=honor))
    assert isinstance(outcome, Scheduled) and outcome.node_name.startswith("b")
    ignore = _spread(nodeAffinityPolicy="Ignore")
    ignore["nodeSelector"] = {"pool": "main"}
    # Counting zone c too, the minimum is now 1 (b) and a/b both have 1: still fine.
    outcome = await schedule(core, _web("i", spec=ignore))
    assert isinstance(outcome, Scheduled)


async def test_schedule_anyway_prefers_the_emptier_zone() -> None:
    nodes = _nodes("a", "b")
    existing = [_web(f"x{i}", node_name=f"a{1 + i % 2}") for i in range(4)]
    core = make_core(nodes, existing)
    outcome = await schedule(core, _web("w", spec=_spread(when="ScheduleAnyway")))
    assert isinstance(outcome, Scheduled) and outcome.node_name.startswith("b")


def test_system_default_constraints_follow_services() -> None:
    service = {
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"selector": {"app": "web"}},
    }
    core = make_core(_nodes("a"), cluster=StaticCluster(service_list=[service]))
    plugin = PodTopologySpread({}, core.frameworks["default-scheduler"].handle)
    nodes = core.cache.list()
    assert plugin.pre_score(CycleState(), PodInfo(_web("w")), nodes) is None
    assert plugin.pre_score(CycleState(), PodInfo(make_pod("lonely")), nodes) is SKIP
    # Defaults are ScheduleAnyway: they never filter.
    assert plugin.pre_filter(CycleState(), PodInfo(_web("w")), nodes)[1] is SKIP


async def test_match_label_keys() -> None:
    nodes = _nodes("a", "b")
    old = [make_pod(f"o{i}", labels={"app": "web", "rev": "1"}, node_name="a1") for i in range(3)]
    core = make_core(nodes, old)
    spec = _spread(matchLabelKeys=["rev"])
    # Only revision 2 pods count: zones are even (0/0), so a is allowed.
    outcome = await schedule(
        core,
        make_pod(
            "n", labels={"app": "web", "rev": "2"}, spec={**spec, "nodeSelector": {ZONE: "a"}}
        ),
    )
    assert isinstance(outcome, Scheduled)


async def test_batch_filter_agrees_with_per_node_filter() -> None:
    nodes = [*_nodes("a", "b", "c"), make_node("bare")]
    existing = [_web(f"x{i}", node_name=f"{'aab'[i % 3]}1") for i in range(5)]
    core = make_core(nodes, existing)
    plugin = PodTopologySpread({}, core.frameworks["default-scheduler"].handle)
    for spec in (_spread(), _spread(max_skew=2), _spread(minDomains=4)):
        state, pod = CycleState(), PodInfo(_web("w", spec=spec))
        assert plugin.pre_filter(state, pod, core.cache.list())[1] is None
        infos = core.cache.list()
        assert plugin.filter_nodes(state, pod, infos) == [
            plugin.filter(state, pod, n) for n in infos
        ]
