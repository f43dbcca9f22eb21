"""Watches, informers and paged lists against a real ``kyb apiserver``."""

from __future__ import annotations

import asyncio
from contextlib import aclosing
from functools import partial

import pytest
from tests.integration.client.helpers import CONFIGMAPS, Server, until

from kybernetes.client import (
    AiohttpTransport,
    DeletedFinalStateUnknown,
    Informer,
    Request,
    Response,
    RESTClient,
    SharedInformerFactory,
    WatchEvent,
)

pytestmark = pytest.mark.timeout(120)


class Recording:
    """A transport that remembers the URLs it sent (the seam, used for observation)."""

    def __init__(self) -> None:
        self.inner = AiohttpTransport()
        self.urls: list[str] = []

    async def send(self, request: Request) -> Response:
        self.urls.append(request.url)
        return await self.inner.send(request)

    async def close(self) -> None:
        await self.inner.close()


async def test_informer_sees_create_update_delete(client: RESTClient, ns: str) -> None:
    await client.create(CONFIGMAPS, {"metadata": {"name": "before"}}, namespace=ns)
    factory = SharedInformerFactory(client, namespace=ns, freeze=True)
    informer = factory.informer(CONFIGMAPS)
    seen: list[tuple[str, ...]] = []
    changed = asyncio.Event()

    def note(*entry: str) -> None:
        seen.append(entry)
        changed.set()

    informer.add_event_handler(
        on_add=lambda o: note("add", o["metadata"]["name"]),
        on_update=lambda old, new: note(
            "update", new["metadata"]["name"], old["data"].get("v", ""), new["data"]["v"]
        ),
        on_delete=lambda o: note(
            "delete", (o.obj if isinstance(o, DeletedFinalStateUnknown) else o)["metadata"]["name"]
        ),
    )
    task = asyncio.create_task(factory.run())
    try:
        await asyncio.wait_for(factory.wait_for_sync(), 20)
        assert seen == [("add", "before")]
        await client.create(CONFIGMAPS, {"metadata": {"name": "x"}, "data": {}}, namespace=ns)
        await client.patch(CONFIGMAPS, "x", {"data": {"v": "1"}}, namespace=ns)
        await client.delete(CONFIGMAPS, "x", namespace=ns)
        await until(lambda: len(seen) == 4, f"four events, got {seen}")
        assert seen[1:] == [("add", "x"), ("update", "x", "", "1"), ("delete", "x")]
        assert informer.cache.keys() == [f"{ns}/before"]
        cached = informer.cache.get(f"{ns}/before")
        assert cached is not None and cached["kind"] == "ConfigMap"
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_paged_list_of_1200_objects(apiserver: Server, ns: str) -> None:
    recording = Recording()
    async with RESTClient(apiserver.url, transport=recording, qps=None) as client:
        sem = asyncio.Semaphore(32)

        async def make(i: int) -> None:
            async with sem:
                body = {"metadata": {"name": f"cm-{i:04d}"}, "data": {"i": str(i)}}
                await client.create(CONFIGMAPS, body, namespace=ns)

        await asyncio.gather(*(make(i) for i in range(1200)))
        recording.urls.clear()
        listing = await client.list_all(CONFIGMAPS, namespace=ns, page_size=500)
        names = [i["metadata"]["name"] for i in listing["items"]]
        assert names == [f"cm-{i:04d}" for i in range(1200)]  # all, once, in key order
        assert listing["metadata"]["resourceVersion"]
        assert len(recording.urls) == 3
        assert ["continue=" in u for u in recording.urls] == [False, True, True]
        assert all("limit=500" in u for u in recording.urls)

        # An informer lists the same way before it watches.
        recording.urls.clear()
        informer = Informer(client, CONFIGMAPS, namespace=ns, page_size=500)
        task = asyncio.create_task(informer.run())
        try:
            await asyncio.wait_for(informer.wait_for_sync(), 30)
            assert len(informer.cache) == 1200
            lists = [u for u in recording.urls if "watch=" not in u]
            assert len(lists) == 3
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


async def test_watch_resumes_across_streams_the_server_ends(apiserver: Server, ns: str) -> None:
    recording = Recording()
    async with RESTClient(apiserver.url, transport=recording, qps=None) as client:
        start = await client.create(
            CONFIGMAPS, {"metadata": {"name": "w"}, "data": {}}, namespace=ns
        )
        events: list[WatchEvent] = []

        def watches() -> list[str]:
            return [u for u in recording.urls if "watch=true" in u]

        async def consume() -> None:
            async with aclosing(
                client.watch(
                    CONFIGMAPS,
                    namespace=ns,
                    resource_version=start["metadata"]["resourceVersion"],
                    timeout_seconds=1,  # the server ends every stream after a second
                )
            ) as stream:
                async for event in stream:
                    events.append(event)

        task = asyncio.create_task(consume())
        try:
            await until(lambda: len(watches()) == 1, "the first stream")
            for i in range(3):
                opened = len(watches())
                await client.patch(CONFIGMAPS, "w", {"data": {"v": str(i)}}, namespace=ns)
                await until(partial(lambda n: len(events) == n, i + 1), f"event {i}")
                # the next write goes to the next stream
                await until(partial(lambda n: len(watches()) > n, opened), "a new stream")
            assert [e.object["data"]["v"] for e in events] == ["0", "1", "2"]
            # each stream resumed from the last version seen (event or bookmark), never
            # from before an event already delivered
            resumed_from = [int(u.split("resourceVersion=")[1].split("&")[0]) for u in watches()]
            assert len(resumed_from) >= 4
            assert resumed_from[0] == int(start["metadata"]["resourceVersion"])
            for i, event in enumerate(events):
                assert resumed_from[i + 1] >= int(event.resource_version)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
