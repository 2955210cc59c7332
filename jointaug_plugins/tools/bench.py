"""Benchmarks: the cost of joint draws against the transforms they replace, and the batched paths.

Every comparison is interleaved (A B A B ...) over several rounds after a warm-up, and medians are
reported, so that a slow moment of the machine hits both sides alike.
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from PIL import Image
from torchvision import transforms as T
from torchvision.transforms.v2 import functional as F
from tqdm import tqdm

from ..batch import JointResizedCropBatch
from ..boxes import sample_crop_box_pairs
from ..registry import bench_cases, bench_suites
from ..spec import JointSpec
from ..transforms import JointRandomResizedCrop, JointViews


def _timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def interleaved(
    a: Callable[[], Any], b: Callable[[], Any], rounds: int, bar: tqdm | None = None
) -> tuple[float, float]:
    """Median seconds of ``a`` and of ``b`` over ``rounds`` alternating runs, after one warm-up each."""
    first, second = interleaved_all([a, b], rounds, bar)
    return first, second


def interleaved_all(fns: list[Callable[[], Any]], rounds: int, bar: tqdm | None = None) -> list[float]:
    """Median seconds of each of ``fns`` over ``rounds`` rounds that run each once in turn, after one warm-up each."""
    return [statistics.median(kept) for kept in interleaved_rounds(fns, rounds, bar)]


def interleaved_rounds(fns: list[Callable[[], Any]], rounds: int, bar: tqdm | None = None) -> list[list[float]]:
    """Seconds of each of ``fns`` in each of ``rounds`` rounds that run each once in turn, after one warm-up each:
    per function, its list of ``rounds`` times."""
    for fn in fns:
        fn()
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(rounds):
        for fn, kept in zip(fns, times):
            kept.append(_timed(fn))
        if bar is not None:
            bar.update()
    return times


def _random_image(height: int, width: int, seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    # The module constant every pillow >= 9.0 has (Resampling came in 9.1); pillow sets it at run time.
    bilinear = Image.BILINEAR  # type: ignore[attr-defined]
    low = Image.fromarray(rng.integers(0, 255, (8, 8, 3), dtype=np.uint8)).resize((width, height), bilinear)
    return low


def overhead(rounds: int, calls: int, bar: tqdm | None) -> dict[str, float]:
    """One joint pair (draw + two crops to 224 of a 500 x 375 PIL image) against two torchvision
    ``RandomResizedCrop(224)`` calls on the same image; and the same joint pair with ContrastiveCrop's placement
    (``position=dict(alpha=0.6)``), all three interleaved in one run."""
    image = _random_image(375, 500, 0)
    baseline = T.RandomResizedCrop(224)
    joint = JointViews([JointRandomResizedCrop(224)] * 2, crop=0.0, seed=0)
    placed = JointViews([JointRandomResizedCrop(224)] * 2, crop=0.0, position={"alpha": 0.6}, seed=0)

    def two_torchvision():
        for _ in range(calls):
            baseline(image)
            baseline(image)

    def one_joint_pair():
        for _ in range(calls):
            joint(image)

    def one_placed_pair():
        for _ in range(calls):
            placed(image)

    times = interleaved_rounds([two_torchvision, one_joint_pair, one_placed_pair], rounds, bar)
    base, ours, with_position = (statistics.median(t) for t in times)
    return {
        "overhead_ratio": ours / base,
        "overhead_ratio_position": with_position / base,
        # The median of each round's ratio: a round runs both back to back, so the machine's slow drift cancels.
        "position_ratio": statistics.median(p / j for j, p in zip(times[1], times[2])),
        "torchvision_pair_s": base / calls,
        "joint_pair_s": ours / calls,
    }


def sampler(rounds: int, bar: tqdm | None, n: int = 100_000) -> dict[str, float]:
    """Microseconds per pair of the batched sampler drawing ``n`` JointCrop(0) box pairs."""
    generator = torch.Generator().manual_seed(0)
    spec = JointSpec(0.0)
    times = []
    sample_crop_box_pairs(375, 500, n, spec=spec, generator=generator)
    for _ in range(rounds):
        times.append(_timed(lambda: sample_crop_box_pairs(375, 500, n, spec=spec, generator=generator)))
        if bar is not None:
            bar.update()
    return {"sampler_us_per_pair": statistics.median(times) / n * 1e6, "sampler_s": statistics.median(times)}


def tensor_path(rounds: int, bar: tqdm | None, n_images: int = 256) -> dict[str, Any]:
    """``n_images`` 3 x 256 x 256 images into 2 joint 224-px views each: uint8 tensors through
    torchvision v2's kernels against PIL, on the same images and the same boxes (drawn in one call)."""
    tensors = [
        torch.from_numpy(np.asarray(_random_image(256, 256, i))).permute(2, 0, 1).contiguous() for i in range(n_images)
    ]
    pils = [F.to_pil_image(t) for t in tensors]
    boxes = sample_crop_box_pairs(256, 256, n_images, spec=JointSpec(0.0), generator=torch.Generator().manual_seed(0))
    boxes = boxes.tolist()

    def run(images):
        for image, pair in zip(images, boxes):
            for top, left, h, w in pair:
                F.resized_crop(image, top, left, h, w, [224, 224], antialias=True)

    pil_s, tensor_s = interleaved(lambda: run(pils), lambda: run(tensors), rounds, bar)
    result: dict[str, Any] = {
        "tensor_speedup": pil_s / tensor_s,
        "pil_path_s": pil_s,
        "tensor_path_s": tensor_s,
        "gpu_batch_speedup": None,
        "gpu_batch_s": None,
    }
    if torch.cuda.is_available():
        batch = torch.stack(tensors).cuda()
        module = JointResizedCropBatch(224, seed=0)

        def on_gpu():
            module(batch)
            torch.cuda.synchronize()

        pil_s, gpu_s = interleaved(lambda: run(pils), on_gpu, rounds, bar)
        result.update(gpu_batch_speedup=pil_s / gpu_s, gpu_batch_s=gpu_s)
    return result


