"""Leader election on a Lease with a fake clock: acquire, renew, release, take over, step down."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from tests.support.fakekube import FakeKube, eventually, resource

from kybernetes.client import (
    FakeClock,
    LeaderElectionConfig,
    LeaderElector,
    LeadershipLost,
    RESTClient,
)

pytestmark = pytest.mark.timeout(10)

LEASES = resource("coordination.k8s.io", "leases")


class Candidate:
    """One elector with its own client (its own server URL, so it can be cut off)."""

    def __init__(self, kube: FakeKube, clock: FakeClock, name: str) -> None:
        self.server = f"http://{name}"
        self.client = RESTClient(self.server, transport=kube.transport(), qps=None, clock=clock)
        self.log: list[str] = []
        self.working = asyncio.Event()
        self.work_cancelled = False
        self.elector = LeaderElector(
            self.client,
            LeaderElectionConfig(name="sched", namespace="kube-system", identity=name),
            on_started_leading=lambda: self.log.append("started"),
            on_stopped_leading=self._stopped,
            on_new_leader=lambda who: self.log.append(f"leader={who}"),
        )
        self.finish_work = asyncio.Event()
        self.task: asyncio.Task[None] | None = None
        self.clock = clock
        self.stopped_at: float | None = None

    def _stopped(self) -> None:
        self.log.append("stopped")
        self.stopped_at = self.clock.now()

    async def work(self) -> None:
        self.working.set()
        try:
            await self.finish_work.wait()
        except asyncio.CancelledError:
            self.work_cancelled = True
            raise

    def start(self) -> None:
        self.task = asyncio.create_task(self.elector.run(self.work))

    async def stop(self) -> None:
        assert self.task is not None
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)


@pytest.fixture
async def candidates(kube: FakeKube, clock: FakeClock) -> AsyncIterator[list[Candidate]]:
    made: list[Candidate] = []
    yield made
    for c in made:
        if c.task is not None:
            await c.stop()


def lease(kube: FakeKube) -> dict[str, Any]:
    found = kube.get(LEASES, "sched", "kube-system")
    assert found is not None
    return found["spec"]  # type: ignore[no-any-return]


async def test_acquire_creates_the_lease_and_renews_it(
    kube: FakeKube, clock: FakeClock, candidates: list[Candidate]
) -> None:
    a = Candidate(kube, clock, "a")
    candidates.append(a)
    a.start()
    await a.working.wait()
    assert a.elector.is_leader() and a.log == ["leader=a", "started"]
    spec = lease(kube)
    assert spec == {
        "holderIdentity": "a",
        "leaseDurationSeconds": 15,
        "acquireTime": "2025-01-01T00:00:00.000000Z",
        "renewTime": "2025-01-01T00:00:00.000000Z",
        "leaseTransitions": 0,
    }
    await clock.wait_sleepers()
    assert clock.next_deadline() == 2.0  # retry period
    clock.advance(2)
    await eventually(lambda: lease(kube)["renewTime"] == "2025-01-01T00:00:02.000000Z")
    assert lease(kube)["acquireTime"] == "2025-01-01T00:00:00.000000Z"
    assert lease(kube)["leaseTransitions"] == 0


async def test_only_one_leads_and_release_hands_over_at_once(
    kube: FakeKube, clock: FakeClock, candidates: list[Candidate]
) -> None:
    a, b = Candidate(kube, clock, "a"), Candidate(kube, clock, "b")
    candidates.extend([a, b])
    a.start()
    await a.working.wait()
    b.start()
    for _ in range(10):  # 20 s of campaigning: b never leads while a renews
        await clock.wait_sleepers(2)
        clock.advance_to_next()
        await asyncio.sleep(0)
        assert not b.elector.is_leader()
    assert b.log == ["leader=a"] and lease(kube)["holderIdentity"] == "a"

    await a.stop()  # clean shutdown: releases
    assert a.work_cancelled and a.log[-1] == "stopped" and not a.elector.is_leader()
    assert "holderIdentity" not in lease(kube)
    assert lease(kube)["leaseDurationSeconds"] == 1
    released_at = clock.now()
    await clock.wait_sleepers(1)
    clock.advance_to_next()  # b's next retry
    await b.working.wait()
    assert clock.now() - released_at <= 2.0  # not a lease duration later
    assert lease(kube)["holderIdentity"] == "b"
    assert lease(kube)["leaseTransitions"] == 1
    assert b.log == ["leader=a", "leader=b", "started"]


async def test_dead_leader_is_replaced_after_lease_duration_and_steps_down(
    kube: FakeKube, clock: FakeClock, candidates: list[Candidate]
) -> None:
    a, b = Candidate(kube, clock, "a"), Candidate(kube, clock, "b")
    candidates.extend([a, b])
    a.start()
    await a.working.wait()
    b.start()
    await clock.wait_sleepers(2)
    kube.down = {a.server}  # a is cut off from the API server (or its process hangs)
    last_renew = clock.now()
    while not b.elector.is_leader():
        # everyone still running is asleep on the clock
        await eventually(lambda: clock.sleepers >= sum(not c.task.done() for c in (a, b) if c.task))
        clock.advance_to_next()
        await asyncio.sleep(0)
    took_over_at = clock.now()
    # a stopped working by its renew deadline, before b could take over
    stepped_down_at = a.stopped_at
    assert stepped_down_at is not None
    assert stepped_down_at - last_renew <= 10.0
    assert a.work_cancelled and a.log[-1] == "stopped"
    with pytest.raises(LeadershipLost):
        assert a.task is not None
        await a.task
    a.task = None
    # b waited out the lease (15 s after it last saw it change), and not much more
    assert 15.0 <= took_over_at - last_renew <= 15.0 + 2.0
    assert stepped_down_at < took_over_at
    await b.working.wait()
    assert lease(kube)["holderIdentity"] == "b" and lease(kube)["leaseTransitions"] == 1


async def test_work_returning_releases_and_returns(
    kube: FakeKube, clock: FakeClock, candidates: list[Candidate]
) -> None:
    a = Candidate(kube, clock, "a")
    a.start()
    await a.working.wait()
    a.finish_work.set()
    assert a.task is not None
    await a.task
    assert "holderIdentity" not in lease(kube)
    assert a.log == ["leader=a", "started", "stopped"]


def test_config_must_be_consistent() -> None:
    with pytest.raises(ValueError, match="lease_duration > renew_deadline > retry_period"):
        LeaderElectionConfig(name="x", lease_duration=10, renew_deadline=10)
    with pytest.raises(ValueError, match="lease_duration > renew_deadline > retry_period"):
        LeaderElectionConfig(name="x", renew_deadline=2, retry_period=2)
    cfg = LeaderElectionConfig(name="x")
    assert (cfg.lease_duration, cfg.renew_deadline, cfg.retry_period) == (15, 10, 2)
    assert cfg.identity  # hostname_uuid by default
