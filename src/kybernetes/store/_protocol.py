"""The store protocol: the part of etcd's semantics the API server needs, and no more.

Keys are absolute, slash-separated strings (``/registry/pods/default/web-0``); values are
opaque bytes (the API server stores JSON). Every write gets a new, strictly increasing
revision shared by the whole store; a key remembers the revision that created it and the
one that last changed it (etcd's ``create_revision`` and ``mod_revision``). The API server
uses ``mod_revision`` as the object's ``resourceVersion``.

Guarantees every backend gives (and the conformance suite in
``tests/integration/store`` checks):

* A write that returned is durable and visible to every later read.
* ``create`` fails with :class:`AlreadyExists` if the key exists; ``update`` and
  ``delete`` with ``expected_revision`` fail with :class:`Conflict` unless the key's
  current ``mod_revision`` equals it, and with :class:`NotFound` if the key is absent.
* ``range`` returns keys in byte order, at one consistent revision; ``revision=0`` means
  "now". A read at a revision older than the last compaction raises :class:`Compacted`;
  one newer than the current revision raises :class:`FutureRevision`.
* ``watch(prefix, start_revision)`` yields every change to keys under ``prefix`` with a
  revision ``>= start_revision``, in revision order, without gaps, as batches. DELETE
  events carry the value the key had before. A start revision at or below the compacted
  revision raises :class:`Compacted`; a watcher that falls too far behind is ended with
  :class:`WatchDropped` (the consumer resumes from its last revision, or relists).
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Protocol

#: Values above this many bytes are refused with ValueTooLarge. Kubernetes caps request
#: bodies at 3 MiB; the stored object may be slightly larger after defaulting.
DEFAULT_MAX_VALUE_SIZE = 3 * 1024 * 1024 + 512 * 1024


# KeyValue and Event are built for every stored value and every change, so they are plain
# slotted dataclasses: frozen ones cost ~5x more to construct (measured by bench/store.py).
# Treat them as immutable all the same.
@dataclass(slots=True)
class KeyValue:
    key: str
    value: bytes
    create_revision: int
    mod_revision: int


class EventType(enum.Enum):
    PUT = "PUT"
    DELETE = "DELETE"


@dataclass(slots=True)
class Event:
    """One change. For PUT, ``kv`` is the new value; ``prev`` the old one if it existed.

    For DELETE, ``kv.value`` is empty and ``kv.mod_revision`` is the deletion's revision;
    ``prev`` is the value the key had before it was deleted.
    """

    type: EventType
    kv: KeyValue
    prev: KeyValue | None

    @property
    def revision(self) -> int:
        return self.kv.mod_revision


@dataclass(frozen=True, slots=True)
class RangeResult:
    kvs: list[KeyValue]
    #: The revision the range was read at (the store's current one when asked for 0).
    revision: int
    #: True when ``limit`` cut the result short; continue after ``kvs[-1].key``.
    more: bool
    #: How many keys in the whole range (ignoring ``start`` and ``limit``) at ``revision``.
    count: int


@dataclass(frozen=True, slots=True)
class Deleted:
    revision: int
    prev: KeyValue


class Watch(Protocol):
    """An open watch. Iterate for batches of events; ``close`` ends it (idempotent)."""

    def __aiter__(self) -> AsyncIterator[Sequence[Event]]: ...

    async def close(self) -> None: ...


class Store(Protocol):
    """An MVCC key-value store with watch. See the module docstring for the guarantees."""

    async def get(self, key: str, *, revision: int = 0) -> KeyValue:
        """The key's value at ``revision`` (0: now). Raises NotFound."""
        ...

    async def range(
        self,
        prefix: str,
        *,
        start: str | None = None,
        limit: int = 0,
        revision: int = 0,
    ) -> RangeResult:
        """Keys under ``prefix``, from ``start`` (inclusive) on, at most ``limit`` (0: all)."""
        ...

    async def create(self, key: str, value: bytes) -> KeyValue:
        """Create ``key``; raises AlreadyExists. Returns the stored KeyValue."""
        ...

    async def update(self, key: str, value: bytes, *, expected_revision: int) -> KeyValue:
        """Replace ``key`` if its mod revision is ``expected_revision`` (0: any)."""
        ...

    async def delete(self, key: str, *, expected_revision: int = 0) -> Deleted:
        """Delete ``key`` if its mod revision is ``expected_revision`` (0: any)."""
        ...

    def watch(self, prefix: str, *, start_revision: int = 0) -> Watch:
        """Watch ``prefix`` from ``start_revision`` (0: changes after now)."""
        ...

    async def current_revision(self) -> int: ...

    async def compacted_revision(self) -> int:
        """The newest revision that has been compacted away (0 if none)."""
        ...

    async def compact(self, revision: int) -> None:
        """Drop history older than ``revision``; the latest value of each key stays."""
        ...

    async def close(self) -> None: ...
