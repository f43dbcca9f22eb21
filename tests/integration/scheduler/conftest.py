"""Fixtures for the scheduler's integration tests: one real API server per module."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
from tests.support.live_scheduler import NAMESPACES, NODES, PODS, Server, ServerThread

from kybernetes.apiserver import write_kubeconfig
from kybernetes.client import RESTClient


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    base = tmp_path_factory.mktemp("scheduler-apiserver")
    thread = ServerThread(base / "store.db")
    thread.start()
    try:
        if not thread.started.wait(60) or thread.error is not None or not thread.port:
            raise RuntimeError(f"the API server did not start: {thread.error!r}")
        url = f"http://127.0.0.1:{thread.port}"
        home = base / "home"
        home.mkdir()
        yield Server(url, write_kubeconfig(base / "kubeconfig", url), home)
    finally:
        thread.stop()
    assert not thread.is_alive(), "the API server thread did not stop"


@pytest.fixture
async def client(server: Server) -> AsyncIterator[RESTClient]:
    c = RESTClient(server.url, qps=None)
    try:
        yield c
    finally:
        await c.close()


@pytest.fixture
async def clean_nodes(client: RESTClient) -> AsyncIterator[None]:
    """Tests in a module share the server: each starts and ends without nodes."""
    await client.delete_collection(NODES)
    yield
    await client.delete_collection(NODES)


@pytest.fixture
async def ns(client: RESTClient, clean_nodes: None) -> AsyncIterator[str]:
    """A namespace of the test's own; its pods are removed at once afterwards (there is
    no kubelet to finish their graceful deletion), so later tests start from nothing."""
    name = f"t-{uuid.uuid4().hex[:8]}"
    await client.create(NAMESPACES, {"metadata": {"name": name}})
    yield name
    await client.delete_collection(PODS, namespace=name, grace_period_seconds=0)
