"""The work queue's guarantees and the rate limiters behind add_rate_limited (fake clock)."""

from __future__ import annotations

import asyncio
import random

import pytest
from tests.support.fakekube import eventually

from kybernetes.client import (
    BucketRateLimiter,
    FakeClock,
    ItemExponentialFailureRateLimiter,
    MaxOfRateLimiter,
    ShutDown,
    TokenBucket,
    WorkQueue,
    default_controller_rate_limiter,
)

pytestmark = pytest.mark.timeout(10)


def test_token_bucket_spaces_callers_after_the_burst() -> None:
    clock = FakeClock()
    bucket = TokenBucket(qps=10, burst=3, clock=clock)
    assert [bucket.reserve() for _ in range(3)] == [0, 0, 0]
    assert bucket.reserve() == pytest.approx(0.1)
    assert bucket.reserve() == pytest.approx(0.2)  # queued behind the previous reservation
    clock.advance(0.2)
    assert not bucket.try_take()  # the debt was paid off by exactly this much time
    clock.advance(10)
    assert [bucket.try_take() for _ in range(4)] == [True, True, True, False]  # refills to burst


def test_item_exponential_backoff_and_forget() -> None:
    limiter: ItemExponentialFailureRateLimiter[str] = ItemExponentialFailureRateLimiter()
    assert [limiter.when("a") for _ in range(4)] == [0.005, 0.01, 0.02, 0.04]
    assert limiter.when("b") == 0.005  # per item
    assert limiter.num_requeues("a") == 4
    limiter.forget("a")
    assert limiter.num_requeues("a") == 0 and limiter.when("a") == 0.005
    for _ in range(100):
        last = limiter.when("c")
    assert last == 1000.0  # capped


def test_default_limiter_combines_backoff_with_overall_bucket() -> None:
    clock = FakeClock()
    limiter = default_controller_rate_limiter(clock)
    assert [limiter.when(i) for i in range(100)] == [0.005] * 100  # burst of 100
    assert limiter.when(100) == pytest.approx(0.1)  # then 10 per second overall
    assert limiter.when(101) == pytest.approx(0.2)
    maxof = MaxOfRateLimiter(
        ItemExponentialFailureRateLimiter[str](1.0, 100.0), BucketRateLimiter[str](10, 100)
    )
    assert [maxof.when("x") for _ in range(3)] == [1.0, 2.0, 4.0]
    assert maxof.num_requeues("x") == 3


async def test_fifo_and_deduplicated() -> None:
    q: WorkQueue[str] = WorkQueue(clock=FakeClock())
    for key in ("a", "b", "a", "c", "b"):
        q.add(key)
    assert len(q) == 3
    assert [await q.get() for _ in range(3)] == ["a", "b", "c"]


async def test_key_readded_while_processing_waits_for_done() -> None:
    q: WorkQueue[str] = WorkQueue(clock=FakeClock())
    q.add("a")
    assert await q.get() == "a"
    q.add("a")  # changed again while a worker has it
    q.add("a")
    assert len(q) == 0
    other = asyncio.create_task(q.get())
    await asyncio.sleep(0)
    assert not other.done()  # a second worker does not get it
    q.done("a")
    assert await other == "a"  # processed again after done, once
    q.done("a")
    assert len(q) == 0
    q.done("never-got")  # harmless


async def test_never_two_workers_on_one_key_and_no_change_lost() -> None:
    rng = random.Random(7)
    q: WorkQueue[int] = WorkQueue(clock=FakeClock())
    active: set[int] = set()
    overlaps: list[int] = []
    last_added: dict[int, int] = {}
    last_started: dict[int, int] = {}
    tick = 0

    async def worker() -> None:
        nonlocal tick
        while True:
            try:
                key = await q.get()
            except ShutDown:
                return
            if key in active:
                overlaps.append(key)
            active.add(key)
            tick += 1
            last_started[key] = tick
            for _ in range(rng.randint(0, 3)):
                await asyncio.sleep(0)
            active.discard(key)
            q.done(key)

    workers = [asyncio.create_task(worker()) for _ in range(4)]
    for _ in range(500):
        key = rng.randint(0, 5)
        tick += 1
        last_added[key] = tick
        q.add(key)
        if rng.random() < 0.5:
            await asyncio.sleep(0)
    await q.shutdown_with_drain()
    await asyncio.gather(*workers)
    assert overlaps == []
    # every key was processed (started) after its last add: no change was lost
    assert all(last_started[k] > t for k, t in last_added.items())


async def test_add_after_uses_the_clock() -> None:
    clock = FakeClock()
    q: WorkQueue[str] = WorkQueue(clock=clock)
    q.add_after("late", 10)
    q.add_after("soon", 5)
    q.add_after("late", 20)  # a later deadline does not postpone
    q.add_after("soon", 2)  # an earlier one wins
    q.add_after("now", 0)
    assert await q.get() == "now"
    getter = asyncio.create_task(q.get())
    await clock.wait_sleepers()
    clock.advance(1.9)
    await asyncio.sleep(0)
    assert not getter.done()
    clock.advance(0.1)
    assert await getter == "soon"
    getter = asyncio.create_task(q.get())
    await clock.wait_sleepers()
    assert clock.next_deadline() == 10
    q.add("direct")  # an add wakes a getter waiting for a delayed key
    assert await getter == "direct"
    clock.advance(8)
    assert await q.get() == "late"
    assert len(q) == 0


async def test_add_rate_limited_backs_off_per_item() -> None:
    clock = FakeClock()
    q: WorkQueue[str] = WorkQueue(clock=clock)
    delays = []
    for _ in range(3):
        q.add_rate_limited("k")
        start = clock.now()
        getter = asyncio.create_task(q.get())
        await clock.wait_sleepers()
        clock.advance_to_next()
        assert await getter == "k"
        delays.append(round(clock.now() - start, 6))
        q.done("k")
    assert delays == [0.005, 0.01, 0.02]
    assert q.num_requeues("k") == 3
    q.forget("k")
    assert q.num_requeues("k") == 0


async def test_shutdown_hands_out_what_is_queued_then_stops() -> None:
    clock = FakeClock()
    q: WorkQueue[str] = WorkQueue(clock=clock)
    waiting = asyncio.create_task(q.get())
    await asyncio.sleep(0)
    q.shutdown()
    with pytest.raises(ShutDown):
        await waiting

    q2: WorkQueue[str] = WorkQueue(clock=clock)
    q2.add("a")
    q2.add_after("delayed", 1)
    q2.shutdown()
    q2.add("ignored")
    q2.add_after("ignored", 1)
    assert await q2.get() == "a"
    with pytest.raises(ShutDown):
        await q2.get()
    assert q2.shutting_down


async def test_shutdown_with_drain_waits_for_processing() -> None:
    q: WorkQueue[str] = WorkQueue(clock=FakeClock())
    q.add("a")
    q.add("b")
    assert await q.get() == "a"
    drained = asyncio.create_task(q.shutdown_with_drain())
    await asyncio.sleep(0)
    assert not drained.done()
    assert await q.get() == "b"  # still handed out
    q.done("a")
    await asyncio.sleep(0)
    assert not drained.done()  # b is processing
    q.done("b")
    await eventually(drained.done)
