"""GPU check of the batch recipes: ``python -m jointaug_plugins.adapters.kornia.gpu_check``.

Prints images/s of the batched joint SimCLR (224 px) and DINO (2 x 224 + 6 x 96 px) recipes from uint8 batches on
CUDA, against kornia's own pipelines with the same ops (independent draws), each with ``torch.compile`` of the
kornia ops off and on, and checks that the CUDA views equal the CPU views of the same draw (crop boxes exactly,
pixels within 1e-3). Exits 0 with "no CUDA" where there is none.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable

BATCH = 128
SOURCE = 256


def _rate(fn: Callable[[], object], images: int, repeats: int) -> float:
    import torch

    fn()
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    torch.cuda.synchronize()
    return images * repeats / (time.perf_counter() - start)


def _compiled(module):
    """The module with each kornia op compiled in place (``nn.Module.compile``; kornia's colour ops compile their
    kernels), so they keep taking ``params=``."""
    for ops in module.ops:
        for op in ops:
            op.module.compile()
    return module


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=BATCH, help="images per batch (>= 1)")
    parser.add_argument("--repeats", type=int, default=5, help="timed batches per figure (>= 1)")
    parser.add_argument("--no-compile", action="store_true", help="skip the torch.compile runs")
    args = parser.parse_args(argv)
    import torch

    if not torch.cuda.is_available():
        print("no CUDA: nothing to check")
        return 0
    from .dino import DINOBatchViews
    from .recipes import SimCLRBatchViews

    gen = torch.Generator().manual_seed(0)
    cpu = torch.randint(0, 256, (args.batch, 3, SOURCE, SOURCE), dtype=torch.uint8, generator=gen)
    batch = cpu.cuda()
    print(f"device: {torch.cuda.get_device_name()}, batch {args.batch} x 3 x {SOURCE} x {SOURCE} uint8")

    # The same draw on CPU and CUDA gives the same views.
    module = SimCLRBatchViews(224, seed=0)
    on_cpu = module(cpu[:16])
    draw, params = module.last_draw, module.last_params
    on_gpu = module.cuda().apply(batch[:16], draw)
    worst = max(float((a - b.cpu()).abs().max()) for a, b in zip(on_cpu, on_gpu))
    print(f"cpu/cuda max abs difference on one draw: {worst:.2e} (same params: {params is not None})")
    ok = worst < 1e-3

    for name, build in (("simclr", lambda: SimCLRBatchViews(224, seed=0)), ("dino", lambda: DINOBatchViews(seed=0))):
        for compiled in (False, True) if not args.no_compile else (False,):
            joint = build().cuda()
            if compiled:
                joint = _compiled(joint)
            own = list(joint.augmentations)

            def run_own(own=own):
                x = batch.float() / 255
                return [view(x) for view in own]

            def run_joint(joint=joint):
                return joint(batch)

            joint_rate = _rate(run_joint, args.batch, args.repeats)
            own_rate = _rate(run_own, args.batch, args.repeats)
            print(
                f"{name} compile={'on' if compiled else 'off'}: joint {joint_rate:.0f} images/s, kornia's own "
                f"{own_rate:.0f} images/s, ratio {joint_rate / own_rate:.2f}"
            )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
