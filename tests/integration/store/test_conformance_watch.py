"""Store conformance, watches and compaction: on every backend a watch yields each change
under its prefix from its start revision on, in order, without gaps or duplicates, and
compacted history answers Compacted. Only the ``Store`` protocol is used; keys live under
the test's ``ns`` prefix (the etcd member is shared, so compaction tests only read
revisions they wrote themselves).
"""

from __future__ import annotations

import asyncio

import pytest
from tests.support.store_watch import WAIT, collect, collect_until

from kybernetes.store import Compacted, Event, EventType, KeyValue, Store


def summary(events: list[Event]) -> list[tuple[str, str, bytes, int]]:
    return [(e.type.value, e.kv.key, e.kv.value, e.revision) for e in events]


async def test_watch_from_now_sees_puts_and_deletes_with_previous_values(
    store: Store, ns: str
) -> None:
    watch = store.watch(ns)
    try:
        v1 = await store.create(ns + "a", b"v1")
        v2 = await store.update(ns + "a", b"v2", expected_revision=v1.mod_revision)
        gone = await store.delete(ns + "a")
        events = await collect(watch, 3)
    finally:
        await watch.close()
    assert summary(events) == [
        ("PUT", ns + "a", b"v1", v1.mod_revision),
        ("PUT", ns + "a", b"v2", v2.mod_revision),
        ("DELETE", ns + "a", b"", gone.revision),
    ]
    assert events[0].kv == v1 and events[0].prev is None
    assert events[1].kv == v2 and events[1].prev == v1
    assert events[2].prev == v2


async def test_watch_sees_only_its_prefix(store: Store, ns: str) -> None:
    watch = store.watch(ns + "in/")
    try:
        await store.create(ns + "out/a", b"no")
        await store.create(ns + "inx", b"no")
        inside = await store.create(ns + "in/a", b"yes")
        events = await collect(watch, 1)
    finally:
        await watch.close()
    assert [e.kv for e in events] == [inside]


async def test_watch_from_an_old_revision_replays_then_goes_live(store: Store, ns: str) -> None:
    written = [await store.create(f"{ns}k{i}", b"%d" % i) for i in range(5)]
    gone = await store.delete(ns + "k1")
    watch = store.watch(ns, start_revision=written[2].mod_revision)
    try:
        replayed = await collect_until(watch, gone.revision)
        live = await store.create(ns + "later", b"live")
        events = replayed + await collect(watch, 1)
    finally:
        await watch.close()
    assert summary(events) == [("PUT", kv.key, kv.value, kv.mod_revision) for kv in written[2:]] + [
        ("DELETE", ns + "k1", b"", gone.revision),
        ("PUT", ns + "later", b"live", live.mod_revision),
    ]
    assert events[3].prev == written[1]  # the replayed DELETE carries the deleted value


async def test_replayed_updates_carry_previous_values(store: Store, ns: str) -> None:
    kv = await store.create(ns + "a", b"v1")
    kvs = [kv]
    for i in range(2, 5):
        kv = await store.update(ns + "a", b"v%d" % i, expected_revision=kv.mod_revision)
        kvs.append(kv)
    watch = store.watch(ns, start_revision=kvs[1].mod_revision)
    try:
        events = await collect(watch, 3)
    finally:
        await watch.close()
    assert [e.kv for e in events] == kvs[1:]
    assert [e.prev for e in events] == kvs[:-1]


async def test_a_resumed_watch_gets_exactly_the_rest(store: Store, ns: str) -> None:
    first = store.watch(ns)
    try:
        for i in range(6):
            await store.create(f"{ns}k{i}", b"%d" % i)
        seen = await collect(first, 3)
    finally:
        await first.close()
    seen = seen[:3]  # a consumer that stopped after three events
    for i in range(6, 9):
        await store.create(f"{ns}k{i}", b"%d" % i)  # while no watch is open
    resumed = store.watch(ns, start_revision=seen[-1].revision + 1)
    try:
        rest = await collect(resumed, 6)
        await store.create(ns + "k9", b"9")
        rest += await collect(resumed, 1)
    finally:
        await resumed.close()
    keys = [e.kv.key for e in seen + rest]
    assert keys == [f"{ns}k{i}" for i in range(10)]
    revisions = [e.revision for e in seen + rest]
    assert revisions == sorted(set(revisions))


