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
    if isinstance(value, dict):
        return {k: deep_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [deep_copy(v) for v in value]
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
