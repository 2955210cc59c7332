"""Any channel count on the per-image path: JointCrop and JointBlur on any bands and dtypes, JointColor's brightness
and contrast on any channel count, saturation and hue refused clearly where the image is not RGB (a 13-band uint16
batch, as Sentinel-2 data comes)."""

from __future__ import annotations

import pytest
import torch
from torchvision.transforms import v2 as T
from torchvision.transforms.v2 import functional as F

from jointaug_plugins import jointify
from jointaug_plugins.transforms import JointColorJitter
from jointaug_plugins.transforms.color import _blend

BANDS = 13


def multispectral(seed: int = 0, dtype: torch.dtype = torch.uint16) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    if dtype.is_floating_point:
        return torch.rand(BANDS, 48, 64, generator=g, dtype=dtype)
    return torch.randint(0, 10_000, (BANDS, 48, 64), generator=g, dtype=torch.int32).to(dtype)


@pytest.mark.parametrize("dtype", [torch.uint16, torch.float32])
def test_joint_crop_blur_and_brightness_contrast_on_13_bands(dtype):
    view = T.Compose([T.RandomResizedCrop(24), T.GaussianBlur(5, sigma=(0.1, 2.0)), T.ColorJitter(0.4, 0.4)])
    views = jointify([view, view], crop=0.0, blur=0.0, color=0.0, seed=0)
    image = multispectral(dtype=dtype)
    draw = views.draw()
    made, records = views.apply(image, draw, records=True)
    assert [v.shape for v in made] == [(BANDS, 24, 24)] * 2 and all(v.dtype == dtype for v in made)
    assert {r.kind for r in records} == {"crop", "blur", "color"} and all(r.joint for r in records)
    again = views.apply(image, draw)
    assert all(torch.equal(a, b) for a, b in zip(made, again))


def test_brightness_and_contrast_follow_torchvisions_definition_on_any_band_count():
    image = multispectral()
    jitter = JointColorJitter(brightness=(1.5, 1.5))
    expected = (image.float() * 1.5).clamp(0, 65535).to(torch.uint16)
    assert torch.equal(jitter(image), expected)
    contrast = JointColorJitter(contrast=(0.5, 0.5))
    mean = image.float().mean()
    assert torch.equal(contrast(image), (image.float() * 0.5 + 0.5 * mean).clamp(0, 65535).to(torch.uint16))
    # One band: the same blends are torchvision's own kernels, bit for bit.
    gray = torch.randint(0, 256, (1, 20, 20), dtype=torch.uint8)
    assert torch.equal(_blend(gray, 0.0, 1.3), F.adjust_brightness(gray, 1.3))
    gray_mean = gray.float().mean(dim=(-3, -2, -1), keepdim=True)
    assert torch.equal(_blend(gray, gray_mean, 0.7), F.adjust_contrast(gray, 0.7))


@pytest.mark.parametrize("name", ["saturation", "hue"])
def test_saturation_and_hue_are_refused_on_non_rgb_images(name):
    jitter = JointColorJitter(**{name: 0.1})
    with pytest.raises(ValueError, match=rf"{name} is defined for RGB images only, got an image with 13 channels"):
        jitter(multispectral())
    rgb = torch.randint(0, 256, (3, 8, 8), dtype=torch.uint8)
    assert jitter(rgb).shape == rgb.shape  # RGB stays torchvision's


def test_kornia_views_take_13_bands_and_refuse_saturation_there():
    pytest.importorskip("kornia")
    import kornia.augmentation as K

    crop_blur_bc = K.AugmentationSequential(
        K.RandomResizedCrop((24, 24)), K.RandomGaussianBlur((5, 5), (0.1, 2.0), p=0.5), K.ColorJiggle(0.4, 0.4, p=0.8)
    )
    views = jointify([crop_blur_bc, crop_blur_bc], blur=0.0, color=0.0)
    batch = torch.randint(0, 10_000, (4, BANDS, 48, 64), dtype=torch.int32).to(torch.uint16)
    first, second = views(batch)
    assert first.shape == second.shape == (4, BANDS, 24, 24)
    with_saturation = K.AugmentationSequential(K.RandomResizedCrop((24, 24)), K.ColorJiggle(0.4, 0.4, 0.4, p=0.8))
    refusing = jointify([with_saturation, with_saturation], color=0.0)
    with pytest.raises(ValueError, match="saturation is defined for RGB images only, got an image with 13 channels"):
        refusing(batch)
