"""RevisionReader: concurrent callers share store reads, and no answer is older than its ask."""

from __future__ import annotations

import asyncio

import pytest

from kybernetes.apiserver._revision import RevisionReader
from kybernetes.store import Unavailable


class FakeStore:
    """A revision that writes advance; each read answers the revision at its start, and
    completes only when the test releases it."""

    def __init__(self) -> None:
        self.revision = 1
        self.reads = 0
        self.started = asyncio.Event()
        self.release: asyncio.Future[None] | None = None
        self.fail: BaseException | None = None

    async def read(self) -> int:
        self.reads += 1
        seen = self.revision
        self.release = asyncio.get_running_loop().create_future()
        self.started.set()
        await self.release
        if self.fail is not None:
            raise self.fail
        return seen

    async def finish_read(self) -> None:
        """Wait for a read to be in flight, then complete it."""
        await self.started.wait()
        self.started.clear()
        assert self.release is not None
        self.release.set_result(None)


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_callers_during_a_read_share_the_next_one_and_see_later_writes() -> None:
    store = FakeStore()
    reader = RevisionReader(store.read)
    first = asyncio.create_task(reader.current())
    await store.started.wait()
    store.revision = 7  # a write acknowledged while the first read is in flight
    late = [asyncio.create_task(reader.current()) for _ in range(10)]
    await _settle()
    store.started.clear()
    assert store.release is not None
    store.release.set_result(None)
    assert await first == 1
    await store.finish_read()
    # The late callers asked after the write: none may get the in-flight read's answer.
    assert await asyncio.gather(*late) == [7] * 10
    assert store.reads == 2


async def test_a_lone_caller_reads_once() -> None:
    store = FakeStore()
    reader = RevisionReader(store.read)
    task = asyncio.create_task(reader.current())
    await store.finish_read()
    assert await task == 1
    task = asyncio.create_task(reader.current())
    await store.finish_read()
    assert await task == 1
    assert store.reads == 2


async def test_a_cancelled_leader_passes_its_callers_to_a_new_read() -> None:
    store = FakeStore()
    reader = RevisionReader(store.read)
    first = asyncio.create_task(reader.current())
    await store.started.wait()
    leaving = asyncio.create_task(reader.current())
    staying = asyncio.create_task(reader.current())
    await _settle()
    await store.finish_read()
    assert await first == 1
    # ``leaving`` now leads the second read, for itself and ``staying``; it leaves mid-read.
    await store.started.wait()
    store.started.clear()
    store.revision = 3
    leaving.cancel()
    await _settle()
    await store.finish_read()
    assert await staying == 3
    with pytest.raises(asyncio.CancelledError):
        await leaving
    assert store.reads == 3


async def test_a_store_error_fails_that_read_only() -> None:
    store = FakeStore()
    reader = RevisionReader(store.read)
    leader = asyncio.create_task(reader.current())
    await store.started.wait()
    store.started.clear()
    store.fail = Unavailable("down")
    queued = asyncio.create_task(reader.current())
    await _settle()
    assert store.release is not None
    store.release.set_result(None)
    with pytest.raises(Unavailable):
        await leader
    # ``queued`` asked after the failing read began: it gets a read of its own.
    store.fail = None
    await store.finish_read()
    assert await queued == 1
    task = asyncio.create_task(reader.current())
    await store.finish_read()
    assert await task == 1


async def test_a_caller_handed_the_lead_while_cancelled_passes_it_on() -> None:
    store = FakeStore()
    reader = RevisionReader(store.read)
    leader = asyncio.create_task(reader.current())
    await store.started.wait()
    store.started.clear()
    doomed = asyncio.create_task(reader.current())
    survivor = asyncio.create_task(reader.current())
    await _settle()
    assert store.release is not None
    store.release.set_result(None)
    await asyncio.sleep(0)  # the leader resumes and hands the lead to ``doomed``...
    doomed.cancel()  # ...which is cancelled before it runs
    assert await leader == 1
    store.revision = 5
    await store.finish_read()
    assert await survivor == 5
    with pytest.raises(asyncio.CancelledError):
        await doomed
    assert store.reads == 2
