"""A real API server (SQLite store) per test module, driven by real clients.

The server runs in-process on its own event loop in a background thread, bound to a free
127.0.0.1 port: kubectl (a subprocess) and the official ``kubernetes`` Python client (which
is synchronous) then talk to it exactly as to a cluster. Each test works in a namespace of
its own. The server is stopped (its task cancelled, the thread joined) when the module ends,
also when tests failed.
"""

from __future__ import annotations

import asyncio
import os
import pathlib
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from kubernetes import client, config

from kybernetes.apiserver import APIServer, write_kubeconfig
from kybernetes.apiserver._watchcache import DEFAULT_WINDOW
from kybernetes.store import open_store

VENV_KUBECTL = pathlib.Path(sys.executable).parent / "kubectl"


@dataclass
class Cluster:
    url: str
    kubeconfig: pathlib.Path
    home: pathlib.Path

    def kubectl(
        self,
        *args: str,
        input: str | None = None,
        check: bool = True,
        binary: pathlib.Path = VENV_KUBECTL,
        timeout: float = 60,
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [str(binary), f"--kubeconfig={self.kubeconfig}", *args],
            input=input,
            capture_output=True,
            text=True,
            env=self.env(),
            timeout=timeout,
            check=False,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"kubectl {' '.join(args)} failed ({result.returncode}):\n{result.stderr}"
            )
        return result

    def env(self) -> dict[str, str]:
        # A fresh HOME: kubectl caches discovery under ~/.kube/cache for hours.
        return {"PATH": os.environ.get("PATH", ""), "HOME": str(self.home)}

    def api(self) -> client.ApiClient:
        return config.new_client_from_config(config_file=str(self.kubeconfig))


class _ServerThread(threading.Thread):
    def __init__(self, db: pathlib.Path, window: int) -> None:
        super().__init__(name="apiserver", daemon=True)
        self.db = db
        self.window = window
        self.started = threading.Event()
        self.port = 0
        self.error: BaseException | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.task: asyncio.Task[None] | None = None

    def run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as e:  # reported to the fixture, which fails the tests
            self.error = e
        finally:
            self.started.set()

    async def _main(self) -> None:
        store = await open_store(f"sqlite://{self.db}")
        try:
            server = APIServer(store, window=self.window)
            self.loop = asyncio.get_running_loop()
            self.task = asyncio.create_task(server.run("127.0.0.1", 0))
            ready = asyncio.create_task(server.ready.wait())
            await asyncio.wait({self.task, ready}, return_when=asyncio.FIRST_COMPLETED)
            ready.cancel()
            self.port = server.port
            self.started.set()
            try:
                await self.task
            except asyncio.CancelledError:
                pass
        finally:
            await store.close()

    def stop(self) -> None:
        if self.loop is not None and self.task is not None:
            self.loop.call_soon_threadsafe(self.task.cancel)
        self.join(30)


@pytest.fixture(scope="module")
def cluster(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Cluster]:
    """The module's server; a module may set ``WATCH_WINDOW`` to shrink the event window."""
    base = tmp_path_factory.mktemp("apiserver")
    window = getattr(request.module, "WATCH_WINDOW", DEFAULT_WINDOW)
    thread = _ServerThread(base / "store.db", window)
    thread.start()
    try:
        if not thread.started.wait(60) or thread.error is not None or not thread.port:
            raise RuntimeError(f"the API server did not start: {thread.error!r}")
        url = f"http://127.0.0.1:{thread.port}"
        kubeconfig = write_kubeconfig(base / "kubeconfig", url)
        home = base / "home"
        home.mkdir()
        yield Cluster(url, kubeconfig, home)
    finally:
        thread.stop()
    assert not thread.is_alive(), "the API server thread did not stop"


@pytest.fixture
def ns(cluster: Cluster) -> str:
    """A namespace of this test's own."""
    name = f"t-{uuid.uuid4().hex[:8]}"
    body: dict[str, Any] = {"metadata": {"name": name}}
    client.CoreV1Api(cluster.api()).create_namespace(body)
    return name
