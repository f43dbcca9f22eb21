"""Store conformance, keys and values: every backend keeps the promises of the ``Store``
protocol (``kybernetes/store/_protocol.py``). Only the protocol is used, so each test runs
unchanged on SQLite and on real etcd; keys live under the test's own ``ns`` prefix.

Watches and compaction are in ``test_conformance_watch.py``.
"""

from __future__ import annotations

import asyncio

import pytest

from kybernetes.store import (
    DEFAULT_MAX_VALUE_SIZE,
    AlreadyExists,
    Conflict,
    FutureRevision,
    InvalidKey,
    KeyValue,
    NotFound,
    Store,
    ValueTooLarge,
)

# -- single keys ------------------------------------------------------------------------


async def test_create_then_get_returns_the_stored_key_value(store: Store, ns: str) -> None:
    before = await store.current_revision()
    kv = await store.create(ns + "a", b'{"n": 1}')
    assert kv == KeyValue(ns + "a", b'{"n": 1}', kv.mod_revision, kv.mod_revision)
    assert kv.mod_revision > before
    assert await store.get(ns + "a") == kv
    assert await store.current_revision() >= kv.mod_revision


async def test_revisions_increase_with_every_write(store: Store, ns: str) -> None:
    a = await store.create(ns + "a", b"1")
    b = await store.create(ns + "b", b"1")
    a2 = await store.update(ns + "a", b"2", expected_revision=a.mod_revision)
    d = await store.delete(ns + "b")
    assert a.mod_revision < b.mod_revision < a2.mod_revision < d.revision


async def test_create_of_an_existing_key_raises_already_exists(store: Store, ns: str) -> None:
    kv = await store.create(ns + "a", b"first")
    with pytest.raises(AlreadyExists) as e:
        await store.create(ns + "a", b"second")
    assert e.value.key == ns + "a"
    assert await store.get(ns + "a") == kv


async def test_get_of_a_missing_key_raises_not_found(store: Store, ns: str) -> None:
    with pytest.raises(NotFound) as e:
        await store.get(ns + "missing")
    assert e.value.key == ns + "missing"


async def test_update_with_the_current_revision_replaces_the_value(store: Store, ns: str) -> None:
    kv = await store.create(ns + "a", b"v1")
    new = await store.update(ns + "a", b"v2", expected_revision=kv.mod_revision)
    assert new.value == b"v2"
    assert new.create_revision == kv.create_revision
    assert new.mod_revision > kv.mod_revision
    assert await store.get(ns + "a") == new


async def test_update_with_a_stale_revision_raises_conflict_and_changes_nothing(
    store: Store, ns: str
) -> None:
    kv = await store.create(ns + "a", b"v1")
    new = await store.update(ns + "a", b"v2", expected_revision=kv.mod_revision)
    with pytest.raises(Conflict) as e:
        await store.update(ns + "a", b"v3", expected_revision=kv.mod_revision)
    assert (e.value.key, e.value.expected, e.value.actual) == (
        ns + "a",
        kv.mod_revision,
        new.mod_revision,
    )
    assert await store.get(ns + "a") == new


async def test_update_with_expected_revision_zero_replaces_any_version(
    store: Store, ns: str
) -> None:
    kv = await store.create(ns + "a", b"v1")
    await store.update(ns + "a", b"v2", expected_revision=kv.mod_revision)
    last = await store.update(ns + "a", b"v3", expected_revision=0)
    assert (await store.get(ns + "a")).value == b"v3" == last.value


@pytest.mark.parametrize("expected", [0, 1])
async def test_update_of_a_missing_key_raises_not_found(
    store: Store, ns: str, expected: int
) -> None:
    with pytest.raises(NotFound):
        await store.update(ns + "missing", b"v", expected_revision=expected)
    with pytest.raises(NotFound):
        await store.get(ns + "missing")


async def test_delete_returns_the_previous_value_and_removes_the_key(store: Store, ns: str) -> None:
    kv = await store.create(ns + "a", b"v1")
    kv = await store.update(ns + "a", b"v2", expected_revision=kv.mod_revision)
    deleted = await store.delete(ns + "a", expected_revision=kv.mod_revision)
    assert deleted.prev == kv
    assert deleted.revision > kv.mod_revision
    with pytest.raises(NotFound):
        await store.get(ns + "a")
    with pytest.raises(NotFound):
        await store.delete(ns + "a")
    assert (await store.range(ns)).kvs == []


