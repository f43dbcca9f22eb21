"""The watch cache: one store watch per resource, the current objects, recent events.

Theory of operation. :meth:`WatchCache.run` lists the resource prefix once, then watches
it from the list's revision. Each store event updates the current objects and is appended
to a bounded window of recent events (a ring buffer), then handed to every registered
:class:`Watcher`. Everything that reads or changes the cache runs on the event loop
without awaiting in between, so a snapshot and a watcher registered in the same step see
exactly the same history: no event is lost or doubled between them.

Guarantees:

* ``revision`` is the newest revision the cache has applied. The objects are the state of
  the resource at ``revision`` (the per-resource watch cannot know about writes to other
  resources, so it can trail the store's current revision; callers needing a consistent
  read compare it with the store's and fall back to the store).
* :meth:`watch_from` delivers, in order, every event with a revision above the one asked
  for, first from the window, then live; if the window no longer reaches that far it
  raises 410 Expired (``too old resource version``).
* A watcher that does not keep up (its queue fills) is ended, never allowed to slow the
  cache down; so is every watcher when the cache relists (after the store compacted past
  the cache's position): clients resume from their last revision, or relist on 410.
* If the store watch ends (dropped, unavailable), it is re-established from the cache's
  revision; if that revision was compacted, the cache relists.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field

from kybernetes import store
from kybernetes.api import ResourceInfo
from kybernetes.apiserver._codec import CachedObject, FieldsOf, basic_fields, cached, cached_kv
from kybernetes.apiserver._errors import too_old_resource_version
from kybernetes.apiserver._keys import resource_prefix

log = logging.getLogger(__name__)

ADDED, MODIFIED, DELETED = "ADDED", "MODIFIED", "DELETED"

#: Events kept for watches resuming from the past (upstream sizes its window similarly).
DEFAULT_WINDOW = 10_000
#: Events a watcher may have pending before it is considered stuck and ended.
WATCHER_QUEUE = 10_000
#: Page size when (re)listing the store.
_LIST_PAGE = 5_000


@dataclass(frozen=True, slots=True)
class CacheEvent:
    """A change. For DELETED, ``obj`` is the last state, stamped with the delete's revision."""

    type: str
    obj: CachedObject
    #: The object's state before this event (None for ADDED).
    prev: CachedObject | None

    @property
    def revision(self) -> int:
        return self.obj.revision


class Tick:
    """What :meth:`Watcher.poke` queues: no event, only a wake-up for the consumer."""

    __slots__ = ()


TICK = Tick()


@dataclass(eq=False, slots=True)
class Watcher:
    """A registered consumer of live events with revisions above ``after``.

    Its queue holds events, :data:`TICK` wake-ups (:meth:`poke`) and finally None (ended).
    """

    after: int
    queue: asyncio.Queue[CacheEvent | Tick | None] = field(
        default_factory=lambda: asyncio.Queue(WATCHER_QUEUE)
    )
    ended: bool = False

    def poke(self) -> None:
        """Wake the consumer without an event (a full queue wakes it anyway)."""
        if not self.ended:
            with contextlib.suppress(asyncio.QueueFull):
                self.queue.put_nowait(TICK)

    def _deliver(self, event: CacheEvent) -> bool:
        if self.ended or event.revision <= self.after:
            return True
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            return False
        return True

    def _end(self) -> None:
        if not self.ended:
            self.ended = True
            # Room is always made for the end marker so the consumer wakes up.
            while self.queue.full():
                self.queue.get_nowait()
            self.queue.put_nowait(None)


