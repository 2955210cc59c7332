"""SimCLR with JointCrop(0) + ContrastiveCrop's center-suppressed sampling (alpha 0.6), trained by Lightning.

The paper's best crop setting (JointCrop paper, appendix G, Table 11, MoCo v1 on ImageNet-1K, top-1: baseline 57.25,
+ ContrastiveCrop 58.34, + JointCrop(0) 60.87, JointCrop(0) + center-suppressed sampling 61.33) on lightly's SimCLR
Lightning example: the model, loss and loop are lightly's recipe; the transform is lightly's ``SimCLRTransform``
with its crop areas drawn jointly (``crop=0.0``) and every crop placed by ``Beta(0.6, 0.6)`` between the image's
edges (``position=dict(alpha=0.6)``). ``crop=None`` keeps ContrastiveCrop alone (Table 11's second row).

Run::

    python configs/lightly/simclr_jointcrop_ccrop.py                    # the photographs that ship with
                                                                        # scikit-image / scikit-learn
    python configs/lightly/simclr_jointcrop_ccrop.py --data path/to/images --batch-size 256 --max-epochs 100

The model and training settings follow lightly's example (ResNet-18, SGD lr 0.06), not the paper's.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import torch
import torchvision
from lightly.data import LightlyDataset
from lightly.data.multi_view_collate import MultiViewCollate
from lightly.loss import NTXentLoss
from lightly.models.modules import SimCLRProjectionHead
from torch import nn

from jointaug_plugins.adapters.lightly import JointSimCLRTransform

try:  # lightly's examples use the standalone package; solo-learn's setup installs `lightning`
    import pytorch_lightning as pl
except ImportError:  # pragma: no cover - depends on which Lightning distribution is installed
    import lightning.pytorch as pl

#: The ``position`` option of this example: ContrastiveCrop's ImageNet value (its CIFAR SimCLR value is 0.1).
POSITION = {"alpha": 0.6}


class SimCLR(pl.LightningModule):
    """lightly's SimCLR recipe: ResNet-18 backbone, SimCLR projection head, NT-Xent loss, SGD."""

    def __init__(self, lr: float = 0.06) -> None:
        """Args: lr: SGD learning rate, > 0."""
        super().__init__()
        resnet = torchvision.models.resnet18()
        self.backbone = nn.Sequential(*list(resnet.children())[:-1])
        self.projection_head = SimCLRProjectionHead(512, 2048, 2048)
        self.criterion = NTXentLoss()
        self.lr = lr

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.projection_head(self.backbone(x).flatten(start_dim=1))

    def training_step(self, batch, batch_index: int) -> torch.Tensor:
        (x0, x1), _, _ = batch
        loss = self.criterion(self.forward(x0), self.forward(x1))
        self.log("train_loss", loss, prog_bar=True)
        return loss

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=self.lr)


class _Photographs(torch.utils.data.Dataset):
    """The photographs that ship inside scikit-image and scikit-learn (20, no download), as ``(views, 0)``.

    ``transform`` is set by ``LightlyDataset.from_torch_dataset``, which leaves applying it to the dataset, as
    torchvision's datasets do."""

    def __init__(self) -> None:
        from jointaug_plugins.tools.images import shipped_photographs

        self.images = [image for _, image in shipped_photographs()]
        self.transform = None

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int):
        image = self.images[index]
        return (image if self.transform is None else self.transform(image)), 0


def image_dataset(data: str | Path | None, transform) -> LightlyDataset:
    """lightly's dataset over ``data`` (a folder of images, read by ``LightlyDataset``), or over the photographs
    that ship with scikit-image / scikit-learn when ``data`` is ``None``; each item is made into views by
    ``transform``."""
    if data is None:
        return LightlyDataset.from_torch_dataset(_Photographs(), transform=transform)
    if not Path(data).is_dir():
        raise FileNotFoundError(f"--data must be a folder of images, got {data!r}")
    return LightlyDataset(input_dir=str(data), transform=transform)


