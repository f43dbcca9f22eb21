"""Fixtures for the controllers' unit tests: the fake API (plus ``generateName``), a fake
clock, and a controller context whose informers run on the fake API."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import re
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest
from tests.support.fakekube import FakeKube, Route, resource

from kybernetes.client import (
    BufferedResponse,
    EventRecorder,
    FakeClock,
    Request,
    Response,
    RESTClient,
    SharedInformerFactory,
)
from kybernetes.controllers import ControllerContext

SERVER = "http://api.test:6443"
NAMESPACES = resource("", "namespaces")


class Kube(FakeKube):
    """FakeKube that also draws names from ``generateName`` (as the API server does)."""

    _names = itertools.count(1)

    async def handle(self, request: Request) -> Response:
        # namespaces/{name}/{finalize,status} reads like a namespaced path to the fake.
        match = re.fullmatch(r".*/api/v1/namespaces/([^/]+)/(finalize|status)", request.url)
        if match and request.method == "PUT":
            self.requests.append(request)
            body = orjson.loads(request.body or b"{}")
            written = self.put(NAMESPACES, body)
            return BufferedResponse(
                200, {"content-type": "application/json"}, orjson.dumps(written)
            )
        return await super().handle(request)

    def _route(self, request: Request, route: Route, body: Any) -> tuple[int, dict[str, Any]]:
        if request.method == "POST" and route.name is None and isinstance(body, dict):
            meta = body.setdefault("metadata", {})
            if not meta.get("name") and meta.get("generateName"):
                meta["name"] = f"{meta['generateName']}{next(self._names):05d}"
        return super()._route(request, route, body)


@pytest.fixture
def kube() -> Kube:
    return Kube()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def client(kube: Kube, clock: FakeClock) -> AsyncIterator[RESTClient]:
    c = RESTClient(SERVER, transport=kube.transport(), qps=None, clock=clock)
    yield c
    await c.close()


@pytest.fixture
async def ctx(client: RESTClient, clock: FakeClock) -> ControllerContext:
    factory = SharedInformerFactory(client)
    return ControllerContext(client, factory, clock, EventRecorder(client, "test", clock=clock))


@contextlib.asynccontextmanager
async def running(ctx: ControllerContext) -> AsyncIterator[None]:
    """The context's informers, listed and watching, for the duration of the block."""
    task = asyncio.create_task(ctx.factory.run())
    try:
        await ctx.factory.wait_for_sync()
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
