"""What only the embedded SQLite store promises: acknowledged writes survive kill -9, a bad
file is refused without being touched, one process per store file, data and compaction
survive a restart, and periodic compaction runs on its own.

Watch-specific SQLite behaviour (slow watchers, compaction racing replays, group commit)
is in ``test_sqlite_watch.py``.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
import textwrap
from pathlib import Path

import pytest
from tests.support.store_watch import WAIT

from kybernetes.store import Compacted, CorruptStore, NotFound, Unavailable
from kybernetes.store._sqlite import SqliteStore

# The writer child: 8 concurrent writers create keys forever and print "KEY REVISION" for
# each acknowledged create, flushing after every line.
_WRITER = textwrap.dedent(
    """
    import asyncio, sys
    from kybernetes.store._sqlite import SqliteStore

    async def main(path):
        store = await SqliteStore.open(path)
        async def writer(w):
            i = 0
            while True:
                key = f"/durable/w{w}/{i:08d}"
                kv = await store.create(key, b"v" * 200 + key.encode())
                sys.stdout.write(f"{key} {kv.mod_revision}\\n")
                sys.stdout.flush()
                i += 1
        await asyncio.gather(*(writer(w) for w in range(8)))

    asyncio.run(main(sys.argv[1]))
    """
)


async def test_acknowledged_writes_survive_kill_9(tmp_path: Path) -> None:
    path = str(tmp_path / "store.db")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _WRITER, path, stdout=asyncio.subprocess.PIPE
    )
    acked: dict[str, int] = {}
    try:
        assert proc.stdout is not None
        async with asyncio.timeout(WAIT):
            while len(acked) < 400:
                first = await proc.stdout.readline()
                assert first, "the writer exited early"
                key, rev = first.decode().split()
                acked[key] = int(rev)
        os.kill(proc.pid, signal.SIGKILL)  # mid-stream: writes are still in flight
        # Lines already in the pipe were acknowledged too (the last one may be cut short).
        rest, _ = await proc.communicate()
        for line in rest.decode().splitlines():
            key, _, rev = line.partition(" ")
            if rev.strip().isdigit():
                acked[key] = int(rev)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == -signal.SIGKILL

    store = await SqliteStore.open(path, compact_interval=0)
    try:
        stored = {kv.key: kv for kv in (await store.range("/durable/")).kvs}
        assert await store.current_revision() >= max(acked.values())
        next_kv = await store.create("/durable/after", b"x")
    finally:
        await store.close()
    for key, revision in acked.items():
        assert key in stored, f"acknowledged {key} at revision {revision} was lost"
        assert stored[key].mod_revision == revision
        assert stored[key].value.endswith(key.encode())
    assert next_kv.mod_revision > max(kv.mod_revision for kv in stored.values())


def _a_store_with_data(path: Path) -> None:
    async def fill() -> None:
        store = await SqliteStore.open(str(path), compact_interval=0)
        try:
            await asyncio.gather(
                *(store.create(f"/data/{i:04d}", os.urandom(300)) for i in range(300))
            )
        finally:
            await store.close()

    asyncio.run(fill())


@pytest.fixture
def damaged(tmp_path: Path, request: pytest.FixtureRequest) -> Path:
    path = tmp_path / "store.db"
    kind = request.param
    if kind == "random bytes":
        path.write_bytes(os.urandom(64 * 1024))
    elif kind == "text":
        path.write_text("apiVersion: v1\nkind: Config\n")
    elif kind == "foreign database":
        conn = sqlite3.connect(path)
        conn.execute("CREATE TABLE photos (id INTEGER PRIMARY KEY, data BLOB)")
        conn.commit()
        conn.close()
    elif kind == "damaged pages":
        _a_store_with_data(path)
        size = path.stat().st_size
        with path.open("r+b") as f:  # scribble over pages in the middle, keep the header
            f.seek(size // 3)
            f.write(os.urandom(size // 3))
    elif kind == "truncated":
        _a_store_with_data(path)
        os.truncate(path, path.stat().st_size // 2)
    return path


@pytest.mark.parametrize(
    "damaged",
    ["random bytes", "text", "foreign database", "damaged pages", "truncated"],
    indirect=True,
)
async def test_a_bad_file_raises_corrupt_store_and_is_left_untouched(damaged: Path) -> None:
    before = _contents(damaged)
    with pytest.raises(CorruptStore) as e:
        await SqliteStore.open(str(damaged))
    assert str(damaged) in str(e.value)
    assert _contents(damaged) == before


def _contents(path: Path) -> tuple[bytes, list[str]]:
    """The file's bytes, and the names of every file beside it but the lock."""
    return path.read_bytes(), sorted(
        p.name for p in path.parent.iterdir() if p.name[-5:] != "-lock"
    )


