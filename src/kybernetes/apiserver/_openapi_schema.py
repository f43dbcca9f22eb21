"""The 1.33 definitions as OpenAPI 3.0 component schemas. Pure, no I/O.

``kubernetes-validate`` ships the definitions as JSON Schema: ``$ref: "#/$defs/NAME"``,
``type: ["object", "null"]``, and ``enum`` lists on ``apiVersion``/``kind`` that upstream's
OpenAPI does not have. :class:`ComponentSchemas` converts them the way upstream's v3
documents look, which is what ``kubectl explain`` and ``kubectl``'s field-validation probe
read:

- ``$ref`` points at ``#/components/schemas/NAME``; a ``$ref`` with siblings (a field's
  description, patch extensions) becomes ``allOf: [{$ref}]`` next to them, because OpenAPI
  3.0 ignores the siblings of a ``$ref``;
- ``type`` is one string (``null`` dropped; a node admitting several types gets none);
- descriptions, ``format``, ``required``, ``default``, ``enum`` and every ``x-kubernetes-*``
  extension (including ``x-kubernetes-group-version-kind``) are kept;
- IntOrString and Quantity are strings (``format: int-or-string`` for the former), as
  upstream publishes them.

Conversion happens once per :class:`ComponentSchemas`; :meth:`ComponentSchemas.closure`
then gives the definitions reachable from some roots. The returned dicts are shared between
documents: never mutate them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from kybernetes.api import Schema

_IN_REF = "#/$defs/"
OUT_REF = "#/components/schemas/"

_INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
_QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"

#: Definitions whose JSON-Schema form (``oneOf`` of scalars) is published upstream as a
#: plain string. The descriptions are ours: the shipped definitions carry none.
_SCALAR_DEFINITIONS: dict[str, dict[str, Any]] = {
    _INT_OR_STRING: {
        "description": "An int32 or a string, e.g. a port number or a port name, "
        "or a count or a percentage.",
        "type": "string",
        "format": "int-or-string",
    },
    _QUANTITY: {
        "description": "A fixed-point amount with an optional suffix, such as 100m, 1.5, "
        "128Mi or 2G.",
        "type": "string",
    },
}

_SUBSCHEMA_LISTS = ("oneOf", "anyOf", "allOf")


def ref(name: str) -> dict[str, str]:
    """A ``$ref`` to a component schema."""
    return {"$ref": OUT_REF + name}


def _single_type(value: Any) -> str | None:
    if isinstance(value, str):
        return None if value == "null" else value
    types = [t for t in value if t != "null"]
    return types[0] if len(types) == 1 else None


class _Converter:
    """Converts one definition, noting the definitions it refers to."""

    def __init__(self) -> None:
        self.refs: set[str] = set()

    def node(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in raw.items():
            if key == "$ref":
                continue
            if key == "type":
                t = _single_type(value)
                if t is not None:
                    out["type"] = t
            elif key == "properties":
                out["properties"] = self.properties(value)
            elif key in ("items", "additionalProperties") and isinstance(value, Mapping):
                out[key] = self.node(value)
            elif key in _SUBSCHEMA_LISTS:
                out[key] = [self.node(alt) for alt in value]
            else:
                out[key] = value
        target = raw.get("$ref")
        if isinstance(target, str) and target.startswith(_IN_REF):
            name = target[len(_IN_REF) :]
            self.refs.add(name)
            if not out:
                return ref(name)
            return {"allOf": [ref(name)], **out}
        return out

    def properties(self, props: Mapping[str, Any]) -> dict[str, Any]:
        out = {}
        for name, sub in props.items():
            converted = self.node(sub)
            if name in ("apiVersion", "kind"):
                # kubernetes-validate pins these with enums for its own validation;
                # upstream's documents describe them as free strings.
                converted.pop("enum", None)
            out[name] = converted
        return out


class ComponentSchemas:
    """Every definition of a :class:`Schema`, converted to OpenAPI 3.0 (on first use)."""

    def __init__(self, schema: Schema) -> None:
        self._raw = schema.definitions
        self._converted: dict[str, dict[str, Any]] = {}
        self._refs: dict[str, frozenset[str]] = {}

    def __contains__(self, name: str) -> bool:
        return name in self._raw

    def get(self, name: str) -> dict[str, Any]:
        """The converted definition ``name`` (KeyError if unknown)."""
        converted = self._converted.get(name)
        if converted is None:
            converted = self._convert(name)
        return converted

    def _convert(self, name: str) -> dict[str, Any]:
        raw = self._raw[name]
        if name in _SCALAR_DEFINITIONS:
            converted = dict(_SCALAR_DEFINITIONS[name])
            refs: frozenset[str] = frozenset()
        else:
            conv = _Converter()
            converted = conv.node(raw)
            refs = frozenset(conv.refs)
        self._converted[name] = converted
        self._refs[name] = refs
        return converted

    def closure(self, roots: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The converted definitions reachable from ``roots`` (unknown roots skipped),
        keyed and sorted by name."""
        seen: set[str] = set()
        stack = [r for r in roots if r in self._raw]
        while stack:
            name = stack.pop()
            if name in seen:
                continue
            seen.add(name)
            self.get(name)
            stack.extend(r for r in self._refs[name] if r not in seen and r in self._raw)
        return {name: self._converted[name] for name in sorted(seen)}
