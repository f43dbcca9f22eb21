"""ResourceQuota admission: usage, scopes, messages, and charging through a CAS ledger."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest
from tests.support.admission import attrs, container, info, pod
from tests.support.memstore import MemoryStore

from kybernetes.api import parse_quantity
from kybernetes.apiserver import _errors as errors
from kybernetes.apiserver._admission import UPDATE
from kybernetes.apiserver._admission_quota import ResourceQuotaAdmission
from kybernetes.apiserver._admission_quota_evaluators import (
    ClaimEvaluator,
    ObjectCountEvaluator,
    PodEvaluator,
    ServiceEvaluator,
    evaluator_for,
)
from kybernetes.apiserver._admission_quota_store import QuotaConflict, StoreQuotaAccess
from kybernetes.apiserver._admission_quota_usage import (
    QuotaRejected,
    check_quotas,
    matching_resources_of,
    usage_of,
)
from kybernetes.apiserver._codec import from_kv, to_store
from kybernetes.apiserver._keys import object_key
from kybernetes.store import KeyValue

Obj = dict[str, Any]
NOW = 1_700_000_000.0


def q(text: str) -> Any:
    return parse_quantity(text)


def quota(name: str = "q", hard: Obj | None = None, **spec: Any) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": {"name": name, "namespace": "ns"},
        "spec": {"hard": hard or {}, **spec},
    }


def service(name: str = "s", kind: str = "ClusterIP", ports: int = 1, **spec: Any) -> Obj:
    return {
        "metadata": {"name": name, "namespace": "ns"},
        "spec": {"type": kind, "ports": [{"port": 80 + i} for i in range(ports)], **spec},
    }


# -- usage -----------------------------------------------------------------------------------


def test_pod_usage_counts_requests_limits_and_the_pod() -> None:
    p = pod(
        container("a", requests={"cpu": "250m", "memory": "64Mi"}, limits={"cpu": "500m"}),
        container("b", requests={"cpu": "250m", "nvidia.com/gpu": "1", "hugepages-2Mi": "4Mi"}),
    )
    assert PodEvaluator().usage(p, NOW) == {
        "count/pods": q("1"),
        "pods": q("1"),
        "cpu": q("500m"),
        "requests.cpu": q("500m"),
        "limits.cpu": q("500m"),
        "memory": q("64Mi"),
        "requests.memory": q("64Mi"),
        "requests.nvidia.com/gpu": q("1"),
        "hugepages-2Mi": q("4Mi"),
        "requests.hugepages-2Mi": q("4Mi"),
    }


def test_finished_or_long_deleted_pods_only_count_as_objects() -> None:
    done = pod(container(requests={"cpu": "1"}))
    done["status"] = {"phase": "Succeeded"}
    assert PodEvaluator().usage(done, NOW) == {"count/pods": q("1")}
    stuck = pod(container(requests={"cpu": "1"}))
    stuck["metadata"] |= {
        "deletionTimestamp": "2023-11-14T22:00:00Z",
        "deletionGracePeriodSeconds": 30,
    }
    assert PodEvaluator().usage(stuck, NOW) == {"count/pods": q("1")}
    stuck["metadata"]["deletionGracePeriodSeconds"] = 10**9
    assert "pods" in PodEvaluator().usage(stuck, NOW)


def test_service_usage_by_type() -> None:
    usage = ServiceEvaluator().usage
    assert usage(service(ports=2), NOW)["services.nodeports"] == q("0")
    assert usage(service(kind="NodePort", ports=2), NOW)["services.nodeports"] == q("2")
    lb = usage(service(kind="LoadBalancer", ports=3), NOW)
    assert (lb["services.nodeports"], lb["services.loadbalancers"]) == (q("3"), q("1"))
    lean = service(kind="LoadBalancer", ports=2, allocateLoadBalancerNodePorts=False)
    lean["spec"]["ports"][0]["nodePort"] = 30001
    assert usage(lean, NOW)["services.nodeports"] == q("1")
    assert usage(service(), NOW)["services"] == q("1")


def test_claim_usage_charges_storage_and_its_class() -> None:
    claim = {
        "metadata": {"name": "d"},
        "spec": {"storageClassName": "fast", "resources": {"requests": {"storage": "5Gi"}}},
        "status": {"allocatedResources": {"storage": "8Gi"}},
    }
    assert ClaimEvaluator().usage(claim, NOW) == {
        "persistentvolumeclaims": q("1"),
        "count/persistentvolumeclaims": q("1"),
        "fast.storageclass.storage.k8s.io/persistentvolumeclaims": q("1"),
        "requests.storage": q("8Gi"),
        "fast.storageclass.storage.k8s.io/requests.storage": q("8Gi"),
    }


def test_object_counts_and_what_is_never_charged() -> None:
    assert ObjectCountEvaluator(info("configmaps")).usage({}, NOW) == {
        "count/configmaps": q("1"),
        "configmaps": q("1"),
    }
    deployments = evaluator_for(info("deployments", "apps"))
    assert deployments is not None
    assert deployments.usage({}, NOW) == {"count/deployments.apps": q("1")}
    assert not deployments.handles(UPDATE)
    assert evaluator_for(info("events")) is None
    assert evaluator_for(info("namespaces")) is None


# -- matching and messages -------------------------------------------------------------------


def test_pods_must_state_constrained_resources() -> None:
    limited = quota(hard={"limits.cpu": "4", "requests.memory": "1Gi", "pods": "10"})
    p = pod(container("a", requests={"memory": "1Mi"}), container("b", limits={"memory": "1Mi"}))
    restricted = matching_resources_of(limited, PodEvaluator(), p)
    assert restricted is not None
    assert PodEvaluator().constraints(restricted, p) == (
        "must specify limits.cpu for: a,b; requests.memory for: b"
    )


def test_scopes_select_pods() -> None:
    evaluator = PodEvaluator()
    best_effort = quota(hard={"pods": "1"}, scopes=["BestEffort"])
    burstable = pod(container(requests={"cpu": "1"}))
    assert matching_resources_of(best_effort, evaluator, pod()) == ["pods"]
    assert matching_resources_of(best_effort, evaluator, burstable) is None
    terminating = quota(hard={"pods": "1"}, scopes=["Terminating"])
    assert matching_resources_of(terminating, evaluator, pod(activeDeadlineSeconds=5))
    assert matching_resources_of(terminating, evaluator, pod()) is None
    by_class = quota(
        hard={"pods": "1"},
        scopeSelector={
            "matchExpressions": [
                {"scopeName": "PriorityClass", "operator": "In", "values": ["high"]}
            ]
        },
    )
    assert matching_resources_of(by_class, evaluator, pod(priorityClassName="high"))
    assert matching_resources_of(by_class, evaluator, pod(priorityClassName="low")) is None
    assert matching_resources_of(by_class, evaluator, pod()) is None
    # Scoped quotas never apply to other resources; unrelated hard limits do not match.
    assert matching_resources_of(best_effort, ServiceEvaluator(), service()) is None
    assert matching_resources_of(quota(hard={"services": "1"}), evaluator, pod()) is None


def test_exceeded_message_is_upstreams() -> None:
    full = quota(hard={"pods": "2", "requests.cpu": "10"})
    full["status"] = {"hard": full["spec"]["hard"], "used": {"pods": "2", "requests.cpu": "1"}}
    delta = {"pods": q("1"), "requests.cpu": q("1"), "count/pods": q("1")}
    with pytest.raises(QuotaRejected) as caught:
        check_quotas([full], delta)
    assert (
        str(caught.value) == "exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2"
    )
    roomy = quota(hard={"pods": "3"})
    roomy["status"] = {"hard": roomy["spec"]["hard"], "used": {"pods": "2"}}
    [charge] = check_quotas([roomy], delta)
    assert (charge.used, charge.requested) == ({"pods": q("3")}, {"pods": q("1")})


def test_usage_of_honours_scopes() -> None:
    best_effort = quota(hard={"pods": "5", "count/pods": "5"}, scopes=["BestEffort"])
    pods = [pod(name="a"), pod(container(requests={"cpu": "1"}), name="b"), pod(name="c")]
    assert usage_of(best_effort, PodEvaluator(), pods, NOW) == {
        "pods": q("2"),
        "count/pods": q("2"),
    }


# -- the plugin, on a store ------------------------------------------------------------------


class YieldingStore(MemoryStore):
    """Suspends around every operation, so concurrent requests really interleave."""

    async def get(self, key: str, *, revision: int = 0) -> KeyValue:
        await asyncio.sleep(0)
        return await super().get(key, revision=revision)

    async def range(self, prefix: str, **kw: Any) -> Any:
        await asyncio.sleep(0)
        result = await super().range(prefix, **kw)
        await asyncio.sleep(0)
        return result

    async def update(self, key: str, value: bytes, *, expected_revision: int) -> KeyValue:
        await asyncio.sleep(0)
        return await super().update(key, value, expected_revision=expected_revision)


class Cluster:
    def __init__(self) -> None:
        self.store = YieldingStore()

    async def put(self, plural: str, obj: Obj) -> None:
        meta = obj["metadata"]
        await self.store.create(object_key(info(plural), "ns", meta["name"]), to_store(obj))

    async def drop(self, plural: str, name: str) -> None:
        await self.store.delete(object_key(info(plural), "ns", name))

    async def quota(self, name: str = "q") -> Obj:
        return from_kv(await self.store.get(object_key(info("resourcequotas"), "ns", name)))

    def plugin(self) -> ResourceQuotaAdmission:
        return ResourceQuotaAdmission(StoreQuotaAccess(self.store), clock=lambda: NOW)


async def test_fresh_quota_is_counted_then_charged_then_enforced() -> None:
    c = Cluster()
    await c.put("resourcequotas", quota(hard={"pods": "3", "requests.cpu": "2"}))
    await c.put("pods", pod(container(requests={"cpu": "500m"}), name="old"))
    plugin = c.plugin()
    await plugin.admit(attrs(pod(container(requests={"cpu": "1"}), name="new")))
    status = (await c.quota())["status"]
    assert status == {
        "hard": {"pods": "3", "requests.cpu": "2"},
        "used": {"pods": "2", "requests.cpu": "1500m"},
    }
    with pytest.raises(errors.APIError) as caught:
        await plugin.admit(attrs(pod(container(requests={"cpu": "1"}), name="big")))
    assert (caught.value.code, caught.value.message) == (
        403,
        'pods "big" is forbidden: exceeded quota: q, requested: requests.cpu=1, '
        "used: requests.cpu=1500m, limited: requests.cpu=2",
    )
    with pytest.raises(
        errors.APIError, match=r"failed quota: q: must specify requests\.cpu for: c"
    ):
        await plugin.admit(attrs(pod(name="bare")))
    assert (await c.quota())["status"]["used"] == {"pods": "2", "requests.cpu": "1500m"}


async def test_dry_run_and_unrelated_requests_write_nothing() -> None:
    c = Cluster()
    await c.put("resourcequotas", quota(hard={"pods": "1"}))
    before = c.store.revision
    plugin = c.plugin()
    await plugin.admit(attrs(pod(), dry_run=True))
    await plugin.admit(attrs({"metadata": {"name": "x"}}, plural="configmaps"))
    await plugin.admit(attrs(pod(), subresource="status"))
    await plugin.admit(attrs({"metadata": {"name": "e"}}, plural="events"))
    assert c.store.revision == before


async def test_a_refusal_by_any_quota_writes_nothing() -> None:
    c = Cluster()
    await c.put("resourcequotas", quota("a-roomy", hard={"pods": "10"}))
    await c.put("resourcequotas", quota("b-tight", hard={"count/pods": "1"}))
    await c.put("pods", pod(name="existing"))
    before = c.store.revision
    with pytest.raises(errors.APIError, match="exceeded quota: b-tight"):
        await c.plugin().admit(attrs(pod(name="new")))
    assert c.store.revision == before


class RacingAccess(StoreQuotaAccess):
    """Another server spends quota ``b`` just before this one's first write to it."""

    raced = False

    async def update_quota_status(self, quota: Obj) -> Obj:
        if quota["metadata"]["name"] == "b" and not self.raced:
            self.raced = True
            spent = {**quota, "status": {**quota["status"], "used": {"pods": "1"}}}
            await super().update_quota_status(spent)
        return await super().update_quota_status(quota)


