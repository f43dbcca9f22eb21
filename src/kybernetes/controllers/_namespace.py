"""The namespace controller: empties a Terminating namespace, then lets it go.

``sync(name)`` for a namespace with a ``deletionTimestamp`` and the ``kubernetes`` entry in
``spec.finalizers``: delete every collection of every namespaced resource the registry
knows (those that support deletecollection), then list them again. If anything is left,
the status gets upstream's conditions (``NamespaceDeletionContentFailure`` when deleting
failed, ``NamespaceContentRemaining`` and ``NamespaceFinalizersRemaining`` naming what is
left) and the key is looked at again shortly; once nothing is left, ``kubernetes`` is
removed through ``namespaces/{name}/finalize`` and the API server deletes the namespace.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from kybernetes.api import REGISTRY, ResourceInfo
from kybernetes.client import APIError, Informer, MethodNotAllowed, NotFound
from kybernetes.controllers._base import NAMESPACES, ControllerContext, enqueue_handlers
from kybernetes.controllers._podutil import format_time, is_terminating, meta

log = logging.getLogger("kyb.controllers.namespace")

Object = dict[str, Any]

FINALIZER = "kubernetes"
#: How long to wait before looking again at a namespace whose content is not gone yet.
RECHECK_DELAY = 1.0

_CONDITIONS = (
    "NamespaceDeletionDiscoveryFailure",
    "NamespaceDeletionGroupVersionParsingFailure",
    "NamespaceDeletionContentFailure",
    "NamespaceContentRemaining",
    "NamespaceFinalizersRemaining",
)
_OK_REASON = {
    "NamespaceDeletionDiscoveryFailure": "ResourcesDiscovered",
    "NamespaceDeletionGroupVersionParsingFailure": "ParsedGroupVersions",
    "NamespaceDeletionContentFailure": "ContentDeleted",
    "NamespaceContentRemaining": "ContentRemoved",
    "NamespaceFinalizersRemaining": "ContentHasNoFinalizers",
}
_OK_MESSAGE = {
    "NamespaceDeletionDiscoveryFailure": "All resources successfully discovered",
    "NamespaceDeletionGroupVersionParsingFailure": "All legacy kube types successfully parsed",
    "NamespaceDeletionContentFailure": (
        "All content successfully deleted, may be waiting on finalization"
    ),
    "NamespaceContentRemaining": "All content successfully removed",
    "NamespaceFinalizersRemaining": "All content-preserving finalizers finished",
}
_BAD_REASON = {
    "NamespaceDeletionContentFailure": "ContentDeletionFailed",
    "NamespaceContentRemaining": "SomeResourcesRemain",
    "NamespaceFinalizersRemaining": "SomeFinalizersRemain",
}


def namespaced_resources() -> list[ResourceInfo]:
    """Every namespaced resource a namespace deletion must empty."""
    return [
        info
        for info in REGISTRY
        if info.namespaced and "deletecollection" in info.verbs and "list" in info.verbs
    ]


class NamespaceController:
    name = "namespace"

    def __init__(self, ctx: ControllerContext) -> None:
        self.ctx = ctx
        self.client = ctx.client
        self.queue = ctx.queue(self.name)
        self.informer = ctx.factory.informer(NAMESPACES)
        self.informer.add_event_handler(**enqueue_handlers(self.queue))

    def informers(self) -> Sequence[Informer]:
        return (self.informer,)

    async def sync(self, key: str) -> None:
        ns = self.informer.cache.get(key)
        if ns is None or not is_terminating(ns):
            return
        if FINALIZER not in ((ns.get("spec") or {}).get("finalizers") or ()):
            return
        failures: list[str] = []
        remaining: dict[str, int] = {}
        finalizers: dict[str, int] = {}
        for info in namespaced_resources():
            try:
                await self.client.delete_collection(info, namespace=key)
            except (NotFound, MethodNotAllowed):
                continue
            except APIError as e:
                failures.append(f"{info.group_resource}: {e}")
        for info in namespaced_resources():
            try:
                listing = await self.client.list(info, namespace=key)
            except (NotFound, MethodNotAllowed):
                continue
            items = listing.get("items") or ()
            if items:
                remaining[info.group_resource] = len(items)
                for item in items:
                    for fin in meta(item).get("finalizers") or ():
                        finalizers[fin] = finalizers.get(fin, 0) + 1
        if failures or remaining:
            await self._set_conditions(ns, failures, remaining, finalizers)
            self.queue.add_after(key, RECHECK_DELAY)
            return
        body = copy.deepcopy(dict(ns))
        body["spec"]["finalizers"] = [f for f in body["spec"]["finalizers"] if f != FINALIZER]
        try:
            await self.client.update(NAMESPACES, body, subresource="finalize")
        except NotFound:
            return

    async def _set_conditions(
        self,
        ns: Mapping[str, Any],
        failures: list[str],
        remaining: dict[str, int],
        finalizers: dict[str, int],
    ) -> None:
        bad: dict[str, str] = {}
        if failures:
            bad["NamespaceDeletionContentFailure"] = "Failed to delete all resource types, " + (
                f"{len(failures)} remaining: " + ", ".join(failures)
            )
        if remaining:
            bad["NamespaceContentRemaining"] = "Some resources are remaining: " + ", ".join(
                f"{r} has {n} resource instances" for r, n in sorted(remaining.items())
            )
        if finalizers:
            bad["NamespaceFinalizersRemaining"] = (
                "Some content in the namespace has finalizers remaining: "
                + ", ".join(f"{f} in {n} resource instances" for f, n in sorted(finalizers.items()))
            )
        status = copy.deepcopy(dict(ns.get("status") or {}))
        old = {c.get("type"): c for c in status.get("conditions") or ()}
        now = format_time(self.ctx.clock.wall())
        conditions = []
        for kind in _CONDITIONS:
            value = "True" if kind in bad else "False"
            reason = _BAD_REASON[kind] if kind in bad else _OK_REASON[kind]
            message = bad.get(kind, _OK_MESSAGE[kind])
            prev = old.get(kind)
            since = prev.get("lastTransitionTime") if prev and prev.get("status") == value else now
            conditions.append(
                {
                    "type": kind,
                    "status": value,
                    "lastTransitionTime": since,
                    "reason": reason,
                    "message": message,
                }
            )
        status["conditions"] = conditions
        if status == (ns.get("status") or {}):
            return
        body = copy.deepcopy(dict(ns))
        body["status"] = status
        try:
            await self.client.update(NAMESPACES, body, subresource="status")
        except NotFound:
            return