async def test_delete_with_a_stale_revision_raises_conflict(store: Store, ns: str) -> None:
    kv = await store.create(ns + "a", b"v1")
    new = await store.update(ns + "a", b"v2", expected_revision=0)
    with pytest.raises(Conflict) as e:
        await store.delete(ns + "a", expected_revision=kv.mod_revision)
    assert (e.value.expected, e.value.actual) == (kv.mod_revision, new.mod_revision)
    assert await store.get(ns + "a") == new


async def test_a_key_created_again_after_delete_starts_a_new_life(store: Store, ns: str) -> None:
    first = await store.create(ns + "a", b"v1")
    await store.delete(ns + "a")
    again = await store.create(ns + "a", b"v2")
    assert again.create_revision == again.mod_revision > first.create_revision
    with pytest.raises(Conflict):
        await store.update(ns + "a", b"v3", expected_revision=first.mod_revision)


# -- ranges ----------------------------------------------------------------------------


async def test_range_returns_only_keys_under_the_prefix_in_byte_order(
    store: Store, ns: str
) -> None:
    names = ["b", "a", "a/b", "A", "é", "z", "~", "-", "ab"]
    for name in names:
        await store.create(ns + name, name.encode())
    await store.create(ns[:-1] + "x/outside", b"no")  # shares ns's text, not its prefix
    result = await store.range(ns)
    expected = sorted(ns + n for n in names)
    expected = sorted(expected, key=str.encode)
    assert [kv.key for kv in result.kvs] == expected
    assert [kv.value for kv in result.kvs] == [k[len(ns) :].encode() for k in expected]
    assert result.count == len(names)
    assert result.more is False
    assert result.revision >= max(kv.mod_revision for kv in result.kvs)


async def test_range_of_an_empty_prefix_is_empty(store: Store, ns: str) -> None:
    result = await store.range(ns)
    assert (result.kvs, result.count, result.more) == ([], 0, False)


async def test_range_pages_with_limit_and_start_at_one_revision(store: Store, ns: str) -> None:
    keys = [f"{ns}k{i:02d}" for i in range(10)]
    for key in keys:
        await store.create(key, key.encode())
    first = await store.range(ns, limit=3)
    assert [kv.key for kv in first.kvs] == keys[:3]
    assert (first.more, first.count) == (True, 10)

    # Writes after the first page must not show in the following pages read at its revision.
    await store.create(ns + "k00a", b"late")
    await store.delete(keys[5])
    seen = list(first.kvs)
    page = first
    while page.more:
        page = await store.range(
            ns, start=page.kvs[-1].key + "\0", limit=3, revision=first.revision
        )
        assert page.revision == first.revision
        assert page.count == 10
        seen.extend(page.kvs)
    assert [kv.key for kv in seen] == keys

    now = await store.range(ns, start=keys[4], limit=2)
    assert [kv.key for kv in now.kvs] == [keys[4], keys[6]]
    assert (now.more, now.count) == (True, 10)


async def test_range_limit_equal_to_the_remaining_keys_is_not_more(store: Store, ns: str) -> None:
    for i in range(3):
        await store.create(f"{ns}{i}", b"x")
    result = await store.range(ns, limit=3)
    assert (len(result.kvs), result.more, result.count) == (3, False, 3)
    tail = await store.range(ns, start=ns + "1", limit=5)
    assert ([kv.key for kv in tail.kvs], tail.more, tail.count) == ([ns + "1", ns + "2"], False, 3)


async def test_reads_at_an_old_revision_see_the_state_then(store: Store, ns: str) -> None:
    await store.create(ns + "0", b"so that a's revision is not the first")
    await store.delete(ns + "0")
    a = await store.create(ns + "a", b"a1")
    b = await store.create(ns + "b", b"b1")
    then = await store.current_revision()
    await store.update(ns + "a", b"a2", expected_revision=a.mod_revision)
    await store.delete(ns + "b")
    await store.create(ns + "c", b"c1")

    old = await store.range(ns, revision=then)
    assert old.revision == then
    assert old.kvs == [a, b]
    assert old.count == 2
    assert await store.get(ns + "a", revision=then) == a
    assert await store.get(ns + "b", revision=then) == b
    with pytest.raises(NotFound):
        await store.get(ns + "c", revision=then)
    with pytest.raises(NotFound):
        await store.get(ns + "a", revision=a.mod_revision - 1)

    now = await store.range(ns)
    assert [(kv.key, kv.value) for kv in now.kvs] == [(ns + "a", b"a2"), (ns + "c", b"c1")]
    assert now.count == 2


