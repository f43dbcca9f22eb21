"""SQLite watch fan-out and the writer under load: a slow watcher is dropped while others
keep receiving, compaction never makes a replaying watcher skip events, and group commit
keeps every request's own check under 64 concurrent writers (and rolls a failed batch back
whole).
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from tests.support.store_watch import WAIT, collect

from kybernetes.store import (
    Compacted,
    Conflict,
    Event,
    KeyValue,
    Unavailable,
    WatchDropped,
    _sqlite_watch,
    _sqlite_writer,
)
from kybernetes.store._sqlite import SqliteStore


@pytest.fixture
async def small_pages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[SqliteStore]:
    """A store whose watch replays read 10 events per page (many pages, many chances)."""
    monkeypatch.setattr(_sqlite_watch, "PAGE_SIZE", 10)
    store = await SqliteStore.open(str(tmp_path / "store.db"), compact_interval=0)
    try:
        yield store
    finally:
        await store.close()


async def _history(store: SqliteStore, keys: int, rounds: int) -> list[KeyValue]:
    """``keys`` keys under /h/, each written ``rounds`` times (the keys of a round at once).

    Returns every write in revision order: one revision per write, each key's writes in
    successive rounds.
    """
    kvs = await asyncio.gather(*(store.create(f"/h/{i:02d}", b"0") for i in range(keys)))
    written = list(kvs)
    for r in range(1, rounds):
        kvs = await asyncio.gather(
            *(store.update(kv.key, b"%d" % r, expected_revision=kv.mod_revision) for kv in kvs)
        )
        written += kvs
    return sorted(written, key=lambda kv: kv.mod_revision)


async def test_a_slow_watcher_is_dropped_while_a_fast_one_keeps_receiving(
    tmp_path: Path,
) -> None:
    store = await SqliteStore.open(str(tmp_path / "store.db"), watch_buffer=50)
    slow, fast = store.watch("/w/"), store.watch("/w/")
    try:
        received: list[Event] = []
        written = []
        for i in range(200):  # the slow watcher reads nothing meanwhile
            written.append(await store.create(f"/w/{i:03d}", b"x"))
            received += await collect(fast, 1)
        with pytest.raises(WatchDropped):
            async with asyncio.timeout(WAIT):
                async for _ in slow:
                    pass
        assert [e.kv for e in received] == written
        # After the drop the consumer resumes from a revision it knows, as etcd's would.
        resumed = store.watch("/w/", start_revision=written[0].mod_revision)
        try:
            assert [e.kv for e in await collect(resumed, 200)] == written
        finally:
            await resumed.close()
    finally:
        await slow.close()
        await fast.close()
        await store.close()


async def test_compaction_past_a_replaying_watcher_raises_compacted(
    small_pages: SqliteStore,
) -> None:
    store = small_pages
    written = await _history(store, keys=5, rounds=10)
    watch = store.watch("/h/", start_revision=written[0].mod_revision)
    try:
        it = watch.__aiter__()
        first = await it.__anext__()
        assert [e.kv for e in first] == written[:10]  # one page of the replay
        await store.compact(written[30].mod_revision)
        with pytest.raises(Compacted):
            async with asyncio.timeout(WAIT):
                await it.__anext__()
    finally:
        await watch.close()


async def test_compaction_behind_a_replaying_watcher_loses_nothing(
    small_pages: SqliteStore,
) -> None:
    store = small_pages
    written = await _history(store, keys=5, rounds=10)
    watch = store.watch("/h/", start_revision=written[0].mod_revision)
    try:
        it = watch.__aiter__()
        events = list(await it.__anext__())
        await store.compact(events[-1].revision + 1)  # exactly where the replay goes on
        events += await collect(watch, len(written) - len(events))
    finally:
        await watch.close()
    assert [e.kv for e in events] == written
    last: dict[str, KeyValue] = {}
    for e in events:  # each event's previous value is its key's write before it
        assert e.prev == last.get(e.kv.key)
        last[e.kv.key] = e.kv


async def test_replaying_watchers_racing_compactions_never_skip_events(
    small_pages: SqliteStore,
) -> None:
    store = small_pages
    written = await _history(store, keys=10, rounds=30)
    revisions = [kv.mod_revision for kv in written]
    rng = random.Random(7)
    starts = sorted(rng.sample(revisions[:150], 12))
    watches = [store.watch("/h/", start_revision=s) for s in starts]
    seen: list[list[int]] = [[] for _ in starts]
    compacted = [False] * len(starts)

    async def next_page(i: int) -> None:
        try:
            seen[i] += [e.revision for e in await watches[i].__aiter__().__anext__()]
        except Compacted:
            compacted[i] = True

    try:
        target = revisions[0]
        async with asyncio.timeout(WAIT):
            while True:
                active = [i for i in range(len(starts)) if not compacted[i]]
                active = [i for i in active if not seen[i] or seen[i][-1] != revisions[-1]]
                if not active:
                    break
                # Each round, compaction and one replay page of every watcher run at once.
                target = min(target + rng.randrange(5, 25), revisions[-1])
                await asyncio.gather(store.compact(target), *(next_page(i) for i in active))
    finally:
        for w in watches:
            await w.close()
    for start, got, was_compacted in zip(starts, seen, compacted, strict=True):
        # Whatever arrived is the exact, gapless history from the start revision on.
        expected = revisions[revisions.index(start) :]
        assert got == expected[: len(got)]
        assert was_compacted or got == expected
    assert any(compacted) and not all(compacted)  # both outcomes really happened


async def test_a_commit_between_the_last_replay_page_and_going_live_is_delivered(
    small_pages: SqliteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = small_pages
    written = await _history(store, keys=2, rounds=2)
    hub = store._hub
    read = hub.read
    sneaked: list[KeyValue] = []

    async def read_then_write(*args: Any) -> Any:
        page = await read(*args)
        if not sneaked:  # commits after the page's snapshot, before the watcher goes live
            sneaked.append(await store.create("/h/sneaked", b"x"))
        return page

    monkeypatch.setattr(hub, "read", read_then_write)
    watch = store.watch("/h/", start_revision=written[0].mod_revision)
    try:
        events = await collect(watch, len(written) + 1)
        later = await store.create("/h/later", b"x")
        events += await collect(watch, 1)
    finally:
        await watch.close()
    assert [e.kv for e in events] == [*written, *sneaked, later]


async def test_replay_hands_over_to_live_events_without_gap_under_writes(
    small_pages: SqliteStore,
) -> None:
    store = small_pages
    written = await _history(store, keys=10, rounds=5)
    more: list[KeyValue] = []

    async def writer(w: int) -> None:
        for i in range(20):
            more.append(await store.create(f"/h/live/{w:02d}/{i:02d}", b"x"))
            await asyncio.sleep(0)

    # Watchers start in the past while 16 writers keep committing: each must switch from
    # its replay pages to the live feed at some point in that stream, whatever the timing.
    starts = list(range(0, len(written), 7))
    watches = [store.watch("/h/", start_revision=written[i].mod_revision) for i in starts]
    try:
        async with asyncio.TaskGroup() as tg:
            for w in range(16):
                tg.create_task(writer(w))
            readers = [
                tg.create_task(collect(w, len(written) - i + 16 * 20))
                for w, i in zip(watches, starts, strict=True)
            ]
        everything = sorted(written + more, key=lambda kv: kv.mod_revision)
        for start, reader in zip([written[i] for i in starts], readers, strict=True):
            got = [e.kv for e in reader.result()]
            assert got == everything[everything.index(start) :][: len(got)]
            assert got[-1] == everything[-1]
    finally:
        for watch in watches:
            await watch.close()


async def test_group_commit_checks_every_request_under_64_writers(tmp_path: Path) -> None:
    store = await SqliteStore.open(str(tmp_path / "store.db"), compact_interval=0)
    watch = store.watch("/g/")
    try:
        await store.create("/g/shared", b"0")
        results: list[KeyValue] = []
        conflicts = 0

        async def writer(w: int) -> None:
            nonlocal conflicts
            own = await store.create(f"/g/own/{w:02d}", b"0")
            results.append(own)
            for i in range(1, 10):
                own = await store.update(
                    f"/g/own/{w:02d}", b"%d" % i, expected_revision=own.mod_revision
                )
                results.append(own)
                shared = await store.get("/g/shared")
                try:
                    new = await store.update(
                        "/g/shared",
                        b"%d" % (int(shared.value) + 1),
                        expected_revision=shared.mod_revision,
                    )
                    results.append(new)
                except Conflict:
                    conflicts += 1

        async with asyncio.TaskGroup() as tg:
            for w in range(64):
                tg.create_task(writer(w))
        events = await collect(watch, len(results) + 1)
    finally:
        await watch.close()
        try:
            final = await store.range("/g/")
        finally:
            await store.close()

    revisions = sorted(kv.mod_revision for kv in results)
    assert len(set(revisions)) == len(revisions)  # one revision per acknowledged write
    shared_updates = sum(1 for kv in results if kv.key == "/g/shared")
    assert shared_updates + conflicts == 64 * 9 and conflicts > 0
    assert {kv.key: kv.value for kv in final.kvs} == {
        "/g/shared": b"%d" % shared_updates,
        **{f"/g/own/{w:02d}": b"9" for w in range(64)},
    }
    # The watch saw every acknowledged write once, in commit order, with its own value.
    assert [e.kv for e in events[1:]] == sorted(results, key=lambda kv: kv.mod_revision)


async def test_a_failed_batch_rolls_back_every_request_in_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = await SqliteStore.open(str(tmp_path / "store.db"), compact_interval=0)
    watch = store.watch("/x/")
    try:
        existing = await store.create("/x/existing", b"1")
        write = _sqlite_writer.Writer._write

        def failing(self: _sqlite_writer.Writer, cur: Any, op: int, key: str, *args: Any) -> Any:
            if key == "/x/boom":
                raise sqlite3.OperationalError("disk I/O error (injected)")
            return write(self, cur, op, key, *args)

        monkeypatch.setattr(_sqlite_writer.Writer, "_write", failing)
        # Submitted in one loop iteration, so they travel to the writer as one batch.
        outcomes = await asyncio.gather(
            store.create("/x/new", b"1"),
            store.update("/x/existing", b"2", expected_revision=existing.mod_revision),
            store.create("/x/boom", b"1"),
            return_exceptions=True,
        )
        assert all(isinstance(o, Unavailable) for o in outcomes), outcomes
        monkeypatch.setattr(_sqlite_writer.Writer, "_write", write)

        # Nothing of the batch stayed: not in the file, not in the writer's key index.
        assert (await store.range("/x/")).kvs == [existing]
        new = await store.create("/x/new", b"1")
        assert new.mod_revision == existing.mod_revision + 1
        await store.update("/x/existing", b"2", expected_revision=existing.mod_revision)
        events = await collect(watch, 3)
        assert [e.kv.key for e in events] == ["/x/existing", "/x/new", "/x/existing"]
    finally:
        await watch.close()
        await store.close()
