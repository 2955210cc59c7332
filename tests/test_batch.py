"""The batched on-device path: same box distribution as the per-image path, correct crops, any dtype."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import stats
from torchvision.transforms.v2 import functional as F

from jointaug_plugins import JointRandomResizedCrop, JointViews
from jointaug_plugins.batch import JointResizedCropBatch
from jointaug_plugins.options import JointOptions, UnknownOptionError, UnsupportedOptionError


def test_views_have_the_size_dtype_and_device_of_the_input():
    for images in (torch.randint(0, 255, (5, 3, 40, 60), dtype=torch.uint8), torch.rand(5, 1, 40, 60)):
        views = JointResizedCropBatch((16, 24), seed=0)(images)
        assert len(views) == 2
        assert all(v.shape == (5, images.shape[1], 16, 24) and v.dtype == images.dtype for v in views)


def test_box_distribution_matches_the_per_image_path():
    module = JointResizedCropBatch(8, crop=0.0, seed=0)
    _, batched = module.boxes(module.draw(3000), 60, 80)
    per_image = JointViews([JointRandomResizedCrop(8)] * 2, crop=0.0, seed=1)
    image = torch.zeros(3, 60, 80)
    areas = [[r.params["area"] for r in per_image.apply(image, records=True)[1]] for _ in range(3000)]
    ratio_batched = np.log(batched[:, 1] / batched[:, 0]).numpy()
    ratio_single = np.log(np.array(areas)[:, 1] / np.array(areas)[:, 0])
    assert stats.ks_2samp(ratio_batched, ratio_single).pvalue > 1e-3
    assert stats.ks_2samp(batched[:, 0].numpy(), np.array(areas)[:, 0]).pvalue > 1e-3


def test_crops_show_the_drawn_region():
    """An image of four flat quadrants: every view's mean colour is the mix of quadrants its box covers."""
    image = torch.zeros(1, 3, 64, 64)
    image[0, 0, :32, :32] = 1.0  # red top-left
    image[0, 1, :32, 32:] = 1.0  # green top-right
    image[0, 2, 32:, :] = 1.0  # blue bottom half
    module = JointResizedCropBatch(16, scale=(0.05, 1.0), seed=3)
    for _ in range(20):
        views, boxes = module(image, return_boxes=True)
        for k in range(2):
            top, left, h, w = boxes[0, k].tolist()
            expected = image[0, :, top : top + h, left : left + w].mean(dim=(1, 2))
            assert torch.allclose(views[k][0].mean(dim=(1, 2)), expected, atol=0.06)


def test_full_box_equals_a_resize():
    image = torch.linspace(0, 1, 48 * 48).reshape(1, 1, 48, 48).repeat(1, 3, 1, 1)
    module = JointResizedCropBatch(24, scale=(0.999, 1.0), ratio=(1.0, 1.0), crop=None, seed=0)
    views, boxes = module(image, return_boxes=True)
    assert boxes[0, 0].tolist() == [0, 0, 48, 48]
    expected = F.resize(image[0], [24, 24], antialias=True)
    assert torch.allclose(views[0][0], expected, atol=0.02)


def test_hflip_probability_and_bad_input():
    image = torch.arange(16.0).reshape(1, 1, 4, 4).repeat(200, 1, 1, 1)
    module = JointResizedCropBatch(4, scale=(0.999, 1.0), ratio=(1.0, 1.0), hflip=0.5, crop=None, seed=0)
    views = module(image)
    flipped = (views[0][:, 0, 0, 0] > views[0][:, 0, 0, -1]).float().mean()
    assert abs(float(flipped) - 0.5) < 0.1
    with pytest.raises(TypeError, match=r"\(N, C, H, W\)"):
        module(torch.zeros(3, 4, 4))
    with pytest.raises(ValueError, match="hflip"):
        JointResizedCropBatch(4, hflip=1.5)


def test_the_joint_options_are_the_one_option_set():
    with pytest.raises(UnknownOptionError) as one:
        JointOptions.parse(blurr=0.0)
    with pytest.raises(UnknownOptionError) as err:
        JointResizedCropBatch(4, blurr=0.0)
    assert str(err.value) == str(one.value)
    with pytest.raises(UnsupportedOptionError, match=r"JointResizedCropBatch cannot honour reproducible=True: forward"):
        JointResizedCropBatch(4, reproducible=True, seed=0)
    assert JointResizedCropBatch(4, (0.2, 1.0), (1.0, 1.0), 0.5, crop=-1.0).spec.beta == -1.0  # positional: size..hflip


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_cuda_batch_matches_cpu():
    images = torch.randint(0, 255, (8, 3, 64, 64), dtype=torch.uint8)
    cpu_views, boxes = JointResizedCropBatch(32, seed=0)(images, return_boxes=True)
    gpu_views, gpu_boxes = JointResizedCropBatch(32, seed=0)(images.cuda(), return_boxes=True)
    assert torch.equal(boxes, gpu_boxes)
    assert (cpu_views[0].int() - gpu_views[0].cpu().int()).abs().max() <= 1


def test_boxes_with_a_size_per_image_equal_the_per_image_boxes():
    """DALI reads each image's size from its header: the batched boxes take one size per image and agree,
    box for box, with the per-image function, fallbacks included (tiny and extreme images force them)."""
    from jointaug_plugins.boxes import crop_box, crop_boxes_batch
    from jointaug_plugins.draw import unbatch

    views = JointViews([JointRandomResizedCrop(8, scale=(0.3, 1.0)) for _ in range(2)], crop=-1.0, seed=3)
    n = 400
    generator = torch.Generator().manual_seed(0)
    heights = torch.randint(1, 400, (n,), generator=generator)
    widths = torch.randint(1, 400, (n,), generator=generator)
    widths[:50] = heights[:50] * 9  # wider than any ratio allows: every attempt fails, the fallback is used
    draw = views.draw_batch(n, generator)
    ratio = views.view_transforms[0].ratio
    for v in range(2):
        boxes, areas = crop_boxes_batch(draw.views[v].slices[0], heights, widths, ratio)
        for i, single in enumerate(unbatch(draw)):
            box, area = crop_box(single.views[v].slices[0], int(heights[i]), int(widths[i]), ratio)
            assert tuple(boxes[i].tolist()) == box
            assert float(areas[i]) == pytest.approx(area)