def image_loader(dataset: LightlyDataset, batch_size: int, num_workers: int) -> torch.utils.data.DataLoader:
    """lightly's loader: shuffled, whole batches only (``drop_last``), views collated by ``MultiViewCollate``.

    Raises:
        ValueError: ``batch_size`` outside ``[2, len(dataset)]`` (a larger one would train on no batch at all).
    """
    if not 2 <= batch_size <= len(dataset):
        raise ValueError(f"--batch-size must be in [2, {len(dataset)}] (the images found), got {batch_size}")
    return torch.utils.data.DataLoader(
        dataset,
        batch_size=batch_size,
        collate_fn=MultiViewCollate(),
        shuffle=True,
        drop_last=True,
        num_workers=num_workers,
    )


def _beta(text: str) -> float | None:
    """``--crop``'s value: a number (JointCrop's beta) or ``none`` (crop areas independent)."""
    return None if text.lower() == "none" else float(text)


def parse_args(argv: Sequence[str] | None = None, description: str | None = None) -> argparse.Namespace:
    """The command line: ``--data``, ``--batch-size``, ``--input-size``, ``--max-steps``, ``--max-epochs``,
    ``--num-workers``, ``--accelerator``, ``--crop``, ``--alpha`` (ranges in each argument's help)."""
    parser = argparse.ArgumentParser(description=description or __doc__.split("\n", 1)[0])
    parser.add_argument("--data", help="a folder of images (default: the photographs shipped with scikit-image/learn)")
    parser.add_argument("--batch-size", type=int, default=16, help="images per batch, >= 2 (lightly's example: 256)")
    parser.add_argument("--input-size", type=int, default=32, help="view side in pixels, >= 1 (224 for ImageNet)")
    parser.add_argument("--max-steps", type=int, default=-1, help="optimizer steps, -1 for no limit (then epochs)")
    parser.add_argument("--max-epochs", type=int, default=10, help="epochs, >= 1")
    parser.add_argument("--num-workers", type=int, default=2, help="DataLoader workers, >= 0")
    parser.add_argument("--accelerator", default="auto", help="Lightning's accelerator: auto, cpu, gpu, ...")
    parser.add_argument(
        "--crop", type=_beta, default=0.0, help="JointCrop beta (0: JointCrop(0)); none: ContrastiveCrop alone"
    )
    parser.add_argument("--alpha", type=float, default=POSITION["alpha"], help="Beta(alpha, alpha) placement, > 0")
    args = parser.parse_args(argv)
    for name, low in (("input_size", 1), ("max_epochs", 1), ("num_workers", 0)):
        if getattr(args, name) < low:
            parser.error(f"--{name.replace('_', '-')} must be >= {low}, got {getattr(args, name)}")
    if args.max_steps < -1 or args.max_steps == 0:
        parser.error(f"--max-steps must be -1 (no limit) or >= 1, got {args.max_steps}")
    return args


def build(args: argparse.Namespace) -> tuple[SimCLR, torch.utils.data.DataLoader]:
    """The model and the train loader whose transform draws JointCrop(``args.crop``) + the placement."""
    transform = JointSimCLRTransform(input_size=args.input_size, crop=args.crop, position={"alpha": args.alpha})
    loader = image_loader(image_dataset(args.data, transform), args.batch_size, args.num_workers)
    return SimCLR(), loader


def fit(args: argparse.Namespace, model: pl.LightningModule, loader: torch.utils.data.DataLoader) -> pl.Trainer:
    """Train ``model`` on ``loader`` with Lightning (one device of ``args.accelerator``); returns the trainer."""
    views = loader.dataset.transform.joint_views
    print(f"[jointaug] views: {views.options.describe()}, pairs {views.pairs}", flush=True)
    trainer = pl.Trainer(
        max_epochs=args.max_epochs,
        max_steps=args.max_steps,
        devices=1,
        accelerator=args.accelerator,
        logger=False,
        enable_checkpointing=False,
    )
    trainer.fit(model=model, train_dataloaders=loader)
    return trainer


def main(argv: Sequence[str] | None = None) -> pl.Trainer:
    """Parse ``argv`` (default: the command line), build, train; returns the Lightning trainer."""
    args = parse_args(argv)
    return fit(args, *build(args))


if __name__ == "__main__":
    main()
