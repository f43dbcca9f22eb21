"""LIST: which source answers (watch cache or store), pagination, and the list body.

resourceVersion semantics, as upstream documents them, and where we read:

=======================  ==========================================================
``resourceVersion``      served from
=======================  ==========================================================
unset                    consistent: the cache if it has applied the store's current
                         revision, else the store at that revision (no waiting: the
                         per-resource cache cannot tell whether a newer store revision
                         touched its resource, so waiting could be forever)
``"0"``                  the cache as it is (``limit`` ignored, as upstream)
``N`` (NotOlderThan)     the cache if it has reached N, else the store (504 if the
                         store itself has not reached N)
``N`` + ``Exact``        the store at revision N (410 if compacted)
``continue``             the store at the token's revision (410 if compacted)
=======================  ==========================================================

``limit`` on anything but ``"0"`` reads the store page by page, so every page of one list
is the same snapshot; the continue token carries the revision and the last key. Items are
:class:`~kybernetes.apiserver._codec.CachedObject`, so the JSON body is a byte join.
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson

from kybernetes import store as st
from kybernetes.api import ResourceInfo
from kybernetes.apiserver import _errors as errors
from kybernetes.apiserver._codec import CachedObject, cached_kv
from kybernetes.apiserver._keys import ContinueToken, collection_prefix, resource_prefix
from kybernetes.apiserver._options import EXACT, ListOptions
from kybernetes.apiserver._watchcache import WatchCache

#: Store page size when filtering with selectors (enough to fill most pages in one read).
_SCAN_PAGE = 500


@dataclass(frozen=True, slots=True)
class ListResult:
    items: list[CachedObject]
    revision: int
    continue_token: str = ""
    remaining: int | None = None
    #: The items' JSON, comma-joined, when the cache already has it.
    joined: bytes | None = None


async def list_objects(cache: WatchCache, namespace: str | None, opts: ListOptions) -> ListResult:
    """The objects a LIST returns (see the module docstring for the sources)."""
    rv = opts.resource_version
    if opts.continue_token:
        token = ContinueToken.decode(opts.continue_token)
        return await _from_store(cache, namespace, opts, token.revision, token, compacted_410=True)
    if rv == "0":
        return _from_cache(cache, namespace, opts)
    if rv and opts.resource_version_match == EXACT:
        return await _from_store(cache, namespace, opts, int(rv), None)
    if rv:
        wanted = int(rv)
        if cache.revision >= wanted and not opts.limit:
            return _from_cache(cache, namespace, opts)
        current = await _current_revision(cache)
        if current < wanted:
            raise errors.too_large_resource_version(wanted, current)
        return await _from_store(cache, namespace, opts, current, None)
    current = await _current_revision(cache)
    if cache.revision >= current and cache.ready.is_set() and not opts.limit:
        return _from_cache(cache, namespace, opts)
    return await _from_store(cache, namespace, opts, current, None)


async def _current_revision(cache: WatchCache) -> int:
    try:
        return await cache.store_revision()
    except st.StoreError as e:
        raise errors.from_store_error(e, cache.info) from None


def _from_cache(cache: WatchCache, namespace: str | None, opts: ListOptions) -> ListResult:
    items, revision = cache.snapshot(namespace)
    if opts.selects_everything:
        return ListResult(items, revision, joined=cache.snapshot_json(namespace))
    return ListResult([o for o in items if opts.matches(o)], revision)


async def _from_store(
    cache: WatchCache,
    namespace: str | None,
    opts: ListOptions,
    revision: int,
    token: ContinueToken | None,
    *,
    compacted_410: bool = False,
) -> ListResult:
    """Read one page (or everything, without ``limit``) at ``revision``."""
    info = cache.info
    prefix = collection_prefix(info, namespace)
    base = resource_prefix(info)
    after = base + token.after if token else None
    if after is not None and not after.startswith(prefix):
        raise errors.bad_request("continue key is not valid: it belongs to another list")
    consumed = token.consumed if token else 0
    limit = opts.limit
    page_size = 0 if not limit else max(limit + 1, _SCAN_PAGE)
    items: list[CachedObject] = []
    walked = 0  # keys examined on this page (for remainingItemCount)
    total = 0
    last_key: str | None = None
    more = False
    while True:
        try:
            page = await cache.store.range(prefix, start=after, limit=page_size, revision=revision)
        except st.Compacted:
            if compacted_410:
                raise errors.continue_expired() from None
            raise errors.too_old_resource_version(revision, await _oldest(cache)) from None
        except st.StoreError as e:
            raise errors.from_store_error(e, info) from None
        revision, total = page.revision, page.count
        kvs = page.kvs
        if kvs and kvs[0].key == after:
            kvs = kvs[1:]
        stopped = False
        for kv in kvs:
            if limit and len(items) >= limit:
                stopped = more = True
                break
            walked += 1
            last_key = kv.key
            obj = cached_kv(kv, cache.fields_of)
            if opts.selects_everything or opts.matches(obj):
                items.append(obj)
        if stopped:
            break
        if not page.more or not kvs:
            more = False
            break
        if limit and len(items) >= limit:
            more = True
            break
        after = kvs[-1].key
    if not more or last_key is None:
        return ListResult(items, revision)
    next_token = ContinueToken(revision, last_key[len(base) :], consumed + walked)
    remaining = None
    if opts.selects_everything:
        remaining = max(total - consumed - walked, 0)
    return ListResult(items, revision, next_token.encode(), remaining)


async def _oldest(cache: WatchCache) -> int:
    try:
        return await cache.store.compacted_revision() + 1
    except st.StoreError:
        return 0


def list_body(info: ResourceInfo, result: ListResult) -> bytes:
    """The ``XList`` JSON of ``result``: ``items`` is ``[]`` when empty, never null."""
    meta: dict[str, object] = {"resourceVersion": str(result.revision)}
    if result.continue_token:
        meta["continue"] = result.continue_token
    if result.remaining is not None:
        meta["remainingItemCount"] = result.remaining
    head = orjson.dumps({"kind": info.list_kind, "apiVersion": info.api_version, "metadata": meta})
    joined = result.joined
    if joined is None:
        joined = b",".join(o.raw for o in result.items)
    return b"".join((head[:-1], b',"items":[', joined, b"]}"))