async def test_charges_made_before_a_lost_race_are_refunded() -> None:
    c = Cluster()
    for name, hard in (("a", "10"), ("b", "1")):
        current = quota(name, hard={"pods": hard})
        current["status"] = {"hard": {"pods": hard}, "used": {"pods": "0"}}
        await c.put("resourcequotas", current)
    access = RacingAccess(c.store)
    plugin = ResourceQuotaAdmission(access, clock=lambda: NOW)
    with pytest.raises(errors.APIError, match="exceeded quota: b, requested: pods=1, used: pods=1"):
        await plugin.admit(attrs(pod(name="new")))
    assert access.raced
    assert (await c.quota("a"))["status"]["used"] == {"pods": "0"}
    assert (await c.quota("b"))["status"]["used"] == {"pods": "1"}


async def test_uncharge_and_recalculate_give_usage_back() -> None:
    c = Cluster()
    await c.put("resourcequotas", quota(hard={"pods": "5", "services.nodeports": "4"}))
    plugin = c.plugin()
    new = attrs(pod(name="a"))
    await plugin.admit(new)
    assert (await c.quota())["status"]["used"]["pods"] == "1"
    await plugin.uncharge(new)  # the store write did not happen
    assert (await c.quota())["status"]["used"]["pods"] == "0"
    await plugin.admit(new)
    await c.put("pods", pod(name="a"))
    await plugin.admit(attrs(pod(name="b")))
    await c.put("pods", pod(name="b"))
    svc = service(kind="NodePort", ports=2)
    await plugin.admit(attrs(svc, plural="services"))
    await c.put("services", svc)
    assert (await c.quota())["status"]["used"] == {"pods": "2", "services.nodeports": "2"}
    await c.drop("pods", "a")
    await plugin.recalculate("ns")
    assert (await c.quota())["status"]["used"] == {"pods": "1", "services.nodeports": "2"}


