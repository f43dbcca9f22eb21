"""Schema-driven field checks: unknown and duplicate fields, pruning, JSON type errors.

These are what upstream's decoder does to a request body of a built-in kind, driven by the
OpenAPI schema instead of Go structs:

- :func:`unknown_fields` lists the fields the schema does not know, as paths in upstream's
  strict-decoding format (``spec.containers[0].imagePullPolice``; list items as ``[i]``,
  map entries as ``.key``, no leading dot). :func:`strict_errors` turns them into upstream's
  messages (``unknown field "spec.foo"``) and :func:`decode_strict` also finds duplicate
  fields (``duplicate field "spec.replicas"``) in raw JSON, in document order, as
  ``fieldValidation=Strict`` reports them (:func:`strict_decoding_message`) and ``Warn``
  sends them as warnings.
- :func:`prune_unknown` returns a deep copy without those fields: ``fieldValidation=Ignore``.
- :func:`type_errors` reports values of the wrong JSON type where the schema is clear
  (IntOrString takes a string or an integer, Quantity a string or any number), integers
  outside their ``int32``/``int64`` format, and ``byte`` fields that are not base64, as
  :class:`~kybernetes.api._errors.FieldError` in the style of upstream's schema validator
  (``spec.replicas in body must be of type integer: "string"``).

Free-form fields (RawExtension, FieldsV1, apiextensions JSON, ``x-kubernetes-preserve-
unknown-fields``) accept anything; ``null`` is accepted everywhere, as Go's decoder does.

Each schema definition is compiled once (per :class:`~kybernetes.api._schema.Schema`) into a
small shape with a ``dict`` of its properties, so a check is one walk over the object with a
dict lookup per field.
"""

from __future__ import annotations

import binascii
import json
import weakref
from collections.abc import Mapping
from typing import Any, Final

from kybernetes.api._errors import ErrorType, FieldError, go_quote
from kybernetes.api._schema import Schema, SchemaNode

# Definitions without properties are free-form JSON (RawExtension, FieldsV1, JSON: custom
# unmarshalers upstream) except these empty Go structs, which know no field at all.
_EMPTY_STRUCTS: Final = frozenset(
    {
        "io.k8s.api.apiserverinternal.v1alpha1.StorageVersionSpec",
        "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceSubresourceStatus",
        "io.k8s.apimachinery.pkg.apis.meta.v1.Patch",
    }
)

_PY_TYPES: Final[dict[str, tuple[type, ...]]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
}
_PRESERVE: Final = "x-kubernetes-preserve-unknown-fields"
_INT_RANGES: Final = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}

#: upstream stops collecting strict errors after this many
MAX_STRICT_ERRORS: Final = 100


class _Shape:
    """What one schema node allows, precomputed for fast walks."""

    __slots__ = ("accept", "fmt", "free", "items", "kinds", "props", "values", "walk")

    def __init__(self) -> None:
        self.kinds: tuple[str, ...] = ()  # JSON types, schema order, for messages
        self.accept: frozenset[type] | None = None  # Python types; None: anything
        self.fmt: str | None = None  # int32, int64 or byte
        self.free = False  # holds arbitrary JSON
        self.props: dict[str, _Shape] | None = None  # a struct's fields
        self.values: _Shape | None = None  # a map's value shape
        self.items: _Shape | None = None  # an array's item shape
        self.walk = False  # has a struct, map or array shape to descend into


# Per schema: key (definition name, or id of an inline node) -> (anchor, shape). The anchor
# keeps an inline node alive so its id cannot be reused by another dict.
_compiled: weakref.WeakKeyDictionary[Schema, dict[object, tuple[object, _Shape]]] = (
    weakref.WeakKeyDictionary()
)


def _kinds(node: SchemaNode) -> tuple[str, ...]:
    target = node.target
    declared = target.get("type")
    if declared is None:
        out: list[str] = []
        for alt in target.get("oneOf") or ():
            for kind in _kinds(SchemaNode(node.schema, alt)):
                if kind not in out:
                    out.append(kind)
        return tuple(out)
    names = [declared] if isinstance(declared, str) else list(declared)
    return tuple(n for n in names if n != "null")


