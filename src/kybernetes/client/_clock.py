"""Clocks: the one place the client reads time or sleeps.

Theory of operation: everything in :mod:`kybernetes.client` that waits (rate limits, work
queue delays and backoff, watch reconnects, leader election, event aggregation) takes a
:class:`Clock`. :class:`RealClock` is monotonic time plus :func:`asyncio.sleep`.
:class:`FakeClock` never moves by itself: :meth:`FakeClock.advance` moves it and wakes, in
deadline order, exactly the sleepers whose deadline has passed, so tests are deterministic
and never sleep in real time. ``wall()`` (timestamps written into objects) moves together
with ``now()`` on both clocks.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Monotonic seconds: only differences mean anything."""
        ...

    def wall(self) -> datetime:
        """The current time of day (aware, UTC), for timestamps in objects."""
        ...

    async def sleep(self, seconds: float) -> None: ...


class RealClock:
    def now(self) -> float:
        return time.monotonic()

    def wall(self) -> datetime:
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(seconds, 0.0))


REAL_CLOCK = RealClock()

_EPOCH = datetime(2025, 1, 1, tzinfo=UTC)


class FakeClock:
    """A clock for tests: time stands still until :meth:`advance`."""

    def __init__(self, start: datetime = _EPOCH) -> None:
        self._now = 0.0
        self._start = start
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()
        self._sleeping = asyncio.Event()

    def now(self) -> float:
        return self._now

    def wall(self) -> datetime:
        return self._start + timedelta(seconds=self._now)

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self._now + seconds, next(self._seq), future))
        self._sleeping.set()
        await future

    @property
    def sleepers(self) -> int:
        """How many tasks are asleep on this clock right now."""
        return sum(1 for _, _, f in self._sleepers if not f.done())

    def next_deadline(self) -> float | None:
        """When the earliest sleeper wakes (None if nobody sleeps)."""
        for deadline, _, future in sorted(self._sleepers):
            if not future.done():
                return deadline
        return None

    def advance(self, seconds: float) -> None:
        """Move time forward and wake every sleeper whose deadline is now past."""
        if seconds < 0:
            raise ValueError("a clock does not go backwards")
        self._now += seconds
        while self._sleepers and self._sleepers[0][0] <= self._now:
            _, _, future = heapq.heappop(self._sleepers)
            if not future.done():
                future.set_result(None)

    def advance_to_next(self) -> float:
        """Advance to the earliest sleeper's deadline; returns how far time moved."""
        deadline = self.next_deadline()
        if deadline is None:
            raise RuntimeError("nobody is sleeping on this clock")
        step = max(deadline - self._now, 0.0)
        self.advance(step)
        return step

    async def wait_sleepers(self, count: int = 1) -> None:
        """Return once at least ``count`` tasks are asleep on this clock."""
        while self.sleepers < count:
            self._sleeping.clear()
            await self._sleeping.wait()


async def sleep_or_event(
    clock: Clock,
    event: asyncio.Event,
    timeout: float | None,  # noqa: ASYNC109 (on the given clock, not the loop's)
) -> bool:
    """Wait until ``event`` is set or ``timeout`` seconds pass on ``clock``.

    Returns whether the event is set. ``timeout=None`` waits for the event only.
    """
    if event.is_set():
        return True
    if timeout is None:
        await event.wait()
        return True
    if timeout <= 0:
        return event.is_set()
    waiter = asyncio.ensure_future(event.wait())
    sleeper = asyncio.ensure_future(clock.sleep(timeout))
    try:
        await asyncio.wait({waiter, sleeper}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (waiter, sleeper):
            task.cancel()
        # Reap the cancelled helpers so none is left pending when we return.
        await asyncio.gather(waiter, sleeper, return_exceptions=True)
    return event.is_set()
