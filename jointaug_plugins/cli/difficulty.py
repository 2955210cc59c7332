"""``jointaug difficulty``: the paper's Figs. 4 and 5 at small scale, on the photographs that ship in packages."""

from __future__ import annotations

import argparse
import json
from typing import Any

from ..tools.difficulty import DEFAULT, DEFAULT_BETAS, LONG

SETTINGS = ("size", "steps", "batch_pairs", "seeds", "sdf_pairs", "lr")


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """Add ``difficulty`` to ``sub`` (the ``add_subparsers`` action of ``jointaug``'s parser) and return its parser."""
    parser = sub.add_parser(
        "difficulty",
        help="pair difficulty per β: SimSiam training loss (paper Fig. 5) and SDF (Fig. 4), over seeds",
        description=(
            "For the independent baseline and JointCrop(β) for each β, over several seeds: trains SimSiam / "
            "ResNet-18 from scratch on the images (the training loss, the paper's Fig. 5) and measures the SDF, "
            "the mean cosine similarity of each condition's positive pairs under the seed's encoder trained with "
            "independent crops (Fig. 4). Reports means with 95% intervals over seeds. Default images: the 20 "
            "photographs that ship in scikit-image and scikit-learn. Defaults take about 3 minutes on 2 CPU cores; "
            f"--long is the GPU setting ({', '.join(f'{k} {v}' for k, v in LONG.items())})."
        ),
    )
    parser.add_argument("--images", metavar="PATH", nargs="+", help="image files or folders (default: shipped)")
    parser.add_argument("--betas", type=float, nargs="+", default=list(DEFAULT_BETAS), help="β values (2 1 0 -1 -2)")
    parser.add_argument("--long", action="store_true", help="the GPU setting (see above); other options override it")
    d = DEFAULT
    parser.add_argument("--seeds", type=int, help=f"number of seeds (default {d['seeds']})")
    parser.add_argument("--steps", type=int, help=f"SimSiam steps per seed and condition (default {d['steps']})")
    parser.add_argument("--batch", dest="batch_pairs", type=int, help=f"pairs per step (default {d['batch_pairs']})")
    parser.add_argument("--size", type=int, help=f"view size in px (default {d['size']})")
    parser.add_argument("--sdf-pairs", type=int, help=f"pairs per seed and condition for the SDF ({d['sdf_pairs']})")
    parser.add_argument("--lr", type=float, help=f"SimSiam learning rate (default {d['lr']})")
    parser.add_argument("--device", help="cpu, cuda or cuda:N (default: cuda with --long where there is one, else cpu)")
    parser.add_argument(
        "--encoder",
        metavar="PATH",
        help="a ResNet checkpoint (torchvision state_dict; see the Measuring page of the docs): no training, only the "
        "SDF under it",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch CPU threads (default: torch's choice); 1 avoids OpenMP spin contention on a busy machine",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--plot", metavar="FILE", help="write the loss curves, loss and SDF against β as a PNG")
    return parser


def _fmt(entry: dict) -> str:
    ci = entry["ci95"]
    return f"{entry['mean']:.4f} ± {ci:.4f}" if ci is not None else f"{entry['mean']:.4f}"


def run(args: argparse.Namespace) -> int:
    """Train and measure per β (Figs. 4 and 5 at small scale) and print the table or JSON; 0."""
    import torch
    from tqdm import tqdm

    from ..tools.difficulty import measure_difficulty
    from ..tools.difficulty_plot import plot_difficulty
    from ..tools.images import load_images

    if args.threads is not None:
        if args.threads < 1:
            raise ValueError(f"--threads must be an int >= 1, got {args.threads}")
        torch.set_num_threads(args.threads)
    preset = LONG if args.long else DEFAULT
    settings: dict[str, Any] = {k: preset[k] if getattr(args, k) is None else getattr(args, k) for k in SETTINGS}
    device = args.device or ("cuda" if args.long and torch.cuda.is_available() else "cpu")
    images = load_images(args.images) if args.images else None
    result = measure_difficulty(
        images=images, betas=args.betas, device=device, encoder=args.encoder, progress=tqdm, **settings
    )
    if args.plot:
        result["plot"] = str(plot_difficulty(result, args.plot))
    if args.json:
        print(json.dumps(result))
        return 0
    s = result["settings"]
    print(f"{s['images']} images, {s['seeds']} seeds, {s['view']}; {s['encoder']}")
    print(f"{'condition':<12} {'loss, 2nd half':>18} {'SDF':>18} {'P(s2/s1>2)':>11}   (means ± 95 % intervals)")
    for label in result["conditions"]:
        loss = _fmt(result["loss"]["second_half"][label]) if "loss" in result else "—"
        name = label if label == "independent" else f"β={label}"
        print(f"{name:<12} {loss:>18} {_fmt(result['sdf'][label]):>18} {result['p_area_ratio_gt_2'][label]:>11.3f}")
    print("ordering, as measured: " + ", ".join(f"{k}: {v}" for k, v in result["ordering"].items()))
    print(f"{result['seconds']} s" + (f"; plot: {args.plot}" if args.plot else ""))
    return 0