def _shape(node: SchemaNode) -> _Shape:
    table = _compiled.get(node.schema)
    if table is None:
        table = _compiled[node.schema] = {}
    key: object = node.ref if node.ref is not None else id(node.raw)
    hit = table.get(key)
    if hit is not None and (node.ref is not None or hit[0] is node.raw):
        return hit[1]
    shape = _Shape()
    # Registered before the children so recursive definitions terminate.
    table[key] = (node.ref if node.ref is not None else node.raw, shape)
    target = node.target
    kinds = _kinds(node)
    shape.kinds = kinds
    if kinds:
        shape.accept = frozenset(t for kind in kinds for t in _PY_TYPES.get(kind, ()))
    fmt = target.get("format")
    if fmt in ("int32", "int64", "byte"):
        shape.fmt = fmt
    has_structure = any(k in target for k in ("properties", "additionalProperties", "items"))
    explicit = bool(node.raw.get(_PRESERVE) or target.get(_PRESERVE))
    shape.free = explicit or (node.preserves_unknown_fields and node.ref not in _EMPTY_STRUCTS)
    if shape.free:
        return shape
    if "properties" in target or (kinds == ("object",) and not has_structure):
        shape.props = {
            name: _shape(SchemaNode(node.schema, sub))
            for name, sub in (target.get("properties") or {}).items()
        }
    elif isinstance(target.get("additionalProperties"), Mapping):
        shape.values = _shape(SchemaNode(node.schema, target["additionalProperties"]))
    elif isinstance(target.get("items"), Mapping):
        shape.items = _shape(SchemaNode(node.schema, target["items"]))
    shape.walk = shape.props is not None or shape.values is not None or shape.items is not None
    return shape


# -- unknown fields and type errors: one walk -------------------------------------------------


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null" if value is None else type(value).__name__


def _type_error(path: str, value: Any, shape: _Shape) -> FieldError:
    actual = _json_type(value)
    detail = f"{path} in body must be of type {','.join(shape.kinds)}: {go_quote(actual)}"
    return FieldError(ErrorType.TYPE_INVALID, path, detail, actual)


def _format_error(path: str, value: Any, shape: _Shape) -> FieldError | None:
    fmt = shape.fmt
    if fmt == "byte":
        if isinstance(value, str) and value and not _is_base64(value):
            detail = f"{path} in body must be of type byte: {go_quote(value)}"
            return FieldError(ErrorType.TYPE_INVALID, path, detail, value)
        return None
    if fmt is not None and isinstance(value, int) and not isinstance(value, bool):
        low, high = _INT_RANGES[fmt]
        if value > high:
            detail = f"{path} in body should be less than or equal to {high}"
            return FieldError(ErrorType.INVALID, path, detail, value)
        if value < low:
            detail = f"{path} in body should be greater than or equal to {low}"
            return FieldError(ErrorType.INVALID, path, detail, value)
    return None


def _is_base64(value: str) -> bool:
    # Go's StdEncoding wants padding and skips newlines.
    if "\n" in value or "\r" in value:
        value = value.replace("\r", "").replace("\n", "")
    try:
        binascii.a2b_base64(value.encode("ascii"), strict_mode=True)
    except (binascii.Error, UnicodeEncodeError):
        return False
    return True


def _visit(
    value: Any,
    child: _Shape,
    path: str,
    unknown: list[str] | None,
    errors: list[FieldError] | None,
) -> None:
    """Check one non-null value against its shape, then descend."""
    accept = child.accept
    if accept is not None and type(value) not in accept:
        if errors is not None:
            errors.append(_type_error(path, value, child))
        return
    if errors is not None and child.fmt is not None:
        err = _format_error(path, value, child)
        if err is not None:
            errors.append(err)
    if child.walk:
        _walk(value, child, path, unknown, errors)


def _walk(
    value: Any,
    shape: _Shape,
    path: str,
    unknown: list[str] | None,
    errors: list[FieldError] | None,
) -> None:
    props = shape.props
    if props is not None:
        if type(value) is not dict:
            return
        prefix = path + "." if path else ""
        for key, item in value.items():
            child = props.get(key)
            if child is None:
                if unknown is not None:
                    unknown.append(prefix + key)
            elif item is not None and (child.walk or errors is not None):
                # Scalars need a visit only when types are being checked.
                _visit(item, child, prefix + key, unknown, errors)
        return
    sub = shape.values
    if sub is not None:
        if type(value) is dict and (sub.walk or errors is not None):
            prefix = path + "." if path else ""
            for key, item in value.items():
                if item is not None:
                    _visit(item, sub, prefix + key, unknown, errors)
        return
    sub = shape.items
    if sub is not None and type(value) is list and (sub.walk or errors is not None):
        for i, item in enumerate(value):
            if item is not None:
                _visit(item, sub, f"{path}[{i}]", unknown, errors)


