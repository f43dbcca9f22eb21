"""The SQLite store against a model: random writes and compactions (seeded, so every run
is the same), with every revision still kept read back and watched from, across a restart.

The model is the full state after each revision; compaction may drop only what lies below
the compaction revision, never what a read or a watch at or above it needs.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from tests.support.store_watch import collect

from kybernetes.store import (
    AlreadyExists,
    Compacted,
    Conflict,
    Event,
    EventType,
    KeyValue,
    NotFound,
)
from kybernetes.store._sqlite import SqliteStore

KEYS = [f"/m/{name}" for name in ("a", "b", "b/c", "c", "d")]


class Model:
    """Every revision's state, and every revision's event."""

    def __init__(self) -> None:
        self.states: dict[int, dict[str, KeyValue]] = {0: {}}
        self.events: list[Event] = []
        self.head = 0

    @property
    def now(self) -> dict[str, KeyValue]:
        return self.states[self.head]

    def record(self, event: Event) -> None:
        state = dict(self.now)
        if event.type is EventType.PUT:
            state[event.kv.key] = event.kv
        else:
            del state[event.kv.key]
        self.head = event.revision
        self.states[self.head] = state
        self.events.append(event)


async def _random_write(store: SqliteStore, model: Model, rng: random.Random) -> None:
    key = rng.choice(KEYS)
    current = model.now.get(key)
    op = rng.choice(["create", "update", "update", "delete"])
    # Sometimes a request that must fail, with a stale or made-up revision.
    stale = rng.random() < 0.15
    expected = 0 if current is None else current.mod_revision
    if stale:
        expected = rng.randrange(1, model.head + 2)
    value = rng.randbytes(rng.randrange(0, 40))
    try:
        if op == "create":
            kv = await store.create(key, value)
            model.record(Event(EventType.PUT, kv, None))
        elif op == "update":
            kv = await store.update(key, value, expected_revision=expected)
            model.record(Event(EventType.PUT, kv, current))
        else:
            gone = await store.delete(key, expected_revision=expected)
            model.record(Event(EventType.DELETE, KeyValue(key, b"", 0, gone.revision), current))
    except AlreadyExists:
        assert op == "create" and current is not None
    except NotFound:
        assert op != "create" and current is None
    except Conflict as e:
        assert current is not None and e.actual == current.mod_revision != expected
    else:
        if op != "create":
            assert current is not None and expected in (0, current.mod_revision)


async def _check(store: SqliteStore, model: Model, rng: random.Random, compact: int) -> None:
    assert await store.current_revision() == model.head
    oldest = max(compact, 1)  # revision 0 means "now"
    kept = range(oldest, model.head + 1)
    for revision in {oldest, model.head, *rng.sample(kept, min(5, len(kept)))}:
        state = model.states[max(r for r in model.states if r <= revision)]
        result = await store.range("/m/", revision=revision)
        assert result.kvs == sorted(state.values(), key=lambda kv: kv.key.encode())
        assert result.count == len(state)
        for key in KEYS:
            if key in state:
                assert await store.get(key, revision=revision) == state[key]
            else:
                with pytest.raises(NotFound):
                    await store.get(key, revision=revision)
    if compact > 1:
        with pytest.raises(Compacted):
            await store.range("/m/", revision=compact - 1)
    start = rng.randrange(oldest, model.head + 1)
    expected = [e for e in model.events if e.revision >= start]
    watch = store.watch("/m/", start_revision=start)
    try:
        got = await collect(watch, len(expected)) if expected else []
    finally:
        await watch.close()
    # Previous values included, also for the event at the compaction revision itself.
    assert got == expected


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_random_history_matches_the_model(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    model = Model()
    compact = 0
    path = str(tmp_path / "store.db")
    store = await SqliteStore.open(path, compact_interval=0)
    try:
        for step in range(8):
            for _ in range(40):
                await _random_write(store, model, rng)
            if rng.random() < 0.7 and model.head > compact:
                compact = rng.randrange(max(compact, 1), model.head + 1)
                await store.compact(compact)
                assert await store.compacted_revision() == compact - 1
            await _check(store, model, rng, compact)
            if step == 3:  # a restart keeps it all
                await store.close()
                store = await SqliteStore.open(path, compact_interval=0)
                await _check(store, model, rng, compact)
    finally:
        await store.close()
