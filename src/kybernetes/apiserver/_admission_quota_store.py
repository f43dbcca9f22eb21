"""The quota plugin's view of storage: read quotas, compare-and-swap their status, list objects.

:class:`QuotaAccess` is all ResourceQuota admission needs from the API server. Its one hard
promise is :meth:`QuotaAccess.update_quota_status`: a compare-and-swap on the quota's
``metadata.resourceVersion`` that raises :class:`QuotaConflict` if the quota changed since
it was read. Charging a request is such a swap, so two API servers (or two concurrent
requests) can never both spend the last unit of a quota: one of them re-reads and re-checks.

:class:`StoreQuotaAccess` implements it straight on a :class:`kybernetes.store.Store` with
the API server's key layout and stored encoding (the API server is the only store user, so
this is allowed inside ``apiserver``). Quotas are read from the store, never from a watch
cache: a stale quota can never win its compare-and-swap, so a lagging cache would only make
requests retry. The optional ``may_have_quotas`` hint (the resourcequotas watch cache,
asked whether a namespace has any quota) lets the common case, a namespace without quotas,
skip the store read; like upstream's informer, it may miss a quota created a moment ago.
Status writes go through no strategy: they change ``status`` only, written by the API server
itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from kybernetes import store as st
from kybernetes.api import REGISTRY, Registry, ResourceInfo
from kybernetes.apiserver import _errors as errors
from kybernetes.apiserver._codec import from_kv, to_store
from kybernetes.apiserver._keys import collection_prefix, object_key

Obj = dict[str, Any]


class QuotaConflict(Exception):
    """The quota changed (or vanished) since it was read; re-read and decide again."""


class QuotaAccess(Protocol):
    async def list_quotas(self, namespace: str) -> list[Obj]:
        """The ResourceQuota objects of ``namespace`` as stored now, with resourceVersion."""
        ...

    async def update_quota_status(self, quota: Obj) -> Obj:
        """Write ``quota`` (its new status) if its resourceVersion is still the stored one;
        returns it with the new resourceVersion. Raises :class:`QuotaConflict`."""
        ...

    async def list_objects(self, info: ResourceInfo, namespace: str) -> list[Obj]:
        """Every object of ``info`` in ``namespace`` (to compute a quota's usage)."""
        ...


def _quota_info(registry: Registry) -> ResourceInfo:
    info = registry.get("", "v1", "resourcequotas")
    if info is None:
        raise LookupError("the registry has no resourcequotas")
    return info


class StoreQuotaAccess:
    """:class:`QuotaAccess` on the store itself."""

    def __init__(
        self,
        store: st.Store,
        registry: Registry = REGISTRY,
        *,
        may_have_quotas: Callable[[str], bool] | None = None,
    ) -> None:
        self._store = store
        self._quotas = _quota_info(registry)
        self._may_have_quotas = may_have_quotas

    async def _range(self, info: ResourceInfo, namespace: str) -> list[Obj]:
        try:
            result = await self._store.range(collection_prefix(info, namespace))
        except st.StoreError as e:
            raise errors.from_store_error(e, info) from None
        return [from_kv(kv) for kv in result.kvs]

    async def list_quotas(self, namespace: str) -> list[Obj]:
        if self._may_have_quotas is not None and not self._may_have_quotas(namespace):
            return []
        return await self._range(self._quotas, namespace)

    async def list_objects(self, info: ResourceInfo, namespace: str) -> list[Obj]:
        return await self._range(info, namespace)

    async def update_quota_status(self, quota: Obj) -> Obj:
        meta = quota.get("metadata") or {}
        name = str(meta.get("name") or "")
        key = object_key(self._quotas, str(meta.get("namespace") or ""), name)
        try:
            revision = int(meta.get("resourceVersion") or 0)
        except ValueError:
            revision = 0
        if revision <= 0:
            raise QuotaConflict(f"quota {name} has no resourceVersion")
        try:
            kv = await self._store.update(key, to_store(quota), expected_revision=revision)
        except (st.Conflict, st.NotFound):
            raise QuotaConflict(f"quota {name} changed") from None
        except st.StoreError as e:
            raise errors.from_store_error(e, self._quotas, name) from None
        return {**quota, "metadata": {**meta, "resourceVersion": str(kv.mod_revision)}}
