"""``kyb apiserver`` with broken configuration or a corrupt store: a clear exit, nothing touched.

Each case runs the real command as a subprocess (stopped by ``subprocess.run`` itself on
timeout or failure) in a scratch directory, and checks that it exits non-zero with exactly
one line on stderr, ``kyb: ...``, without a traceback, and that every file in the scratch
directory is byte for byte as before: no data directory, store or lock file appears, and a
corrupt store is not "repaired".
"""

from __future__ import annotations

import hashlib
import os
import pathlib
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Callable

import pytest


def snapshot(root: pathlib.Path) -> dict[str, str]:
    """Every path under ``root`` with a digest of its content ("dir" for directories)."""
    out = {}
    for path in sorted(root.rglob("*")):
        key = str(path.relative_to(root))
        out[key] = "dir" if path.is_dir() else hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def kyb(cwd: pathlib.Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(cwd)}
    return subprocess.run(
        [sys.executable, "-m", "kybernetes.cli", "apiserver", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )


def assert_clean_failure(
    done: subprocess.CompletedProcess[str], code: int, *fragments: str
) -> None:
    lines = done.stderr.strip().splitlines()
    assert done.returncode == code, done.stderr
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("kyb: "), lines[0]
    assert "Traceback" not in done.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert "serving" not in done.stdout and "KUBECONFIG" not in done.stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.mark.parametrize(
    ("datastore", "code", "text"),
    [
        ("foo://bar", 2, "unknown datastore 'foo://bar'"),
        ("not a url", 2, "unknown datastore"),
        ("sqlite://", 2, "needs a path"),
        ("etcd://127.0.0.1:notaport", 2, "bad etcd endpoint"),
        ("etcd://:2379", 2, "bad etcd endpoint"),
    ],
)
def test_a_malformed_datastore_url(
    tmp_path: pathlib.Path, datastore: str, code: int, text: str
) -> None:
    before = snapshot(tmp_path)
    done = kyb(tmp_path, "--data-dir", "data", "--port", "0", "--datastore", datastore)
    assert_clean_failure(done, code, "--datastore", text)
    assert snapshot(tmp_path) == before


def test_an_unreachable_etcd(tmp_path: pathlib.Path) -> None:
    before = snapshot(tmp_path)
    datastore = f"etcd://127.0.0.1:{free_port()}"
    done = kyb(tmp_path, "--data-dir", "data", "--port", "0", "--datastore", datastore)
    assert_clean_failure(done, 1, "cannot open the datastore", "unavailable")
    assert snapshot(tmp_path) == before


def _random_bytes(path: pathlib.Path) -> None:
    path.write_bytes(hashlib.sha256(b"seed").digest() * 512)


def _damaged_sqlite(path: pathlib.Path) -> None:
    # A real database (ours or not does not matter) with its pages overwritten past the
    # header: SQLite opens it, then finds the damage.
    conn = sqlite3.connect(path)
    conn.executescript(
        "CREATE TABLE t (k TEXT PRIMARY KEY, v BLOB);"
        + "".join(f"INSERT INTO t VALUES ('k{i}', randomblob(200));" for i in range(200))
    )
    conn.close()
    raw = bytearray(path.read_bytes())
    raw[4096:8192] = b"\xa5" * 4096
    path.write_bytes(bytes(raw))


def _foreign_sqlite(path: pathlib.Path) -> None:
    conn = sqlite3.connect(path)
    conn.executescript("CREATE TABLE users (name TEXT); INSERT INTO users VALUES ('ann');")
    conn.close()


@pytest.mark.parametrize(
    ("make", "text"),
    [
        (_random_bytes, "not a readable kybernetes store"),
        (_damaged_sqlite, "malformed"),
        (_foreign_sqlite, "not a kybernetes store"),
    ],
    ids=["random bytes", "damaged pages", "someone else's database"],
)
def test_a_corrupt_sqlite_store_is_left_alone(
    tmp_path: pathlib.Path, make: Callable[[pathlib.Path], None], text: str
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    make(data / "store.db")
    before = snapshot(tmp_path)
    done = kyb(tmp_path, "--data-dir", "data", "--port", "0")
    assert_clean_failure(done, 1, "cannot open the datastore", text)
    assert snapshot(tmp_path) == before  # same bytes, and no -lock, -wal or -shm beside it


def test_a_store_path_that_is_a_directory(tmp_path: pathlib.Path) -> None:
    (tmp_path / "adir").mkdir()
    before = snapshot(tmp_path)
    done = kyb(
        tmp_path, "--data-dir", "data", "--port", "0", "--datastore", f"sqlite://{tmp_path}/adir"
    )
    assert_clean_failure(done, 1, "cannot open the datastore")
    assert snapshot(tmp_path) == before


def test_a_port_in_use(tmp_path: pathlib.Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        before = snapshot(tmp_path)
        done = kyb(tmp_path, "--data-dir", "data", "--port", str(port))
    assert_clean_failure(done, 1, f"cannot serve on 127.0.0.1:{port}", "in use")
    assert snapshot(tmp_path) == before  # bound before anything was created


@pytest.mark.parametrize(
    ("args", "text"),
    [
        (("--port", "99999"), "--port 99999 is not a TCP port"),
        (("--port", "-1"), "--port -1 is not a TCP port"),
        (("--port", "0", "--bind-address", "0.0.0.0"), "only listens on loopback"),
    ],
)
def test_bad_listen_options(tmp_path: pathlib.Path, args: tuple[str, ...], text: str) -> None:
    before = snapshot(tmp_path)
    done = kyb(tmp_path, "--data-dir", "data", *args)
    assert_clean_failure(done, 2, text)
    assert snapshot(tmp_path) == before


def test_a_data_dir_that_is_a_file(tmp_path: pathlib.Path) -> None:
    (tmp_path / "data").write_text("not a directory")
    before = snapshot(tmp_path)
    done = kyb(tmp_path, "--data-dir", "data", "--port", "0")
    assert_clean_failure(done, 2, "--data-dir data exists and is not a directory")
    assert snapshot(tmp_path) == before
