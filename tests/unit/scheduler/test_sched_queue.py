"""The scheduling queue: order, backoff, parking, queueing hints, gates, nominations."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from tests.support.scheduling import make_core, make_node, make_pod

from kybernetes.client import FakeClock
from kybernetes.scheduler import ActionType, ClusterEvent, PodInfo, Resource, SchedulingQueue
from kybernetes.scheduler._events import ASSIGNED_POD_DELETE, NODE_ADD


def _queue(clock: FakeClock) -> SchedulingQueue:
    return make_core(clock=clock).queue


async def _pop_names(queue: SchedulingQueue, n: int) -> list[str]:
    return [(await queue.pop()).pod.name for _ in range(n)]


async def test_priority_then_arrival() -> None:
    clock = FakeClock()
    q = _queue(clock)
    q.add(make_pod("low1", priority=1))
    clock.advance(1)
    q.add(make_pod("high", priority=100))
    q.add(make_pod("low0", priority=1))
    q.add(make_pod("none"))
    assert await _pop_names(q, 4) == ["high", "low1", "low0", "none"]


async def test_pop_waits_for_a_pod() -> None:
    q = _queue(FakeClock())
    waiter = asyncio.ensure_future(q.pop())
    await asyncio.sleep(0)
    assert not waiter.done()
    q.add(make_pod("p"))
    assert (await asyncio.wait_for(waiter, 1)).pod.name == "p"


async def test_backoff_doubles_up_to_the_max() -> None:
    clock = FakeClock()
    q = _queue(clock)
    q.add(make_pod("p"))
    durations = []
    for _ in range(6):
        qpi = await q.pop()
        durations.append(q.backoff_duration(qpi))
        q.add_unschedulable(qpi, error=True)  # errors always back off
        assert q.lengths() == (0, 1, 0)
        clock.advance(durations[-1] - 0.01)
        assert q.flush_backoff_completed() == 0
        clock.advance(0.01)
        assert q.flush_backoff_completed() == 1
    assert durations == [1, 2, 4, 8, 10, 10]


async def test_parked_pods_move_only_on_events_their_plugins_registered() -> None:
    clock = FakeClock()
    q = _queue(clock)
    q.add(make_pod("p", cpu="8"))
    qpi = await q.pop()
    qpi.unschedulable_plugins = {"NodeResourcesFit"}
    q.add_unschedulable(qpi)
    assert q.lengths() == (0, 0, 1)
    # A PVC event means nothing to NodeResourcesFit.
    assert q.move_all_to_active_or_backoff(ClusterEvent(Resource.PVC, ActionType.ADD)) == 0
    # Its hint skips a node too small for the pod...
    small = make_node("small", cpu="2")
    assert q.move_all_to_active_or_backoff(NODE_ADD, None, small) == 0
    # ...and requeues on one that fits; the pod is still backing off, so backoffQ.
    assert q.move_all_to_active_or_backoff(NODE_ADD, None, make_node("big", cpu="16")) == 1
    assert q.lengths() == (0, 1, 0)
    clock.advance(1)
    q.flush_backoff_completed()
    assert (await q.pop()).pod.name == "p"


async def test_assigned_pod_delete_requeues_fit_failures_and_the_timeout_flush() -> None:
    clock = FakeClock()
    q = _queue(clock)
    for name in ("fit", "ports"):
        q.add(make_pod(name))
    for plugins in ({"NodeResourcesFit"}, {"NodePorts"}):
        qpi = await q.pop()
        qpi.unschedulable_plugins = plugins
        q.add_unschedulable(qpi)
    clock.advance(20)
    # The deleted pod had no host ports: only the resources failure may have been fixed.
    assert q.move_all_to_active_or_backoff(ASSIGNED_POD_DELETE, make_pod("gone"), None) == 1
    assert (await q.pop()).pod.name == "fit"
    clock.advance(279)  # parked 299 s so far
    assert q.flush_unschedulable_leftover() == 0
    clock.advance(1)
    assert q.flush_unschedulable_leftover() == 1
    assert (await q.pop()).pod.name == "ports"


async def test_unblamed_failures_back_off_and_deleted_pods_vanish() -> None:
    clock = FakeClock()
    q = _queue(clock)
    pod = make_pod("p")
    q.add(pod)
    qpi = await q.pop()
    q.add_unschedulable(qpi)  # no plugin to blame: retry after backoff, not parked
    assert q.lengths() == (0, 1, 0)
    q.delete(pod)
    clock.advance(5)
    assert q.flush_backoff_completed() == 0 and len(q) == 0


async def test_status_updates_do_not_requeue_but_spec_changes_do() -> None:
    clock = FakeClock()
    q = _queue(clock)
    pod = make_pod("p")
    q.add(pod)
    qpi = await q.pop()
    qpi.unschedulable_plugins = {"NodeResourcesFit"}
    q.add_unschedulable(qpi)
    with_condition = dict(
        pod, status={"phase": "Pending", "conditions": [{"type": "PodScheduled"}]}
    )
    q.update(pod, with_condition)
    assert q.lengths() == (0, 0, 1)
    relabelled = dict(with_condition, metadata={**pod["metadata"], "labels": {"x": "y"}})
    q.update(with_condition, relabelled)
    assert q.lengths() == (0, 1, 0)


async def test_gated_pods_wait_for_their_gates_to_be_removed() -> None:
    q = _queue(FakeClock())
    gated = make_pod("g", spec={"schedulingGates": [{"name": "wait"}]})
    q.add(gated)
    assert q.lengths() == (0, 0, 1)
    assert q.move_all_to_active_or_backoff(NODE_ADD, None, make_node("n")) == 0
    open_pod: dict[str, Any] = dict(
        gated, spec={k: v for k, v in gated["spec"].items() if k != "schedulingGates"}
    )
    q.update(gated, open_pod)
    assert q.lengths() == (1, 0, 0)
    assert (await q.pop()).pod.name == "g"


def test_nominations() -> None:
    q = _queue(FakeClock())
    pi = PodInfo(make_pod("p", status={"phase": "Pending", "nominatedNodeName": "n1"}))
    q.add(pi.pod)
    assert [p.name for p in q.nominated_pods_for_node("n1")] == ["p"]
    assert q.has_nominations
    q.add_nominated(pi, "n2")
    assert q.nominated_pods_for_node("n1") == [] and q.nominated_node(pi.uid) == "n2"
    q.delete(pi.pod)
    assert not q.has_nominations


@pytest.mark.parametrize("initial,maximum", [(1.0, 10.0), (0.5, 3.0)])
async def test_backoff_settings(initial: float, maximum: float) -> None:
    core = make_core(config={"podInitialBackoffSeconds": initial, "podMaxBackoffSeconds": maximum})
    q = core.queue
    q.add(make_pod("p"))
    qpi = await q.pop()
    assert q.backoff_duration(qpi) == initial
    qpi.attempts = 20
    assert q.backoff_duration(qpi) == maximum
