"""A small SimSiam (ResNet backbone) trained on joint views made on the device, for ``jointaug difficulty``.

The paper's Fig. 5 trains SimSiam / ResNet-18 with JointCrop(β) and shows a higher training loss for smaller
β; its Fig. 4 measures pair difficulty as the mean cosine similarity of positive pairs under a trained
encoder. This module provides the pieces at small scale: the images as one square tensor on the device
(:func:`canvas_tensor`), views made there by :class:`~jointaug_plugins.JointResizedCropBatch` (the core's
batched draw; the same box distribution as the per-image path), the SimSiam model and its loss, a seeded
trainer (:func:`train_simsiam`) and the pair similarities of an encoder (:func:`pair_similarities`).

Views are crop (scale 0.08-1.0) + horizontal flip + ImageNet normalisation: only the crop's draw differs
between conditions, the quantity the measurement is about.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from .._checks import check_int
from ..batch import JointResizedCropBatch
from ..spec import SpecLike
from .encoders import CROP_SCALE, IMAGENET_MEAN, IMAGENET_STD, Progress, no_progress, resnet_backbone


def canvas_tensor(images: Sequence[Image.Image], canvas: int, device: str | torch.device = "cpu") -> torch.Tensor:
    """The images as one ``(N, 3, canvas, canvas)`` float tensor in [0, 1] on ``device``: each resized
    (bicubic, antialiased) so that its shorter side is ``canvas`` pixels, then centre-cropped to a square.

    Args:
        images: PIL images, at least one (converted to RGB).
        canvas: Side of the square in pixels, ``>= 8``.
        device: Where the tensor goes.
    """
    check_int(canvas, "canvas", 8)
    if not images:
        raise ValueError("images must hold at least one image")
    out = []
    for image in images:
        image = image.convert("RGB")
        factor = canvas / min(image.size)
        width, height = max(canvas, round(image.width * factor)), max(canvas, round(image.height * factor))
        # The module constant every pillow >= 9.0 has (Resampling came in 9.1); pillow sets it at run time.
        image = image.resize((width, height), Image.BICUBIC, reducing_gap=None)  # type: ignore[attr-defined]
        left, top = (width - canvas) // 2, (height - canvas) // 2
        array = np.asarray(image.crop((left, top, left + canvas, top + canvas)), dtype=np.uint8)
        out.append(torch.from_numpy(array.copy()).permute(2, 0, 1))
    return (torch.stack(out).float() / 255.0).to(device)


class SimSiam(nn.Module):
    """SimSiam (Chen & He, 2021) on a torchvision ResNet: backbone, projector (two BN layers) and predictor.

    Args:
        arch: ``"resnet18"``, ``"resnet34"`` or ``"resnet50"`` (random initialisation, ``fc`` removed).
        dim: Width of the projection, ``>= 8``.
        bottleneck: Width of the predictor's hidden layer, ``>= 8``.
    """

    def __init__(self, arch: str = "resnet18", dim: int = 512, bottleneck: int = 128) -> None:
        super().__init__()
        check_int(dim, "dim", 8)
        check_int(bottleneck, "bottleneck", 8)
        self.backbone = resnet_backbone(arch)
        width = {"resnet18": 512, "resnet34": 512, "resnet50": 2048}[arch]
        self.projector = nn.Sequential(
            nn.Linear(width, dim, bias=False), nn.BatchNorm1d(dim), nn.ReLU(inplace=True),
            nn.Linear(dim, dim, bias=False), nn.BatchNorm1d(dim, affine=False),
        )  # fmt: skip
        self.predictor = nn.Sequential(
            nn.Linear(dim, bottleneck, bias=False), nn.BatchNorm1d(bottleneck), nn.ReLU(inplace=True),
            nn.Linear(bottleneck, dim),
        )  # fmt: skip

    def forward(self, first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
        """SimSiam's symmetric loss of the pairs ``(first[i], second[i])``, in [-1, 1] (lower: more alike)."""
        z = self.projector(self.backbone(torch.cat([first, second])))
        p = self.predictor(z)
        z1, z2 = z.float().chunk(2)
        p1, p2 = p.float().chunk(2)
        # Stop-gradient on the targets: what keeps SimSiam from collapsing.
        return -(F.cosine_similarity(p1, z2.detach()).mean() + F.cosine_similarity(p2, z1.detach()).mean()) / 2


def _normalize(views: torch.Tensor) -> torch.Tensor:
    mean = torch.tensor(IMAGENET_MEAN, device=views.device).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, device=views.device).view(1, 3, 1, 1)
    return (views - mean) / std


