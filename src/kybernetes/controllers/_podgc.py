"""Pod garbage collection: terminated pods over a threshold, and pods nobody will finish.

One key (``podgc``), synced at start, when a node goes away and every
:data:`GC_PERIOD` seconds:

* finished pods (Succeeded/Failed) beyond :data:`TERMINATED_THRESHOLD` are deleted,
  oldest first;
* pods bound to a node that does not exist (checked through the API, not only the cache)
  are deleted at once (grace period 0): no kubelet will ever stop them;
* pods being deleted that were never scheduled are deleted at once, for the same reason.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from kybernetes.client import Informer, NotFound
from kybernetes.controllers._base import NODES, PODS, ControllerContext
from kybernetes.controllers._podutil import is_terminating, meta

log = logging.getLogger("kyb.controllers.podgc")

KEY = "podgc"
TERMINATED_THRESHOLD = 12500
GC_PERIOD = 20.0


class PodGCController:
    name = "podgc"

    def __init__(self, ctx: ControllerContext, *, threshold: int = TERMINATED_THRESHOLD) -> None:
        self.client = ctx.client
        self.threshold = threshold
        self.queue = ctx.queue(self.name)
        self.pod_informer = ctx.factory.informer(PODS)
        self.node_informer = ctx.factory.informer(NODES)
        self.node_informer.add_event_handler(on_delete=lambda _obj: self.queue.add(KEY))
        self.queue.add(KEY)

    def informers(self) -> Sequence[Informer]:
        return (self.pod_informer, self.node_informer)

    async def sync(self, key: str) -> None:
        try:
            pods = self.pod_informer.cache.list()
            finished = [
                p for p in pods if (p.get("status") or {}).get("phase") in ("Succeeded", "Failed")
            ]
            excess = len(finished) - self.threshold
            if excess > 0:
                finished.sort(key=lambda p: str(meta(p).get("creationTimestamp") or ""))
                for pod in finished[:excess]:
                    await self._delete(pod, None)
            missing: dict[str, bool] = {}
            for pod in pods:
                node = (pod.get("spec") or {}).get("nodeName") or ""
                if not node:
                    if is_terminating(pod):
                        await self._delete(pod, 0)
                    continue
                if node not in missing:
                    missing[node] = await self._node_missing(node)
                if missing[node]:
                    await self._delete(pod, 0)
        finally:
            self.queue.add_after(KEY, GC_PERIOD)

    async def _node_missing(self, node: str) -> bool:
        if self.node_informer.cache.get(node) is not None:
            return False
        try:
            await self.client.get(NODES, node)
        except NotFound:
            return True
        return False

    async def _delete(self, pod: Mapping[str, Any], grace: int | None) -> None:
        m = meta(pod)
        log.info("deleting pod %s/%s", m.get("namespace"), m.get("name"))
        try:
            await self.client.delete(
                PODS,
                m["name"],
                namespace=m.get("namespace"),
                uid=m.get("uid"),
                grace_period_seconds=grace,
            )
        except NotFound:
            return
