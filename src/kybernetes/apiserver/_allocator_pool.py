"""One allocation range kept in the store: a key per taken value, created only if absent.

:class:`Pool` claims a named value (``claim``), draws a free one (``claim_next``), and frees
one (``release``), for one :class:`~._allocator_ranges.Space` under one key prefix. The key
of a value holds its :class:`Owner`'s record (``{"service": "ns/name", "uid": ...,
"allocatedAt": unix seconds}``); only the recorded owner's requests free it, and a claim by
the owner of an already taken value succeeds (so retries and re-registration are safe).

``claim_next`` probes random values, a bounded number per band; if all were taken it lists
the taken keys, tries free values from a random point on (a bounded number again, at most
three rounds when other servers keep winning the race), and raises :class:`RangeFull` when
it finds none. With ``dry_run`` nothing is written: values are checked, not taken.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from kybernetes import store as st
from kybernetes.apiserver import _errors as errors
from kybernetes.apiserver._allocator_ranges import Space

_SCAN_ROUNDS = 3


class Taken(Exception):
    """The value belongs to another service."""


class RangeFull(Exception):
    """No free value is left (or none could be won after repeated tries)."""


@dataclass(frozen=True, slots=True)
class Owner:
    """The service an allocation belongs to."""

    namespace: str
    name: str
    uid: str = ""

    @classmethod
    def of(cls, svc: Mapping[str, Any]) -> Owner:
        meta = svc.get("metadata") or {}
        return cls(
            str(meta.get("namespace") or ""),
            str(meta.get("name") or ""),
            str(meta.get("uid") or ""),
        )

    @property
    def service(self) -> str:
        return f"{self.namespace}/{self.name}"

    def record(self, now: float) -> bytes:
        return orjson.dumps({"service": self.service, "uid": self.uid, "allocatedAt": now})

    def owns(self, value: bytes) -> bool:
        """Whether a stored record names this owner (by uid when both have one)."""
        record = parse_record(value)
        if record is None:
            return False
        uid = record.get("uid")
        if uid and self.uid:
            return bool(uid == self.uid)
        return bool(record.get("service") == self.service)


def parse_record(value: bytes) -> dict[str, Any] | None:
    try:
        record = orjson.loads(value)
    except orjson.JSONDecodeError:
        return None
    return record if isinstance(record, dict) else None


class Pool:
    def __init__(
        self,
        store: st.Store,
        prefix: str,
        space: Space,
        rng: random.Random,
        probes: int,
        clock: Callable[[], float],
    ) -> None:
        self.store = store
        self.prefix = prefix
        self.space = space
        self._rng = rng
        self._probes = max(1, probes)
        self._clock = clock

    def key(self, name: str) -> str:
        return self.prefix + name

    async def claim(self, name: str, owner: Owner, *, dry_run: bool = False) -> bool:
        """Take ``name`` for ``owner``: True if this call created its key, False if the owner
        already held it (or, in a dry run, if it is free). Raises :class:`Taken`."""
        key = self.key(name)
        for _ in range(2):
            try:
                if dry_run:
                    kv = await self.store.get(key)
                else:
                    await self.store.create(key, owner.record(self._clock()))
                    return True
            except st.NotFound:
                return False  # dry run: free
            except st.AlreadyExists:
                try:
                    kv = await self.store.get(key)
                except st.NotFound:
                    continue  # freed in between: try again
                except st.StoreError as e:
                    raise errors.from_store_error(e) from None
            except st.StoreError as e:
                raise errors.from_store_error(e) from None
            if owner.owns(kv.value):
                return False
            raise Taken(name)
        raise Taken(name)

    async def _try(self, name: str, owner: Owner, dry_run: bool) -> bool:
        """Whether ``name`` was free (and, unless a dry run, is now taken)."""
        try:
            if dry_run:
                await self.store.get(self.key(name))
                return False
            await self.store.create(self.key(name), owner.record(self._clock()))
            return True
        except st.NotFound:
            return True
        except st.AlreadyExists:
            return False
        except st.StoreError as e:
            raise errors.from_store_error(e) from None

    async def claim_next(self, owner: Owner, *, dry_run: bool = False) -> str:
        """Take a free value at random; raises :class:`RangeFull`."""
        space = self.space
        for lo, hi in space.bands():
            for _ in range(self._probes):
                offset = self._rng.randrange(lo, hi)
                if offset in space.reserved:
                    continue
                name = space.name(offset)
                if await self._try(name, owner, dry_run):
                    return name
        for _ in range(_SCAN_ROUNDS):
            free = list(self._free(await self.taken_offsets()))
            if not free:
                break
            for offset in free:
                name = space.name(offset)
                if await self._try(name, owner, dry_run):
                    return name
        raise RangeFull(space.description)

    async def taken_offsets(self) -> set[int]:
        try:
            result = await self.store.range(self.prefix)
        except st.StoreError as e:
            raise errors.from_store_error(e) from None
        taken: set[int] = set()
        for kv in result.kvs:
            try:
                taken.add(self.space.offset(kv.key[len(self.prefix) :]))
            except ValueError:
                continue  # a key outside today's range (the range was changed)
        return taken

    def _free(self, taken: set[int]) -> Iterator[int]:
        """Up to ``probes`` free offsets, each band scanned from a random point."""
        found = 0
        for lo, hi in self.space.bands():
            start = self._rng.randrange(lo, hi)
            for i in range(hi - lo):
                offset = lo + (start - lo + i) % (hi - lo)
                if offset in taken or offset in self.space.reserved:
                    continue
                yield offset
                found += 1
                if found >= self._probes:
                    return

    async def release(self, name: str, owner: Owner) -> bool:
        """Free ``name`` if ``owner`` holds it; True when this call freed it."""
        key = self.key(name)
        try:
            kv = await self.store.get(key)
            if not owner.owns(kv.value):
                return False
            await self.store.delete(key, expected_revision=kv.mod_revision)
        except (st.NotFound, st.Conflict):
            return False
        except st.StoreError as e:
            raise errors.from_store_error(e) from None
        return True
