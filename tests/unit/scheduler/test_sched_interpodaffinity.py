"""InterPodAffinity: required and preferred affinity/anti-affinity across topology domains."""

from __future__ import annotations

from collections import Counter
from typing import Any

from tests.support.scheduling import make_core, make_node, make_pod, schedule

from kybernetes.scheduler import Failed, Scheduled, StaticCluster

ZONE = "topology.kubernetes.io/zone"
HOST = "kubernetes.io/hostname"


def _nodes() -> list[dict[str, Any]]:
    return [
        make_node("a1", labels={ZONE: "a"}),
        make_node("a2", labels={ZONE: "a"}),
        make_node("b1", labels={ZONE: "b"}),
    ]


def _term(labels: dict[str, str], key: str, **extra: Any) -> dict[str, Any]:
    return {"labelSelector": {"matchLabels": labels}, "topologyKey": key, **extra}


def _affinity(kind: str, *terms: dict[str, Any], preferred: bool = False) -> dict[str, Any]:
    if preferred:
        field = "preferredDuringSchedulingIgnoredDuringExecution"
        return {"affinity": {kind: {field: [{"weight": 100, "podAffinityTerm": t} for t in terms]}}}
    return {"affinity": {kind: {"requiredDuringSchedulingIgnoredDuringExecution": list(terms)}}}


async def test_required_anti_affinity_spreads_and_then_rejects() -> None:
    core = make_core(_nodes())
    spec = _affinity("podAntiAffinity", _term({"app": "web"}, HOST))
    placed = []
    for i in range(3):
        outcome = await schedule(core, make_pod(f"web{i}", labels={"app": "web"}, spec=spec))
        assert isinstance(outcome, Scheduled)
        placed.append(outcome.node_name)
    assert sorted(placed) == ["a1", "a2", "b1"]
    outcome = await schedule(core, make_pod("web3", labels={"app": "web"}, spec=spec))
    assert isinstance(outcome, Failed)
    assert outcome.message.startswith(
        "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules."
    )
    assert outcome.plugins == {"InterPodAffinity"}


async def test_existing_pods_anti_affinity_keeps_others_out() -> None:
    guard = make_pod(
        "guard",
        node_name="a1",
        spec=_affinity("podAntiAffinity", _term({"app": "noisy"}, ZONE)),
    )
    core = make_core(_nodes(), [guard])
    outcome = await schedule(core, make_pod("n", labels={"app": "noisy"}))
    assert isinstance(outcome, Scheduled) and outcome.node_name == "b1"
    blocked = make_core([n for n in _nodes() if n["metadata"]["name"] != "b1"], [guard])
    outcome = await schedule(blocked, make_pod("n", labels={"app": "noisy"}))
    assert isinstance(outcome, Failed)
    assert "2 node(s) didn't satisfy existing pods anti-affinity rules" in outcome.message


async def test_required_affinity_follows_the_target_and_allows_the_first_of_a_group() -> None:
    db = make_pod("db", labels={"app": "db"}, node_name="b1")
    core = make_core(_nodes(), [db])
    spec = _affinity("podAffinity", _term({"app": "db"}, ZONE))
    outcome = await schedule(core, make_pod("api", spec=spec))
    assert isinstance(outcome, Scheduled) and outcome.node_name == "b1"
    lonely = make_core(_nodes())
    outcome = await schedule(lonely, make_pod("api", spec=spec))
    assert isinstance(outcome, Failed)
    assert outcome.message.startswith(
        "0/3 nodes are available: 3 node(s) didn't match pod affinity rules."
    )
    # A pod matching its own affinity may start the group anywhere.
    self_spec = _affinity("podAffinity", _term({"app": "db"}, ZONE))
    outcome = await schedule(lonely, make_pod("db0", labels={"app": "db"}, spec=self_spec))
    assert isinstance(outcome, Scheduled)