class _Images(torch.utils.data.Dataset):
    def __init__(self, n: int, transform) -> None:
        self.n, self.transform = n, transform

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, index: int):
        return self.transform(_random_image(256, 256, index))


def _stack_views(batch):
    return [torch.stack([views[k] for views in batch]) for k in range(len(batch[0]))]


def pipeline(rounds: int, bar: tqdm | None, n_images: int = 512, cases: dict[str, Any] | None = None) -> dict[str, Any]:
    """Images per second of a 2-worker DataLoader with a library's recipe made joint, over the same with the
    library's baseline, for every case the plugins provide (hook ``jointaug_bench_cases``; lightly's SimCLR
    when lightly is installed). ``pipeline_ratio`` is the lowest ratio over the cases (``None`` without any),
    ``pipelines`` holds each case's figures."""
    cases = bench_cases() if cases is None else cases
    if not cases:
        return {"pipeline_ratio": None, "pipelines": {}, "pipeline_note": "no bench case: install a library (lightly)"}

    def loader(transform):
        data = torch.utils.data.DataLoader(
            _Images(n_images, transform), batch_size=64, num_workers=2, collate_fn=_stack_views
        )
        return lambda: [None for _ in data]

    figures = {}
    for name, build in cases.items():
        baseline, joint = build()
        base_s, joint_s = interleaved(loader(baseline), loader(joint), rounds, bar)
        figures[name] = {
            "ratio": base_s / joint_s,
            "baseline_images_per_s": n_images / base_s,
            "joint_images_per_s": n_images / joint_s,
        }
    worst = min(figures, key=lambda name: figures[name]["ratio"])
    return {
        "pipeline_ratio": figures[worst]["ratio"],
        "pipeline_case": worst,
        "pipeline_baseline_images_per_s": figures[worst]["baseline_images_per_s"],
        "pipeline_joint_images_per_s": figures[worst]["joint_images_per_s"],
        "pipelines": figures,
    }


def recipes(rounds: int, bar: tqdm | None, calls: int = 100, cases: dict[str, Any] | None = None) -> dict[str, Any]:
    """``recipe_ratio_<case>``: seconds per image of each case's joint recipe over the library's own recipe,
    in this process on one 256 x 256 PIL image (``calls`` images per round, interleaved; goal <= 1.00)."""
    cases = bench_cases() if cases is None else cases
    image = _random_image(256, 256, 0)
    figures: dict[str, Any] = {}
    for name, build in cases.items():
        baseline, joint = build()

        def run(transform):
            return lambda: [transform(image) for _ in range(calls)]

        base_s, joint_s = interleaved(run(baseline), run(joint), rounds, bar)
        figures[f"recipe_ratio_{name.replace('-', '_')}"] = joint_s / base_s
    return figures


def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next((line.split(":", 1)[1].strip() for line in info if line.startswith("model name")), cpu)
    except OSError:
        pass
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu",
    }


def run_bench(
    rounds: int = 5,
    calls: int = 200,
    images: int = 256,
    pipeline_images: int = 512,
    pipeline_rounds: int = 3,
    show_progress: bool = True,
) -> dict[str, Any]:
    """All figures of ``jointaug bench`` as one JSON-able dict."""
    if rounds < 1 or calls < 1 or images < 1 or pipeline_images < 1:
        raise ValueError("rounds, calls, images and pipeline_images must be >= 1")
    cases, suites = bench_cases(), bench_suites()
    total = 3 * rounds + (rounds + pipeline_rounds) * len(cases) + 4 * rounds * len(suites)
    total += rounds if torch.cuda.is_available() else 0
    with tqdm(total=total, desc="jointaug bench", unit="round", disable=not show_progress) as bar:
        result = {**overhead(rounds, calls, bar), **sampler(rounds, bar), **tensor_path(rounds, bar, images)}
        result.update(recipes(rounds, bar, cases=cases))
        result.update(pipeline(pipeline_rounds, bar, pipeline_images, cases))
        for name, run in suites.items():
            bar.set_postfix_str(name)
            result.update(run(rounds, bar))
    result["machine"] = machine()
    result["settings"] = {
        "rounds": rounds,
        "calls": calls,
        "images": images,
        "pipeline_images": pipeline_images,
        "pipeline_rounds": pipeline_rounds,
    }
    return result
