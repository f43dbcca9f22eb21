"""Pod request arithmetic (upstream's PodRequests) and node accounting."""

from __future__ import annotations

from typing import Any

import pytest
from tests.support.scheduling import make_node, make_pod, node_info

from kybernetes.scheduler import PodInfo
from kybernetes.scheduler._resource import pod_non_zero_requests, pod_requests, to_units


def _c(name: str, restart: str | None = None, **requests: str) -> dict[str, Any]:
    c: dict[str, Any] = {"name": name, "image": "x", "resources": {"requests": requests}}
    if restart:
        c["restartPolicy"] = restart
    return c


@pytest.mark.parametrize(
    ("spec", "want"),
    [
        (
            {"containers": [_c("a", cpu="100m"), _c("b", cpu="200m", memory="1Gi")]},
            {"cpu": 300, "memory": 2**30},
        ),
        # The largest init container wins over the sum of the app containers...
        (
            {"containers": [_c("a", cpu="100m")], "initContainers": [_c("i", cpu="1")]},
            {"cpu": 1000},
        ),
        # ...and loses when the app containers need more.
        ({"containers": [_c("a", cpu="2")], "initContainers": [_c("i", cpu="1")]}, {"cpu": 2000}),
        # A sidecar runs beside the app containers and beside later init containers.
        (
            {
                "containers": [_c("a", cpu="1")],
                "initContainers": [_c("s", "Always", cpu="500m"), _c("i", cpu="2")],
            },
            {"cpu": 2500},
        ),
        # Overhead is added on top.
        ({"containers": [_c("a", cpu="1")], "overhead": {"cpu": "250m"}}, {"cpu": 1250}),
        # Extended resources are summed like the rest.
        (
            {
                "containers": [
                    _c("a", **{"example.com/gpu": "1"}),
                    _c("b", **{"example.com/gpu": "2"}),
                ]
            },
            {"example.com/gpu": 3},
        ),
    ],
)
def test_pod_requests(spec: dict[str, Any], want: dict[str, int]) -> None:
    assert pod_requests({"spec": spec}) == want


def test_sub_milli_values_are_summed_before_rounding_up() -> None:
    spec = {"containers": [_c("a", cpu="0.0004"), _c("b", cpu="0.0004")]}
    assert pod_requests({"spec": spec}) == {"cpu": 1}
    assert to_units("cpu", 1) == 1 and to_units("memory", 1) == 1 and to_units("memory", 0) == 0


def test_non_zero_requests_use_defaults_per_container() -> None:
    spec = {"containers": [_c("a"), _c("b", cpu="1")]}
    assert pod_non_zero_requests({"spec": spec}) == (1100, 200 * 1024 * 1024 * 2)
    # An explicit zero is a request, not a missing one.
    assert pod_non_zero_requests({"spec": {"containers": [_c("a", cpu="0")]}})[0] == 0


def test_node_info_accounts_pods_and_ports() -> None:
    web = make_pod("web", cpu="500m", memory="1Gi")
    web["spec"]["containers"][0]["ports"] = [{"containerPort": 80, "hostPort": 8080}]
    info = node_info(make_node("n1"), web, make_pod("idle"))
    assert (info.req_cpu, info.req_mem) == (500, 2**30)
    assert info.non_zero_cpu == 600  # the idle pod counts 100m for scoring
    assert info.used_ports == {("0.0.0.0", "TCP", 8080): 1}
    copy = info.clone()
    assert copy.remove_pod(PodInfo(web).uid) is not None
    assert (copy.req_cpu, copy.used_ports) == (0, {})
    assert (info.req_cpu, len(info.pods)) == (500, 2), "the clone must not share state"
