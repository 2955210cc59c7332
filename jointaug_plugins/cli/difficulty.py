"""``jointaug difficulty``: mean cosine similarity of positive pairs (SDF), independent vs JointCrop(β)."""

from __future__ import annotations

import argparse
import json

from ..tools.difficulty import DEFAULT_BETAS, DEFAULT_ENCODER
from ..tools.encoders import TRAIN_STEPS


def add_parser(sub) -> argparse.ArgumentParser:
    parser = sub.add_parser(
        "difficulty",
        help="pair difficulty: mean cosine similarity of positive pairs under an encoder, independent vs joint crops",
        description=(
            "Mean cosine similarity (the paper's SDF) of positive pairs made by one view recipe (crop 0.08-1.0 + "
            "flip) with independent crops and with JointCrop(β) for each β. Without --encoder PATH a ResNet is "
            "trained here with SimCLR on the images (about a minute on 2 CPU cores)."
        ),
    )
    parser.add_argument("--images", metavar="DIR", nargs="+", help="image files or folders (default: scikit-learn's)")
    parser.add_argument(
        "--encoder",
        default=DEFAULT_ENCODER,
        help="torchvision:resnet18|resnet34|resnet50 (trained here with SimCLR) or a ResNet checkpoint path "
        f"(a torchvision state_dict; see docs/measuring.md). Default {DEFAULT_ENCODER}",
    )
    parser.add_argument("--betas", type=float, nargs="+", default=list(DEFAULT_BETAS), help="β values (2 1 0 -1 -2)")
    parser.add_argument("--pairs", type=int, default=256, help="pairs per image and condition (default 256)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the encoder training and of the draws")
    parser.add_argument(
        "--size",
        type=int,
        default=None,
        help="view size in px (default 64 for a trained encoder, 224 for a checkpoint)",
    )
    parser.add_argument(
        "--train-steps",
        type=int,
        default=TRAIN_STEPS,
        help=f"SimCLR steps of a trained encoder (default {TRAIN_STEPS})",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch CPU threads (default: torch's choice); 1 avoids OpenMP spin contention on a busy machine",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--plot", metavar="FILE", help="write the SDF against β as a PNG")
    return parser


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from ..tools.difficulty import measure_difficulty, plot_difficulty
    from ..tools.images import load_images

    if args.threads is not None:
        import torch

        if args.threads < 1:
            raise ValueError(f"--threads must be an int >= 1, got {args.threads}")
        torch.set_num_threads(args.threads)
    images = load_images(args.images) if args.images else None
    result = measure_difficulty(
        images=images,
        encoder=args.encoder,
        betas=args.betas,
        pairs_per_image=args.pairs,
        seed=args.seed,
        size=args.size,
        train_steps=args.train_steps,
        progress=tqdm,
    )
    if args.plot:
        result["plot"] = str(plot_difficulty(result, args.plot))
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"encoder: {result['encoder']}")
    print(f"{result['images']} images x {result['pairs_per_image']} pairs per condition, {result['view']}")
    print(f"{'condition':<14} {'SDF':>8} {'± s.e.':>8} {'P(s2/s1>2)':>11}")
    rows = [
        (
            "independent",
            result["independent"],
            result["stderr"]["independent"],
            result["p_area_ratio_gt_2"]["independent"],
        )
    ]
    rows += [
        (f"β={k}", v, result["stderr"]["beta"][k], result["p_area_ratio_gt_2"]["beta"][k])
        for k, v in result["beta"].items()
    ]
    for name, value, err, p in rows:
        print(f"{name:<14} {value:>8.4f} {err:>8.4f} {p:>11.3f}")
    order = result["ordering"]
    print(
        f"SDF falls as β falls: {order['sdf_falls_as_beta_falls']}; "
        f"every β below independent: {order['every_beta_below_independent']}; {result['seconds']} s"
    )
    if args.plot:
        print(f"plot: {args.plot}")
    return 0
