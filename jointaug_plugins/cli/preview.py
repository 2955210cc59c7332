"""``jointaug preview``: a PNG grid of positive pairs, independent row against joint row."""

from __future__ import annotations

import argparse


def add_parser(sub) -> argparse.ArgumentParser:
    parser = sub.add_parser("preview", help="grid of positive pairs: baseline row vs joint row (PNG)")
    parser.add_argument("images", nargs="*", help="image files or folders (default: scikit-learn's sample images)")
    parser.add_argument("--aug", choices=("crop", "blur", "color"), default="crop")
    parser.add_argument("--beta", type=float, default=0.0, help="β of the joint row (default 0)")
    parser.add_argument("--pairs", type=int, default=4, help="pairs per row (default 4)")
    parser.add_argument("--size", type=int, default=128, help="side of each shown view in pixels")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("-o", "--output", default="jointaug-preview.png", help="output PNG file")
    return parser


def run(args: argparse.Namespace) -> int:
    from ..tools.images import default_images, load_images
    from ..tools.preview import render_preview

    images = load_images(args.images) if args.images else default_images()
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
