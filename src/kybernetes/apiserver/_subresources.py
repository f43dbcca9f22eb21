"""The subresources served beside the generic verbs of :mod:`._handlers`.

:class:`Subresources` is the one seam :class:`~kybernetes.apiserver._handlers.Handlers`
calls: :meth:`Subresources.handler_for` answers a parsed target's subresource when it is
one of these, and :meth:`Subresources.match_path` catches the paths the generic parser
does not know (``{kind}/{name}/proxy/{path...}`` and the legacy ``namespaces/{ns}/bindings``).

* ``pods/binding`` and ``namespaces/{ns}/bindings``: :mod:`._binding`.
* ``pods/eviction``: :mod:`._eviction`.
* ``pods/log|exec|attach|portforward``, ``nodes|pods|services/{name}/proxy``: :mod:`._streams`.
* ``pods/ephemeralcontainers``: the generic get/update/patch over a pod storage with the
  ephemeral-containers strategy (:mod:`._subresource_strategies`).
* ``serviceaccounts/token`` (TokenRequest): a 503 Status until the server has a key to
  sign service account tokens with (that comes with authentication); 404 first if the
  service account does not exist.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Protocol

import orjson
from aiohttp import web

from kybernetes.apiserver import _errors as errors
from kybernetes.apiserver._binding import BINDING_KIND, bind
from kybernetes.apiserver._eviction import Evictor, check_eviction, delete_options
from kybernetes.apiserver._kubelet import ATTACH, EXEC, PORTFORWARD
from kybernetes.apiserver._options import parse_write_options
from kybernetes.apiserver._request import Target, check_kind, decode_object, media_type, read_body
from kybernetes.apiserver._storage import ResourceStorage
from kybernetes.apiserver._strategy import ResourceStrategy
from kybernetes.apiserver._streams import Streams
from kybernetes.apiserver._subresource_strategies import (
    BindingStrategy,
    EphemeralContainersStrategy,
)

if TYPE_CHECKING:
    from kybernetes.apiserver._handlers import Resource

SubresourceHandler = Callable[[web.Request, "Resource", Target], Awaitable[web.StreamResponse]]
PathHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]

EPHEMERAL_CONTAINERS = "ephemeralcontainers"
TOKEN_UNAVAILABLE = (
    "TokenRequest (serviceaccounts/token) is not available: this API server has no service "
    "account token signing key yet"
)


#: The resources these subresources read and write.
_NEEDED = (
    ("", "v1", "pods"),
    ("", "v1", "nodes"),
    ("", "v1", "services"),
    ("", "v1", "endpoints"),
    ("", "v1", "serviceaccounts"),
    ("policy", "v1", "poddisruptionbudgets"),
)


class GenericVerbs(Protocol):
    """The generic handlers' verbs the ephemeral containers subresource reuses."""

    async def get(self, request: web.Request, res: Resource, target: Target) -> web.Response: ...

    async def update(
        self, request: web.Request, res: Resource, target: Target, subresource: str
    ) -> web.Response: ...

    async def patch(
        self, request: web.Request, res: Resource, target: Target, subresource: str
    ) -> web.Response: ...


def created_status() -> web.Response:
    """201 with a Success Status: what binding and eviction answer, as upstream."""
    body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}
    response = web.Response(body=orjson.dumps(body), status=201)
    response.content_type = "application/json"
    return response


def _storage_with(storage: ResourceStorage, strategy: ResourceStrategy) -> ResourceStorage:
    return ResourceStorage(storage.store, strategy, storage.admission, clock=storage.clock)


