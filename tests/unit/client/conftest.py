"""Fixtures for the client's unit tests: a fake API behind the transport seam, a fake clock.

Every informer in every test deep-freezes its cache (``tests/conftest.py``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from tests.support.fakekube import FakeKube

from kybernetes.client import FakeClock, RESTClient

SERVER = "http://api.test:6443"


@pytest.fixture
def kube() -> FakeKube:
    return FakeKube()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def client(kube: FakeKube, clock: FakeClock) -> AsyncIterator[RESTClient]:
    c = RESTClient(SERVER, transport=kube.transport(), qps=None, clock=clock)
    yield c
    await c.close()