async def test_service_updates_are_charged_by_their_delta() -> None:
    c = Cluster()
    await c.put("resourcequotas", quota(hard={"services.nodeports": "2"}))
    old = service(ports=2)
    await c.put("services", old)
    plugin = c.plugin()
    grow = attrs(service(kind="NodePort", ports=2), plural="services", operation=UPDATE, old=old)
    await plugin.admit(grow)
    assert (await c.quota())["status"]["used"] == {"services.nodeports": "2"}
    more = attrs(service("t", kind="NodePort"), plural="services")
    with pytest.raises(errors.APIError) as caught:
        await plugin.admit(more)
    assert caught.value.message == (
        'services "t" is forbidden: exceeded quota: q, requested: services.nodeports=1, '
        "used: services.nodeports=2, limited: services.nodeports=2"
    )


async def test_concurrent_creates_on_two_servers_never_overshoot() -> None:
    c = Cluster()
    await c.put("resourcequotas", quota(hard={"pods": "5"}))
    servers = [c.plugin(), c.plugin()]

    async def create(i: int) -> bool:
        try:
            await servers[i % 2].admit(attrs(pod(name=f"p{i}")))
        except errors.APIError as e:
            assert "exceeded quota: q" in e.message
            return False
        return True

    results = await asyncio.gather(*(create(i) for i in range(20)))
    assert sum(results) == 5
    assert (await c.quota())["status"]["used"] == {"pods": "5"}


async def test_status_write_is_a_compare_and_swap() -> None:
    c = Cluster()
    await c.put("resourcequotas", quota(hard={"pods": "5"}))
    access = StoreQuotaAccess(c.store)
    [stale] = await access.list_quotas("ns")
    await access.update_quota_status(stale)
    with pytest.raises(QuotaConflict):
        await access.update_quota_status(stale)
    stored = orjson.loads((await c.store.get(object_key(info("resourcequotas"), "ns", "q"))).value)
    assert "resourceVersion" not in stored["metadata"]


async def test_the_no_quota_hint_skips_the_store_read() -> None:
    c = Cluster()
    await c.put("resourcequotas", quota(hard={"pods": "0"}))
    hinted = StoreQuotaAccess(c.store, may_have_quotas=lambda namespace: namespace != "ns")
    assert await hinted.list_quotas("ns") == []
    assert [q["metadata"]["name"] for q in await StoreQuotaAccess(c.store).list_quotas("ns")] == [
        "q"
    ]
    with pytest.raises(errors.APIError, match="exceeded quota"):
        await c.plugin().admit(attrs(pod()))
