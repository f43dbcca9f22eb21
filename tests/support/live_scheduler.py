"""Helpers for the scheduler's live tests: an in-process API server thread, Node and Pod
bodies, waiting for pod states through a watch, and running schedulers as tasks.

The server binds a free 127.0.0.1 port in its own thread and event loop; :meth:`stop`
cancels it and joins the thread. Schedulers run in the caller's loop (:func:`running`) and
are cancelled when the block ends. Nodes are plain Node objects (there is no kubelet):
Ready, with allocatable resources and a ``kubernetes.io/hostname`` label.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import pathlib
import threading
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from kybernetes.api import REGISTRY, ResourceInfo
from kybernetes.apiserver import APIServer
from kybernetes.client import RESTClient
from kybernetes.scheduler import Scheduler, SchedulerConfig, default_config
from kybernetes.store import open_store


def _resource(group: str, plural: str) -> ResourceInfo:
    info = REGISTRY.get(group, "v1", plural)
    assert info is not None, plural
    return info


PODS = _resource("", "pods")
NODES = _resource("", "nodes")
NAMESPACES = _resource("", "namespaces")
EVENTS = _resource("", "events")
PRIORITY_CLASSES = _resource("scheduling.k8s.io", "priorityclasses")

Obj = dict[str, Any]


@dataclass
class Server:
    """What a test needs to reach the module's API server."""

    url: str
    kubeconfig: pathlib.Path
    home: pathlib.Path


class ServerThread(threading.Thread):
    def __init__(self, db: pathlib.Path) -> None:
        super().__init__(name="apiserver", daemon=True)
        self.db = db
        self.started = threading.Event()
        self.port = 0
        self.error: BaseException | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.task: asyncio.Task[None] | None = None

    def run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as e:  # reported to the fixture
            self.error = e
        finally:
            self.started.set()

    async def _main(self) -> None:
        store = await open_store(f"sqlite://{self.db}")
        try:
            server = APIServer(store)
            self.loop = asyncio.get_running_loop()
            self.task = asyncio.create_task(server.run("127.0.0.1", 0))
            ready = asyncio.create_task(server.ready.wait())
            await asyncio.wait({self.task, ready}, return_when=asyncio.FIRST_COMPLETED)
            ready.cancel()
            self.port = server.port
            self.started.set()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        finally:
            await store.close()

    def stop(self) -> None:
        if self.loop is not None and self.task is not None:
            self.loop.call_soon_threadsafe(self.task.cancel)
        self.join(30)


def node(
    name: str,
    *,
    cpu: str = "4",
    memory: str = "8Gi",
    labels: Mapping[str, str] | None = None,
    taints: list[Obj] | None = None,
) -> Obj:
    alloc = {"cpu": cpu, "memory": memory, "pods": "110"}
    body: Obj = {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, **(labels or {})}},
        "spec": {"taints": taints} if taints else {},
        "status": {
            "capacity": alloc,
            "allocatable": alloc,
            "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady"}],
        },
    }
    return body


def pod(
    name: str, *, cpu: str = "100m", labels: Mapping[str, str] | None = None, **spec: Any
) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": dict(labels or {})},
        "spec": {
            "containers": [
                {"name": "c", "image": "pause", "resources": {"requests": {"cpu": cpu}}}
            ],
            **spec,
        },
    }


async def create_nodes(client: RESTClient, *nodes: Obj) -> None:
    for body in nodes:
        await client.create(NODES, body)


async def create_pods(client: RESTClient, ns: str, *pods: Obj) -> None:
    for body in pods:
        await client.create(PODS, body, namespace=ns)


async def wait_pods(
    client: RESTClient, ns: str, done: Callable[[dict[str, Obj]], bool], within: float = 30
) -> dict[str, Obj]:
    """Watch the namespace's pods until ``done(pods by name)`` holds (for at most
    ``within`` seconds); returns them."""
    async with asyncio.timeout(within):
        while True:
            listing = await client.list(PODS, namespace=ns)
            pods = {p["metadata"]["name"]: p for p in listing["items"]}
            if done(pods):
                return pods
            rv = listing["metadata"]["resourceVersion"]
            async for event in client.watch_once(
                PODS, namespace=ns, resource_version=rv, timeout_seconds=5
            ):
                if event.type == "BOOKMARK":
                    continue
                obj = event.object
                if event.type == "DELETED":
                    pods.pop(obj["metadata"]["name"], None)
                else:
                    pods[obj["metadata"]["name"]] = obj
                if done(pods):
                    return pods


def node_of(p: Obj) -> str:
    return str((p.get("spec") or {}).get("nodeName") or "")


def scheduled_condition(p: Obj) -> Obj | None:
    for c in (p.get("status") or {}).get("conditions") or ():
        if c.get("type") == "PodScheduled":
            return dict(c)
    return None


@contextlib.asynccontextmanager
async def running(scheduler: Scheduler) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(scheduler.run())
    try:
        async with asyncio.timeout(30):
            await scheduler.synced.wait()
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def config(**overrides: Any) -> SchedulerConfig:
    return dataclasses.replace(default_config(), **overrides)
