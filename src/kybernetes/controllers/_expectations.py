"""Expectations: what a controller has asked for and not yet seen in its cache.

Theory of operation: after a controller creates N pods and deletes pods with uids U, its
informer cache lags behind the API. A sync that ran on that stale cache would create or
delete again. So before acting the controller records what it expects
(:meth:`Expectations.expect_creations`, :meth:`Expectations.expect_deletions`), the
informer handlers lower the counts as they observe the pods (``creation_observed``,
``deletion_observed``), and the controller acts again only once
:meth:`Expectations.satisfied` (everything observed, no record, or the record is older
than :data:`EXPECTATIONS_TTL` on the injected clock, so a lost event cannot wedge it).
Deletions are tracked by uid, so observing the same deletion twice (the update with a
``deletionTimestamp``, then the delete) counts once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kybernetes.client import REAL_CLOCK, Clock

#: Upstream's ExpectationsTimeout: after this, act again even if events were lost.
EXPECTATIONS_TTL = 300.0


@dataclass
class _Record:
    adds: int
    deletes: set[str] = field(default_factory=set)
    stamp: float = 0.0


class Expectations:
    def __init__(self, clock: Clock = REAL_CLOCK) -> None:
        self._clock = clock
        self._records: dict[str, _Record] = {}

    def satisfied(self, key: str) -> bool:
        record = self._records.get(key)
        if record is None:
            return True
        if record.adds <= 0 and not record.deletes:
            return True
        return self._clock.now() - record.stamp > EXPECTATIONS_TTL

    def expect_creations(self, key: str, count: int) -> None:
        self._records[key] = _Record(count, set(), self._clock.now())

    def expect_deletions(self, key: str, uids: set[str]) -> None:
        self._records[key] = _Record(0, set(uids), self._clock.now())

    def creation_observed(self, key: str) -> None:
        record = self._records.get(key)
        if record is not None:
            record.adds -= 1

    def lower_creations(self, key: str, count: int) -> None:
        """Creations that were never attempted (or failed): stop waiting for them."""
        record = self._records.get(key)
        if record is not None:
            record.adds -= count

    def deletion_observed(self, key: str, uid: str) -> None:
        record = self._records.get(key)
        if record is not None:
            record.deletes.discard(uid)

    def pending(self, key: str) -> tuple[int, int]:
        """(creations, deletions) still expected."""
        record = self._records.get(key)
        return (max(record.adds, 0), len(record.deletes)) if record else (0, 0)

    def forget(self, key: str) -> None:
        self._records.pop(key, None)
