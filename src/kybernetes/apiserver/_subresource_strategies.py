"""Strategies of the pod subresources that write the pod in their own way.

Upstream gives ``pods/binding`` and ``pods/ephemeralcontainers`` storages of their own
over the same objects; here they are a :class:`~kybernetes.apiserver._storage.ResourceStorage`
with one of these strategies, which wrap the pod's and change only the update steps:

* :class:`BindingStrategy`: the binding computes the whole new pod itself (node name,
  annotations, ``PodScheduled``) and it is written as computed: the main resource's rules
  (spec immutable, status kept) do not apply to it, as upstream writes it straight to
  storage.
* :class:`EphemeralContainersStrategy`: only ``spec.ephemeralContainers`` is taken from
  the request; everything else stays as stored; validated by :mod:`._ephemeral`.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from kybernetes.api._errors import FieldError
from kybernetes.apiserver._ephemeral import validate_ephemeral_update
from kybernetes.apiserver._strategy import ResourceStrategy

Obj = dict[str, Any]


class _Wrapped:
    """A strategy that does what ``inner`` does (subclasses override what differs)."""

    def __init__(self, inner: ResourceStrategy) -> None:
        self.inner = inner
        self.info = inner.info
        self.allow_create_on_update = False
        self.graceful_delete = inner.graceful_delete
        self.return_deleted_object = inner.return_deleted_object

    def default(self, obj: Obj) -> Obj:
        return self.inner.default(obj)

    def prepare_for_create(self, obj: Obj) -> Obj:
        return self.inner.prepare_for_create(obj)

    def prepare_for_update(self, new: Obj, old: Obj) -> Obj:
        return self.inner.prepare_for_update(new, old)

    def prepare_for_status_update(self, new: Obj, old: Obj, now: str) -> Obj:
        return self.inner.prepare_for_status_update(new, old, now)

    def prepare_for_finalize(self, new: Obj, old: Obj) -> Obj:
        return self.inner.prepare_for_finalize(new, old)

    def validate_create(self, obj: Obj) -> Sequence[FieldError]:
        return self.inner.validate_create(obj)

    def validate_update(self, new: Obj, old: Obj) -> Sequence[FieldError]:
        return self.inner.validate_update(new, old)

    def selectable_fields(self, obj: Mapping[str, Any]) -> Mapping[str, str]:
        return self.inner.selectable_fields(obj)

    def grace_period(self, obj: Obj, requested: int | None) -> int:
        return self.inner.grace_period(obj, requested)


class BindingStrategy(_Wrapped):
    def prepare_for_update(self, new: Obj, old: Obj) -> Obj:
        return new

    def validate_update(self, new: Obj, old: Obj) -> Sequence[FieldError]:
        # The binding validated what it changes (node name, annotations) before.
        return ()


class EphemeralContainersStrategy(_Wrapped):
    def prepare_for_update(self, new: Obj, old: Obj) -> Obj:
        out = copy.deepcopy(old)
        meta, new_meta = out.setdefault("metadata", {}), new.get("metadata") or {}
        for key in ("name", "namespace", "uid", "resourceVersion"):
            if key in new_meta:
                meta[key] = new_meta[key]
        spec = out.setdefault("spec", {})
        ephemeral = (new.get("spec") or {}).get("ephemeralContainers")
        if ephemeral:
            spec["ephemeralContainers"] = copy.deepcopy(ephemeral)
        else:
            spec.pop("ephemeralContainers", None)
        return out

    def validate_update(self, new: Obj, old: Obj) -> Sequence[FieldError]:
        return validate_ephemeral_update(new, old)
