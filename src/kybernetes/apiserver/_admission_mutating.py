"""The mutating phase of built-in admission: plugins that change an object before it is checked.

Upstream admission runs in two phases around a write: *mutating* plugins may change the
object (default a service account, add tolerations, fill resource defaults), then the
object is validated, then *validating* plugins (:class:`~._admission.Admission`) may only
accept or refuse it. This module is the seam of the first phase.

Promises:

* A :class:`MutatingAdmission` returns the changed object, or ``None`` when it changes
  nothing; it never mutates ``attrs.obj`` (or anything reachable from it) in place, so the
  caller's object and every cached object stay intact.
* :class:`MutatingChain` runs its plugins in order, each seeing the previous one's result,
  and returns the final object, or ``None`` when no plugin changed anything. A plugin that
  raises an :class:`~._errors.APIError` refuses the write; later plugins do not run.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, Protocol

from kybernetes.apiserver._admission import CREATE, Attributes

Obj = dict[str, Any]


class MutatingAdmission(Protocol):
    async def mutate(self, attrs: Attributes) -> Obj | None:
        """The changed object (a new dict), or ``None`` for no change.

        Raise an :class:`~kybernetes.apiserver._errors.APIError` to refuse the write.
        """
        ...


class MutatingChain:
    """Several mutating plugins run in order, as one."""

    def __init__(self, plugins: Sequence[MutatingAdmission]) -> None:
        self.plugins = tuple(plugins)

    async def mutate(self, attrs: Attributes) -> Obj | None:
        changed: Obj | None = None
        for plugin in self.plugins:
            current = attrs if changed is None else dataclasses.replace(attrs, obj=changed)
            result = await plugin.mutate(current)
            if result is not None:
                changed = result
        return changed


def is_resource(attrs: Attributes, group: str, plural: str) -> bool:
    """Whether the request is about ``group``/``plural`` itself (not a subresource)."""
    info = attrs.info
    return info.group == group and info.plural == plural and not attrs.subresource


def is_pod_create(attrs: Attributes) -> bool:
    """A create of the pods resource itself, with an object to look at."""
    return attrs.operation == CREATE and is_resource(attrs, "", "pods") and attrs.obj is not None
