"""Built-in admission wired into one API server: its seams, pipelines and bookkeeping.

:class:`AdmissionWiring` builds upstream's plugins
(:func:`~._admission_builtin.builtin_admission`) on seams this server implements:

* service accounts: the serviceaccounts watch cache, then the store (the cache may lag an
  account created a moment ago);
* limit ranges: the limitranges watch cache;
* quotas: read from the store by the plugin itself, and not at all for a namespace the
  resourcequotas watch cache holds none in (the common case costs a dict lookup).

and gives each resource its :class:`~._write_pipeline.WritePipeline`:

* validating, every resource: NamespaceLifecycle, LimitRanger, ServiceAccount,
  ResourceQuota (last: it charges);
* mutating, pods only: LimitRanger, ServiceAccount, DefaultTolerationSeconds;
* allocation, services only: one :class:`~._allocator.ServiceAllocator` per server.

After-write and after-removal work, done before the request is answered (stand-ins for
controllers that do not exist yet):

* a created namespace gets its ``default`` service account;
* quota usage is recounted when a quota is created or its ``spec.hard`` changes, when a
  pod finishes (Succeeded/Failed), and when an object quota counts leaves the store;
* a removed service frees its cluster IP and node ports;
* writes and deletes of service accounts, limit ranges and quotas answer only once this
  server's watch cache has applied them, so admission, which reads that cache, sees a
  client's own writes on its next request.

Start-up and the periodic repair are in :mod:`._admission_startup`.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from kybernetes import store as st
from kybernetes.api import REGISTRY, Registry, ResourceInfo
from kybernetes.apiserver import _errors as errors
from kybernetes.apiserver._admission import (
    CREATE,
    Admission,
    Attributes,
    Chain,
    NamespaceGetter,
    NamespaceLifecycle,
)
from kybernetes.apiserver._admission_builtin import BuiltinAdmission, builtin_admission
from kybernetes.apiserver._admission_quota import ResourceQuotaAdmission
from kybernetes.apiserver._admission_quota_evaluators import evaluator_for
from kybernetes.apiserver._admission_quota_store import StoreQuotaAccess
from kybernetes.apiserver._admission_serviceaccount import ensure_default_service_account
from kybernetes.apiserver._allocator import ServiceAllocator
from kybernetes.apiserver._allocator_ranges import DEFAULT_NODE_PORT_RANGE, DEFAULT_SERVICE_CIDR
from kybernetes.apiserver._write_pipeline import AfterRemove, AfterWrite, WritePipeline

if TYPE_CHECKING:
    from kybernetes.apiserver._handlers import Resource

log = logging.getLogger(__name__)

Obj = dict[str, Any]

PODS = ("", "pods")
SERVICES = ("", "services")
NAMESPACES = ("", "namespaces")
SERVICE_ACCOUNTS = ("", "serviceaccounts")
LIMIT_RANGES = ("", "limitranges")
QUOTAS = ("", "resourcequotas")
#: Objects admission reads from the watch cache: their writes wait for it.
_CACHE_READ = frozenset({SERVICE_ACCOUNTS, LIMIT_RANGES, QUOTAS})
_TERMINAL = ("Succeeded", "Failed")
#: How long a write waits for the watch cache before answering anyway.
CACHE_SYNC_TIMEOUT = 5.0


class QuotaGate:
    """ResourceQuota admission, consulted only where the namespace may have quotas.

    The plugin would find no quota there and admit anyway; the gate skips its per-request
    work (evaluator, namespace lock) on the hot path. Same hint, same answer."""

    def __init__(
        self, quota: ResourceQuotaAdmission, may_have_quotas: Callable[[str], bool]
    ) -> None:
        self._quota = quota
        self._may_have_quotas = may_have_quotas

    async def admit(self, attrs: Attributes) -> None:
        if attrs.namespace and self._may_have_quotas(attrs.namespace):
            await self._quota.admit(attrs)


def _meta(obj: Obj) -> Obj:
    meta = obj.get("metadata")
    return meta if isinstance(meta, dict) else {}


def _phase(obj: Obj | None) -> Any:
    status = (obj or {}).get("status")
    return status.get("phase") if isinstance(status, dict) else None


def _hard(obj: Obj | None) -> Any:
    spec = (obj or {}).get("spec")
    return spec.get("hard") if isinstance(spec, dict) else None


def _writes_in_order(steps: Sequence[AfterWrite]) -> AfterWrite | None:
    if len(steps) < 2:
        return steps[0] if steps else None

    async def run(attrs: Attributes, stored: Obj) -> None:
        for step in steps:
            await step(attrs, stored)

    return run


def _removals_in_order(steps: Sequence[AfterRemove]) -> AfterRemove | None:
    if len(steps) < 2:
        return steps[0] if steps else None

    async def run(obj: Obj) -> None:
        for step in steps:
            await step(obj)

    return run


class AdmissionWiring:
    """Built-in admission of one API server (see the module docstring).

    ``resources`` is the server's resource table; it may be filled after construction
    (the seams look resources up when called)."""

    def __init__(
        self,
        store: st.Store,
        resources: Mapping[tuple[str, str, str], Resource],
        get_namespace: NamespaceGetter,
        *,
        registry: Registry = REGISTRY,
        clock: Callable[[], float] = time.time,
        service_cidr: str = DEFAULT_SERVICE_CIDR,
        node_port_range: str = DEFAULT_NODE_PORT_RANGE,
        cache_sync_timeout: float = CACHE_SYNC_TIMEOUT,
    ) -> None:
        self._resources = resources
        self._cache_sync_timeout = cache_sync_timeout
        self.allocator = ServiceAllocator(
            store, service_cidr=service_cidr, node_port_range=node_port_range, clock=clock
        )
        access = StoreQuotaAccess(store, registry, may_have_quotas=self.may_have_quotas)
        self.built: BuiltinAdmission = builtin_admission(
            get_service_account=self.get_service_account,
            list_limit_ranges=self.list_limit_ranges,
            quota_access=access,
            registry=registry,
            clock=clock,
        )
        *plugins, quota = self.built.validating
        assert quota is self.built.quota, "ResourceQuota must be the last validating plugin"
        gate = QuotaGate(self.built.quota, self.may_have_quotas)
        chain: list[Admission] = [NamespaceLifecycle(get_namespace), *plugins, gate]
        #: The validating chain, for every resource.
        self.validating = Chain(chain)

    # -- seams -------------------------------------------------------------------------------

    def resource(self, key: tuple[str, str]) -> Resource:
        group, plural = key
        return self._resources[(group, "v1", plural)]

    async def get_service_account(self, namespace: str, name: str) -> Obj | None:
        res = self.resource(SERVICE_ACCOUNTS)
        cached = res.cache.get(namespace, name)
        if cached is not None:
            return cached.decode()
        try:
            return await res.storage.get(namespace, name)
        except errors.APIError as e:
            if e.code == 404:
                return None
            raise

    async def list_limit_ranges(self, namespace: str) -> list[Obj]:
        items, _ = self.resource(LIMIT_RANGES).cache.snapshot(namespace)
        return [item.decode() for item in items]

    def may_have_quotas(self, namespace: str) -> bool:
        if not namespace:
            return False
        items, _ = self.resource(QUOTAS).cache.snapshot(namespace)
        return bool(items)

    def namespaces_with_quotas(self) -> set[str]:
        items, _ = self.resource(QUOTAS).cache.snapshot()
        return {item.namespace for item in items}

    # -- pipelines ---------------------------------------------------------------------------

    def pipeline_for(self, info: ResourceInfo) -> WritePipeline:
        key = (info.group, info.plural)
        counted = evaluator_for(info) is not None
        return WritePipeline(
            self.validating,
            mutating=self.built.mutating if key == PODS else None,
            allocator=self.allocator if key == SERVICES else None,
            quota=self.built.quota if counted else None,
            may_have_quotas=self.may_have_quotas,
            after_write=self._after_write(key),
            after_remove=self._after_remove(info, counted),
        )

    def _after_write(self, key: tuple[str, str]) -> AfterWrite | None:
        steps: list[AfterWrite] = []
        if key in _CACHE_READ:
            steps.append(self._written_cached)
        if key == NAMESPACES:
            steps.append(self._namespace_written)
        elif key == PODS:
            steps.append(self._pod_written)
        elif key == QUOTAS:
            steps.append(self._quota_written)
        return _writes_in_order(steps)

    def _after_remove(self, info: ResourceInfo, counted: bool) -> AfterRemove | None:
        key = (info.group, info.plural)
        steps: list[AfterRemove] = []
        if key in _CACHE_READ:
            steps.append(functools.partial(self._wait_cached, info))
        if key == SERVICES:
            steps.append(self.allocator.release)
        if counted:
            steps.append(self._recount_after_removal)
        return _removals_in_order(steps)

    # -- after writes ------------------------------------------------------------------------

    async def _wait_cached(self, info: ResourceInfo, obj: Obj) -> None:
        try:
            revision = int(_meta(obj).get("resourceVersion") or 0)
        except ValueError:
            return
        cache = self.resource((info.group, info.plural)).cache
        try:
            await asyncio.wait_for(cache.wait_for(revision), self._cache_sync_timeout)
        except TimeoutError:
            log.warning("the %s watch cache did not reach revision %d", info.plural, revision)

    async def _written_cached(self, attrs: Attributes, stored: Obj) -> None:
        await self._wait_cached(attrs.info, stored)

    async def _namespace_written(self, attrs: Attributes, stored: Obj) -> None:
        if attrs.operation == CREATE:
            create = self.resource(SERVICE_ACCOUNTS).storage.create
            await ensure_default_service_account(create, attrs.name)

    async def _pod_written(self, attrs: Attributes, stored: Obj) -> None:
        # A finished pod stops counting against compute quotas.
        if _phase(stored) in _TERMINAL and _phase(attrs.old) not in _TERMINAL:
            await self.recount(attrs.namespace)

    async def _quota_written(self, attrs: Attributes, stored: Obj) -> None:
        if attrs.operation == CREATE or _hard(stored) != _hard(attrs.old):
            await self.built.quota.recalculate(attrs.namespace)

    async def _recount_after_removal(self, obj: Obj) -> None:
        await self.recount(str(_meta(obj).get("namespace") or ""))

    async def recount(self, namespace: str) -> None:
        """Recount the quotas of ``namespace``, if it may have any."""
        if self.may_have_quotas(namespace):
            await self.built.quota.recalculate(namespace)
