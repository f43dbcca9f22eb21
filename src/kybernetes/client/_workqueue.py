"""The rate-limited work queue controllers feed keys into and workers take keys from.

Theory of operation (upstream's guarantees):

* **Fair and deduplicated.** Keys come out in the order they were added; a key added
  again while it waits is not queued twice.
* **Never two workers on one key.** :meth:`WorkQueue.get` marks the key *processing*
  until :meth:`WorkQueue.done`. A key added while it is processing is only remembered
  (*dirty*) and queued again when ``done`` is called, so the change is never lost and the
  key is never worked on concurrently.
* **Delays.** :meth:`WorkQueue.add_after` queues a key once a delay has passed on the
  queue's clock (an earlier deadline for a waiting key wins). :meth:`WorkQueue.add_rate_limited`
  delays by the rate limiter: by default 5 ms doubling per failure up to 1000 s for that
  key, and never faster than 10 qps (burst 100) overall. :meth:`WorkQueue.forget` resets a
  key's failures after it succeeds; :meth:`WorkQueue.num_requeues` counts them.
* **Shutdown.** After :meth:`WorkQueue.shutdown` adds are ignored, delayed keys are
  dropped, keys already queued are still handed out, and ``get`` raises :class:`ShutDown`
  once the queue is empty. :meth:`WorkQueue.shutdown_with_drain` also waits until every
  queued and processing key has been ``done``.
* Time comes only from the injectable :class:`~._clock.Clock`; no background task runs:
  ``get`` itself waits for the next delayed key to come due.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections import deque
from collections.abc import Hashable
from typing import Generic, TypeVar

from kybernetes.client._clock import REAL_CLOCK, Clock, sleep_or_event
from kybernetes.client._ratelimit import RateLimiter, default_controller_rate_limiter

T = TypeVar("T", bound=Hashable)


class ShutDown(Exception):
    """The queue was shut down and has nothing left to hand out."""


class WorkQueue(Generic[T]):
    def __init__(
        self,
        *,
        rate_limiter: RateLimiter[T] | None = None,
        clock: Clock = REAL_CLOCK,
        name: str = "",
    ) -> None:
        self.name = name
        self._clock = clock
        self._limiter: RateLimiter[T] = rate_limiter or default_controller_rate_limiter(clock)
        self._queue: deque[T] = deque()
        self._dirty: set[T] = set()
        self._processing: set[T] = set()
        #: key -> when it comes due, and a heap of (due, seq, key) with stale entries.
        self._waiting: dict[T, float] = {}
        self._heap: list[tuple[float, int, T]] = []
        self._seq = itertools.count()
        self._changed = asyncio.Event()
        self._idle = asyncio.Event()
        self._shutting_down = False

    def __len__(self) -> int:
        """Keys queued and ready (not processing, not delayed)."""
        return len(self._queue)

    @property
    def shutting_down(self) -> bool:
        return self._shutting_down

    def add(self, item: T) -> None:
        if self._shutting_down or item in self._dirty:
            return
        self._dirty.add(item)
        if item in self._processing:
            return  # queued again by done()
        self._queue.append(item)
        self._changed.set()

    def add_after(self, item: T, delay: float) -> None:
        if self._shutting_down:
            return
        if delay <= 0:
            self.add(item)
            return
        due = self._clock.now() + delay
        current = self._waiting.get(item)
        if current is not None and current <= due:
            return
        self._waiting[item] = due
        heapq.heappush(self._heap, (due, next(self._seq), item))
        self._changed.set()  # a getter may need to wake earlier than it planned

    def add_rate_limited(self, item: T) -> None:
        self.add_after(item, self._limiter.when(item))

    def forget(self, item: T) -> None:
        self._limiter.forget(item)

    def num_requeues(self, item: T) -> int:
        return self._limiter.num_requeues(item)

    async def get(self) -> T:
        """The next key, marked processing until :meth:`done`. Raises :class:`ShutDown`."""
        while True:
            self._promote_due()
            if self._queue:
                item = self._queue.popleft()
                self._processing.add(item)
                self._dirty.discard(item)
                return item
            if self._shutting_down:
                raise ShutDown(self.name)
            self._changed.clear()
            timeout = None
            if self._waiting:
                timeout = max(self._heap[0][0] - self._clock.now(), 0.0)
            await sleep_or_event(self._clock, self._changed, timeout)

    def done(self, item: T) -> None:
        if item not in self._processing:
            return
        self._processing.discard(item)
        if item in self._dirty:
            self._queue.append(item)
            self._changed.set()
        self._check_idle()

    def shutdown(self) -> None:
        self._shutting_down = True
        self._waiting.clear()
        self._heap.clear()
        self._changed.set()
        self._check_idle()

    async def shutdown_with_drain(self) -> None:
        """Shut down, then wait until every queued and processing key is done."""
        self.shutdown()
        await self._idle.wait()

    def _check_idle(self) -> None:
        if self._shutting_down and not self._queue and not self._processing:
            self._idle.set()

    def _promote_due(self) -> None:
        now = self._clock.now()
        while self._heap and self._heap[0][0] <= now:
            due, _, item = heapq.heappop(self._heap)
            if self._waiting.get(item) == due:
                del self._waiting[item]
                self.add(item)
        # Drop stale heap tops (superseded by an earlier deadline) so the timeout is right.
        while self._heap and self._waiting.get(self._heap[0][2]) != self._heap[0][0]:
            heapq.heappop(self._heap)