async def test_namespaces_and_namespace_selector() -> None:
    other = make_pod("db", namespace="team-a", labels={"app": "db"}, node_name="b1")
    cluster = StaticCluster(
        namespace_list=[
            {"metadata": {"name": "team-a", "labels": {"team": "a"}}},
            {"metadata": {"name": "default", "labels": {}}},
        ]
    )
    core = make_core(_nodes(), [other], cluster=cluster)
    own_ns = _affinity("podAffinity", _term({"app": "db"}, ZONE))
    assert isinstance(await schedule(core, make_pod("x", spec=own_ns)), Failed)
    by_name = _affinity("podAffinity", _term({"app": "db"}, ZONE, namespaces=["team-a"]))
    outcome = await schedule(core, make_pod("y", spec=by_name))
    assert isinstance(outcome, Scheduled) and outcome.node_name == "b1"
    by_selector = _affinity(
        "podAffinity", _term({"app": "db"}, ZONE, namespaceSelector={"matchLabels": {"team": "a"}})
    )
    outcome = await schedule(core, make_pod("z", spec=by_selector))
    assert isinstance(outcome, Scheduled) and outcome.node_name == "b1"
    everywhere = _affinity("podAffinity", _term({"app": "db"}, ZONE, namespaceSelector={}))
    outcome = await schedule(core, make_pod("w", spec=everywhere))
    assert isinstance(outcome, Scheduled) and outcome.node_name == "b1"


async def test_preferred_affinity_and_anti_affinity_score() -> None:
    cache = make_pod("cache", labels={"app": "cache"}, node_name="a2")
    core = make_core(_nodes(), [cache])
    near = _affinity("podAffinity", _term({"app": "cache"}, ZONE), preferred=True)
    picks: Counter[str] = Counter()
    for i in range(4):
        outcome = await schedule(core, make_pod(f"near{i}", spec=near))
        assert isinstance(outcome, Scheduled)
        picks[outcome.node_name[0]] += 1
    assert picks == {"a": 4}
    far = _affinity("podAntiAffinity", _term({"app": "cache"}, ZONE), preferred=True)
    outcome = await schedule(core, make_pod("far", spec=far))
    assert isinstance(outcome, Scheduled) and outcome.node_name == "b1"


async def test_existing_pods_required_affinity_attracts_with_hard_weight() -> None:
    sticky = make_pod(
        "sticky", node_name="b1", spec=_affinity("podAffinity", _term({"app": "friend"}, ZONE))
    )
    core = make_core(_nodes(), [sticky])
    outcome = await schedule(core, make_pod("friend", labels={"app": "friend"}))
    assert isinstance(outcome, Scheduled) and outcome.node_name == "b1"


async def test_invalid_selector_is_reported() -> None:
    core = make_core(_nodes())
    bad_term = {
        "labelSelector": {
            "matchExpressions": [{"key": "app", "operator": "Sideways", "values": ["x"]}]
        },
        "topologyKey": ZONE,
    }
    outcome = await schedule(core, make_pod("bad", spec=_affinity("podAntiAffinity", bad_term)))
    assert isinstance(outcome, Failed) and not outcome.is_error
    assert outcome.message.startswith(
        "0/3 nodes are available: invalid pod affinity: spec.affinity.podAntiAffinity."
        "requiredDuringSchedulingIgnoredDuringExecution[0].labelSelector:"
    )
    assert "Sideways" in outcome.message


def test_batch_filter_agrees_with_per_node_filter() -> None:
    from kybernetes.scheduler import CycleState, PodInfo
    from kybernetes.scheduler.plugins import InterPodAffinity

    existing = [
        make_pod("w", labels={"app": "web"}, node_name="a1"),
        make_pod("g", node_name="b1", spec=_affinity("podAntiAffinity", _term({"app": "x"}, ZONE))),
    ]
    core = make_core(_nodes(), existing)
    plugin = InterPodAffinity({}, core.frameworks["default-scheduler"].handle)
    specs = [
        _affinity("podAntiAffinity", _term({"app": "web"}, HOST)),
        _affinity("podAffinity", _term({"app": "web"}, ZONE)),
        {},
    ]
    for spec in specs:
        for labels in ({"app": "x"}, {"app": "web"}):
            state, pod = CycleState(), PodInfo(make_pod("p", labels=labels, spec=spec))
            _, status = plugin.pre_filter(state, pod, core.cache.list())
            if status is not None:
                continue  # skipped: nothing to filter
            infos = core.cache.list()
            assert plugin.filter_nodes(state, pod, infos) == [
                plugin.filter(state, pod, n) for n in infos
            ]
