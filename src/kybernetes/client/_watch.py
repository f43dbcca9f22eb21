"""Watch: a stream of changes that survives the stream ending and the connection dropping.

Theory of operation:

* :func:`watch_once` opens one ``?watch=true`` stream and yields each JSON line as a
  :class:`WatchEvent` (``ADDED``, ``MODIFIED``, ``DELETED``, ``BOOKMARK``), until the server
  ends it. An ``ERROR`` event raises its Status as a typed error; 410 (on the event or on
  the HTTP answer) raises :class:`WatchExpired`.
* :func:`watch` resumes: it starts from a concrete ``resource_version`` (a list's; "" and
  "0" are refused because resuming from them would replay the whole state), remembers the
  resourceVersion of every event and bookmark it sees, and when a stream ends or breaks
  opens the next one from there. So every change after the start is delivered once, in
  order, with no gap, for as long as the server keeps enough history. When it does not,
  :class:`WatchExpired` is raised: list again and watch from the new list.
* Bookmarks are requested (``allowWatchBookmarks=true``); they only move the resume point
  and are never yielded by :func:`watch`.
* A stream that breaks (connection lost, 5xx, 429, timeout) is reopened after a backoff
  (0.2 s doubling to 30 s, reset by any event), slept on the client's clock. Other errors
  (403, 404, ...) are raised.

Close a watch you stop early (``contextlib.aclosing``); cancelling the consuming task
closes the stream too.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Any

import orjson

from kybernetes.api import ResourceInfo
from kybernetes.client._errors import (
    Gone,
    ServerError,
    TooManyRequests,
    TransportError,
    WatchExpired,
    error_from_status_object,
)
from kybernetes.client._http import HTTPClient
from kybernetes.client._paths import resource_path

log = logging.getLogger("kyb.client.watch")

ADDED = "ADDED"
MODIFIED = "MODIFIED"
DELETED = "DELETED"
BOOKMARK = "BOOKMARK"
ERROR = "ERROR"

#: How long a watch asks the server to keep a stream open (seconds).
DEFAULT_WATCH_TIMEOUT = 300
_BACKOFF_START = 0.2
_BACKOFF_MAX = 30.0


@dataclass(frozen=True, slots=True)
class WatchEvent:
    type: str
    object: dict[str, Any]

    @property
    def resource_version(self) -> str:
        meta = self.object.get("metadata")
        return str(meta.get("resourceVersion") or "") if isinstance(meta, dict) else ""


class LineSplitter:
    """Bytes in, complete lines out (h11 style: no I/O). Empty lines are skipped."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, chunk: bytes) -> list[bytes]:
        self._buffer += chunk
        if b"\n" not in chunk:
            return []
        *lines, rest = bytes(self._buffer).split(b"\n")
        self._buffer = bytearray(rest)
        return [line for line in lines if line.strip()]

    def close(self) -> list[bytes]:
        """What is left when the stream ends (a last line without its newline)."""
        rest = bytes(self._buffer).strip()
        self._buffer.clear()
        return [rest] if rest else []


def decode_event(line: bytes) -> WatchEvent:
    """One watch line; ERROR events raise (410: :class:`WatchExpired`)."""
    try:
        raw = orjson.loads(line)
    except orjson.JSONDecodeError as e:
        raise TransportError(f"watch stream sent a line that is not JSON: {e}") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("object"), dict):
        raise TransportError("watch stream sent an event without an object")
    kind = str(raw.get("type") or "")
    if kind == ERROR:
        error = error_from_status_object(raw["object"])
        if isinstance(error, Gone):
            raise WatchExpired(error.status, error.code) from None
        raise error
    return WatchEvent(kind, raw["object"])


def _watch_query(
    *,
    label_selector: str | None,
    field_selector: str | None,
    resource_version: str | None,
    timeout_seconds: int | None,
    allow_bookmarks: bool,
    send_initial_events: bool,
) -> dict[str, str | int | bool | None]:
    query: dict[str, str | int | bool | None] = {
        "watch": True,
        "labelSelector": label_selector or None,
        "fieldSelector": field_selector or None,
        "resourceVersion": resource_version or None,
        "timeoutSeconds": timeout_seconds,
        "allowWatchBookmarks": True if allow_bookmarks else None,
    }
    if send_initial_events:
        query["sendInitialEvents"] = True
        query["resourceVersionMatch"] = "NotOlderThan"
    return query


async def watch_once(
    client: HTTPClient,
    resource: ResourceInfo,
    *,
    namespace: str | None = None,
    label_selector: str | None = None,
    field_selector: str | None = None,
    resource_version: str | None = None,
    timeout_seconds: int | None = DEFAULT_WATCH_TIMEOUT,
    allow_bookmarks: bool = True,
    send_initial_events: bool = False,
) -> AsyncGenerator[WatchEvent, None]:
    """One watch stream, every event as sent (bookmarks included), until the server ends it."""
    path = resource_path(resource, namespace=namespace, collection=True)
    query = _watch_query(
        label_selector=label_selector,
        field_selector=field_selector,
        resource_version=resource_version,
        timeout_seconds=timeout_seconds,
        allow_bookmarks=allow_bookmarks,
        send_initial_events=send_initial_events,
    )
    # The server ends the stream at timeoutSeconds; silence well past that means the
    # connection is dead even if TCP has not noticed.
    read_timeout = timeout_seconds + 30.0 if timeout_seconds else None
    try:
        response = await client.stream("GET", path, query=query, read_timeout=read_timeout)
    except Gone as e:
        raise WatchExpired(e.status, e.code) from None
    splitter = LineSplitter()
    try:
        async for chunk in response.iter_chunks():
            for line in splitter.feed(chunk):
                yield decode_event(line)
        for line in splitter.close():
            yield decode_event(line)
    finally:
        await response.close()


async def watch(
    client: HTTPClient,
    resource: ResourceInfo,
    *,
    resource_version: str,
    namespace: str | None = None,
    label_selector: str | None = None,
    field_selector: str | None = None,
    timeout_seconds: int = DEFAULT_WATCH_TIMEOUT,
) -> AsyncGenerator[WatchEvent, None]:
    """Every change after ``resource_version``, resuming across streams (see module doc)."""
    if not resource_version or resource_version == "0":
        raise ValueError(
            "a resuming watch starts from a concrete resourceVersion (a list's), not "
            f"{resource_version!r}"
        )
    rv = resource_version
    failures = 0
    while True:
        delivered = False
        try:
            async for event in watch_once(
                client,
                resource,
                namespace=namespace,
                label_selector=label_selector,
                field_selector=field_selector,
                resource_version=rv,
                timeout_seconds=timeout_seconds,
                allow_bookmarks=True,
            ):
                delivered = True
                failures = 0
                rv = event.resource_version or rv
                if event.type != BOOKMARK:
                    yield event
        except (TransportError, ServerError, TooManyRequests) as e:
            delay = min(_BACKOFF_START * 2**failures, _BACKOFF_MAX)
            failures += 1
            log.info(
                "watch %s from %s broke (%s); reopening in %.1fs", resource.plural, rv, e, delay
            )
            await client.clock.sleep(delay)
            continue
        if not delivered:
            # An empty stream: do not spin if the server keeps ending streams at once.
            delay = min(_BACKOFF_START * 2**failures, _BACKOFF_MAX)
            failures += 1
            await client.clock.sleep(delay)
