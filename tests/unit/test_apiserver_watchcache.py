"""The watch cache's state machine and what watchers with selectors see."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest
from tests.support.memstore import MemoryStore

from kybernetes.api import REGISTRY
from kybernetes.apiserver._codec import basic_fields
from kybernetes.apiserver._errors import APIError
from kybernetes.apiserver._options import parse_list_options
from kybernetes.apiserver._watch import filter_event
from kybernetes.apiserver._watchcache import WatchCache
from kybernetes.store import Compacted, Event, EventType, KeyValue, WatchDropped

CMS = REGISTRY.get("", "v1", "configmaps")


def _cm(name: str, labels: dict[str, str] | None = None, ns: str = "default") -> bytes:
    meta: dict[str, Any] = {"name": name, "namespace": ns}
    if labels:
        meta["labels"] = labels
    return orjson.dumps({"kind": "ConfigMap", "apiVersion": "v1", "metadata": meta})


def _put(key: str, value: bytes, rev: int, prev: KeyValue | None = None) -> Event:
    created = prev.create_revision if prev else rev
    return Event(EventType.PUT, KeyValue(key, value, created, rev), prev)


def _delete(prev: KeyValue, rev: int) -> Event:
    return Event(EventType.DELETE, KeyValue(prev.key, b"", 0, rev), prev)


def _cache(window: int = 100) -> WatchCache:
    return WatchCache(MemoryStore(), CMS, fields_of=basic_fields, window=window)  # type: ignore[arg-type]


def test_events_update_state_and_stamp_resource_versions() -> None:
    cache = _cache()
    a1 = _put("/registry/configmaps/default/a", _cm("a"), 2)
    cache.apply(a1)
    cache.apply(_put("/registry/configmaps/other/b", _cm("b", ns="other"), 3))
    a2 = _put("/registry/configmaps/default/a", _cm("a", {"x": "1"}), 4, a1.kv)
    cache.apply(a2)
    items, rev = cache.snapshot()
    assert rev == 4 and [o.name for o in items] == ["a", "b"]
    assert [o.name for o in cache.snapshot("other")[0]] == ["b"]
    got = cache.get("default", "a")
    assert got is not None and got.decode()["metadata"]["resourceVersion"] == "4"
    assert got.labels == {"x": "1"}
    cache.apply(_delete(a2.kv, 5))
    assert cache.get("default", "a") is None and len(cache) == 1


async def test_watch_from_window_and_too_old() -> None:
    cache = _cache(window=2)
    prev = None
    for rev in (2, 3, 4):
        event = _put("/registry/configmaps/default/a", _cm("a"), rev, prev)
        cache.apply(event)
        prev = event.kv
    # The window holds revisions 3 and 4: resuming after 2 still works, after 1 does not.
    backlog, watcher = cache.watch_from(2)
    assert [e.revision for e in backlog] == [3, 4]
    assert [e.type for e in backlog] == ["MODIFIED", "MODIFIED"]
    with pytest.raises(APIError) as e:
        cache.watch_from(1)
    assert (e.value.code, e.value.reason) == (410, "Expired")
    assert e.value.message == "too old resource version: 1 (3)"
    # Live events reach the registered watcher, and only those after its position.
    cache.apply(_put("/registry/configmaps/default/a", _cm("a"), 5, prev))
    delivered = await asyncio.wait_for(watcher.queue.get(), 1)
    assert delivered is not None and delivered.revision == 5
    cache.stop_watch(watcher)


async def test_a_stuck_watcher_is_ended_not_waited_for() -> None:
    cache = _cache()
    _, watcher = cache.watch_from(0)
    for _ in range(watcher.queue.maxsize):
        watcher.queue.put_nowait(None)  # fill it up
    cache.apply(_put("/registry/configmaps/default/a", _cm("a"), 2))
    assert watcher.ended


async def test_run_lists_then_follows_the_store() -> None:
    store = MemoryStore()
    await store.create("/registry/configmaps/default/a", _cm("a"))
    cache = WatchCache(store, CMS, fields_of=basic_fields)  # type: ignore[arg-type]
    task = asyncio.create_task(cache.run())
    try:
        await asyncio.wait_for(cache.ready.wait(), 5)
        assert [o.name for o in cache.snapshot()[0]] == ["a"]
        kv = await store.create("/registry/configmaps/default/b", _cm("b"))
        await asyncio.wait_for(cache.wait_for(kv.mod_revision), 5)
        assert cache.get("default", "b") is not None
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


def _event(type_: str, labels: dict[str, str] | None, prev_labels: dict[str, str] | None) -> Any:
    cache = _cache()
    key = "/registry/configmaps/default/a"
    prev = None
    if prev_labels is not None:
        first = _put(key, _cm("a", prev_labels), 2)
        cache.apply(first)
        prev = first.kv
    if type_ == "DELETED":
        assert prev is not None
        cache.apply(_delete(prev, 3))
    else:
        cache.apply(_put(key, _cm("a", labels), 3, prev))
    return cache._window[-1]


@pytest.mark.parametrize(
    ("type_", "labels", "prev_labels", "seen"),
    [
        ("ADDED", {"app": "x"}, None, "ADDED"),
        ("ADDED", {"app": "y"}, None, None),
        ("MODIFIED", {"app": "x"}, {"app": "x"}, "MODIFIED"),
        ("MODIFIED", {"app": "x"}, {"app": "y"}, "ADDED"),  # starts matching
        ("MODIFIED", {"app": "y"}, {"app": "x"}, "DELETED"),  # stops matching
        ("MODIFIED", {"app": "y"}, {"app": "z"}, None),
        ("DELETED", None, {"app": "x"}, "DELETED"),
        ("DELETED", None, {"app": "y"}, None),
    ],
)
def test_selector_transitions(
    type_: str,
    labels: dict[str, str] | None,
    prev_labels: dict[str, str] | None,
    seen: str | None,
) -> None:
    opts = parse_list_options(CMS, {"labelSelector": "app=x"})
    result = filter_event(_event(type_, labels, prev_labels), "default", opts)
    assert (result[0] if result else None) == seen


def test_namespace_filter() -> None:
    opts = parse_list_options(CMS, {})
    event = _event("ADDED", None, None)
    assert filter_event(event, "default", opts) is not None
    assert filter_event(event, "elsewhere", opts) is None
    assert filter_event(event, None, opts) is not None


async def test_dropped_watches_resume_and_compaction_relists() -> None:
    store = MemoryStore()
    cache = WatchCache(store, CMS, fields_of=basic_fields)  # type: ignore[arg-type]
    task = asyncio.create_task(cache.run())
    try:
        await asyncio.wait_for(cache.ready.wait(), 5)
        _, watcher = cache.watch_from(cache.revision)
        a = await store.create("/registry/configmaps/default/a", _cm("a"))
        await asyncio.wait_for(cache.wait_for(a.mod_revision), 5)

        # Dropped: the cache resumes from its revision; its watchers never notice.
        store.fail_watches(WatchDropped("too slow"))
        b = await store.create("/registry/configmaps/default/b", _cm("b"))
        await asyncio.wait_for(cache.wait_for(b.mod_revision), 5)
        assert not watcher.ended
        seen = [await asyncio.wait_for(watcher.queue.get(), 5) for _ in range(2)]
        assert [e.obj.name for e in seen if e is not None] == ["a", "b"]

        # Compacted past the cache: it relists, and ends its watchers (they resume or
        # relist themselves) because it cannot tell them what they missed.
        await store.delete(a.key)
        await store.compact(await store.current_revision())
        store.fail_watches(Compacted(b.mod_revision, await store.current_revision()))
        c = await store.create("/registry/configmaps/default/c", _cm("c"))
        await asyncio.wait_for(cache.wait_for(c.mod_revision), 5)
        assert [o.name for o in cache.snapshot()[0]] == ["b", "c"]
        assert watcher.ended
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
