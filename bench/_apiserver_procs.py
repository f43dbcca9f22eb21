"""The processes bench/apiserver.py measures: ``kyb apiserver`` and the bare aiohttp ceiling.

Each runs as its own OS process (so the load generator never shares its event loop), on
a free 127.0.0.1 port. Promises: :meth:`ServerProcess.start` returns once the server
answers HTTP (``/readyz`` for the API server); the process is stopped by its PID by
:meth:`ServerProcess.stop` (SIGTERM, then SIGKILL), at interpreter exit, and by the
kernel if the benchmark dies first (parent-death signal through ``setpriv``).
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

SETPRIV = "/usr/bin/setpriv"
KYB = Path(sys.executable).parent / "kyb"
CEILING = Path(__file__).resolve().parent / "_apiserver_ceiling.py"

_LIVE: dict[int, subprocess.Popen[bytes]] = {}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _die_with_parent() -> list[str]:
    if os.access(SETPRIV, os.X_OK):
        return [SETPRIV, "--pdeathsig", "KILL", "--"]
    return []


@atexit.register
def _reap_all() -> None:
    for proc in list(_LIVE.values()):
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait()


class ServerProcess:
    """One HTTP server process on ``127.0.0.1:port``, logging to ``log_path``."""

    def __init__(
        self,
        name: str,
        argv: list[str],
        port: int,
        log_path: Path,
        ready: str,
        env: dict[str, str] | None = None,
    ) -> None:
        self.name = name
        self.env = env or {}
        self.argv = argv
        self.port = port
        self.log_path = log_path
        self.ready_path = ready
        self.proc: subprocess.Popen[bytes] | None = None

    @classmethod
    def apiserver(
        cls, name: str, data_dir: Path, datastore: str, env: dict[str, str] | None = None
    ) -> ServerProcess:
        """``kyb apiserver``; ``env`` adds to the environment (e.g. PYTHONPATH: another
        source tree)."""
        port = free_port()
        data_dir.mkdir(parents=True, exist_ok=True)
        argv = [str(KYB), "apiserver", f"--data-dir={data_dir}", f"--port={port}"]
        argv.append(f"--datastore={datastore}")
        return cls(name, argv, port, data_dir / "apiserver.log", "/readyz", env)

    @classmethod
    def ceiling(cls, log_path: Path) -> ServerProcess:
        port = free_port()
        argv = [sys.executable, str(CEILING), str(port)]
        return cls("ceiling", argv, port, log_path, "/healthz")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def _spawn(self) -> subprocess.Popen[bytes]:
        with open(self.log_path, "ab") as log:
            proc = subprocess.Popen(
                [*_die_with_parent(), *self.argv],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, **self.env},
            )
        _LIVE[proc.pid] = proc
        return proc

    async def start(self, within: float = 60.0) -> ServerProcess:
        self.proc = self._spawn()
        deadline = time.monotonic() + within
        while not await asyncio.to_thread(self._answers):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                tail = self.log_path.read_text(errors="replace")[-3000:]
                self.stop()
                raise RuntimeError(f"{self.name} did not come up:\n{tail}")
            await asyncio.sleep(0.05)
        return self

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(self.url + self.ready_path, timeout=1.0) as resp:
                return bool(resp.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def rss_bytes(self) -> int:
        """The resident set size of the server process now."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise RuntimeError("no VmRSS")

    def cpu_seconds(self) -> float:
        """User + system CPU time the server process has used so far."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        proc = self.proc
        if proc is None:
            return
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
        _LIVE.pop(proc.pid, None)
        self.proc = None
