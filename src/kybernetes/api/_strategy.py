"""Per-resource create and update strategy: the one dispatch API the API server calls.

Every function takes the :class:`ResourceInfo` of the request and plain dicts, and returns
a new dict (inputs are never mutated). Resources are keyed by (group, kind); a resource with
no special rules gets the generic behaviour (no defaults, metadata validation only).
Resources outside the built-in groups are treated as custom resources: they track
``metadata.generation`` and their status follows the status subresource, as upstream's.

The API server is expected to call, in this order (mirroring upstream's decode, BeforeCreate
and BeforeUpdate):

Create::

    obj = <set uid, creationTimestamp, name from generateName, namespace>
    obj = default(info, obj)            # needs the name (namespaces label themselves)
    obj = prepare_for_create(info, obj) # needs the uid (jobs select their pods by it)
    errors = validate_create(info, obj)

Update (PUT and every patch, after the patch is applied)::

    new = <copy system metadata from old: uid, creationTimestamp, deletionTimestamp, ...>
    new = default(info, new)
    new = prepare_for_update(info, new, old)       # or prepare_for_status_update on /status
    errors = validate_update(info, new, old)

``prepare_for_create`` and ``prepare_for_update`` set ``metadata.generation`` themselves for
resources that track it (1 on create; old + 1 when :func:`generation_changes`, else old).
They also re-apply the defaults after resetting status, because upstream defaults objects
again whenever it reads them back from storage (so a fresh PVC shows ``phase: Pending``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from kybernetes.api import _strategy_rules as rules
from kybernetes.api._defaults_apps import (
    default_daemon_set,
    default_deployment,
    default_replica_set,
    default_stateful_set,
)
from kybernetes.api._defaults_batch import default_cron_job, default_job
from kybernetes.api._defaults_core import (
    default_endpoints,
    default_limit_range,
    default_namespace,
    default_node,
    default_persistent_volume,
    default_persistent_volume_claim,
    default_replication_controller,
    default_resource_quota,
    default_secret,
    default_service,
)
from kybernetes.api._defaults_other import (
    default_custom_resource_definition,
    default_endpoint_slice,
    default_priority_class,
    default_role_binding,
    default_storage_class,
)
from kybernetes.api._defaults_pod import default_pod
from kybernetes.api._errors import FieldError
from kybernetes.api._jsonvalue import deep_copy
from kybernetes.api._names import validate_object_meta, validate_object_meta_update
from kybernetes.api._registry import ResourceInfo
from kybernetes.api._validation_common import json_same
from kybernetes.api._validators import VALIDATORS

Obj = dict[str, Any]
Key = tuple[str, str]

_RBAC = "rbac.authorization.k8s.io"

_DEFAULTERS: dict[Key, Callable[[Obj], None]] = {
    ("", "Pod"): default_pod,
    ("", "Service"): default_service,
    ("", "Namespace"): default_namespace,
    ("", "Node"): default_node,
    ("", "PersistentVolume"): default_persistent_volume,
    ("", "PersistentVolumeClaim"): default_persistent_volume_claim,
    ("", "Secret"): default_secret,
    ("", "ReplicationController"): default_replication_controller,
    ("", "Endpoints"): default_endpoints,
    ("", "LimitRange"): default_limit_range,
    ("", "ResourceQuota"): default_resource_quota,
    ("apps", "Deployment"): default_deployment,
    ("apps", "ReplicaSet"): default_replica_set,
    ("apps", "DaemonSet"): default_daemon_set,
    ("apps", "StatefulSet"): default_stateful_set,
    ("batch", "Job"): default_job,
    ("batch", "CronJob"): default_cron_job,
    ("discovery.k8s.io", "EndpointSlice"): default_endpoint_slice,
    ("scheduling.k8s.io", "PriorityClass"): default_priority_class,
    ("storage.k8s.io", "StorageClass"): default_storage_class,
    (_RBAC, "RoleBinding"): default_role_binding,
    (_RBAC, "ClusterRoleBinding"): default_role_binding,
    ("apiextensions.k8s.io", "CustomResourceDefinition"): default_custom_resource_definition,
}

#: API groups whose resources are built in; anything else is a custom resource.
BUILTIN_GROUPS = frozenset(
    {
        "",
        "apps",
        "batch",
        "coordination.k8s.io",
        "discovery.k8s.io",
        "events.k8s.io",
        "policy",
        _RBAC,
        "storage.k8s.io",
        "scheduling.k8s.io",
        "apiextensions.k8s.io",
        "autoscaling",
        "networking.k8s.io",
        "node.k8s.io",
        "admissionregistration.k8s.io",
        "certificates.k8s.io",
        "authentication.k8s.io",
        "authorization.k8s.io",
        "flowcontrol.apiserver.k8s.io",
        "resource.k8s.io",
        "apiregistration.k8s.io",
    }
)

#: Built-in kinds whose strategy maintains ``metadata.generation``.
_GENERATION_KINDS: frozenset[Key] = frozenset(
    {
        ("", "Pod"),
        ("", "ReplicationController"),
        ("apps", "Deployment"),
        ("apps", "ReplicaSet"),
        ("apps", "DaemonSet"),
        ("apps", "StatefulSet"),
        ("batch", "Job"),
        ("batch", "CronJob"),
        ("policy", "PodDisruptionBudget"),
        ("discovery.k8s.io", "EndpointSlice"),
        ("apiextensions.k8s.io", "CustomResourceDefinition"),
    }
)


def _copy(obj: Obj) -> Obj:
    """A deep copy of a JSON object; orjson's round trip is several times faster than a
    recursive copy, and the recursive one handles what orjson refuses (huge integers)."""
    try:
        copied: Obj = orjson.loads(orjson.dumps(obj))
    except (TypeError, orjson.JSONEncodeError):
        copied = deep_copy(obj)
    return copied


def _key(info: ResourceInfo) -> Key:
    return (info.group, info.kind)


def _has_status(info: ResourceInfo) -> bool:
    return "status" in info.subresources


def tracks_generation(info: ResourceInfo) -> bool:
    """Whether objects of this resource carry a ``metadata.generation`` the server keeps."""
    return _key(info) in _GENERATION_KINDS or info.group not in BUILTIN_GROUPS


def default(info: ResourceInfo, obj: Obj) -> Obj:
    """A copy of ``obj`` with upstream's defaults for its resource filled in."""
    out = _copy(obj)
    defaulter = _DEFAULTERS.get(_key(info))
    if defaulter is not None:
        defaulter(out)
    return out


