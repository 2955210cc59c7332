"""``jointaug bench`` figures of the DALI adapter (hook ``jointaug_bench_suites``; DALI imported inside).

On ImageNet-sized JPEGs (500 x 375, quality 90) made from the photographs that ship with scikit-learn,
every figure a ratio of two runs interleaved in one process (A B A B ..., medians):

- ``dali_joint_ratio``: seconds of the joint DALI pair (union-box decode, two resizes out of it) over
  DALI's own pair (full decode, two ``random_resized_crop``), CPU, 2 threads (goal <= 1.02);
  ``dali_full_decode_ratio`` the same with the joint pair decoding whole images (the other scheme).
- ``dali_vs_pil``: images/s of the joint DALI CPU pipeline (2 threads) over the PIL path (a 2-worker
  DataLoader, decode + the same joint crops), both ending in uint8 224-px views (goal >= 1.0).
- with CUDA: ``dali_gpu_vs_pil``, the joint pipeline decoding with nvJPEG (``device="mixed"``).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ...hookspecs import hookimpl

N_FILES = 64
BATCH = 32
SIZE = 224


def write_jpegs(root: Path, n: int = N_FILES) -> Path:
    """``n`` 500 x 375 JPEGs (quality 90) cut from scikit-learn's photographs, under ``root/all/``."""
    from PIL import Image, ImageOps

    from ...tools.images import default_images

    photos = default_images()
    folder = root / "all"
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        photo = photos[i % len(photos)]
        # Different crops and flips, so that the files differ as a dataset's do.
        left, top = (i * 7) % (photo.width - 480), (i * 5) % (photo.height - 360)
        image = photo.crop((left, top, left + 480, top + 360)).resize((500, 375), Image.BICUBIC)
        (ImageOps.mirror(image) if i % 3 == 0 else image).save(folder / f"{i:04d}.jpg", quality=90)
    return root


def _dali_runner(root: Path, make_views: Callable[[Any], list[Any]], device_id: int | None, iterations: int):
    from nvidia.dali import fn, pipeline_def

    # DALI annotates device_id as an int; None is its documented value for a CPU-only pipeline.
    @pipeline_def(batch_size=BATCH, num_threads=2, device_id=device_id, seed=0, prefetch_queue_depth=2)  # type: ignore[arg-type]
    def pipe():
        encoded, _ = fn.readers.file(file_root=str(root), random_shuffle=True)
        return tuple(make_views(encoded))

    pipeline = pipe()
    pipeline.build()

    def run() -> None:
        for _ in range(iterations):
            outputs = pipeline.run()
            if device_id is not None:
                outputs[0].as_cpu()  # wait for the GPU work of this batch

    return run


def _pil_runner(root: Path, images: int) -> Callable[[], object]:
    import torch
    from torchvision import datasets
    from torchvision import transforms as T

    from ...transforms import JointRandomResizedCrop, JointViews

    views = JointViews([T.Compose([JointRandomResizedCrop(SIZE), T.PILToTensor()]) for _ in range(2)], crop=0.0)
    dataset = datasets.ImageFolder(str(root), transform=views)
    indices = [i % len(dataset) for i in range(images)]
    loader = torch.utils.data.DataLoader(
        torch.utils.data.Subset(dataset, indices), batch_size=BATCH, num_workers=2, persistent_workers=True
    )
    return lambda: [None for _ in loader]


def dali_figures(rounds: int, bar: Any) -> dict[str, Any]:
    """The DALI figures (see the module docstring) as a flat dict."""
    import torch
    from nvidia.dali import fn

    from ...tools.bench import interleaved
    from . import DALIView, JointDALIViews

    # 256 images per timed run; a smoke run (one or two rounds) times 64, which says nothing but runs it all.
    iterations = 8 if rounds >= 3 else 2
    images = iterations * BATCH
    view = DALIView(SIZE)

    def joint(decode: str, device: str = "cpu"):
        views = JointDALIViews([view, view], crop=0.0, seed=0, decode=decode)
        return lambda encoded: views(encoded, device=device)

    def dali_own(encoded):
        image = fn.decoders.image(encoded)
        return [fn.random_resized_crop(image, size=SIZE) for _ in range(2)]

    with tempfile.TemporaryDirectory() as tmp:
        root = write_jpegs(Path(tmp))
        own = _dali_runner(root, dali_own, None, iterations)
        union = _dali_runner(root, joint("union"), None, iterations)
        full = _dali_runner(root, joint("full"), None, iterations)
        own_s, union_s = interleaved(own, union, rounds, bar)
        own_s2, full_s = interleaved(own, full, rounds, bar)
        pil = _pil_runner(root, images)
        pil_s, dali_s = interleaved(pil, union, rounds, bar)
        result: dict[str, Any] = {
            "dali_joint_ratio": union_s / own_s,
            "dali_full_decode_ratio": full_s / own_s2,
            "dali_vs_pil": pil_s / dali_s,
            "dali_images_per_s": images / dali_s,
            "dali_own_images_per_s": images / own_s,
            "pil_images_per_s": images / pil_s,
            "dali_gpu_vs_pil": None,
        }
        if torch.cuda.is_available():
            gpu = _dali_runner(root, joint("union", "mixed"), 0, iterations)
            pil_s, gpu_s = interleaved(pil, gpu, rounds, bar)
            result.update(dali_gpu_vs_pil=pil_s / gpu_s, dali_gpu_images_per_s=images / gpu_s)
    return result


@hookimpl
def jointaug_bench_suites() -> dict[str, Callable[[int, Any], dict[str, Any]]]:
    try:
        import nvidia.dali  # noqa: F401
    except ImportError:
        return {}
    return {"dali": dali_figures}
