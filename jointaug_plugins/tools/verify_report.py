"""The text report of ``jointaug verify``: the JSON report (:func:`jointaug_plugins.tools.verify_stats.run`) as
lines for people.

Shown: the crop row of every checked pair (what verify measures, whether or not the crop is drawn jointly), and a
blur / colour row only where that kind is switched on (joint): such a row cannot be measured, so it says what the
config asks for. The kinds that are off are named once, in one line. Every note (why a pair was not measured, on
how many pairs it was measured, why blur cannot be read back ...) is printed once, numbered, and the rows it
concerns carry its number: a multi-crop config repeats neither the caveats nor their text per pair. The JSON
report keeps every entry (``--json``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["KINDS", "NOTE_KEYS", "kinds_off", "report_lines", "shown_entries"]

# The kinds a pipeline's pairs are reported for: crops are measured, the others are listed (verify_stats).
KINDS = ("crop", "blur", "color")
# The keys of a pair entry that hold a sentence for the reader, in the order they are numbered.
NOTE_KEYS = ("reason", "pairs_note", "fit_note", "note")
LEGEND = (
    "joint: JC(β) closed form (β=0 where the pipeline is not joint); independent: Monte Carlo of torchvision's "
    "sampler; verdict: the closer of the two, given enough readable pairs that under either value the "
    "measurement's 3-standard-error interval stays on its side of their midpoint (min_pairs, standard errors: "
    "--json)"
)


def _switched_on(report: Mapping[str, Any]) -> set[str]:
    """The kinds the pipeline draws jointly: the report's ``switched_on``, else the entries configured joint."""
    on = {entry["kind"] for entry in report.get("pairs", []) if entry.get("joint_configured")}
    return on | set(report.get("switched_on", []))


def shown_entries(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The pair entries the text shows: every crop entry, and the other kinds' entries where they are switched on."""
    return [entry for entry in report.get("pairs", []) if entry["kind"] == "crop" or entry.get("joint_configured")]


def kinds_off(report: Mapping[str, Any]) -> list[str]:
    """The kinds of :data:`KINDS` the pipeline does not draw jointly (absent, or drawn by each view on its own),
    in that order."""
    on = _switched_on(report)
    return [kind for kind in KINDS if kind not in on]


def _cells(entry: Mapping[str, Any], marks: Sequence[int]) -> list[str]:
    views = ",".join(str(v) for v in entry["views"])
    measured = "—" if entry["measured"] is None else f"{entry['measured']:.3f} ± {entry['stderr']:.3f}"
    joint = "—" if entry["expected_joint"] is None else f"{entry['expected_joint']:.3f}"
    if entry["expected_joint"] is not None and entry.get("beta") is not None:
        joint += f" (β={entry['beta']:g})"
    independent = "—" if entry["expected_independent"] is None else f"{entry['expected_independent']:.3f}"
    verdict = entry["verdict"]
    if entry["kind"] != "crop" and entry.get("joint_configured"):
        verdict += f" (configured joint, β={entry['beta']:g})"
    if marks:
        verdict += f" [{','.join(map(str, marks))}]"
    return [views, entry["kind"], measured, joint, independent, verdict]


def _numbered_notes(entries: Sequence[Mapping[str, Any]]) -> tuple[list[list[int]], list[tuple[str, str]]]:
    """``(marks per entry, notes)``: each distinct sentence once, numbered from 1 in order of first use, with the
    kind(s) whose rows refer to it; per entry, the numbers of its sentences."""
    numbers: dict[str, int] = {}
    kinds: dict[str, list[str]] = {}
    marks = []
    for entry in entries:
        own = []
        for key in NOTE_KEYS:
            text = entry.get(key)
            if not text:
                continue
            number = numbers.setdefault(text, len(numbers) + 1)
            kinds.setdefault(text, [])
            if entry["kind"] not in kinds[text]:
                kinds[text].append(entry["kind"])
            if number not in own:
                own.append(number)
        marks.append(own)
    return marks, [(", ".join(kinds[text]), text) for text in numbers]


def report_lines(report: Mapping[str, Any]) -> list[str]:
    """The report as lines of text (no trailing newlines); see the module docstring for what is shown."""
    sizes = ", ".join("x".join(str(d) for d in s) for s in report.get("view_sizes", []))
    probe = report.get("probe")
    lines = [f"jointaug verify: {report['target']} ({report['library']})"]
    head = f"  {report['views']} views ({sizes}); {report['n']} images, seed {report['seed']}"
    lines.append(head + (f"; probe image {probe['side']} px" if probe else ""))
    if report.get("coordinator"):
        lines.append(f"  joint coordinator found: {report['coordinator']}")
    entries = shown_entries(report)
    marks, notes = _numbered_notes(entries)
    rows = [["views", "kind", "P(s2/s1>2) ± se", "joint", "independent", "verdict"]]
    rows += [_cells(entry, own) for entry, own in zip(entries, marks)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    if entries:
        lines += ["  " + "  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
    off = kinds_off(report)
    if off and report.get("pairs"):
        crop = "; the crop rows are measured all the same" if "crop" in off else ""
        lines.append(f"  {', '.join(off)}: off in this pipeline (not drawn jointly{crop})")
    lines += [f"  [{number}] {kinds}: {text}" for number, (kinds, text) in enumerate(notes, start=1)]
    lines += [f"  note: {note}" for note in dict.fromkeys(report.get("notes", []))]
    if entries:
        lines.append(f"  {LEGEND}")
    return lines
