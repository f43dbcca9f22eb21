"""Watch cache snapshots: a change re-sorts only the lists the changed object is in."""

from __future__ import annotations

import orjson
from tests.support.memstore import MemoryStore

from kybernetes.api import REGISTRY
from kybernetes.apiserver._codec import basic_fields
from kybernetes.apiserver._watchcache import WatchCache
from kybernetes.store import Event, EventType, KeyValue

CMS = REGISTRY.get("", "v1", "configmaps")
assert CMS is not None


def _put(ns: str, name: str, rev: int) -> Event:
    key = f"/registry/configmaps/{ns}/{name}"
    meta = {"name": name, "namespace": ns}
    value = orjson.dumps({"kind": "ConfigMap", "apiVersion": "v1", "metadata": meta})
    return Event(EventType.PUT, KeyValue(key, value, rev, rev), None)


def _names(cache: WatchCache, ns: str | None) -> list[str]:
    return [o.name for o in cache.snapshot(ns)[0]]


def test_changes_in_one_namespace_keep_other_namespaces_snapshots() -> None:
    assert CMS is not None
    cache = WatchCache(MemoryStore(), CMS, fields_of=basic_fields)  # type: ignore[arg-type]
    cache.apply(_put("a", "x", 2))
    cache.apply(_put("b", "y", 3))
    in_a, _ = cache.snapshot("a")
    assert _names(cache, None) == ["x", "y"]
    cache.apply(_put("b", "z", 4))
    assert cache.snapshot("a")[0] is in_a  # not re-sorted
    assert _names(cache, "b") == ["y", "z"]
    assert _names(cache, None) == ["x", "y", "z"]
    cache.apply(_put("a", "w", 5))
    assert _names(cache, "a") == ["w", "x"]
    assert _names(cache, None) == ["w", "x", "y", "z"]
    gone = cache.get("b", "y")
    assert gone is not None
    in_a, _ = cache.snapshot("a")
    deleted = KeyValue(gone.key, b"", 0, 6)
    cache.apply(Event(EventType.DELETE, deleted, KeyValue(gone.key, gone.raw, 3, 3)))
    assert cache.snapshot("a")[0] is in_a
    assert _names(cache, "b") == ["z"]
    assert _names(cache, None) == ["w", "x", "z"]


def test_snapshot_json_follows_the_snapshot() -> None:
    assert CMS is not None
    cache = WatchCache(MemoryStore(), CMS, fields_of=basic_fields)  # type: ignore[arg-type]
    assert cache.snapshot_json("a") == b""
    cache.apply(_put("a", "x", 2))
    cache.apply(_put("b", "y", 3))
    in_b = cache.snapshot_json("b")
    for ns in ("a", "b", None):
        assert cache.snapshot_json(ns) == b",".join(o.raw for o in cache.snapshot(ns)[0])
    cache.apply(_put("a", "w", 4))
    assert cache.snapshot_json("b") is in_b  # kept: nothing in b changed
    assert orjson.loads(b"[" + cache.snapshot_json("a") + b"]")[0]["metadata"]["name"] == "w"
    names = [o["metadata"]["name"] for o in orjson.loads(b"[" + cache.snapshot_json() + b"]")]
    assert names == ["w", "x", "y"]