async def test_reads_beyond_the_current_revision_raise_future_revision(
    store: Store, ns: str
) -> None:
    await store.create(ns + "a", b"x")
    future = await store.current_revision() + 1000
    with pytest.raises(FutureRevision) as e:
        await store.get(ns + "a", revision=future)
    assert e.value.revision == future
    with pytest.raises(FutureRevision):
        await store.range(ns, revision=future)


# -- values and keys -------------------------------------------------------------------


async def test_large_values_round_trip(store: Store, ns: str) -> None:
    big = bytes(range(256)) * (6 * 1024)  # 1.5 MiB
    kv = await store.create(ns + "big", big)
    assert (await store.get(ns + "big")).value == big
    bigger = big + b"tail"
    kv = await store.update(ns + "big", bigger, expected_revision=kv.mod_revision)
    assert (await store.range(ns)).kvs == [kv]
    deleted = await store.delete(ns + "big")
    assert deleted.prev.value == bigger


async def test_values_over_the_limit_raise_value_too_large(store: Store, ns: str) -> None:
    too_big = b"x" * (DEFAULT_MAX_VALUE_SIZE + 1)
    with pytest.raises(ValueTooLarge) as e:
        await store.create(ns + "a", too_big)
    assert (e.value.key, e.value.size, e.value.limit) == (
        ns + "a",
        len(too_big),
        DEFAULT_MAX_VALUE_SIZE,
    )
    with pytest.raises(NotFound):
        await store.get(ns + "a")
    kv = await store.create(ns + "a", b"small")
    with pytest.raises(ValueTooLarge):
        await store.update(ns + "a", too_big, expected_revision=kv.mod_revision)
    assert await store.get(ns + "a") == kv


async def test_empty_values_are_values(store: Store, ns: str) -> None:
    kv = await store.create(ns + "empty", b"")
    assert await store.get(ns + "empty") == kv
    assert kv.value == b""


@pytest.mark.parametrize("bad", ["", "relative/key", "/nul\0inside"])
async def test_malformed_keys_raise_invalid_key(store: Store, ns: str, bad: str) -> None:
    with pytest.raises(InvalidKey):
        await store.create(bad, b"x")
    with pytest.raises(InvalidKey):
        await store.get(bad)
    with pytest.raises(InvalidKey):
        await store.update(bad, b"x", expected_revision=0)
    with pytest.raises(InvalidKey):
        await store.delete(bad)
    with pytest.raises(InvalidKey):
        await store.range(bad)
    with pytest.raises(InvalidKey):
        # Refused when the watch is made or when it is first read: either is conformant.
        watch = store.watch(bad)
        try:
            async with asyncio.timeout(10):
                await watch.__aiter__().__anext__()
        finally:
            await watch.close()


# -- concurrency -----------------------------------------------------------------------


async def test_concurrent_compare_and_swap_loses_no_update(store: Store, ns: str) -> None:
    tasks, increments = 16, 5
    key = ns + "counter"
    await store.create(key, b"0")
    conflicts = 0
    revisions: list[int] = []

    async def increment() -> None:
        nonlocal conflicts
        for _ in range(increments):
            while True:
                kv = await store.get(key)
                try:
                    new = await store.update(
                        key, b"%d" % (int(kv.value) + 1), expected_revision=kv.mod_revision
                    )
                except Conflict:
                    conflicts += 1
                    continue
                revisions.append(new.mod_revision)
                break

    async with asyncio.TaskGroup() as tg:
        for _ in range(tasks):
            tg.create_task(increment())
    assert int((await store.get(key)).value) == tasks * increments
    assert len(set(revisions)) == tasks * increments
    assert conflicts > 0  # the tasks really raced
