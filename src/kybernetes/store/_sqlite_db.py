"""The SQLite file of the embedded store: schema, checks at open, and the read queries.

Layout (kine-like MVCC in one append-only table). Every write appends one row to ``log``;
its INTEGER PRIMARY KEY is the write's revision, so the table in rowid order *is* the
history and a watch replay is a rowid range scan. A row holds the key (UTF-8 bytes, so
SQLite's memcmp order is etcd's byte order), the revision that created the key, the
revision of the value it replaced (``prev_rev``, 0 for a creation; this is how events find
their previous value), a deletion flag and the value (empty for a deletion; the value a
deletion removed is the row ``prev_rev`` points at).

Reads find a key's version through the index on ``(key, rev, deleted)`` rather than a
separate "current" table: one row written per request instead of an append plus an
upsert, one read path for "now" and for old revisions alike (the newest row with
``rev <= R``), and the index covers ``count`` of a range and the paging of a range, so
neither touches values. History is bounded by compaction, so the index holds few
superseded entries per key. (The writer checks its requests against an in-memory key
index instead; see ``_sqlite_writer``.)

``meta`` holds the file format, ``compact_rev`` (the oldest revision still readable: reads
and watches below it raise :class:`Compacted`) and ``compact_done`` (how far the deletion
of superseded rows has got, so an interrupted compaction resumes).

The read functions here are synchronous (the store runs ``read_get`` on the event loop,
the others on reader threads); each takes its revision checks and its rows from one read
transaction (one WAL snapshot), so a concurrent compaction either is not visible at all or
makes the read raise :class:`Compacted`.
"""

from __future__ import annotations

import os
import sqlite3
import urllib.parse

from kybernetes.store._errors import Compacted, CorruptStore, FutureRevision, NotFound
from kybernetes.store._protocol import Event, EventType, KeyValue, RangeResult

FORMAT = 1

#: An upper bound above every revision, for "the newest row" lookups.
_MAX_REV = 1 << 62

_SCHEMA = """
CREATE TABLE IF NOT EXISTS log (
    rev INTEGER PRIMARY KEY,
    key BLOB NOT NULL,
    create_rev INTEGER NOT NULL,
    prev_rev INTEGER NOT NULL,
    deleted INTEGER NOT NULL,
    value BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS log_key ON log (key, rev, deleted);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
INSERT OR IGNORE INTO meta VALUES ('format', 1), ('compact_rev', 0), ('compact_done', 0);
"""

_LOG_COLUMNS = ["rev", "key", "create_rev", "prev_rev", "deleted", "value"]

#: The newest row of one key at or below a revision.
_LATEST_SQL = (
    "SELECT rev, create_rev, deleted, value FROM log"
    " WHERE key = ? AND rev <= ? ORDER BY rev DESC LIMIT 1"
)

_HEAD_SQL = (
    "SELECT (SELECT value FROM meta WHERE name = 'compact_rev'),"
    " (SELECT COALESCE(MAX(rev), 0) FROM log)"
)

# The newest row per key in [lo, hi) at or below a revision, unless it is a deletion:
# SQLite takes the bare ``deleted`` column from the row that holds MAX(rev), straight from
# the covering index. Paging (LIMIT) happens here, before any value is read.
_LIVE_PER_KEY = (
    "SELECT key AS k, MAX(rev) AS r, deleted AS d FROM log"
    " WHERE key >= ? AND key < ? AND rev <= ? GROUP BY key HAVING d = 0"
)
_COUNT_SQL = f"SELECT COUNT(*) FROM ({_LIVE_PER_KEY})"
_RANGE_SQL = (
    f"SELECT m.k, l.create_rev, m.r, l.value FROM ({_LIVE_PER_KEY} ORDER BY key LIMIT ?) AS m"
    " JOIN log AS l ON l.rev = m.r ORDER BY m.k"
)
# NOT INDEXED keeps the planner on the rowid (revision) order instead of the key index.
_EVENTS_SQL = (
    "SELECT l.rev, l.key, l.create_rev, l.deleted, l.value, p.rev, p.create_rev, p.value"
    " FROM log AS l NOT INDEXED LEFT JOIN log AS p ON p.rev = l.prev_rev"
    " WHERE l.rev >= ? AND l.rev <= ? AND l.key >= ? AND l.key < ? ORDER BY l.rev LIMIT ?"
)


