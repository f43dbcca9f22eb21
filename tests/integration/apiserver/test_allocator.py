"""Service IP and node port allocation against a real SQLite store.

Several ServiceAllocator instances on one store stand for several API servers: the store's
create-if-absent must keep them from ever handing out one value twice.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from typing import Any

import pytest

from kybernetes.apiserver import _errors as errors
from kybernetes.apiserver._allocator import IPS_PREFIX, PORTS_PREFIX, ServiceAllocator
from kybernetes.store import Store
from kybernetes.store._sqlite import SqliteStore

Obj = dict[str, Any]


@pytest.fixture
async def store(tmp_path: Any) -> AsyncIterator[Store]:
    s = await SqliteStore.open(str(tmp_path / "store.db"))
    try:
        yield s
    finally:
        await s.close()


def allocator(store: Store, seed: int = 1, **kw: Any) -> ServiceAllocator:
    return ServiceAllocator(store, rng=random.Random(seed), **kw)


def svc(name: str, kind: str = "ClusterIP", ports: list[Obj] | None = None, **spec: Any) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": "ns", "uid": f"uid-{name}"},
        "spec": {"type": kind, "ports": ports or [{"port": 80, "protocol": "TCP"}], **spec},
    }


async def keys(store: Store, prefix: str) -> list[str]:
    return [kv.key[len(prefix) :] for kv in (await store.range(prefix)).kvs]


async def create(a: ServiceAllocator, service: Obj, **kw: Any) -> Obj:
    out, txn = await a.allocate_create(service, **kw)
    await txn.commit()
    return out


async def test_cluster_ip_is_drawn_from_the_range_and_recorded(store: Store) -> None:
    a = allocator(store)
    given = svc("web")
    out = await create(a, given)
    ip = out["spec"]["clusterIP"]
    assert out["spec"]["clusterIPs"] == [ip]
    assert "clusterIP" not in given["spec"]  # input untouched
    offset = a.ips.space.offset(ip)
    assert offset >= 256  # the upper band comes first; 10.96.0.1 is never drawn
    assert await keys(store, IPS_PREFIX) == [ip]
    assert await keys(store, PORTS_PREFIX) == []


async def test_requested_ip_taken_or_out_of_range_is_invalid(store: Store) -> None:
    a = allocator(store)
    out = await create(a, svc("kubernetes", clusterIP="10.96.0.1"))
    assert out["spec"]["clusterIPs"] == ["10.96.0.1"]
    await create(a, svc("dns", clusterIP="10.96.0.10", clusterIPs=["10.96.0.10"]))
    with pytest.raises(errors.APIError) as caught:
        await a.allocate_create(svc("other", clusterIP="10.96.0.10"))
    e = caught.value
    assert (e.code, e.reason) == (422, "Invalid")
    assert e.message == (
        'Service "other" is invalid: spec.clusterIPs: Invalid value: []string{"10.96.0.10"}: '
        "failed to allocate IP 10.96.0.10: provided IP is already allocated"
    )
    assert e.status()["details"]["causes"] == [
        {
            "reason": "FieldValueInvalid",
            "message": 'Invalid value: []string{"10.96.0.10"}: failed to allocate IP '
            "10.96.0.10: provided IP is already allocated",
            "field": "spec.clusterIPs",
        }
    ]
    with pytest.raises(errors.APIError) as caught:
        await a.allocate_create(svc("far", clusterIP="10.0.0.5"))
    assert caught.value.message.endswith(
        "failed to allocate IP 10.0.0.5: the provided IP (10.0.0.5) is not in the valid "
        "range. The range of valid IPs is 10.96.0.0/12"
    )


async def test_headless_and_external_name_services_get_no_ip(store: Store) -> None:
    a = allocator(store)
    headless = await create(a, svc("h", clusterIP="None", clusterIPs=["None"]))
    assert headless["spec"]["clusterIP"] == "None"
    external = await create(a, svc("e", "ExternalName", externalName="example.com", ports=[]))
    assert "clusterIP" not in external["spec"]
    assert await keys(store, IPS_PREFIX) == []


async def test_node_ports_for_each_port_and_requested_ones_honoured(store: Store) -> None:
    a = allocator(store)
    ports = [
        {"name": "dns-tcp", "port": 53, "protocol": "TCP"},
        {"name": "dns-udp", "port": 53, "protocol": "UDP"},
        {"name": "http", "port": 80, "protocol": "TCP", "nodePort": 30080},
    ]
    out = await create(a, svc("np", "NodePort", ports))
    tcp, udp, http = (p["nodePort"] for p in out["spec"]["ports"])
    assert tcp == udp != http and http == 30080  # one node port per port number
    assert 30000 <= tcp <= 32767
    assert sorted(await keys(store, PORTS_PREFIX)) == sorted([str(tcp), "30080"])
    with pytest.raises(errors.APIError) as caught:
        await a.allocate_create(svc("np2", "NodePort", [{"port": 81, "nodePort": 30080}]))
    assert caught.value.message == (
        'Service "np2" is invalid: spec.ports[0].nodePort: Invalid value: 30080: '
        "provided port is already allocated"
    )
    with pytest.raises(errors.APIError) as caught:
        await a.allocate_create(svc("np3", "NodePort", [{"port": 81, "nodePort": 8080}]))
    assert caught.value.message.endswith(
        "spec.ports[0].nodePort: Invalid value: 8080: provided port is not in the valid "
        "range. The range of valid ports is 30000-32767"
    )
    # The failed requests took nothing: their cluster IPs were given back.
    assert len(await keys(store, IPS_PREFIX)) == 1


async def test_load_balancers_and_health_check_ports(store: Store) -> None:
    a = allocator(store)
    lb = await create(a, svc("lb", "LoadBalancer", externalTrafficPolicy="Local"))
    assert lb["spec"]["ports"][0]["nodePort"] and lb["spec"]["healthCheckNodePort"]
    lean = await create(a, svc("lean", "LoadBalancer", allocateLoadBalancerNodePorts=False))
    assert "nodePort" not in lean["spec"]["ports"][0]
    assert len(await keys(store, PORTS_PREFIX)) == 2


async def test_release_on_delete_frees_everything(store: Store) -> None:
    a = allocator(store)
    out = await create(a, svc("np", "NodePort", clusterIP="10.96.0.50"))
    await a.release(out)
    assert await keys(store, IPS_PREFIX) == [] and await keys(store, PORTS_PREFIX) == []
    again = await create(a, svc("np", "NodePort", clusterIP="10.96.0.50"))
    assert again["spec"]["clusterIP"] == "10.96.0.50"
    # Only the owner frees a value.
    impostor = svc("other", clusterIP="10.96.0.50")
    await a.release(impostor)
    assert await keys(store, IPS_PREFIX) == ["10.96.0.50"]


async def test_revert_and_dry_run_leave_nothing_behind(store: Store) -> None:
    a = allocator(store)
    _, txn = await a.allocate_create(svc("np", "NodePort"))
    assert len(txn.taken) == 2
    await txn.revert()
    assert await keys(store, IPS_PREFIX) == [] and await keys(store, PORTS_PREFIX) == []
    dry, _ = await a.allocate_create(svc("np", "NodePort", clusterIP="10.96.0.9"), dry_run=True)
    assert dry["spec"]["clusterIP"] == "10.96.0.9" and dry["spec"]["ports"][0]["nodePort"]
    assert await keys(store, IPS_PREFIX) == [] and await keys(store, PORTS_PREFIX) == []
    await create(a, svc("taken", clusterIP="10.96.0.9"))
    with pytest.raises(errors.APIError, match="provided IP is already allocated"):
        await a.allocate_create(svc("np", clusterIP="10.96.0.9"), dry_run=True)


async def test_type_changes_release_on_commit_and_allocate(store: Store) -> None:
    a = allocator(store)
    node_port = await create(a, svc("s", "NodePort"))
    port = node_port["spec"]["ports"][0]["nodePort"]
    ip = node_port["spec"]["clusterIP"]
    # NodePort -> ClusterIP: the node port goes once the update is stored.
    to_cluster = {**node_port, "spec": {**node_port["spec"], "type": "ClusterIP"}}
    out, txn = await a.allocate_update(to_cluster, node_port)
    assert "nodePort" not in out["spec"]["ports"][0]
    assert txn.given_up == [PORTS_PREFIX + str(port)]
    assert await keys(store, PORTS_PREFIX) == [str(port)]
    await txn.commit()
    assert await keys(store, PORTS_PREFIX) == []
    # ClusterIP -> ExternalName gives up the IP; and back again takes a new one.
    external = {**out, "spec": {**out["spec"], "type": "ExternalName", "externalName": "x.io"}}
    out2, txn = await a.allocate_update(external, out)
    assert "clusterIP" not in out2["spec"]
    await txn.commit()
    assert await keys(store, IPS_PREFIX) == []
    back = {**out2, "spec": {**out2["spec"], "type": "ClusterIP"}}
    back["spec"].pop("externalName")
    out3, txn = await a.allocate_update(back, out2)
    await txn.commit()
    assert await keys(store, IPS_PREFIX) == [out3["spec"]["clusterIP"]]
    assert ip  # the first one was a real address


async def test_update_keeps_node_ports_and_swaps_changed_ones(store: Store) -> None:
    a = allocator(store)
    ports = [{"name": "a", "port": 80}, {"name": "b", "port": 81}]
    old = await create(a, svc("s", "NodePort", ports))
    first, second = (p["nodePort"] for p in old["spec"]["ports"])
    # A PUT of the original manifest (no node ports) keeps both, and writes nothing.
    same, txn = await a.allocate_update(svc("s", "NodePort", ports), old)
    assert [p["nodePort"] for p in same["spec"]["ports"]] == [first, second]
    assert txn.taken == [] and txn.given_up == []
    wanted = 30999 if 30999 not in (first, second) else 30998
    changed = svc(
        "s", "NodePort", [{"name": "a", "port": 80}, {"name": "b", "port": 81, "nodePort": wanted}]
    )
    out, txn = await a.allocate_update(changed, old)
    assert [p["nodePort"] for p in out["spec"]["ports"]] == [first, wanted]
    await txn.commit()
    assert sorted(await keys(store, PORTS_PREFIX)) == sorted([str(first), str(wanted)])


async def test_fifty_concurrent_services_get_distinct_values(store: Store) -> None:
    a = allocator(store)
    outs = await asyncio.gather(*(create(a, svc(f"s{i}", "NodePort")) for i in range(50)))
    ips = {o["spec"]["clusterIP"] for o in outs}
    ports = {o["spec"]["ports"][0]["nodePort"] for o in outs}
    assert len(ips) == 50 and len(ports) == 50
    assert set(await keys(store, IPS_PREFIX)) == ips
    assert {int(k) for k in await keys(store, PORTS_PREFIX)} == ports


async def test_two_servers_on_one_store_never_collide_even_when_full(store: Store) -> None:
    # Tiny ranges (29 drawable IPs, 40 ports) and the same random sequence on both servers,
    # so they chase the same values and the store alone must keep them apart.
    kw: dict[str, Any] = {"service_cidr": "10.10.0.0/27", "node_port_range": "30000-30039"}
    servers = [allocator(store, seed=7, **kw), allocator(store, seed=7, **kw)]

    async def attempt(i: int) -> Obj | None:
        try:
            return await create(servers[i % 2], svc(f"s{i}", "NodePort"))
        except errors.APIError as e:
            assert e.code == 500
            assert (
                e.message
                == "Internal error occurred: failed to allocate a serviceIP: range is full"
            )
            return None

    outs = [o for o in await asyncio.gather(*(attempt(i) for i in range(40))) if o]
    ips = [o["spec"]["clusterIP"] for o in outs]
    ports = [o["spec"]["ports"][0]["nodePort"] for o in outs]
    assert len(outs) == 29  # every drawable address handed out once, then "range is full"
    assert len(set(ips)) == len(ips) and "10.10.0.1" not in ips
    assert len(set(ports)) == len(ports)
    assert sorted(await keys(store, IPS_PREFIX)) == sorted(ips)


async def test_full_node_port_range(store: Store) -> None:
    a = allocator(store, node_port_range="30000-30002")
    for i in range(3):
        await create(a, svc(f"s{i}", "NodePort"))
    with pytest.raises(errors.APIError) as caught:
        await a.allocate_create(svc("s3", "NodePort"))
    assert caught.value.message == (
        "Internal error occurred: failed to allocate a nodePort: range is full"
    )
    assert len(await keys(store, IPS_PREFIX)) == 3  # the IP drawn for s3 was given back


async def test_repair_frees_leaks_and_registers_holes(store: Store) -> None:
    clock = [1000.0]
    a = ServiceAllocator(store, rng=random.Random(3), clock=lambda: clock[0])
    from kybernetes.apiserver._codec import to_store

    kept = await create(a, svc("kept", "NodePort"))
    await store.create("/registry/services/ns/kept", to_store(kept))
    leaked = await create(a, svc("gone"))  # allocated, but the service was never stored
    # A service stored with values whose keys were lost.
    restored = svc("restored", "NodePort", [{"port": 80, "nodePort": 31111}], clusterIP="10.96.5.5")
    await store.create("/registry/services/ns/restored", to_store(restored))

    young = await a.repair(leak_grace=60)
    assert young.released == []  # the leak may be a create still in flight
    assert sorted(young.registered) == [IPS_PREFIX + "10.96.5.5", PORTS_PREFIX + "31111"]
    clock[0] += 61
    report = await a.repair(leak_grace=60)
    assert report.released == [IPS_PREFIX + leaked["spec"]["clusterIP"]]
    assert report.registered == [] and report.duplicates == []
    held = {kept["spec"]["clusterIP"], "10.96.5.5"}
    assert set(await keys(store, IPS_PREFIX)) == held
    assert set(await keys(store, PORTS_PREFIX)) == {
        str(kept["spec"]["ports"][0]["nodePort"]),
        "31111",
    }
    with pytest.raises(errors.APIError, match="already allocated"):
        await a.allocate_create(svc("new", clusterIP="10.96.5.5"))
