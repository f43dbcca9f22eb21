"""Integration fixtures: real etcd members, started once per session and only on demand.

``etcd_single`` (one member) serves every etcd test that does not kill members; tests keep
apart by key prefix. ``etcd_cluster3`` (three members) is started only if a test asks for
it. Both are stopped by PID at the end of the session, also when tests fail; a test that
kills a member must restart it (or use a cluster of its own).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.support.etcd import ETCD_BINARY, EtcdCluster, etcd_available


def _cluster(size: int) -> Iterator[EtcdCluster]:
    if not etcd_available():
        pytest.skip(f"real etcd is not installed at {ETCD_BINARY}")
    cluster = EtcdCluster(size)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def etcd_single() -> Iterator[EtcdCluster]:
    yield from _cluster(1)


@pytest.fixture(scope="session")
def etcd_cluster3() -> Iterator[EtcdCluster]:
    yield from _cluster(3)
