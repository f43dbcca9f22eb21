"""Small helpers over JSON values (the plain dicts, lists and scalars objects are made of).

JSON has one number type, so ``1`` and ``1.0`` are equal here, while ``true`` and ``1``
are not (Python's ``True == 1`` is). :func:`deep_copy` returns a value that shares no
container with its input, so a patched result never aliases the caller's document.
"""

from __future__ import annotations

from typing import Any

import orjson

#: The JSON kinds, as :func:`kind` names them.
OBJECT = "object"
ARRAY = "array"
STRING = "string"
NUMBER = "number"
BOOLEAN = "boolean"
NULL = "null"


def kind(value: Any) -> str:
    """The JSON kind of ``value`` (bool is checked before int: it is a subclass)."""
    if isinstance(value, dict):
        return OBJECT
    if isinstance(value, list):
        return ARRAY
    if isinstance(value, str):
        return STRING
    if isinstance(value, bool):
        return BOOLEAN
    if isinstance(value, int | float):
        return NUMBER
    if value is None:
        return NULL
    raise TypeError(f"not a JSON value: {type(value).__name__}")


def deep_copy(value: Any) -> Any:
    """A copy of a JSON value that shares no dict or list with the original."""
    if isinstance(value, dict | list):
        # orjson's round trip is about three times faster than the walk below; the walk
        # still copies what orjson refuses (integers beyond 64 bits, non-string keys).
        try:
            return orjson.loads(orjson.dumps(value))
        except (TypeError, orjson.JSONEncodeError):
            pass
    return _walk_copy(value)


def _walk_copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _walk_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_walk_copy(v) for v in value]
    return value


def json_equal(a: Any, b: Any) -> bool:
    """Equality as JSON sees it: like ``==`` but a boolean never equals a number."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict):
        if not isinstance(b, dict) or a.keys() != b.keys():
            return False
        return all(json_equal(v, b[k]) for k, v in a.items())
    if isinstance(a, list):
        if not isinstance(b, list) or len(a) != len(b):
            return False
        return all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(b, dict | list):
        return False
    return bool(a == b)


def value_key(value: Any) -> tuple[Any, ...]:
    """A hashable key with :func:`json_equal` semantics, to find values in sets and dicts."""
    if isinstance(value, bool):
        return (BOOLEAN, value)
    if isinstance(value, int | float):
        # 1 and 1.0 hash alike and compare equal, as JSON numbers should.
        return (NUMBER, value)
    if isinstance(value, str):
        return (STRING, value)
    if value is None:
        return (NULL,)
    return (kind(value), orjson.dumps(value, option=orjson.OPT_SORT_KEYS))


def render(value: Any) -> str:
    """Compact JSON text of ``value`` for error messages (falls back to ``repr``)."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return repr(value)


def drop_nulls(value: Any) -> Any:
    """``value`` without object members whose value is ``null``, at any depth.

    Built-in objects never store explicit nulls: upstream decodes into typed structs, where a
    null member is simply absent. Patches can leave them behind (a merge patch replacing a
    list keeps nulls inside the new elements), so the API server drops them before storing.
    Returns ``value`` itself when there is nothing to drop (no copy on the common path).
    """
    if isinstance(value, dict):
        out: dict[str, Any] | None = None
        for k, v in value.items():
            nv = drop_nulls(v) if v is not None else None
            if v is None or nv is not v:
                if out is None:
                    out = dict(value)
                if v is None:
                    del out[k]
                else:
                    out[k] = nv
        return value if out is None else out
    if isinstance(value, list):
        new = [drop_nulls(v) for v in value]
        return value if all(a is b for a, b in zip(new, value, strict=True)) else new
    return value
