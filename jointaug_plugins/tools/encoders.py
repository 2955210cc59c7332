"""Encoders for the pair-difficulty measurement: a ResNet trained here with SimCLR, or loaded from a file.

No weights can be downloaded here, so ``jointaug difficulty`` trains its default encoder itself, from
scratch, with SimCLR on the measured images (:func:`train_simclr_encoder`: seeded, about a minute on two
CPU cores at 64 px), or reads a torchvision-style ResNet checkpoint (:func:`load_encoder`). Either way the
encoder is the backbone with ``fc`` replaced by the identity (its pooled feature is the representation).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn
from torchvision.transforms import v2

TRAINABLE = ("resnet18", "resnet34", "resnet50")
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
CROP_SCALE = (0.08, 1.0)
# Self-trained encoder defaults (documented in docs/measuring.md).
TRAIN_SIZE = 64
TRAIN_STEPS = 60
TRAIN_BATCH = 64  # pairs per step (128 views)
TRAIN_LR = 1e-3
TRAIN_TEMPERATURE = 0.5

Progress = Callable[..., Any]


def no_progress(iterable=None, **_: Any):
    return iterable


def check_int(value: Any, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return value


def prepare_images(images: Sequence[Image.Image], size: int) -> list[Image.Image]:
    """RGB copies, downscaled (bicubic) so that the shorter side is at most ``3 * size``: a crop of 8%
    of the image area then still has about the input's resolution, and cropping is much faster than
    on full-size photographs. Smaller images are kept as they are."""
    out = []
    for image in images:
        image = image.convert("RGB")
        short = min(image.size)
        if short > 3 * size:
            factor = 3 * size / short
            image = image.resize(
                (max(1, round(image.width * factor)), max(1, round(image.height * factor))), Image.BICUBIC
            )
        out.append(image)
    return out


def train_recipe(size: int) -> v2.Compose:
    """SimCLR's view recipe at ``size`` px, without blur (tiny inputs): crop, flip, colour jitter
    (0.4, 0.4, 0.4, 0.1) with p = 0.8, grayscale with p = 0.2; independent draws."""
    return v2.Compose(
        [
            v2.RandomResizedCrop(size, scale=CROP_SCALE, antialias=True),
            v2.RandomHorizontalFlip(),
            v2.RandomApply([v2.ColorJitter(0.4, 0.4, 0.4, 0.1)], p=0.8),
            v2.RandomGrayscale(p=0.2),
            v2.PILToTensor(),
            v2.ToDtype(torch.float32, scale=True),
            v2.Normalize(IMAGENET_MEAN, IMAGENET_STD),
        ]
    )


def resnet_backbone(name: str) -> nn.Module:
    """A torchvision ResNet (random init) with ``fc`` replaced by the identity."""
    import torchvision

    if name not in TRAINABLE:
        raise ValueError(f"encoder: torchvision:{name} is not supported; use one of {', '.join(TRAINABLE)}")
    model = getattr(torchvision.models, name)(weights=None)
    model.fc = nn.Identity()
    return model


def nt_xent(z1: torch.Tensor, z2: torch.Tensor, temperature: float = TRAIN_TEMPERATURE) -> torch.Tensor:
    """SimCLR's NT-Xent loss for ``n`` pairs ``(z1[i], z2[i])``: each view's positive is its partner,
    the other ``2n - 2`` views are its negatives."""
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    logits = z @ z.T / temperature
    n = z1.shape[0]
    logits.fill_diagonal_(float("-inf"))
    targets = torch.cat([torch.arange(n, 2 * n), torch.arange(n)]).to(z.device)
    return F.cross_entropy(logits, targets)


def train_simclr_encoder(
    images: Sequence[Image.Image],
    arch: str = "resnet18",
    size: int = TRAIN_SIZE,
    steps: int = TRAIN_STEPS,
    batch_pairs: int = TRAIN_BATCH,
    seed: int = 0,
    progress: Progress = no_progress,
) -> tuple[nn.Module, dict[str, Any]]:
    """Train a ResNet from scratch with SimCLR on crops of ``images``.

    Each step draws ``batch_pairs`` images (uniformly, with replacement) and two independent views of
    each (:func:`train_recipe`); projection head 512-512-128 (ReLU), NT-Xent with temperature 0.5,
    Adam (lr 1e-3). Everything is seeded by ``seed``.

    Args:
        images: The training images (PIL), at least one.
        arch: ``"resnet18"``, ``"resnet34"`` or ``"resnet50"``.
        size: Input size in pixels, ``>= 16``.
        steps: Optimisation steps, ``>= 0`` (0 leaves the encoder at its random initialisation).
        batch_pairs: Pairs per step, ``>= 2``.
        seed: Seed of the initialisation, the image choice and the views.
        progress: A tqdm-like wrapper for the step loop.

    Returns:
        The backbone (in eval mode, ``fc`` = identity) and ``{"steps", "first_loss", "last_loss", "seconds"}``.
    """
    check_int(size, "size", 16)
    check_int(steps, "steps", 0)
    check_int(batch_pairs, "batch_pairs", 2)
    check_int(seed, "seed", 0)
    if not images:
        raise ValueError("images must hold at least one image")
    torch.manual_seed(seed)
    backbone = resnet_backbone(arch)
    width = backbone(torch.zeros(2, 3, size, size)).shape[1]
    head = nn.Sequential(nn.Linear(width, 512), nn.ReLU(inplace=True), nn.Linear(512, 128))
    model = nn.Sequential(backbone, head)
    optimizer = torch.optim.Adam(model.parameters(), lr=TRAIN_LR, weight_decay=1e-6)
    prepared = prepare_images(images, size)
    recipe = train_recipe(size)
    generator = torch.Generator().manual_seed(seed)
    losses = []
    start = time.perf_counter()
    model.train()
    for _ in progress(range(steps), desc="training the encoder (SimCLR)", leave=False):
        picks = torch.randint(len(prepared), (batch_pairs,), generator=generator).tolist()
        first = torch.stack([recipe(prepared[i]) for i in picks])
        second = torch.stack([recipe(prepared[i]) for i in picks])
        loss = nt_xent(model(first), model(second))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    backbone.eval()
    info = {
        "arch": arch,
        "size": size,
        "steps": steps,
        "batch_pairs": batch_pairs,
        "first_loss": losses[0] if losses else None,
        "last_loss": losses[-1] if losses else None,
        "chance_loss": math.log(2 * batch_pairs - 1),
        "seconds": round(time.perf_counter() - start, 1),
    }
    return backbone, info


def _strip_prefix(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    anchors = [k[: -len("conv1.weight")] for k in state if k.endswith("conv1.weight") and "layer" not in k]
    if not anchors:
        raise ValueError("encoder checkpoint: no ResNet stem ('conv1.weight') among its keys")
    prefix = min(anchors, key=len)
    return {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}


def load_encoder(path: str | Path) -> tuple[nn.Module, str]:
    """A torchvision-style ResNet backbone from a checkpoint file.

    Accepted: ``torch.save(model.state_dict(), path)`` of a torchvision ResNet (18/34/50/101/152,
    wide ResNet-50/101), or a checkpoint dict holding such a state dict under ``"state_dict"``
    (Lightning, mmengine) or ``"model"``. A key prefix before ``conv1.weight`` (``backbone.``,
    ``module.``, ``encoder.`` ...) is removed; ``fc`` / head weights are ignored. A 3x3 ``conv1``
    (CIFAR-style stem) gets stride 1 and no max-pool. Loaded with ``weights_only=True``.

    Returns:
        The backbone (eval mode, ``fc`` = identity) and a description.
    """
    from torchvision.models.resnet import BasicBlock, Bottleneck, ResNet

    path = Path(path)
    if not path.is_file():
        raise ValueError(f"encoder: {path} is not a file; use torchvision:resnet18 or a checkpoint path")
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(checkpoint, dict):
        for key in ("state_dict", "model"):
            if isinstance(checkpoint.get(key), dict):
                checkpoint = checkpoint[key]
                break
    if not isinstance(checkpoint, dict) or not all(isinstance(v, torch.Tensor) for v in checkpoint.values()):
        raise ValueError(f"encoder checkpoint {path}: expected a state dict of tensors")
    state = _strip_prefix(checkpoint)
    bottleneck = "layer1.0.conv3.weight" in state
    layers = [len({k.split(".")[1] for k in state if k.startswith(f"layer{i}.")}) for i in range(1, 5)]
    if 0 in layers:
        raise ValueError(f"encoder checkpoint {path}: not a ResNet with layer1-layer4 (blocks per layer {layers})")
    # Bottleneck's inner width is width_per_group in layer1 (64 for ResNet-50, 128 for wide ResNet-50-2).
    width = int(state["layer1.0.conv1.weight"].shape[0]) if bottleneck else 64
    model = ResNet(Bottleneck if bottleneck else BasicBlock, layers, width_per_group=width)
    stem = state["conv1.weight"]
    if stem.shape[-1] == 3:
        model.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False)
        model.maxpool = nn.Identity()
    model.fc = nn.Identity()
    state = {k: v for k, v in state.items() if not k.startswith("fc.")}
    missing, _ = model.load_state_dict(state, strict=False)
    if missing:
        raise ValueError(
            f"encoder checkpoint {path}: missing weights {missing[:5]}{' ...' if len(missing) > 5 else ''}"
        )
    name = f"ResNet({'Bottleneck' if bottleneck else 'BasicBlock'}, {layers}, width {width}) from {path}"
    return model.eval(), name
