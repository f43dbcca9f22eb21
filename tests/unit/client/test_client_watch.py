"""Watch: line framing, resume from the last resourceVersion, bookmarks, 410, reconnects."""

from __future__ import annotations

import asyncio
from contextlib import aclosing
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from tests.support.fakekube import FakeKube, eventually, resource, status

from kybernetes.client import (
    ADDED,
    DELETED,
    MODIFIED,
    FakeClock,
    Forbidden,
    RESTClient,
    ServerError,
    TransportError,
    WatchEvent,
    WatchExpired,
)
from kybernetes.client._watch import LineSplitter, decode_event

pytestmark = pytest.mark.timeout(10)

CONFIGMAPS = resource("", "configmaps")


def cm(name: str, **data: str) -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": "ns"}, "data": data}


def watch_rvs(kube: FakeKube) -> list[str | None]:
    """The resourceVersion each watch request started from."""
    out = []
    for r in kube.requests_to("GET"):
        q = parse_qs(urlsplit(r.url).query)
        if q.get("watch") == ["true"]:
            assert q["allowWatchBookmarks"] == ["true"]
            out.append(q.get("resourceVersion", [None])[0])
    return out


class Collector:
    """Consumes a watch in a task; keeps what it got and how it ended."""

    def __init__(self, events: Any) -> None:
        self.events: list[WatchEvent] = []
        self.task = asyncio.create_task(self._run(events))

    async def _run(self, events: Any) -> None:
        async with aclosing(events) as stream:
            async for event in stream:
                self.events.append(event)

    def seen(self) -> list[tuple[str, str, str]]:
        return [
            (e.type, e.object["metadata"]["name"], e.object.get("data", {}).get("v", ""))
            for e in self.events
        ]

    async def stop(self) -> None:
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)


def test_line_splitter_frames_lines_across_chunks() -> None:
    s = LineSplitter()
    assert s.feed(b'{"a"') == []
    assert s.feed(b':1}\n{"b":2}\n\n{"c"') == [b'{"a":1}', b'{"b":2}']
    assert s.feed(b":3}") == []
    assert s.close() == [b'{"c":3}']
    assert s.close() == []


def test_decode_event_errors() -> None:
    with pytest.raises(WatchExpired):
        decode_event(b'{"type":"ERROR","object":' + _status(410, "Expired") + b"}")
    with pytest.raises(WatchExpired):  # a 410 with reason Gone means the same
        decode_event(b'{"type":"ERROR","object":' + _status(410, "Gone") + b"}")
    with pytest.raises(ServerError):
        decode_event(b'{"type":"ERROR","object":' + _status(500, "InternalError") + b"}")
    with pytest.raises(TransportError, match="not JSON"):
        decode_event(b"{nope")
    event = decode_event(b'{"type":"ADDED","object":{"metadata":{"resourceVersion":"5"}}}')
    assert event.type == ADDED and event.resource_version == "5"


def _status(code: int, reason: str) -> bytes:
    import orjson

    return orjson.dumps(status(code, reason, "x"))


async def test_resume_after_stream_end_from_last_seen_version(
    client: RESTClient, kube: FakeKube
) -> None:
    start = kube.put(CONFIGMAPS, cm("a", v="0"))["metadata"]["resourceVersion"]
    got = Collector(client.watch(CONFIGMAPS, resource_version=start, namespace="ns"))
    kube.put(CONFIGMAPS, cm("a", v="1"))
    kube.put(CONFIGMAPS, cm("b", v="1"))
    await eventually(lambda: len(got.events) == 2)
    seen_rv = got.events[-1].resource_version

    kube.end_watches()  # the server ends the stream (timeoutSeconds)
    kube.put(CONFIGMAPS, cm("a", v="2"))  # happens while no stream is open
    kube.remove(CONFIGMAPS, "b", "ns")
    await eventually(lambda: len(got.events) == 4)
    assert got.seen() == [
        (MODIFIED, "a", "1"),
        (ADDED, "b", "1"),
        (MODIFIED, "a", "2"),
        (DELETED, "b", "1"),
    ]
    assert watch_rvs(kube) == [start, seen_rv]
    await got.stop()
    assert kube.streams == []  # the stream was closed


