"""The object model: pure functions over plain JSON-shaped dicts. No I/O.

Resource registry, the upstream schema, selectors, quantities, names, and patches.
"""

from kybernetes.api._registry import ALL_VERBS, BUILTIN_RESOURCES, REGISTRY, Registry, ResourceInfo
from kybernetes.api._schema import KUBE_VERSION, Schema, SchemaNode, load_schema

__all__ = [
    "ALL_VERBS",
    "BUILTIN_RESOURCES",
    "KUBE_VERSION",
    "REGISTRY",
    "Registry",
    "ResourceInfo",
    "Schema",
    "SchemaNode",
    "load_schema",
]