def generation_changes(info: ResourceInfo, new: Obj, old: Obj) -> bool:
    """Whether an update from ``old`` to ``new`` bumps ``metadata.generation``: the resource
    tracks generation and something outside metadata (and outside status, where status is a
    subresource) changed. EndpointSlices count label changes too, as upstream."""
    if not tracks_generation(info):
        return False
    ignored = {"metadata", "apiVersion", "kind"}
    if _has_status(info):
        ignored.add("status")
    keys = (set(new) | set(old)) - ignored
    if any(not json_same(new.get(k), old.get(k)) for k in keys):
        return True
    if _key(info) == ("discovery.k8s.io", "EndpointSlice"):
        return not json_same(_meta(new).get("labels") or {}, _meta(old).get("labels") or {})
    return False


def prepare_for_create(info: ResourceInfo, obj: Obj) -> Obj:
    """A copy of ``obj`` with what users may not set on create reset: status of resources
    whose status controllers own (pods start ``Pending`` with their QoS class), namespace
    finalizers, job selectors, ``generation: 1``."""
    out = _copy(obj)
    key = _key(info)
    if _has_status(info) and key != ("", "Node"):
        # Nodes are the exception: the kubelet registers its node with a status.
        out.pop("status", None)
    if tracks_generation(info):
        _meta(out, create=True)["generation"] = 1
    hook = rules.CREATE_HOOKS.get(key)
    if hook is not None:
        hook(out)
    return _redefault(info, out)


