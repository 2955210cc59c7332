"""The ``jointaug`` command. Each sub-command is a module here with ``add_parser`` and ``run``."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from ._text import plain_parser

# Sub-command modules, in the order `jointaug --help` lists them.
COMMANDS = ("demo", "preview", "stats", "difficulty", "bench", "verify")

# The `tools` extra: import name -> distribution. The core needs none of them; the commands do.
TOOL_MODULES = {
    "scipy": "scipy", "matplotlib": "matplotlib", "tqdm": "tqdm", "sklearn": "scikit-learn", "skimage": "scikit-image",
}  # fmt: skip
TOOLS_INSTALL = "pip install 'jointaug-plugins[tools]'"


def missing_tool(err: BaseException | None) -> str | None:
    """The distribution of the `tools` extra whose import failed in ``err`` or its causes, else ``None``."""
    while err is not None:
        if isinstance(err, ImportError):
            top = (err.name or "").partition(".")[0]
            if top in TOOL_MODULES:
                return TOOL_MODULES[top]
        err = err.__cause__
    return None


def build_parser() -> argparse.ArgumentParser:
    """The ``jointaug`` parser with every sub-command of :data:`COMMANDS`; all help text is plain (no RST markup)."""
    parser = argparse.ArgumentParser(
        prog="jointaug",
        description="JointAugmentation (JointCrop / JointBlur / JointColor): previews, statistics and tools.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        module = importlib.import_module(f"{__name__}.{name}")
        command = module.add_parser(sub)
        command.set_defaults(_run=module.run)
    # Sub-commands take their descriptions from docstrings (reStructuredText); a terminal wants plain text.
    return plain_parser(parser)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``jointaug ARGV`` (default ``sys.argv[1:]``); the exit code: the command's, or 2 on a usage error."""
    args = build_parser().parse_args(argv)
    try:
        return int(args._run(args) or 0)
    except (ValueError, TypeError) as err:
        print(f"jointaug {args.command}: error: {err}", file=sys.stderr)
        return 2
    except ImportError as err:
        tool = missing_tool(err)
        if tool is None:
            raise
        print(
            f"jointaug {args.command}: error: {tool} is not installed; the jointaug commands need the tools "
            f"extra: {TOOLS_INSTALL}",
            file=sys.stderr,
        )
        return 2
