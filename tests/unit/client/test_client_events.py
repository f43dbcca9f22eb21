"""The event recorder: Event shape, aggregation of repeats, window, non-blocking drops."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from tests.support.fakekube import FakeKube, resource, status

from kybernetes.client import NORMAL, WARNING, EventRecorder, FakeClock, RESTClient

pytestmark = pytest.mark.timeout(10)

EVENTS = resource("", "events")

POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "web-1", "namespace": "shop", "uid": "u-1", "resourceVersion": "9"},
}
NODE = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1", "uid": "u-n1"}}


@pytest.fixture
async def recorder(client: RESTClient, clock: FakeClock) -> AsyncIterator[EventRecorder]:
    rec = EventRecorder(client, "kyb-scheduler", host="host-1", clock=clock)
    task = asyncio.create_task(rec.run())
    yield rec
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


def events(kube: FakeKube) -> list[dict[str, Any]]:
    return sorted(
        kube.objects.get(("", "events"), {}).values(), key=lambda e: e["metadata"]["name"]
    )


async def test_first_event_shape(recorder: EventRecorder, kube: FakeKube) -> None:
    recorder.event(POD, WARNING, "FailedScheduling", "0/3 nodes are available")
    await recorder.flush()
    [event] = events(kube)
    name = event["metadata"].pop("name")
    assert name.startswith("web-1.")
    assert int(name.split(".")[1], 16) == 1735689600 * 10**9  # the fake clock's epoch in ns
    assert event["metadata"]["namespace"] == "shop"
    assert event["involvedObject"] == {
        "kind": "Pod",
        "namespace": "shop",
        "name": "web-1",
        "uid": "u-1",
        "apiVersion": "v1",
        "resourceVersion": "9",
    }
    assert (event["type"], event["reason"], event["message"]) == (
        "Warning",
        "FailedScheduling",
        "0/3 nodes are available",
    )
    assert event["source"] == {"component": "kyb-scheduler", "host": "host-1"}
    assert event["firstTimestamp"] == event["lastTimestamp"] == "2025-01-01T00:00:00Z"
    assert event["count"] == 1


async def test_repeats_within_the_window_are_counted(
    recorder: EventRecorder, kube: FakeKube, clock: FakeClock
) -> None:
    recorder.event(POD, NORMAL, "Pulled", "image pulled")
    await recorder.flush()
    for _ in range(2):
        clock.advance(60)
        recorder.event(POD, NORMAL, "Pulled", "image pulled")
    await recorder.flush()
    [event] = events(kube)
    assert event["count"] == 3
    assert event["firstTimestamp"] == "2025-01-01T00:00:00Z"
    assert event["lastTimestamp"] == "2025-01-01T00:02:00Z"
    assert len(kube.requests_to("POST")) == 1 and len(kube.requests_to("PATCH")) == 2

    recorder.event(POD, NORMAL, "Pulled", "another image pulled")  # a different message
    recorder.event(NODE, NORMAL, "Pulled", "image pulled")  # a different object
    await recorder.flush()
    assert len(events(kube)) == 3
    [node_event] = [e for e in events(kube) if e["involvedObject"]["kind"] == "Node"]
    assert node_event["metadata"]["namespace"] == "default"  # cluster-scoped object


async def test_after_the_window_or_a_deletion_a_new_event_starts(
    recorder: EventRecorder, kube: FakeKube, clock: FakeClock
) -> None:
    recorder.event(POD, NORMAL, "Started", "started")
    await recorder.flush()
    clock.advance(601)  # default window: 10 minutes
    recorder.event(POD, NORMAL, "Started", "started")
    await recorder.flush()
    assert [e["count"] for e in events(kube)] == [1, 1]

    newest = events(kube)[-1]["metadata"]["name"]
    kube.remove(EVENTS, newest, "shop")
    clock.advance(1)
    recorder.event(POD, NORMAL, "Started", "started")
    await recorder.flush()
    assert [e["count"] for e in events(kube)] == [1, 1]
    assert newest not in [e["metadata"]["name"] for e in events(kube)]


async def test_full_queue_drops_without_blocking(
    client: RESTClient, clock: FakeClock, kube: FakeKube, caplog: pytest.LogCaptureFixture
) -> None:
    rec = EventRecorder(client, "c", host="h", clock=clock, queue_size=2)  # not running
    with caplog.at_level(logging.WARNING, logger="kyb.client.events"):
        for i in range(5):
            rec.event(POD, NORMAL, "R", f"m{i}")  # returns at once every time
    assert rec.dropped == 3
    assert sum("event queue full" in r.message for r in caplog.records) == 3
    task = asyncio.create_task(rec.run())
    await rec.flush()
    assert [e["message"] for e in events(kube)] == ["m0", "m1"]
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def test_write_failures_are_logged_and_do_not_stop_the_recorder(
    recorder: EventRecorder, kube: FakeKube, caplog: pytest.LogCaptureFixture
) -> None:
    kube.script((500, status(500, "InternalError", "store down"), {}))
    with caplog.at_level(logging.WARNING, logger="kyb.client.events"):
        recorder.event(POD, NORMAL, "A", "lost")
        recorder.event(POD, NORMAL, "B", "kept")
        await recorder.flush()
    assert any("could not create event A" in r.message for r in caplog.records)
    assert [e["reason"] for e in events(kube)] == ["B"]
