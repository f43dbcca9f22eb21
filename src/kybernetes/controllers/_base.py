"""The controller framework: what a controller is, and how its workers run.

Theory of operation:

* A :class:`Controller` has a ``name``, a :class:`~kybernetes.client.WorkQueue` of string
  keys, the informers it reads (``informers()``), and ``sync(key)``. Its event handlers
  only compute keys and enqueue them; ``sync`` re-reads desired and observed state from
  the informer caches, acts through the API, and raises to be retried.
* :func:`run_controller` waits until the controller's informers have listed, then runs
  ``workers`` tasks that take keys from the queue. A key is never synced by two workers
  at once (the queue's guarantee). A sync that raises is requeued with the queue's
  rate-limited backoff (5 ms doubling per failure, overall 10 qps); a sync that returns
  resets the key's backoff.
* :class:`ControllerContext` is what every controller is built from: one REST client,
  one :class:`~kybernetes.client.SharedInformerFactory` (one list+watch per resource for
  the whole process), one clock and one event recorder.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from kybernetes.api import REGISTRY, ResourceInfo
from kybernetes.client import (
    Clock,
    Conflict,
    DeletedFinalStateUnknown,
    EventRecorder,
    Informer,
    RESTClient,
    SharedInformerFactory,
    ShutDown,
    WorkQueue,
    default_controller_rate_limiter,
    object_key,
)

log = logging.getLogger("kyb.controllers")

Object = dict[str, Any]


def resource(group: str, plural: str, version: str = "v1") -> ResourceInfo:
    info = REGISTRY.get(group, version, plural)
    if info is None:  # pragma: no cover - the registry is static
        raise LookupError(f"{plural}.{group}/{version} is not registered")
    return info


PODS = resource("", "pods")
NODES = resource("", "nodes")
NAMESPACES = resource("", "namespaces")
SERVICES = resource("", "services")
ENDPOINTS = resource("", "endpoints")
SERVICE_ACCOUNTS = resource("", "serviceaccounts")
REPLICATION_CONTROLLERS = resource("", "replicationcontrollers")
REPLICA_SETS = resource("apps", "replicasets")
DEPLOYMENTS = resource("apps", "deployments")
JOBS = resource("batch", "jobs")
ENDPOINT_SLICES = resource("discovery.k8s.io", "endpointslices")


@dataclass
class ControllerContext:
    """Everything a controller is built from (shared by every controller of a process)."""

    client: RESTClient
    factory: SharedInformerFactory
    clock: Clock
    recorder: EventRecorder

    def queue(self, name: str) -> WorkQueue[str]:
        return WorkQueue(
            rate_limiter=default_controller_rate_limiter(self.clock), clock=self.clock, name=name
        )


class Controller(Protocol):
    """A level-triggered reconcile loop."""

    name: str
    queue: WorkQueue[str]

    def informers(self) -> Sequence[Informer]:
        """The informers ``sync`` reads; workers start once all have listed."""
        ...

    async def sync(self, key: str) -> None:
        """Make the world match the desired state of ``key``; raise to be retried."""
        ...


#: Controller name -> factory. Filled by :mod:`kybernetes.controllers`.
ControllerFactory = Callable[[ControllerContext], Controller]


def key_of(obj: Mapping[str, Any] | DeletedFinalStateUnknown) -> str:
    """The queue key of an object, or of the last state of one deleted unseen."""
    if isinstance(obj, DeletedFinalStateUnknown):
        return obj.key
    return object_key(obj)


def unwrap(obj: Object | DeletedFinalStateUnknown) -> Object:
    """The object of a delete notification (its last known state when deleted unseen)."""
    return obj.obj if isinstance(obj, DeletedFinalStateUnknown) else obj


def enqueue_handlers(
    queue: WorkQueue[str], *, key: Callable[[Object], str | None] | None = None
) -> dict[str, Any]:
    """Handlers (for ``Informer.add_event_handler(**...)``) that enqueue the object's key."""

    def compute(obj: Object) -> str | None:
        return key(obj) if key is not None else object_key(obj)

    def add(obj: Object) -> None:
        k = compute(obj)
        if k:
            queue.add(k)

    def update(old: Object, new: Object) -> None:
        add(new)

    def delete(obj: Object | DeletedFinalStateUnknown) -> None:
        add(unwrap(obj))

    return {"on_add": add, "on_update": update, "on_delete": delete}


async def process_one(controller: Controller) -> None:
    """Take one key, sync it, and requeue it with backoff if the sync failed."""
    key = await controller.queue.get()
    try:
        await controller.sync(key)
    except asyncio.CancelledError:
        raise
    except Exception as e:
        retries = controller.queue.num_requeues(key)
        # A conflict only means the cache was behind: retrying is the normal answer.
        level = logging.DEBUG if isinstance(e, Conflict) else logging.WARNING
        level = logging.ERROR if retries >= 5 else level
        log.log(level, "%s: syncing %r failed (retry %d): %s", controller.name, key, retries, e)
        log.debug("%s: traceback", controller.name, exc_info=True)
        controller.queue.add_rate_limited(key)
    else:
        controller.queue.forget(key)
    finally:
        controller.queue.done(key)


async def run_controller(controller: Controller, workers: int = 2) -> None:
    """Wait for the controller's informers, then run ``workers`` workers until cancelled."""
    for informer in controller.informers():
        await informer.wait_for_sync()
    log.info("%s: caches synced; starting %d workers", controller.name, workers)

    async def worker() -> None:
        while True:
            try:
                await process_one(controller)
            except ShutDown:
                return

    try:
        async with asyncio.TaskGroup() as tasks:
            for i in range(workers):
                tasks.create_task(worker(), name=f"{controller.name} worker {i}")
    finally:
        controller.queue.shutdown()
