"""An in-memory :class:`kybernetes.store.Store` for unit tests of the API server layers.

It keeps the full history (so reads at past revisions and watches from the past work),
honours compaction, and delivers watch events synchronously into per-watcher queues.
Not a backend: no durability, no limits beyond the protocol's semantics.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

from kybernetes.store import (
    AlreadyExists,
    Compacted,
    Conflict,
    Deleted,
    Event,
    EventType,
    FutureRevision,
    KeyValue,
    NotFound,
    RangeResult,
)


class _Watch:
    def __init__(self, store: MemoryStore, prefix: str) -> None:
        self.store = store
        self.prefix = prefix
        self.queue: asyncio.Queue[list[Event] | Exception | None] = asyncio.Queue()

    def __aiter__(self) -> AsyncIterator[Sequence[Event]]:
        return self._iter()

    async def _iter(self) -> AsyncIterator[Sequence[Event]]:
        while True:
            batch = await self.queue.get()
            if batch is None:
                return
            if isinstance(batch, Exception):
                raise batch
            yield batch

    async def close(self) -> None:
        self.store.watches.discard(self)
        self.queue.put_nowait(None)


class MemoryStore:
    def __init__(self) -> None:
        self.revision = 1  # etcd starts at 1
        self.compacted = 0
        #: every event ever, in revision order
        self.log: list[Event] = []
        self.live: dict[str, KeyValue] = {}
        self.watches: set[_Watch] = set()

    def _state_at(self, revision: int) -> dict[str, KeyValue]:
        if revision == 0 or revision == self.revision:
            return self.live
        if revision < self.compacted:
            raise Compacted(revision, self.compacted)
        if revision > self.revision:
            raise FutureRevision(revision, self.revision)
        state: dict[str, KeyValue] = {}
        for event in self.log:
            if event.revision > revision:
                break
            if event.type is EventType.PUT:
                state[event.kv.key] = event.kv
            else:
                state.pop(event.kv.key, None)
        return state

    def _emit(self, event: Event) -> None:
        self.log.append(event)
        for watch in list(self.watches):
            if event.kv.key.startswith(watch.prefix):
                watch.queue.put_nowait([event])

    async def get(self, key: str, *, revision: int = 0) -> KeyValue:
        kv = self._state_at(revision).get(key)
        if kv is None:
            raise NotFound(key)
        return kv

    async def range(
        self, prefix: str, *, start: str | None = None, limit: int = 0, revision: int = 0
    ) -> RangeResult:
        at = revision or self.revision
        state = self._state_at(revision)
        keys = sorted(k for k in state if k.startswith(prefix))
        count = len(keys)
        if start is not None:
            keys = [k for k in keys if k >= start]
        more = bool(limit) and len(keys) > limit
        if limit:
            keys = keys[:limit]
        return RangeResult([state[k] for k in keys], at, more, count)

    async def create(self, key: str, value: bytes) -> KeyValue:
        if key in self.live:
            raise AlreadyExists(key)
        self.revision += 1
        kv = KeyValue(key, value, self.revision, self.revision)
        self.live[key] = kv
        self._emit(Event(EventType.PUT, kv, None))
        return kv

    async def update(self, key: str, value: bytes, *, expected_revision: int) -> KeyValue:
        prev = self.live.get(key)
        if prev is None:
            raise NotFound(key)
        if expected_revision and prev.mod_revision != expected_revision:
            raise Conflict(key, expected_revision, prev.mod_revision)
        self.revision += 1
        kv = KeyValue(key, value, prev.create_revision, self.revision)
        self.live[key] = kv
        self._emit(Event(EventType.PUT, kv, prev))
        return kv

    async def delete(self, key: str, *, expected_revision: int = 0) -> Deleted:
        prev = self.live.get(key)
        if prev is None:
            raise NotFound(key)
        if expected_revision and prev.mod_revision != expected_revision:
            raise Conflict(key, expected_revision, prev.mod_revision)
        self.revision += 1
        del self.live[key]
        self._emit(Event(EventType.DELETE, KeyValue(key, b"", 0, self.revision), prev))
        return Deleted(self.revision, prev)

    def watch(self, prefix: str, *, start_revision: int = 0) -> _Watch:
        if start_revision and start_revision <= self.compacted:
            raise Compacted(start_revision, self.compacted)
        watch = _Watch(self, prefix)
        if start_revision:
            for event in self.log:
                if event.revision >= start_revision and event.kv.key.startswith(prefix):
                    watch.queue.put_nowait([event])
        self.watches.add(watch)
        return watch

    def fail_watches(self, error: Exception) -> None:
        """End every open watch with ``error`` (as a backend does when it drops one)."""
        for watch in list(self.watches):
            self.watches.discard(watch)
            watch.queue.put_nowait(error)

    async def current_revision(self) -> int:
        return self.revision

    async def compacted_revision(self) -> int:
        return self.compacted

    async def compact(self, revision: int) -> None:
        self.compacted = max(self.compacted, revision)

    async def close(self) -> None:
        for watch in list(self.watches):
            await watch.close()
