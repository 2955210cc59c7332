"""``jointaug --help`` and ``jointaug COMMAND --help`` print plain text: descriptions taken from reStructuredText
docstrings lose their markup (double backticks, ``:func:``-style roles), through the installed console script and
``python -m jointaug_plugins.cli``."""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from jointaug_plugins.cli import COMMANDS
from jointaug_plugins.cli._text import plain, plain_parser

ROLE = re.compile(r":[a-z]+(:[a-z]+)?:`")


def _script() -> list[str] | None:
    """The installed ``jointaug`` console script: beside this interpreter (a venv), else on PATH."""
    beside = Path(sys.executable).with_name("jointaug")
    found = str(beside) if beside.is_file() else shutil.which("jointaug")
    return None if found is None else [found]


ENTRY_POINTS = {"script": _script(), "module": [sys.executable, "-m", "jointaug_plugins.cli"]}


def _assert_plain(text: str) -> None:
    assert "``" not in text, text
    assert ROLE.search(text) is None, ROLE.search(text)
    assert "`" not in text, [line for line in text.splitlines() if "`" in line]


def _help(entry: str, command: str | None) -> str:
    argv = ENTRY_POINTS[entry]
    if argv is None:
        pytest.skip("the jointaug console script is not installed (pip install -e .)")
    args = [*argv, *([command] if command else []), "--help"]
    done = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


# Every sub-command and the top level through the console script; verify (its description is a docstring) also
# through `python -m`. Each call starts Python and imports torch (~3 s), so not every pair of the two.
CASES = [("script", c) for c in COMMANDS] + [("script", None), ("module", "verify")]


@pytest.mark.parametrize(("entry", "command"), CASES)
def test_help_is_plain_text_and_names_the_command(entry, command):
    out = _help(entry, command)
    _assert_plain(out)
    usage = out.splitlines()[0]
    assert usage.startswith(f"usage: jointaug {command}" if command else "usage: jointaug "), usage
    if command is None:
        assert all(name in out for name in COMMANDS)  # the sub-command list, each with its one-line help
    if command == "verify":
        assert "module:attr" in out and "mmselfsup::selfsup/...py" in out  # what the markup used to wrap


def test_plain_turns_inline_markup_into_text():
    assert plain("a ``module:attr`` target") == "a module:attr target"
    assert plain("see :func:`~jointaug_plugins.tools.verify.verify` and :class:`JointViews`") == (
        "see verify and JointViews"
    )
    assert plain(":py:meth:`the run <Runner.train>`, :mod:`jointaug_plugins.tools`") == (
        "the run, jointaug_plugins.tools"
    )
    assert (
        plain("`the docs <https://example.org/x>`_ and `interpreted`")
        == "the docs (https://example.org/x) and interpreted"
    )
    assert plain("**strong** * bullet, 2 * 3") == "strong * bullet, 2 * 3"  # single stars (bullets, products) stay
    assert plain("text\n\n.. note::\n   indented") == "text\n\nNote: \n   indented"
    assert plain("it's ``a``\n  ``b``") == "it's a\n  b"  # line breaks and indentation are kept
    assert plain(None) is None


def test_plain_parser_reaches_every_help_text():
    parser = argparse.ArgumentParser(prog="tool", description="The ``tool``.", epilog=":func:`run` it.")
    sub = parser.add_subparsers()
    child = sub.add_parser("go", help="run :class:`Go`", description="``go`` twice", epilog="see ``more``")
    group = child.add_argument_group("knobs", "the ``knob`` group")
    group.add_argument("--knob", help="a ``knob`` (:data:`KNOB`)")
    plain_parser(parser)
    for text in (parser.format_help(), child.format_help()):
        _assert_plain(text)
    assert "run Go" in parser.format_help()
    assert "go twice" in child.format_help() and "the knob group" in child.format_help()
    assert "a knob (KNOB)" in child.format_help() and "see more" in child.format_help()
