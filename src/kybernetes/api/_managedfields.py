"""``metadata.managedFields`` as upstream reads and writes it.

Entries are identified as upstream identifies managers: an ``Update`` entry by (manager,
apiVersion, subresource), an ``Apply`` entry by (manager, subresource) only, so one applier
keeps one entry across API versions. :func:`decode_managed_fields` rejects what upstream
rejects (unknown operation, empty apiVersion, a fieldsType other than ``FieldsV1``, a
malformed field set); :func:`encode_managed_fields` drops empty entries and sorts the rest
as upstream does (``Apply`` before ``Update``, then by time, manager, apiVersion,
subresource). :func:`cap_update_managers` folds the oldest ``Update`` entries into
``ancient-changes`` entries beyond ten, as upstream does.

Also here: :data:`STRIPPED` (paths nobody owns), :func:`reset_fields` (what an endpoint
resets), :func:`default_manager` (the manager name upstream derives from a User-Agent) and
:func:`revert_managed_fields_timestamps` (a write that changes nothing but managedFields
timestamps keeps the stored timestamps, so it is not a write at all).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import orjson

from kybernetes.api._errors import go_quote
from kybernetes.api._fieldpath import FieldSet, FieldsV1Error, Trie
from kybernetes.api._jsonvalue import json_equal

APPLY: Final = "Apply"
UPDATE: Final = "Update"
#: Upstream's limit on a field manager name, in bytes.
FIELD_MANAGER_MAX_LENGTH: Final = 128
#: Upstream keeps at most this many ``Update`` entries.
MAX_UPDATE_MANAGERS: Final = 10
ANCIENT_CHANGES: Final = "ancient-changes"

#: (manager, operation, apiVersion ("" for Apply), subresource)
ManagerKey = tuple[str, str, str, str]


class ManagedFieldsError(ValueError):
    """``metadata.managedFields`` that upstream would not decode."""


@dataclass(slots=True)
class ManagedEntry:
    manager: str
    operation: str
    api_version: str
    subresource: str
    fields: FieldSet
    time: str | None = None
    # The stored fieldsV1 this entry was decoded from, when canonical: written back as is
    # while ``fields`` is still the very set decoded from it (encoding is a hot path).
    stored: tuple[Trie, Any] | None = None

    @property
    def key(self) -> ManagerKey:
        version = "" if self.operation == APPLY else self.api_version
        return (self.manager, self.operation, version, self.subresource)

    def describe(self) -> str:
        """The manager as upstream names it in conflicts (``"x" using apps/v1``)."""
        text = go_quote(self.manager)
        if self.subresource:
            text += f" with subresource {go_quote(self.subresource)}"
        if self.operation == UPDATE:
            text += f" using {self.api_version}"
        return text

    def to_api(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "manager": self.manager,
            "operation": self.operation,
            "apiVersion": self.api_version,
        }
        if self.time is not None:
            out["time"] = self.time
        out["fieldsType"] = "FieldsV1"
        stored = self.stored
        if stored is not None and stored[0] is self.fields.trie:
            out["fieldsV1"] = stored[1]
        else:
            out["fieldsV1"] = self.fields.to_fields_v1()
        if self.subresource:
            out["subresource"] = self.subresource
        return out


Managers = dict[ManagerKey, ManagedEntry]


def decode_managed_fields(entries: Any) -> Managers:
    """The managers of a ``metadata.managedFields`` value (None or absent: no managers)."""
    out: Managers = {}
    if entries is None:
        return out
    if not isinstance(entries, list):
        raise ManagedFieldsError("managedFields must be a list")
    for i, raw in enumerate(entries):
        if not isinstance(raw, Mapping):
            raise ManagedFieldsError(f"managed fields entry {i} is not an object")
        operation = raw.get("operation")
        if operation not in (APPLY, UPDATE):
            raise ManagedFieldsError("operation must be `Apply` or `Update`")
        api_version = raw.get("apiVersion")
        if not isinstance(api_version, str) or not api_version:
            raise ManagedFieldsError("apiVersion must not be empty")
        fields_type = raw.get("fieldsType")
        if not fields_type:
            raise ManagedFieldsError(f"missing fieldsType in managed fields entry {i}")
        if fields_type != "FieldsV1":
            raise ManagedFieldsError(
                f"invalid fieldsType {fields_type!r} in managed fields entry {i}"
            )
        manager, subresource, when = raw.get("manager"), raw.get("subresource"), raw.get("time")
        raw_fields = raw.get("fieldsV1")
        try:
            fields, canonical = _decode_fields({} if raw_fields is None else raw_fields)
        except FieldsV1Error as e:
            raise ManagedFieldsError(f"error decoding managed fields entry {i}: {e}") from None
        entry = ManagedEntry(
            manager=manager if isinstance(manager, str) else "",
            operation=operation,
            api_version=api_version,
            subresource=subresource if isinstance(subresource, str) else "",
            fields=fields,
            time=when if isinstance(when, str) and when else None,
            stored=(fields.trie, raw_fields) if canonical else None,
        )
        out[entry.key] = entry
    return out


def _decode_fields(raw: Any) -> tuple[FieldSet, bool]:
    """A stored fieldsV1 as a set, and whether it is spelled exactly as we would write it."""
    try:
        text = orjson.dumps(raw)
    except TypeError:
        return FieldSet.from_fields_v1(raw), False
    trie, canonical = _decode_text(text)
    return FieldSet(trie), canonical


# The same few entries are decoded on every write of an object: remember them. Tries are
# never mutated, so sharing one between decodes is safe.
@functools.lru_cache(maxsize=1024)
def _decode_text(text: bytes) -> tuple[Trie, bool]:
    fields = FieldSet.from_fields_v1(orjson.loads(text))
    return fields.trie, orjson.dumps(fields.to_fields_v1()) == text


def decode_lenient(obj: Mapping[str, Any] | None) -> Managers:
    """The managers of a stored object; undecodable managedFields count as none."""
    if obj is None:
        return {}
    meta = obj.get("metadata")
    try:
        return decode_managed_fields(meta.get("managedFields") if isinstance(meta, dict) else None)
    except ManagedFieldsError:
        return {}


def _seconds(when: str | None) -> float:
    if not when:
        return 0.0
    try:
        return datetime.fromisoformat(when.replace("Z", "+00:00")).timestamp() // 1
    except ValueError:
        return 0.0


def _order(entry: ManagedEntry) -> tuple[str, float, str, str, str]:
    return (
        entry.operation,
        _seconds(entry.time),
        entry.manager,
        entry.api_version,
        entry.subresource,
    )


def encode_managed_fields(managers: Managers) -> list[dict[str, Any]] | None:
    """The ``metadata.managedFields`` value for ``managers`` (None: leave it out)."""
    entries = sorted((e for e in managers.values() if e.fields), key=_order)
    return [e.to_api() for e in entries] or None


def cap_update_managers(managers: Managers, limit: int = MAX_UPDATE_MANAGERS) -> None:
    """Fold the oldest ``Update`` entries into per-version ``ancient-changes`` entries until
    at most ``limit`` ``Update`` entries are left (in place; ``managers`` is the caller's)."""
    updaters = [e for e in managers.values() if e.operation == UPDATE]
    if len(updaters) <= limit:
        return
    updaters.sort(key=lambda e: (_seconds(e.time), e.key))
    first_by_version: dict[str, ManagedEntry] = {}
    remaining = len(updaters)
    for entry in updaters:
        if remaining <= limit:
            break
        first = first_by_version.get(entry.api_version)
        if first is None:
            first_by_version[entry.api_version] = entry
            continue
        bucket_key = (ANCIENT_CHANGES, UPDATE, entry.api_version, "")
        if entry.key == bucket_key:
            continue
        bucket = managers.get(bucket_key)
        if bucket is None:
            # The first old entry of this version becomes the bucket.
            del managers[first.key]
            bucket = ManagedEntry(ANCIENT_CHANGES, UPDATE, entry.api_version, "", first.fields)
            managers[bucket_key] = bucket
        bucket.fields = entry.fields | bucket.fields
        bucket.time = entry.time
        del managers[entry.key]
        remaining -= 1


def default_manager(user_agent: str | None) -> str:
    """The manager of a write without ``fieldManager``: the User-Agent up to its first ``/``,
    without unprintable characters, at most 128 bytes (``kubectl``, ``OpenAPI-Generator``
    for the Python client, ``Go-http-client``)."""
    out: list[str] = []
    size = 0
    for ch in (user_agent or "").split("/", 1)[0]:
        if not ch.isprintable():
            continue
        n = len(ch.encode())
        if size + n > FIELD_MANAGER_MAX_LENGTH:
            break
        out.append(ch)
        size += n
    return "".join(out)


def _without_times(entries: Any) -> Any:
    if not isinstance(entries, list):
        return entries
    return [
        {k: v for k, v in e.items() if k != "time"} if isinstance(e, dict) else e for e in entries
    ]


def revert_managed_fields_timestamps(
    new: dict[str, Any], old: Mapping[str, Any] | None
) -> dict[str, Any]:
    """``new`` with ``old``'s managedFields when the two differ in nothing else than
    managedFields timestamps, so that a no-op write stays a no-op (upstream's
    ``IgnoreManagedFieldsTimestampsTransformer``); otherwise ``new`` itself."""
    if old is None:
        return new
    new_meta, old_meta = new.get("metadata"), old.get("metadata")
    if not isinstance(new_meta, dict) or not isinstance(old_meta, dict):
        return new
    new_mf, old_mf = new_meta.get("managedFields"), old_meta.get("managedFields")
    if new_mf == old_mf or not json_equal(_without_times(new_mf), _without_times(old_mf)):
        return new
    rest_new = {**new, "metadata": {k: v for k, v in new_meta.items() if k != "managedFields"}}
    rest_old = {**old, "metadata": {k: v for k, v in old_meta.items() if k != "managedFields"}}
    if not json_equal(rest_new, rest_old):
        return new
    return {**new, "metadata": {**new_meta, "managedFields": old_mf}}


# Never owned by anyone (upstream strips these paths from every entry).
STRIPPED: Final = FieldSet.from_paths(
    [("f:apiVersion",), ("f:kind",), ("f:metadata",)]
    + [
        ("f:metadata", "f:" + name)
        for name in (
            "name",
            "namespace",
            "creationTimestamp",
            "selfLink",
            "uid",
            "clusterName",
            "generation",
            "managedFields",
            "resourceVersion",
        )
    ]
)


def reset_fields(subresource: str, *, has_status: bool) -> FieldSet | None:
    """The fields a write through ``subresource`` ("" for the main resource) cannot set, for
    a kind that has a status subresource: ``status`` on the main resource, everything but
    ``status`` on ``/status``."""
    if not has_status:
        return None
    if subresource == "":
        return FieldSet.from_paths([("f:status",)])
    if subresource == "status":
        return FieldSet.from_paths([("f:spec",), ("f:metadata",)])
    return None


def without_managed(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    meta = obj.get("metadata")
    if not isinstance(meta, dict) or "managedFields" not in meta:
        return obj
    return {**obj, "metadata": {k: v for k, v in meta.items() if k != "managedFields"}}
