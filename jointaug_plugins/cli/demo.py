"""``jointaug demo``: previews and ratio densities for crop, blur and colour, and a summary table."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """Add ``demo`` to ``sub`` (the ``add_subparsers`` action of ``jointaug``'s parser) and return its parser."""
    parser = sub.add_parser("demo", help="previews + ratio densities for crop, blur and color into a folder")
    parser.add_argument("--out", default="jointaug-demo", help="output folder (default ./jointaug-demo)")
    parser.add_argument("--beta", type=float, default=0.0, help="β of the joint draws (default 0)")
    parser.add_argument("--n", type=int, default=100_000, help="Monte Carlo pairs per statistic")
    parser.add_argument("--seed", type=int, default=0)
    return parser


def run(args: argparse.Namespace) -> int:
    """Write previews and ratio densities for crop, blur and colour into ``--out`` and print a summary; 0."""
    from tqdm import tqdm

    from ..tools.images import default_images
    from ..tools.preview import AUGS, render_preview
    from ..tools.stats import plot_ratio_density, ratio_stats

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    images = default_images()
    rows, written = [], []
    with tqdm(total=3 * len(AUGS), desc="jointaug demo", unit="step") as bar:
        for aug in AUGS:
            written.append(
                render_preview(
                    images, aug=aug, beta=args.beta, pairs_per_image=6, seed=args.seed, path=out / f"{aug}_pairs.png"
                )
            )
            bar.update()
            written.append(
                plot_ratio_density(
                    aug=aug, beta=args.beta, n=args.n, seed=args.seed, path=out / f"{aug}_ratio_density.png"
                )
            )
            bar.update()
            rows.append(ratio_stats(aug=aug, beta=args.beta, n=args.n, seed=args.seed))
            bar.update()
    print(f"\nJointAugmentation demo (β = {args.beta:g}, {args.n} Monte Carlo pairs each)\n")
    header = (
        f"{'aug':<6} {'range':<13} {'P(r>2) indep.':>14} {'(analytic)':>10} {'P(r>2) joint':>13} {'(analytic)':>10}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        lo, hi = row["scale"]
        analytic = row["analytic"]
        joint_exact = analytic.get("joint_p_ratio_gt_2")
        print(
            f"{row['aug']:<6} {f'{lo:g}-{hi:g}':<13} {row['independent']['p_ratio_gt_2']:>14.4f} "
            f"{analytic['independent_p_ratio_gt_2']:>10.4f} {row['joint']['p_ratio_gt_2']:>13.4f} "
            f"{'n/a' if joint_exact is None else f'{joint_exact:.4f}':>10}"
        )
    print("\nr = p2/p1, the ratio of the two views' parameter (crop area, blur sigma, brightness factor).")
    print("Files:")
    for path in written:
        print(f"  {path}")
    return 0
