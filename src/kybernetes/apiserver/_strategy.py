"""The strategy seam: what the generic storage layer asks a resource about its objects.

:class:`ResourceStrategy` is the one interface :mod:`._storage` calls; everything
resource-specific (defaulting, status handling, generation, validation, selectable fields,
graceful deletion) sits behind it. :class:`BuiltinStrategy` implements it for every
resource in the registry by delegating to ``kybernetes.api`` (``api._strategy`` for
defaults, preparation and validation, ``api._fieldlabels`` for field selectors).

Call order (mirroring upstream's BeforeCreate / BeforeUpdate):

* create: storage sets uid, creationTimestamp, name (generateName), namespace; then
  ``default`` -> ``prepare_for_create`` -> ``validate_create``.
* update: storage copies system metadata from the old object; then ``default`` ->
  ``prepare_for_update`` (or ``prepare_for_status_update`` on ``/status``,
  ``prepare_for_finalize`` on ``namespaces/x/finalize``) -> ``validate_update``.

Every method returns a new object; inputs are never mutated.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from kybernetes.api import ResourceInfo
from kybernetes.api import _strategy as api_strategy
from kybernetes.api._errors import FieldError, invalid, required
from kybernetes.api._fieldlabels import FieldLabels, field_labels_for

Obj = dict[str, Any]

#: Resources upstream lets a PUT create when the object does not exist yet.
_CREATE_ON_UPDATE = frozenset(
    {
        ("", "endpoints"),
        ("", "events"),
        ("", "limitranges"),
        ("", "services"),
        ("coordination.k8s.io", "leases"),
        ("events.k8s.io", "events"),
        ("rbac.authorization.k8s.io", "roles"),
        ("rbac.authorization.k8s.io", "rolebindings"),
        ("rbac.authorization.k8s.io", "clusterroles"),
        ("rbac.authorization.k8s.io", "clusterrolebindings"),
    }
)


#: Resources whose immediate DELETE answers with the deleted object (upstream's
#: ReturnDeletedObject); the rest answer a Success Status.
_RETURN_DELETED = frozenset(
    {
        ("", "pods"),
        ("", "podtemplates"),
        ("", "persistentvolumes"),
        ("", "persistentvolumeclaims"),
        ("", "resourcequotas"),
        ("", "services"),
        ("", "serviceaccounts"),
        ("storage.k8s.io", "storageclasses"),
    }
)


class ResourceStrategy(Protocol):
    """How one resource's objects are defaulted, prepared and validated."""

    info: ResourceInfo
    #: PUT of a missing object creates it (upstream's AllowCreateOnUpdate).
    allow_create_on_update: bool
    #: Deletes wait for a grace period (pods bound to a node), see :meth:`grace_period`.
    graceful_delete: bool
    #: An immediate DELETE answers with the object rather than a Success Status.
    return_deleted_object: bool

    def default(self, obj: Obj) -> Obj: ...

    def prepare_for_create(self, obj: Obj) -> Obj: ...

    def prepare_for_update(self, new: Obj, old: Obj) -> Obj: ...

    def prepare_for_status_update(self, new: Obj, old: Obj, now: str) -> Obj: ...

    def prepare_for_finalize(self, new: Obj, old: Obj) -> Obj: ...

    def validate_create(self, obj: Obj) -> Sequence[FieldError]: ...

    def validate_update(self, new: Obj, old: Obj) -> Sequence[FieldError]: ...

    def selectable_fields(self, obj: Mapping[str, Any]) -> Mapping[str, str]: ...

    def grace_period(self, obj: Obj, requested: int | None) -> int:
        """Seconds a delete of ``obj`` waits (0: delete now); only if ``graceful_delete``."""
        ...


def _path_segment_errors(field: str, value: Any) -> list[FieldError]:
    """Names become store keys and URL segments: they may not contain '/' or '%'."""
    if not isinstance(value, str):
        return [invalid(field, value, "must be a string")]
    if value in (".", ".."):
        return [invalid(field, value, f"may not be '{value}'")]
    for bad in ("/", "%"):
        if bad in value:
            return [invalid(field, value, f"may not contain '{bad}'")]
    return []


def meta_errors(obj: Obj) -> list[FieldError]:
    """The checks storage cannot do without (a usable name); full metadata validation
    belongs to the resource validators."""
    meta = obj.get("metadata") or {}
    name = meta.get("name")
    if not name:
        return [required("metadata.name", "name or generateName is required")]
    return _path_segment_errors("metadata.name", name)


class BuiltinStrategy:
    """The strategy of a built-in resource, backed by ``kybernetes.api``."""

    def __init__(self, info: ResourceInfo) -> None:
        self.info = info
        self.allow_create_on_update = (info.group, info.plural) in _CREATE_ON_UPDATE
        self.graceful_delete = (info.group, info.plural) == ("", "pods")
        self.return_deleted_object = (info.group, info.plural) in _RETURN_DELETED
        self._fields: FieldLabels = field_labels_for(info.group, info.plural)

    def default(self, obj: Obj) -> Obj:
        return api_strategy.default(self.info, obj)

    def prepare_for_create(self, obj: Obj) -> Obj:
        return api_strategy.prepare_for_create(self.info, obj)

    def prepare_for_update(self, new: Obj, old: Obj) -> Obj:
        return api_strategy.prepare_for_update(self.info, new, old)

    def prepare_for_status_update(self, new: Obj, old: Obj, now: str) -> Obj:
        return api_strategy.prepare_for_status_update(self.info, new, old, now=now)

    def prepare_for_finalize(self, new: Obj, old: Obj) -> Obj:
        return api_strategy.prepare_namespace_finalize(new, old)

    def validate_create(self, obj: Obj) -> Sequence[FieldError]:
        return api_strategy.validate_create(self.info, obj)

    def validate_update(self, new: Obj, old: Obj) -> Sequence[FieldError]:
        return api_strategy.validate_update(self.info, new, old)

    def selectable_fields(self, obj: Mapping[str, Any]) -> Mapping[str, str]:
        return self._fields.fields(obj)

    def grace_period(self, obj: Obj, requested: int | None) -> int:
        spec = obj.get("spec") or {}
        if requested is not None:
            period = requested
        else:
            default = spec.get("terminationGracePeriodSeconds")
            period = default if isinstance(default, int) else 0
        # Nothing runs an unscheduled or finished pod: there is nothing to wait for.
        if not spec.get("nodeName"):
            return 0
        if (obj.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
            return 0
        return max(period, 0)


def strategy_for(info: ResourceInfo) -> ResourceStrategy:
    return BuiltinStrategy(info)
