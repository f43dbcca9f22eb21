"""DefaultPreemption: eligibility, victim selection, PDBs, node choice, nominations."""

from __future__ import annotations

from typing import Any

from tests.support.scheduling import make_core, make_node, make_pod, schedule

from kybernetes.scheduler import Failed, PodInfo, Scheduled, StaticCluster


def _low(name: str, node: str, priority: int = 0, cpu: str = "2", **kw: Any) -> dict[str, Any]:
    return make_pod(name, cpu=cpu, priority=priority, node_name=node, **kw)


async def test_evicts_the_least_important_pod_and_nominates_the_node() -> None:
    core = make_core(
        [make_node("n1", cpu="4")],
        [_low("keep", "n1", priority=5), _low("evict", "n1", priority=1)],
    )
    outcome = await schedule(core, make_pod("vip", cpu="2", priority=10))
    assert isinstance(outcome, Failed)
    assert outcome.message == "0/1 nodes are available: 1 Insufficient cpu."
    assert outcome.nominated_node == "n1"
    assert [v.name for v in outcome.victims] == ["evict"]


async def test_no_victims_and_not_helpful_messages() -> None:
    core = make_core(
        [
            make_node("n1", cpu="4"),
            make_node("n2", cpu="4", taints=[{"key": "k", "effect": "NoSchedule"}]),
        ],
        [_low("peer", "n1", priority=10, cpu="4")],
    )
    outcome = await schedule(core, make_pod("p", cpu="2", priority=10))
    assert isinstance(outcome, Failed) and outcome.nominated_node == ""
    assert outcome.message == (
        "0/2 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint {k: }. "
        "preemption: 0/2 nodes are available: 1 No preemption victims found for incoming pod, "
        "1 Preemption is not helpful for scheduling."
    )


async def test_preemption_policy_never() -> None:
    core = make_core([make_node("n1", cpu="1")], [_low("x", "n1", cpu="1")])
    pod = make_pod("p", cpu="1", priority=100, spec={"preemptionPolicy": "Never"})
    outcome = await schedule(core, pod)
    assert isinstance(outcome, Failed) and not outcome.victims
    assert outcome.message.endswith("preemption: not eligible due to preemptionPolicy=Never.")


async def test_prefers_the_node_without_pdb_violations() -> None:
    pdb = {
        "metadata": {"name": "db", "namespace": "default"},
        "spec": {"selector": {"matchLabels": {"app": "db"}}},
        "status": {"disruptionsAllowed": 0},
    }
    core = make_core(
        [make_node("n1", cpu="2"), make_node("n2", cpu="2")],
        [
            _low("db", "n1", labels={"app": "db"}),
            _low("batch", "n2", priority=3, labels={"app": "batch"}),
        ],
        cluster=StaticCluster(pdb_list=[pdb]),
    )
    outcome = await schedule(core, make_pod("vip", cpu="2", priority=10))
    assert isinstance(outcome, Failed)
    # n1's victim has a lower priority, but evicting it would violate its PDB.
    assert outcome.nominated_node == "n2"
    assert [v.name for v in outcome.victims] == ["batch"]


async def test_prefers_lower_priority_victims_then_fewer() -> None:
    core = make_core(
        [make_node("n1", cpu="4"), make_node("n2", cpu="4")],
        [
            _low("a", "n1", priority=5, cpu="4"),
            _low("b", "n2", priority=1),
            _low("c", "n2", priority=1),
        ],
    )
    outcome = await schedule(core, make_pod("vip", cpu="4", priority=10))
    assert isinstance(outcome, Failed) and outcome.nominated_node == "n2"
    assert sorted(v.name for v in outcome.victims) == ["b", "c"]


async def test_nominated_pod_keeps_its_space_from_lower_priority_pods() -> None:
    victim = _low("victim", "n1")
    core = make_core([make_node("n1", cpu="2")], [victim])
    vip = make_pod("vip", cpu="2", priority=10)
    outcome = await schedule(core, vip)
    assert isinstance(outcome, Failed) and outcome.nominated_node == "n1"
    core.queue.add_nominated(PodInfo(vip), "n1")
    core.cache.remove_pod(victim)  # the eviction went through
    small = await schedule(core, make_pod("small", cpu="1", priority=0))
    assert isinstance(small, Failed), "the freed space is promised to the nominated pod"
    vip_again = dict(vip, status={"phase": "Pending", "nominatedNodeName": "n1"})
    core.queue.delete(vip)
    outcome = await schedule(core, vip_again)
    assert isinstance(outcome, Scheduled) and outcome.node_name == "n1"
    assert core.queue.nominated_pods_for_node("n1") == []
