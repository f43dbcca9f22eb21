"""The informer's local store: objects by key, plus indexes.

Theory of operation:

* Keys are ``namespace/name`` (or ``name`` for cluster-wide objects), as upstream's
  ``MetaNamespaceKeyFunc``. :func:`object_key` computes one.
* An index is a function from an object to the strings it is filed under. Built in:
  :data:`NAMESPACE_INDEX`, :data:`NODE_NAME_INDEX` (``spec.nodeName``, for pods) and
  :data:`OWNER_UID_INDEX` (every ``ownerReferences[].uid``); :meth:`Cache.add_indexer`
  adds more at any time (it indexes what is already there).
* Every method runs without awaiting, so on the event loop each is atomic: a reader never
  sees an object stored but not yet indexed. (It is not safe across OS threads; nothing in
  kybernetes shares a cache across threads.)
* **Objects handed out are shared and must never be mutated**: copy
  (``copy.deepcopy``), change the copy, write it through the API. With ``freeze`` (see
  :mod:`._frozen`) the cache stores deep-frozen objects so a mutation raises at once.
* Only the informer writes (:meth:`Cache.store`, :meth:`Cache.remove`); everyone else
  reads.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from kybernetes.client._frozen import FrozenDict, deep_freeze

Object = dict[str, Any]
IndexFunc = Callable[[Object], Iterable[str]]

NAMESPACE_INDEX = "namespace"
NODE_NAME_INDEX = "spec.nodeName"
OWNER_UID_INDEX = "ownerUID"


def object_key(obj: Mapping[str, Any]) -> str:
    meta = obj.get("metadata") or {}
    name = meta.get("name") or ""
    if not name:
        raise ValueError("an object without metadata.name has no cache key")
    namespace = meta.get("namespace")
    return f"{namespace}/{name}" if namespace else str(name)


def split_key(key: str) -> tuple[str | None, str]:
    """(namespace or None, name) of a cache key."""
    namespace, sep, name = key.partition("/")
    return (namespace, name) if sep else (None, namespace)


def index_by_namespace(obj: Object) -> builtins.list[str]:
    namespace = (obj.get("metadata") or {}).get("namespace")
    return [namespace] if namespace else []


def index_by_node_name(obj: Object) -> builtins.list[str]:
    node = (obj.get("spec") or {}).get("nodeName")
    return [node] if isinstance(node, str) and node else []


def index_by_owner_uid(obj: Object) -> builtins.list[str]:
    refs = (obj.get("metadata") or {}).get("ownerReferences") or ()
    return [ref["uid"] for ref in refs if isinstance(ref, Mapping) and ref.get("uid")]


DEFAULT_INDEXERS: Mapping[str, IndexFunc] = {
    NAMESPACE_INDEX: index_by_namespace,
    NODE_NAME_INDEX: index_by_node_name,
    OWNER_UID_INDEX: index_by_owner_uid,
}


class Cache:
    def __init__(
        self, indexers: Mapping[str, IndexFunc] | None = None, *, freeze: bool = False
    ) -> None:
        self.freeze = freeze
        self._items: dict[str, Object] = {}
        self._indexers: dict[str, IndexFunc] = {}
        self._indices: dict[str, dict[str, set[str]]] = {}
        for name, func in {**DEFAULT_INDEXERS, **(indexers or {})}.items():
            self.add_indexer(name, func)

    # -- reading ---------------------------------------------------------------------

    def get(self, key: str) -> Object | None:
        return self._items.get(key)

    def get_by_name(self, name: str, namespace: str | None = None) -> Object | None:
        return self._items.get(f"{namespace}/{name}" if namespace else name)

    def list(self) -> builtins.list[Object]:
        return list(self._items.values())

    def keys(self) -> builtins.list[str]:
        return list(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def by_index(self, index: str, value: str) -> builtins.list[Object]:
        """Objects filed under ``value`` in ``index``, in key order."""
        return [self._items[k] for k in self.index_keys(index, value)]

    def index_keys(self, index: str, value: str) -> builtins.list[str]:
        try:
            keys = self._indices[index].get(value, ())
        except KeyError:
            raise KeyError(f"no index named {index!r}") from None
        return sorted(keys)

    def index_values(self, index: str) -> builtins.list[str]:
        """Every value ``index`` files something under."""
        return sorted(self._indices[index])

    def indexers(self) -> builtins.list[str]:
        return list(self._indexers)

    # -- writing (the informer only) -------------------------------------------------

    def add_indexer(self, name: str, func: IndexFunc) -> None:
        if name in self._indexers:
            raise ValueError(f"index {name!r} exists already")
        self._indexers[name] = func
        self._indices[name] = {}
        for key, obj in self._items.items():
            self._file(name, func, key, obj)

    def prepare(self, obj: Object) -> Object:
        """The form this cache stores ``obj`` in (frozen in debug mode)."""
        return deep_freeze(obj) if self.freeze and not isinstance(obj, FrozenDict) else obj

    def store(self, obj: Object) -> tuple[Object | None, Object]:
        """Insert or replace ``obj``; returns (the previous object or None, the stored one)."""
        stored = self.prepare(obj)
        key = object_key(stored)
        old = self._items.get(key)
        if old is not None:
            self._unfile_all(key, old)
        self._items[key] = stored
        for name, func in self._indexers.items():
            self._file(name, func, key, stored)
        return old, stored

    def remove(self, key: str) -> Object | None:
        """Remove the object at ``key``; returns it (None if there was none)."""
        old = self._items.pop(key, None)
        if old is not None:
            self._unfile_all(key, old)
        return old

    def _file(self, name: str, func: IndexFunc, key: str, obj: Object) -> None:
        index = self._indices[name]
        for value in func(obj):
            index.setdefault(value, set()).add(key)

    def _unfile_all(self, key: str, obj: Object) -> None:
        for name, func in self._indexers.items():
            index = self._indices[name]
            for value in func(obj):
                keys = index.get(value)
                if keys is not None:
                    keys.discard(key)
                    if not keys:
                        del index[value]
