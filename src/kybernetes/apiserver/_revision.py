"""Reads of the store's current revision, shared by concurrent callers without weakening them.

A consistent read (GET or LIST without ``resourceVersion``) first asks the store for its
current revision, then answers from the watch cache if the cache has reached it. On etcd
that is one round trip per request. :class:`RevisionReader` lets concurrent requests
share round trips while every answer stays linearizable.

Theory of operation. At most one store read is in flight. A caller that finds none in
flight starts one (it *leads*). A caller that finds one in flight cannot use its answer
(it may have been read before the caller's own request arrived), so it queues for the
next read: when the read in flight completes, its leader answers the callers it read for
and hands the lead to the first queued caller, which reads once for itself and every
caller queued before its read starts. So:

* every revision a caller gets was read after the caller asked: it is at least the
  revision of every write acknowledged before the caller asked;
* a caller waits for at most two reads, however many callers there are;
* a leader cancelled mid-read passes its callers on to the next read; a store error
  fails the callers of that read only.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable


class RevisionReader:
    def __init__(self, read: Callable[[], Awaitable[int]]) -> None:
        self._read = read
        self._busy = False
        #: Callers waiting for the next read; a result of None hands them the lead.
        self._queue: list[asyncio.Future[int | None]] = []

    async def current(self) -> int:
        """The store's current revision, read after this call began."""
        if self._busy:
            turn: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()
            self._queue.append(turn)
            try:
                got = await turn
            except asyncio.CancelledError:
                handed_lead = (
                    turn.done()
                    and not turn.cancelled()
                    and turn.exception() is None
                    and turn.result() is None
                )
                if handed_lead:
                    self._hand_off()  # leaving: pass the lead on
                raise
            if got is not None:
                return got
        else:
            self._busy = True
        # Leading: one read for this caller and every caller queued before it starts.
        batch, self._queue = self._queue, []
        try:
            revision = await self._read()
        except asyncio.CancelledError:
            self._queue[:0] = batch
            self._hand_off()
            raise
        except BaseException as e:
            for waiter in batch:
                if not waiter.done():
                    waiter.set_exception(e)
            self._hand_off()
            raise
        for waiter in batch:
            if not waiter.done():
                waiter.set_result(revision)
        self._hand_off()
        return revision

    def _hand_off(self) -> None:
        while self._queue:
            waiter = self._queue.pop(0)
            if not waiter.done():
                waiter.set_result(None)
                return
        self._busy = False
