"""Plain text for ``--help``: the commands' descriptions come from docstrings written in reStructuredText, which a
terminal would show with its markup (double backticks, ``:func:`` roles)."""

from __future__ import annotations

import argparse
import re

# :func:`~pkg.mod.name` -> name (the tilde asks for the last component, as Sphinx shows it); :role:`text <target>`
# -> text; :role:`target` -> target.
_ROLE = re.compile(r":[A-Za-z][\w.+-]*(?::[A-Za-z][\w.+-]*)?:`(?P<body>[^`]+)`")
_LITERAL = re.compile(r"``(?P<body>.+?)``", re.DOTALL)
# `text <https://...>`_ (a named link) -> text (https://...); `text`_ and `text`__ -> text.
_LINK = re.compile(r"`(?P<text>[^`<]+?)\s*<(?P<url>[^`>]+)>`_{1,2}")
_REFERENCE = re.compile(r"`(?P<body>[^`]+)`_{1,2}")
_INTERPRETED = re.compile(r"(?<![\w`])`(?P<body>[^`\n]+)`(?![\w`])")
_STRONG = re.compile(r"\*\*(?P<body>[^*\n]+)\*\*")
_DIRECTIVE = re.compile(r"^(?P<indent>[ \t]*)\.\. (?P<name>[\w-]+)::[ \t]*", re.MULTILINE)


def _role(match: re.Match[str]) -> str:
    body = match["body"]
    if body.endswith(">") and " <" in body:  # an explicit title: :ref:`the title <target>`
        return body[: body.rindex(" <")]
    if body.startswith("~"):
        return body[1:].rsplit(".", 1)[-1]
    return body.lstrip("!")


def plain(text: str | None) -> str | None:
    """``text`` with reStructuredText's inline markup turned into plain text; ``None`` stays ``None``.

    Handled: inline literals (double backticks), roles such as ``:func:`` / ``:class:`` (with ``~`` and explicit
    titles), interpreted text and links in single backticks, ``**strong**``, and directive heads such as
    ``.. note::`` (shown as ``Note:``). Line breaks, indentation and list bullets are kept, so a description shown
    with ``RawDescriptionHelpFormatter`` keeps its layout.
    """
    if text is None:
        return None
    text = _ROLE.sub(_role, text)
    text = _LITERAL.sub(lambda m: m["body"], text)
    text = _LINK.sub(lambda m: f"{m['text']} ({m['url']})", text)
    text = _REFERENCE.sub(lambda m: m["body"], text)
    text = _INTERPRETED.sub(lambda m: m["body"], text)
    text = _STRONG.sub(lambda m: m["body"], text)
    text = _DIRECTIVE.sub(lambda m: f"{m['indent']}{m['name'].capitalize()}: ", text)
    return text


def plain_parser(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Make every help text of ``parser`` and of its sub-command parsers plain (:func:`plain`), in place.

    Covers the description, the epilog, each argument's and argument group's help, and the one-line help of each
    sub-command that ``jointaug --help`` lists. Returns ``parser``.
    """
    parser.description = plain(parser.description)
    parser.epilog = plain(parser.epilog)
    for group in parser._action_groups:  # argparse keeps groups (``add_argument_group``) only here
        group.description = plain(group.description)
    for action in parser._actions:
        if isinstance(action.help, str):
            action.help = plain(action.help)
        if isinstance(action, argparse._SubParsersAction):
            for choice in action._choices_actions:  # the sub-commands' one-line help
                choice.help = plain(choice.help)
            for sub in dict.fromkeys(action.choices.values()):  # aliases map to the same parser
                plain_parser(sub)
    return parser
