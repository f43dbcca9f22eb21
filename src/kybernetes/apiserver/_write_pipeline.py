"""The write pipeline: what happens to a create or update between defaulting and the store.

Upstream's order for a write, which :class:`~._storage.ResourceStorage` follows through
this seam: decode -> ``strategy.default`` -> *mutating admission* -> *allocation*
(services) -> ``prepare_for_*`` + ``validate_*`` -> *validating admission* -> store write
-> *settle* (commit or revert allocations, give back quota).

:class:`WritePipeline` holds one resource's pieces (any may be absent, and then costs
nothing); storage uses it as::

    async with pipeline.write(attrs) as w:   # attrs.obj: the defaulted object
        prepared = prepare_and_validate(w.obj)
        await w.admit(replace(attrs, obj=prepared))
        ... store write ...
        w.stored(written)

Promises:

* Entering runs the mutating plugins (on the main resource only; each plugin decides
  which operations it handles) and then, for services, takes cluster IPs and node ports;
  ``w.obj`` is the object to prepare and validate. If entering raises, nothing is held.
* :meth:`Write.admit` runs validating admission (ResourceQuota last, which charges quota).
* Leaving after :meth:`Write.stored` commits the allocation (frees what an update gave
  up) and runs the resource's after-write work before the request is answered.
* Leaving any other way (an error, a ``continue`` to retry, a dry run, an update that
  changed nothing, a delete during update) reverts the allocation and gives back the quota
  :meth:`Write.admit` charged. Failures while settling are logged, never raised over the
  request's own outcome: the allocation repair and quota recounts mend what they leave.
* :meth:`WritePipeline.removed` runs the after-removal work (free a service's values,
  recount quota) once an object is gone from the store.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Protocol

from kybernetes.apiserver._admission import CREATE, UPDATE, Admission, Attributes
from kybernetes.apiserver._admission_mutating import MutatingAdmission
from kybernetes.apiserver._allocator import Allocation, ServiceAllocator

log = logging.getLogger(__name__)

Obj = dict[str, Any]
#: Work after a create or update was stored: (the write's attributes, the stored object).
AfterWrite = Callable[[Attributes, Obj], Awaitable[None]]
#: Work after an object left the store: its last state (resourceVersion: the delete's).
AfterRemove = Callable[[Obj], Awaitable[None]]


class QuotaLedger(Protocol):
    """What gives quota back (:class:`~._admission_quota.ResourceQuotaAdmission`)."""

    async def uncharge(self, attrs: Attributes) -> None: ...


def _never(namespace: str) -> bool:
    return False


@dataclass(frozen=True, slots=True)
class WritePipeline:
    """One resource's admission and bookkeeping around a write (see the module docstring)."""

    #: Validating admission (the whole chain, ResourceQuota last).
    admission: Admission
    mutating: MutatingAdmission | None = None
    #: Services only.
    allocator: ServiceAllocator | None = None
    #: Set for resources quota may charge: what :meth:`Write.admit` charged is given back
    #: when the write does not happen.
    quota: QuotaLedger | None = None
    #: Whether a namespace may have quotas (admission charges nothing where it has none).
    may_have_quotas: Callable[[str], bool] = _never
    after_write: AfterWrite | None = None
    after_remove: AfterRemove | None = None

    def write(self, attrs: Attributes) -> Write:
        return Write(self, attrs)

    async def removed(self, obj: Obj) -> None:
        """``obj`` (its last stored state) is gone from the store."""
        if self.after_remove is None:
            return
        try:
            await self.after_remove(obj)
        except Exception:
            # The delete itself succeeded; allocation repair and quota recounts mend this.
            meta = obj.get("metadata") or {}
            log.exception(
                "after-removal work for %s/%s failed", meta.get("namespace"), meta.get("name")
            )


def plain_pipeline(admission: Admission) -> WritePipeline:
    """Validating admission only: what storage does when given no pipeline."""
    return WritePipeline(admission)


class Write:
    """One create or update on its way to the store; an async context manager."""

    __slots__ = ("_admitted", "_allocation", "_pipeline", "_stored", "attrs", "obj")

    def __init__(self, pipeline: WritePipeline, attrs: Attributes) -> None:
        self._pipeline = pipeline
        self.attrs = attrs
        obj = attrs.obj
        assert obj is not None, "a write has an object"
        self.obj: Obj = obj
        self._allocation: Allocation | None = None
        self._admitted: Attributes | None = None
        self._stored: Obj | None = None

    async def __aenter__(self) -> Write:
        p, attrs = self._pipeline, self.attrs
        if attrs.subresource:
            return self
        if p.mutating is not None:
            changed = await p.mutating.mutate(attrs)
            if changed is not None:
                self.obj = changed
        if p.allocator is not None:
            if attrs.operation == CREATE:
                self.obj, self._allocation = await p.allocator.allocate_create(
                    self.obj, dry_run=attrs.dry_run
                )
            elif attrs.operation == UPDATE and attrs.old is not None:
                self.obj, self._allocation = await p.allocator.allocate_update(
                    self.obj, attrs.old, dry_run=attrs.dry_run
                )
        return self

    async def admit(self, attrs: Attributes) -> None:
        """Validating admission of the prepared object (``attrs.obj``)."""
        p = self._pipeline
        await p.admission.admit(attrs)
        # Only where admission could have charged: the same hint it consulted.
        if p.quota is not None and not attrs.dry_run and p.may_have_quotas(attrs.namespace):
            self._admitted = attrs

    def stored(self, obj: Obj) -> None:
        """The store write happened; ``obj`` is what was stored (with resourceVersion)."""
        self._stored = obj

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._stored is None:
            await self._abort()
            return
        p = self._pipeline
        try:
            if self._allocation is not None:
                await self._allocation.commit()
            if p.after_write is not None:
                await p.after_write(self.attrs, self._stored)
        except Exception:
            # The write itself succeeded; what failed here is mended later (allocation
            # repair, quota recounts), so the client still gets the stored object.
            log.exception("after-write work for %s failed", _describe(self.attrs))

    async def _abort(self) -> None:
        p = self._pipeline
        try:
            if self._allocation is not None:
                await self._allocation.revert()
            if self._admitted is not None and p.quota is not None:
                await p.quota.uncharge(self._admitted)
        except Exception:
            log.exception("undoing admission of %s failed", _describe(self.attrs))


def _describe(attrs: Attributes) -> str:
    where = f"{attrs.namespace}/" if attrs.namespace else ""
    return f"{attrs.operation} {attrs.info.plural} {where}{attrs.name}"