async def test_bookmarks_move_the_resume_point_but_are_not_delivered(
    client: RESTClient, kube: FakeKube
) -> None:
    start = kube.put(CONFIGMAPS, cm("a"))["metadata"]["resourceVersion"]
    got = Collector(client.watch(CONFIGMAPS, resource_version=start, namespace="ns"))
    await eventually(lambda: len(kube.streams) == 1)
    # Other namespaces move the revision without events on this watch.
    for i in range(3):
        kube.put(CONFIGMAPS, {"metadata": {"name": f"o{i}", "namespace": "other"}})
    kube.bookmark()
    await asyncio.sleep(0)
    kube.end_watches()
    await eventually(lambda: len(watch_rvs(kube)) == 2)
    assert got.events == []
    assert watch_rvs(kube) == [start, str(kube.revision)]
    await got.stop()


async def test_connection_drop_reconnects_after_backoff(
    client: RESTClient, kube: FakeKube, clock: FakeClock
) -> None:
    start = kube.put(CONFIGMAPS, cm("a"))["metadata"]["resourceVersion"]
    got = Collector(client.watch(CONFIGMAPS, resource_version=start, namespace="ns"))
    kube.put(CONFIGMAPS, cm("a", v="1"))
    await eventually(lambda: len(got.events) == 1)
    kube.end_watches(TransportError("connection reset by peer"))
    await clock.wait_sleepers()
    assert clock.next_deadline() == pytest.approx(0.2)
    kube.put(CONFIGMAPS, cm("a", v="2"))
    clock.advance(0.2)
    await eventually(lambda: len(got.events) == 2)
    assert got.seen() == [(MODIFIED, "a", "1"), (MODIFIED, "a", "2")]
    assert watch_rvs(kube) == [start, got.events[0].resource_version]
    await got.stop()


async def test_server_errors_on_open_back_off_and_retry(
    client: RESTClient, kube: FakeKube, clock: FakeClock
) -> None:
    start = kube.put(CONFIGMAPS, cm("a"))["metadata"]["resourceVersion"]
    kube.script((503, status(503, "ServiceUnavailable", "starting"), {}))
    kube.script((500, status(500, "InternalError", "oops"), {}))
    got = Collector(client.watch(CONFIGMAPS, resource_version=start, namespace="ns"))
    await clock.wait_sleepers()
    assert clock.next_deadline() == pytest.approx(0.2)
    clock.advance(0.2)
    await clock.wait_sleepers()
    assert clock.next_deadline() == pytest.approx(0.2 + 0.4)  # doubled
    clock.advance(0.4)
    await eventually(lambda: len(kube.streams) == 1)
    kube.put(CONFIGMAPS, cm("a", v="1"))
    await eventually(lambda: len(got.events) == 1)
    await got.stop()


async def test_expired_history_raises_watch_expired(
    client: RESTClient, kube: FakeKube, clock: FakeClock
) -> None:
    start = kube.put(CONFIGMAPS, cm("a"))["metadata"]["resourceVersion"]
    got = Collector(client.watch(CONFIGMAPS, resource_version=start, namespace="ns"))
    await eventually(lambda: len(kube.streams) == 1)
    kube.compacted = kube.revision + 10
    kube.end_watches()
    # An empty stream is reopened after a short backoff (no spinning on a flapping server).
    await clock.wait_sleepers()
    clock.advance_to_next()
    with pytest.raises(WatchExpired):
        await got.task


async def test_http_410_and_forbidden_on_open(client: RESTClient, kube: FakeKube) -> None:
    kube.script((410, status(410, "Gone", "gone"), {}))
    with pytest.raises(WatchExpired):
        async for _ in client.watch(CONFIGMAPS, resource_version="5"):
            pass
    kube.script((403, status(403, "Forbidden", "no"), {}))
    with pytest.raises(Forbidden):
        async for _ in client.watch(CONFIGMAPS, resource_version="5"):
            pass


async def test_resuming_watch_needs_a_concrete_version(client: RESTClient) -> None:
    for rv in ("", "0"):
        with pytest.raises(ValueError, match="concrete resourceVersion"):
            async for _ in client.watch(CONFIGMAPS, resource_version=rv):
                pass


async def test_watch_once_delivers_raw_events_and_initial_events_query(
    client: RESTClient, kube: FakeKube
) -> None:
    kube.put(CONFIGMAPS, cm("a"))
    got = Collector(client.watch_once(CONFIGMAPS, namespace="ns", send_initial_events=True))
    await eventually(lambda: len(got.events) == 1)
    kube.bookmark()
    await eventually(lambda: len(got.events) == 2)
    assert [e.type for e in got.events] == [ADDED, "BOOKMARK"]
    q = parse_qs(urlsplit(kube.requests[-1].url).query)
    assert q["sendInitialEvents"] == ["true"]
    assert q["resourceVersionMatch"] == ["NotOlderThan"]
    assert q["timeoutSeconds"] == ["300"]
    kube.end_watches()
    await got.task  # one stream only: ends with the server's
