"""LIST over the cache and the store: pagination, resourceVersion semantics, 410s."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import orjson
import pytest
from tests.support.memstore import MemoryStore

from kybernetes.api import REGISTRY
from kybernetes.apiserver._codec import basic_fields
from kybernetes.apiserver._errors import APIError
from kybernetes.apiserver._list import list_body, list_objects
from kybernetes.apiserver._options import parse_list_options
from kybernetes.apiserver._watchcache import WatchCache

CMS = REGISTRY.get("", "v1", "configmaps")


@pytest.fixture
async def cache() -> AsyncIterator[WatchCache]:
    store = MemoryStore()
    for i in range(5):
        ns = "a" if i < 3 else "b"
        meta = {"name": f"c{i}", "namespace": ns, "labels": {"even": str(i % 2 == 0).lower()}}
        doc = {"kind": "ConfigMap", "apiVersion": "v1", "metadata": meta}
        await store.create(f"/registry/configmaps/{ns}/c{i}", orjson.dumps(doc))
    wc = WatchCache(store, CMS, fields_of=basic_fields)  # type: ignore[arg-type]
    task = asyncio.create_task(wc.run())
    await asyncio.wait_for(wc.ready.wait(), 5)
    yield wc
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def names(result: object) -> list[str]:
    return [o.name for o in result.items]  # type: ignore[attr-defined]


async def test_pages_share_one_snapshot(cache: WatchCache) -> None:
    first = await list_objects(cache, None, parse_list_options(CMS, {"limit": "2"}))
    assert names(first) == ["c0", "c1"] and first.remaining == 3
    # A write between pages does not show up in later pages of the same list.
    await cache.store.create(
        "/registry/configmaps/b/c9",
        orjson.dumps({"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"name": "c9"}}),
    )
    second = await list_objects(
        cache, None, parse_list_options(CMS, {"limit": "2", "continue": first.continue_token})
    )
    assert names(second) == ["c2", "c3"] and second.remaining == 1
    assert second.revision == first.revision
    last = await list_objects(
        cache, None, parse_list_options(CMS, {"limit": "2", "continue": second.continue_token})
    )
    assert names(last) == ["c4"] and not last.continue_token and last.remaining is None


async def test_pages_with_selectors_and_namespaces(cache: WatchCache) -> None:
    opts = parse_list_options(CMS, {"limit": "1", "labelSelector": "even=true"})
    page = await list_objects(cache, "a", opts)
    assert names(page) == ["c0"] and page.remaining is None  # unknown with selectors
    opts = parse_list_options(
        CMS, {"limit": "1", "labelSelector": "even=true", "continue": page.continue_token}
    )
    page = await list_objects(cache, "a", opts)
    assert names(page) == ["c2"]


async def test_compacted_continue_is_410(cache: WatchCache) -> None:
    first = await list_objects(cache, None, parse_list_options(CMS, {"limit": "2"}))
    await cache.store.create("/registry/configmaps/a/zz", b'{"metadata":{"name":"zz"}}')
    await cache.store.compact(await cache.store.current_revision())
    with pytest.raises(APIError) as e:
        await list_objects(
            cache, None, parse_list_options(CMS, {"limit": "2", "continue": first.continue_token})
        )
    assert (e.value.code, e.value.reason) == (410, "Expired")


async def test_resource_version_semantics(cache: WatchCache) -> None:
    old = cache.revision
    kv = await cache.store.create(
        "/registry/configmaps/a/new", b'{"kind":"ConfigMap","metadata":{"name":"new"}}'
    )
    # Unset: consistent, even before the cache has seen the write.
    assert "new" in names(await list_objects(cache, "a", parse_list_options(CMS, {})))
    exact = parse_list_options(CMS, {"resourceVersion": str(old), "resourceVersionMatch": "Exact"})
    assert "new" not in names(await list_objects(cache, "a", exact))
    await asyncio.wait_for(cache.wait_for(kv.mod_revision), 5)
    zero = await list_objects(cache, "a", parse_list_options(CMS, {"resourceVersion": "0"}))
    assert "new" in names(zero)
    with pytest.raises(APIError) as e:
        too_new = parse_list_options(CMS, {"resourceVersion": str(kv.mod_revision + 100)})
        await list_objects(cache, None, too_new)
    assert e.value.code == 504


async def test_list_body_shape(cache: WatchCache) -> None:
    empty = await list_objects(cache, "nothing-here", parse_list_options(CMS, {}))
    doc = orjson.loads(list_body(CMS, empty))
    assert doc["kind"] == "ConfigMapList" and doc["apiVersion"] == "v1"
    assert doc["items"] == [] and doc["metadata"]["resourceVersion"] == str(empty.revision)
    full = orjson.loads(list_body(CMS, await list_objects(cache, "a", parse_list_options(CMS, {}))))
    assert [i["metadata"]["name"] for i in full["items"]] == ["c0", "c1", "c2"]
    assert all(i["metadata"]["resourceVersion"] for i in full["items"])
