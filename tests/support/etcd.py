"""Real etcd members as subprocesses, for tests and benchmarks.

``EtcdCluster(size)`` runs ``size`` members of one cluster on free 127.0.0.1 ports, each in
its own data directory under one temporary directory. Promises:

* ``start()`` returns only once every member answers ``/health`` (the cluster has a leader);
  it raises with the tail of the member's log if one does not come up in time.
* Every process is stopped by its PID: by ``stop()``, by the context manager, at interpreter
  exit (``atexit``), and by the kernel if this process dies first (parent-death signal).
  ``stop()`` also removes the temporary directory.
* ``kill(i)`` SIGKILLs member ``i``; ``restart(i)`` starts it again on the same ports and
  data directory (it rejoins the cluster with its state).

Timings are tuned for tests (10 ms heartbeat, 100 ms election timeout); the request size
limit admits the store's largest value (3.5 MiB) with room for the key and framing.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

ETCD_BINARY = "/usr/bin/etcd"

#: Enough for a 3.5 MiB value plus key and transaction framing.
MAX_REQUEST_BYTES = 4 * 1024 * 1024 + 256 * 1024
QUOTA_BACKEND_BYTES = 2 * 1024 * 1024 * 1024

SETPRIV = "/usr/bin/setpriv"
# Every live member of every cluster this process started, so atexit can reap them.
_LIVE: dict[int, subprocess.Popen[bytes]] = {}


def etcd_available() -> bool:
    return os.access(ETCD_BINARY, os.X_OK)


def _die_with_parent() -> list[str]:
    # If the test runner is SIGKILLed, the kernel kills etcd too (setpriv execs etcd, so the
    # PID is etcd's). Not a preexec_fn: forking a process that runs gRPC threads breaks
    # gRPC's fork handlers, and without preexec_fn subprocess can use vfork.
    if os.access(SETPRIV, os.X_OK):
        return [SETPRIV, "--pdeathsig", "KILL", "--"]
    return []


def _free_ports(count: int) -> list[int]:
    # Hold all sockets open until every port is chosen so the kernel hands out distinct ones.
    socks = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def _kill_pid(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=10)
    _LIVE.pop(proc.pid, None)


@atexit.register
def _reap_all() -> None:
    for proc in list(_LIVE.values()):
        _kill_pid(proc)


@dataclass
class _Member:
    name: str
    client_port: int
    peer_port: int
    data_dir: Path
    log_path: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def client_url(self) -> str:
        return f"http://127.0.0.1:{self.client_port}"

    @property
    def peer_url(self) -> str:
        return f"http://127.0.0.1:{self.peer_port}"


class EtcdCluster:
    """``size`` real etcd members (1 or 3, or any odd count) on loopback."""

    def __init__(
        self,
        size: int = 1,
        *,
        heartbeat_ms: int = 10,
        election_ms: int = 100,
        start_timeout: float = 30.0,
    ) -> None:
        if size < 1:
            raise ValueError("an etcd cluster needs at least one member")
        self.size = size
        self._heartbeat_ms = heartbeat_ms
        self._election_ms = election_ms
        self._start_timeout = start_timeout
        self._dir: Path | None = None
        self._members: list[_Member] = []
        self._token = f"kyb-{os.getpid()}-{time.monotonic_ns()}"

    @property
    def endpoints(self) -> list[tuple[str, int]]:
        return [("127.0.0.1", m.client_port) for m in self._members]

    @property
    def pids(self) -> list[int | None]:
        return [m.proc.pid if m.proc and m.proc.poll() is None else None for m in self._members]

    def start(self) -> EtcdCluster:
        if not etcd_available():
            raise FileNotFoundError(ETCD_BINARY)
        self._dir = Path(tempfile.mkdtemp(prefix="kyb-etcd-"))
        ports = _free_ports(2 * self.size)
        self._members = [
            _Member(
                name=f"m{i}",
                client_port=ports[2 * i],
                peer_port=ports[2 * i + 1],
                data_dir=self._dir / f"m{i}.etcd",
                log_path=self._dir / f"m{i}.log",
            )
            for i in range(self.size)
        ]
        try:
            for i in range(self.size):
                self._spawn(i)
            for i in range(self.size):
                self._wait_healthy(i)
        except BaseException:
            self.stop()
            raise
        return self

    def kill(self, i: int) -> None:
        """SIGKILL member ``i`` (by PID) and wait until it has exited."""
        proc = self._members[i].proc
        if proc is not None:
            _kill_pid(proc)
        self._members[i].proc = None

    def restart(self, i: int) -> None:
        """Start member ``i`` again (killing it first if it runs) and wait until healthy."""
        self.kill(i)
        self._spawn(i)
        self._wait_healthy(i)

    def stop(self) -> None:
        """Kill every member by PID and remove the data directory. Idempotent."""
        for i in range(len(self._members)):
            self.kill(i)
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def leader(self) -> int:
        """The index of the member that is the leader, by asking the live members."""
        statuses = {i: self._status(i) for i in range(len(self._members))}
        ids = {str(st["header"]["member_id"]): i for i, st in statuses.items() if st}
        for st in statuses.values():
            if st and str(st.get("leader")) in ids:
                return ids[str(st["leader"])]
        raise RuntimeError("no live etcd member reports a live leader")

    def _status(self, i: int) -> dict[str, Any] | None:
        m = self._members[i]
        if m.proc is None or m.proc.poll() is not None:
            return None
        # etcd's JSON gateway for the Maintenance.Status RPC.
        req = urllib.request.Request(
            m.client_url + "/v3/maintenance/status", data=b"{}", method="POST"
        )
        try:
            with urllib.request.urlopen(req, timeout=2.0) as resp:
                status: dict[str, Any] = json.load(resp)
        except (urllib.error.URLError, OSError, ValueError):
            return None
        return status if "header" in status else None

    def log_tail(self, i: int, lines: int = 30) -> str:
        try:
            text = self._members[i].log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def __enter__(self) -> EtcdCluster:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _spawn(self, i: int) -> None:
        m = self._members[i]
        initial = ",".join(f"{x.name}={x.peer_url}" for x in self._members)
        args = [
            *_die_with_parent(),
            ETCD_BINARY,
            f"--name={m.name}",
            f"--data-dir={m.data_dir}",
            f"--listen-client-urls={m.client_url}",
            f"--advertise-client-urls={m.client_url}",
            f"--listen-peer-urls={m.peer_url}",
            f"--initial-advertise-peer-urls={m.peer_url}",
            f"--initial-cluster={initial}",
            "--initial-cluster-state=new",
            f"--initial-cluster-token={self._token}",
            f"--heartbeat-interval={self._heartbeat_ms}",
            f"--election-timeout={self._election_ms}",
            f"--max-request-bytes={MAX_REQUEST_BYTES}",
            f"--quota-backend-bytes={QUOTA_BACKEND_BYTES}",
            "--logger=zap",
            "--log-level=warn",
        ]
        # etcd reads ETCD_* variables as flags; the caller's must not change our members.
        env = {k: v for k, v in os.environ.items() if not k.startswith("ETCD")}
        with open(m.log_path, "ab") as log:
            m.proc = subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
            )
        _LIVE[m.proc.pid] = m.proc

    def _wait_healthy(self, i: int) -> None:
        m = self._members[i]
        deadline = time.monotonic() + self._start_timeout
        url = m.client_url + "/health"
        while True:
            if m.proc is None or m.proc.poll() is not None:
                raise RuntimeError(f"etcd member {m.name} exited:\n{self.log_tail(i)}")
            try:
                with urllib.request.urlopen(url, timeout=1.0) as resp:
                    if b'"true"' in resp.read():
                        return
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"etcd member {m.name} not healthy:\n{self.log_tail(i)}")
            time.sleep(0.02)
