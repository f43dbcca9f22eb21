"""The controller manager: every enabled controller in one process, on shared informers.

Theory of operation: :class:`ControllerManager` builds the enabled controllers from
:data:`CONTROLLERS` on one :class:`~._base.ControllerContext` (one client, one informer
factory, one event recorder), then runs the informers, the recorder and each controller's
workers in one task group until cancelled. With leader election it first campaigns for
the Lease ``kube-system/kube-controller-manager`` and runs the controllers only while
leading; losing the Lease stops them (and :meth:`ControllerManager.run` raises
:class:`~kybernetes.client.LeadershipLost`, so the process exits and is restarted rather
than acting on a view another leader may be changing).

``--controllers`` follows upstream: ``*`` enables the defaults, ``foo`` enables one,
``-foo`` disables one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping

from kybernetes.client import (
    Clock,
    EventRecorder,
    LeaderElectionConfig,
    LeaderElector,
    RESTClient,
    SharedInformerFactory,
)
from kybernetes.controllers._base import (
    Controller,
    ControllerContext,
    ControllerFactory,
    run_controller,
)

log = logging.getLogger("kyb.controllers.manager")

LEASE_NAME = "kube-controller-manager"


def enabled_controllers(spec: Iterable[str], known: Mapping[str, ControllerFactory]) -> list[str]:
    """Names enabled by a ``--controllers`` list (``*``, ``name``, ``-name``)."""
    items = [s.strip() for s in spec if s.strip()] or ["*"]
    unknown = [s.lstrip("-") for s in items if s != "*" and s.lstrip("-") not in known]
    if unknown:
        raise ValueError(f"unknown controllers: {', '.join(sorted(unknown))}")
    enabled: list[str] = []
    for name in known:
        if f"-{name}" in items:
            continue
        if name in items or "*" in items:
            enabled.append(name)
    return enabled


class ControllerManager:
    def __init__(
        self,
        client: RESTClient,
        *,
        controllers: Iterable[str] = ("*",),
        workers: int = 4,
        leader_elect: bool = False,
        leader_election: LeaderElectionConfig | None = None,
        clock: Clock | None = None,
        registry: Mapping[str, ControllerFactory] | None = None,
    ) -> None:
        from kybernetes.controllers import CONTROLLERS

        self.client = client
        self.registry = dict(registry if registry is not None else CONTROLLERS)
        self.names = enabled_controllers(controllers, self.registry)
        self.workers = workers
        self.leader_elect = leader_elect
        self.leader_election = leader_election or LeaderElectionConfig(name=LEASE_NAME)
        self.clock = clock or client.clock
        self.controllers: dict[str, Controller] = {}
        self.started = asyncio.Event()

    async def run(self) -> None:
        """Run until cancelled (with leader election: while leading)."""
        if not self.leader_elect:
            await self._run_controllers()
            return
        elector = LeaderElector(self.client, self.leader_election, clock=self.clock)
        await elector.run(self._run_controllers)

    async def _run_controllers(self) -> None:
        factory = SharedInformerFactory(self.client)
        recorder = EventRecorder(self.client, "controller-manager", clock=self.clock)
        ctx = ControllerContext(self.client, factory, self.clock, recorder)
        self.controllers = {name: self.registry[name](ctx) for name in self.names}
        log.info("starting controllers: %s", ", ".join(self.names))
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(factory.run(), name="informers")
            tasks.create_task(recorder.run(), name="events")
            for name, controller in self.controllers.items():
                tasks.create_task(run_controller(controller, self.workers), name=name)
            self.started.set()
