"""NodeName, NodeUnschedulable, TaintToleration, NodePorts, ImageLocality, SchedulingGates."""

from __future__ import annotations

from typing import Any

import pytest
from tests.support.scheduling import make_core, make_node, make_pod, node_info

from kybernetes.scheduler import SKIP, Code, CycleState, PodInfo
from kybernetes.scheduler.plugins import (
    ImageLocality,
    NodeName,
    NodePorts,
    NodeUnschedulable,
    SchedulingGates,
    TaintToleration,
)
from kybernetes.scheduler.plugins._imagelocality import calculate_priority

NO_SCHEDULE = {"key": "k", "value": "v", "effect": "NoSchedule"}
NO_EXECUTE = {"key": "down", "effect": "NoExecute"}
PREFER = {"key": "p", "value": "1", "effect": "PreferNoSchedule"}


def test_node_name() -> None:
    plugin, state = NodeName(), CycleState()
    assert plugin.pre_filter(state, PodInfo(make_pod("p")), [])[1] is SKIP
    pinned = PodInfo(make_pod("p", spec={"nodeName": "n2"}))
    assert plugin.filter(state, pinned, node_info(make_node("n2"))) is None
    status = plugin.filter(state, pinned, node_info(make_node("n1")))
    assert status is not None and status.code == Code.UNSCHEDULABLE_AND_UNRESOLVABLE
    assert status.reasons == ("node(s) didn't match the requested node name",)


@pytest.mark.parametrize(
    ("tolerations", "fits"),
    [
        ([], False),
        (
            [
                {
                    "key": "node.kubernetes.io/unschedulable",
                    "operator": "Exists",
                    "effect": "NoSchedule",
                }
            ],
            True,
        ),
        ([{"operator": "Exists"}], True),
        (
            [
                {
                    "key": "node.kubernetes.io/unschedulable",
                    "operator": "Exists",
                    "effect": "NoExecute",
                }
            ],
            False,
        ),
    ],
)
def test_node_unschedulable(tolerations: list[dict[str, Any]], fits: bool) -> None:
    plugin = NodeUnschedulable()
    pod = PodInfo(make_pod("p", spec={"tolerations": tolerations}))
    cordoned = node_info(make_node("n", unschedulable=True))
    status = plugin.filter(CycleState(), pod, cordoned)
    assert (status is None) is fits
    if status is not None:
        assert status.reasons == ("node(s) were unschedulable",)
    assert plugin.filter(CycleState(), pod, node_info(make_node("m"))) is None


@pytest.mark.parametrize(
    ("taints", "tolerations", "reason"),
    [
        ([], [], None),
        ([NO_SCHEDULE], [], "node(s) had untolerated taint {k: v}"),
        ([NO_SCHEDULE], [{"key": "k", "value": "v"}], None),
        (
            [NO_SCHEDULE],
            [{"key": "k", "operator": "Equal", "value": "w"}],
            "node(s) had untolerated taint {k: v}",
        ),
        ([NO_SCHEDULE], [{"key": "k", "operator": "Exists", "effect": "NoSchedule"}], None),
        ([NO_EXECUTE], [], "node(s) had untolerated taint {down: }"),
        (
            [NO_EXECUTE, NO_SCHEDULE],
            [{"key": "down", "operator": "Exists"}],
            "node(s) had untolerated taint {k: v}",
        ),
        ([PREFER], [], None),  # only scored
        (
            [{"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"}],
            [],
            "node(s) had untolerated taint {node.kubernetes.io/not-ready: }",
        ),
        ([NO_SCHEDULE], [{"operator": "Exists"}], None),
    ],
)
def test_taint_filter(taints: list[Any], tolerations: list[Any], reason: str | None) -> None:
    plugin = TaintToleration()
    pod = PodInfo(make_pod("p", spec={"tolerations": tolerations}))
    node = node_info(make_node("n", taints=taints))
    status = plugin.filter(CycleState(), pod, node)
    assert (status.reasons[0] if status else None) == reason
    assert plugin.filter_nodes(CycleState(), pod, [node, node_info(make_node("m"))]) == [
        status,
        None,
    ]


