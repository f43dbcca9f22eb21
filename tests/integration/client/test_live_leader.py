"""Leader election on a real Lease, and the event recorder, against a real ``kyb apiserver``."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from tests.integration.client.helpers import CONFIGMAPS, EVENTS, LEASES, Server, until

from kybernetes.client import (
    NORMAL,
    AiohttpTransport,
    EventRecorder,
    LeaderElectionConfig,
    LeaderElector,
    Request,
    Response,
    RESTClient,
)

pytestmark = pytest.mark.timeout(120)


class Counting:
    """Counts the Lease reads of one candidate (observation through the transport seam)."""

    def __init__(self) -> None:
        self.inner = AiohttpTransport()
        self.lease_reads = 0

    async def send(self, request: Request) -> Response:
        if request.method == "GET" and "/leases/" in request.url:
            self.lease_reads += 1
        return await self.inner.send(request)

    async def close(self) -> None:
        await self.inner.close()


class Cluster:
    """Candidates for one Lease; checks that two never lead at once."""

    def __init__(self, server: Server, ns: str) -> None:
        self.server = server
        self.ns = ns
        self.leaders: set[str] = set()
        self.violations: list[str] = []
        self.clients: list[RESTClient] = []
        self.tasks: dict[str, asyncio.Task[None]] = {}
        self.transports: dict[str, Counting] = {}
        self.seen_leaders: dict[str, list[str]] = {}

    def candidate(self, identity: str, *, release: bool = True) -> LeaderElector:
        transport = Counting()
        client = RESTClient(self.server.url, transport=transport, qps=None)
        self.clients.append(client)
        self.transports[identity] = transport
        self.seen_leaders[identity] = []
        config = LeaderElectionConfig(
            name="lock",
            namespace=self.ns,
            identity=identity,
            lease_duration=3,
            renew_deadline=2,
            retry_period=0.5,
            release_on_cancel=release,
        )

        def started() -> None:
            if self.leaders:
                self.violations.append(f"{identity} started while {self.leaders} lead")
            self.leaders.add(identity)

        elector = LeaderElector(
            client,
            config,
            on_started_leading=started,
            on_stopped_leading=lambda: self.leaders.discard(identity),
            on_new_leader=self.seen_leaders[identity].append,
        )
        self.tasks[identity] = asyncio.create_task(elector.run(self._lead))
        return elector

    @staticmethod
    async def _lead() -> None:
        await asyncio.Event().wait()  # the work: lead until stopped

    async def stop(self, identity: str) -> None:
        task = self.tasks.pop(identity)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    async def close(self) -> None:
        for identity in list(self.tasks):
            await self.stop(identity)
        for client in self.clients:
            await client.close()


async def lease_spec(client: RESTClient, ns: str) -> dict[str, Any]:
    return (await client.get(LEASES, "lock", namespace=ns))["spec"]  # type: ignore[no-any-return]


async def test_two_electors_one_leader_release_and_takeover(
    apiserver: Server, client: RESTClient, ns: str
) -> None:
    cluster = Cluster(apiserver, ns)
    try:
        a = cluster.candidate("a")
        await until(a.is_leader, "a to lead")
        b = cluster.candidate("b")
        # b campaigns (several reads of a valid lease) but never leads while a renews
        await until(lambda: cluster.transports["b"].lease_reads >= 4, "b to campaign")
        assert not b.is_leader() and a.is_leader()
        assert cluster.seen_leaders["b"] == ["a"]
        spec = await lease_spec(client, ns)
        assert spec["holderIdentity"] == "a" and spec["leaseDurationSeconds"] == 3

        await cluster.stop("a")  # clean shutdown: releases the lease
        assert not a.is_leader()
        await until(b.is_leader, "b to take over")
        spec = await lease_spec(client, ns)
        assert spec["holderIdentity"] == "b"
        assert spec["leaseTransitions"] == 1

        assert cluster.violations == []
    finally:
        await cluster.close()


async def test_crashed_leader_is_replaced_after_the_lease_expires(
    apiserver: Server, client: RESTClient, ns: str
) -> None:
    cluster = Cluster(apiserver, ns)
    try:
        a = cluster.candidate("a", release=False)  # stopping it is like a crash
        await until(a.is_leader, "a to lead")
        b = cluster.candidate("b")
        await until(lambda: cluster.seen_leaders["b"] == ["a"], "b to see a")
        await cluster.stop("a")
        held = await lease_spec(client, ns)
        assert held["holderIdentity"] == "a"  # not released
        reads_before = cluster.transports["b"].lease_reads
        await until(b.is_leader, "b to take over")
        # b had to keep reading the stale lease (wait it out) before taking it
        assert cluster.transports["b"].lease_reads - reads_before >= 2
        spec = await lease_spec(client, ns)
        assert spec["holderIdentity"] == "b" and spec["leaseTransitions"] == 1
        assert spec["acquireTime"] != held["acquireTime"]
        assert cluster.violations == []
    finally:
        await cluster.close()


async def test_event_recorder_aggregates_on_the_server(client: RESTClient, ns: str) -> None:
    cm = await client.create(CONFIGMAPS, {"metadata": {"name": "subject"}}, namespace=ns)
    recorder = EventRecorder(client, "kyb-test", host="h1")
    task = asyncio.create_task(recorder.run())
    try:
        recorder.event(cm, NORMAL, "Synced", "synced once")
        await recorder.flush()
        recorder.event(cm, NORMAL, "Synced", "synced once")
        recorder.event(cm, NORMAL, "Other", "something else")
        await recorder.flush()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    listing = await client.list(EVENTS, namespace=ns, field_selector="involvedObject.name=subject")
    by_reason = {e["reason"]: e for e in listing["items"]}
    assert set(by_reason) == {"Synced", "Other"}
    synced = by_reason["Synced"]
    assert synced["count"] == 2
    assert synced["metadata"]["name"].startswith("subject.")
    assert synced["involvedObject"]["uid"] == cm["metadata"]["uid"]
    assert synced["involvedObject"]["kind"] == "ConfigMap"
    assert synced["source"] == {"component": "kyb-test", "host": "h1"}
    assert by_reason["Other"]["count"] == 1
