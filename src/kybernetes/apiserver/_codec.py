"""How objects are encoded in the store and how stored values become served objects.

Stored values are the object's JSON *without* ``metadata.resourceVersion``: the revision is
only known once the write returns, so it is filled in on every read from the key's
``mod_revision`` (what etcd-backed Kubernetes does too).

:class:`CachedObject` is the read-side form shared by the watch cache and store-backed
lists: the served JSON bytes (with resourceVersion) plus what selectors look at, so
serving a list is a byte join and filtering never re-decodes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from kybernetes.store import KeyValue

#: Computes the selectable fields of an object (``metadata.name``, ``spec.nodeName``...).
FieldsOf = Callable[[Mapping[str, Any]], Mapping[str, str]]

_EMPTY: Mapping[str, str] = {}


def to_store(obj: Mapping[str, Any]) -> bytes:
    """The stored form of ``obj``: its JSON without ``metadata.resourceVersion``."""
    meta = obj.get("metadata")
    if isinstance(meta, Mapping) and "resourceVersion" in meta:
        obj = {
            **obj,
            "metadata": {k: v for k, v in meta.items() if k != "resourceVersion"},
        }
    return orjson.dumps(obj)


def from_store(value: bytes, revision: int) -> dict[str, Any]:
    """The served object of a stored value written at ``revision``."""
    obj: dict[str, Any] = orjson.loads(value)
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        meta = obj["metadata"] = {}
    meta["resourceVersion"] = str(revision)
    return obj


def from_kv(kv: KeyValue) -> dict[str, Any]:
    return from_store(kv.value, kv.mod_revision)


@dataclass(frozen=True, slots=True)
class CachedObject:
    """One object as served at one revision. Immutable; ``decode()`` returns a fresh dict."""

    key: str
    namespace: str
    name: str
    revision: int
    raw: bytes
    labels: Mapping[str, str]
    fields: Mapping[str, str]

    def decode(self) -> dict[str, Any]:
        out: dict[str, Any] = orjson.loads(self.raw)
        return out


def cached(key: str, obj: dict[str, Any], revision: int, fields_of: FieldsOf) -> CachedObject:
    """A :class:`CachedObject` of ``obj`` (whose resourceVersion is already set)."""
    meta = obj.get("metadata") or {}
    labels = meta.get("labels")
    # The key is authoritative: /registry/{resource}/{namespace}/{name} or .../{name}.
    parts = key.split("/")
    namespace, name = (parts[3], parts[4]) if len(parts) == 5 else ("", parts[-1])
    return CachedObject(
        key=key,
        namespace=namespace,
        name=name,
        revision=revision,
        raw=orjson.dumps(obj),
        labels=labels if isinstance(labels, dict) else _EMPTY,
        fields=fields_of(obj),
    )


def cached_kv(kv: KeyValue, fields_of: FieldsOf) -> CachedObject:
    return cached(kv.key, from_kv(kv), kv.mod_revision, fields_of)


def basic_fields(obj: Mapping[str, Any]) -> Mapping[str, str]:
    """The fields every resource can be selected by."""
    meta = obj.get("metadata") or {}
    fields = {"metadata.name": str(meta.get("name") or "")}
    if meta.get("namespace"):
        fields["metadata.namespace"] = str(meta["namespace"])
    return fields