async def test_reopening_keeps_data_revisions_and_compaction(tmp_path: Path) -> None:
    path = str(tmp_path / "nested" / "dirs" / "store.db")  # parents are created
    store = await SqliteStore.open(path, compact_interval=0)
    try:
        a = await store.create("/r/a", b"1")
        a = await store.update("/r/a", b"2", expected_revision=a.mod_revision)
        b = await store.create("/r/b", b"1")
        await store.compact(a.mod_revision)
        head = await store.current_revision()
    finally:
        await store.close()
    store = await SqliteStore.open(path, compact_interval=0)
    try:
        assert await store.current_revision() == head
        assert await store.compacted_revision() == a.mod_revision - 1
        assert (await store.range("/r/")).kvs == [a, b]
        with pytest.raises(Compacted):
            await store.get("/r/a", revision=a.mod_revision - 1)
        c = await store.create("/r/c", b"1")
        assert c.mod_revision == head + 1
    finally:
        await store.close()


async def test_a_second_open_of_the_same_file_is_refused(tmp_path: Path) -> None:
    path = str(tmp_path / "store.db")
    store = await SqliteStore.open(path)
    try:
        with pytest.raises(Unavailable):
            await SqliteStore.open(path)
        await store.create("/still/works", b"x")
    finally:
        await store.close()
    again = await SqliteStore.open(path)  # released by close()
    await again.close()


async def test_close_ends_watches_and_refuses_further_calls(tmp_path: Path) -> None:
    store = await SqliteStore.open(str(tmp_path / "store.db"))
    watch = store.watch("/w/")
    live = watch.__aiter__()
    pending = asyncio.ensure_future(live.__anext__())
    await asyncio.sleep(0)  # the watch is waiting for events
    await store.close()
    with pytest.raises(StopAsyncIteration):
        async with asyncio.timeout(WAIT):
            await pending
    with pytest.raises(Unavailable):
        await store.create("/w/a", b"x")
    with pytest.raises(Unavailable):
        await store.get("/w/a")
    await store.close()  # idempotent


async def test_periodic_compaction_keeps_the_newest_revisions(tmp_path: Path) -> None:
    store = await SqliteStore.open(
        str(tmp_path / "store.db"), compact_interval=0.01, compact_keep=10
    )
    try:
        kv = await store.create("/p/a", b"0")
        first = kv.mod_revision
        for i in range(1, 40):
            kv = await store.update("/p/a", b"%d" % i, expected_revision=kv.mod_revision)
        async with asyncio.timeout(WAIT):
            # Nothing announces a periodic compaction; its outcome is polled.
            while await store.compacted_revision() < kv.mod_revision - 11:  # noqa: ASYNC110
                await asyncio.sleep(0.01)
        assert await store.compacted_revision() == kv.mod_revision - 11
        with pytest.raises(Compacted):
            await store.get("/p/a", revision=first)
        assert (await store.get("/p/a", revision=kv.mod_revision - 10)).value == b"29"
        assert await store.get("/p/a") == kv
    finally:
        await store.close()


async def test_deleted_keys_stay_deleted_after_compaction_and_reopen(tmp_path: Path) -> None:
    path = str(tmp_path / "store.db")
    store = await SqliteStore.open(path, compact_interval=0)
    try:
        for i in range(50):
            await store.create(f"/d/{i:02d}", b"x")
        for i in range(0, 50, 2):
            await store.delete(f"/d/{i:02d}")
        await store.compact(await store.current_revision())
    finally:
        await store.close()
    store = await SqliteStore.open(path, compact_interval=0)
    try:
        result = await store.range("/d/")
        assert [kv.key for kv in result.kvs] == [f"/d/{i:02d}" for i in range(1, 50, 2)]
        assert result.count == 25
        with pytest.raises(NotFound):
            await store.get("/d/00")
    finally:
        await store.close()
