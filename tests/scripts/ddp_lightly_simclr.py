"""Run under torchrun (2 processes, gloo, CPU): a few DDP SimCLR steps with joint views.

Each rank writes the crop draws it made (per image index) and its losses to ``OUT/rank{R}.json``.
Usage: torchrun --nproc_per_node 2 ddp_lightly_simclr.py OUT [num_workers] [mp_context]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
import torchvision
from lightly.loss import NTXentLoss
from lightly.models.modules import SimCLRProjectionHead
from lightly.transforms import SimCLRTransform
from PIL import Image
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, Dataset, DistributedSampler

from jointaug_plugins import jointify


class GeneratedImages(Dataset):
    """Deterministic generated images; each item returns both views and the recorded crop areas."""

    def __init__(self, n: int, transform) -> None:
        self.n = n
        self.transform = transform

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, index: int):
        rng = np.random.default_rng(index)
        image = Image.fromarray(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8))
        views, records = self.transform.apply(image, records=True)
        areas = [r.params["area"] for r in records if r.kind == "crop"]
        return views[0], views[1], torch.tensor(areas, dtype=torch.float64), index


def main() -> None:
    out = Path(sys.argv[1])
    num_workers = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    context = sys.argv[3] if len(sys.argv) > 3 else None
    dist.init_process_group("gloo")
    rank = dist.get_rank()
    torch.manual_seed(0)  # the same seed on every rank, as training scripts do
    transform = jointify(SimCLRTransform(input_size=32, gaussian_blur=0.0), crop=0.0, seed=7)
    dataset = GeneratedImages(32, transform)
    sampler = DistributedSampler(dataset, shuffle=True, seed=0)
    loader = DataLoader(
        dataset,
        batch_size=4,
        sampler=sampler,
        num_workers=num_workers,
        multiprocessing_context=context if num_workers else None,
    )
    backbone = torchvision.models.resnet18(num_classes=1)
    backbone.fc = torch.nn.Identity()
    model = torch.nn.Sequential(backbone, SimCLRProjectionHead(512, 64, 32))
    ddp = DistributedDataParallel(model)
    criterion = NTXentLoss(gather_distributed=True)
    optimizer = torch.optim.SGD(ddp.parameters(), lr=0.05)
    draws, losses = {}, []
    for step, (x0, x1, areas, index) in enumerate(loader):
        loss = criterion(ddp(x0), ddp(x1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss))
        for i, a in zip(index.tolist(), areas.tolist()):
            draws[str(i)] = a
        if step == 2:
            break
    out.mkdir(parents=True, exist_ok=True)
    (out / f"rank{rank}.json").write_text(json.dumps({"draws": draws, "losses": losses}))
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
