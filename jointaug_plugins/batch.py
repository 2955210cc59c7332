"""Joint views of a whole batch in one call, on any device (the on-device augmentation path).

:class:`JointResizedCropBatch` makes the draws of all images with the coordinator's batched draw
(:meth:`JointViews.draw_batch <jointaug_plugins.JointViews.draw_batch>`: the same numbers as the
per-image path's draws from the same uniforms), turns them into boxes with the batched box function,
and crops and resizes every view with one ``torchvision.ops.roi_align`` call. On a GPU this replaces
the per-image PIL work of the data loader; on a CPU the per-image uint8 path is faster.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torchvision.ops import roi_align

from ._checks import check_probability, check_size
from .boxes import crop_boxes_batch
from .draw import CropDraw, ImageDraw, slice_of
from .options import JointOptions
from .transforms.crop import JointRandomResizedCrop
from .transforms.views import JointViews


class JointResizedCropBatch(torch.nn.Module):
    """Two joint random-resized-crop views of every image of an ``(N, C, H, W)`` batch.

    Args:
        size: Output size, an int or ``(h, w)``, each ``>= 1``.
        scale: Range of the crop area as a fraction of the image area, ``0 < min < max <= 1``.
        ratio: Range of the crop aspect ratio ``w/h``, ``0 < min <= max``.
        hflip: Probability in [0, 1] that each view is flipped horizontally (drawn per view).
        **options: The joint options, see :class:`~jointaug_plugins.JointOptions` (default JointCrop(0); the
            views hold only crops, so ``blur`` and ``color`` have nothing to pair). ``reproducible=True`` is
            refused: ``forward`` receives no dataset indices.

    Draws are made on the CPU and the boxes moved to the batch's device. The resize is ``roi_align``
    with ``aligned=True`` (pixel centres as in ``resized_crop``) and an adaptive number of samples per
    output pixel, which averages like an antialiased downscale. uint8 batches are processed in float
    and rounded back to uint8.
    """

    def __init__(
        self,
        size: int | Sequence[int],
        scale: Sequence[float] = (0.08, 1.0),
        ratio: Sequence[float] = (3.0 / 4.0, 4.0 / 3.0),
        hflip: float = 0.0,
        **options: Any,
    ) -> None:
        super().__init__()
        self.size = check_size(size, "size")
        crops = [JointRandomResizedCrop(self.size, scale=scale, ratio=ratio) for _ in range(2)]
        self.scale, self.ratio = crops[0].scale, crops[0].ratio
        # The coordinator of the per-image path, used here only for its (batched) draw.
        self.views = JointViews(crops, JointOptions.parse(options).check_door("JointResizedCropBatch"))
        self.spec = self.views.specs["crop"]
        self.hflip = check_probability(hflip, "hflip")

    def draw(self, n: int, generator: torch.Generator | None = None) -> ImageDraw:
        """The batched draw of ``n`` images (see :meth:`JointViews.draw_batch`)."""
        return self.views.draw_batch(n, generator)

    def boxes(self, draw: ImageDraw, height: int, width: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Boxes ``(n, 2, 4)`` as ``(top, left, h, w)`` and area fractions ``(n, 2)`` of a batched draw."""
        crops = [slice_of(view.slices[0], CropDraw, "JointResizedCropBatch.boxes") for view in draw.views]
        per_view = [crop_boxes_batch(crop, height, width, self.ratio) for crop in crops]
        return torch.stack([b for b, _ in per_view], dim=1), torch.stack([a for _, a in per_view], dim=1)

    def forward(self, images: torch.Tensor, return_boxes: bool = False):
        """``images``: ``(N, C, H, W)`` uint8 or float. Returns ``[view_1, view_2]``, each
        ``(N, C, h, w)`` in the input's dtype and device (and the boxes if ``return_boxes``)."""
        if not isinstance(images, torch.Tensor) or images.ndim != 4:
            raise TypeError(
                f"images must be an (N, C, H, W) tensor, got {type(images).__name__} "
                f"{tuple(getattr(images, 'shape', ()))}"
            )
        n, _, height, width = images.shape
        if height < 1 or width < 1:
            raise ValueError(f"images must have height and width >= 1, got {height} x {width}")
        boxes, _ = self.boxes(self.draw(n), height, width)
        flips = torch.rand(n, 2, generator=self.views.rng.generator) < self.hflip
        source = images if images.is_floating_point() else images.float()
        top, left, h, w = boxes.to(torch.float32).unbind(-1)
        index = torch.arange(n, dtype=torch.float32).unsqueeze(1).expand(n, 2)
        rois = torch.stack((index, left, top, left + w, top + h), dim=-1).transpose(0, 1).reshape(-1, 5)
        crops = roi_align(
            source, rois.to(images.device), output_size=self.size, spatial_scale=1.0, sampling_ratio=-1, aligned=True
        )
        views = list(crops.reshape(2, n, *crops.shape[1:]).unbind(0))
        for k in range(2):
            flip = flips[:, k].to(images.device)
            views[k] = torch.where(flip[:, None, None, None], views[k].flip(-1), views[k])
            if not images.is_floating_point():
                views[k] = views[k].round_().clamp_(0, 255).to(images.dtype)
        return (views, boxes) if return_boxes else views
