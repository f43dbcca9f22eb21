"""The ``kyb`` command: thin wiring of components, one sub-command each."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from kybernetes import __version__

#: Sub-command name -> (help, add-arguments, run). Filled by the modules below.
Command = tuple[str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]
COMMANDS: dict[str, Command] = {}


def _register_builtin() -> None:
    from kybernetes.cli import _apiserver_cmd, _controller_manager_cmd, _scheduler_cmd, _store_cmd

    COMMANDS.update(_store_cmd.COMMANDS)
    COMMANDS.update(_apiserver_cmd.COMMANDS)
    COMMANDS.update(_scheduler_cmd.COMMANDS)
    COMMANDS.update(_controller_manager_cmd.COMMANDS)


def build_parser() -> argparse.ArgumentParser:
    _register_builtin()
    parser = argparse.ArgumentParser(
        prog="kyb", description="kybernetes: the Kubernetes architecture, built in Python."
    )
    parser.add_argument("--version", action="version", version=f"kybernetes {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (help_text, add_args, run) in sorted(COMMANDS.items()):
        p = sub.add_parser(name, help=help_text, description=help_text)
        add_args(p)
        p.set_defaults(_run=run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    run = getattr(args, "_run", None)
    if run is None:
        parser.print_help()
        return 2
    return int(run(args))


if __name__ == "__main__":
    sys.exit(main())
