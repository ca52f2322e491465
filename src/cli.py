"""Command-line entry point: ``python -m src.cli <command> ...``.

Each area of the product owns one module under ``src/commands/`` that exposes
``register(subparsers) -> None``; the module adds its sub-commands and sets ``func`` on each
parser (``func(args) -> int`` returns the process exit code). This keeps the CLI stable for
automation while letting every capability evolve in its own file.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

#: command modules in the order they appear in ``--help``; missing ones are skipped.
COMMAND_MODULES = (
    "src.commands.data",
    "src.commands.users",
    "src.commands.forecast",
    "src.commands.staffing",
    "src.commands.people",
    "src.commands.overtime",
    "src.commands.jobs",
)


def build_parser() -> argparse.ArgumentParser:
    """Build the top-level parser with every available command module registered."""
    parser = argparse.ArgumentParser(prog="python -m src.cli", description="Workforce Planner command line")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
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
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
