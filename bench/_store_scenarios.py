"""The measurements of bench/store.py, each one short "chunk" of work on one backend.

A chunk is small (a fraction of a second) so that the runner can alternate backends
chunk by chunk: load from outside the benchmark then falls on all of them alike.
Update and get chunks work on the keys the create chunk before them wrote.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from _store_backends import Backend

CONCURRENCY = 64
WATCHERS = 100
VALUE = b"v" * 1024


@dataclass
class Chunk:
    """One backend's work for one chunk: sizes, and the keys its create steps wrote."""

    base: str
    sequential: int
    concurrent: int
    ranges: int
    watch_events: int
    range_prefix: str
    range_keys: int
    revs: dict[str, int] = field(default_factory=dict)

    def keys(self, kind: str, n: int) -> list[str]:
        return [f"{self.base}{kind}/{i:06d}" for i in range(n)]


@dataclass
class Sample:
    rate: float
    latencies: list[float] = field(default_factory=list)


async def pool(items: Sequence[Any], op: Callable[[Any], Awaitable[Any]]) -> Sample:
    """Run ``op`` over ``items`` with CONCURRENCY in flight."""
    latencies: list[float] = []
    it = iter(items)

    async def worker() -> None:
        for item in it:
            t = time.perf_counter()
            await op(item)
            latencies.append(time.perf_counter() - t)

    t0 = time.perf_counter()
    async with asyncio.TaskGroup() as tg:
        for _ in range(CONCURRENCY):
            tg.create_task(worker())
    return Sample(len(items) / (time.perf_counter() - t0), latencies)


async def seq_create(b: Backend, c: Chunk) -> Sample:
    keys = c.keys("seq", c.sequential)
    t = time.perf_counter()
    for k in keys:
        c.revs[k] = await b.create(k, VALUE)
    return Sample(len(keys) / (time.perf_counter() - t))


async def seq_update(b: Backend, c: Chunk) -> Sample:
    keys = c.keys("seq", c.sequential)
    t = time.perf_counter()
    for k in keys:
        c.revs[k] = await b.update(k, VALUE, c.revs[k])
    return Sample(len(keys) / (time.perf_counter() - t))


async def seq_get(b: Backend, c: Chunk) -> Sample:
    keys = c.keys("seq", c.sequential)
    t = time.perf_counter()
    for k in keys:
        await b.get(k)
    return Sample(len(keys) / (time.perf_counter() - t))


async def conc_create(b: Backend, c: Chunk) -> Sample:
    async def create(k: str) -> None:
        c.revs[k] = await b.create(k, VALUE)

    return await pool(c.keys("conc", c.concurrent), create)


async def conc_update(b: Backend, c: Chunk) -> Sample:
    async def update(k: str) -> None:
        c.revs[k] = await b.update(k, VALUE, c.revs[k])  # one writer per key: no conflicts

    return await pool(c.keys("conc", c.concurrent), update)


async def conc_get(b: Backend, c: Chunk) -> Sample:
    return await pool(c.keys("conc", c.concurrent), b.get)


async def fill_range(b: Backend, prefix: str, keys: int) -> None:
    await pool([f"{prefix}{i:06d}" for i in range(keys)], lambda k: b.create(k, VALUE))


async def range_1000(b: Backend, c: Chunk) -> Sample:
    t = time.perf_counter()
    for _ in range(c.ranges):
        got = await b.range(c.range_prefix)
        assert got == c.range_keys, got
    return Sample(c.ranges / (time.perf_counter() - t))


async def watch_100(b: Backend, c: Chunk) -> Sample:
    """Events delivered per second to WATCHERS watchers of one prefix, from the first write
    until the last watcher has every event (writes go CONCURRENCY at a time)."""
    prefix = f"{c.base}watch/"
    start = await b.current_revision() + 1
    warmed = 0
    all_warm = asyncio.Event()
    finished: list[float] = []

    async def watcher() -> None:
        nonlocal warmed
        got = 0
        async with contextlib.aclosing(b.watch(prefix, start)) as stream:
            async for n in stream:
                if got == 0:
                    warmed += 1
                    if warmed == WATCHERS:
                        all_warm.set()
                got += n
                if got >= c.watch_events + 1:
                    finished.append(time.perf_counter())
                    return

    async with asyncio.timeout(120), asyncio.TaskGroup() as tg:
        for _ in range(WATCHERS):
            tg.create_task(watcher())
        # One event every watcher has received proves every stream is open before timing.
        await b.create(f"{prefix}warmup", VALUE)
        await all_warm.wait()
        t0 = time.perf_counter()
        keys = [f"{prefix}{i:06d}" for i in range(c.watch_events)]
        await pool(keys, lambda k: b.create(k, VALUE))
    return Sample(c.watch_events * WATCHERS / (max(finished) - t0))


#: (name, label, unit, measurement), in the order they run within a chunk.
SCENARIOS: list[tuple[str, str, str, Callable[[Backend, Chunk], Awaitable[Sample]]]] = [
    ("seq_create", "sequential create", "ops/s", seq_create),
    ("seq_update", "sequential update", "ops/s", seq_update),
    ("seq_get", "sequential get", "ops/s", seq_get),
    ("conc_create", f"create, {CONCURRENCY} in flight", "ops/s", conc_create),
    ("conc_update", f"update, {CONCURRENCY} in flight", "ops/s", conc_update),
    ("conc_get", f"get, {CONCURRENCY} in flight", "ops/s", conc_get),
    ("range_1000", "range of 1,000 keys", "ranges/s", range_1000),
    ("watch_100", f"watch, {WATCHERS} watchers", "events/s", watch_100),
]
