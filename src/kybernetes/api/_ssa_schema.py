"""What server-side apply needs to know about a schema node, compiled once per definition.

A :class:`Shape` says how values at one place in an object merge and are owned, following
upstream's conversion of OpenAPI extensions (kube-openapi ``schemaconv``):

- ``LEAF``: owned and replaced as a whole: scalars, ``x-kubernetes-list-type: atomic`` and
  lists without a list type or merge strategy, ``x-kubernetes-map-type: atomic`` structs and
  maps (``LabelSelector``, ``ObjectReference``...).
- ``MAP``: a granular struct (``fields``) or map (``values``); each entry owned separately.
- ``LIST``: an associative list: ``keys`` for ``x-kubernetes-list-type: map`` (items are
  ``k:{...}``), no keys for ``set`` (items are ``v:...``). Lists without a list type but with
  ``x-kubernetes-patch-strategy: merge`` are associative on their merge key (or a set).
- ``DEDUCED``: free-form JSON (``x-kubernetes-preserve-unknown-fields``, RawExtension, no
  schema at all): objects are granular maps, everything else a leaf.

Two things the OpenAPI definitions cannot tell, written down here from the Go types:

- ``key_defaults``: values upstream's schema defaults for list-map key fields that clients
  may omit (a container port without ``protocol`` is keyed with ``"TCP"``).
- ``implicit``: fields Go always serialises even when unset (non-pointer structs as ``{}``,
  fields without ``omitempty`` as ``null``). Upstream diffs Go objects, where these exist, so
  a new ``spec.template`` is not "added" but a new ``resources`` inside a new container is.
  Diffs here materialise them to compute the same ownership.
"""

from __future__ import annotations

import weakref
from typing import Any, Final

from kybernetes.api._schema import Schema, SchemaNode

LEAF: Final = 0
MAP: Final = 1
LIST: Final = 2
DEDUCED: Final = 3


class Shape:
    __slots__ = ("fields", "implicit", "items", "key_defaults", "keys", "kind", "values")

    def __init__(self, kind: int = LEAF) -> None:
        self.kind = kind
        self.fields: dict[str, Shape] = {}
        self.values: Shape | None = None  # type of undeclared map keys (None: deduced)
        self.items: Shape | None = None
        self.keys: tuple[str, ...] = ()
        self.key_defaults: dict[str, Any] = {}
        self.implicit: dict[str, Any] | None = None

    def child(self, name: str) -> Shape:
        """The shape of map entry ``name``."""
        return self.fields.get(name) or self.values or DEDUCED_SHAPE

    def __repr__(self) -> str:
        return f"Shape({('leaf', 'map', 'list', 'deduced')[self.kind]})"


LEAF_SHAPE: Final = Shape(LEAF)
DEDUCED_SHAPE: Final = Shape(DEDUCED)
#: What a deduced value is when it is an object.
DEDUCED_MAP: Final = Shape(MAP)
DEDUCED_MAP.values = DEDUCED_SHAPE

_META: Final = "io.k8s.apimachinery.pkg.apis.meta.v1."
_CORE: Final = "io.k8s.api.core.v1."

# Non-pointer struct fields ({}) and non-omitempty fields (None) of the Go types, where the
# OpenAPI definitions do not say so. Required fields are added from the definitions.
_GO_IMPLICIT: Final[dict[str, dict[str, Any]]] = {
    _META + "ObjectMeta": {"creationTimestamp": None},
    _CORE + "PodTemplateSpec": {"metadata": {}, "spec": {}},
    "io.k8s.api.batch.v1.JobTemplateSpec": {"metadata": {}, "spec": {}},
    "io.k8s.api.apps.v1.DeploymentSpec": {"template": {}, "strategy": {}},
    "io.k8s.api.apps.v1.ReplicaSetSpec": {"template": {}},
    "io.k8s.api.apps.v1.DaemonSetSpec": {"template": {}, "updateStrategy": {}},
    "io.k8s.api.apps.v1.StatefulSetSpec": {"template": {}, "updateStrategy": {}},
    "io.k8s.api.batch.v1.JobSpec": {"template": {}},
    "io.k8s.api.batch.v1.CronJobSpec": {"jobTemplate": {}},
    _CORE + "Container": {"resources": {}},
    _CORE + "EphemeralContainer": {"resources": {}},
    _CORE + "ServiceStatus": {"loadBalancer": {}},
    _CORE + "NodeStatus": {"daemonEndpoints": {}, "nodeInfo": {}},
    _CORE + "NodeDaemonEndpoints": {"kubeletEndpoint": {}},
    _CORE + "ContainerStatus": {"state": {}, "lastState": {}},
    _CORE + "Event": {"involvedObject": {}, "source": {}},
    _CORE + "PersistentVolumeClaimSpec": {"resources": {}},
    "io.k8s.api.rbac.v1.RoleBinding": {"roleRef": {}},
    "io.k8s.api.rbac.v1.ClusterRoleBinding": {"roleRef": {}},
    "io.k8s.api.autoscaling.v1.HorizontalPodAutoscalerSpec": {"scaleTargetRef": {}},
    "io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerSpec": {"scaleTargetRef": {}},
    "io.k8s.api.discovery.v1.Endpoint": {"conditions": {}},
}

