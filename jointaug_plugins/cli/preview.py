"""``jointaug preview``: a PNG grid of positive pairs, independent row against joint row; with ``--position``,
where crops land under that placement next to the default one."""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """Add ``preview`` to ``sub`` (the ``add_subparsers`` action of ``jointaug``'s parser) and return its parser."""
    parser = sub.add_parser("preview", help="grid of positive pairs: baseline row vs joint row (PNG)")
    parser.add_argument("images", nargs="*", help="image files or folders (default: scikit-learn's sample images)")
    parser.add_argument("--aug", choices=("crop", "blur", "color"), default="crop")
    parser.add_argument("--beta", type=float, default=0.0, help="β of the joint row (default 0)")
    parser.add_argument("--pairs", type=int, default=4, help="pairs per row, or outlined per panel (default 4)")
    parser.add_argument("--size", type=int, default=128, help="side of each shown view in pixels")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("-o", "--output", default="jointaug-preview.png", help="output PNG file")
    parser.add_argument(
        "--position",
        metavar="SPEC",
        help="show where crops land under this placement vs the default: alpha=0.6[,box=h0:w0:h1:w1]"
        "[,correlation=0.5], or a JSON dict; the crops' areas are JointCrop(--beta)",
    )
    parser.add_argument(
        "--n", type=int, default=None, help="with --position: pairs drawn for the heat map of centres (default 2000)"
    )
    return parser


def run(args: argparse.Namespace) -> int:
    """Render the preview PNG (or, with ``--position``, the placement view) and print its path; 0."""
    from ..tools.images import default_images, load_images
    from ..tools.preview import position_from_text, render_placement, render_preview

    if args.position is None and args.n is not None:
        raise ValueError("--n applies only with --position (the heat map's pairs)")
    if args.position is not None:
        # Parsed before the images load, so a mistyped key fails at once.
        position = position_from_text(args.position)
        if args.aug != "crop":
            raise ValueError(f"--position places crops: use it with --aug crop, not --aug {args.aug}")
    images = load_images(args.images) if args.images else default_images()
    if args.position is not None:
        path = render_placement(
            images,
            position,
            beta=args.beta,
            pairs_per_image=args.pairs,
            n=2000 if args.n is None else args.n,
            seed=args.seed,
            path=args.output,
        )
    else:
        path = render_preview(
            images,
            aug=args.aug,
            beta=args.beta,
            pairs_per_image=args.pairs,
            size=args.size,
            seed=args.seed,
            path=args.output,
        )
    print(path)
    return 0