class WatchCache:
    def __init__(
        self,
        store_: store.Store,
        info: ResourceInfo,
        *,
        fields_of: FieldsOf = basic_fields,
        window: int = DEFAULT_WINDOW,
        retry_delay: float = 1.0,
        current_revision: Callable[[], Awaitable[int]] | None = None,
    ) -> None:
        self.store = store_
        #: How consistent reads learn the store's current revision (shared by every cache
        #: of a server, see :mod:`._revision`); the store's own call by default.
        self.store_revision = current_revision or store_.current_revision
        self.info = info
        self.prefix = resource_prefix(info)
        self.fields_of = fields_of
        self.revision = 0
        self.ready = asyncio.Event()
        #: namespace ("" for cluster-scoped) -> key -> object
        self._objects: dict[str, dict[str, CachedObject]] = {}
        self._count = 0
        self._sorted: dict[str | None, list[CachedObject]] = {}
        #: The same lists' served JSON, comma-joined (a LIST body is then one concatenation).
        self._joined: dict[str | None, bytes] = {}
        self._window: deque[CacheEvent] = deque()
        self._window_size = window
        #: Every event with a revision above this is in the window.
        self._floor = 0
        self._watchers: set[Watcher] = set()
        #: (revision, future) pairs resolved once the cache reaches the revision.
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._retry_delay = retry_delay

    # -- reading -------------------------------------------------------------------------

    def __len__(self) -> int:
        return self._count

    def get(self, namespace: str, name: str) -> CachedObject | None:
        bucket = self._objects.get(namespace if self.info.namespaced else "")
        if bucket is None:
            return None
        prefix = f"{self.prefix}{namespace}/" if self.info.namespaced else self.prefix
        return bucket.get(prefix + name)

    def snapshot(self, namespace: str | None = None) -> tuple[list[CachedObject], int]:
        """The current objects in key order (of one namespace, or all) and their revision."""
        ns = namespace if (self.info.namespaced and namespace) else None
        items = self._sorted.get(ns)
        if items is None:
            if ns is None:
                items = sorted((o for b in self._objects.values() for o in b.values()), key=_key)
            else:
                items = sorted(self._objects.get(ns, {}).values(), key=_key)
            self._sorted[ns] = items
        return items, self.revision

    def snapshot_json(self, namespace: str | None = None) -> bytes:
        """The JSON of :meth:`snapshot`'s objects, comma-joined; kept until they change."""
        ns = namespace if (self.info.namespaced and namespace) else None
        joined = self._joined.get(ns)
        if joined is None:
            joined = self._joined[ns] = b",".join(o.raw for o in self.snapshot(ns)[0])
        return joined

    def watch_from(self, after: int) -> tuple[list[CacheEvent], Watcher]:
        """Events above ``after`` still in the window, and a watcher for the later ones."""
        if after < self._floor:
            raise too_old_resource_version(after, self._floor + 1)
        backlog = list(self._events_after(after))
        watcher = Watcher(after=max(after, self.revision))
        self._watchers.add(watcher)
        return backlog, watcher

    def end_watchers(self) -> None:
        """End every watcher (server shutdown): their streams finish cleanly."""
        for watcher in self._watchers:
            watcher._end()
        self._watchers.clear()

    def stop_watch(self, watcher: Watcher) -> None:
        self._watchers.discard(watcher)
        watcher.ended = True

    async def wait_for(self, revision: int) -> None:
        """Return once the cache has applied ``revision`` (callers bound it with a timeout)."""
        if self.revision >= revision:
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (revision, future)
        self._waiters.append(entry)
        try:
            await future
        finally:
            if entry in self._waiters:
                self._waiters.remove(entry)

    def _events_after(self, after: int) -> Iterator[CacheEvent]:
        window = self._window
        if not window or window[-1].revision <= after:
            return iter(())
        # Revisions in the window are non-decreasing: find the first one above ``after``.
        revisions = _RevisionView(window)
        start = bisect.bisect_right(revisions, after)
        return (window[i] for i in range(start, len(window)))

    # -- maintaining ---------------------------------------------------------------------

    async def run(self) -> None:
        """List, then watch forever; re-watch or relist when the store watch ends."""
        relist = True
        while True:
            try:
                if relist:
                    await self._relist()
                    relist = False
                watch = self.store.watch(self.prefix, start_revision=self.revision + 1)
                try:
                    async for batch in watch:
                        self._apply_batch(batch)
                finally:
                    await watch.close()
            except store.WatchDropped:
                log.info("watch of %s dropped at %d; resuming", self.prefix, self.revision)
            except store.Compacted:
                log.info("watch of %s compacted past %d; relisting", self.prefix, self.revision)
                relist = True
            except store.StoreError as e:
                log.warning("watch of %s failed (%s); retrying", self.prefix, e)
                relist = True
                await asyncio.sleep(self._retry_delay)

    async def _relist(self) -> None:
        objects: dict[str, dict[str, CachedObject]] = {}
        count = 0
        revision = 0
        after: str | None = None
        while True:
            # Pages resume at the last key seen (``start`` is inclusive; keys cannot
            # hold a NUL to step past it), which is skipped.
            page = await self.store.range(
                self.prefix, start=after, limit=_LIST_PAGE + (after is not None), revision=revision
            )
            revision = page.revision
            for kv in page.kvs:
                if kv.key == after:
                    continue
                obj = self._ingest(kv)
                if obj is not None:
                    objects.setdefault(obj.namespace, {})[kv.key] = obj
                    count += 1
            if not page.more or not page.kvs or page.kvs[-1].key == after:
                break
            after = page.kvs[-1].key
        self._objects, self._count, self._sorted, self._joined = objects, count, {}, {}
        self._window.clear()
        self.revision = self._floor = revision
        # Watchers cannot be told what changed while the cache was not watching: end them
        # so they resume from their own revision (or relist on 410).
        for watcher in self._watchers:
            watcher._end()
        self._watchers.clear()
        self.ready.set()
        self._wake()

    def _ingest(self, kv: store.KeyValue) -> CachedObject | None:
        try:
            return cached_kv(kv, self.fields_of)
        except (ValueError, TypeError, KeyError) as e:
            log.error("skipping undecodable value at %s rev %d: %s", kv.key, kv.mod_revision, e)
            return None

    def _apply_batch(self, batch: Sequence[store.Event]) -> None:
        for event in batch:
            self.apply(event)
        self._wake()

    def apply(self, event: store.Event) -> None:
        """Apply one store event (public for tests: the cache's whole state machine)."""
        key = event.kv.key
        if event.type is store.EventType.PUT:
            obj = self._ingest(event.kv)
            if obj is None:
                return
            bucket = self._objects.setdefault(obj.namespace, {})
            prev = bucket.get(key)
            bucket[key] = obj
            if prev is None:
                self._count += 1
            self._changed(obj.namespace)
            self._record(CacheEvent(MODIFIED if prev is not None else ADDED, obj, prev))
        else:
            found = self._find(key)
            if found is None:
                self.revision = max(self.revision, event.revision)
                return
            bucket, prev = found
            del bucket[key]
            self._count -= 1
            self._changed(prev.namespace)
            gone = _restamp(prev, event.revision)
            self._record(CacheEvent(DELETED, gone, prev))

    def _changed(self, namespace: str) -> None:
        # Only the lists an object is in change: all namespaces, and its own.
        for ns in (None, namespace):
            self._sorted.pop(ns, None)
            self._joined.pop(ns, None)

    def _find(self, key: str) -> tuple[dict[str, CachedObject], CachedObject] | None:
        for bucket in self._objects.values():
            if key in bucket:
                return bucket, bucket[key]
        return None

    def _record(self, event: CacheEvent) -> None:
        self.revision = max(self.revision, event.revision)
        window = self._window
        if len(window) >= self._window_size:
            self._floor = window.popleft().revision
        window.append(event)
        stuck = [w for w in self._watchers if not w._deliver(event)]
        for watcher in stuck:
            log.info("ending a watcher of %s that fell behind", self.prefix)
            watcher._end()
            self._watchers.discard(watcher)

    def _wake(self) -> None:
        if not self._waiters:
            return
        waiting = []
        for revision, future in self._waiters:
            if revision <= self.revision:
                if not future.done():
                    future.set_result(None)
            else:
                waiting.append((revision, future))
        self._waiters = waiting


def _key(obj: CachedObject) -> str:
    return obj.key


def _restamp(obj: CachedObject, revision: int) -> CachedObject:
    """``obj`` as a DELETED event carries it: its last state at the delete's revision."""
    data = obj.decode()
    data.setdefault("metadata", {})["resourceVersion"] = str(revision)
    return cached(obj.key, data, revision, lambda _o: obj.fields)


class _RevisionView:
    """A read-only sequence of the window's revisions, for bisect."""

    __slots__ = ("_window",)

    def __init__(self, window: deque[CacheEvent]) -> None:
        self._window = window

    def __len__(self) -> int:
        return len(self._window)

    def __getitem__(self, i: int) -> int:
        return self._window[i].revision
