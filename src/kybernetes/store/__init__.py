"""The MVCC key-value store behind the API server (only ``apiserver`` imports this).

``open_store(url)`` returns a backend: ``sqlite:///path/to/db`` (the embedded default) or
``etcd://host:port[,host:port...]`` (real etcd v3).
"""

from kybernetes.store._errors import (
    AlreadyExists,
    Compacted,
    Conflict,
    CorruptStore,
    FutureRevision,
    InvalidKey,
    NotFound,
    StoreError,
    Unavailable,
    ValueTooLarge,
    WatchDropped,
)
from kybernetes.store._open import open_store, parse_store_url
from kybernetes.store._protocol import (
    DEFAULT_MAX_VALUE_SIZE,
    Deleted,
    Event,
    EventType,
    KeyValue,
    RangeResult,
    Store,
    Watch,
)

__all__ = [
    "DEFAULT_MAX_VALUE_SIZE",
    "AlreadyExists",
    "Compacted",
    "Conflict",
    "CorruptStore",
    "Deleted",
    "Event",
    "EventType",
    "FutureRevision",
    "InvalidKey",
    "KeyValue",
    "NotFound",
    "RangeResult",
    "Store",
    "StoreError",
    "Unavailable",
    "ValueTooLarge",
    "Watch",
    "WatchDropped",
    "open_store",
    "parse_store_url",
]
