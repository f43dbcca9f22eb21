"""``kyb scheduler``: run the scheduler against a cluster.

Reads the kubeconfig and the optional ``--config`` (a KubeSchedulerConfiguration) and
builds every profile before connecting, so a malformed file, an unknown plugin or bad
plugin args stop it at once with a message and exit status 1. Then it watches the cluster
and, when elected leader (unless ``--leader-elect=false``), schedules. SIGTERM/SIGINT stop
it cleanly (releasing the Lease); losing the Lease exits with status 1, as upstream does.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import signal
import sys

from kybernetes.cli._loop import run_async
from kybernetes.client import KubeconfigError, LeadershipLost, RESTClient, load_kubeconfig
from kybernetes.scheduler import (
    ConfigError,
    Scheduler,
    SchedulerConfig,
    default_config,
    load_config,
)

log = logging.getLogger("kyb.scheduler")


def _bool(text: str) -> bool:
    value = text.strip().lower()
    if value in ("1", "t", "true", "yes", "on"):
        return True
    if value in ("0", "f", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def _add_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--kubeconfig", required=True, help="how to reach the API server")
    p.add_argument("--config", help="a KubeSchedulerConfiguration file (YAML)")
    p.add_argument(
        "--leader-elect",
        type=_bool,
        default=None,
        metavar="BOOL",
        help="campaign for the kube-system/kube-scheduler Lease before scheduling "
        "(default: true, or the config file's leaderElection.leaderElect)",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")


async def _serve(args: argparse.Namespace, config: SchedulerConfig) -> int:
    client = RESTClient(
        load_kubeconfig(args.kubeconfig),
        qps=config.qps or None,
        burst=config.burst,
        user_agent="kyb-scheduler",
    )
    try:
        scheduler = Scheduler(client, config, leader_elect=args.leader_elect)
        task = asyncio.create_task(scheduler.run())
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, task.cancel)
        try:
            await task
        except asyncio.CancelledError:
            log.info("shutting down")
        except LeadershipLost as e:
            print(f"kyb scheduler: {e}; exiting", file=sys.stderr)
            return 1
        return 0
    finally:
        await client.close()


def _run(args: argparse.Namespace) -> int:
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        config = load_config(args.config) if args.config else default_config()
        load_kubeconfig(args.kubeconfig)
        if args.leader_elect is not None:
            config = dataclasses.replace(
                config,
                leader_election=dataclasses.replace(
                    config.leader_election, leader_elect=args.leader_elect
                ),
            )
        # Build every profile now: bad plugin args or placements fail before connecting.
        Scheduler.check(config)
    except (ConfigError, KubeconfigError) as e:
        print(f"kyb scheduler: {e}", file=sys.stderr)
        return 1
    return run_async(_serve(args, config))


COMMANDS = {
    "scheduler": (
        "Run the scheduler: assign pending pods to nodes (leader-elected).",
        _add_args,
        _run,
    ),
}
