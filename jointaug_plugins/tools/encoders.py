"""Encoders for the pair-difficulty measurement: a torchvision ResNet backbone, new or loaded from a file.

No weights can be downloaded here, so ``jointaug difficulty`` trains its encoders itself
(:mod:`~jointaug_plugins.tools.simsiam`), or reads a torchvision-style ResNet checkpoint
(:func:`load_encoder`). Either way the encoder is the backbone with ``fc`` replaced by the identity (its
pooled feature is the representation).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn

TRAINABLE = ("resnet18", "resnet34", "resnet50")
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
CROP_SCALE = (0.08, 1.0)

Progress = Callable[..., Any]


def no_progress(iterable=None, **_: Any):
    return iterable


def resnet_backbone(name: str) -> nn.Module:
    """A torchvision ResNet (random init) with ``fc`` replaced by the identity."""
    import torchvision

    if name not in TRAINABLE:
        raise ValueError(f"encoder: torchvision:{name} is not supported; use one of {', '.join(TRAINABLE)}")
    model = getattr(torchvision.models, name)(weights=None)
    model.fc = nn.Identity()
    return model


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
