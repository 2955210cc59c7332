"""Drop-in for DINOv3's ``dinov3.data.augmentations.DataAugmentationDINO`` with joint crops (and blur, colour).

In DINOv3's ``dinov3/train/train.py`` change one import::

    from jointaug_plugins.adapters.dinov3 import DataAugmentationDINO

Same constructor arguments and defaults (gram-teacher crops, ``share_color_jitter``,
``local_crops_subset_of_global_crops`` ...), same output dict (``weak_flag``, ``global_crops``,
``global_crops_teacher``, ``gram_teacher_crops`` when asked, ``local_crops``, ``offsets``), the same public
attributes used the same way in ``__call__``; plus the joint options as keywords (see
:class:`~jointaug_plugins.JointOptions`).
Checked against facebookresearch/dinov3 at commit 6876159.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn
from torchvision.transforms import v2

from .._checks import argument_names, refuse_misnamed
from ..options import JointOptions, option_keys
from .dinov_common import JointDINOLayout

logger = logging.getLogger("dinov3")

IMAGENET_DEFAULT_MEAN = (0.485, 0.456, 0.406)
IMAGENET_DEFAULT_STD = (0.229, 0.224, 0.225)
_BICUBIC = v2.InterpolationMode.BICUBIC


class GaussianBlur(v2.RandomApply):
    """DINOv3's blur: ``v2.GaussianBlur(kernel_size=9, sigma=(radius_min, radius_max))`` inside a ``RandomApply``
    of probability ``1 - p``, as upstream builds it."""

    def __init__(self, *, p: float = 0.5, radius_min: float = 0.1, radius_max: float = 2.0) -> None:
        super().__init__(transforms=[v2.GaussianBlur(kernel_size=9, sigma=(radius_min, radius_max))], p=1 - p)


def _geometric(size: int, scale: Sequence[float], flips: bool) -> Any:
    return v2.Compose(
        [
            v2.RandomResizedCrop(size, scale=scale, interpolation=_BICUBIC),
            v2.RandomHorizontalFlip(p=0.5 if flips else 0.0),
        ]
    )


class DataAugmentationDINO:
    """DINOv3's augmentation with joint pairs (arguments as upstream's, then the joint options).

    Args:
        global_crops_scale, local_crops_scale: Area ranges, ``0 < min <= max <= 1``.
        local_crops_number: Number of local crops, ``>= 0``.
        global_crops_size, local_crops_size: Crop sizes in pixels (224, 96).
        gram_teacher_crops_size: Size of the gram-teacher crops, or ``None`` (none are made).
        gram_teacher_no_distortions, teacher_no_color_jitter, local_crops_subset_of_global_crops, patch_size,
            share_color_jitter, horizontal_flips, mean, std: as upstream.
        **options: The joint options (keyword only), see :class:`~jointaug_plugins.JointOptions`: default
            JointCrop(0) on the global pair; ``crop=None`` keeps upstream's independent crops; ``color`` needs
            per-view jitter (``share_color_jitter=False``); ``multicrop`` says which pairs of the
            ``[2, local_crops_number]`` views are joint; ``reproducible=True`` (with ``seed``) needs the dataset
            index, e.g. the dataset wrapped with :func:`jointaug_plugins.indexed`.
    """

    def __init__(
        self,
        global_crops_scale: Sequence[float],
        local_crops_scale: Sequence[float],
        local_crops_number: int,
        global_crops_size: int = 224,
        local_crops_size: int = 96,
        gram_teacher_crops_size: int | None = None,
        gram_teacher_no_distortions: bool = False,
        teacher_no_color_jitter: bool = False,
        local_crops_subset_of_global_crops: bool = False,
        patch_size: int = 16,
        share_color_jitter: bool = False,
        horizontal_flips: bool = True,
        mean: Sequence[float] = IMAGENET_DEFAULT_MEAN,
        std: Sequence[float] = IMAGENET_DEFAULT_STD,
        **options: Any,
    ) -> None:
        # A misspelled upstream argument (global_crop_size) is a TypeError naming the argument, as Python's.
        refuse_misnamed(type(self).__name__, options, argument_names(type(self).__init__), option_keys())
        joint_options = JointOptions.parse(options)
        self.global_crops_scale = global_crops_scale
        self.local_crops_scale = local_crops_scale
        self.local_crops_number = local_crops_number
        self.global_crops_size = global_crops_size
        self.local_crops_size = local_crops_size
        self.gram_teacher_crops_size = gram_teacher_crops_size
        self.gram_teacher_no_distortions = gram_teacher_no_distortions
        self.teacher_no_color_jitter = teacher_no_color_jitter
        self.local_crops_subset_of_global_crops = local_crops_subset_of_global_crops
        self.patch_size = patch_size
        self.share_color_jitter = share_color_jitter
        self.mean = mean
        self.std = std
        logger.info("DataAugmentationDINO (jointaug): joint: %s", joint_options.describe())

        # The global crop is taken at the larger of the global and gram-teacher sizes, then resized.
        global_crop_max_size = max(global_crops_size, gram_teacher_crops_size or 0)
        self.geometric_augmentation_global = _geometric(global_crop_max_size, global_crops_scale, horizontal_flips)
        resize_global: Any = nn.Identity()
        self.resize_global_post_transf: Any = nn.Identity()
        self.resize_gram_teacher: Any = None
        if gram_teacher_crops_size is not None:
            if gram_teacher_no_distortions:
                resize_global = v2.Resize(global_crops_size, interpolation=_BICUBIC)
            else:
                self.resize_global_post_transf = v2.Resize(global_crops_size, interpolation=_BICUBIC)
            self.resize_gram_teacher = v2.Resize(gram_teacher_crops_size, interpolation=_BICUBIC)
        self.geometric_augmentation_local = _geometric(local_crops_size, local_crops_scale, horizontal_flips)

        color_jittering = v2.Compose(
            [
                v2.RandomApply([v2.ColorJitter(brightness=0.4, contrast=0.4, saturation=0.2, hue=0.1)], p=0.8),
                v2.RandomGrayscale(p=0.2),
            ]
        )
        global_transfo1_extra = GaussianBlur(p=1.0)
        global_transfo2_extra = v2.Compose([GaussianBlur(p=0.1), v2.RandomSolarize(threshold=128, p=0.2)])
        local_transfo_extra = GaussianBlur(p=0.5)
        self.normalize = v2.Compose([v2.ToImage(), v2.ToDtype(torch.float32, scale=True), v2.Normalize(mean, std)])
        # With a shared jitter the colour is applied to the image before any crop (not per view).
        jitter = [] if share_color_jitter else [color_jittering]
        if share_color_jitter:
            self.color_jittering = color_jittering
        self.global_transfo1 = v2.Compose([resize_global, *jitter, global_transfo1_extra, self.normalize])
        self.global_transfo2 = v2.Compose([resize_global, *jitter, global_transfo2_extra, self.normalize])
        self.local_transfo = v2.Compose([*jitter, local_transfo_extra, self.normalize])

        global_steps = [
            ("geometric_augmentation_global", "global_transfo1"),
            ("geometric_augmentation_global", "global_transfo2"),
        ]
        # Locals cut from the global crops are not cropped at random: only their other steps take part.
        local_steps = ("local_transfo",) if local_crops_subset_of_global_crops else (
            "geometric_augmentation_local", "local_transfo"
        )  # fmt: skip
        self.joint = JointDINOLayout(self, global_steps, local_steps, local_crops_number, joint_options)

    def __call__(self, image: Any) -> dict[str, Any]:
        views, draw = self.joint.draw()
        output: dict[str, Any] = {"weak_flag": True}  # some residual from mugs (upstream's comment)
        if self.share_color_jitter:
            image = self.color_jittering(image)

        # global crops:
        with views.making_view(draw, 0):
            im1_base = self.geometric_augmentation_global(image)
            global_crop_1_transf = self.global_transfo1(im1_base)
        global_crop_1 = self.resize_global_post_transf(global_crop_1_transf)
        with views.making_view(draw, 1):
            im2_base = self.geometric_augmentation_global(image)
            global_crop_2_transf = self.global_transfo2(im2_base)
        global_crop_2 = self.resize_global_post_transf(global_crop_2_transf)
        output["global_crops"] = [global_crop_1, global_crop_2]

        # global crops for teacher:
        if self.teacher_no_color_jitter:
            output["global_crops_teacher"] = [self.normalize(im1_base), self.normalize(im2_base)]
        else:
            output["global_crops_teacher"] = [global_crop_1, global_crop_2]

        if self.gram_teacher_crops_size is not None:
            if self.gram_teacher_no_distortions:
                grams = [self.normalize(self.resize_gram_teacher(im)) for im in (im1_base, im2_base)]
            else:
                grams = [self.resize_gram_teacher(crop) for crop in (global_crop_1_transf, global_crop_2_transf)]
            output["gram_teacher_crops"] = grams

        # local crops:
        if self.local_crops_subset_of_global_crops:
            half = self.local_crops_number // 2
            local_crops, offsets = [], []
            gs, ls = self.global_crops_size, self.local_crops_size
            for k, base in enumerate([im1_base] * half + [im2_base] * half):
                with views.making_view(draw, 2 + k):
                    local = self.local_transfo(base)
                    # Upstream draws the offsets with numpy's global generator; here under the view's seed, so a
                    # draw replays them too.
                    rx, ry = np.random.randint(0, (gs - ls) // self.patch_size, 2) * self.patch_size
                local_crops.append(local[:, rx : rx + ls, ry : ry + ls])
                offsets.append((rx, ry))
            output["local_crops"] = local_crops
            output["offsets"] = offsets
        else:
            local_crops = []
            for k in range(self.local_crops_number):
                with views.making_view(draw, 2 + k):
                    local_crops.append(self.local_transfo(self.geometric_augmentation_local(image)))
            output["local_crops"] = local_crops
            output["offsets"] = ()
        return output
