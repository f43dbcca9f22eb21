"""WATCH: a chunked stream of JSON lines, one per event, fed by the watch cache.

Promises:

* Where the stream starts: ``resourceVersion`` unset or ``"0"`` (or
  ``sendInitialEvents=true``) first sends a synthetic ADDED for every object of the
  initial state (read as a LIST with the same resourceVersion would, see :mod:`._list`),
  then every later change; ``N`` sends the changes after N. An N older than the cache's
  window gets one ERROR event (410 Expired) and the stream ends; clients relist.
* With ``sendInitialEvents=true`` the initial events end with a BOOKMARK annotated
  ``k8s.io/initial-events-end: "true"``.
* Selectors apply to the object before and after each change: an object that starts
  matching arrives as ADDED, one that stops matching as DELETED.
* With ``allowWatchBookmarks`` a BOOKMARK carrying only ``metadata.resourceVersion``
  comes about every minute, never ahead of an event not yet sent.
* The stream ends at ``timeoutSeconds`` (default: 30-60 minutes, as upstream), when the
  client goes away, or when the cache ends the watcher (it fell behind; the cache
  relisted). Every event is flushed as it is written.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import replace

import orjson
from aiohttp import web

from kybernetes.api import ResourceInfo
from kybernetes.apiserver._codec import CachedObject
from kybernetes.apiserver._errors import APIError
from kybernetes.apiserver._list import list_objects
from kybernetes.apiserver._options import ListOptions
from kybernetes.apiserver._watchcache import (
    ADDED,
    DELETED,
    MODIFIED,
    TICK,
    CacheEvent,
    Tick,
    WatchCache,
    Watcher,
)

BOOKMARK_INTERVAL = 60.0
#: How often an idle stream checks whether its client is still there.
_LIVENESS_INTERVAL = 5.0
_MIN_TIMEOUT = 1800
INITIAL_EVENTS_END = "k8s.io/initial-events-end"

#: Renders one event's object (JSON bytes) given the object; Table watches swap it.
ObjectEncoder = Callable[[CachedObject], bytes]


def raw_object(obj: CachedObject) -> bytes:
    return obj.raw


def visible(obj: CachedObject, namespace: str | None, opts: ListOptions) -> bool:
    if namespace and obj.namespace != namespace:
        return False
    return opts.selects_everything or opts.matches(obj)


def filter_event(
    event: CacheEvent, namespace: str | None, opts: ListOptions
) -> tuple[str, CachedObject] | None:
    """What a watcher with these selectors sees of ``event`` (None: nothing)."""
    if event.type == DELETED:
        return (DELETED, event.obj) if visible(event.obj, namespace, opts) else None
    now = visible(event.obj, namespace, opts)
    before = event.prev is not None and visible(event.prev, namespace, opts)
    if now:
        return (MODIFIED if before else ADDED, event.obj)
    if before:
        return (DELETED, event.obj)
    return None


def event_line(kind: str, payload: bytes) -> bytes:
    return b'{"type":"' + kind.encode() + b'","object":' + payload + b"}\n"


def bookmark_line(info: ResourceInfo, revision: int, *, initial_end: bool = False) -> bytes:
    meta: dict[str, object] = {"resourceVersion": str(revision)}
    if initial_end:
        meta["annotations"] = {INITIAL_EVENTS_END: "true"}
    obj = {"kind": info.kind, "apiVersion": info.api_version, "metadata": meta}
    return event_line("BOOKMARK", orjson.dumps(obj))


def error_line(err: APIError) -> bytes:
    return event_line("ERROR", orjson.dumps(err.status()))


def _timeout(opts: ListOptions) -> float:
    if opts.timeout_seconds is not None:
        return float(opts.timeout_seconds)
    return float(_MIN_TIMEOUT + random.randrange(_MIN_TIMEOUT))


async def serve_watch(
    request: web.Request,
    cache: WatchCache,
    namespace: str | None,
    opts: ListOptions,
    *,
    encode: ObjectEncoder = raw_object,
    content_type: str = "application/json",
    headers: dict[str, str] | None = None,
    bookmark_info: ResourceInfo | None = None,
) -> web.StreamResponse:
    """Stream the watch ``opts`` describes until it times out or the client leaves.
    Bookmarks name ``bookmark_info``'s kind (default: the cache's resource)."""
    bookmarks = bookmark_info or cache.info
    loop = asyncio.get_running_loop()
    deadline = loop.time() + _timeout(opts)
    rv = opts.resource_version
    send_initial = opts.send_initial_events
    if send_initial is None:
        send_initial = rv in ("", "0")
    initial: list[CachedObject] = []
    prelude: list[bytes] = []
    watcher: Watcher | None = None
    try:
        if send_initial:
            start = await list_objects(
                cache,
                namespace,
                replace(opts, limit=0, continue_token="", resource_version_match=""),
            )
            initial, after = start.items, start.revision
        elif rv in ("", "0"):
            after = cache.revision  # from now on, without the current state
        else:
            after = int(rv)
        backlog, watcher = cache.watch_from(after)
    except APIError as e:
        prelude.append(error_line(e))
        backlog = []

    response = web.StreamResponse(status=200, headers=headers)
    response.content_type = content_type
    response.enable_chunked_encoding()
    try:
        await response.prepare(request)
        lines = [event_line(ADDED, encode(o)) for o in initial]
        if watcher is not None and opts.send_initial_events:
            lines.append(bookmark_line(bookmarks, after, initial_end=True))
        for event in backlog:
            seen = filter_event(event, namespace, opts)
            if seen is not None:
                lines.append(event_line(seen[0], encode(seen[1])))
        lines.extend(prelude)
        if lines:
            await response.write(b"".join(lines))
        if watcher is None:
            return response
        await _pump(
            request, response, cache, watcher, namespace, opts, encode, deadline, after, bookmarks
        )
    except ConnectionResetError:
        pass  # the client went away
    finally:
        if watcher is not None:
            cache.stop_watch(watcher)
    return response


async def _pump(
    request: web.Request,
    response: web.StreamResponse,
    cache: WatchCache,
    watcher: Watcher,
    namespace: str | None,
    opts: ListOptions,
    encode: ObjectEncoder,
    deadline: float,
    last_sent: int,
    bookmarks: ResourceInfo,
) -> None:
    loop = asyncio.get_running_loop()
    queue = watcher.queue
    next_bookmark = loop.time() + BOOKMARK_INTERVAL
    # The pump looks at the clock (deadline, bookmarks, whether the client is still there)
    # when a timer pokes it. One timer serves many waits: a timeout per wait would cost a
    # timer (and with wait_for a task) for every event, on every watch.
    timer: asyncio.TimerHandle | None = None
    wake_at = 0.0
    try:
        while True:
            now = loop.time()
            if now >= deadline:
                return
            if opts.allow_watch_bookmarks and now >= next_bookmark and queue.empty():
                # Everything up to the cache's revision has been queued (dispatch is
                # synchronous), and the queue is empty: the bookmark cannot overtake an event.
                last_sent = max(last_sent, cache.revision)
                await response.write(bookmark_line(bookmarks, last_sent))
                next_bookmark = now + BOOKMARK_INTERVAL
            if wake_at <= now:
                wake_at = min(deadline, now + _LIVENESS_INTERVAL)
                if opts.allow_watch_bookmarks and next_bookmark > now:
                    wake_at = min(wake_at, next_bookmark)
                if timer is not None:
                    timer.cancel()
                timer = loop.call_at(wake_at, watcher.poke)
            event = await queue.get()
            if event is TICK:
                transport = request.transport
                if transport is None or transport.is_closing():
                    return
                continue
            lines = []
            ended = False
            while True:
                if event is None:
                    ended = True
                    break
                if not isinstance(event, Tick):
                    seen = filter_event(event, namespace, opts)
                    if seen is not None:
                        lines.append(event_line(seen[0], encode(seen[1])))
                    last_sent = max(last_sent, event.revision)
                if queue.empty():
                    break
                event = queue.get_nowait()
            if lines:
                await response.write(b"".join(lines))
            if ended:
                return
    finally:
        if timer is not None:
            timer.cancel()
