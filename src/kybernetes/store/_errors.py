"""Typed store errors. The API server maps each to a Kubernetes Status in one place."""

from __future__ import annotations


class StoreError(Exception):
    """Base of every error a store backend raises."""


class NotFound(StoreError):
    def __init__(self, key: str) -> None:
        super().__init__(f"key not found: {key!r}")
        self.key = key


class AlreadyExists(StoreError):
    def __init__(self, key: str) -> None:
        super().__init__(f"key already exists: {key!r}")
        self.key = key


class Conflict(StoreError):
    """The key's current mod revision is not the one the caller expected."""

    def __init__(self, key: str, expected: int, actual: int) -> None:
        super().__init__(f"conflict on {key!r}: expected revision {expected}, found {actual}")
        self.key = key
        self.expected = expected
        self.actual = actual


class Compacted(StoreError):
    """The requested revision is older than the oldest revision the store still keeps."""

    def __init__(self, revision: int, compact_revision: int) -> None:
        super().__init__(
            f"revision {revision} has been compacted (oldest kept: {compact_revision})"
        )
        self.revision = revision
        self.compact_revision = compact_revision


class FutureRevision(StoreError):
    """The requested revision is newer than the store's current revision."""

    def __init__(self, revision: int, current: int) -> None:
        super().__init__(f"revision {revision} is in the future (current: {current})")
        self.revision = revision
        self.current = current


class InvalidKey(StoreError):
    """A key that is empty, not absolute, or otherwise malformed."""


class ValueTooLarge(StoreError):
    def __init__(self, key: str, size: int, limit: int) -> None:
        super().__init__(f"value for {key!r} is {size} bytes, over the limit of {limit}")
        self.key = key
        self.size = size
        self.limit = limit


class CorruptStore(StoreError):
    """The backing data is unreadable or inconsistent; nothing was changed."""


class Unavailable(StoreError):
    """The backend cannot be reached (etcd down, no quorum, database closed)."""


class WatchDropped(StoreError):
    """The watcher fell too far behind and was dropped; resume from its last revision."""
