"""The ServiceAccount controller: every live namespace has a ``default`` ServiceAccount.

Level-triggered: a namespace change or a ServiceAccount deletion enqueues the namespace;
``sync`` creates ``default`` if the cache lacks it (an AlreadyExists answer means the
cache lags, which is fine).
"""

from __future__ import annotations

from collections.abc import Sequence

from kybernetes.client import AlreadyExists, Informer, NotFound
from kybernetes.controllers._base import (
    NAMESPACES,
    SERVICE_ACCOUNTS,
    ControllerContext,
    enqueue_handlers,
    unwrap,
)
from kybernetes.controllers._podutil import is_terminating, meta

DEFAULT = "default"


class ServiceAccountController:
    name = "serviceaccount"

    def __init__(self, ctx: ControllerContext) -> None:
        self.client = ctx.client
        self.queue = ctx.queue(self.name)
        self.ns_informer = ctx.factory.informer(NAMESPACES)
        self.sa_informer = ctx.factory.informer(SERVICE_ACCOUNTS)
        self.ns_informer.add_event_handler(**enqueue_handlers(self.queue))
        self.sa_informer.add_event_handler(
            on_delete=lambda obj: self.queue.add(meta(unwrap(obj)).get("namespace") or "")
        )

    def informers(self) -> Sequence[Informer]:
        return (self.ns_informer, self.sa_informer)

    async def sync(self, key: str) -> None:
        ns = self.ns_informer.cache.get(key)
        if ns is None or is_terminating(ns):
            return
        if self.sa_informer.cache.get_by_name(DEFAULT, key) is not None:
            return
        body = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": DEFAULT}}
        try:
            await self.client.create(SERVICE_ACCOUNTS, body, namespace=key)
        except (AlreadyExists, NotFound):
            return
