"""The lean asyncio clients of bench/apiserver.py (the benchmark process runs uvloop).

* :func:`fill` creates pods with fixed names, ``CONCURRENCY`` requests in flight (setup,
  not timed);
* :func:`watch_fanout` opens ``watchers`` raw HTTP/1.1 watch streams (an
  ``asyncio.Protocol`` each, counting event markers in the bytes without parsing JSON, so
  the client stays cheap), proves every stream is live with one warm-up pod, then creates
  ``events`` pods and times the delivery of every event to every watcher.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any, cast

import aiohttp
import orjson

from _apiserver_pods import pod

CONCURRENCY = 64
JSON_HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}


async def _post(session: aiohttp.ClientSession, url: str, body: dict[str, Any]) -> None:
    async with session.post(url, data=orjson.dumps(body), headers=JSON_HEADERS) as resp:
        if resp.status not in (200, 201):
            raise RuntimeError(f"POST {url}: {resp.status} {await resp.text()}")
        await resp.read()


async def create_namespace(session: aiohttp.ClientSession, base: str, name: str) -> None:
    body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
    await _post(session, f"{base}/api/v1/namespaces", body)


async def _pool(bodies: Sequence[dict[str, Any]], send: Any) -> None:
    it = iter(bodies)

    async def worker() -> None:
        for body in it:
            await send(body)

    async with asyncio.TaskGroup() as tg:
        for _ in range(CONCURRENCY):
            tg.create_task(worker())


async def fill(
    session: aiohttp.ClientSession, base: str, namespace: str, name_prefix: str, count: int
) -> None:
    """Create ``{name_prefix}000000`` .. in ``namespace`` (which must exist)."""
    url = f"{base}/api/v1/namespaces/{namespace}/pods"
    bodies = [pod(namespace, name=f"{name_prefix}{i:06d}") for i in range(count)]
    await _pool(bodies, lambda b: _post(session, url, b))


async def list_pods(session: aiohttp.ClientSession, base: str, namespace: str) -> list[Any]:
    """The pods of ``namespace`` as the server serves them, by name."""
    url = f"{base}/api/v1/namespaces/{namespace}/pods"
    async with session.get(url, headers={"Accept": "application/json"}) as resp:
        if resp.status != 200:
            raise RuntimeError(f"GET {url}: {resp.status} {await resp.text()}")
        items: list[Any] = orjson.loads(await resp.read())["items"]
    return sorted(items, key=lambda o: str(o["metadata"]["name"]))


_MARKER = b'{"type":"'


class _WatchStream(asyncio.Protocol):
    """Counts watch events arriving on one raw HTTP connection."""

    def __init__(self, request: bytes, want: int, warm: asyncio.Event, done: asyncio.Event):
        self.request = request
        self.want = want
        self.got = 0
        self.tail = b""
        self.status_ok: bool | None = None
        self.finished_at = 0.0
        self._warm = warm
        self._done = done
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but behave as one.
        self.transport = cast(asyncio.Transport, transport)
        self.transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        if self.status_ok is None:
            self.status_ok = data.startswith(b"HTTP/1.1 200")
        buf = self.tail + data
        # A marker split across reads is counted once: the kept tail is one byte short of
        # a whole marker, so a match overlapping it cannot have been counted before.
        self.got += buf.count(_MARKER)
        self.tail = buf[-(len(_MARKER) - 1) :]
        if self.got >= 1:
            self._warm.set()
        if self.got >= self.want and not self.finished_at:
            self.finished_at = time.perf_counter()
            self._done.set()

    def connection_lost(self, exc: Exception | None) -> None:
        self._warm.set()
        self._done.set()


async def watch_fanout(
    session: aiohttp.ClientSession,
    base: str,
    port: int,
    namespace: str,
    watchers: int,
    events: int,
    within: float = 120.0,
) -> float:
    """Events/s delivered to ``watchers`` watchers of ``namespace`` (an empty one)."""
    loop = asyncio.get_running_loop()
    path = f"/api/v1/namespaces/{namespace}/pods?watch=true"
    request = (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: application/json\r\n\r\n"
    ).encode()
    streams: list[_WatchStream] = []
    warm: list[asyncio.Event] = []
    done: list[asyncio.Event] = []
    try:
        for _ in range(watchers):
            w, d = asyncio.Event(), asyncio.Event()
            proto = _WatchStream(request, events + 1, w, d)
            await loop.create_connection(lambda p=proto: p, "127.0.0.1", port)  # type: ignore[misc]
            streams.append(proto)
            warm.append(w)
            done.append(d)
        url = f"{base}/api/v1/namespaces/{namespace}/pods"
        async with asyncio.timeout(within):
            # Watches register as their requests arrive: retry the warm-up pod until every
            # stream has seen one (extra warm-up events are not counted).
            extra = 0
            while True:
                await _post(session, url, pod(namespace, name=f"warmup-{extra}"))
                try:
                    async with asyncio.timeout(2.0):
                        await asyncio.gather(*(e.wait() for e in warm))
                    break
                except TimeoutError:
                    extra += 1
            if not all(s.status_ok for s in streams):
                raise RuntimeError("a watch stream did not answer 200")
            for s in streams:
                s.want = s.got + events
            t0 = time.perf_counter()
            bodies = [pod(namespace, name=f"w-{i:06d}") for i in range(events)]
            await _pool(bodies, lambda b: _post(session, url, b))
            await asyncio.gather(*(e.wait() for e in done))
        if any(s.got < s.want for s in streams):
            raise RuntimeError("a watch stream ended before it had every event")
        return events * watchers / (max(s.finished_at for s in streams) - t0)
    finally:
        for s in streams:
            if s.transport is not None:
                s.transport.close()