# Defaults of list-map key fields (from upstream's OpenAPI v3 ``default`` values).
_KEY_DEFAULTS: Final[dict[str, dict[str, Any]]] = {
    _CORE + "ContainerPort": {"protocol": "TCP"},
    _CORE + "ServicePort": {"protocol": "TCP"},
    _CORE + "LocalObjectReference": {"name": ""},
}

# Extensions that change a node's shape when written next to a ``$ref``.
_SHAPE_EXTENSIONS: Final = (
    "x-kubernetes-list-type",
    "x-kubernetes-list-map-keys",
    "x-kubernetes-map-type",
    "x-kubernetes-patch-strategy",
    "x-kubernetes-patch-merge-key",
    "x-kubernetes-preserve-unknown-fields",
)

_caches: weakref.WeakKeyDictionary[Schema, dict[str, Shape]] = weakref.WeakKeyDictionary()


def shape_of(node: SchemaNode | None) -> Shape:
    """The compiled shape of ``node`` (None: free-form JSON)."""
    if node is None:
        return DEDUCED_SHAPE
    cache = _caches.get(node.schema)
    if cache is None:
        cache = _caches[node.schema] = {}
    return _compile(node, cache)


def _compile(node: SchemaNode, cache: dict[str, Shape]) -> Shape:
    ref = node.ref
    own = ref is not None and any(k in node.raw for k in _SHAPE_EXTENSIONS)
    if ref is not None and not own:
        known = cache.get(ref)
        if known is not None:
            return known
    shape = Shape()
    if ref is not None and not own:
        # Registered before filling: definitions are recursive (JSONSchemaProps).
        cache[ref] = shape
    _fill(shape, node, cache)
    return shape


def _fill(shape: Shape, node: SchemaNode, cache: dict[str, Shape]) -> None:
    target = node.target
    if node.is_array or "items" in target:
        _fill_list(shape, node, cache)
    elif node.properties:
        if node.map_type == "atomic":
            return
        shape.kind = MAP
        for name in node.properties:
            child = node.field(name)
            if child is not None:
                shape.fields[name] = _compile(child, cache)
        if node.preserves_unknown_fields:
            shape.values = DEDUCED_SHAPE
        shape.implicit = _implicit(node, shape) or None
    elif node.additional_properties is not None:
        if node.map_type == "atomic":
            return
        shape.kind = MAP
        shape.values = _compile(node.additional_properties, cache)
    elif node.preserves_unknown_fields and not _scalar_types(node):
        shape.kind = DEDUCED


def _scalar_types(node: SchemaNode) -> bool:
    return bool(node.types - {"object", "array"})


def _fill_list(shape: Shape, node: SchemaNode, cache: dict[str, Shape]) -> None:
    list_type = node.list_type
    keys: tuple[str, ...] = ()
    if list_type is None:
        strategy = node.patch_strategy or ""
        if "merge" in strategy.split(","):
            merge_key = node.patch_merge_key
            list_type = "map" if merge_key else "set"
            keys = (merge_key,) if merge_key else ()
    elif list_type == "map":
        keys = node.list_map_keys
    if list_type not in ("map", "set") or (list_type == "map" and not keys):
        return
    items = node.items
    shape.kind = LIST
    shape.keys = keys
    shape.items = _compile(items, cache) if items is not None else DEDUCED_SHAPE
    if items is not None and items.ref is not None:
        shape.key_defaults = _KEY_DEFAULTS.get(items.ref, {})


def _implicit(node: SchemaNode, shape: Shape) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in node.required:
        child = shape.fields.get(name)
        if child is None or child.kind not in (MAP, LIST):
            continue
        out[name] = {} if child.fields else None
    if node.group_version_kinds:
        for name in ("metadata", "spec", "status"):
            child = shape.fields.get(name)
            if child is not None and child.kind == MAP and child.fields:
                out[name] = {}
    if node.ref is not None:
        out.update(_GO_IMPLICIT.get(node.ref, {}))
    return out