async def test_watch_batches_are_in_revision_order_under_concurrent_writes(
    store: Store, ns: str
) -> None:
    watch = store.watch(ns)
    try:
        written = await asyncio.gather(*(store.create(f"{ns}k{i:03d}", b"x") for i in range(100)))
        events = await collect(watch, 100)
    finally:
        await watch.close()
    assert [e.kv for e in events] == sorted(written, key=lambda kv: kv.mod_revision)


async def test_closing_a_watch_ends_its_iteration(store: Store, ns: str) -> None:
    watch = store.watch(ns)
    await store.create(ns + "a", b"x")
    await collect(watch, 1)
    await watch.close()
    await watch.close()  # idempotent
    async with asyncio.timeout(WAIT):
        remaining = [batch async for batch in watch]
    assert remaining == []


# -- compaction ------------------------------------------------------------------------


async def test_compaction_makes_older_revisions_unreadable(store: Store, ns: str) -> None:
    a1 = await store.create(ns + "a", b"a1")
    b1 = await store.create(ns + "b", b"b1")
    a2 = await store.update(ns + "a", b"a2", expected_revision=a1.mod_revision)
    await store.delete(ns + "b")
    c1 = await store.create(ns + "c", b"c1")
    kept = a2.mod_revision
    await store.compact(kept)
    assert await store.compacted_revision() == kept - 1

    with pytest.raises(Compacted) as e:
        await store.get(ns + "a", revision=b1.mod_revision)
    assert e.value.revision == b1.mod_revision
    with pytest.raises(Compacted):
        await store.range(ns, revision=kept - 1)
    watch = store.watch(ns, start_revision=b1.mod_revision)
    try:
        with pytest.raises(Compacted):
            async with asyncio.timeout(WAIT):
                await watch.__aiter__().__anext__()
    finally:
        await watch.close()

    # The compaction revision itself and everything after it stay readable.
    assert (await store.range(ns, revision=kept)).kvs == [a2, b1]
    assert (await store.range(ns)).kvs == [a2, c1]
    assert await store.get(ns + "a") == a2
    watch = store.watch(ns, start_revision=kept)
    try:
        events = await collect_until(watch, c1.mod_revision)
    finally:
        await watch.close()
    assert [(e.type, e.kv.key) for e in events] == [
        (EventType.PUT, ns + "a"),
        (EventType.DELETE, ns + "b"),
        (EventType.PUT, ns + "c"),
    ]
    assert events[2].kv == c1


async def test_compacting_again_below_the_last_compaction_changes_nothing(
    store: Store, ns: str
) -> None:
    a = await store.create(ns + "a", b"1")
    b = await store.create(ns + "b", b"1")
    await store.compact(b.mod_revision)
    await store.compact(a.mod_revision)
    assert await store.compacted_revision() == b.mod_revision - 1
    assert (await store.range(ns)).kvs == [a, b]


async def test_latest_values_survive_compaction_at_the_current_revision(
    store: Store, ns: str
) -> None:
    kv = await store.create(ns + "a", b"1")
    for i in range(2, 6):
        kv = await store.update(ns + "a", b"%d" % i, expected_revision=kv.mod_revision)
    other = await store.create(ns + "b", b"x")
    await store.delete(ns + "b")
    await store.compact(await store.current_revision())
    assert (await store.range(ns)).kvs == [kv]
    with pytest.raises(Compacted):
        await store.get(ns + "b", revision=other.mod_revision)
    again = await store.update(ns + "a", b"6", expected_revision=kv.mod_revision)
    assert again == KeyValue(ns + "a", b"6", kv.create_revision, again.mod_revision)
