"""Where the localization pass reads the model's feature map: a named module, or a default per architecture."""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

__all__ = ["FeatureSite", "feature_map", "feature_module"]

# The residual blocks of torchvision's, timm's and the mm ResNets (all use these two class names).
_RESNET_BLOCKS = ("BasicBlock", "Bottleneck")


@dataclass(frozen=True)
class FeatureSite:
    """The module whose output is the feature map, and how to read it.

    Attributes:
        name: The module's name in ``model.named_modules()``.
        module: The module itself (the pass puts a forward hook on it).
        prefix_tokens: For a ViT block, how many class / register tokens precede the patch tokens (dropped before
            the tokens are laid out as a grid); ``None`` when the module's output is a ``(N, C, h, w)`` map.
    """

    name: str
    module: nn.Module
    prefix_tokens: int | None = None


def _is_resnet_stage(module: nn.Module) -> bool:
    blocks = list(module.children()) if isinstance(module, nn.Sequential) else []
    return bool(blocks) and all(type(block).__name__ in _RESNET_BLOCKS for block in blocks)


def _sequential_resnet_layer4(model: nn.Module) -> tuple[str, nn.Module] | None:
    """The fourth residual stage inside an ``nn.Sequential`` made of a ResNet's children
    (``nn.Sequential(*list(resnet.children())[:-1])``, as lightly's examples build backbones: there it is ``"7"``)."""
    for name, module in model.named_modules():
        if not isinstance(module, nn.Sequential):
            continue
        stages = [(child_name, child) for child_name, child in module.named_children() if _is_resnet_stage(child)]
        if len(stages) == 4:
            child_name, child = stages[-1]
            return (f"{name}.{child_name}" if name else child_name), child
    return None


def _vit_last_block(model: nn.Module) -> FeatureSite | None:
    """The last block of the first timm or torchvision ViT inside ``model``."""
    for name, module in model.named_modules():
        prefix = f"{name}." if name else ""
        blocks = getattr(module, "blocks", None)
        if isinstance(blocks, (nn.Sequential, nn.ModuleList)) and len(blocks) and hasattr(module, "patch_embed"):
            # timm's VisionTransformer (and its subclasses): class + register tokens precede the patches.
            prefix_tokens = int(getattr(module, "num_prefix_tokens", 1))
            return FeatureSite(f"{prefix}blocks.{len(blocks) - 1}", blocks[-1], prefix_tokens)
        layers = getattr(getattr(module, "encoder", None), "layers", None)
        if type(module).__name__ == "VisionTransformer" and isinstance(layers, nn.Sequential) and len(layers):
            # torchvision's VisionTransformer: one class token.
            last = list(layers.named_children())[-1][0]
            return FeatureSite(f"{prefix}encoder.layers.{last}", layers[-1], 1)
    return None


def feature_module(model: nn.Module, layer: str | None = None) -> FeatureSite:
    """The module whose output the localization pass turns into boxes.

    Args:
        model: The model being trained (a LightningModule, an mmengine model, any ``nn.Module``).
        layer: The module's name in ``model.named_modules()`` (e.g. ``"backbone.layer4"``); its output must be a
            ``(N, C, h, w)`` feature map, or ``(N, T, C)`` tokens whose last ``h * w`` form a square grid. ``None``
            searches, in order: the first module whose name is or ends in ``layer4`` (torchvision's, timm's and the
            mm ResNets; the online encoder comes first in MoCo / BYOL / solo-learn models); the fourth residual
            stage of an ``nn.Sequential`` built from a ResNet's children (lightly's examples name it ``"7"``);
            the last block of a timm or torchvision ViT (class and register tokens dropped).

    Raises:
        ValueError: ``layer`` names no module (the closest names are listed), or the search finds none.
    """
    named = dict(model.named_modules())
    if layer is not None:
        if not isinstance(layer, str) or layer not in named:
            close = difflib.get_close_matches(str(layer), [n for n in named if n], n=5)
            hint = f"; close names: {close}" if close else ""
            raise ValueError(f"layer={layer!r} is not the name of a module of {type(model).__name__}{hint}")
        return FeatureSite(layer, named[layer], _prefix_tokens_of(model, layer))
    for name, module in named.items():
        if name == "layer4" or name.endswith(".layer4"):
            return FeatureSite(name, module)
    found = _sequential_resnet_layer4(model)
    if found is not None:
        return FeatureSite(*found)
    vit = _vit_last_block(model)
    if vit is not None:
        return vit
    raise ValueError(
        f"no default feature map found in {type(model).__name__} (no module named '...layer4', no ResNet stages in "
        "an nn.Sequential, no timm or torchvision ViT): name the module whose output is the last feature map with "
        "layer='<name in model.named_modules()>' (position=dict(..., layer=...))"
    )


def _prefix_tokens_of(model: nn.Module, layer: str) -> int | None:
    """For a named module inside a ViT, the ViT's prefix-token count (``None`` if no ViT encloses it)."""
    vit = _vit_last_block(model)
    if vit is None:
        return None
    return vit.prefix_tokens


def feature_map(output: Any, site: FeatureSite) -> torch.Tensor:
    """The ``(N, C, h, w)`` feature map of ``site``'s output (tokens laid out as a square grid after dropping the
    prefix tokens; a tuple or list output: its first tensor).

    Raises:
        ValueError: an output that is no 4-D map, or tokens that do not form a square grid.
    """
    if isinstance(output, (tuple, list)):
        output = next((o for o in output if isinstance(o, torch.Tensor)), None)
    if not isinstance(output, torch.Tensor):
        raise ValueError(f"the output of module {site.name!r} is no tensor ({type(output).__name__}): pass layer=")
    if output.ndim == 4:
        return output
    if output.ndim == 3:
        n, tokens, channels = output.shape
        skip = site.prefix_tokens if site.prefix_tokens is not None else tokens - math.isqrt(tokens) ** 2
        side = math.isqrt(tokens - skip)
        if side * side != tokens - skip or side == 0:
            raise ValueError(
                f"module {site.name!r} gives {tokens} tokens; after dropping {skip} prefix tokens they do not form a "
                "square grid of patches: pass layer= naming a module with a (N, C, h, w) feature map"
            )
        return output[:, skip:].transpose(1, 2).reshape(n, channels, side, side)
    raise ValueError(
        f"module {site.name!r} gives a tensor of shape {tuple(output.shape)}, neither a (N, C, h, w) feature map nor "
        "(N, tokens, C) ViT tokens: pass layer= naming the module of the last feature map"
    )
