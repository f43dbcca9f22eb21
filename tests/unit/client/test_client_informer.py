"""Informers: list+watch into an indexed cache, handlers, relist semantics, resync, sharing."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator
from typing import Any

import pytest
from tests.support.fakekube import FakeKube, eventually, resource

from kybernetes.client import (
    NAMESPACE_INDEX,
    NODE_NAME_INDEX,
    OWNER_UID_INDEX,
    CachedObjectMutation,
    DeletedFinalStateUnknown,
    FakeClock,
    Informer,
    RESTClient,
    SharedInformerFactory,
    TransportError,
    cache_mutations,
    clear_cache_mutations,
)

pytestmark = pytest.mark.timeout(10)

PODS = resource("", "pods")
NODES = resource("", "nodes")


def pod(
    name: str, ns: str = "ns", node: str = "", owner: str = "", **labels: str
) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": ns, "labels": labels}
    if owner:
        meta["ownerReferences"] = [{"uid": owner, "kind": "ReplicaSet", "name": "rs"}]
    return {"metadata": meta, "spec": {"nodeName": node} if node else {}}


class Recorder:
    def __init__(self) -> None:
        self.log: list[tuple[Any, ...]] = []

    def on_add(self, obj: dict[str, Any]) -> None:
        self.log.append(("add", obj["metadata"]["name"]))

    def on_update(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        self.log.append(
            (
                "update",
                new["metadata"]["name"],
                old["metadata"]["resourceVersion"],
                new["metadata"]["resourceVersion"],
            )
        )

    def on_delete(self, obj: Any) -> None:
        if isinstance(obj, DeletedFinalStateUnknown):
            self.log.append(("tombstone", obj.key, obj.obj["metadata"]["name"]))
        else:
            self.log.append(("delete", obj["metadata"]["name"]))

    def attach(self, informer: Informer, **kw: Any) -> Recorder:
        informer.add_event_handler(self.on_add, self.on_update, self.on_delete, **kw)
        return self


@pytest.fixture
async def running() -> AsyncIterator[list[asyncio.Task[None]]]:
    tasks: list[asyncio.Task[None]] = []
    yield tasks
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def start(running: list[asyncio.Task[None]], informer: Informer | SharedInformerFactory) -> None:
    running.append(asyncio.create_task(informer.run()))


async def test_list_then_watch_delivers_add_update_delete(
    client: RESTClient, kube: FakeKube, running: list[asyncio.Task[None]]
) -> None:
    kube.put(PODS, pod("a"))
    kube.put(PODS, pod("b"))
    informer = Informer(client, PODS, page_size=1)
    rec = Recorder().attach(informer)
    assert not informer.has_synced()
    start(running, informer)
    await informer.wait_for_sync()
    assert informer.has_synced()
    assert sorted(rec.log) == [("add", "a"), ("add", "b")]
    assert len(kube.requests_to("GET", "limit=1")) == 2  # paginated list
    cached = informer.cache.get("ns/a")
    assert cached is not None and cached["kind"] == "Pod" and cached["apiVersion"] == "v1"

    rec.log.clear()
    old_rv = kube.get(PODS, "a", "ns")["metadata"]["resourceVersion"]  # type: ignore[index]
    new = kube.put(PODS, pod("a", app="web"))
    kube.remove(PODS, "b", "ns")
    kube.put(PODS, pod("c"))
    await eventually(lambda: len(rec.log) == 3)
    assert rec.log == [
        ("update", "a", old_rv, new["metadata"]["resourceVersion"]),
        ("delete", "b"),
        ("add", "c"),
    ]
    assert sorted(informer.cache.keys()) == ["ns/a", "ns/c"]
    assert informer.cache.get_by_name("a", "ns")["metadata"]["labels"] == {"app": "web"}  # type: ignore[index]
    assert informer.last_sync_resource_version == str(kube.revision)


async def test_indexes_follow_changes(
    client: RESTClient, kube: FakeKube, running: list[asyncio.Task[None]]
) -> None:
    kube.put(PODS, pod("a", node="n1", owner="rs-1"))
    kube.put(PODS, pod("b", ns="other", node="n1", owner="rs-1"))
    kube.put(PODS, pod("c", node="n2", tier="db"))
    informer = Informer(
        client, PODS, indexers={"tier": lambda o: [o["metadata"]["labels"].get("tier", "")]}
    )
    start(running, informer)
    await informer.wait_for_sync()
    cache = informer.cache
    assert cache.index_keys(NODE_NAME_INDEX, "n1") == ["ns/a", "other/b"]
    assert cache.index_keys(OWNER_UID_INDEX, "rs-1") == ["ns/a", "other/b"]
    assert cache.index_keys(NAMESPACE_INDEX, "ns") == ["ns/a", "ns/c"]
    assert [o["metadata"]["name"] for o in cache.by_index("tier", "db")] == ["c"]

    kube.put(PODS, pod("a", node="n2"))  # moved, owner dropped
    kube.remove(PODS, "b", "other")
    await eventually(lambda: "other/b" not in cache)
    assert cache.index_keys(NODE_NAME_INDEX, "n1") == []
    assert cache.index_keys(NODE_NAME_INDEX, "n2") == ["ns/a", "ns/c"]
    assert cache.index_keys(OWNER_UID_INDEX, "rs-1") == []
    assert cache.index_values(NODE_NAME_INDEX) == ["n2"]
    informer.add_indexer("name", lambda o: [o["metadata"]["name"]])  # indexes existing objects
    assert cache.index_keys("name", "c") == ["ns/c"]
    with pytest.raises(KeyError, match="no index named"):
        cache.by_index("missing", "x")


async def test_relist_after_410_synthesizes_missed_changes(
    client: RESTClient, kube: FakeKube, clock: FakeClock, running: list[asyncio.Task[None]]
) -> None:
    for name in ("keep", "change", "gone"):
        kube.put(PODS, pod(name))
    informer = Informer(client, PODS)
    rec = Recorder().attach(informer)
    start(running, informer)
    await informer.wait_for_sync()
    await eventually(lambda: len(kube.streams) == 1)
    rec.log.clear()
    lists_before = len(kube.requests_to("GET", "limit="))
    old_rv = informer.cache.get("ns/change")["metadata"]["resourceVersion"]  # type: ignore[index]

    # The connection drops; while the informer is away, things change and the server
    # forgets the history it would need to resume.
    kube.end_watches(TransportError("connection lost"))
    await clock.wait_sleepers()
    new_rv = kube.put(PODS, pod("change", v="2"))["metadata"]["resourceVersion"]
    kube.remove(PODS, "gone", "ns")
    kube.put(PODS, pod("new"))
    kube.compacted = kube.revision
    clock.advance_to_next()  # the watch reconnects, gets 410; the informer backs off
    await clock.wait_sleepers()
    clock.advance_to_next()  # and relists

    await eventually(lambda: len(rec.log) == 3)
    assert sorted(rec.log) == [
        ("add", "new"),
        ("tombstone", "ns/gone", "gone"),
        ("update", "change", old_rv, new_rv),
    ]
    assert len(kube.requests_to("GET", "limit=")) == lists_before + 1
    assert sorted(informer.cache.keys()) == ["ns/change", "ns/keep", "ns/new"]
    # and it watches again from the new list
    kube.put(PODS, pod("later"))
    await eventually(lambda: ("add", "later") in rec.log)


async def test_relists_back_off_when_the_watch_keeps_expiring(
    client: RESTClient, kube: FakeKube, clock: FakeClock, running: list[asyncio.Task[None]]
) -> None:
    kube.put(PODS, pod("a"))
    kube.compacted = kube.revision + 100  # even a fresh list's version is "too old"
    informer = Informer(client, PODS)
    start(running, informer)
    await informer.wait_for_sync()
    await clock.wait_sleepers()
    assert clock.next_deadline() == pytest.approx(0.8)
    assert len(kube.requests_to("GET", "limit=")) == 1
    clock.advance_to_next()
    await clock.wait_sleepers()
    assert clock.next_deadline() == pytest.approx(0.8 + 1.6)
    assert len(kube.requests_to("GET", "limit=")) == 2


async def test_delete_of_unknown_object_is_dropped(
    client: RESTClient, kube: FakeKube, running: list[asyncio.Task[None]]
) -> None:
    informer = Informer(client, PODS, label_selector="app=web")
    rec = Recorder().attach(informer)
    start(running, informer)
    await informer.wait_for_sync()
    await eventually(lambda: len(kube.streams) == 1)
    # The fake does not filter watch events by label: the informer sees a DELETED for an
    # object it never had. Upstream drops those, and so do we.
    kube.put(PODS, pod("x", app="web"))
    await eventually(lambda: rec.log == [("add", "x")])
    informer.cache.remove("ns/x")  # as if never seen
    kube.remove(PODS, "x", "ns")
    kube.put(PODS, pod("y", app="web"))
    await eventually(lambda: len(rec.log) == 2)
    assert rec.log == [("add", "x"), ("add", "y")]


async def test_periodic_resync_redelivers_updates(
    client: RESTClient, kube: FakeKube, clock: FakeClock, running: list[asyncio.Task[None]]
) -> None:
    kube.put(PODS, pod("a"))
    kube.put(PODS, pod("b"))
    informer = Informer(client, PODS)
    quiet = Recorder().attach(informer)
    resyncing = Recorder().attach(informer, resync_period=30)
    start(running, informer)
    await informer.wait_for_sync()
    quiet.log.clear()
    resyncing.log.clear()
    await clock.wait_sleepers()
    assert clock.next_deadline() == 30
    clock.advance(30)
    await eventually(lambda: len(resyncing.log) == 2)
    assert sorted(e[:2] for e in resyncing.log) == [("update", "a"), ("update", "b")]
    assert all(e[2] == e[3] for e in resyncing.log)  # old is new
    assert quiet.log == []
    assert not any(r.method != "GET" for r in kube.requests)  # resync is local
    await clock.wait_sleepers()
    clock.advance(30)
    await eventually(lambda: len(resyncing.log) == 4)


async def test_late_handler_gets_existing_objects_and_bad_handlers_are_contained(
    client: RESTClient, kube: FakeKube, running: list[asyncio.Task[None]]
) -> None:
    kube.put(PODS, pod("a"))
    informer = Informer(client, PODS)

    def broken(obj: Any) -> None:
        raise RuntimeError("handler bug")

    informer.add_event_handler(on_add=broken)
    start(running, informer)
    await informer.wait_for_sync()
    late = Recorder().attach(informer)
    assert late.log == [("add", "a")]
    kube.put(PODS, pod("b"))
    await eventually(lambda: late.log == [("add", "a"), ("add", "b")])


async def test_mutating_a_cached_object_is_caught(
    client: RESTClient, kube: FakeKube, running: list[asyncio.Task[None]]
) -> None:
    kube.put(PODS, pod("a", node="n1"))
    informer = Informer(client, PODS)
    start(running, informer)
    await informer.wait_for_sync()
    cached = informer.cache.get("ns/a")
    assert cached is not None
    with pytest.raises(CachedObjectMutation):
        cached["metadata"]["labels"]["x"] = "y"
    with pytest.raises(CachedObjectMutation):
        cached["spec"].pop("nodeName")
    assert len(cache_mutations()) == 2
    clear_cache_mutations()
    # The sanctioned way: copy, change the copy.
    mine = copy.deepcopy(cached)
    mine["metadata"]["labels"]["x"] = "y"
    assert "x" not in cached["metadata"]["labels"]

    # A handler that mutates stops the informer loudly instead of being logged away.
    def sneaky(old: Any, new: Any) -> None:
        new["status"] = {"phase": "Hacked"}

    informer.add_event_handler(on_update=sneaky)
    kube.put(PODS, pod("a", node="n2"))
    with pytest.raises(CachedObjectMutation):
        await running.pop()
    clear_cache_mutations()


async def test_shared_factory_serves_many_with_one_list_and_watch(
    client: RESTClient, kube: FakeKube, running: list[asyncio.Task[None]]
) -> None:
    kube.put(PODS, pod("a"))
    kube.put(NODES, {"metadata": {"name": "n1"}})
    factory = SharedInformerFactory(client)
    first = factory.informer(PODS)
    second = factory.informer(PODS, indexers={"x": lambda o: []})
    assert first is second and "x" in first.cache.indexers()
    assert factory.informer(PODS, namespace="ns") is not first
    one, two = Recorder().attach(first), Recorder().attach(second)
    start(running, factory)
    await factory.wait_for_sync()
    assert one.log == two.log == [("add", "a")]
    nodes = factory.informer(NODES)  # requested after start: started too
    await nodes.wait_for_sync()
    assert nodes.cache.keys() == ["n1"]
    assert factory.has_synced()
    pod_lists = [r for r in kube.requests_to("GET", "/pods") if "watch" not in r.url]
    assert len(pod_lists) == 2  # one per distinct informer (all namespaces, and "ns")


async def test_a_watch_that_worked_relists_at_once_on_410(
    client: RESTClient, kube: FakeKube, clock: FakeClock, running: list[asyncio.Task[None]]
) -> None:
    informer = Informer(client, PODS)
    rec = Recorder().attach(informer)
    start(running, informer)
    await informer.wait_for_sync()
    await eventually(lambda: len(kube.streams) == 1)
    kube.put(PODS, pod("a"))
    await eventually(lambda: rec.log == [("add", "a")])
    kube.end_watches(TransportError("connection lost"))
    await clock.wait_sleepers()
    kube.put(PODS, pod("b"))
    kube.compacted = kube.revision  # the resume point is gone; the new list is fine
    clock.advance_to_next()  # only the watch's reconnect delay: no relist backoff
    await eventually(lambda: ("add", "b") in rec.log)
    assert len(kube.requests_to("GET", "limit=")) == 2
