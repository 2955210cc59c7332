"""``jointaug stats``: Monte Carlo of the parameter ratio of positive pairs, against closed forms; ``--distance``:
the crop-centre distance under the ``position`` option's distance knob."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

# Flags of one mode only: left unset (argparse.SUPPRESS) unless given, so the other mode can refuse them
# instead of ignoring them.
_RATIO_ONLY = {"beta": 0.0, "margin": 0.1}
_DISTANCE_ONLY = ("correlations", "size", "alpha", "box", "crop_beta")


def _crop_beta(text: str) -> float | None:
    if text.strip().lower() == "none":
        return None
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"takes JointCrop's β (a number) or 'none', got {text!r}") from None


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """Add ``stats`` to ``sub`` (the ``add_subparsers`` action of ``jointaug``'s parser) and return its parser."""
    parser = sub.add_parser("stats", help="ratio statistics of positive pairs: independent vs joint")
    parser.add_argument("--aug", choices=("crop", "blur", "color"), default="crop")
    parser.add_argument("--beta", type=float, default=argparse.SUPPRESS, help="β of the joint draws (default 0)")
    parser.add_argument(
        "--scale",
        type=float,
        nargs=2,
        metavar=("LO", "HI"),
        default=None,
        help="parameter range (crop default 0.08 1.0, blur 0.1 2.0, color 0.2 1.8)",
    )
    parser.add_argument("--n", type=int, default=200_000, help="pairs drawn for each (default 200000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--margin", type=float, default=argparse.SUPPRESS, help="JC(β)'s margin (default 0.1)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--plot", metavar="FILE", help="write the densities as a PNG")
    distance = parser.add_argument_group(
        "--distance", "crop-centre distance under position=dict(correlation=ρ), the distance knob, vs position=None"
    )
    distance.add_argument("--distance", action="store_true", help="measure the centre distance (crop only)")
    distance.add_argument(
        "--correlations",
        type=float,
        nargs="+",
        metavar="RHO",
        default=argparse.SUPPRESS,
        help="the knob's values, in [-1, 1] (default -1 -0.5 0 0.5 1)",
    )
    distance.add_argument(
        "--size", type=int, nargs=2, metavar=("H", "W"), default=argparse.SUPPRESS, help="image size (default 375 500)"
    )
    distance.add_argument(
        "--alpha", type=float, default=argparse.SUPPRESS, help="ContrastiveCrop's Beta(α, α) placement (default 1)"
    )
    distance.add_argument(
        "--box",
        type=float,
        nargs=4,
        metavar=("H0", "W0", "H1", "W1"),
        default=argparse.SUPPRESS,
        help="a fixed box in [0, 1] the crops land in (default the whole image)",
    )
    distance.add_argument(
        "--crop-beta",
        type=_crop_beta,
        default=argparse.SUPPRESS,
        help="JointCrop's β of the two areas, or 'none' for independent areas (default 0)",
    )
    return parser


def _distances(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from ..tools.distance import DEFAULT_CORRELATIONS, correlation_sweep, plot_correlation_sweep, report_lines
    from ..tools.stats import STATS_IMAGE

    if args.aug != "crop":
        raise ValueError("--distance is defined for --aug crop only")
    given = [f"--{name}" for name in _RATIO_ONLY if name in vars(args)]
    if given:
        verb = "does" if len(given) == 1 else "do"
        raise ValueError(f"{', '.join(given)} {verb} not apply to --distance (JointCrop's β there is --crop-beta)")
    summary, values = correlation_sweep(
        getattr(args, "correlations", DEFAULT_CORRELATIONS),
        size=getattr(args, "size", STATS_IMAGE),
        n=args.n,
        alpha=getattr(args, "alpha", 1.0),
        box=getattr(args, "box", None),
        crop_beta=getattr(args, "crop_beta", 0.0),
        scale=tuple(args.scale) if args.scale else (0.08, 1.0),
        seed=args.seed,
        progress=tqdm,
    )
    if args.plot:
        summary["plot"] = str(plot_correlation_sweep(summary, values, args.plot))
    # Warnings go to stderr, so --json's stdout stays one JSON document.
    for warning in summary["warnings"]:
        print(f"WARNING: {warning}", file=sys.stderr)
    if args.json:
        print(json.dumps(summary))
        return 0
    print("\n".join(report_lines(summary)))
    if args.plot:
        print(f"plot: {args.plot}")
    return 0


def run(args: argparse.Namespace) -> int:
    """Print the ratio statistics (or, with ``--distance``, the centre distances) as a table or JSON; 0."""
    from tqdm import tqdm

    from ..tools.stats import plot_ratio_density, ratio_stats

    if args.distance:
        return _distances(args)
    given = [f"--{name.replace('_', '-')}" for name in _DISTANCE_ONLY if name in vars(args)]
    if given:
        verb = "applies" if len(given) == 1 else "apply"
        raise ValueError(f"{', '.join(given)} {verb} only with --distance")
    beta, margin = (getattr(args, name, default) for name, default in _RATIO_ONLY.items())
    lo, hi = args.scale if args.scale else (None, None)
    with tqdm(total=2 if args.plot else 1, desc=f"{args.aug} ratios", leave=False) as bar:
        result = ratio_stats(aug=args.aug, beta=beta, lo=lo, hi=hi, n=args.n, seed=args.seed, margin=margin)
        bar.update()
        if args.plot:
            plot_ratio_density(
                aug=args.aug, beta=beta, lo=lo, hi=hi, n=args.n, seed=args.seed, path=args.plot, margin=margin
            )
            result["plot"] = args.plot
            bar.update()
    if args.json:
        print(json.dumps(result))
        return 0
    analytic = result["analytic"]
    print(f"{args.aug}: range {result['scale'][0]:g}–{result['scale'][1]:g}, β = {beta:g}, n = {args.n}")
    print(f"{'':<12} {'P(r>2) MC':>10} {'closed form':>12} {'mean |ln r|':>12}")
    print(
        f"{'independent':<12} {result['independent']['p_ratio_gt_2']:>10.4f} "
        f"{analytic['independent_p_ratio_gt_2']:>12.4f} {result['independent']['mean_abs_log_ratio']:>12.4f}"
    )
    print(
        f"{'joint':<12} {result['joint']['p_ratio_gt_2']:>10.4f} "
        f"{analytic['joint_p_ratio_gt_2']:>12.4f} {result['joint']['mean_abs_log_ratio']:>12.4f}"
    )
    if args.plot:
        print(f"plot: {args.plot}")
    return 0
