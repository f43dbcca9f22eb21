"""A real ``kyb apiserver`` process per test module, for the client's integration tests.

The server is started as users start it (``python -m kybernetes.cli apiserver --data-dir
DIR --port 0``, SQLite store, loopback only) and found through the admin kubeconfig it
writes. It is stopped by its PID (SIGTERM, then SIGKILL) when the module ends, also when
tests failed; its data directory is a pytest temporary directory.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
from tests.integration.client.helpers import NAMESPACES, Server

from kybernetes.client import RESTClient


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
            "--port",
            "0",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        kubeconfig = data_dir / "kubeconfig"
        deadline = time.monotonic() + 60
        # The kubeconfig is written once the server is serving: poll for it (there is no
        # other signal to await from another process).
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
    # The admin kubeconfig exactly as `kyb` wrote it.
    async with RESTClient.from_kubeconfig(str(apiserver.kubeconfig), qps=None) as c:
        yield c


@pytest.fixture
async def ns(client: RESTClient) -> str:
    """A namespace of this test's own."""
    name = f"t-{uuid.uuid4().hex[:8]}"
    await client.create(NAMESPACES, {"metadata": {"name": name}})
    return name
