"""Built-in admission: checks every write passes after validation, before it is stored.

:class:`Admission` is the seam (one ``admit`` call per write); :class:`Chain` runs several
plugins in order. :class:`NamespaceLifecycle` is upstream's plugin of the same name:
no new objects in a namespace that does not exist or is being terminated, and the
system namespaces cannot be deleted.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from kybernetes.api import ResourceInfo
from kybernetes.apiserver import _errors as errors

Obj = dict[str, Any]

CREATE, UPDATE, DELETE = "CREATE", "UPDATE", "DELETE"

#: Namespaces the API server creates at start and refuses to delete.
SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
IMMORTAL_NAMESPACES = frozenset({"default", "kube-system", "kube-public"})


@dataclass(frozen=True, slots=True)
class Attributes:
    operation: str
    info: ResourceInfo
    namespace: str
    name: str
    subresource: str = ""
    obj: Obj | None = None
    old: Obj | None = None
    dry_run: bool = False


class Admission(Protocol):
    async def admit(self, attrs: Attributes) -> None:
        """Raise an :class:`~kybernetes.apiserver._errors.APIError` to refuse the write."""
        ...


class Chain:
    def __init__(self, plugins: Sequence[Admission]) -> None:
        self.plugins = tuple(plugins)

    async def admit(self, attrs: Attributes) -> None:
        for plugin in self.plugins:
            await plugin.admit(attrs)


#: Looks a namespace up (the watch cache first, the store when the cache lags).
NamespaceGetter = Callable[[str], Awaitable[Obj | None]]


class NamespaceLifecycle:
    def __init__(self, get_namespace: NamespaceGetter) -> None:
        self._get_namespace = get_namespace

    async def admit(self, attrs: Attributes) -> None:
        info = attrs.info
        if (info.group, info.plural) == ("", "namespaces"):
            if attrs.operation == DELETE and attrs.name in IMMORTAL_NAMESPACES:
                raise errors.forbidden(info, attrs.name, "this namespace may not be deleted")
            return
        if attrs.operation != CREATE or not info.namespaced or attrs.subresource:
            return
        namespace = await self._get_namespace(attrs.namespace)
        if namespace is None:
            raise errors.namespace_not_found(attrs.namespace)
        meta = namespace.get("metadata") or {}
        phase = (namespace.get("status") or {}).get("phase")
        if meta.get("deletionTimestamp") is not None or phase == "Terminating":
            why = (
                f"unable to create new content in namespace {attrs.namespace} "
                "because it is being terminated"
            )
            cause = errors.Cause(
                "NamespaceTerminating",
                f"namespace {attrs.namespace} is being terminated",
                "metadata.namespace",
            )
            raise errors.forbidden(info, attrs.name, why, causes=[cause])
