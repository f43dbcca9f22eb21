"""The API server: wiring of watch caches, storages, admission and routes, and its lifecycle.

:meth:`APIServer.run` is the whole life of a server in one coroutine: it starts one watch
cache per resource (structured, in a TaskGroup), waits until every cache has listed,
creates the system namespaces, does admission's start-up work (default service accounts,
quota recounts, allocation repair, the ``kubernetes`` service; see
:mod:`._admission_startup`, which also runs periodically), then serves HTTP until
cancelled. Cancelling it is the graceful shutdown: open watches end, the listener closes,
the caches stop. ``ready`` is set once it serves; ``port`` is the bound port (useful with
port 0).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import Callable
from typing import Any

import orjson
from aiohttp import web

from kybernetes import store as st
from kybernetes.api import REGISTRY, Registry
from kybernetes.apiserver import _errors as errors
from kybernetes.apiserver._admission import SYSTEM_NAMESPACES
from kybernetes.apiserver._admission_startup import maintain_admission, start_admission
from kybernetes.apiserver._admission_wiring import AdmissionWiring
from kybernetes.apiserver._allocator_ranges import DEFAULT_NODE_PORT_RANGE, DEFAULT_SERVICE_CIDR
from kybernetes.apiserver._discovery import Discovery, version_info_bytes
from kybernetes.apiserver._handlers import Handlers, Resource, guarded
from kybernetes.apiserver._httperrors import errors_as_status
from kybernetes.apiserver._openapi import OpenAPIv3, default_openapi
from kybernetes.apiserver._render import status_response
from kybernetes.apiserver._revision import RevisionReader
from kybernetes.apiserver._storage import ResourceStorage
from kybernetes.apiserver._strategy import strategy_for
from kybernetes.apiserver._watchcache import DEFAULT_WINDOW, WatchCache

log = logging.getLogger(__name__)

JSON = "application/json"
#: Extra room above the 3 MiB body limit so our own check (with its Status) answers first.
_CLIENT_MAX_SIZE = errors.MAX_REQUEST_BODY + 1024 * 1024
#: Long selectors make long URLs: accept request lines up to Go's default header budget
#: (1 MiB, what kube-apiserver allows) instead of aiohttp's 8 KiB, whose plain-text 400
#: no client can decode. Single header lines (tokens, cookies) stay smaller.
_MAX_REQUEST_LINE = 1024 * 1024
_MAX_HEADER_LINE = 64 * 1024


class APIServer:
    def __init__(
        self,
        store: st.Store,
        *,
        registry: Registry = REGISTRY,
        clock: Callable[[], float] = time.time,
        window: int = DEFAULT_WINDOW,
        openapi: OpenAPIv3 | None = None,
        access_log: bool = False,
        service_cidr: str = DEFAULT_SERVICE_CIDR,
        node_port_range: str = DEFAULT_NODE_PORT_RANGE,
    ) -> None:
        self.store = store
        self.access_log = access_log
        self.registry = registry
        self.resources: dict[tuple[str, str, str], Resource] = {}
        self.ready = asyncio.Event()
        self.port = 0
        self.admission = AdmissionWiring(
            store,
            self.resources,
            self._get_namespace,
            registry=registry,
            clock=clock,
            service_cidr=service_cidr,
            node_port_range=node_port_range,
        )
        # Consistent reads of every resource share store round trips for the revision.
        revisions = RevisionReader(store.current_revision)
        for info in registry:
            strategy = strategy_for(info)
            cache = WatchCache(
                store,
                info,
                fields_of=strategy.selectable_fields,
                window=window,
                current_revision=revisions.current,
            )
            storage = ResourceStorage(
                store,
                strategy,
                self.admission.validating,
                clock=clock,
                pipeline=self.admission.pipeline_for(info),
                cache=cache,
            )
            self.resources[(info.group, info.version, info.plural)] = Resource(info, storage, cache)
        self.discovery = Discovery(registry)
        self.openapi = openapi if openapi is not None else default_openapi()
        self.handlers = Handlers(registry, self.resources)
        self.app = self._build_app()

    # -- namespaces ----------------------------------------------------------------------

    def _namespaces(self) -> Resource:
        return self.resources[("", "v1", "namespaces")]

    async def _get_namespace(self, name: str) -> dict[str, Any] | None:
        ns = self._namespaces()
        cached = ns.cache.get("", name)
        if cached is not None:
            return cached.decode()
        # The cache may lag a namespace created a moment ago: ask the store.
        try:
            return await ns.storage.get("", name)
        except errors.APIError as e:
            if e.code == 404:
                return None
            raise

    async def _ensure_system_namespaces(self) -> None:
        ns = self._namespaces()
        for name in SYSTEM_NAMESPACES:
            obj = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
            try:
                await ns.storage.create("", obj)
            except errors.APIError as e:
                if e.code != 409:
                    raise

    # -- HTTP ----------------------------------------------------------------------------

    def _build_app(self) -> web.Application:
        app = web.Application(client_max_size=_CLIENT_MAX_SIZE, middlewares=[errors_as_status])
        r = app.router
        h = self.handlers
        # The resource routes first: nearly every request is one of them.
        r.add_route("*", "/api/v1/{path:.+}", guarded(h.core))
        r.add_route("*", "/apis/{group}/{version}/{path:.+}", guarded(h.group))
        r.add_get("/version", self._version)
        r.add_get("/version/", self._version)
        for path in ("/healthz", "/livez", "/healthz/{check}", "/livez/{check}"):
            r.add_get(path, self._live)
        r.add_get("/readyz", self._ready)
        r.add_get("/readyz/{check}", self._ready)
        r.add_get("/openapi/v3", guarded(self._openapi))
        r.add_get("/openapi/v3/{path:.+}", guarded(self._openapi))
        r.add_get("/", self._root)
        for path in ("/api", "/api/", "/api/v1", "/api/v1/", "/apis", "/apis/"):
            r.add_get(path, self._discovery)
        r.add_get("/apis/{group}", self._discovery)
        r.add_get("/apis/{group}/", self._discovery)
        r.add_get("/apis/{group}/{version}", self._discovery)
        r.add_get("/apis/{group}/{version}/", self._discovery)
        r.add_route("*", "/{tail:.*}", self._not_found)
        return app

    @staticmethod
    def _json(body: bytes, content_type: str = JSON, status: int = 200) -> web.Response:
        response = web.Response(body=body, status=status)
        response.content_type = content_type
        return response

    async def _version(self, request: web.Request) -> web.Response:
        return self._json(version_info_bytes())

    async def _discovery(self, request: web.Request) -> web.Response:
        answer = self.discovery.respond(request.path.rstrip("/"), request.headers.get("Accept"))
        if answer is None:
            return await self._not_found(request)
        body, content_type = answer
        response = web.Response(body=body)
        # Aggregated discovery's content type carries parameters: set the header verbatim.
        response.headers["Content-Type"] = content_type
        return response

    async def _openapi(self, request: web.Request) -> web.Response:
        body = self.openapi.respond(request.path.rstrip("/"))
        if body is None:
            return await self._not_found(request)
        return self._json(body)

    async def _root(self, request: web.Request) -> web.Response:
        paths = [
            "/api",
            "/api/v1",
            "/apis",
            "/healthz",
            "/livez",
            "/openapi/v3",
            "/readyz",
            "/version",
        ]
        paths += sorted({info.url_prefix() for info in self.registry})
        return self._json(orjson.dumps({"paths": paths}))

    async def _not_found(self, request: web.Request) -> web.Response:
        return status_response(
            errors.APIError(404, "NotFound", "the server could not find the requested resource")
        )

    async def _live(self, request: web.Request) -> web.Response:
        return web.Response(text="ok")

    def caches_ready(self) -> bool:
        return all(r.cache.ready.is_set() for r in self.resources.values())

    async def _ready(self, request: web.Request) -> web.Response:
        if self.ready.is_set() and self.caches_ready():
            return web.Response(text="ok")
        return web.Response(status=503, text="[-]informer-sync failed: watch caches not primed\n")

    # -- lifecycle -----------------------------------------------------------------------

    async def run(
        self, host: str = "127.0.0.1", port: int = 0, *, sock: socket.socket | None = None
    ) -> None:
        """Serve until cancelled (see the module docstring)."""
        if sock is None:
            # Bind first: a taken port fails at once, before any cache work.
            sock = socket.create_server((host, port))
        async with asyncio.TaskGroup() as tasks:
            for resource in self.resources.values():
                tasks.create_task(resource.cache.run(), name=f"watchcache {resource.info.plural}")
            await asyncio.gather(*(r.cache.ready.wait() for r in self.resources.values()))
            await self._ensure_system_namespaces()
            address, bound_port = sock.getsockname()[:2]
            await start_admission(self.admission, address=address, port=bound_port)
            tasks.create_task(
                maintain_admission(self.admission, address=address, port=bound_port),
                name="admission maintenance",
            )
            access = logging.getLogger("aiohttp.access") if self.access_log else None
            runner = web.AppRunner(
                self.app,
                access_log=access,
                shutdown_timeout=1.0,
                max_line_size=_MAX_REQUEST_LINE,
                max_field_size=_MAX_HEADER_LINE,
            )
            await runner.setup()
            try:
                self.port = sock.getsockname()[1]
                site = web.SockSite(runner, sock)
                await site.start()
                self.ready.set()
                log.info("serving the API on http://%s:%d", host, self.port)
                await asyncio.Future()  # until cancelled
            finally:
                self.ready.clear()
                for resource in self.resources.values():
                    resource.cache.end_watchers()
                await runner.cleanup()
