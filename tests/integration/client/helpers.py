"""Shared helpers of the client's integration tests (the fixtures are in conftest.py)."""

from __future__ import annotations

import asyncio
import pathlib
import subprocess
from collections.abc import Callable
from dataclasses import dataclass

from tests.support.fakekube import resource

from kybernetes.api import ResourceInfo

CONFIGMAPS: ResourceInfo = resource("", "configmaps")
PODS: ResourceInfo = resource("", "pods")
NODES: ResourceInfo = resource("", "nodes")
NAMESPACES: ResourceInfo = resource("", "namespaces")
EVENTS: ResourceInfo = resource("", "events")
DEPLOYMENTS: ResourceInfo = resource("apps", "deployments")
LEASES: ResourceInfo = resource("coordination.k8s.io", "leases")


@dataclass
class Server:
    """A running ``kyb apiserver`` process."""

    url: str
    kubeconfig: pathlib.Path
    data_dir: pathlib.Path
    process: subprocess.Popen[bytes]


async def until(predicate: Callable[[], bool], what: str, limit: float = 30) -> None:
    """Wait (at most ``limit`` seconds) for state that other processes and our own tasks
    change; there is no single event to await, so check it every few milliseconds."""
    try:
        async with asyncio.timeout(limit):
            while not predicate():  # noqa: ASYNC110 (state changed from several places)
                await asyncio.sleep(0.02)
    except TimeoutError:
        raise AssertionError(f"timed out waiting for {what}") from None
