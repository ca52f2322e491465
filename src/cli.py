"""Command-line entry point: ``python -m src.cli <command> ...``.

Each area of the product owns one module under ``src/commands/`` that exposes
``register(subparsers) -> None``; the module adds its sub-commands and sets ``func`` on each
parser (``func(args) -> int`` returns the process exit code). This keeps the CLI stable for
automation while letting every capability evolve in its own file.
"""

from __future__ import annotations

import argparse
import logging
import sys

from sqlalchemy.exc import SQLAlchemyError

from src.commands import data, forecast, jobs, overtime, people, staffing, users
from src.settings import ConfigError

log = logging.getLogger(__name__)

#: command modules in the order they appear in ``--help`` — imported explicitly, so a renamed or broken module
#: fails loudly instead of silently losing its commands
COMMAND_MODULES = (data, users, forecast, staffing, people, overtime, jobs)


def build_parser() -> argparse.ArgumentParser:
    """Build the top-level parser with every command module registered."""
    parser = argparse.ArgumentParser(prog="python -m src.cli", description="Workforce Planner command line")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` and run the chosen command; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except ConfigError as exc:  # one line on what to change; the traceback only with -v
        log.info("configuration error", exc_info=True)
        print(f"Configuration error: {exc} The settings are described in config.example.env.", file=sys.stderr)
        return 2
    except SQLAlchemyError as exc:  # the message can hold host names and SQL: details only with -v
        log.info("database error", exc_info=True)
        print(f"Database error ({type(exc).__name__}): check DATABASE_URL and that the database server is running "
              "(unset DATABASE_URL to use the built-in SQLite file). Run with -v for details.", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