def prefix_end(prefix: bytes) -> bytes:
    """The smallest byte string above every key that starts with ``prefix``."""
    trimmed = prefix.rstrip(b"\xff")
    if not trimmed:
        return b"\xff" * (len(prefix) + 1)  # unreachable for keys that start with "/"
    return trimmed[:-1] + bytes([trimmed[-1] + 1])


def connect(path: str) -> sqlite3.Connection:
    """A connection in autocommit mode; transactions are explicit BEGIN/COMMIT."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA busy_timeout = 10000")
    # A 32 MiB page cache (default 2 MiB): large ranges and the writer's index updates hit
    # memory instead of re-reading pages; it is only allocated as it fills.
    conn.execute("PRAGMA cache_size = -32768")
    return conn


def check_file(path: str) -> None:
    """Raise CorruptStore unless ``path`` is absent, empty, or a sound store of ours.

    Opened read-only, so a bad file is left byte for byte as it was (a read-write
    connection could run WAL recovery or a checkpoint into it on close). Without a WAL
    file (a clean shutdown, or not ours) it is opened immutable, which creates no -wal or
    -shm files beside it; with one (after a crash) the WAL is part of the state to check.
    """
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        return
    mode = "ro" if os.path.exists(path + "-wal") else "ro&immutable=1"
    uri = f"file:{urllib.parse.quote(os.path.abspath(path))}?mode={mode}"
    try:
        conn = sqlite3.connect(uri, uri=True, isolation_level=None)
    except sqlite3.Error as e:
        raise CorruptStore(f"{path}: cannot open as a SQLite database: {e}") from e
    try:
        problems = [row[0] for row in conn.execute("PRAGMA quick_check")]
        if problems != ["ok"]:
            shown = "; ".join(str(p) for p in problems[:3])
            raise CorruptStore(f"{path}: the SQLite database is damaged: {shown}")
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if not tables:
            return  # an empty database: open() creates the schema
        columns = [r[1] for r in conn.execute("PRAGMA table_info(log)")]
        if not {"log", "meta"} <= tables or columns != _LOG_COLUMNS:
            raise CorruptStore(
                f"{path}: a SQLite database, but not a kybernetes store "
                f"(tables: {', '.join(sorted(tables))})"
            )
        meta = dict(conn.execute("SELECT name, value FROM meta").fetchall())
        if meta.get("format") != FORMAT:
            raise CorruptStore(
                f"{path}: store format {meta.get('format')!r}, this version reads {FORMAT}"
            )
        if not isinstance(meta.get("compact_rev"), int):
            raise CorruptStore(f"{path}: the store's compaction record is missing")
    except sqlite3.DatabaseError as e:
        raise CorruptStore(f"{path}: not a readable kybernetes store: {e}") from e
    finally:
        conn.close()


def init_writer(conn: sqlite3.Connection) -> tuple[int, int, int]:
    """Set the writer's durability pragmas, create the schema; return (head, compact, done).

    WAL lets readers run beside the writer; ``synchronous=FULL`` fsyncs the WAL on every
    commit, so a write is acknowledged only once it survives power loss.
    """
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if mode != "wal":
        raise CorruptStore(f"cannot switch the store to WAL mode (got {mode!r})")
    conn.execute("PRAGMA synchronous = FULL")
    # Fewer, larger checkpoints: each one fsyncs the main file, stalling the writer.
    conn.execute("PRAGMA wal_autocheckpoint = 4000")
    conn.executescript(_SCHEMA)
    compact, head = conn.execute(_HEAD_SQL).fetchone()
    (done,) = conn.execute("SELECT value FROM meta WHERE name = 'compact_done'").fetchone()
    return int(head), int(compact), int(done)


def load_latest(conn: sqlite3.Connection) -> dict[str, tuple[int, int]]:
    """Every live key's (mod revision, create revision), for the writer's key index."""
    rows = conn.execute(
        "SELECT l.key, l.rev, l.create_rev FROM log AS l"
        " JOIN (SELECT MAX(rev) AS r, deleted AS d FROM log GROUP BY key) AS m"
        " ON l.rev = m.r WHERE m.d = 0"
    )
    return {key.decode(): (rev, create) for key, rev, create in rows}


def _check_revision(conn: sqlite3.Connection, revision: int) -> int:
    """In the open read transaction: the revision to read at, or Compacted/FutureRevision."""
    compact, head = conn.execute(_HEAD_SQL).fetchone()
    if revision == 0:
        return int(head)
    if revision < compact:
        raise Compacted(revision, compact)
    if revision > head:
        raise FutureRevision(revision, head)
    return revision


def read_get(conn: sqlite3.Connection, key: str, revision: int) -> KeyValue:
    if revision == 0:  # one statement is its own snapshot; the newest row is never compacted
        row = conn.execute(_LATEST_SQL, (key.encode(), _MAX_REV)).fetchone()
    else:
        conn.execute("BEGIN")
        try:
            _check_revision(conn, revision)
            row = conn.execute(_LATEST_SQL, (key.encode(), revision)).fetchone()
        finally:
            conn.execute("COMMIT")
    if row is None or row[2]:
        raise NotFound(key)
    return KeyValue(key, row[3], row[1], row[0])


def read_range(
    conn: sqlite3.Connection, prefix: str, start: str | None, limit: int, revision: int
) -> RangeResult:
    lo = prefix.encode()
    hi = prefix_end(lo)
    first = max(lo, start.encode()) if start is not None else lo
    conn.execute("BEGIN")
    try:
        at = _check_revision(conn, revision)
        rows = conn.execute(_RANGE_SQL, (first, hi, at, limit + 1 if limit else -1)).fetchall()
        more = bool(limit) and len(rows) > limit
        if more:
            del rows[limit:]
        if first == lo and not more:
            count = len(rows)
        else:
            (count,) = conn.execute(_COUNT_SQL, (lo, hi, at)).fetchone()
    finally:
        conn.execute("COMMIT")
    kvs = [KeyValue(k.decode(), v, c, r) for k, c, r, v in rows]
    return RangeResult(kvs=kvs, revision=at, more=more, count=count)


def read_events(
    conn: sqlite3.Connection, prefix: str, first: int, last: int, limit: int
) -> tuple[list[Event], int, bool]:
    """Events under ``prefix`` with ``first <= revision <= last`` (0: up to now).

    Returns (events, the revision the scan got through, whether ``limit`` cut it short).
    Raises Compacted if ``first`` is below the compaction in this snapshot.
    """
    lo = prefix.encode()
    conn.execute("BEGIN")
    try:
        compact, head = conn.execute(_HEAD_SQL).fetchone()
        if first < compact:
            raise Compacted(first, compact)
        upper = head if last == 0 else min(last, head)
        rows = conn.execute(_EVENTS_SQL, (first, upper, lo, prefix_end(lo), limit)).fetchall()
    finally:
        conn.execute("COMMIT")
    cut = len(rows) == limit
    events = []
    for rev, key, create, deleted, value, prev_rev, prev_create, prev_value in rows:
        k = key.decode()
        prev = None if prev_rev is None else KeyValue(k, prev_value, prev_create, prev_rev)
        if deleted:
            events.append(Event(EventType.DELETE, KeyValue(k, b"", 0, rev), prev))
        else:
            events.append(Event(EventType.PUT, KeyValue(k, value, create, rev), prev))
    return events, (rows[-1][0] if cut else max(upper, first - 1)), cut
