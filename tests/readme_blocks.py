"""The code blocks of README.md and of every page of the documentation site (``docs/pages/**/*.md``), each with
the marker that says how the test suite runs it.

Every fenced block is preceded by an HTML comment ``<!-- readme-test: KIND [ARGS] -->``
(invisible on GitHub). The tests select blocks by kind and run their text verbatim:

* ``python [continues] [needs=NAME,...]``: executed; ``continues`` runs it in the namespace of the
  previous python block, ``needs`` names variables the test provides (``image``: a PIL image).
* ``mm-config LIBRARY [schedule]``: pasted at the end of configs based on the library's shipped configs (the
  ``schedule`` one sets a β schedule and reproducible draws).
* ``solo-defaults``: the ``defaults:`` list of a solo-learn YAML, with the switch line; ``solo-body [schedule]``:
  lines written in the body of such a YAML.
* ``shell``: commands run in the repository root.
* ``skip REASON``: not run here, with the reason (install steps that ``make`` itself performs).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
PAGES = ROOT / "docs" / "pages"
_FENCE = re.compile(r"^```(\w*)\n(.*?)^```\s*$", re.M | re.S)
_MARKER = re.compile(r"<!-- readme-test: ([\w-]+)([^>]*?)\s*-->\s*$")


@dataclass(frozen=True)
class Block:
    kind: str
    args: tuple[str, ...]
    lang: str
    text: str
    line: int

    path: Path = README

    @property
    def name(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}:{self.kind}"


def documents() -> list[Path]:
    """README.md and the documentation pages (the generated ones are written at build time and hold no code)."""
    return [README, *sorted(p for p in PAGES.rglob("*.md") if "generated" not in p.relative_to(PAGES).parts)]


def page(name: str) -> str:
    """The text of one documentation page, e.g. ``page("libraries/mmselfsup")``."""
    return (PAGES / f"{name}.md").read_text()


def blocks(path: Path | None = None) -> list[Block]:
    """All fenced blocks of ``path`` (default: of every document); a block without a marker right above it gets
    kind ``unmarked``."""
    if path is None:
        return [block for document in documents() for block in blocks(document)]
    source = path.read_text()
    found = []
    for match in _FENCE.finditer(source):
        before = source[: match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        marker = _MARKER.search(before)
        kind, args = (marker.group(1), tuple(marker.group(2).split())) if marker else ("unmarked", ())
        line = source.count("\n", 0, match.start()) + 1
        found.append(Block(kind, args, match.group(1), match.group(2), line, path))
    return found


def of_kind(kind: str, *args: str, exact: bool = False) -> list[Block]:
    """The blocks of one kind whose arguments start with ``args`` (are ``args``, with ``exact``)."""
    return [b for b in blocks() if b.kind == kind and (b.args == args if exact else b.args[: len(args)] == args)]