def prepare_for_update(info: ResourceInfo, new: Obj, old: Obj) -> Obj:
    """A copy of ``new`` for an update of the main resource: status changes are dropped
    (for resources with a status subresource) and ``generation`` is set."""
    out = _copy(new)
    if _has_status(info):
        _copy_field(out, old, "status")
    hook = rules.UPDATE_HOOKS.get(_key(info))
    if hook is not None:
        hook(out, old)
    _set_generation(info, out, old)
    return _redefault(info, out)


def prepare_for_status_update(
    info: ResourceInfo, new: Obj, old: Obj, *, now: str | None = None
) -> Obj:
    """A copy of ``new`` for a write to the status subresource: everything but ``status``
    and ``metadata`` is taken from ``old``, and for some resources parts of the metadata
    too (deployments keep their labels; pods their owner references). ``now`` (RFC 3339)
    stamps status transition times where upstream does (persistent volume phases)."""
    out = _copy(new)
    for key in (set(out) | set(old)) - {"metadata", "status", "apiVersion", "kind"}:
        _copy_field(out, old, key)
    hook = rules.STATUS_HOOKS.get(_key(info))
    if hook is not None:
        hook(out, old, now)
    # Status writes never move the generation (the server owns it).
    generation, meta = _meta(old).get("generation"), _meta(out, create=True)
    if generation is None:
        meta.pop("generation", None)
    else:
        meta["generation"] = generation
    return _redefault(info, out)


def prepare_namespace_finalize(new: Obj, old: Obj) -> Obj:
    """A copy of ``new`` for a write to ``namespaces/{name}/finalize``: only
    ``spec.finalizers`` (and metadata) may change there; status is kept."""
    out = _copy(new)
    _copy_field(out, old, "status")
    return out


def validate_create(info: ResourceInfo, obj: Obj) -> list[FieldError]:
    """Everything wrong with ``obj`` as a new object (empty when valid), with upstream's
    field paths and messages. Call it on the defaulted, prepared object."""
    validators = VALIDATORS.get(_key(info))
    if validators is not None:
        return validators[0](obj)
    return validate_object_meta(_meta(obj), namespaced=info.namespaced)


def validate_update(info: ResourceInfo, new: Obj, old: Obj) -> list[FieldError]:
    """Everything wrong with replacing ``old`` by ``new``: the checks of a create on ``new``
    (except the name rules) plus immutability. ``new.metadata.resourceVersion`` must be set
    (upstream rejects updates without one; fill it from ``old`` for unconditional updates
    before calling). Also right for status writes: their spec was taken from ``old``."""
    validators = VALIDATORS.get(_key(info))
    if validators is not None:
        return validators[1](new, old)
    return validate_object_meta_update(_meta(new), _meta(old))


# -- helpers -----------------------------------------------------------------------------------


def _meta(obj: Obj, *, create: bool = False) -> Obj:
    meta = obj.get("metadata")
    if isinstance(meta, dict):
        return meta
    if not create:
        return {}
    obj["metadata"] = meta = {}
    return meta


def _copy_field(out: Obj, old: Obj, key: str) -> None:
    if key in old:
        out[key] = deep_copy(old[key])
    else:
        out.pop(key, None)


def _set_generation(info: ResourceInfo, out: Obj, old: Obj) -> None:
    if not tracks_generation(info):
        return
    generation = _meta(old).get("generation")
    base = generation if isinstance(generation, int) else 0
    bump = generation_changes(info, out, old)
    _meta(out, create=True)["generation"] = base + 1 if bump else base


def _redefault(info: ResourceInfo, obj: Obj) -> Obj:
    defaulter = _DEFAULTERS.get(_key(info))
    if defaulter is not None:
        defaulter(obj)
    return obj
