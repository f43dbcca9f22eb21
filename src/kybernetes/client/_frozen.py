"""Deep-frozen JSON values: the debug mode that catches mutation of cached objects.

Theory of operation: objects an informer hands out are shared by every controller that
reads the cache, so none may change them (copy, change, write). To catch a violation where
it happens, :func:`deep_freeze` rebuilds a JSON value out of :class:`FrozenDict` and
:class:`FrozenList`: real ``dict``/``list`` subclasses (``isinstance``, ``==``, ``orjson``,
``json`` and ``yaml`` see ordinary containers) whose every mutating method raises
:class:`CachedObjectMutation`. ``copy.deepcopy`` of a frozen value gives plain, mutable
containers, and ``copy.copy``/``dict(...)`` a plain outer container (nested values stay
frozen, so mutating through a shallow copy is caught too).

Informers freeze when asked (``freeze=True``) or when the environment variable
``KYB_CLIENT_FREEZE=1`` is set, which test suites should do. Off by default: freezing
copies every object once. Each refused mutation is also recorded
(:func:`cache_mutations`), so a test fails even if the code under test caught the
exception; and an informer never swallows it from a handler: it stops with it.
"""

from __future__ import annotations

import copy
import os
import traceback
from typing import Any, NoReturn


class CachedObjectMutation(TypeError):
    """Code tried to change an object owned by an informer cache."""


#: Every refused mutation since the last :func:`clear_cache_mutations` (where it happened).
_MUTATIONS: list[str] = []


def _refuse(*_: object, **__: object) -> NoReturn:
    # Recorded as well as raised: code under test may catch and log the exception (a worker
    # requeueing on any error), and a test fixture can still fail on the record.
    _MUTATIONS.append("".join(traceback.format_stack(limit=6)[:-1]))
    raise CachedObjectMutation(
        "objects from an informer cache are shared and read-only: "
        "copy.deepcopy() it, change the copy, and write that"
    )


def cache_mutations() -> list[str]:
    """Stack excerpts of every mutation of a frozen object since the last clear."""
    return list(_MUTATIONS)


def clear_cache_mutations() -> None:
    _MUTATIONS.clear()


class FrozenDict(dict[str, Any]):
    __slots__ = ()
    __setitem__ = __delitem__ = _refuse
    clear = pop = popitem = setdefault = update = _refuse
    __ior__ = _refuse

    def __copy__(self) -> dict[str, Any]:
        return dict(self)

    def __deepcopy__(self, memo: dict[int, Any]) -> dict[str, Any]:
        return {k: copy.deepcopy(v, memo) for k, v in self.items()}

    def __reduce__(self) -> tuple[Any, ...]:
        return (dict, (dict(self),))


class FrozenList(list[Any]):
    __slots__ = ()
    __setitem__ = __delitem__ = _refuse
    append = extend = insert = pop = remove = clear = sort = reverse = _refuse
    __iadd__ = __imul__ = _refuse

    def __copy__(self) -> list[Any]:
        return list(self)

    def __deepcopy__(self, memo: dict[int, Any]) -> list[Any]:
        return [copy.deepcopy(v, memo) for v in self]

    def __reduce__(self) -> tuple[Any, ...]:
        return (list, (list(self),))


def deep_freeze(value: Any) -> Any:
    """A frozen deep copy of a JSON value (scalars are returned as they are)."""
    if isinstance(value, dict):
        return FrozenDict((k, deep_freeze(v)) for k, v in value.items())
    if isinstance(value, list):
        return FrozenList(deep_freeze(v) for v in value)
    return value


def freeze_by_default() -> bool:
    return os.environ.get("KYB_CLIENT_FREEZE", "").lower() in ("1", "true", "yes")
