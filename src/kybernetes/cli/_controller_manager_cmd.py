"""``kyb controller-manager``: run the controllers against an API server.

Reads the cluster from ``--kubeconfig``, runs the controllers ``--controllers`` enables
(upstream's syntax: ``*``, ``name``, ``-name``), leader-elected on the Lease
``kube-system/kube-controller-manager`` unless ``--leader-elect=false``, and shuts down
cleanly on SIGTERM or SIGINT (releasing the Lease). Losing the Lease exits with status 1
so a supervisor restarts it with a fresh view.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys

from kybernetes.cli._loop import run_async
from kybernetes.client import LeadershipLost, RESTClient
from kybernetes.controllers import CONTROLLERS, ControllerManager, enabled_controllers

log = logging.getLogger("kyb.controller-manager")


def _bool(text: str) -> bool:
    if text.lower() in ("true", "1", "yes"):
        return True
    if text.lower() in ("false", "0", "no"):
        return False
    raise argparse.ArgumentTypeError(f"not a boolean: {text!r}")


def _add_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--kubeconfig", required=True, help="how to reach the API server")
    p.add_argument(
        "--controllers",
        default="*",
        help="comma-separated: '*' for the defaults, 'foo' to enable, '-foo' to disable "
        f"(known: {', '.join(sorted(CONTROLLERS))})",
    )
    p.add_argument("--leader-elect", type=_bool, default=True, help="default: %(default)s")
    p.add_argument("--concurrent-syncs", type=int, default=4, help="workers per controller")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")


async def _serve(args: argparse.Namespace) -> int:
    async with RESTClient.from_kubeconfig(args.kubeconfig) as client:
        manager = ControllerManager(
            client,
            controllers=args.controllers.split(","),
            workers=args.concurrent_syncs,
            leader_elect=args.leader_elect,
        )
        running = asyncio.create_task(manager.run())
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, running.cancel)
        try:
            await running
        except asyncio.CancelledError:
            log.info("shutting down")
        except LeadershipLost as e:
            log.error("%s; exiting", e)
            return 1
    return 0


def _run(args: argparse.Namespace) -> int:
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        enabled_controllers(args.controllers.split(","), CONTROLLERS)
    except ValueError as e:
        print(f"kyb: {e}", file=sys.stderr)
        return 2
    return run_async(_serve(args))


COMMANDS = {
    "controller-manager": (
        "Run the controllers (ReplicaSet, Deployment, garbage collector, ...).",
        _add_args,
        _run,
    ),
}
