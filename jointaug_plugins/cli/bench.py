"""``jointaug bench``: what joint draws cost against the transforms they replace, and the batched paths."""

from __future__ import annotations

import argparse
import json
from typing import Any


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """Add ``bench`` to ``sub`` (the ``add_subparsers`` action of ``jointaug``'s parser) and return its parser."""
    parser = sub.add_parser("bench", help="overhead of joint draws, batched sampler, tensor and on-device paths")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--images", type=int, default=256, help="images for the tensor path (default 256)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds per figure (default 5)")
    parser.add_argument("--calls", type=int, default=200, help="pairs per round for overhead_ratio (default 200)")
    parser.add_argument("--pipeline-images", type=int, default=512, help="images per DataLoader run (default 512)")
    parser.add_argument("--pipeline-rounds", type=int, default=3, help="rounds of the DataLoader figure (default 3)")
    return parser


def run(args: argparse.Namespace) -> int:
    """Run the benchmarks and print each figure against its goal, or JSON; 0."""
    from ..tools.bench import run_bench

    result = run_bench(
        rounds=args.rounds,
        calls=args.calls,
        images=args.images,
        pipeline_images=args.pipeline_images,
        pipeline_rounds=args.pipeline_rounds,
    )
    if args.json:
        print(json.dumps(result))
        return 0
    rows = [
        ("overhead_ratio", "joint pair / two RandomResizedCrop (goal <= 1.00)", "{:.3f}"),
        ("position_ratio", "joint pair with position=dict(alpha=0.6) / without (goal <= 1.02)", "{:.3f}"),
        ("sampler_us_per_pair", "batched sampler, us per pair (goal <= 5)", "{:.2f}"),
        ("tensor_speedup", "uint8 tensor path / PIL path (goal >= 1.3)", "{:.2f}"),
        ("gpu_batch_speedup", "batched CUDA path / PIL path (goal >= 50)", "{:.1f}"),
        ("batched_joint_vs_kornia", "joint batched SimCLR recipe / kornia's own, seconds (goal <= 1.02)", "{:.3f}"),
        ("batched_vs_per_image", "batched recipe images/s / per-image PIL path (this device)", "{:.2f}"),
        ("pipeline_ratio", "DataLoader images/s, joint / baseline, lowest case (goal >= 0.98)", "{:.3f}"),
        ("dali_joint_ratio", "DALI joint pair / DALI's own pair, seconds, CPU (goal <= 1.02)", "{:.3f}"),
        ("dali_full_decode_ratio", "the same, joint pair decoding whole images", "{:.3f}"),
        ("dali_vs_pil", "joint DALI CPU images/s / PIL DataLoader path (goal >= 1.0)", "{:.2f}"),
        ("dali_gpu_vs_pil", "joint DALI on the GPU images/s / PIL path (goal >= 50)", "{:.1f}"),
    ]
    rows += [
        (key, f"{key.removeprefix('recipe_ratio_')}: joint recipe / library's own, seconds (goal <= 1.00)", "{:.3f}")
        for key in sorted(result)
        if key.startswith("recipe_ratio_")
    ]
    for key, label, fmt in rows:
        value = result.get(key)
        print(f"{key:<32} {'n/a' if value is None else fmt.format(value):>8}   {label}")
    for name, figures in result.get("pipelines", {}).items():
        print(f"  {name:<18} {figures['ratio']:>8.3f}   DataLoader images/s, joint / baseline")
    if result.get("pipeline_note"):
        print(f"  {result['pipeline_note']}")
    m = result["machine"]
    print(f"\nmachine: {m['cores']} cores, {m['cpu']}, torch {m['torch']}, device {m['device']}")
    return 0
