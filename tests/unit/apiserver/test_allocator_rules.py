"""Allocation ranges and the service update rules the allocator applies (pure parts)."""

from __future__ import annotations

from typing import Any

import pytest

from kybernetes.apiserver._allocator_ranges import NotInRange, ip_space, port_space
from kybernetes.apiserver._allocator_service import held_values, prepare_update

Obj = dict[str, Any]


def test_default_ip_range() -> None:
    space = ip_space()
    assert space.size == 2**20 - 2
    assert space.name(0) == "10.96.0.1" and space.name(space.size - 1) == "10.111.255.254"
    assert space.offset("10.96.0.10") == 9
    assert space.bands() == [(256, space.size), (0, 256)]
    assert space.reserved == frozenset({0})
    for outside in ("10.96.0.0", "10.111.255.255", "10.0.0.1", "fd00::1"):
        with pytest.raises(NotInRange) as caught:
            space.offset(outside)
        assert str(caught.value) == (
            f"the provided IP ({outside}) is not in the valid range. "
            "The range of valid IPs is 10.96.0.0/12"
        )
    with pytest.raises(ValueError):
        space.offset("not-an-ip")


def test_small_and_ipv6_ranges() -> None:
    tiny = ip_space("10.0.0.0/28")
    assert (tiny.size, tiny.bands()) == (14, [(0, 14)])
    v6 = ip_space("fd00::/120")
    assert (v6.size, v6.name(0), v6.offset("fd00::ff")) == (255, "fd00::1", 254)
    assert v6.bands() == [(16, 255), (0, 16)]
    with pytest.raises(ValueError):
        ip_space("10.0.0.1/24")  # host bits set


def test_node_port_range() -> None:
    space = port_space()
    assert (space.size, space.name(0), space.offset(32767)) == (2768, "30000", 2767)
    assert space.bands() == [(86, 2768), (0, 86)]
    with pytest.raises(NotInRange) as caught:
        space.offset(80)
    assert str(caught.value) == (
        "provided port is not in the valid range. The range of valid ports is 30000-32767"
    )
    assert port_space("30000-30009").bands() == [(0, 10)]
    with pytest.raises(ValueError):
        port_space("9-1")


def spec(kind: str = "ClusterIP", **fields: Any) -> Obj:
    return {"type": kind, **fields}


def test_update_keeps_allocated_values_left_out() -> None:
    old = spec(
        "LoadBalancer",
        clusterIP="10.96.0.5",
        clusterIPs=["10.96.0.5"],
        externalTrafficPolicy="Local",
        healthCheckNodePort=31000,
        ports=[{"name": "http", "port": 80, "nodePort": 30080}, {"name": "dns", "port": 53}],
    )
    new = spec(
        "LoadBalancer",
        externalTrafficPolicy="Local",
        ports=[{"name": "http", "port": 80}, {"name": "dns", "port": 53, "nodePort": 30053}],
    )
    prepare_update(new, old)
    assert new["clusterIP"] == "10.96.0.5" and new["clusterIPs"] == ["10.96.0.5"]
    assert [p.get("nodePort") for p in new["ports"]] == [30080, 30053]
    assert new["healthCheckNodePort"] == 31000


def test_type_change_drops_what_the_new_type_does_not_use() -> None:
    old = spec(
        "NodePort",
        clusterIP="10.96.0.5",
        clusterIPs=["10.96.0.5"],
        ipFamilies=["IPv4"],
        ipFamilyPolicy="SingleStack",
        externalTrafficPolicy="Cluster",
        ports=[{"port": 80, "nodePort": 30080}],
    )
    to_cluster_ip = {**old, "type": "ClusterIP", "ports": [{"port": 80, "nodePort": 30080}]}
    prepare_update(to_cluster_ip, old)
    assert to_cluster_ip["ports"] == [{"port": 80}]
    assert "externalTrafficPolicy" not in to_cluster_ip
    assert to_cluster_ip["clusterIP"] == "10.96.0.5"
    to_external = {**old, "type": "ExternalName", "externalName": "example.com"}
    prepare_update(to_external, old)
    for gone in ("clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"):
        assert gone not in to_external
    # A value the user changed is theirs to keep (validation judges it).
    changed = {**old, "type": "ClusterIP", "ports": [{"port": 80, "nodePort": 30099}]}
    prepare_update(changed, old)
    assert changed["ports"] == [{"port": 80, "nodePort": 30099}]


def test_held_values() -> None:
    lb = spec(
        "LoadBalancer",
        clusterIPs=["10.96.0.7"],
        externalTrafficPolicy="Local",
        healthCheckNodePort=31000,
        ports=[{"port": 53, "nodePort": 30053}, {"port": 53, "nodePort": 30053}],
    )
    assert held_values(lb) == (["10.96.0.7"], [30053, 31000])
    assert held_values(spec(clusterIP="None", clusterIPs=["None"])) == ([], [])
    assert held_values(spec("ExternalName", clusterIP="10.96.0.7")) == ([], [])