def _autocast(device: torch.device) -> Any:
    # bf16 matrix work on a GPU (the --long setting); full precision on the CPU.
    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def train_simsiam(
    images: torch.Tensor,
    crop: SpecLike,
    size: int = 32,
    steps: int = 60,
    batch_pairs: int = 32,
    lr: float = 0.05,
    seed: int = 0,
    arch: str = "resnet18",
    progress: Progress = no_progress,
    description: str = "training SimSiam",
) -> tuple[nn.Module, list[float]]:
    """Train SimSiam from scratch on views of ``images`` whose crops are drawn jointly with ``crop``.

    Each step picks ``batch_pairs`` images (uniformly, with replacement) and makes two views of each on the
    images' device: :class:`~jointaug_plugins.JointResizedCropBatch` (scale 0.08-1.0, ratio 3/4-4/3) with
    ``crop`` (``None``: torchvision's independent crops), horizontal flips with probability 0.5, ImageNet
    normalisation. SGD (momentum 0.9, weight decay 1e-4) at a constant ``lr``. The initialisation, the
    image picks and the views are seeded by ``seed``: two calls with the same seed and different ``crop``
    start from the same weights and see the same images, and the joint conditions draw from the same
    uniforms (so the β's are compared on common random numbers). torch's global generator is restored.

    Args:
        images: ``(N, 3, H, W)`` float images in [0, 1] (:func:`canvas_tensor`), on the training device.
        crop: JointCrop's β, options or schedule, or ``None`` (independent crops).
        size: View size in pixels, ``>= 16``.
        steps: Optimisation steps, ``>= 1``.
        batch_pairs: Pairs per step, ``>= 2``.
        lr: Learning rate, ``> 0``.
        seed: An int ``>= 0``.
        arch: The ResNet (``"resnet18"``, ``"resnet34"``, ``"resnet50"``).
        progress: A tqdm-like wrapper for the step loop.
        description: The progress bar's label.

    Returns:
        The trained backbone (eval mode, ``fc`` = identity) and the loss of every step.
    """
    check_int(size, "size", 16)
    check_int(steps, "steps", 1)
    check_int(batch_pairs, "batch_pairs", 2)
    check_int(seed, "seed", 0)
    if not lr > 0:
        raise ValueError(f"lr must be > 0, got {lr!r}")
    device = images.device
    devices = [device.index or 0] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        model = SimSiam(arch).to(device).to(memory_format=torch.channels_last)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=1e-4)
    crops = JointResizedCropBatch(size, scale=CROP_SCALE, crop=crop, hflip=0.5, seed=seed)
    picks = torch.Generator().manual_seed(seed)
    losses = []
    model.train()
    for _ in progress(range(steps), desc=description, leave=False):
        chosen = torch.randint(images.shape[0], (batch_pairs,), generator=picks).to(device)
        first, second = (_normalize(v).contiguous(memory_format=torch.channels_last) for v in crops(images[chosen]))
        with _autocast(device):
            loss = model(first, second)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(loss.detach())
    return model.backbone.eval(), torch.stack(losses).float().cpu().tolist()


@torch.no_grad()
def pair_similarities(
    encoder: nn.Module,
    images: torch.Tensor,
    crop: SpecLike,
    size: int,
    pairs: int = 512,
    seed: int = 0,
    batch_pairs: int = 256,
) -> tuple[np.ndarray, np.ndarray]:
    """Cosine similarities of ``pairs`` positive pairs under ``encoder`` and their drawn area ratios ``s2/s1``.

    Pairs are made as in :func:`train_simsiam` (images picked uniformly, seeded by ``seed``), encoded in eval
    mode; the representation is the encoder's output (the pooled ResNet feature).

    Args:
        encoder: Maps ``(B, 3, size, size)`` normalised views to ``(B, D)`` features.
        images: ``(N, 3, H, W)`` float images in [0, 1], on the encoder's device.
        crop: As for :func:`train_simsiam`.
        size: View size in pixels, ``>= 16``.
        pairs: Number of pairs, ``>= 2``.
        seed: An int ``>= 0``.
        batch_pairs: Pairs per forward pass, ``>= 1``.
    """
    check_int(pairs, "pairs", 2)
    check_int(batch_pairs, "batch_pairs", 1)
    crops = JointResizedCropBatch(size, scale=CROP_SCALE, crop=crop, hflip=0.5, seed=seed)
    picks = torch.Generator().manual_seed(seed)
    encoder.eval()
    similarities, ratios = [], []
    for start in range(0, pairs, batch_pairs):
        n = min(batch_pairs, pairs - start)
        chosen = torch.randint(images.shape[0], (n,), generator=picks).to(images.device)
        (first, second), boxes = crops(images[chosen], return_boxes=True)
        areas = (boxes[..., 2] * boxes[..., 3]).double()
        ratios.append((areas[:, 1] / areas[:, 0]).numpy())
        with _autocast(images.device):
            features = encoder(torch.cat([_normalize(first), _normalize(second)]).contiguous(
                memory_format=torch.channels_last))  # fmt: skip
        a, b = features.float().chunk(2)
        similarities.append(F.cosine_similarity(a, b).cpu().numpy().astype(np.float64))
    return np.concatenate(similarities), np.concatenate(ratios)
