"""Run under torchrun (2 processes, gloo, CPU): mmengine's Runner with launcher='pytorch' trains the
shipped SimCLR JointCrop config for a few iterations; each rank writes its crop draws to OUT/rank{R}.json.
Usage: torchrun --nproc_per_node 2 ddp_mmengine_simclr.py OUT DATA_ROOT
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ helpers

import torch
from mm_runner import small_config
from mmengine.runner import Runner

CONFIG = (
    Path(__file__).resolve().parents[2] / "configs" / "mmselfsup" / "simclr_resnet50_8xb32-coslr-200e_in1k_jointcrop.py"
)


def main() -> None:
    out, data_root = Path(sys.argv[1]), Path(sys.argv[2])
    # mmengine's "pytorch" launcher pins a CUDA device; on CPU the gloo group is made first, which the
    # Runner then uses as it is, and DDP wraps the CPU model without device ids.
    torch.distributed.init_process_group("gloo")
    cfg = small_config(CONFIG, out / "work", data_root, iters=3)
    cfg.launcher = "pytorch"
    cfg.model.neck.norm_cfg = dict(type="BN1d")  # the neck's default SyncBN needs GPUs
    cfg.model_wrapper_cfg = dict(type="MMDistributedDataParallel", broadcast_buffers=False, device_ids=None)
    cfg.jointaug = dict(crop=0.0, seed=11)
    runner = Runner.from_cfg(cfg)
    joint = next(t for t in runner.train_dataloader.dataset.pipeline.transforms if type(t).__name__ == "JointMultiView")
    draws: list[list[float]] = []
    joint.joint_views.draw_sink = lambda records: draws.append([r.params["area"] for r in records if r.kind == "crop"])
    runner.train()
    (out / f"rank{runner.rank}.json").write_text(json.dumps({"draws": draws, "world_size": runner.world_size}))


if __name__ == "__main__":
    main()
