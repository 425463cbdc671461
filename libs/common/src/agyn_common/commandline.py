"""The command line every deployable shares: `agyn-<name> [command] [args...]`.

Parsed before the settings are read, so `--help` and a wrong command answer without any
settings in the environment.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Sequence


def parse_command(
    program: str, own_commands: Iterable[str], argv: Sequence[str] | None
) -> argparse.Namespace:
    """`command` (default `serve`) and `args`, everything after it, for the command's own parser."""
    own = list(own_commands)
    parser = argparse.ArgumentParser(
        prog=program,
        description="Settings come from the environment; a missing or bad one stops it at start "
        "with one line naming it.",
    )
    parser.add_argument(
        "command",
        nargs="?",
        default="serve",
        choices=["serve", "migrate", *own],
        help="serve: until SIGTERM or Ctrl-C (the default); migrate: apply the database "
        "migrations (if it has a database) and exit"
        + (f"; {', '.join(own)}: see `{program} <command> --help`" if own else ""),
    )
    parser.add_argument("args", nargs=argparse.REMAINDER, help="the command's own arguments")
    return parser.parse_args(argv)
