"""Helpers for tests that read store watches: collect events with a bound that only stops
a hung test (nothing asserts on timing)."""

from __future__ import annotations

import asyncio

from kybernetes.store import Event, Watch

#: Seconds before a test that waits for events gives up.
WAIT = 30.0


async def collect(watch: Watch, count: int) -> list[Event]:
    """Read batches until at least ``count`` events arrived; return them all."""
    it = watch.__aiter__()
    events: list[Event] = []
    async with asyncio.timeout(WAIT):
        while len(events) < count:
            events.extend(await it.__anext__())
    return events


async def collect_until(watch: Watch, revision: int) -> list[Event]:
    """Read batches until an event at ``revision`` or later arrived; return them all."""
    it = watch.__aiter__()
    events: list[Event] = []
    async with asyncio.timeout(WAIT):
        while not events or events[-1].revision < revision:
            events.extend(await it.__anext__())
    return events
