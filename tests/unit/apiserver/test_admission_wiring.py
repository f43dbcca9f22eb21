"""Built-in admission as wired into the API server (watch caches running on an in-memory
store, no HTTP): default service accounts, quota bookkeeping, limit ranges read from the
cache, the kubernetes service, the allocation repair at start."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest
from tests.support.admission import attrs
from tests.support.memstore import MemoryStore

from kybernetes.apiserver import APIServer
from kybernetes.apiserver import _errors as errors
from kybernetes.apiserver._admission import CREATE, Attributes
from kybernetes.apiserver._admission_startup import advertised_address, start_admission
from kybernetes.apiserver._admission_wiring import QuotaGate
from kybernetes.apiserver._allocator import IPS_PREFIX
from kybernetes.apiserver._options import DeleteOptions
from kybernetes.apiserver._storage import ResourceStorage

Obj = dict[str, Any]


async def start(server: APIServer, port: int = 6443) -> list[asyncio.Task[None]]:
    tasks = [asyncio.create_task(r.cache.run()) for r in server.resources.values()]
    await asyncio.gather(*(r.cache.ready.wait() for r in server.resources.values()))
    await server._ensure_system_namespaces()
    await start_admission(server.admission, address="127.0.0.1", port=port)
    return tasks


async def stop(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


@pytest.fixture
async def server() -> AsyncIterator[APIServer]:
    server = APIServer(MemoryStore())
    tasks = await start(server)
    try:
        yield server
    finally:
        await stop(tasks)


def storage(server: APIServer, plural: str) -> ResourceStorage:
    return server.resources[("", "v1", plural)].storage


def pod(name: str, **spec: Any) -> Obj:
    containers = [{"name": "c", "image": "busybox"}]
    return {"metadata": {"name": name}, "spec": {"containers": containers, **spec}}


async def namespace(server: APIServer, name: str) -> None:
    await storage(server, "namespaces").create("", {"metadata": {"name": name}})


async def test_namespaces_get_a_default_service_account(server: APIServer) -> None:
    accounts = storage(server, "serviceaccounts")
    for system in ("default", "kube-system", "kube-public", "kube-node-lease"):
        assert (await accounts.get(system, "default"))["metadata"]["name"] == "default"
    await namespace(server, "team")
    assert (await accounts.get("team", "default"))["metadata"]["namespace"] == "team"
    # A dry run creates nothing.
    await storage(server, "namespaces").create("", {"metadata": {"name": "dry"}}, dry_run=True)
    with pytest.raises(errors.APIError):
        await accounts.get("dry", "default")


async def test_pods_are_mutated_before_validation(server: APIServer) -> None:
    created = await storage(server, "pods").create("default", pod("p"))
    spec = created["spec"]
    assert spec["serviceAccountName"] == "default"
    assert any(v["name"].startswith("kube-api-access-") for v in spec["volumes"])
    keys = {t["key"] for t in spec["tolerations"]}
    assert keys == {"node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"}


async def test_limit_ranges_apply_as_soon_as_they_are_written(server: APIServer) -> None:
    limits = {
        "metadata": {"name": "l"},
        "spec": {"limits": [{"type": "Container", "default": {"cpu": "300m"}}]},
    }
    await storage(server, "limitranges").create("default", limits)
    created = await storage(server, "pods").create("default", pod("p"))
    assert created["spec"]["containers"][0]["resources"]["limits"] == {"cpu": "300m"}
    await storage(server, "limitranges").delete("default", "l", DeleteOptions())
    created = await storage(server, "pods").create("default", pod("q"))
    assert (
        "resources" not in created["spec"]["containers"][0]
        or not (created["spec"]["containers"][0]["resources"])
    )


async def used(server: APIServer, ns: str = "default") -> Any:
    return (await storage(server, "resourcequotas").get(ns, "q"))["status"]["used"]


async def test_quota_usage_is_charged_and_recounted(server: APIServer) -> None:
    pods = storage(server, "pods")
    await pods.create("default", pod("before"))
    quota = {"metadata": {"name": "q"}, "spec": {"hard": {"pods": "2"}}}
    await storage(server, "resourcequotas").create("default", quota)
    assert await used(server) == {"pods": "1"}  # counted when the quota was created
    assert server.admission.may_have_quotas("default")
    assert not server.admission.may_have_quotas("kube-system")
    await pods.create("default", pod("second"))
    with pytest.raises(errors.APIError) as e:
        await pods.create("default", pod("third"))
    assert e.value.code == 403
    assert "exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2" in e.value.message
    # A finished pod no longer counts.
    done = {**(await pods.get("default", "before")), "status": {"phase": "Succeeded"}}
    await pods.update("default", "before", done, subresource="status")
    assert await used(server) == {"pods": "1"}
    await pods.create("default", pod("third"))
    # A removed pod no longer counts either.
    await pods.delete("default", "second", DeleteOptions())
    assert await used(server) == {"pods": "1"}

    # Raising the limit recounts too.
    def raise_limit(q: Obj) -> Obj:
        return {**q, "metadata": {"name": "q"}, "spec": {"hard": {"pods": "5", "services": "1"}}}

    await storage(server, "resourcequotas").guaranteed_update("default", "q", raise_limit)
    assert (await used(server))["services"] == "1"  # the kubernetes service


async def test_quota_gate_skips_namespaces_without_quotas() -> None:
    calls: list[str] = []

    class Quota:
        async def admit(self, attrs: Attributes) -> None:
            calls.append(attrs.namespace)

    gate = QuotaGate(Quota(), lambda ns: ns == "limited")  # type: ignore[arg-type]
    for ns in ("free", "limited"):
        await gate.admit(attrs({"metadata": {"name": "p"}}, namespace=ns, operation=CREATE))
    assert calls == ["limited"]


async def test_kubernetes_service_is_created_and_kept_current() -> None:
    store = MemoryStore()
    # A leaked allocation (its service was never stored) from long ago.
    await store.create(IPS_PREFIX + "10.96.0.99", orjson.dumps({"service": "x/y", "uid": "u"}))
    server = APIServer(store)
    tasks = await start(server, port=6443)
    try:
        svc = await storage(server, "services").get("default", "kubernetes")
        assert svc["spec"]["clusterIP"] == "10.96.0.1"
        assert svc["spec"]["ports"][0]["targetPort"] == 6443
        endpoints = await storage(server, "endpoints").get("default", "kubernetes")
        assert endpoints["subsets"][0]["ports"][0]["port"] == 6443
        keys = [kv.key for kv in (await store.range(IPS_PREFIX)).kvs]
        assert keys == [IPS_PREFIX + "10.96.0.1"]  # the leak was repaired away
    finally:
        await stop(tasks)
    # The next server listens elsewhere: the service and its endpoints follow.
    server = APIServer(store)
    tasks = await start(server, port=7443)
    try:
        svc = await storage(server, "services").get("default", "kubernetes")
        assert svc["spec"]["ports"][0]["targetPort"] == 7443
        endpoints = await storage(server, "endpoints").get("default", "kubernetes")
        assert endpoints["subsets"][0]["ports"][0]["port"] == 7443
    finally:
        await stop(tasks)


def test_advertised_address() -> None:
    assert advertised_address("0.0.0.0") == "127.0.0.1"
    assert advertised_address("::") == "127.0.0.1"
    assert advertised_address("127.0.0.2") == "127.0.0.2"
