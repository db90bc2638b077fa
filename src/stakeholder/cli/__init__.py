"""The `stakeholder` command line.

Each sub-command lives in its own module `stakeholder.cli.cmd_<name>` exposing
`register(subparsers)`; this module discovers them, so adding a command touches no
shared file. Exit codes: 0 success, 1 the job ran but found problems it was asked to
fail on, 2 unusable input (a file that cannot be read, bad options).
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
from collections.abc import Sequence

from stakeholder import __version__

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stakeholder",
        description="Which customer account an email domain, contact, email or meeting "
        "belongs to, and why.",
    )
    parser.add_argument("--version", action="version", version=f"stakeholder {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("cmd_"):
            module = importlib.import_module(f"{__name__}.{info.name}")
            module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        result: int = args.func(args)
    except BrokenPipeError:
        # the reader went away (`stakeholder ... | head`): stop quietly, as Unix tools do
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    return result


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
