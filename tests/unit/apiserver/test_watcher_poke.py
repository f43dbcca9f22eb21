"""Watcher.poke: a wake-up without an event, never in the way of events or the end."""

from __future__ import annotations

import asyncio

from kybernetes.apiserver._watchcache import TICK, Watcher


async def test_poke_queues_a_tick_and_never_fails() -> None:
    w = Watcher(after=0, queue=asyncio.Queue(2))
    w.poke()
    assert w.queue.get_nowait() is TICK
    w.poke()
    w.poke()
    w.poke()  # full: dropped, the consumer has entries to wake it anyway
    assert w.queue.qsize() == 2
    w._end()
    assert w.ended
    drained = [w.queue.get_nowait() for _ in range(w.queue.qsize())]
    assert drained[-1] is None
    w.poke()  # ended: nothing more is queued after the end marker
    assert w.queue.empty()
