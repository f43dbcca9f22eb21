"""REST handlers for every resource: one dispatcher from (method, path) to a verb.

``/api/v1/...`` and ``/apis/{group}/{version}/...`` both land in :meth:`Handlers.dispatch`,
which parses the target (``_request.parse_target``), checks the verb is served, and calls
the verb: get, list, watch, create, update, patch, delete, deletecollection, and the
``status``, ``scale`` and ``finalize`` subresources (the others, from binding to proxy,
are :mod:`._subresources`'s). Handlers only translate between HTTP and
:class:`~kybernetes.apiserver._storage.ResourceStorage`; every failure leaves as a Status
(see :func:`guarded`).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from aiohttp import web

from kybernetes import store as st
from kybernetes.api import Registry, ResourceInfo
from kybernetes.api._fieldselector import escape_field_value
from kybernetes.apiserver import _errors as errors
from kybernetes.apiserver import _fieldcheck as fieldcheck
from kybernetes.apiserver import _partial as partial
from kybernetes.apiserver._apply import check_patch_options, serve_apply
from kybernetes.apiserver._apply_scale import serve_scale_apply
from kybernetes.apiserver._list import list_objects
from kybernetes.apiserver._managed import tracker_for
from kybernetes.apiserver._options import (
    ListOptions,
    WriteOptions,
    parse_delete_options,
    parse_list_options,
    parse_write_options,
)
from kybernetes.apiserver._patching import apply_patch, decode_patch
from kybernetes.apiserver._render import (
    list_response,
    object_response,
    raw_json_response,
    status_response,
    success_status,
    table_event_encoder,
)
from kybernetes.apiserver._request import (
    APPLY_PATCH,
    JSON,
    OUTPUT_JSON,
    Output,
    Target,
    check_identity,
    check_kind,
    decode,
    decode_object,
    media_type,
    negotiate,
    parse_target,
    read_body,
)
from kybernetes.apiserver._scale import SCALE_API_VERSION, SCALE_KIND, apply_scale, to_scale
from kybernetes.apiserver._storage import FINALIZE, MAIN, SCALE, STATUS, ResourceStorage
from kybernetes.apiserver._subresources import Subresources
from kybernetes.apiserver._watch import serve_watch
from kybernetes.apiserver._watchcache import WatchCache

log = logging.getLogger(__name__)

Obj = dict[str, Any]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

#: Subresources served here, and the methods each accepts.
_SUBRESOURCE_METHODS = {
    STATUS: ("GET", "PUT", "PATCH"),
    SCALE: ("GET", "PUT", "PATCH"),
    FINALIZE: ("PUT",),
}
_VERB_OF_METHOD = {"GET": "get", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}


@dataclass(frozen=True, slots=True)
class Resource:
    info: ResourceInfo
    storage: ResourceStorage
    cache: WatchCache


def guarded(handler: Handler) -> Handler:
    """Turn every failure into a Status response; unexpected ones into a logged 500."""

    async def wrapper(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except errors.APIError as e:
            return status_response(e)
        except web.HTTPException:
            raise
        except (ConnectionResetError, ConnectionError):
            raise
        except Exception as e:
            log.exception("internal error serving %s %s", request.method, request.path)
            return status_response(errors.internal_error(f"{type(e).__name__}: {e}"))

    return wrapper


class Handlers:
    def __init__(
        self, registry: Registry, resources: Mapping[tuple[str, str, str], Resource]
    ) -> None:
        self.registry = registry
        self.resources = resources
        #: binding, eviction, log, exec, proxy... (see ._subresources).
        self.extra = Subresources(resources, self)

    async def core(self, request: web.Request) -> web.StreamResponse:
        return await self.dispatch(request, "", "v1", request.match_info["path"])

    async def group(self, request: web.Request) -> web.StreamResponse:
        info = request.match_info
        return await self.dispatch(request, info["group"], info["version"], info["path"])

    async def dispatch(
        self, request: web.Request, group: str, version: str, path: str
    ) -> web.StreamResponse:
        special = self.extra.match_path(group, path)
        if special is not None:
            return await special(request)
        target = parse_target(self.registry, group, version, path)
        info = target.info
        res = self.resources[(info.group, info.version, info.plural)]
        method = request.method
        if target.subresource:
            extra = self.extra.handler_for(target)
            if extra is not None:
                return await extra(request, res, target)
            if method not in _SUBRESOURCE_METHODS.get(target.subresource, ()):
                if target.subresource not in _SUBRESOURCE_METHODS:
                    raise errors.APIError(
                        405,
                        "MethodNotAllowed",
                        f'the "{target.subresource}" subresource of {target.info.plural} is '
                        "not served yet",
                    )
                raise errors.method_not_allowed()
            return await self._subresource(request, res, target)
        if target.watch and method != "GET":
            raise errors.method_not_allowed()
        if target.name:
            verb = _VERB_OF_METHOD.get(method)
            if verb is None or verb not in target.info.verbs:
                raise errors.method_not_allowed()
            if method == "GET":
                if target.watch:
                    return await self._watch_one(request, res, target)
                return await self.get(request, res, target)
            if method == "PUT":
                return await self.update(request, res, target, MAIN)
            if method == "PATCH":
                return await self.patch(request, res, target, MAIN)
            return await self.delete(request, res, target)
        if method == "GET":
            opts = parse_list_options(target.info, request.query, watch=target.watch)
            if opts.watch:
                self._require(target, "watch")
                return await self.watch(request, res, target, opts)
            self._require(target, "list")
            return await self.list_collection(request, res, target, opts)
        if target.namespace is None and target.info.namespaced:
            raise errors.method_not_allowed()
        if method == "POST":
            self._require(target, "create")
            return await self.create(request, res, target)
        if method == "DELETE":
            self._require(target, "deletecollection")
            return await self.delete_collection(request, res, target)
        raise errors.method_not_allowed()

    @staticmethod
    def _require(target: Target, verb: str) -> None:
        if verb not in target.info.verbs:
            raise errors.method_not_allowed()

    # -- reads ---------------------------------------------------------------------------

    async def get(self, request: web.Request, res: Resource, target: Target) -> web.Response:
        output = negotiate(request.headers.get("Accept"))
        ns = target.namespace or ""
        if await self._cache_serves(res, request.query.get("resourceVersion", "")):
            cached = res.cache.get(ns, target.name)
            if cached is None:
                raise errors.not_found(target.info, target.name)
            if output == OUTPUT_JSON and not target.subresource:
                return raw_json_response(cached.raw)
            obj = cached.decode()
        else:
            obj = await res.storage.get(ns, target.name)
        return object_response(target.info, obj, output, query=request.query)

    @staticmethod
    async def _cache_serves(res: Resource, rv: str) -> bool:
        """Whether the cache may answer a GET at ``rv``: "0" (any state), or a state at
        least as new as asked ("" means the store's current revision, as upstream)."""
        cache = res.cache
        if not cache.ready.is_set():
            return False
        if rv == "0":
            return True
        if rv:
            try:
                return cache.revision >= int(rv)
            except ValueError:
                raise errors.bad_request(f'invalid resource version "{rv}"') from None
        try:
            return cache.revision >= await cache.store_revision()
        except st.StoreError as e:
            raise errors.from_store_error(e, res.info) from None

    async def list_collection(
        self, request: web.Request, res: Resource, target: Target, opts: ListOptions
    ) -> web.Response:
        output = negotiate(request.headers.get("Accept"))
        result = await list_objects(res.cache, target.namespace, opts)
        return list_response(target.info, result, output, request.query)

    async def _watch_one(
        self, request: web.Request, res: Resource, target: Target
    ) -> web.StreamResponse:
        """``/watch/.../{name}``: the collection's watch narrowed to that one name."""
        self._require(target, "watch")
        query = dict(request.query)
        only = f"metadata.name={escape_field_value(target.name)}"
        given = query.get("fieldSelector", "")
        query["fieldSelector"] = f"{only},{given}" if given else only
        opts = parse_list_options(target.info, query, watch=True)
        return await self.watch(request, res, replace(target, name=""), opts)

    async def watch(
        self, request: web.Request, res: Resource, target: Target, opts: ListOptions
    ) -> web.StreamResponse:
        output = negotiate(request.headers.get("Accept"))
        if output.table:
            encode = table_event_encoder(target.info, output, request.query)
            return await serve_watch(request, res.cache, target.namespace, opts, encode=encode)
        if output.partial:
            version = output.partial_version
            return await serve_watch(
                request,
                res.cache,
                target.namespace,
                opts,
                encode=partial.event_encoder(version),
                bookmark_info=partial.bookmark_info(target.info, version),
            )
        return await serve_watch(request, res.cache, target.namespace, opts)

    # -- writes --------------------------------------------------------------------------

    async def _body(
        self,
        request: web.Request,
        info: ResourceInfo,
        wopts: WriteOptions,
        *,
        kind: str = "",
        api_version: str = "",
    ) -> tuple[Obj, list[str]]:
        raw = await read_body(request)
        content_type = media_type(request.headers.get("Content-Type"))
        obj = decode_object(raw, content_type)
        check_kind(obj, kind or info.kind, api_version or info.api_version)
        strict = None
        if wopts.field_validation == fieldcheck.STRICT and content_type in ("", JSON):
            strict = fieldcheck.duplicate_fields(raw, fieldcheck.node_for(info, kind))
        return fieldcheck.check(
            info, obj, wopts.field_validation, kind=kind, strict_messages=strict
        )

    async def create(self, request: web.Request, res: Resource, target: Target) -> web.Response:
        output = negotiate(request.headers.get("Accept"), table_allowed=False)
        wopts = parse_write_options(request.query)
        obj, warnings = await self._body(request, target.info, wopts)
        fields = tracker_for(
            target.info, MAIN, wopts.field_manager, request.headers.get("User-Agent")
        )
        created = await res.storage.create(
            target.namespace or "", obj, dry_run=wopts.dry_run, fields=fields
        )
        return object_response(target.info, created, output, status=201, warnings=warnings)

    async def update(
        self, request: web.Request, res: Resource, target: Target, subresource: str
    ) -> web.Response:
        output = negotiate(request.headers.get("Accept"), table_allowed=False)
        wopts = parse_write_options(request.query)
        obj, warnings = await self._body(request, target.info, wopts)
        fields = tracker_for(
            target.info, subresource, wopts.field_manager, request.headers.get("User-Agent")
        )
        stored, created = await res.storage.update(
            target.namespace or "",
            target.name,
            obj,
            subresource=subresource,
            dry_run=wopts.dry_run,
            fields=fields,
        )
        status = 201 if created else 200
        return object_response(target.info, stored, output, status=status, warnings=warnings)

    async def patch(
        self, request: web.Request, res: Resource, target: Target, subresource: str
    ) -> web.Response:
        content_type = media_type(request.headers.get("Content-Type"))
        if content_type == APPLY_PATCH:
            return await serve_apply(request, res.storage, target, subresource)
        output = negotiate(request.headers.get("Accept"), table_allowed=False)
        wopts = parse_write_options(request.query)
        check_patch_options(content_type, request.query, wopts)
        patch = decode_patch(await read_body(request), content_type)
        info = target.info
        node = fieldcheck.node_for(info)
        warnings: list[str] = []

        def compute(current: Obj) -> Obj:
            nonlocal warnings
            patched = apply_patch(content_type, current, patch, node)
            if patched.get("kind") != info.kind or patched.get("apiVersion") != info.api_version:
                raise errors.bad_request("a patch may not change the kind or apiVersion")
            patched, warnings = fieldcheck.check(info, patched, wopts.field_validation)
            check_identity(patched, target)
            return patched

        fields = tracker_for(
            info, subresource, wopts.field_manager, request.headers.get("User-Agent")
        )
        stored, _ = await res.storage.guaranteed_update(
            target.namespace or "",
            target.name,
            compute,
            subresource=subresource,
            dry_run=wopts.dry_run,
            fields=fields,
        )
        return object_response(info, stored, output, warnings=warnings)

    async def delete(self, request: web.Request, res: Resource, target: Target) -> web.Response:
        output = negotiate(request.headers.get("Accept"), table_allowed=False)
        raw = await read_body(request)
        body = decode(raw, media_type(request.headers.get("Content-Type"))) if raw.strip() else None
        if body is not None and not isinstance(body, dict):
            raise errors.bad_request("the body of a DELETE must be a DeleteOptions object")
        opts = parse_delete_options(request.query, body)
        obj, gone = await res.storage.delete(target.namespace or "", target.name, opts)
        if gone and not res.storage.strategy.return_deleted_object:
            uid = str((obj.get("metadata") or {}).get("uid") or "")
            done = success_status(target.info, target.name, uid)
            return object_response(target.info, done, output)
        # Upstream answers 202 only when a cascading delete is still under way.
        status = 202 if (not gone and opts.orphan_dependents is False) else 200
        return object_response(target.info, obj, output, status=status)

    async def delete_collection(
        self, request: web.Request, res: Resource, target: Target
    ) -> web.Response:
        output = negotiate(request.headers.get("Accept"), table_allowed=False)
        raw = await read_body(request)
        body = decode(raw, media_type(request.headers.get("Content-Type"))) if raw.strip() else None
        if body is not None and not isinstance(body, dict):
            raise errors.bad_request("the body of a DELETE must be a DeleteOptions object")
        dopts = parse_delete_options(request.query, body)
        lopts = parse_list_options(target.info, request.query)
        listed = await list_objects(
            res.cache, target.namespace, replace(lopts, limit=0, continue_token="")
        )
        deleted = []
        for item in listed.items:
            try:
                obj, _ = await res.storage.delete(item.namespace, item.name, dopts)
            except errors.APIError as e:
                if e.code == 404:
                    continue
                raise
            deleted.append(obj)
        doc = {
            "kind": target.info.list_kind,
            "apiVersion": target.info.api_version,
            "metadata": {"resourceVersion": str(listed.revision)},
            "items": deleted,
        }
        return object_response(target.info, doc, output)

    # -- subresources --------------------------------------------------------------------

    async def _subresource(
        self, request: web.Request, res: Resource, target: Target
    ) -> web.Response:
        sub, method = target.subresource, request.method
        if sub == SCALE:
            return await self._scale(request, res, target)
        if method == "GET":
            return await self.get(request, res, target)
        if method == "PATCH":
            return await self.patch(request, res, target, sub)
        return await self.update(request, res, target, sub)

    async def _scale(self, request: web.Request, res: Resource, target: Target) -> web.Response:
        info = target.info
        ns = target.namespace or ""
        output = Output(yaml=negotiate(request.headers.get("Accept"), table_allowed=False).yaml)
        if request.method == "GET":
            return object_response(
                info, to_scale(info, await res.storage.get(ns, target.name)), output
            )
        wopts = parse_write_options(request.query)
        warnings: list[str] = []
        if request.method == "PUT":
            scale, warnings = await self._body(
                request, info, wopts, kind=SCALE_KIND, api_version=SCALE_API_VERSION
            )
            given = (scale.get("metadata") or {}).get("name")
            if given != target.name:
                raise errors.bad_request(
                    f"the name of the object ({given or ''}) does not match the name on the "
                    f"URL ({target.name})"
                )

            def compute(current: Obj) -> Obj:
                return apply_scale(info, current, scale)

        else:
            content_type = media_type(request.headers.get("Content-Type"))
            if content_type == APPLY_PATCH:
                return await serve_scale_apply(request, res.storage, target)
            check_patch_options(content_type, request.query, wopts)
            patch = decode_patch(await read_body(request), content_type)
            node = fieldcheck.node_for(info, SCALE_KIND)

            def compute(current: Obj) -> Obj:
                nonlocal warnings
                patched = apply_patch(content_type, to_scale(info, current), patch, node)
                patched, warnings = fieldcheck.check(
                    info, patched, wopts.field_validation, kind=SCALE_KIND
                )
                check_identity(patched, target)
                return apply_scale(info, current, patched)

        # Scale writes are recorded on the workload, under the "scale" subresource.
        fields = tracker_for(info, SCALE, wopts.field_manager, request.headers.get("User-Agent"))
        stored, _ = await res.storage.guaranteed_update(
            ns, target.name, compute, subresource=MAIN, dry_run=wopts.dry_run, fields=fields
        )
        return object_response(info, to_scale(info, stored), output, warnings=warnings)
