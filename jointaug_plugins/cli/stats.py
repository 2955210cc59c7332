"""``jointaug stats``: Monte Carlo of the parameter ratio of positive pairs, against closed forms."""

from __future__ import annotations

import argparse
import json


def add_parser(sub) -> argparse.ArgumentParser:
    parser = sub.add_parser("stats", help="ratio statistics of positive pairs: independent vs joint")
    parser.add_argument("--aug", choices=("crop", "blur", "color"), default="crop")
    parser.add_argument("--beta", type=float, default=0.0, help="β of the joint draws (default 0)")
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
    parser.add_argument("--margin", type=float, default=0.1)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--plot", metavar="FILE", help="write the densities of r as a PNG")
    parser.add_argument(
        "--distance",
        action="store_true",
        help="crop only: distance between the two crop centres for the baseline and β = 2..-2",
    )
    return parser


def _distances(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from ..tools.stats import distance_stats, plot_center_distances

    if args.aug != "crop":
        raise ValueError("--distance is defined for --aug crop only")
    scale = tuple(args.scale) if args.scale else (0.08, 1.0)
    result, values = distance_stats(n=args.n, seed=args.seed, scale=scale, progress=tqdm)
    if args.plot:
        result["plot"] = str(plot_center_distances(values, args.plot, scale))
    if args.json:
        print(json.dumps(result))
        return 0
    keys = ("mean", "median", "q10", "q25", "q75", "q90")
    print(f"crop-centre distance / image diagonal, scale {scale[0]:g}-{scale[1]:g}, n = {args.n}")
    print(f"{'draws':<12} " + " ".join(f"{k:>7}" for k in keys))
    for label, summary in [("independent", result["independent"]), *result["beta"].items()]:
        name = label if label == "independent" else f"β={label}"
        print(f"{name:<12} " + " ".join(f"{summary[k]:>7.3f}" for k in keys))
    if args.plot:
        print(f"plot: {args.plot}")
    return 0


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from ..tools.stats import plot_ratio_density, ratio_stats

    if args.distance:
        return _distances(args)
    lo, hi = args.scale if args.scale else (None, None)
    with tqdm(total=2 if args.plot else 1, desc=f"{args.aug} ratios", leave=False) as bar:
        result = ratio_stats(aug=args.aug, beta=args.beta, lo=lo, hi=hi, n=args.n, seed=args.seed, margin=args.margin)
        bar.update()
        if args.plot:
            plot_ratio_density(
                aug=args.aug, beta=args.beta, lo=lo, hi=hi, n=args.n, seed=args.seed, path=args.plot, margin=args.margin
            )
            result["plot"] = args.plot
            bar.update()
    if args.json:
        print(json.dumps(result))
        return 0
    analytic = result["analytic"]
    print(f"{args.aug}: range {result['scale'][0]:g}–{result['scale'][1]:g}, β = {args.beta:g}, n = {args.n}")
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
