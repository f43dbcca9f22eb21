"""The event recorder: core/v1 Events about objects, with repeats folded into a count.

Theory of operation:

* :meth:`EventRecorder.event` never blocks and never fails its caller: it captures the
  time and puts the event on a bounded queue; when the queue is full the event is dropped
  with a warning in the log. :meth:`EventRecorder.run` writes queued events in order until
  cancelled; :meth:`EventRecorder.flush` waits until everything queued so far is written.
* An event's identity is (involved object, type, reason, message, source). The first
  occurrence creates an Event named ``<object name>.<hex nanoseconds>`` (as upstream
  names them) in the object's namespace (``default`` for cluster-wide objects), with
  ``count: 1`` and ``firstTimestamp == lastTimestamp``. A repeat within ``window`` seconds
  of the previous occurrence patches that Event's ``count`` and ``lastTimestamp`` instead
  of creating another; after the window, or if the Event was deleted meanwhile, a new one
  is created. The recorder remembers the last ``cache_size`` identities (LRU).
* A write that fails is logged and dropped: events are best effort, as upstream.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Literal

from kybernetes.api import REGISTRY, ResourceInfo
from kybernetes.client._clock import Clock
from kybernetes.client._errors import ClientError, NotFound
from kybernetes.client._rest import Object, RESTClient

log = logging.getLogger("kyb.client.events")

_EVENTS = REGISTRY.get("", "v1", "events")
assert _EVENTS is not None
EVENTS: ResourceInfo = _EVENTS

NORMAL: Final = "Normal"
WARNING: Final = "Warning"
EventType = Literal["Normal", "Warning"]

_REF_FIELDS = ("kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath")


def object_reference(obj: Mapping[str, Any]) -> dict[str, str]:
    """The ``involvedObject`` for an object (or an ObjectReference passed as is)."""
    meta = obj.get("metadata")
    if not isinstance(meta, Mapping):
        return {k: str(obj[k]) for k in _REF_FIELDS if obj.get(k)}
    ref = {
        "kind": obj.get("kind"),
        "namespace": meta.get("namespace"),
        "name": meta.get("name"),
        "uid": meta.get("uid"),
        "apiVersion": obj.get("apiVersion"),
        "resourceVersion": meta.get("resourceVersion"),
    }
    return {k: str(v) for k, v in ref.items() if v}


def _timestamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True, slots=True)
class _Pending:
    ref: dict[str, str]
    type: str
    reason: str
    message: str
    wall: datetime
    at: float


@dataclass(slots=True)
class _Seen:
    name: str
    namespace: str
    count: int
    last_at: float


class EventRecorder:
    def __init__(
        self,
        client: RESTClient,
        component: str,
        *,
        host: str | None = None,
        window: float = 600.0,
        queue_size: int = 1000,
        cache_size: int = 4096,
        clock: Clock | None = None,
    ) -> None:
        self.client = client
        self.component = component
        self.host = host if host is not None else socket.gethostname()
        self.window = window
        self.cache_size = cache_size
        self._clock = clock or client.clock
        self._queue: asyncio.Queue[_Pending] = asyncio.Queue(queue_size)
        self._seen: OrderedDict[tuple[Any, ...], _Seen] = OrderedDict()
        self._last_ns = 0
        self.dropped = 0

    def event(self, obj: Mapping[str, Any], type: EventType, reason: str, message: str) -> None:
        """Record that ``reason`` happened to ``obj`` (never blocks, never raises)."""
        pending = _Pending(
            object_reference(obj), type, reason, message, self._clock.wall(), self._clock.now()
        )
        try:
            self._queue.put_nowait(pending)
        except asyncio.QueueFull:
            self.dropped += 1
            log.warning(
                "event queue full; dropping %s event %s for %s/%s: %s",
                type,
                reason,
                pending.ref.get("kind", "?"),
                pending.ref.get("name", "?"),
                message,
            )

    def eventf(
        self, obj: Mapping[str, Any], type: EventType, reason: str, fmt: str, *args: Any
    ) -> None:
        self.event(obj, type, reason, fmt % args if args else fmt)

    async def run(self) -> None:
        """Write queued events until cancelled."""
        while True:
            pending = await self._queue.get()
            try:
                await self._write(pending)
            except Exception:
                log.exception("writing event %s failed", pending.reason)
            finally:
                self._queue.task_done()

    async def flush(self) -> None:
        """Wait until every event recorded so far is written (needs :meth:`run` running)."""
        await self._queue.join()

    def _key(self, p: _Pending) -> tuple[Any, ...]:
        ref = tuple(sorted((k, v) for k, v in p.ref.items() if k != "resourceVersion"))
        return (ref, p.type, p.reason, p.message, self.component, self.host)

    async def _write(self, p: _Pending) -> None:
        key = self._key(p)
        seen = self._seen.get(key)
        if seen is not None and p.at - seen.last_at <= self.window:
            seen.count += 1
            seen.last_at = p.at
            self._seen.move_to_end(key)
            patch = {"count": seen.count, "lastTimestamp": _timestamp(p.wall)}
            try:
                await self.client.patch(EVENTS, seen.name, patch, namespace=seen.namespace)
                return
            except NotFound:
                pass  # deleted meanwhile (e.g. by TTL): start a new one
            except ClientError as e:
                log.warning("could not update event %s/%s: %s", seen.namespace, seen.name, e)
                return
        created = await self._create(p)
        if created is None:
            return
        self._seen[key] = created
        self._seen.move_to_end(key)
        while len(self._seen) > self.cache_size:
            self._seen.popitem(last=False)

    def _name(self, p: _Pending) -> str:
        ns = int(p.wall.timestamp() * 1_000_000) * 1000
        ns = max(ns, self._last_ns + 1)  # unique even when the clock has not moved
        self._last_ns = ns
        return f"{p.ref.get('name', 'unknown')}.{ns:x}"

    async def _create(self, p: _Pending) -> _Seen | None:
        namespace = p.ref.get("namespace") or "default"
        stamp = _timestamp(p.wall)
        body: Object = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": self._name(p), "namespace": namespace},
            "involvedObject": p.ref,
            "reason": p.reason,
            "message": p.message,
            "type": p.type,
            "source": {"component": self.component, "host": self.host},
            "firstTimestamp": stamp,
            "lastTimestamp": stamp,
            "count": 1,
            "reportingComponent": self.component,
            "reportingInstance": self.host,
        }
        try:
            created = await self.client.create(EVENTS, body, namespace=namespace)
        except ClientError as e:
            log.warning("could not create event %s for %s: %s", p.reason, p.ref.get("name"), e)
            return None
        name = str((created.get("metadata") or {}).get("name") or body["metadata"]["name"])
        return _Seen(name, namespace, 1, p.at)
