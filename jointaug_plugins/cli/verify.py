"""``jointaug verify``: are a training setup's views really joint? Measured on the pipeline's own output.

Targets:

* ``module:attr`` or ``path/to/file.py:attr``, naming a multi-view transform (lightly's, ``JointViews``, a list
  of torchvision pipelines, any image -> list of views), or a class / no-argument function returning one;
* an mmselfsup / mmpretrain config file (``*.py``, or ``mmselfsup::selfsup/...py``), built as the Runner
  builds its train pipeline;
* a solo-learn YAML: ``--config-path DIR --config-name NAME [overrides...]`` as for ``main_pretrain.py``
  (or the YAML's path as TARGET), composed by hydra.

How: the views are made from a gray image of two sinusoids per axis, so each view shows how many cycles of
the image its crop covered; that gives the crop's width and height as fractions of the image (within 1 %
at 96-224 px whatever the colour, flip, blur, solarize or normalisation; within ~10 % at 32 px under a
sigma-2 blur). Per checked pair (the joint coordinator's pairs, else (0, 1), (2, 3) ..., for multi-crop
the global pair) it reports the measured P(s2/s1 > 2) of the crop areas with its standard error, the
JC(β) value for the pair's scale range (β = 0 where the pipeline is not joint) and the independent value
(Monte Carlo of torchvision's sampler), and the verdict: the closer of the two. The default number of
images (>= 800) puts the two values >= 8 standard errors apart (about 19 at scale 0.08-1.0), so a
measurement lies >= 4 standard errors from the midpoint. Views that do not show the probe (rotated, sheared,
shifted or erased by e.g. RandAugment or RandomErasing) are left out; a verdict needs enough readable pairs
that, under either value, the measurement's 3-standard-error interval stays on its side of the midpoint (about 90
pairs at scale 0.08-1.0), and the report says on how many pairs it was measured. Blur and colour cannot be
read back reliably: where the pipeline draws them jointly they are listed as "not measured" with what the
config asks for, and the kinds it does not draw jointly are named in one line ("blur, color: off in this
pipeline"). Each note is printed once, numbered; the rows it concerns carry its number. --json prints every
entry.

Exit code 0 whatever the verdict (verify reports, it does not judge); 2 when the target cannot be built.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """Add ``verify`` to ``sub`` (the ``add_subparsers`` action of ``jointaug``'s parser) and return its parser."""
    parser = sub.add_parser(
        "verify",
        help="measure whether a training setup's views are joint (runs its own pipeline on a coordinate image)",
        description=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "target",
        nargs="*",
        metavar="TARGET [OVERRIDES]",
        help="module:attr, file.py:attr, an mm config .py, or a solo YAML; then hydra overrides (key=value)",
    )
    parser.add_argument("--config-path", "-cp", help="solo-learn / hydra: the folder of the YAML")
    parser.add_argument("--config-name", "-cn", help="solo-learn / hydra: the YAML's name (with or without .yaml)")
    parser.add_argument("--n", type=int, default=None, help="images (pairs) to run; default >= 800, enough to tell")
    parser.add_argument("--seed", type=int, default=0, help="seed of Python's, numpy's and torch's generators")
    parser.add_argument(
        "--workers",
        type=int,
        default=2,
        help="processes running the pipeline, as DataLoader workers (default 2; 0: none)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    return parser


def split_target(args: argparse.Namespace) -> tuple[str, list[str]]:
    """``(target, rest)``: the first positional (``""`` with ``--config-name`` or none) and the hook's args."""
    positional = list(args.target)
    hydra: list[str] = []
    if args.config_path is not None:
        hydra += ["--config-path", args.config_path]
    if args.config_name is not None:
        hydra += ["--config-name", args.config_name]
    if args.config_name is not None or not positional:
        return "", hydra + positional
    return positional[0], hydra + positional[1:]


def print_table(report: dict[str, Any]) -> None:
    """Print the report for people (:func:`jointaug_plugins.tools.verify_report.report_lines`)."""
    from ..tools.verify_report import report_lines

    print("\n".join(report_lines(report)))


def run(args: argparse.Namespace) -> int:
    """Build the target, measure it and print the report; 0 whatever the verdict, 2 when it cannot be built."""
    from tqdm import tqdm

    from ..tools.verify import VerifyTargetError, resolve_target, verify
    from ..tools.verify_stats import seed_everything

    target, rest = split_target(args)
    if args.n is not None and args.n < 1:
        raise ValueError(f"--n must be >= 1, got {args.n}")
    if not target and args.config_name is None:
        raise ValueError("give a TARGET (module:attr, an mm config .py, a solo YAML) or --config-name")
    seed_everything(args.seed)  # transforms built from torch's generator (JointViews without a seed) reproduce
    if args.workers < 0:
        raise ValueError(f"--workers must be >= 0, got {args.workers}")
    progress = lambda it, **kw: tqdm(it, file=sys.stderr, **kw)  # noqa: E731
    try:
        built = resolve_target(target, rest)
        report = verify(built, n=args.n, seed=args.seed, progress=progress, workers=args.workers)
    except VerifyTargetError as err:
        print(f"jointaug verify: error: {err}", file=sys.stderr)
        for cause in _causes(err):  # e.g. mmengine's "Failed to import custom modules" hides "No module named 'mmcv'"
            print(f"caused by: {type(cause).__name__}: {cause}", file=sys.stderr)
        if err.hint:
            print(f"hint: {err.hint}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report))
    else:
        print_table(report)
    return 0


def _causes(err: BaseException, limit: int = 5) -> list[BaseException]:
    """The chain of exceptions behind ``err`` (``__cause__``, else ``__context__``), nearest first, each once."""
    chain: list[BaseException] = []
    seen = {id(err)}
    current = err.__cause__ or err.__context__
    while current is not None and id(current) not in seen and len(chain) < limit:
        seen.add(id(current))
        if str(current) not in str(err):  # the library's own message, already in ours, is not repeated
            chain.append(current)
        current = current.__cause__ or current.__context__
    return chain
