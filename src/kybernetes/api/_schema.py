"""The Kubernetes 1.33 schema, loaded from the OpenAPI definitions `kubernetes-validate` ships.

:class:`Schema` holds the raw definitions and hands out :class:`SchemaNode` views that
resolve ``$ref`` lazily. Nodes answer the questions the rest of ``kybernetes.api`` asks:
which properties an object has, what a list's merge key and list type are, whether a field
preserves unknown fields. Loading happens once per process (:func:`load_schema` is cached).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from importlib import resources
from typing import Any

import orjson

#: The Kubernetes API version we serve.
KUBE_VERSION = "1.33.0"

_REF_PREFIX = "#/$defs/"


class SchemaNode:
    """A view of one schema object, with ``$ref`` resolved against its :class:`Schema`.

    ``raw`` is the node as written (it may carry ``description`` and patch extensions next
    to a ``$ref``); ``target`` is what the ``$ref`` points to (or ``raw`` itself).
    """

    __slots__ = ("raw", "ref", "schema", "target")

    def __init__(self, schema: Schema, raw: Mapping[str, Any]) -> None:
        self.schema = schema
        self.raw = raw
        ref = raw.get("$ref")
        self.ref: str | None = ref[len(_REF_PREFIX) :] if isinstance(ref, str) else None
        self.target: Mapping[str, Any] = (
            schema.definitions[self.ref] if self.ref is not None else raw
        )

    def __repr__(self) -> str:
        return f"SchemaNode({self.ref or self.types})"

    # -- shape ---------------------------------------------------------------------------

    @property
    def types(self) -> frozenset[str]:
        """JSON types this node admits, without "null" (empty: anything)."""
        t = self.target.get("type")
        if t is None:
            one_of = self.target.get("oneOf")
            if one_of:
                out: set[str] = set()
                for alt in one_of:
                    out |= SchemaNode(self.schema, alt).types
                return frozenset(out)
            return frozenset()
        names = [t] if isinstance(t, str) else list(t)
        return frozenset(n for n in names if n != "null")

    @property
    def is_object(self) -> bool:
        return "object" in self.types or "properties" in self.target

    @property
    def is_array(self) -> bool:
        return "array" in self.types

    @property
    def properties(self) -> Mapping[str, Any]:
        props: Mapping[str, Any] = self.target.get("properties") or {}
        return props

    def field(self, name: str) -> SchemaNode | None:
        sub = self.properties.get(name)
        return SchemaNode(self.schema, sub) if sub is not None else None

    @property
    def items(self) -> SchemaNode | None:
        sub = self.target.get("items")
        return SchemaNode(self.schema, sub) if isinstance(sub, Mapping) else None

    @property
    def additional_properties(self) -> SchemaNode | None:
        """The value schema of a map (``additionalProperties``), if this node is a map."""
        sub = self.target.get("additionalProperties")
        return SchemaNode(self.schema, sub) if isinstance(sub, Mapping) else None

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(self.target.get("required") or ())

    @property
    def description(self) -> str:
        d = self.raw.get("description") or self.target.get("description") or ""
        return str(d)

    @property
    def preserves_unknown_fields(self) -> bool:
        """True where anything goes: free-form objects (RawExtension, JSON) and maps
        without a declared value schema."""
        if self.target.get("x-kubernetes-preserve-unknown-fields") or self.raw.get(
            "x-kubernetes-preserve-unknown-fields"
        ):
            return True
        # RawExtension, FieldsV1 (an object without properties or a value schema) and
        # apiextensions JSON (no type at all) hold arbitrary JSON.
        if "properties" in self.target or "additionalProperties" in self.target:
            return False
        if "oneOf" in self.target or "items" in self.target:
            return False
        types = self.types
        return not types or types == {"object"}

    # -- list and map semantics (for patches and server-side apply) -----------------------

    def _ext(self, name: str) -> Any:
        value = self.raw.get(name)
        return value if value is not None else self.target.get(name)

    @property
    def patch_strategy(self) -> str | None:
        """``merge``, ``retainKeys``, ``merge,retainKeys``, ``replace`` or None."""
        v = self._ext("x-kubernetes-patch-strategy")
        return str(v) if v else None

    @property
    def patch_merge_key(self) -> str | None:
        v = self._ext("x-kubernetes-patch-merge-key")
        return str(v) if v else None

    @property
    def list_type(self) -> str | None:
        """``atomic``, ``set``, ``map`` or None (None means atomic for apply)."""
        v = self._ext("x-kubernetes-list-type")
        return str(v) if v else None

    @property
    def list_map_keys(self) -> tuple[str, ...]:
        return tuple(self._ext("x-kubernetes-list-map-keys") or ())

    @property
    def map_type(self) -> str | None:
        """``atomic`` or ``granular`` for structs and maps (None: granular)."""
        v = self._ext("x-kubernetes-map-type")
        return str(v) if v else None

    @property
    def group_version_kinds(self) -> list[dict[str, str]]:
        return list(self.target.get("x-kubernetes-group-version-kind") or ())


class Schema:
    """All definitions of one Kubernetes version, indexed by name and by GVK."""

    def __init__(self, definitions: Mapping[str, Any]) -> None:
        self.definitions = definitions
        self._by_gvk: dict[tuple[str, str, str], str] = {}
        for name, d in definitions.items():
            for gvk in d.get("x-kubernetes-group-version-kind") or ():
                key = (gvk.get("group", ""), gvk["version"], gvk["kind"])
                # Prefer the definition in the GVK's own package over aliases
                # (meta/v1 DeleteOptions is listed under many groups).
                self._by_gvk.setdefault(key, name)

    def node(self, definition: str) -> SchemaNode:
        """The node of a named definition, e.g. ``io.k8s.api.core.v1.Pod``."""
        if definition not in self.definitions:
            raise KeyError(definition)
        return SchemaNode(self, {"$ref": _REF_PREFIX + definition})

    def definition_for(self, group: str, version: str, kind: str) -> str | None:
        return self._by_gvk.get((group, version, kind))

    def for_kind(self, group: str, version: str, kind: str) -> SchemaNode | None:
        name = self.definition_for(group, version, kind)
        return self.node(name) if name is not None else None


def _definitions_bytes(kube_version: str) -> bytes:
    base = resources.files("kubernetes_validate") / "kubernetes-json-schema"
    return (base / f"v{kube_version}-local" / "_definitions.json").read_bytes()


@functools.cache
def load_schema(kube_version: str = KUBE_VERSION) -> Schema:
    """The schema of ``kube_version`` (default: the one we serve), loaded once."""
    raw = orjson.loads(_definitions_bytes(kube_version))
    return Schema(raw["$defs"])
