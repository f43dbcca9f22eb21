"""The shared informer factory: one list+watch per resource, however many controllers.

Theory of operation: :meth:`SharedInformerFactory.informer` returns the same
:class:`~._informer.Informer` for the same (resource, namespace, label selector, field
selector), adding any indexers the caller needs that it lacks. :meth:`SharedInformerFactory.run`
runs every informer in one task group until cancelled, including informers first asked
for after it started; :meth:`SharedInformerFactory.wait_for_sync` returns once every
informer asked for so far has listed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from kybernetes.api import ResourceInfo
from kybernetes.client._cache import IndexFunc
from kybernetes.client._informer import Informer
from kybernetes.client._rest import RESTClient


class SharedInformerFactory:
    """One informer per (resource, namespace, selectors), shared by every caller."""

    def __init__(
        self,
        client: RESTClient,
        *,
        namespace: str | None = None,
        resync_period: float | None = None,
        page_size: int = 500,
        freeze: bool | None = None,
    ) -> None:
        self.client = client
        self.namespace = namespace
        self.resync_period = resync_period
        self.page_size = page_size
        self.freeze = freeze
        self._informers: dict[tuple[str, ...], Informer] = {}
        self._added = asyncio.Event()

    def informer(
        self,
        resource: ResourceInfo,
        *,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
        indexers: Mapping[str, IndexFunc] | None = None,
    ) -> Informer:
        """The shared informer; ``indexers`` not yet present are added to it."""
        namespace = namespace if namespace is not None else self.namespace
        if not resource.namespaced:
            namespace = None
        key = (
            resource.group,
            resource.version,
            resource.plural,
            namespace or "",
            label_selector or "",
            field_selector or "",
        )
        informer = self._informers.get(key)
        if informer is None:
            informer = Informer(
                self.client,
                resource,
                namespace=namespace,
                label_selector=label_selector,
                field_selector=field_selector,
                resync_period=self.resync_period,
                page_size=self.page_size,
                freeze=self.freeze,
            )
            self._informers[key] = informer
            self._added.set()
        for name, func in (indexers or {}).items():
            if name not in informer.cache.indexers():
                informer.add_indexer(name, func)
        return informer

    def informers(self) -> list[Informer]:
        return list(self._informers.values())

    def has_synced(self) -> bool:
        return all(i.has_synced() for i in self._informers.values())

    async def wait_for_sync(self) -> None:
        for informer in list(self._informers.values()):
            await informer.wait_for_sync()

    async def run(self) -> None:
        """Run every informer, including those requested later, until cancelled."""
        started: set[tuple[str, ...]] = set()
        async with asyncio.TaskGroup() as tasks:
            while True:
                self._added.clear()
                for key, informer in list(self._informers.items()):
                    if key not in started:
                        started.add(key)
                        tasks.create_task(informer.run(), name=f"informer {key}")
                await self._added.wait()
