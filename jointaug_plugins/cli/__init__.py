"""The ``jointaug`` command. Each sub-command is a module here with ``add_parser`` and ``run``."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# Sub-command modules, in the order `jointaug --help` lists them.
COMMANDS = ("demo", "preview", "stats", "difficulty", "bench", "verify")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jointaug",
        description="JointAugmentation (JointCrop / JointBlur / JointColor): previews, statistics and tools.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        module = importlib.import_module(f"{__name__}.{name}")
        command = module.add_parser(sub)
        command.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args._run(args) or 0)
    except (ValueError, TypeError) as err:
        print(f"jointaug {args.command}: error: {err}", file=sys.stderr)
        return 2
