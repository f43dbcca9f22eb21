"""The store conformance suite runs every test against each backend.

``store`` is a fresh SQLite store per test, or a client of the session's real etcd member
(tests stay apart by using the unique ``ns`` key prefix).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from kybernetes.store import Store


@pytest.fixture(params=["sqlite", "etcd"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def store(
    backend: str, request: pytest.FixtureRequest, tmp_path: Any
) -> AsyncIterator[Store]:
    if backend == "sqlite":
        from kybernetes.store._sqlite import SqliteStore

        s: Store = await SqliteStore.open(str(tmp_path / "store.db"))
    else:
        from kybernetes.store._etcd import EtcdStore

        cluster = request.getfixturevalue("etcd_single")
        s = await EtcdStore.open(cluster.endpoints)
    try:
        yield s
    finally:
        await s.close()


@pytest.fixture
def ns() -> str:
    """A key prefix no other test uses."""
    return f"/t/{uuid.uuid4().hex[:12]}/"