class Subresources:
    def __init__(
        self,
        resources: Mapping[tuple[str, str, str], Resource],
        generic: GenericVerbs,
        *,
        kubelet_scheme: str = "http",
    ) -> None:
        self.generic = generic
        self._handlers: dict[tuple[str, str, str], SubresourceHandler] = {}
        #: False for registries without the core resources (tests): nothing served here.
        self.enabled = all(key in resources for key in _NEEDED)
        if not self.enabled:
            return
        pods = resources[("", "v1", "pods")]
        budgets = resources[("policy", "v1", "poddisruptionbudgets")]
        self._binding = _storage_with(pods.storage, BindingStrategy(pods.storage.strategy))
        self._ephemeral = replace(
            pods,
            storage=_storage_with(pods.storage, EphemeralContainersStrategy(pods.storage.strategy)),
        )
        self._evictor = Evictor(pods.storage, budgets.storage, budgets.cache)
        self._streams = Streams(
            pods.storage,
            resources[("", "v1", "nodes")].storage,
            resources[("", "v1", "services")].storage,
            resources[("", "v1", "endpoints")].storage,
            kubelet_scheme=kubelet_scheme,
        )
        self._handlers = {
            ("", "pods", "binding"): self.binding,
            ("", "pods", "eviction"): self.eviction,
            ("", "pods", "log"): self.log,
            ("", "pods", EXEC): self.stream,
            ("", "pods", ATTACH): self.stream,
            ("", "pods", PORTFORWARD): self.stream,
            ("", "pods", EPHEMERAL_CONTAINERS): self.ephemeral_containers,
            ("", "serviceaccounts", "token"): self.token,
        }

    def handler_for(self, target: Target) -> SubresourceHandler | None:
        return self._handlers.get((target.info.group, target.info.plural, target.subresource))

    def match_path(self, group: str, path: str) -> PathHandler | None:
        """A handler for the core-group paths the generic parser does not know, if ``path``
        (below ``/api/v1/``) is one."""
        if group or ("/proxy" not in path and not path.endswith("/bindings")) or not self.enabled:
            return None
        segments = path.split("/")
        if len(segments) == 3 and segments[0] == "namespaces" and segments[2] == "bindings":
            namespace = segments[1]
            return lambda request: self._bind(request, namespace, "")
        if len(segments) >= 3 and segments[0] == "nodes" and segments[2] == "proxy":
            node = segments[1]
            return lambda request: self._streams.node_proxy(request, node, _rest(request, 3))
        if (
            len(segments) >= 5
            and segments[0] == "namespaces"
            and segments[2] in ("pods", "services")
            and segments[4] == "proxy"
        ):
            namespace, kind, name = segments[1], segments[2], segments[3]
            if kind == "pods":
                return lambda request: self._streams.pod_proxy(
                    request, namespace, name, _rest(request, 5)
                )
            return lambda request: self._streams.service_proxy(
                request, namespace, name, _rest(request, 5)
            )
        return None

    # -- binding and eviction ------------------------------------------------------------

    async def binding(self, request: web.Request, res: Resource, target: Target) -> web.Response:
        return await self._bind(request, target.namespace or "", target.name)

    async def _bind(self, request: web.Request, namespace: str, url_name: str) -> web.Response:
        if request.method != "POST":
            raise errors.method_not_allowed()
        wopts = parse_write_options(request.query)
        binding = await _body(request)
        check_kind(binding, BINDING_KIND, "v1")
        await bind(self._binding, namespace, binding, url_name, dry_run=wopts.dry_run)
        return created_status()

    async def eviction(self, request: web.Request, res: Resource, target: Target) -> web.Response:
        if request.method != "POST":
            raise errors.method_not_allowed()
        wopts = parse_write_options(request.query)
        eviction = await _body(request)
        namespace = target.namespace or ""
        check_eviction(eviction, namespace, target.name)
        await self._evictor.evict(namespace, target.name, delete_options(eviction, wopts.dry_run))
        return created_status()

    # -- streams -------------------------------------------------------------------------

    async def log(self, request: web.Request, res: Resource, target: Target) -> web.StreamResponse:
        return await self._streams.log(request, target.namespace or "", target.name)

    async def stream(
        self, request: web.Request, res: Resource, target: Target
    ) -> web.StreamResponse:
        return await self._streams.stream(
            request, target.subresource, target.namespace or "", target.name
        )

    # -- the rest ------------------------------------------------------------------------

    async def ephemeral_containers(
        self, request: web.Request, res: Resource, target: Target
    ) -> web.Response:
        method = request.method
        if method == "GET":
            return await self.generic.get(request, self._ephemeral, target)
        if method == "PUT":
            return await self.generic.update(request, self._ephemeral, target, EPHEMERAL_CONTAINERS)
        if method == "PATCH":
            return await self.generic.patch(request, self._ephemeral, target, EPHEMERAL_CONTAINERS)
        raise errors.method_not_allowed()

    async def token(self, request: web.Request, res: Resource, target: Target) -> web.Response:
        if request.method != "POST":
            raise errors.method_not_allowed()
        await res.storage.get(target.namespace or "", target.name)
        raise errors.service_unavailable(TOKEN_UNAVAILABLE)


async def _body(request: web.Request) -> dict[str, Any]:
    raw = await read_body(request)
    return decode_object(raw, media_type(request.headers.get("Content-Type")))


def _rest(request: web.Request, after: int) -> str:
    """The raw (still percent-encoded) path below ``.../proxy``: ``after`` segments follow
    ``/api/v1``."""
    segments = request.rel_url.raw_path.split("/")
    # "", "api", "v1", then the resource's segments.
    rest = segments[3 + after :]
    return "/" + "/".join(rest)