def check_fields(obj: Any, node: SchemaNode) -> tuple[list[str], list[FieldError]]:
    """Both checks in one walk: (unknown field paths, type errors)."""
    unknown: list[str] = []
    errors: list[FieldError] = []
    shape = _shape(node)
    if obj is not None:
        _visit(obj, shape, "", unknown, errors)
    return unknown, errors


def unknown_fields(obj: Any, node: SchemaNode) -> list[str]:
    """Paths of the fields of ``obj`` that ``node`` does not know, in document order."""
    unknown: list[str] = []
    shape = _shape(node)
    if shape.walk and obj is not None:
        _walk(obj, shape, "", unknown, None)
    return unknown


def type_errors(obj: Any, node: SchemaNode) -> list[FieldError]:
    """Values whose JSON type (or integer range, or base64) the schema rules out."""
    return check_fields(obj, node)[1]


# -- strict decoding messages --------------------------------------------------------------------


def _limit(messages: list[str]) -> list[str]:
    """Upstream's strict errors: each distinct message once, at most 100."""
    return list(dict.fromkeys(messages))[:MAX_STRICT_ERRORS]


def strict_errors(obj: Any, node: SchemaNode) -> list[str]:
    """``unknown field "..."`` messages for an already decoded object (e.g. a patch result)."""
    return _limit([f'unknown field "{path}"' for path in unknown_fields(obj, node)])


def strict_decoding_message(errors: list[str]) -> str:
    """The message of the 400 answer to ``fieldValidation=Strict``."""
    return "strict decoding error: " + ", ".join(errors)


class _Pairs(list[tuple[str, Any]]):
    """A JSON object as json.loads saw it: every key, duplicates and order kept."""


def _reject_constant(name: str) -> Any:
    raise ValueError(f"invalid JSON constant {name}")


def _strict_walk(value: Any, shape: _Shape, path: str, out: list[str]) -> None:
    if type(value) is _Pairs:
        props, sub = shape.props, shape.values
        if props is None and sub is None:
            return
        prefix = path + "." if path else ""
        seen: set[str] = set()
        for key, item in value:
            child = props.get(key) if props is not None else sub
            if child is None:
                out.append(f'unknown field "{prefix}{key}"')
                continue
            if key in seen:
                out.append(f'duplicate field "{prefix}{key}"')
            seen.add(key)
            if child.walk and item is not None:
                _strict_walk(item, child, prefix + key, out)
    elif type(value) is list and shape.items is not None and shape.items.walk:
        for i, item in enumerate(value):
            _strict_walk(item, shape.items, f"{path}[{i}]", out)


def decode_strict(raw: bytes | str, node: SchemaNode) -> tuple[Any, list[str]]:
    """Decode JSON and collect upstream's strict errors in document order.

    Returns (the decoded value, messages such as ``unknown field "spec.foo"`` and
    ``duplicate field "spec.replicas"``). Duplicates keep their last value, as upstream.
    Raises ``ValueError`` for malformed JSON.
    """
    duplicates = False

    def keep_last(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        nonlocal duplicates
        out = dict(pairs)
        if len(out) != len(pairs):
            duplicates = True
        return out

    obj = json.loads(raw, object_pairs_hook=keep_last, parse_constant=_reject_constant)
    if not duplicates:
        return obj, strict_errors(obj, node)
    # Rare: walk the key-preserving form once more to place every duplicate.
    tree = json.loads(raw, object_pairs_hook=_Pairs, parse_constant=_reject_constant)
    messages: list[str] = []
    _strict_walk(tree, _shape(node), "", messages)
    return obj, _limit(messages)


# -- pruning ----------------------------------------------------------------------------------


def _copy_json(value: Any) -> Any:
    if type(value) is dict:
        return {k: _copy_json(v) for k, v in value.items()}
    if type(value) is list:
        return [_copy_json(v) for v in value]
    return value


def _prune(value: Any, shape: _Shape) -> Any:
    props = shape.props
    if props is not None and type(value) is dict:
        out = {}
        for key, item in value.items():
            child = props.get(key)
            if child is not None:
                out[key] = _prune(item, child)
        return out
    sub = shape.values
    if sub is not None and type(value) is dict:
        return {key: _prune(item, sub) for key, item in value.items()}
    sub = shape.items
    if sub is not None and type(value) is list:
        return [_prune(item, sub) for item in value]
    return _copy_json(value)


def prune_unknown(obj: Any, node: SchemaNode) -> Any:
    """A deep copy of ``obj`` without the fields ``node`` does not know (Ignore mode)."""
    return _prune(obj, _shape(node))
