"""Informers: a local, indexed, always-converging copy of one resource, with notifications.

Theory of operation:

* :meth:`Informer.run` lists (paginated) and then watches from the list's resourceVersion,
  resuming across streams (:mod:`._watch`). When the watch reports 410 (history gone) it
  lists again; on any other failure, or a 410 before any event arrived, it backs off
  (0.8 s doubling to 30 s) and lists again. It runs until cancelled.
* The :class:`~._cache.Cache` is updated first, then handlers are called, so a handler that
  reads the cache sees at least the state it is told about. Per object, handlers see
  changes in the order the server made them.
* Handler semantics survive relists: after a relist the informer compares the new list
  with its cache and delivers ``on_add`` for new objects, ``on_update(old, new)`` for
  objects whose resourceVersion changed, and ``on_delete`` with a
  :class:`DeletedFinalStateUnknown` (the last state it knew) for objects that vanished while
  it was not watching. A watch event for a delete it already knows nothing about is dropped.
* Handlers are plain functions that should only enqueue keys (level-triggered controllers
  read the cache when they work). A handler that raises is logged and does not disturb the
  informer or the other handlers, except when it mutated a cached object: that stops the
  informer with :class:`~._frozen.CachedObjectMutation`. A handler added to an informer
  that already has objects gets ``on_add`` for each of them first.
* Resync: a handler with a ``resync_period`` gets ``on_update(obj, obj)`` for every cached
  object each period (no API traffic), the safety net of level-triggered controllers.
* :meth:`Informer.has_synced` turns true once the first list is in the cache and stays true.
* **Objects handed out (cache reads and handler arguments) are shared: never mutate them.**
  With ``freeze`` (or ``KYB_CLIENT_FREEZE=1``) they are deep-frozen and a mutation raises.
* :class:`~._factory.SharedInformerFactory` shares one informer (one list+watch) among
  every controller of a process.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any

from kybernetes.api import ResourceInfo
from kybernetes.client._cache import Cache, IndexFunc, Object, object_key
from kybernetes.client._clock import Clock, sleep_or_event
from kybernetes.client._errors import WatchExpired
from kybernetes.client._frozen import CachedObjectMutation, freeze_by_default
from kybernetes.client._paths import object_meta
from kybernetes.client._rest import RESTClient
from kybernetes.client._watch import ADDED, DEFAULT_WATCH_TIMEOUT, DELETED, MODIFIED, WatchEvent

log = logging.getLogger("kyb.client.informer")

_BACKOFF_START = 0.8
_BACKOFF_MAX = 30.0


@dataclass(frozen=True, slots=True)
class DeletedFinalStateUnknown:
    """An object deleted while the informer was not watching; ``obj`` is its last known state."""

    key: str
    obj: Object


OnAdd = Callable[[Object], None]
OnUpdate = Callable[[Object, Object], None]
OnDelete = Callable[[Object | DeletedFinalStateUnknown], None]


@dataclass(eq=False)
class EventHandler:
    """A registration returned by :meth:`Informer.add_event_handler`."""

    on_add: OnAdd | None = None
    on_update: OnUpdate | None = None
    on_delete: OnDelete | None = None
    resync_period: float | None = None
    next_resync: float = field(default=0.0, repr=False)


def _rv(obj: Mapping[str, Any]) -> str:
    return str(object_meta(obj).get("resourceVersion") or "")


class Informer:
    def __init__(
        self,
        client: RESTClient,
        resource: ResourceInfo,
        *,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
        indexers: Mapping[str, IndexFunc] | None = None,
        resync_period: float | None = None,
        page_size: int = 500,
        watch_timeout: int = DEFAULT_WATCH_TIMEOUT,
        freeze: bool | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.client = client
        self.resource = resource
        self.namespace = namespace
        self.label_selector = label_selector
        self.field_selector = field_selector
        self.resync_period = resync_period
        self.page_size = page_size
        self.watch_timeout = watch_timeout
        self._clock = clock or client.clock
        self._cache = Cache(indexers, freeze=freeze_by_default() if freeze is None else freeze)
        self._handlers: list[EventHandler] = []
        self._handlers_changed = asyncio.Event()
        self._synced = asyncio.Event()
        self._running = False
        self.last_sync_resource_version = ""

    @property
    def cache(self) -> Cache:
        """The local store (read it; never write to it or to its objects)."""
        return self._cache

    def has_synced(self) -> bool:
        return self._synced.is_set()

    async def wait_for_sync(self) -> None:
        await self._synced.wait()

    def add_indexer(self, name: str, func: IndexFunc) -> None:
        self._cache.add_indexer(name, func)

    def add_event_handler(
        self,
        on_add: OnAdd | None = None,
        on_update: OnUpdate | None = None,
        on_delete: OnDelete | None = None,
        *,
        resync_period: float | None = None,
    ) -> EventHandler:
        period = resync_period if resync_period is not None else self.resync_period
        handler = EventHandler(on_add, on_update, on_delete, period or None)
        if handler.resync_period:
            handler.next_resync = self._clock.now() + handler.resync_period
        for obj in self._cache.list():
            self._call(handler.on_add, obj)
        self._handlers.append(handler)
        self._handlers_changed.set()
        return handler

    def remove_event_handler(self, handler: EventHandler) -> None:
        self._handlers.remove(handler)
        self._handlers_changed.set()

    async def run(self) -> None:
        """List, watch and resync until cancelled."""
        if self._running:
            raise RuntimeError(f"informer for {self.resource.group_resource} is already running")
        self._running = True
        try:
            async with asyncio.TaskGroup() as tasks:
                tasks.create_task(self._resync_loop())
                await self._list_and_watch()
        except BaseExceptionGroup as group:
            # One failure stops both loops; raise it as itself, not wrapped.
            if len(group.exceptions) == 1:
                raise group.exceptions[0] from None
            raise
        finally:
            self._running = False

    async def _list_and_watch(self) -> None:
        failures = 0
        while True:
            watched = False
            try:
                rv = await self._relist()
                async with aclosing(
                    self.client.watch(
                        self.resource,
                        resource_version=rv,
                        namespace=self.namespace,
                        label_selector=self.label_selector,
                        field_selector=self.field_selector,
                        timeout_seconds=self.watch_timeout,
                    )
                ) as events:
                    async for event in events:
                        watched = True
                        failures = 0
                        self._apply(event)
            except WatchExpired:
                log.info("%s: watch history expired; relisting", self.resource.group_resource)
                if watched:
                    continue
                error: Exception = WatchExpired({"message": "expired at once"})
            except CachedObjectMutation:
                raise
            except Exception as e:
                error = e
            # Back off, so a server that keeps failing (or keeps answering 410 right after
            # a list) is not hammered with lists.
            delay = min(_BACKOFF_START * 2**failures, _BACKOFF_MAX)
            failures += 1
            log.warning(
                "%s: list/watch failed (%s); retrying in %.1fs",
                self.resource.group_resource,
                error,
                delay,
            )
            await self._clock.sleep(delay)

    async def _relist(self) -> str:
        listing = await self.client.list_all(
            self.resource,
            namespace=self.namespace,
            label_selector=self.label_selector,
            field_selector=self.field_selector,
            page_size=self.page_size,
        )
        items: list[Object] = listing.get("items") or []
        for item in items:
            # List items omit kind and apiVersion; watch objects carry them. Make the cache
            # uniform (these dicts were just decoded: nobody else holds them).
            item.setdefault("kind", self.resource.kind)
            item.setdefault("apiVersion", self.resource.api_version)
        self._replace(items)
        rv = str(object_meta(listing).get("resourceVersion") or "")
        self.last_sync_resource_version = rv
        self._synced.set()
        return rv

    def _replace(self, items: list[Object]) -> None:
        seen: set[str] = set()
        for obj in items:
            key = object_key(obj)
            seen.add(key)
            known = self._cache.get(key)
            if known is None:
                _, stored = self._cache.store(obj)
                self._dispatch_add(stored)
            elif _rv(known) != _rv(obj):
                old, stored = self._cache.store(obj)
                assert old is not None
                self._dispatch_update(old, stored)
        for key in self._cache.keys():  # noqa: SIM118 (a copy: we remove while iterating)
            if key not in seen:
                gone = self._cache.remove(key)
                assert gone is not None
                self._dispatch_delete(DeletedFinalStateUnknown(key, gone))

    def _apply(self, event: WatchEvent) -> None:
        if event.resource_version:
            self.last_sync_resource_version = event.resource_version
        if event.type in (ADDED, MODIFIED):
            old, stored = self._cache.store(event.object)
            if old is None:
                self._dispatch_add(stored)
            else:
                self._dispatch_update(old, stored)
        elif event.type == DELETED:
            if self._cache.remove(object_key(event.object)) is not None:
                self._dispatch_delete(self._cache.prepare(event.object))
        else:
            log.warning("%s: ignoring watch event %r", self.resource.group_resource, event.type)

    def _dispatch_add(self, obj: Object) -> None:
        for handler in list(self._handlers):
            self._call(handler.on_add, obj)

    def _dispatch_update(self, old: Object, new: Object) -> None:
        for handler in list(self._handlers):
            self._call(handler.on_update, old, new)

    def _dispatch_delete(self, obj: Object | DeletedFinalStateUnknown) -> None:
        for handler in list(self._handlers):
            self._call(handler.on_delete, obj)

    def _call(self, func: Callable[..., None] | None, *args: Any) -> None:
        if func is None:
            return
        try:
            func(*args)
        except CachedObjectMutation:
            raise  # a bug to surface, not a handler hiccup to log
        except Exception:
            log.exception("%s: event handler %r failed", self.resource.group_resource, func)

    async def _resync_loop(self) -> None:
        while True:
            self._handlers_changed.clear()
            periodic = [h for h in self._handlers if h.resync_period]
            if not periodic:
                await self._handlers_changed.wait()
                continue
            now = self._clock.now()
            earliest = min(h.next_resync for h in periodic)
            if earliest > now:
                await sleep_or_event(self._clock, self._handlers_changed, earliest - now)
                continue
            for handler in periodic:
                if handler.next_resync <= now and handler.resync_period:
                    handler.next_resync = now + handler.resync_period
                    if self.has_synced():
                        for obj in self._cache.list():
                            self._call(handler.on_update, obj, obj)
