"""What only the etcd backend promises: it keeps working when a cluster member dies.

These tests kill members of the session's 3-member cluster and restart them before they
end (also when they fail), so later tests find a whole cluster again.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
from tests.support.etcd import EtcdCluster

from kybernetes.store import Event, EventType, StoreError, Unavailable, Watch
from kybernetes.store._etcd import EtcdStore

# Generous bounds that only stop a hung test; nothing here asserts on timing.
WAIT = 30.0


@pytest.fixture
def cluster(etcd_cluster3: EtcdCluster) -> Iterator[EtcdCluster]:
    yield etcd_cluster3
    for i, pid in enumerate(etcd_cluster3.pids):
        if pid is None:
            etcd_cluster3.restart(i)


@pytest.fixture
async def store(cluster: EtcdCluster) -> AsyncIterator[EtcdStore]:
    # A short budget: a write lost with a killed leader is reported after it, not after 5 s.
    s = await EtcdStore.open(cluster.endpoints, timeout=2.0)
    try:
        yield s
    finally:
        await s.close()


@pytest.fixture
def ns() -> str:
    return f"/etcd/{uuid.uuid4().hex[:12]}/"


async def collect(watch: Watch, count: int) -> list[Event]:
    events: list[Event] = []
    async with asyncio.timeout(WAIT):
        async for batch in watch:
            events.extend(batch)
            if len(events) >= count:
                break
    return events


@pytest.mark.parametrize("victim", ["leader", "follower"])
async def test_writes_reads_and_watches_continue_when_a_member_dies(
    cluster: EtcdCluster, store: EtcdStore, ns: str, victim: str
) -> None:
    # Several watch streams, so that (round-robin) at least one lives on the victim.
    start = await store.current_revision() + 1
    watches = [store.watch(ns, start_revision=start) for _ in range(3)]
    readers = [asyncio.ensure_future(collect(w, 1)) for w in watches]
    await store.create(ns + "before", b"0")
    for r in readers:
        assert [e.kv.key for e in await r] == [ns + "before"]

    leader = cluster.leader()
    cluster.kill(leader if victim == "leader" else (leader + 1) % 3)

    written: list[str] = []
    unknown: list[str] = []  # writes whose outcome etcd could not tell us
    async with asyncio.timeout(WAIT):
        i = 0
        while len(written) < 50:
            key = f"{ns}k{i:04d}"
            i += 1
            try:
                kv = await store.create(key, key.encode())
            except Unavailable:
                unknown.append(key)
                continue
            assert kv.key == key
            written.append(key)
            # Reads go through the survivors too, and see every acknowledged write.
            assert (await store.get(key)).value == key.encode()

    listing = await store.range(ns)
    present = {kv.key for kv in listing.kvs}
    assert set(written) <= present
    # An unknown outcome is one of the two, never something else.
    assert present - set(written) <= set(unknown) | {ns + "before"}
    for kv in listing.kvs:
        assert kv.value == kv.key.encode() or kv.key == ns + "before"

    # Every watch, whichever member served it, sees exactly the committed writes in
    # revision order: no gap and no duplicate across the broken stream.
    expected = [kv.key for kv in sorted(listing.kvs, key=lambda kv: kv.mod_revision)][1:]
    for w in watches:
        events = await collect(w, len(expected))
        assert [e.kv.key for e in events] == expected
        assert all(e.type is EventType.PUT for e in events)
        revisions = [e.revision for e in events]
        assert revisions == sorted(set(revisions))
        await w.close()


async def test_watch_on_a_lost_member_resumes_when_it_returns(
    cluster: EtcdCluster, store: EtcdStore, ns: str
) -> None:
    victim = (cluster.leader() + 1) % 3
    only_victim = await EtcdStore.open([cluster.endpoints[victim]], timeout=WAIT)
    try:
        watch = only_victim.watch(ns, start_revision=await store.current_revision() + 1)
        await store.create(ns + "a", b"1")
        assert [e.kv.key for e in await collect(watch, 1)] == [ns + "a"]

        cluster.kill(victim)
        pending = asyncio.ensure_future(collect(watch, 4))
        await store.update(ns + "a", b"2", expected_revision=0)
        await store.create(ns + "b", b"1")
        await store.delete(ns + "a")
        cluster.restart(victim)
        await store.create(ns + "c", b"1")

        events = await pending
        assert [(e.type, e.kv.key) for e in events] == [
            (EventType.PUT, ns + "a"),
            (EventType.PUT, ns + "b"),
            (EventType.DELETE, ns + "a"),
            (EventType.PUT, ns + "c"),
        ]
        assert events[0].prev is not None and events[0].prev.value == b"1"
        assert events[2].prev is not None and events[2].prev.value == b"2"
        await watch.close()
    finally:
        await only_victim.close()


async def test_watch_and_calls_report_unavailable_when_no_member_answers(
    cluster: EtcdCluster, store: EtcdStore, ns: str
) -> None:
    victim = (cluster.leader() + 1) % 3
    only_victim = await EtcdStore.open([cluster.endpoints[victim]], timeout=1.0)
    try:
        watch = only_victim.watch(ns, start_revision=await store.current_revision() + 1)
        await store.create(ns + "a", b"1")
        assert len(await collect(watch, 1)) == 1

        cluster.kill(victim)
        with pytest.raises(Unavailable):
            await collect(watch, 1)
        with pytest.raises(Unavailable):
            await only_victim.get(ns + "a")
        with pytest.raises(Unavailable):
            await only_victim.create(ns + "b", b"1")
        # The survivors still have the data.
        assert (await store.get(ns + "a")).value == b"1"
    finally:
        await only_victim.close()


async def test_open_fails_cleanly_when_nothing_listens(cluster: EtcdCluster) -> None:
    victim = (cluster.leader() + 1) % 3
    endpoint = cluster.endpoints[victim]
    cluster.kill(victim)
    with pytest.raises(StoreError):
        await EtcdStore.open([endpoint], timeout=0.5)


async def test_endpoints_may_be_host_names(etcd_single: EtcdCluster) -> None:
    (_, port), *_ = etcd_single.endpoints
    store = await EtcdStore.open([("localhost", port)])
    try:
        assert await store.current_revision() > 0
    finally:
        await store.close()
