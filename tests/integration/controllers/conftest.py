"""A real ``kyb apiserver`` process per module, and the controller manager in-process.

The API server is started as users start it and stopped by its PID when the module ends
(also when tests failed). The controller manager runs every controller in a task of the
test's event loop and is cancelled after the test. There is no kubelet yet:
:func:`node_agent` plays one by writing pod status (Running, Ready, a pod IP) through
``pods/status``, as a kubelet would.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime

import pytest
from tests.integration.client.helpers import NAMESPACES, PODS, Server

from kybernetes.client import RESTClient
from kybernetes.controllers import ControllerManager


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(15)


@pytest.fixture(scope="module")
def apiserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data_dir = tmp_path_factory.mktemp("kyb-apiserver")
    log = (data_dir / "server.log").open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "kybernetes.cli",
            "apiserver",
            "--data-dir",
            str(data_dir),
            *("--port", "0"),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        kubeconfig = data_dir / "kubeconfig"
        deadline = time.monotonic() + 60
        # Written once the server serves; another process gives no other signal to await.
        while not kubeconfig.exists():
            if process.poll() is not None:
                raise RuntimeError(
                    "kyb apiserver exited:\n" + (data_dir / "server.log").read_text()
                )
            if time.monotonic() > deadline:
                raise RuntimeError("kyb apiserver did not start within 60 s")
            time.sleep(0.05)
        match = re.search(r"server: (\S+)", kubeconfig.read_text())
        assert match is not None
        yield Server(match.group(1), kubeconfig, data_dir, process)
    finally:
        _stop(process)
        log.close()


@pytest.fixture
async def client(apiserver: Server) -> AsyncIterator[RESTClient]:
    async with RESTClient.from_kubeconfig(str(apiserver.kubeconfig), qps=None) as c:
        yield c


@pytest.fixture
async def manager(client: RESTClient) -> AsyncIterator[ControllerManager]:
    cm = ControllerManager(client, workers=2)
    task = asyncio.create_task(cm.run())
    await cm.started.wait()
    try:
        yield cm
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@pytest.fixture
async def ns(client: RESTClient) -> str:
    name = f"t-{uuid.uuid4().hex[:8]}"
    await client.create(NAMESPACES, {"metadata": {"name": name}})
    return name


async def mark_ready(client: RESTClient, namespace: str, name: str, ip: str) -> None:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    status = {
        "phase": "Running",
        "podIP": ip,
        "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": now}],
    }
    await client.patch(PODS, name, {"status": status}, namespace=namespace, subresource="status")


@contextlib.asynccontextmanager
async def node_agent(client: RESTClient, namespace: str) -> AsyncIterator[list[dict[str, int]]]:
    """Mark every pod of ``namespace`` Ready soon after it appears; yields samples of
    (pods not being deleted, ready ones) taken at each pass, for invariant checks."""
    samples: list[dict[str, int]] = []
    counter = iter(range(1, 60000))

    async def loop() -> None:
        while True:
            pods = (await client.list(PODS, namespace=namespace))["items"]
            live = [p for p in pods if not p["metadata"].get("deletionTimestamp")]
            ready = [p for p in live if (p.get("status") or {}).get("podIP")]
            samples.append({"live": len(live), "ready": len(ready)})
            for pod in live:
                if not (pod.get("status") or {}).get("podIP"):
                    n = next(counter)
                    with contextlib.suppress(Exception):
                        await mark_ready(
                            client, namespace, pod["metadata"]["name"], f"10.1.{n // 250}.{n % 250}"
                        )
                    break  # one pod per pass: a rollout then has to go step by step
            await asyncio.sleep(0.05)

    task = asyncio.create_task(loop())
    try:
        yield samples
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
