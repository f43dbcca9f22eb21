"""The embedded store: etcd's MVCC semantics on one SQLite file.

:class:`SqliteStore` implements :class:`~kybernetes.store.Store` with every guarantee in
that protocol's docstring. How the pieces share the work:

* ``_sqlite_db``: the file (one append-only revision log), the checks at open and the
  read queries, each answered from a single WAL snapshot.
* ``_sqlite_writer``: the one writer thread with group commit; durable before
  acknowledged (WAL, ``synchronous=FULL``).
* ``_sqlite_watch``: watchers fed straight from each committed batch, replaying history
  first when they start in the past; slow ones are dropped.

Point reads (``get``) run on the event loop's own connection: one index descent costs
less than a hand-off to a thread. Ranges and watch replays, which may read many rows, run
on a small pool of reader threads, each with its own connection. A lock file
(``PATH-lock``) keeps a second process from opening the same store. Compaction runs on
request and periodically (every ``compact_interval`` seconds, keeping the newest
``compact_keep`` revisions).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from kybernetes.store import _sqlite_db as db
from kybernetes.store._errors import InvalidKey, StoreError, Unavailable, ValueTooLarge
from kybernetes.store._protocol import (
    DEFAULT_MAX_VALUE_SIZE,
    Deleted,
    Event,
    KeyValue,
    RangeResult,
)
from kybernetes.store._sqlite_watch import SqliteWatch, WatchHub
from kybernetes.store._sqlite_writer import (
    COMPACT,
    CREATE,
    DELETE,
    UPDATE,
    Completion,
    Writer,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Reader threads (the machine this targets has two cores; SQLite releases the GIL).
READERS = 2
#: A watcher whose unread events exceed this is dropped.
WATCH_BUFFER = 10_000


def check_key(key: object) -> str:
    """Return ``key`` if it is a valid store key, else raise InvalidKey."""
    if not isinstance(key, str) or not key.startswith("/"):
        raise InvalidKey(f"invalid key {key!r}: keys are strings that start with '/'")
    if "\0" in key:
        raise InvalidKey(f"invalid key {key!r}: keys must not contain NUL")
    try:
        key.encode()
    except UnicodeEncodeError as e:
        raise InvalidKey(f"invalid key {key!r}: not encodable as UTF-8") from e
    return key


def _check_start(start: object) -> None:
    """Any UTF-8 string may start a range (continuing after key K means K + NUL)."""
    try:
        if isinstance(start, str):
            start.encode()
            return
    except UnicodeEncodeError:
        pass
    raise InvalidKey(f"invalid range start {start!r}: not a UTF-8 string")


def _check_revision(revision: int) -> None:
    if revision < 0:
        raise ValueError(f"revision must be >= 0, got {revision}")


class SqliteStore:
    """The embedded MVCC store (see the module docstring)."""

    def __init__(
        self,
        path: str,
        lock_fd: int,
        loop_conn: sqlite3.Connection,
        writer: Writer,
        head: int,
        compact_rev: int,
        *,
        max_value_size: int,
        watch_buffer: int,
    ) -> None:
        self._path = path
        self._lock_fd = lock_fd
        self._loop = asyncio.get_running_loop()
        self._writer = writer
        self._max_value_size = max_value_size
        self._compact_rev = compact_rev
        self._closed = False
        self._loop_conn = loop_conn
        self._readers = ThreadPoolExecutor(READERS, thread_name_prefix="kyb-sqlite-read")
        self._local = threading.local()
        self._reader_conns: list[sqlite3.Connection] = []
        self._reader_lock = threading.Lock()
        self._hub = WatchHub(head, self._read_events, watch_buffer)
        self._compactor: asyncio.Task[None] | None = None

    @classmethod
    async def open(
        cls,
        path: str,
        *,
        max_value_size: int = DEFAULT_MAX_VALUE_SIZE,
        compact_interval: float = 300.0,
        compact_keep: int = 1000,
        watch_buffer: int = WATCH_BUFFER,
    ) -> SqliteStore:
        """Open (creating it and its parent directories if needed) the store at ``path``.

        Raises CorruptStore, leaving the file untouched, if it is not a sound store;
        Unavailable if another process has it open. ``compact_interval <= 0`` turns the
        periodic compaction off.
        """
        opened = await asyncio.to_thread(cls._open_files, path)
        path, lock_fd, loop_conn, writer, head, compact_rev = opened
        store = cls(
            path,
            lock_fd,
            loop_conn,
            writer,
            head,
            compact_rev,
            max_value_size=max_value_size,
            watch_buffer=watch_buffer,
        )
        writer.start(store._committed)
        if compact_interval > 0:
            store._compactor = asyncio.create_task(
                store._compact_periodically(compact_interval, compact_keep),
                name=f"kyb-sqlite-compactor {path}",
            )
        return store

    @staticmethod
    def _open_files(path: str) -> tuple[str, int, sqlite3.Connection, Writer, int, int]:
        path = os.path.abspath(path)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        lock_path = path + "-lock"
        new_lock = not os.path.exists(lock_path)
        lock_fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise Unavailable(f"{path} is in use by another process") from None
            db.check_file(path)
            conn = db.connect(path)
            try:
                head, compact_rev, compact_done = db.init_writer(conn)
                latest = db.load_latest(conn)
                loop_conn = db.connect(path)
            except BaseException:
                conn.close()
                raise
        except BaseException:
            os.close(lock_fd)
            if new_lock:  # a store that does not open leaves nothing behind
                with contextlib.suppress(OSError):
                    os.unlink(lock_path)
            raise
        return (
            path,
            lock_fd,
            loop_conn,
            Writer(conn, head, compact_rev, compact_done, latest),
            head,
            compact_rev,
        )

    # -- reads -------------------------------------------------------------------------

    async def get(self, key: str, *, revision: int = 0) -> KeyValue:
        check_key(key)
        _check_revision(revision)
        self._check_open()
        # A point read is one index descent, mostly from the page cache: answered right
        # here it costs a tenth of the CPU of a round trip through a reader thread.
        try:
            return db.read_get(self._loop_conn, key, revision)
        except sqlite3.Error as e:
            if self._loop_conn.in_transaction:
                self._loop_conn.execute("ROLLBACK")
            raise Unavailable(f"store read failed: {e}") from e

    async def range(
        self,
        prefix: str,
        *,
        start: str | None = None,
        limit: int = 0,
        revision: int = 0,
    ) -> RangeResult:
        check_key(prefix)
        if start is not None:
            _check_start(start)
        if limit < 0:
            raise ValueError(f"limit must be >= 0, got {limit}")
        _check_revision(revision)
        return await self._read(db.read_range, prefix, start, limit, revision)

    async def current_revision(self) -> int:
        self._check_open()
        return self._hub.published

    async def compacted_revision(self) -> int:
        self._check_open()
        return max(self._compact_rev - 1, 0)

    def watch(self, prefix: str, *, start_revision: int = 0) -> SqliteWatch:
        check_key(prefix)
        _check_revision(start_revision)
        self._check_open()
        return self._hub.watch(prefix, start_revision)

    async def _read_events(
        self, prefix: str, first: int, last: int, limit: int
    ) -> tuple[list[Event], int, bool]:
        return await self._read(db.read_events, prefix, first, last, limit)

    async def _read(self, fn: Callable[..., T], *args: Any) -> T:
        self._check_open()
        try:
            return await self._loop.run_in_executor(self._readers, self._call, fn, args)
        except RuntimeError as e:  # the executor was shut down by close()
            raise Unavailable(f"store {self._path} is closed") from e

    def _call(self, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
        """On a reader thread: run ``fn`` with this thread's connection."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = db.connect(self._path)
            with self._reader_lock:
                self._reader_conns.append(conn)
            self._local.conn = conn
        try:
            return fn(conn, *args)
        except sqlite3.Error as e:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise Unavailable(f"store read failed: {e}") from e

    # -- writes ------------------------------------------------------------------------

    async def create(self, key: str, value: bytes) -> KeyValue:
        result: KeyValue = await self._submit(CREATE, key, value, 0)
        return result

    async def update(self, key: str, value: bytes, *, expected_revision: int) -> KeyValue:
        result: KeyValue = await self._submit(UPDATE, key, value, expected_revision)
        return result

    async def delete(self, key: str, *, expected_revision: int = 0) -> Deleted:
        result: Deleted = await self._submit(DELETE, key, b"", expected_revision)
        return result

    async def compact(self, revision: int) -> None:
        _check_revision(revision)
        self._check_open()
        fut: asyncio.Future[None] = self._loop.create_future()
        self._writer.submit((COMPACT, "", b"", revision, fut))
        await fut

    def _submit(self, op: int, key: str, value: bytes, expected: int) -> asyncio.Future[Any]:
        check_key(key)
        if not isinstance(value, bytes):
            raise TypeError(f"value must be bytes, not {type(value).__name__}")
        if len(value) > self._max_value_size:
            raise ValueTooLarge(key, len(value), self._max_value_size)
        _check_revision(expected)
        self._check_open()
        fut: asyncio.Future[Any] = self._loop.create_future()
        self._writer.submit((op, key, value, expected, fut))
        return fut

    def _committed(
        self, completions: list[Completion], events: list[Event], head: int, compact_rev: int
    ) -> None:
        """Writer thread, after each commit: hand the results over to the loop."""
        with contextlib.suppress(RuntimeError):  # the loop is gone: nobody is waiting
            self._loop.call_soon_threadsafe(self._complete, completions, events, head, compact_rev)

    def _complete(
        self, completions: list[Completion], events: list[Event], head: int, compact_rev: int
    ) -> None:
        self._compact_rev = compact_rev
        self._hub.publish(events, head)
        for fut, outcome in completions:
            if fut.done():
                continue  # the caller gave up; the write stands, like etcd's
            if isinstance(outcome, BaseException):
                fut.set_exception(outcome)
            else:
                fut.set_result(outcome)

    # -- compaction and lifetime ---------------------------------------------------------

    async def _compact_periodically(self, interval: float, keep: int) -> None:
        while True:
            await asyncio.sleep(interval)
            target = self._hub.published - keep
            if target > self._compact_rev:
                try:
                    await self.compact(target)
                except StoreError as e:
                    log.warning("periodic compaction of %s failed: %s", self._path, e)

    def _check_open(self) -> None:
        if self._closed:
            raise Unavailable(f"store {self._path} is closed")

    async def close(self) -> None:
        """Stop compaction, end open watches, finish queued writes and release the file."""
        if self._closed:
            return
        self._closed = True
        if self._compactor is not None:
            self._compactor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._compactor
        self._hub.close()
        self._writer.stop()
        await asyncio.to_thread(self._writer.join)
        await asyncio.to_thread(self._readers.shutdown, True)
        for conn in [self._loop_conn, *self._reader_conns]:
            conn.close()
        os.close(self._lock_fd)
