"""BYOL with JointCrop(0) + ContrastiveCrop's center-suppressed sampling (alpha 0.6), trained by Lightning.

lightly's BYOL Lightning example (ResNet-18, momentum encoder, negative cosine similarity) with lightly's
``BYOLTransform`` made joint: the two asymmetric views (blur 1.0 / 0.1, solarization 0 / 0.2) keep their own
settings, their crop areas are drawn jointly (``crop=0.0``) and every crop lands by ``Beta(0.6, 0.6)`` between the
image's edges (``position=dict(alpha=0.6)``). See ``simclr_jointcrop_ccrop.py`` (same folder) for Table 11 and the
command line, which this script shares::

    python configs/lightly/byol_jointcrop_ccrop.py --data path/to/images --max-epochs 100
"""

from __future__ import annotations

import argparse
import copy
import sys
from collections.abc import Sequence
from pathlib import Path

import torch
import torchvision
from lightly.loss import NegativeCosineSimilarity
from lightly.models.modules import BYOLPredictionHead, BYOLProjectionHead
from lightly.models.utils import deactivate_requires_grad, update_momentum
from lightly.transforms import BYOLView1Transform, BYOLView2Transform
from torch import nn

from jointaug_plugins.adapters.lightly import JointBYOLTransform

# The SimCLR example beside this file holds the data and command-line code both examples share.
sys.path.insert(0, str(Path(__file__).resolve().parent))
from simclr_jointcrop_ccrop import fit, image_dataset, image_loader, parse_args, pl


class BYOL(pl.LightningModule):
    """lightly's BYOL recipe: online backbone + projection + prediction heads, a momentum copy, SGD."""

    def __init__(self, lr: float = 0.06, momentum: float = 0.99) -> None:
        """Args: lr: SGD learning rate, > 0. momentum: the momentum encoder's EMA factor, in [0, 1]."""
        super().__init__()
        resnet = torchvision.models.resnet18()
        self.backbone = nn.Sequential(*list(resnet.children())[:-1])
        self.projection_head = BYOLProjectionHead(512, 1024, 256)
        self.prediction_head = BYOLPredictionHead(256, 1024, 256)
        self.backbone_momentum = copy.deepcopy(self.backbone)
        self.projection_head_momentum = copy.deepcopy(self.projection_head)
        deactivate_requires_grad(self.backbone_momentum)
        deactivate_requires_grad(self.projection_head_momentum)
        self.criterion = NegativeCosineSimilarity()
        self.lr, self.momentum = lr, momentum

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.prediction_head(self.projection_head(self.backbone(x).flatten(start_dim=1)))

    def forward_momentum(self, x: torch.Tensor) -> torch.Tensor:
        return self.projection_head_momentum(self.backbone_momentum(x).flatten(start_dim=1)).detach()

    def training_step(self, batch, batch_index: int) -> torch.Tensor:
        update_momentum(self.backbone, self.backbone_momentum, m=self.momentum)
        update_momentum(self.projection_head, self.projection_head_momentum, m=self.momentum)
        (x0, x1), _, _ = batch
        loss = 0.5 * (
            self.criterion(self.forward(x0), self.forward_momentum(x1))
            + self.criterion(self.forward(x1), self.forward_momentum(x0))
        )
        self.log("train_loss", loss, prog_bar=True)
        return loss

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=self.lr)


def build(args: argparse.Namespace) -> tuple[BYOL, torch.utils.data.DataLoader]:
    """The model and the train loader whose transform draws JointCrop(``args.crop``) + the placement."""
    transform = JointBYOLTransform(
        view_1_transform=BYOLView1Transform(input_size=args.input_size),
        view_2_transform=BYOLView2Transform(input_size=args.input_size),
        crop=args.crop,
        position={"alpha": args.alpha},
    )
    loader = image_loader(image_dataset(args.data, transform), args.batch_size, args.num_workers)
    return BYOL(), loader


def main(argv: Sequence[str] | None = None) -> pl.Trainer:
    """Parse ``argv`` (default: the command line), build, train; returns the Lightning trainer."""
    args = parse_args(argv, description=__doc__.split("\n", 1)[0])
    return fit(args, *build(args))


if __name__ == "__main__":
    main()
