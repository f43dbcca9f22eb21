"""The garbage collector: deletes dependents whose owners are gone, and carries out the
``foregroundDeletion`` and ``orphan`` finalizers.

Theory of operation: the ownerReferences graph is the informer caches themselves, each
indexed by ``metadata.uid`` and by owner uid, over every resource in :data:`GC_RESOURCES`.
Queue keys name one object (``group/plural|namespace/name``); any change to an object
enqueues it, its owners and (when it is deleted) its dependents. ``sync`` then looks at
the object as cached:

* being deleted with the ``orphan`` finalizer: remove the ownerReferences pointing to it
  from every dependent, then the finalizer;
* being deleted with ``foregroundDeletion``: delete every dependent (foreground again if
  the dependent has dependents of its own) and remove the finalizer once no dependent
  with ``blockOwnerDeletion`` is left;
* otherwise, for each ownerReference decide whether the owner exists. An owner missing
  from the cache is looked up through the API and must have the referenced uid (a
  namesake does not count), so a lagging cache never causes a deletion, and owners that
  vanished while the collector was down are found out at start-up (every cached object
  is checked once when the informers list). If every owner is gone the object is deleted
  (background, guarded by its uid; foreground when an owner waits on it); if only some
  are, the dangling references are removed.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from kybernetes.api import REGISTRY, ResourceInfo
from kybernetes.client import (
    OWNER_UID_INDEX,
    DeletedFinalStateUnknown,
    Informer,
    NotFound,
    object_key,
    split_key,
)
from kybernetes.controllers._base import ControllerContext, resource, unwrap
from kybernetes.controllers._claim import set_owner_references
from kybernetes.controllers._podutil import is_terminating, meta

log = logging.getLogger("kyb.controllers.garbagecollector")

Object = dict[str, Any]

ORPHAN = "orphan"
FOREGROUND = "foregroundDeletion"
UID_INDEX = "uid"

#: (group, plural) of every resource whose ownerReferences the collector follows.
GC_RESOURCES: tuple[tuple[str, str], ...] = (
    ("", "pods"),
    ("", "replicationcontrollers"),
    ("", "configmaps"),
    ("", "secrets"),
    ("", "services"),
    ("", "endpoints"),
    ("", "serviceaccounts"),
    ("", "persistentvolumeclaims"),
    ("apps", "deployments"),
    ("apps", "replicasets"),
    ("apps", "daemonsets"),
    ("apps", "statefulsets"),
    ("apps", "controllerrevisions"),
    ("batch", "jobs"),
    ("batch", "cronjobs"),
    ("discovery.k8s.io", "endpointslices"),
    ("policy", "poddisruptionbudgets"),
    ("coordination.k8s.io", "leases"),
)


def _index_uid(obj: Object) -> list[str]:
    uid = meta(obj).get("uid")
    return [uid] if uid else []


def _rkey(info: ResourceInfo) -> str:
    return f"{info.group}/{info.plural}"


class GarbageCollector:
    name = "garbagecollector"

    def __init__(self, ctx: ControllerContext) -> None:
        self.ctx = ctx
        self.client = ctx.client
        self.queue = ctx.queue(self.name)
        self.by_rkey: dict[str, tuple[ResourceInfo, Informer]] = {}
        for group, plural in GC_RESOURCES:
            info = resource(group, plural)
            informer = ctx.factory.informer(info, indexers={UID_INDEX: _index_uid})
            self.by_rkey[_rkey(info)] = (info, informer)
            self._watch(info, informer)

    def _watch(self, info: ResourceInfo, informer: Informer) -> None:
        def on_add(obj: Object) -> None:
            self._changed(info, obj)

        def on_update(old: Object, new: Object) -> None:
            self._changed(info, new, old)

        def on_delete(obj: Object | DeletedFinalStateUnknown) -> None:
            self._deleted(info, obj)

        informer.add_event_handler(on_add=on_add, on_update=on_update, on_delete=on_delete)

    def informers(self) -> Sequence[Informer]:
        return [informer for _, informer in self.by_rkey.values()]

    # -- handlers ----------------------------------------------------------------------

    def _key(self, info: ResourceInfo, obj: Mapping[str, Any]) -> str:
        return f"{_rkey(info)}|{object_key(obj)}"

    def _owner_keys(self, obj: Mapping[str, Any]) -> list[str]:
        keys = []
        for ref in meta(obj).get("ownerReferences") or ():
            info = REGISTRY.by_api_version_kind(ref.get("apiVersion") or "", ref.get("kind") or "")
            if info is None or _rkey(info) not in self.by_rkey:
                continue
            namespace = meta(obj).get("namespace") if info.namespaced else None
            name = ref.get("name") or ""
            keys.append(
                f"{_rkey(info)}|{namespace}/{name}" if namespace else f"{_rkey(info)}|{name}"
            )
        return keys

    def _changed(self, info: ResourceInfo, obj: Object, old: Object | None = None) -> None:
        self.queue.add(self._key(info, obj))
        if (
            old is None
            or is_terminating(obj)
            or meta(old).get("ownerReferences") != meta(obj).get("ownerReferences")
        ):
            for key in self._owner_keys(obj):
                self.queue.add(key)

    def _deleted(self, info: ResourceInfo, obj: Object | DeletedFinalStateUnknown) -> None:
        gone = unwrap(obj)
        for key in self._owner_keys(gone):
            self.queue.add(key)
        for dep_info, dep in self.dependents_of(meta(gone).get("uid") or ""):
            self.queue.add(self._key(dep_info, dep))

    # -- graph -------------------------------------------------------------------------

    def dependents_of(self, uid: str) -> list[tuple[ResourceInfo, Mapping[str, Any]]]:
        if not uid:
            return []
        return [
            (info, dep)
            for info, informer in self.by_rkey.values()
            for dep in informer.cache.by_index(OWNER_UID_INDEX, uid)
        ]

    async def owner_state(self, ref: Mapping[str, Any], namespace: str | None) -> str:
        """``present``, ``absent`` or ``waiting`` (being deleted in the foreground)."""
        info = REGISTRY.by_api_version_kind(ref.get("apiVersion") or "", ref.get("kind") or "")
        if info is None:
            return "present"  # a kind we cannot look up: never delete on a guess
        uid = ref.get("uid") or ""
        owner: Mapping[str, Any] | None = None
        known = self.by_rkey.get(_rkey(info))
        if known is not None:
            found = known[1].cache.by_index(UID_INDEX, uid)
            owner = found[0] if found else None
        if owner is None:
            try:
                owner = await self.client.get(
                    info, ref.get("name") or "", namespace=namespace if info.namespaced else None
                )
            except NotFound:
                return "absent"
            if meta(owner).get("uid") != uid:
                return "absent"
        if is_terminating(owner) and FOREGROUND in (meta(owner).get("finalizers") or ()):
            return "waiting"
        return "present"

    # -- sync --------------------------------------------------------------------------

    async def sync(self, key: str) -> None:
        rkey, _, okey = key.partition("|")
        entry = self.by_rkey.get(rkey)
        if entry is None:
            return
        info, informer = entry
        obj = informer.cache.get(okey)
        if obj is None:
            return
        finalizers = meta(obj).get("finalizers") or ()
        if is_terminating(obj) and ORPHAN in finalizers:
            await self._orphan_dependents(info, obj)
            return
        if is_terminating(obj) and FOREGROUND in finalizers:
            await self._delete_dependents(info, obj)
            return
        refs = meta(obj).get("ownerReferences") or ()
        if not refs or is_terminating(obj):
            return
        namespace, _ = split_key(okey)
        states = [(ref, await self.owner_state(ref, namespace)) for ref in refs]
        if all(state == "present" for _, state in states):
            return
        if any(state == "present" for _, state in states):
            dangling = {ref.get("uid") for ref, state in states if state == "absent"}
            if dangling:
                kept = [dict(r) for r in refs if r.get("uid") not in dangling]
                await set_owner_references(self.client, info, obj, kept)
            return
        waiting = any(state == "waiting" for _, state in states)
        has_dependents = bool(self.dependents_of(meta(obj).get("uid") or ""))
        policy = "Foreground" if waiting and has_dependents else "Background"
        await self._delete(info, obj, policy)

    async def _delete(self, info: ResourceInfo, obj: Mapping[str, Any], policy: str) -> None:
        m = meta(obj)
        log.info("deleting %s %s (owners gone)", info.kind, object_key(obj))
        try:
            await self.client.delete(
                info,
                m["name"],
                namespace=m.get("namespace"),
                uid=m.get("uid"),
                propagation_policy=policy,  # type: ignore[arg-type]
            )
        except NotFound:
            return

    async def _remove_finalizer(
        self, info: ResourceInfo, obj: Mapping[str, Any], name: str
    ) -> None:
        m = meta(obj)
        remaining = [f for f in m.get("finalizers") or () if f != name]
        patch = {"metadata": {"finalizers": remaining, "resourceVersion": m.get("resourceVersion")}}
        try:
            await self.client.patch(info, m["name"], patch, namespace=m.get("namespace"))
        except NotFound:
            return

    async def _orphan_dependents(self, info: ResourceInfo, owner: Mapping[str, Any]) -> None:
        uid = meta(owner).get("uid") or ""
        for dep_info, dep in self.dependents_of(uid):
            kept = [dict(r) for r in meta(dep).get("ownerReferences") or () if r.get("uid") != uid]
            await set_owner_references(self.client, dep_info, dep, kept)
        await self._remove_finalizer(info, owner, ORPHAN)

    async def _delete_dependents(self, info: ResourceInfo, owner: Mapping[str, Any]) -> None:
        uid = meta(owner).get("uid") or ""
        blocking = 0
        for dep_info, dep in self.dependents_of(uid):
            ref = next(r for r in meta(dep).get("ownerReferences") or () if r.get("uid") == uid)
            if ref.get("blockOwnerDeletion"):
                blocking += 1
            if not is_terminating(dep):
                nested = bool(self.dependents_of(meta(dep).get("uid") or ""))
                await self._delete(dep_info, dep, "Foreground" if nested else "Background")
        if blocking == 0:
            await self._remove_finalizer(info, owner, FOREGROUND)
