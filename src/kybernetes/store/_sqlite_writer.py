"""The single writer of the embedded store: one thread, one connection, group commit.

Theory of operation. Writers on the event loop submit requests and await a future; the
requests of one loop iteration travel to the thread together. The writer thread takes
everything that has arrived, applies it in one transaction (each
request still checked on its own against the state its predecessors in the batch left:
create-if-absent, compare-and-swap on the mod revision, not-found), commits once (one
fsync for the whole batch), and only then hands the outcomes and the batch's events back
to the loop in one ``on_commit`` call. So an acknowledged write is durable, revisions are
assigned in commit order, and watchers see events exactly as committed.

The checks read an in-memory index of every live key's (mod revision, create revision),
as etcd keeps its key index in memory: a create needs no read at all, an update or a
delete one rowid lookup (the previous value, for its event). The index changes only with
the rows the writer itself appends, so it cannot drift from the file; it costs about a
hundred bytes per key.

A request that fails its check costs nothing and does not disturb the others; an SQLite
error rolls the whole batch back (and the index with it) and fails every request in it
with :class:`Unavailable`.

Compaction is a writer job too: it records the new compaction revision in a batch
transaction (from then on reads below it raise Compacted, so deleting is safe), then
deletes superseded rows in bounded steps between write batches, so writes never wait for
a whole compaction.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import sqlite3
import threading
from collections.abc import Callable
from typing import Any

from kybernetes.store._errors import (
    AlreadyExists,
    Conflict,
    FutureRevision,
    NotFound,
    StoreError,
    Unavailable,
)
from kybernetes.store._protocol import Deleted, Event, EventType, KeyValue

log = logging.getLogger(__name__)

CREATE, UPDATE, DELETE, COMPACT = range(4)

#: (op, key, value, expected revision or compaction target, future)
Request = tuple[int, str, bytes, int, "asyncio.Future[Any]"]
#: (future, KeyValue | Deleted | None | StoreError)
Completion = tuple["asyncio.Future[Any]", object]
#: Called on the writer thread after each commit: completions, events, head, compact_rev.
OnCommit = Callable[[list[Completion], list[Event], int, int], None]

#: Revisions of history examined per compaction step (one short transaction each).
COMPACT_STEP = 5000

_VALUE_SQL = "SELECT value FROM log WHERE rev = ?"
_INSERT_SQL = (
    "INSERT INTO log (rev, key, create_rev, prev_rev, deleted, value) VALUES (?, ?, ?, ?, ?, ?)"
)


class Writer:
    def __init__(
        self,
        conn: sqlite3.Connection,
        head: int,
        compact_rev: int,
        compact_done: int,
        latest: dict[str, tuple[int, int]],
    ) -> None:
        self._conn = conn
        self._latest = latest
        # The index entries a batch replaced, to put back if the batch rolls back.
        self._undo: dict[str, tuple[int, int] | None] = {}
        self._head = head
        self._compact_rev = compact_rev
        self._compact_done = compact_done
        self._compact_waiters: list[asyncio.Future[Any]] = []
        # Deletion steps are pending (false again once done, or after a failed step until
        # the next compact() asks again: no busy loop on a full disk).
        self._compacting = compact_done < compact_rev
        # Requests submitted during one event-loop iteration travel to the thread as one
        # list, handed over once the iteration's other callbacks have run: the thread wakes
        # once per batch rather than per request, and does not fight the loop for the GIL
        # while the loop is still producing the batch.
        self._submitted: list[Request] = []
        self._queue: queue.SimpleQueue[list[Request] | None] = queue.SimpleQueue()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._on_commit: OnCommit | None = None
        self._thread = threading.Thread(target=self._run, name="kyb-sqlite-writer", daemon=True)

    def start(self, on_commit: OnCommit) -> None:
        """Start the thread; ``submit`` and ``stop`` are then called on this event loop."""
        self._loop = asyncio.get_running_loop()
        self._on_commit = on_commit
        self._thread.start()

    def submit(self, request: Request) -> None:
        if not self._submitted:
            assert self._loop is not None
            self._loop.call_soon(self._hand_over)
        self._submitted.append(request)

    def _hand_over(self) -> None:
        if self._submitted:
            self._queue.put(self._submitted)
            self._submitted = []

    def stop(self) -> None:
        """Ask the thread to finish what was submitted and exit (join with ``join``)."""
        self._hand_over()
        self._queue.put(None)

    def join(self) -> None:
        self._thread.join()

    # -- the thread ------------------------------------------------------------------

    def _run(self) -> None:
        try:
            running = True
            while running:
                if self._compacting:
                    try:
                        first = self._queue.get_nowait()
                    except queue.Empty:
                        self._compact_step()
                        continue
                else:
                    first = self._queue.get()
                batch: list[Request] = []
                item = first
                while item is not None:
                    batch += item
                    try:
                        item = self._queue.get_nowait()
                    except queue.Empty:
                        break
                else:
                    running = False
                if batch:
                    self._apply(batch)
                if self._compacting:
                    self._compact_step()  # one step per batch: progress under steady load
        finally:
            self._fail_waiters(Unavailable("the store was closed during compaction"))
            self._conn.close()

    def _apply(self, batch: list[Request]) -> None:
        cur = self._conn.cursor()
        start = self._head, self._compact_rev, len(self._compact_waiters), self._compacting
        completions: list[Completion] = []
        events: list[Event] = []
        rows: list[tuple[int, bytes, int, int, int, bytes]] = []
        try:
            cur.execute("BEGIN IMMEDIATE")
            for op, key, value, expected, fut in batch:
                try:
                    if op == COMPACT:
                        completions.extend(self._start_compaction(cur, expected, fut))
                    else:
                        outcome = self._write(cur, op, key, value, expected, events, rows)
                        completions.append((fut, outcome))
                except StoreError as e:
                    completions.append((fut, e))
            # The checks need no rows from the file (the key index answers them), so the
            # batch's rows go in with one executemany.
            cur.executemany(_INSERT_SQL, rows)
            cur.execute("COMMIT")
        except Exception as e:  # any failure fails the batch, never the thread
            log.exception("store write batch failed")
            self._rollback()
            for key, entry in self._undo.items():
                if entry is None:
                    self._latest.pop(key, None)
                else:
                    self._latest[key] = entry
            self._head, self._compact_rev, waiting, self._compacting = start
            del self._compact_waiters[waiting:]
            error = Unavailable(f"store write failed: {e}")
            completions = [(req[4], error) for req in batch]
            events = []
        self._undo.clear()
        self._deliver(completions, events)

    def _write(
        self,
        cur: sqlite3.Cursor,
        op: int,
        key: str,
        value: bytes,
        expected: int,
        out: list[Event],
        rows: list[tuple[int, bytes, int, int, int, bytes]],
    ) -> KeyValue | Deleted:
        latest = self._latest.get(key)
        rev = self._head + 1
        if op == CREATE:
            if latest is not None:
                raise AlreadyExists(key)
            rows.append((rev, key.encode(), rev, 0, 0, value))
            self._head = rev
            self._set(key, (rev, rev))
            kv = KeyValue(key, value, rev, rev)
            out.append(Event(EventType.PUT, kv, None))
            return kv
        if latest is None:
            raise NotFound(key)
        mod, create = latest
        if expected and mod != expected:
            raise Conflict(key, expected, mod)
        if rows and mod >= rows[0][0]:  # written earlier in this batch: not in the file yet
            prev_value = rows[mod - rows[0][0]][5]
        else:
            (prev_value,) = cur.execute(_VALUE_SQL, (mod,)).fetchone()
        prev = KeyValue(key, prev_value, create, mod)
        if op == UPDATE:
            rows.append((rev, key.encode(), create, mod, 0, value))
            self._head = rev
            self._set(key, (rev, create))
            kv = KeyValue(key, value, create, rev)
            out.append(Event(EventType.PUT, kv, prev))
            return kv
        rows.append((rev, key.encode(), create, mod, 1, b""))
        self._head = rev
        self._set(key, None)
        out.append(Event(EventType.DELETE, KeyValue(key, b"", 0, rev), prev))
        return Deleted(rev, prev)

    def _set(self, key: str, entry: tuple[int, int] | None) -> None:
        if key not in self._undo:
            self._undo[key] = self._latest.get(key)
        if entry is None:
            del self._latest[key]
        else:
            self._latest[key] = entry

    def _start_compaction(
        self, cur: sqlite3.Cursor, target: int, fut: asyncio.Future[Any]
    ) -> list[Completion]:
        if target > self._head:
            raise FutureRevision(target, self._head)
        if target > self._compact_rev:
            cur.execute("UPDATE meta SET value = ? WHERE name = 'compact_rev'", (target,))
            self._compact_rev = target
        if self._compact_done >= self._compact_rev:
            return [(fut, None)]
        self._compacting = True
        self._compact_waiters.append(fut)
        return []

    def _compact_step(self) -> None:
        """Delete the rows superseded below compact_rev in the next window of history.

        A row is superseded when a newer row of its key lies below compact_rev: exactly
        the rows that the rows of the window name as ``prev_rev``. Deletion rows below
        compact_rev go too (and the value they removed, being their ``prev_rev``).
        Everything at or above compact_rev, and the newest row below it of every live
        key (the state at compact_rev, and the previous value of the next event), stays.
        """
        lo = self._compact_done
        hi = min(lo + COMPACT_STEP, self._compact_rev)
        cur = self._conn.cursor()
        try:
            cur.execute("BEGIN IMMEDIATE")
            cur.execute(
                "DELETE FROM log WHERE rev IN"
                " (SELECT prev_rev FROM log WHERE rev >= ? AND rev < ? AND prev_rev > 0)",
                (lo, hi),
            )
            cur.execute("DELETE FROM log WHERE rev >= ? AND rev < ? AND deleted = 1", (lo, hi))
            cur.execute("UPDATE meta SET value = ? WHERE name = 'compact_done'", (hi,))
            cur.execute("COMMIT")
        except sqlite3.Error as e:
            log.exception("store compaction step failed")
            self._rollback()
            self._compacting = False  # the next compact() resumes from compact_done
            self._fail_waiters(Unavailable(f"store compaction failed: {e}"))
            return
        self._compact_done = hi
        if hi >= self._compact_rev:
            self._compacting = False
            waiters, self._compact_waiters = self._compact_waiters, []
            self._deliver([(f, None) for f in waiters], [])

    def _rollback(self) -> None:
        try:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
        except sqlite3.Error:
            log.exception("store rollback failed")

    def _fail_waiters(self, error: StoreError) -> None:
        waiters, self._compact_waiters = self._compact_waiters, []
        if waiters:
            self._deliver([(f, error) for f in waiters], [])

    def _deliver(self, completions: list[Completion], events: list[Event]) -> None:
        assert self._on_commit is not None
        self._on_commit(completions, events, self._head, self._compact_rev)