def test_taint_score_prefers_fewer_untolerated_prefer_no_schedule() -> None:
    plugin, state = TaintToleration(), CycleState()
    nodes = [
        node_info(make_node("clean")),
        node_info(make_node("one", taints=[PREFER])),
        node_info(make_node("two", taints=[PREFER, {"key": "q", "effect": "PreferNoSchedule"}])),
    ]
    pod = PodInfo(make_pod("p"))
    assert plugin.pre_score(state, pod, nodes) is None
    scores = [plugin.score(state, pod, n) for n in nodes]
    assert scores == [0, 1, 2]
    plugin.normalize_score(state, pod, nodes, scores)
    assert scores == [100, 50, 0]
    tolerant = PodInfo(make_pod("t", spec={"tolerations": [{"key": "p", "operator": "Exists"}]}))
    plugin.pre_score(state, tolerant, nodes)
    assert [plugin.score(state, tolerant, n) for n in nodes] == [0, 0, 1]
    assert plugin.pre_score(CycleState(), pod, nodes[:1]) is SKIP, "no PreferNoSchedule anywhere"


def test_node_ports_conflicts() -> None:
    def with_port(name: str, host_port: int, ip: str = "", proto: str = "TCP") -> dict[str, Any]:
        pod = make_pod(name)
        port: dict[str, Any] = {"containerPort": 80, "hostPort": host_port, "protocol": proto}
        if ip:
            port["hostIP"] = ip
        pod["spec"]["containers"][0]["ports"] = [port]
        return pod

    plugin = NodePorts()
    node = node_info(make_node("n"), with_port("a", 8080, ip="10.0.0.1"))
    assert plugin.pre_filter(CycleState(), PodInfo(make_pod("none")), [])[1] is SKIP
    cases = {
        ("b", 8080, "10.0.0.1", "TCP"): False,
        ("c", 8080, "", "TCP"): False,  # 0.0.0.0 clashes with any address
        ("d", 8080, "10.0.0.2", "TCP"): True,
        ("e", 8080, "10.0.0.1", "UDP"): True,
        ("f", 9090, "", "TCP"): True,
    }
    for (name, port, ip, proto), fits in cases.items():
        status = plugin.filter(CycleState(), PodInfo(with_port(name, port, ip, proto)), node)
        assert (status is None) is fits, name
    wildcard = node_info(make_node("w"), with_port("a", 8080))
    assert (
        plugin.filter(CycleState(), PodInfo(with_port("x", 8080, "10.9.9.9")), wildcard) is not None
    )


def test_image_locality() -> None:
    mb = 1024 * 1024
    assert calculate_priority(0, 1) == 0
    assert calculate_priority(1000 * mb, 1) == 100
    assert calculate_priority(23 * mb + (977 * mb) // 2, 1) == 50
    assert calculate_priority(23 * mb + (977 * mb) // 2 - 1, 1) == 49  # integer division
    core = make_core(
        [
            make_node("has", images=[(["nginx:1.25"], 500 * mb)]),
            make_node("also", images=[(["nginx:1.25", "docker.io/nginx:1.25"], 500 * mb)]),
            make_node("none"),
            make_node("none2"),
        ]
    )
    plugin = ImageLocality({}, core.frameworks["default-scheduler"].handle)
    pod = PodInfo(make_pod("p", image="nginx:1.25"))
    state = CycleState()
    nodes = core.cache.list()
    assert plugin.pre_score(state, pod, nodes) is None
    scores = {n.name: plugin.score(state, pod, n) for n in nodes}
    # 500 MiB spread over half of the nodes counts 250 MiB.
    assert scores == {
        "has": calculate_priority(250 * mb, 1),
        "also": calculate_priority(250 * mb, 1),
        "none": 0,
        "none2": 0,
    }
    untagged = PodInfo(make_pod("q", image="busybox"))
    assert untagged.images == ("busybox:latest",)
    assert plugin.pre_score(CycleState(), untagged, nodes) is SKIP


def test_scheduling_gates() -> None:
    plugin = SchedulingGates()
    assert plugin.pre_enqueue(PodInfo(make_pod("p"))) is None
    gated = PodInfo(make_pod("g", spec={"schedulingGates": [{"name": "a"}, {"name": "b"}]}))
    status = plugin.pre_enqueue(gated)
    assert status is not None and status.message == "waiting for scheduling gates: [a b]"
