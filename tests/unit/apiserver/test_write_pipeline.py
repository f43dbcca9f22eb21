"""The write pipeline inside ResourceStorage: order of the phases and settling of what
admission took (allocations, quota) whether or not the store write happens."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

import pytest
from tests.support.memstore import MemoryStore

from kybernetes.api import REGISTRY
from kybernetes.apiserver import _errors as errors
from kybernetes.apiserver import _storage
from kybernetes.apiserver._admission import Attributes
from kybernetes.apiserver._allocator import IPS_PREFIX, PORTS_PREFIX, ServiceAllocator
from kybernetes.apiserver._options import DeleteOptions
from kybernetes.apiserver._storage import ResourceStorage
from kybernetes.apiserver._strategy import strategy_for
from kybernetes.apiserver._write_pipeline import WritePipeline

Obj = dict[str, Any]


@dataclass
class Recorder:
    """Mutating plugin, validating admission and quota ledger in one, writing a log."""

    log: list[tuple[str, Obj]] = field(default_factory=list)
    refuse: bool = False

    async def mutate(self, attrs: Attributes) -> Obj | None:
        assert attrs.obj is not None
        self.log.append(("mutate", attrs.obj))
        meta = {**attrs.obj["metadata"], "labels": {"mutated": "yes"}}
        return {**attrs.obj, "metadata": meta}

    async def admit(self, attrs: Attributes) -> None:
        if attrs.obj is None:  # a delete
            return
        self.log.append(("admit", attrs.obj))
        if self.refuse:
            raise errors.forbidden(attrs.info, attrs.name, "no")

    async def uncharge(self, attrs: Attributes) -> None:
        assert attrs.obj is not None
        self.log.append(("uncharge", attrs.obj))

    def steps(self) -> list[str]:
        return [step for step, _ in self.log]


def storage(
    store: MemoryStore, plural: str, pipeline: WritePipeline, recorder: Recorder
) -> ResourceStorage:
    info = REGISTRY.get("", "v1", plural)
    assert info is not None
    return ResourceStorage(store, strategy_for(info), recorder, pipeline=pipeline)


def pod(name: str = "p") -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {"containers": [{"name": "c", "image": "busybox"}]},
    }


def cm(name: str = "c", **data: str) -> Obj:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data}


def svc(name: str = "s", kind: str = "ClusterIP", **spec: Any) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name},
        "spec": {"type": kind, "ports": [{"port": 80}], **spec},
    }


@pytest.fixture
def rec() -> Recorder:
    return Recorder()


def counting(rec: Recorder, **kw: Any) -> WritePipeline:
    """A pipeline whose quota ledger is ``rec`` and every namespace has quotas."""
    return WritePipeline(rec, quota=rec, may_have_quotas=lambda ns: True, **kw)


async def test_mutation_runs_between_defaulting_and_validation(rec: Recorder) -> None:
    pods = storage(MemoryStore(), "pods", counting(rec, mutating=rec), rec)
    stored = await pods.create("ns", pod())
    assert rec.steps() == ["mutate", "admit"]
    seen = rec.log[0][1]
    # The mutating plugin sees the defaulted object with its identity set ...
    assert seen["spec"]["restartPolicy"] == "Always"
    assert seen["metadata"]["uid"] and seen["metadata"]["namespace"] == "ns"
    # ... and what it changed is validated, admitted and stored.
    assert rec.log[1][1]["metadata"]["labels"] == {"mutated": "yes"}
    assert stored["metadata"]["labels"] == {"mutated": "yes"}
    assert (await pods.get("ns", "p"))["metadata"]["labels"] == {"mutated": "yes"}


async def test_mutations_skip_subresources_and_run_on_updates(rec: Recorder) -> None:
    pods = storage(MemoryStore(), "pods", counting(rec, mutating=rec), rec)
    await pods.create("ns", pod())
    rec.log.clear()
    status = {**pod(), "status": {"phase": "Running"}}
    await pods.update("ns", "p", status, subresource="status")
    assert rec.steps() == ["admit"]
    rec.log.clear()
    await pods.update("ns", "p", pod())
    assert rec.steps()[0] == "mutate"


async def test_refused_or_failed_writes_give_quota_back(
    rec: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    configmaps = storage(MemoryStore(), "configmaps", counting(rec), rec)
    await configmaps.create("ns", cm("a"))
    assert "uncharge" not in rec.steps()
    rec.log.clear()
    with pytest.raises(errors.APIError) as e:
        await configmaps.create("ns", cm("a"))
    assert e.value.code == 409
    assert rec.steps() == ["admit", "uncharge"]
    # Each generateName collision is a write that did not happen.
    rec.log.clear()
    names = iter(["a", "b"])
    monkeypatch.setattr(_storage, "generate_name", lambda base: next(names))
    created = await configmaps.create("ns", {"metadata": {"generateName": "x-"}})
    assert created["metadata"]["name"] == "b"
    assert rec.steps() == ["admit", "uncharge", "admit"]
    assert rec.log[1][1]["metadata"]["name"] == "a"
    # Refused by admission: nothing was charged, nothing is given back.
    rec.log.clear()
    rec.refuse = True
    with pytest.raises(errors.APIError):
        await configmaps.create("ns", cm("c"))
    assert rec.steps() == ["admit"]


async def test_dry_runs_and_quota_free_namespaces_give_nothing_back(rec: Recorder) -> None:
    configmaps = storage(MemoryStore(), "configmaps", counting(rec), rec)
    await configmaps.create("ns", cm("a"), dry_run=True)
    assert rec.steps() == ["admit"]
    rec.log.clear()
    free = WritePipeline(rec, quota=rec, may_have_quotas=lambda ns: False)
    configmaps = storage(MemoryStore(), "configmaps", free, rec)
    await configmaps.create("ns", cm("a"))
    with pytest.raises(errors.APIError):
        await configmaps.create("ns", cm("a"))
    assert "uncharge" not in rec.steps()


async def test_update_retries_and_no_ops_give_quota_back(
    rec: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = MemoryStore()
    configmaps = storage(store, "configmaps", counting(rec), rec)
    await configmaps.create("ns", cm("a", k="1"))
    rec.log.clear()
    values = iter(["2", "3"])
    original_update = store.update
    calls = 0

    async def racing_update(key: str, value: bytes, *, expected_revision: int) -> Any:
        nonlocal calls
        calls += 1
        if calls == 1:  # someone else's write lands first: this one conflicts
            await original_update(key, value, expected_revision=expected_revision)
        return await original_update(key, value, expected_revision=expected_revision)

    monkeypatch.setattr(store, "update", racing_update)
    new, _ = await configmaps.guaranteed_update("ns", "a", lambda _: cm("a", k=next(values)))
    assert new["data"] == {"k": "3"}
    assert rec.steps() == ["admit", "uncharge", "admit"]
    rec.log.clear()
    await configmaps.update("ns", "a", cm("a", k="3"))  # changes nothing: no write
    assert rec.steps() == ["admit", "uncharge"]


async def test_removals_are_reported_with_the_last_stored_state(rec: Recorder) -> None:
    removed: list[Obj] = []

    async def after_remove(obj: Obj) -> None:
        removed.append(obj)

    configmaps = storage(
        MemoryStore(), "configmaps", WritePipeline(rec, after_remove=after_remove), rec
    )
    await configmaps.create("ns", cm("a"))
    await configmaps.create("ns", {**cm("b"), "metadata": {"name": "b", "finalizers": ["x/y"]}})
    _, gone = await configmaps.delete("ns", "a", DeleteOptions())
    assert gone and [o["metadata"]["name"] for o in removed] == ["a"]
    _, gone = await configmaps.delete("ns", "b", DeleteOptions())
    assert not gone and len(removed) == 1  # only marked: it waits for its finalizer
    await configmaps.guaranteed_update(
        "ns", "b", lambda o: {**o, "metadata": {**o["metadata"], "finalizers": []}}
    )
    assert [o["metadata"]["name"] for o in removed] == ["a", "b"]
    assert removed[1]["metadata"]["finalizers"] == ["x/y"]  # the state the store had
    assert int(removed[1]["metadata"]["resourceVersion"]) == configmaps.store.revision


# -- services: allocations are committed or reverted with the write ---------------------------


async def keys(store: MemoryStore, prefix: str) -> list[str]:
    return [kv.key[len(prefix) :] for kv in (await store.range(prefix)).kvs]


@pytest.fixture
def services(rec: Recorder) -> ResourceStorage:
    store = MemoryStore()
    allocator = ServiceAllocator(store, rng=random.Random(7))

    async def after_remove(obj: Obj) -> None:
        await allocator.release(obj)

    pipeline = WritePipeline(rec, allocator=allocator, after_remove=after_remove)
    return storage(store, "services", pipeline, rec)


async def test_service_allocations_follow_the_write(services: ResourceStorage) -> None:
    store = services.store
    assert isinstance(store, MemoryStore)
    created = await services.create("ns", svc())
    ip = created["spec"]["clusterIP"]
    assert await keys(store, IPS_PREFIX) == [ip]
    # A dry run takes nothing; an invalid service keeps nothing it was given.
    await services.create("ns", svc("dry"), dry_run=True)
    with pytest.raises(errors.APIError) as e:
        await services.create("ns", svc("bad", ports=[{"port": 0}]))
    assert e.value.code == 422
    with pytest.raises(errors.APIError) as e:
        await services.create("ns", svc())  # AlreadyExists after allocation
    assert e.value.code == 409
    assert await keys(store, IPS_PREFIX) == [ip]
    _, gone = await services.delete("ns", "s", DeleteOptions())
    assert gone and await keys(store, IPS_PREFIX) == []


async def test_service_updates_commit_only_when_stored(
    services: ResourceStorage, rec: Recorder
) -> None:
    store = services.store
    assert isinstance(store, MemoryStore)
    await services.create("ns", svc())
    as_node_port, _ = await services.update("ns", "s", svc(kind="NodePort"))
    port = as_node_port["spec"]["ports"][0]["nodePort"]
    assert as_node_port["spec"]["clusterIP"]  # kept from the stored service
    assert await keys(store, PORTS_PREFIX) == [str(port)]
    # Refused by admission: the switch back to ClusterIP keeps the port.
    rec.refuse = True
    with pytest.raises(errors.APIError):
        await services.update("ns", "s", svc())
    assert await keys(store, PORTS_PREFIX) == [str(port)]
    rec.refuse = False
    # A dry run neither takes nor frees.
    await services.update("ns", "s", svc(), dry_run=True)
    assert await keys(store, PORTS_PREFIX) == [str(port)]
    back, _ = await services.update("ns", "s", svc())
    assert "nodePort" not in back["spec"]["ports"][0]
    assert await keys(store, PORTS_PREFIX) == []


async def test_service_generate_name_retry_takes_one_ip(
    services: ResourceStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = services.store
    assert isinstance(store, MemoryStore)
    await services.create("ns", svc("web-a"))
    names = iter(["web-a", "web-b"])
    monkeypatch.setattr(_storage, "generate_name", lambda base: next(names))
    created = await services.create("ns", {**svc(), "metadata": {"generateName": "web-"}})
    assert created["metadata"]["name"] == "web-b"
    assert len(await keys(store, IPS_PREFIX)) == 2


async def test_finalized_service_frees_its_values(services: ResourceStorage) -> None:
    store = services.store
    assert isinstance(store, MemoryStore)
    held = {**svc(kind="NodePort"), "metadata": {"name": "s", "finalizers": ["x/y"]}}
    await services.create("ns", held)
    await services.delete("ns", "s", DeleteOptions())
    assert len(await keys(store, IPS_PREFIX)) == 1
    await services.guaranteed_update(
        "ns", "s", lambda o: {**o, "metadata": {**o["metadata"], "finalizers": []}}
    )
    assert await keys(store, IPS_PREFIX) == []
    assert await keys(store, PORTS_PREFIX) == []
