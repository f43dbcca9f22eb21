"""Watches of the embedded store: history replay, then live events from the writer.

Theory of operation. The writer hands each committed batch's events to :class:`WatchHub`
on the event loop (no polling); the hub filters them once per distinct prefix and appends
the result to every matching watcher's buffer. ``hub.published`` is the newest revision
handed over so far.

A watch starting at or below ``published`` first replays history from the log, a page at
a time, each page read in one snapshot that also checks the compaction revision (so a
concurrent compaction makes the replay raise :class:`Compacted`, never skip events). Once
a page reaches the end of the log, the watcher registers with the hub (synchronously, on
the loop: nothing is published in between) and from then on receives every batch above
``published``; it replays what lies between its position and that point, then serves its
buffer. Every watcher remembers the next revision it owes its consumer and drops anything
below it, so the switch from replay to live has neither a gap nor a duplicate.

Each buffer is bounded: a watcher whose unread events exceed the limit is dropped at once
(its buffer freed, unregistered) and its iterator raises :class:`WatchDropped`. A slow
consumer therefore never blocks the writer or other watchers.
"""

from __future__ import annotations

import asyncio
import weakref
from collections import deque
from collections.abc import Awaitable, Callable, Sequence

from kybernetes.store._errors import Unavailable, WatchDropped
from kybernetes.store._protocol import Event

#: (prefix, first revision, last revision or 0 for "now", limit) -> (events, through, cut)
ReadEvents = Callable[[str, int, int, int], Awaitable[tuple[list[Event], int, bool]]]

#: Events per replay page, and at most this many events per yielded live batch.
PAGE_SIZE = 1000
MAX_BATCH = 5000


class WatchHub:
    """Fans committed events out to registered watchers (event-loop side only)."""

    def __init__(self, published: int, read: ReadEvents, buffer_limit: int) -> None:
        self.published = published
        self.read = read
        self.buffer_limit = buffer_limit
        self.page_size = PAGE_SIZE
        self._by_prefix: dict[str, set[SqliteWatch]] = {}
        self._all: weakref.WeakSet[SqliteWatch] = weakref.WeakSet()
        self.closed = False

    def watch(self, prefix: str, start_revision: int) -> SqliteWatch:
        w = SqliteWatch(self, prefix, start_revision)
        self._all.add(w)
        return w

    def register(self, w: SqliteWatch) -> None:
        self._by_prefix.setdefault(w.prefix, set()).add(w)

    def unregister(self, w: SqliteWatch) -> None:
        watchers = self._by_prefix.get(w.prefix)
        if watchers is not None:
            watchers.discard(w)
            if not watchers:
                del self._by_prefix[w.prefix]

    def publish(self, events: list[Event], head: int) -> None:
        self.published = head
        if not events:
            return
        for prefix, watchers in list(self._by_prefix.items()):
            batch = tuple(e for e in events if e.kv.key.startswith(prefix))
            if batch:
                for w in list(watchers):
                    w.push(batch)

    def close(self) -> None:
        self.closed = True
        for w in list(self._all):
            w.end()


class SqliteWatch:
    """One watch; iterate for batches of events (see the module docstring)."""

    def __init__(self, hub: WatchHub, prefix: str, start_revision: int) -> None:
        self._hub = hub
        self.prefix = prefix
        self._batches: deque[Sequence[Event]] = deque()
        self._pending = 0
        self._waiter: asyncio.Future[None] | None = None
        self._closed = hub.closed
        self._dropped = False
        # Replaying until the log is read up to the point where live delivery took over.
        self._replaying = 0 < start_revision <= hub.published and not self._closed
        self._replay_to = 0  # 0 until registered with the hub
        if self._replaying:
            self._next = start_revision
        else:
            self._next = max(start_revision, hub.published + 1)
            if not self._closed:
                hub.register(self)

    def __aiter__(self) -> SqliteWatch:
        return self

    async def __anext__(self) -> Sequence[Event]:
        while self._replaying:
            events = await self._replay_page()
            if events:
                return events
        while True:
            if self._batches:
                batch = self._take()
                if batch:
                    return batch
                continue
            if self._dropped:
                self._dropped = False
                self._closed = True
                raise WatchDropped(
                    f"watch of {self.prefix!r} fell more than {self._hub.buffer_limit} events"
                    f" behind; resume from revision {self._next}"
                )
            if self._closed:
                raise StopAsyncIteration
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None

    async def close(self) -> None:
        self.end()

    def end(self) -> None:
        """End the watch: the iterator stops after nothing more (idempotent, synchronous)."""
        self._closed = True
        self._replaying = False
        self._batches.clear()
        self._pending = 0
        self._hub.unregister(self)
        self._wake()

    def push(self, batch: Sequence[Event]) -> None:
        """Called by the hub with events of one committed batch under this prefix."""
        if self._closed or self._dropped:
            return
        self._batches.append(batch)
        self._pending += len(batch)
        # Always accept one batch however large; drop only a consumer that is behind.
        if self._pending > self._hub.buffer_limit and len(self._batches) > 1:
            self._dropped = True
            self._batches.clear()
            self._pending = 0
            self._hub.unregister(self)
        self._wake()

    async def _replay_page(self) -> list[Event]:
        if self._closed:
            raise StopAsyncIteration
        try:
            events, through, cut = await self._hub.read(
                self.prefix, self._next, self._replay_to, self._hub.page_size
            )
        except Unavailable:
            if self._closed:
                raise StopAsyncIteration from None
            self.end()
            raise
        except Exception:
            # Compacted or a failed read ends the watch. (A cancelled read is no Exception:
            # it leaves the position as it was, and the next call reads the page again.)
            self.end()
            raise
        if self._closed:
            raise StopAsyncIteration
        self._next = max(self._next, through + 1)
        if not cut:
            if self._replay_to == 0:
                # Caught up with the log: live events above `published` come from the hub;
                # the rest (committed, not yet handed over) is replayed up to it.
                self._hub.register(self)
                self._replay_to = self._hub.published
            if self._next > self._replay_to:
                self._replaying = False
        return events

    def _take(self) -> list[Event] | Sequence[Event]:
        chunks: list[Sequence[Event]] = []
        size = 0
        while self._batches and size < MAX_BATCH:
            batch = self._batches.popleft()
            self._pending -= len(batch)
            if batch[-1].revision < self._next:
                continue
            if batch[0].revision < self._next:
                batch = [e for e in batch if e.revision >= self._next]
            chunks.append(batch)
            size += len(batch)
        if not chunks:
            return ()
        self._next = chunks[-1][-1].revision + 1
        if len(chunks) == 1:
            return chunks[0]
        return [e for chunk in chunks for e in chunk]

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)
