"""Adoption and release: which objects a controller owns (upstream's ControllerRefManager).

An object belongs to a controller when its controller ownerReference names the
controller's uid. :func:`claim` decides, from the cache, which objects to keep, adopt
(orphans the selector matches, while neither side is being deleted) and release (owned
objects the selector no longer matches); :func:`set_owner_references` writes the change
with the object's resourceVersion as a precondition, so a concurrent change to the object
makes the write fail (and the sync retry) rather than be lost.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from kybernetes.api import LabelSelector, ResourceInfo
from kybernetes.client import NotFound, RESTClient
from kybernetes.controllers._podutil import (
    controller_ref,
    is_terminating,
    labels,
    meta,
    owner_reference,
)

Object = dict[str, Any]


async def set_owner_references(
    client: RESTClient, info: ResourceInfo, obj: Mapping[str, Any], refs: list[Object]
) -> Object | None:
    """Replace ``obj``'s ownerReferences (None if the object is gone)."""
    m = meta(obj)
    patch = {"metadata": {"ownerReferences": refs, "resourceVersion": m.get("resourceVersion")}}
    try:
        return await client.patch(
            info, m["name"], patch, namespace=m.get("namespace"), type="merge"
        )
    except NotFound:
        return None


async def claim(
    client: RESTClient,
    owner: Mapping[str, Any],
    owner_info: ResourceInfo,
    selector: LabelSelector,
    candidates: Iterable[Mapping[str, Any]],
    info: ResourceInfo,
) -> list[Mapping[str, Any]]:
    """The candidates ``owner`` owns after adopting and releasing (see module doc)."""
    uid = meta(owner).get("uid")
    owner_deleting = is_terminating(owner)
    owned: list[Mapping[str, Any]] = []
    for obj in candidates:
        ref = controller_ref(obj)
        matches = selector.matches(labels(obj))
        if ref is not None:
            if ref.get("uid") != uid:
                continue  # somebody else's
            if matches:
                owned.append(obj)
            elif not owner_deleting and not is_terminating(obj):
                refs = [
                    dict(r) for r in meta(obj).get("ownerReferences") or () if r.get("uid") != uid
                ]
                await set_owner_references(client, info, obj, refs)
            continue
        if owner_deleting or not matches or is_terminating(obj):
            continue
        # Adopt: re-check the owner is live and the same object (not a namesake).
        m = meta(owner)
        fresh = await client.get(owner_info, m["name"], namespace=m.get("namespace"))
        if meta(fresh).get("uid") != uid or is_terminating(fresh):
            continue
        refs = [copy.deepcopy(dict(r)) for r in meta(obj).get("ownerReferences") or ()]
        refs.append(owner_reference(owner, owner_info))
        adopted = await set_owner_references(client, info, obj, refs)
        if adopted is not None:
            owned.append(adopted)
    return owned
