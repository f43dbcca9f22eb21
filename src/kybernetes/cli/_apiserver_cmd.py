"""``kyb apiserver`` (and, for now, ``kyb server``): serve the Kubernetes API.

Opens the datastore, serves plain HTTP on a loopback address (TLS and authentication come
with the security work, so other addresses are refused), writes the admin kubeconfig to
``DATA_DIR/kubeconfig`` once serving, and shuts down cleanly on SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import logging
import pathlib
import signal
import socket
import sys

from kybernetes.apiserver import APIServer, write_kubeconfig
from kybernetes.cli._loop import run_async
from kybernetes.store import StoreError, open_store, parse_store_url

log = logging.getLogger("kyb.apiserver")


def _add_args(p: argparse.ArgumentParser, *, data_dir_default: str | None) -> None:
    p.add_argument(
        "--data-dir",
        default=data_dir_default,
        required=data_dir_default is None,
        help="where the store and the admin kubeconfig live"
        + (" (default: %(default)s)" if data_dir_default else ""),
    )
    p.add_argument(
        "--datastore",
        help="sqlite://PATH or etcd://HOST:PORT[,HOST:PORT...] (default: sqlite://DATA_DIR/store.db)",
    )
    p.add_argument("--bind-address", default="127.0.0.1", help="default: %(default)s")
    p.add_argument("--port", type=int, default=6443, help="default: %(default)s")
    p.add_argument("-v", "--verbose", action="store_true", help="log every request")


def is_loopback(address: str) -> bool:
    if address == "localhost":
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


async def _serve(
    args: argparse.Namespace, data_dir: pathlib.Path, datastore: str, sock: socket.socket
) -> int:
    try:
        store = await open_store(datastore)
    except (StoreError, OSError, ValueError) as e:
        return _fail(f"cannot open the datastore {datastore}: {e}")
    try:
        # Only now: a datastore that does not open leaves no data directory behind.
        await asyncio.to_thread(data_dir.mkdir, parents=True, exist_ok=True)
    except OSError as e:
        await store.close()
        return _fail(f"cannot create --data-dir {data_dir}: {e.strerror or e}")
    try:
        server = APIServer(store, access_log=args.verbose)
        serving = asyncio.create_task(server.run(args.bind_address, args.port, sock=sock))
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, serving.cancel)
        ready = asyncio.create_task(server.ready.wait())
        await asyncio.wait({serving, ready}, return_when=asyncio.FIRST_COMPLETED)
        if not ready.done():
            ready.cancel()
        if serving.done():
            serving.result()  # raises why it stopped (e.g. the port is taken)
            return 1
        host = "127.0.0.1" if args.bind_address == "localhost" else args.bind_address
        if ":" in host:
            host = f"[{host}]"
        path = write_kubeconfig(data_dir / "kubeconfig", f"http://{host}:{server.port}")
        log.info("admin kubeconfig: %s (datastore %s)", path, datastore)
        print(
            f"kybernetes API server on http://{host}:{server.port}; KUBECONFIG={path}", flush=True
        )
        try:
            await serving
        except asyncio.CancelledError:
            log.info("shutting down")
        return 0
    finally:
        await store.close()


def _run(args: argparse.Namespace) -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if not is_loopback(args.bind_address):
        print(
            f"kyb: refusing to serve on {args.bind_address}: without TLS and authentication "
            "the API server only listens on loopback (127.0.0.1, ::1 or localhost)",
            file=sys.stderr,
        )
        return 2
    if not 0 <= args.port <= 65535:
        return _fail(f"--port {args.port} is not a TCP port number (0-65535)", 2)
    data_dir = pathlib.Path(args.data_dir)
    if data_dir.exists() and not data_dir.is_dir():
        return _fail(f"--data-dir {data_dir} exists and is not a directory", 2)
    datastore = args.datastore or f"sqlite://{(data_dir / 'store.db').resolve()}"
    try:
        parse_store_url(datastore)
    except ValueError as e:
        return _fail(f"--datastore: {e}", 2)
    # Every check that can fail comes before anything is created: bind first, so a taken
    # port leaves no data directory or store behind.
    family = socket.AF_INET6 if ":" in args.bind_address else socket.AF_INET
    try:
        sock = socket.create_server((args.bind_address, args.port), family=family)
    except OSError as e:
        return _fail(f"cannot serve on {args.bind_address}:{args.port}: {e.strerror or e}")
    try:
        return run_async(_serve(args, data_dir, datastore, sock))
    finally:
        sock.close()


def _fail(message: str, code: int = 1) -> int:
    """One line on stderr, no traceback: what a user needs to fix their command."""
    print(f"kyb: {' '.join(message.split())}", file=sys.stderr)
    return code


COMMANDS = {
    "apiserver": (
        "Serve the Kubernetes API (plain HTTP on loopback) and write an admin kubeconfig.",
        lambda p: _add_args(p, data_dir_default=None),
        _run,
    ),
    "server": (
        "Run kybernetes (for now: the API server) with its data in --data-dir.",
        lambda p: _add_args(p, data_dir_default=".kyb"),
        _run,
    ),
}
