"""An in-memory Kubernetes API behind the client's Transport seam (unit tests, no sockets).

It speaks as much REST as the client's verbs need: CRUD with resourceVersion conflicts,
lists with ``labelSelector``, ``limit``/``continue``, and streamed watches from a
resourceVersion (410 Expired below :attr:`FakeKube.compacted`, bookmarks on demand).
Tests steer it: :meth:`FakeKube.script` queues canned answers or exceptions, ``down``
servers refuse connections, :meth:`FakeKube.end_watches` ends or breaks every stream, and
``requests`` records what was sent. Not an API server: no validation, defaulting or
admission.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson

from kybernetes.api import (
    REGISTRY,
    ResourceInfo,
    apply_json_patch,
    apply_merge_patch,
    parse_label_selector,
)
from kybernetes.client import BufferedResponse, ConnectError, Request, Response, TransportError

Obj = dict[str, Any]


def resource(group: str, plural: str, version: str = "v1") -> ResourceInfo:
    """A registered resource (fails loudly if it is not)."""
    info = REGISTRY.get(group, version, plural)
    assert info is not None, (group, version, plural)
    return info


def status(code: int, reason: str, message: str, **details: Any) -> Obj:
    out: Obj = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    if details:
        out["details"] = details
    return out


@dataclass
class Route:
    resource: ResourceInfo
    namespace: str | None
    name: str | None
    subresource: str | None
    query: dict[str, str]


def parse_route(url: str) -> Route:
    parts = urlsplit(url)
    segs = [s for s in parts.path.split("/") if s]
    if segs[0] == "api":
        group, version, rest = "", segs[1], segs[2:]
    else:
        group, version, rest = segs[1], segs[2], segs[3:]
    namespace = None
    if rest[0] == "namespaces" and len(rest) >= 3:
        namespace, rest = rest[1], rest[2:]
    info = REGISTRY.get(group, version, rest[0])
    assert info is not None, url
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    return Route(
        info,
        namespace,
        rest[1] if len(rest) > 1 else None,
        rest[2] if len(rest) > 2 else None,
        query,
    )


class _Stream:
    """A streamed watch answer fed through a queue."""

    def __init__(self, kube: FakeKube, route: Route) -> None:
        self.kube = kube
        self.route = route
        self.queue: asyncio.Queue[bytes | BaseException | None] = asyncio.Queue()
        self.closed = False

    @property
    def status(self) -> int:
        return 200

    @property
    def headers(self) -> Mapping[str, str]:
        return {"content-type": "application/json"}

    async def read(self) -> bytes:
        return b"".join([c async for c in self.iter_chunks()])

    async def iter_chunks(self) -> AsyncIterator[bytes]:
        while True:
            item = await self.queue.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    def push(self, kind: str, obj: Obj) -> None:
        self.queue.put_nowait(orjson.dumps({"type": kind, "object": obj}) + b"\n")

    async def close(self) -> None:
        self.closed = True
        if self in self.kube.streams:
            self.kube.streams.remove(self)


@dataclass
class FakeKube:
    #: resource key -> (namespace, name) -> object
    objects: dict[tuple[str, str], dict[tuple[str, str], Obj]] = field(default_factory=dict)
    revision: int = 1
    #: Watches from below this revision get 410 Expired.
    compacted: int = 0
    #: (revision, type, resource key, namespace, object)
    log: list[tuple[int, str, tuple[str, str], str, Obj]] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)
    #: Server base URLs that refuse connections.
    down: set[str] = field(default_factory=set)
    streams: list[_Stream] = field(default_factory=list)
    scripted: deque[Any] = field(default_factory=deque)
    _uids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def transport(self) -> FakeTransport:
        return FakeTransport(self)

    # -- steering ------------------------------------------------------------------------

    def script(self, answer: Any) -> None:
        """The next request gets ``answer``: an exception to raise, or
        ``(status, body, headers)``."""
        self.scripted.append(answer)

    def end_watches(self, error: BaseException | None = None) -> None:
        """End every open watch stream (cleanly, or by raising ``error`` in the reader)."""
        for stream in list(self.streams):
            stream.queue.put_nowait(error)
            self.streams.remove(stream)

    def bookmark(self) -> None:
        """Send a BOOKMARK at the current revision to every stream that allows them."""
        for stream in self.streams:
            if stream.route.query.get("allowWatchBookmarks") == "true":
                kind = stream.route.resource
                stream.push(
                    "BOOKMARK",
                    {
                        "kind": kind.kind,
                        "apiVersion": kind.api_version,
                        "metadata": {"resourceVersion": str(self.revision)},
                    },
                )

    def requests_to(self, method: str, fragment: str = "") -> list[Request]:
        return [r for r in self.requests if r.method == method and fragment in r.url]

    # -- direct access (as if another client wrote) ----------------------------------------

    def put(self, resource: ResourceInfo, obj: Obj) -> Obj:
        """Create or replace ``obj`` directly, producing the matching watch event."""
        obj = copy.deepcopy(obj)
        key = self._key(resource)
        meta = obj.setdefault("metadata", {})
        ident = (meta.get("namespace") or "", meta["name"])
        existed = ident in self.objects.setdefault(key, {})
        if not existed:
            meta.setdefault("uid", f"uid-{next(self._uids)}")
            meta.setdefault("creationTimestamp", "2025-01-01T00:00:00Z")
        return self._write(resource, ident, obj, "MODIFIED" if existed else "ADDED")

    def remove(self, resource: ResourceInfo, name: str, namespace: str = "") -> Obj:
        key = self._key(resource)
        obj = self.objects[key].pop((namespace, name))
        self.revision += 1
        obj = copy.deepcopy(obj)
        obj["metadata"]["resourceVersion"] = str(self.revision)
        self._event(resource, "DELETED", namespace, obj)
        return obj

    def get(self, resource: ResourceInfo, name: str, namespace: str = "") -> Obj | None:
        return self.objects.get(self._key(resource), {}).get((namespace, name))

    # -- internals -----------------------------------------------------------------------

    @staticmethod
    def _key(resource: ResourceInfo) -> tuple[str, str]:
        return (resource.group, resource.plural)

    def _write(self, resource: ResourceInfo, ident: tuple[str, str], obj: Obj, kind: str) -> Obj:
        self.revision += 1
        obj.setdefault("kind", resource.kind)
        obj.setdefault("apiVersion", resource.api_version)
        obj["metadata"]["resourceVersion"] = str(self.revision)
        self.objects.setdefault(self._key(resource), {})[ident] = obj
        self._event(resource, kind, ident[0], obj)
        return copy.deepcopy(obj)

    def _event(self, resource: ResourceInfo, kind: str, namespace: str, obj: Obj) -> None:
        self.log.append((self.revision, kind, self._key(resource), namespace, copy.deepcopy(obj)))
        for stream in self.streams:
            r = stream.route
            if self._key(r.resource) == self._key(resource) and (
                not r.namespace or r.namespace == namespace
            ):
                stream.push(kind, copy.deepcopy(obj))

    async def handle(self, request: Request) -> Response:
        self.requests.append(request)
        for base in self.down:
            if request.url.startswith(base):
                raise ConnectError(f"connection refused: {base}")
        if self.scripted:
            answer = self.scripted.popleft()
            if isinstance(answer, BaseException):
                raise answer
            code, body, headers = answer
            raw = body if isinstance(body, bytes) else orjson.dumps(body)
            return BufferedResponse(code, headers or {}, raw)
        route = parse_route(request.url)
        body = orjson.loads(request.body) if request.body else None
        try:
            if request.method == "GET" and route.query.get("watch") == "true":
                return self._watch(route)
            code, answer = self._route(request, route, body)
        except KeyError as e:
            code, answer = 404, status(404, "NotFound", f"not found: {e}")
        return BufferedResponse(code, {"content-type": "application/json"}, orjson.dumps(answer))

    def _route(self, request: Request, route: Route, body: Any) -> tuple[int, Obj]:
        res = route.resource
        store = self.objects.setdefault(self._key(res), {})
        ns = route.namespace or ""
        if request.method == "GET" and route.name is None:
            return 200, self._list(route)
        if route.name is None and request.method == "POST":
            body.setdefault("metadata", {})["namespace"] = route.namespace
            if not res.namespaced:
                body["metadata"].pop("namespace")
            ident = (ns, body["metadata"]["name"])
            if ident in store:
                msg = f'{res.group_resource} "{ident[1]}" already exists'
                return 409, status(409, "AlreadyExists", msg)
            return 201, self.put(res, body)
        if route.name is None and request.method == "DELETE":
            items = [o for (n, _), o in list(store.items()) if not route.namespace or n == ns]
            for obj in items:
                self.remove(res, obj["metadata"]["name"], obj["metadata"].get("namespace") or "")
            return 200, {"kind": res.list_kind, "items": items, "metadata": {}}
        assert route.name is not None
        ident = (ns, route.name)
        if route.subresource in ("binding", "eviction"):
            return 201, {"kind": "Status", "status": "Success", "code": 201}
        if ident not in store:
            return 404, status(404, "NotFound", f'{res.group_resource} "{route.name}" not found')
        current = store[ident]
        if request.method == "GET":
            return 200, copy.deepcopy(current)
        if request.method == "DELETE":
            return 200, self.remove(res, route.name, ns)
        if request.method == "PUT":
            sent = body["metadata"].get("resourceVersion")
            if sent and sent != current["metadata"]["resourceVersion"]:
                msg = (
                    f'Operation cannot be fulfilled on {res.group_resource} "{route.name}": '
                    "the object has been modified; please apply your changes to the latest "
                    "version and try again"
                )
                return 409, status(409, "Conflict", msg)
            body["metadata"]["uid"] = current["metadata"]["uid"]
            return 200, self._write(res, ident, body, "MODIFIED")
        if request.method == "PATCH":
            kind = request.headers.get("Content-Type", "")
            if kind == "application/json-patch+json":
                patched = apply_json_patch(current, body)
            else:
                patched = apply_merge_patch(copy.deepcopy(current), body)
            return 200, self._write(res, ident, patched, "MODIFIED")
        raise AssertionError(f"unhandled {request.method} {request.url}")

    def _list(self, route: Route) -> Obj:
        res = route.resource
        selector = parse_label_selector(route.query.get("labelSelector", ""))
        items = [
            copy.deepcopy(o)
            for (n, _), o in sorted(self.objects.get(self._key(res), {}).items())
            if (not route.namespace or n == route.namespace)
            and selector.matches((o.get("metadata") or {}).get("labels") or {})
        ]
        for item in items:  # lists carry kind/apiVersion only on the list, as the real API
            item.pop("kind", None)
            item.pop("apiVersion", None)
        meta: Obj = {"resourceVersion": str(self.revision)}
        limit = int(route.query.get("limit") or 0)
        if limit:
            start = int(route.query.get("continue") or 0)
            if start and start < self.compacted:
                raise _Expired()
            page = items[start : start + limit]
            if start + limit < len(items):
                meta["continue"] = str(start + limit)
                meta["remainingItemCount"] = len(items) - start - limit
            items = page
        return {
            "kind": res.list_kind,
            "apiVersion": res.api_version,
            "metadata": meta,
            "items": items,
        }

    def _watch(self, route: Route) -> Response:
        stream = _Stream(self, route)
        rv = int(route.query.get("resourceVersion") or 0)
        if rv and rv < self.compacted:
            stream.push("ERROR", status(410, "Expired", f"too old resource version: {rv}"))
            stream.queue.put_nowait(None)
            return stream
        for revision, kind, key, ns, obj in self.log:
            if (
                revision > rv
                and key == self._key(route.resource)
                and (not route.namespace or ns == route.namespace)
            ):
                stream.push(kind, copy.deepcopy(obj))
        self.streams.append(stream)
        return stream


class _Expired(Exception):
    pass


class FakeTransport:
    def __init__(self, kube: FakeKube) -> None:
        self.kube = kube
        self.closed = False

    async def send(self, request: Request) -> Response:
        try:
            return await self.kube.handle(request)
        except _Expired:
            body = orjson.dumps(status(410, "Expired", "continue token expired"))
            return BufferedResponse(410, {}, body)

    async def close(self) -> None:
        self.closed = True


class BrokenTransport:
    """A transport whose every request fails to connect (a dead network)."""

    async def send(self, request: Request) -> Response:
        raise ConnectError(f"unreachable: {request.url}")

    async def close(self) -> None:
        pass


async def eventually(predicate: Callable[[], bool], *, turns: int = 2000) -> None:
    """Let the event loop run until ``predicate()`` holds (no real time passes)."""
    for _ in range(turns):
        if predicate():
            return
        await asyncio.sleep(0)
    raise AssertionError("condition never held")


__all__ = [
    "BrokenTransport",
    "FakeKube",
    "FakeTransport",
    "TransportError",
    "eventually",
    "resource",
    "status",
]
