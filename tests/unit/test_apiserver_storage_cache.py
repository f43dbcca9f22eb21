"""Updates that start from the watch cache's copy: one store read less, never a lost update.

The cache here is fed by hand from the store's event log, so a test decides exactly how
far behind the store it is.
"""

from __future__ import annotations

from typing import Any

import pytest
from tests.support.memstore import MemoryStore

from kybernetes.api import REGISTRY
from kybernetes.apiserver._admission import Chain
from kybernetes.apiserver._codec import basic_fields
from kybernetes.apiserver._errors import APIError
from kybernetes.apiserver._storage import ResourceStorage
from kybernetes.apiserver._strategy import strategy_for
from kybernetes.apiserver._watchcache import WatchCache

CMS = REGISTRY.get("", "v1", "configmaps")
assert CMS is not None


class CountingStore(MemoryStore):
    def __init__(self) -> None:
        super().__init__()
        self.gets = 0

    async def get(self, key: str, *, revision: int = 0) -> Any:
        self.gets += 1
        return await super().get(key, revision=revision)


class Setup:
    def __init__(self) -> None:
        assert CMS is not None
        self.store = CountingStore()
        self.cache = WatchCache(self.store, CMS, fields_of=basic_fields)  # type: ignore[arg-type]
        self.storage = ResourceStorage(
            self.store,  # type: ignore[arg-type]
            strategy_for(CMS),
            Chain([]),
            cache=self.cache,
        )
        self.applied = 0

    def catch_up(self) -> None:
        """Apply every store event the cache has not seen yet."""
        for event in self.store.log[self.applied :]:
            self.cache.apply(event)
        self.applied = len(self.store.log)
        self.cache.ready.set()

    async def stored(self, name: str) -> dict[str, Any]:
        return await self.storage.get("default", name)


def cm(data: dict[str, str], rv: str = "") -> dict[str, Any]:
    meta: dict[str, Any] = {"name": "c", "namespace": "default"}
    if rv:
        meta["resourceVersion"] = rv
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": data}


@pytest.fixture
async def stale() -> Setup:
    """A cache that has the configmap with a=1 while the store has a=2."""
    s = Setup()
    await s.storage.create("default", cm({"a": "1"}))
    s.catch_up()
    await s.storage.update("default", "c", cm({"a": "2"}))
    return s


async def test_an_up_to_date_copy_saves_the_store_read() -> None:
    s = Setup()
    await s.storage.create("default", cm({"a": "1"}))
    s.catch_up()
    s.store.gets = 0
    updated, _ = await s.storage.update("default", "c", cm({"a": "2"}))
    assert updated["data"] == {"a": "2"}
    assert s.store.gets == 0
    assert (await s.stored("c"))["data"] == {"a": "2"}


async def test_a_stale_copy_loses_no_update(stale: Setup) -> None:
    def add_b(current: dict[str, Any]) -> dict[str, Any]:
        return {**current, "data": {**current["data"], "b": "1"}}

    updated, _ = await stale.storage.guaranteed_update("default", "c", add_b)
    assert updated["data"] == {"a": "2", "b": "1"}
    assert (await stale.stored("c"))["data"] == {"a": "2", "b": "1"}


async def test_a_pinned_version_is_judged_by_the_store(stale: Setup) -> None:
    current = (await stale.stored("c"))["metadata"]["resourceVersion"]
    cached = stale.cache.get("default", "c")
    assert cached is not None and str(cached.revision) != current
    with pytest.raises(APIError) as e:
        await stale.storage.update("default", "c", cm({"a": "3"}, rv=str(cached.revision)))
    assert e.value.code == 409
    updated, _ = await stale.storage.update("default", "c", cm({"a": "3"}, rv=current))
    assert updated["data"] == {"a": "3"}


async def test_no_change_against_a_stale_copy_is_still_written(stale: Setup) -> None:
    # a=1 is what the stale copy holds, but the store holds a=2: this is a real change.
    updated, _ = await stale.storage.update("default", "c", cm({"a": "1"}))
    assert updated["data"] == {"a": "1"}
    stored = await stale.stored("c")
    assert stored["data"] == {"a": "1"}
    assert stored["metadata"]["resourceVersion"] == updated["metadata"]["resourceVersion"]


async def test_a_copy_missing_from_the_cache_is_read_from_the_store() -> None:
    s = Setup()
    s.catch_up()  # ready, but before the configmap exists
    await s.storage.create("default", cm({"a": "1"}))
    updated, _ = await s.storage.update("default", "c", cm({"a": "2"}))
    assert updated["data"] == {"a": "2"}
