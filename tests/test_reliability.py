"""Bad input: every refusal is a ValueError / TypeError naming the argument; odd images work or are
refused clearly; jointify never changes a transform silently."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch
from PIL import Image
from torchvision import transforms as T

from jointaug_plugins import (
    JointColorJitter,
    JointGaussianBlur,
    JointRandomResizedCrop,
    JointViews,
    jointify,
)
from jointaug_plugins.sampling import sample_pairs


def _views(*ops):
    return [T.Compose(list(ops))] * 2


@pytest.mark.parametrize("kind", ["crop", "blur", "color"])
@pytest.mark.parametrize(
    "beta, error, text",
    [
        (math.nan, ValueError, "finite"),
        (math.inf, ValueError, "finite"),
        (-math.inf, ValueError, "finite"),
        ("0.0", TypeError, "beta"),
        (True, TypeError, "beta"),
        ({"beta": math.nan}, ValueError, "finite"),
        ({"beta": "x"}, TypeError, "beta"),
    ],
)
def test_bad_input_beta(kind, beta, error, text):
    views = _views(JointRandomResizedCrop(8), JointGaussianBlur(), JointColorJitter(0.4, 0.4, 0.4, 0.1))
    with pytest.raises(error, match=text) as info:
        JointViews(views, **{"crop": None, kind: beta})
    assert kind in str(info.value)


@pytest.mark.parametrize(
    "kwargs, text",
    [
        (dict(scale=(0.0, 1.0)), r"scale must lie in \(0, 1\]"),
        (dict(scale=(0.5, 1.5)), r"scale must lie in \(0, 1\]"),
        (dict(scale=(-0.1, 0.5)), r"scale must lie in \(0, 1\]"),
        (dict(scale=(0.9, 0.2)), r"scale must be ordered as \(min, max\)"),
        (dict(ratio=(4 / 3, 3 / 4)), r"ratio must be ordered as \(min, max\)"),
        (dict(ratio=(0.0, 1.0)), r"ratio must lie in \(0, inf\]"),
        (dict(scale=(math.nan, 1.0)), r"scale\[0\] must be finite"),
    ],
)
def test_bad_input_crop_ranges(kwargs, text):
    with pytest.raises(ValueError, match=text):
        JointRandomResizedCrop(8, **kwargs)


@pytest.mark.parametrize(
    "size, error",
    [
        (0, ValueError),
        (-3, ValueError),
        ((8, 0), ValueError),
        (2.5, TypeError),
        ("8", TypeError),
        ((1, 2, 3), TypeError),
    ],
)
def test_bad_input_sizes(size, error):
    with pytest.raises(error, match="size"):
        JointRandomResizedCrop(size)


def test_bad_input_margin_leaving_no_range():
    views = _views(JointRandomResizedCrop(8, scale=(0.5, 0.52)))
    with pytest.raises(ValueError, match=r"crop: JointRandomResizedCrop scale=\(0.5, 0.52\) with margin=0.1"):
        JointViews(views, crop=0.0)
    with pytest.raises(ValueError, match="margin"):
        JointViews(_views(JointRandomResizedCrop(8)), crop={"beta": 0.0, "margin": 11.5})
    with pytest.raises(ValueError, match="margin must be >= 0"):
        JointViews(_views(JointRandomResizedCrop(8)), crop={"beta": 0.0, "margin": -1})


@pytest.mark.parametrize("sigma", [(0.0, 2.0), (-1.0, 1.0), 0.0, (2.0, 0.1)])
def test_bad_input_blur_sigma(sigma):
    with pytest.raises(ValueError, match="sigma"):
        JointGaussianBlur(sigma=sigma)


def test_bad_input_color_range_crossing_zero_with_ratio():
    with pytest.raises(ValueError, match=r"color: JointColorJitter brightness=\(0, 2\) reaches 0"):
        JointViews(_views(JointColorJitter(brightness=1.0)), crop=None, color=0.0)
    with pytest.raises(ValueError, match="hue"):
        JointColorJitter(hue=0.7)
    # The offending factor can be left out of the joint draw explicitly.
    jitter = JointColorJitter(brightness=1.0, contrast=0.4)
    JointViews(_views(jitter), crop=None, color={"beta": 0.0, "factors": ["contrast"]})


def test_bad_input_unknown_option_keys_list_the_valid_ones():
    with pytest.raises(ValueError, match=r"crop has unknown option\(s\) bta \(did you mean 'beta'\?\); valid keys"):
        JointViews(_views(JointRandomResizedCrop(8)), crop={"bta": 0.0})
    with pytest.raises(ValueError, match=r"unknown joint option 'crops' \(did you mean 'crop'\?\); valid options"):
        JointViews(_views(JointRandomResizedCrop(8)), crops=0.0)


def test_bad_input_sampler_arguments():
    with pytest.raises(ValueError, match="n must be an int >= 0"):
        sample_pairs(0.08, 1.0, 0.0, -1)
    with pytest.raises(ValueError, match="coupling"):
        sample_pairs(0.08, 1.0, 0.0, 5, coupling="product")
    with pytest.raises(ValueError, match="reaches 0 or below"):
        sample_pairs(0.0, 1.0, 0.0, 5)
    with pytest.raises(ValueError, match="pairs"):
        JointViews(_views(JointRandomResizedCrop(8)), crop=0.0, pairs=[(0, 2)])
    with pytest.raises(ValueError, match="seed"):
        JointViews(_views(JointRandomResizedCrop(8)), crop=0.0, seed=-1)


@pytest.mark.parametrize(
    "image",
    [
        Image.new("RGB", (1, 1), (10, 20, 30)),
        Image.new("RGB", (3, 2)),
        Image.new("L", (7, 5)),
        Image.new("RGBA", (9, 6)),
        Image.new("I;16", (9, 6)),
        Image.new("CMYK", (9, 6)),
        torch.zeros(3, 1, 1, dtype=torch.uint8),
        torch.rand(1, 2, 3),
        torch.rand(4, 3, 9, 7),
    ],
    ids=["1x1", "2x3", "L", "RGBA", "I16", "CMYK", "tensor-1x1", "gray-2x3", "batch"],
)
def test_bad_input_odd_images_crop_everywhere(image):
    views = JointViews(_views(JointRandomResizedCrop(4)), crop=0.0, seed=0)(image)
    size = views[0].size if isinstance(views[0], Image.Image) else tuple(views[0].shape[-2:])
    assert size == (4, 4)


def test_bad_input_modes_blur_and_color_refuse_clearly():
    image16 = Image.new("I;16", (9, 6))
    with pytest.raises(ValueError, match="mode 'I;16'"):
        JointViews(_views(JointGaussianBlur()), crop=None, blur=0.0, seed=0)(image16)
    with pytest.raises(ValueError, match="mode 'I;16'"):
        JointViews(_views(JointColorJitter(0.4)), crop=None, color=0.0, seed=0)(image16)
    # Tensors of any channel count are blurred; a 1x1 image with a large sigma too.
    out = JointViews(_views(JointGaussianBlur(sigma=(1.0, 5.0))), crop=None, blur=0.0, seed=0)(torch.rand(3, 1, 1))
    assert out[0].shape == (3, 1, 1)


@pytest.mark.parametrize("value", [np.zeros((8, 8, 3), np.uint8), [1, 2, 3], "image.png"])
def test_bad_input_unsupported_types(value):
    with pytest.raises(TypeError, match="takes a PIL image"):
        JointViews(_views(JointRandomResizedCrop(4)), crop=0.0)(value)
    with pytest.raises(TypeError, match="HWC numpy arrays"):
        JointRandomResizedCrop(4)(np.zeros((8, 8, 3), np.uint8))


def test_jointify_refuses_a_switched_on_kind_it_cannot_convert_and_keeps_it_when_off():
    jitter = T.ColorJitter(brightness=1.0, contrast=0.4)  # brightness 0-2: no ratio coupling reaches 0
    views = [T.Compose([T.RandomResizedCrop(8), jitter])] * 2
    with warnings.catch_warnings(record=True) as caught, pytest.raises(ValueError) as refused:
        warnings.simplefilter("always")
        jointify(views, crop=0.0, color=0.0)
    said = str(refused.value) + " ".join(str(w.message) for w in caught)
    assert "color" in str(refused.value) and "brightness" in said  # what is on, and why it cannot be
    joint = jointify(views, crop=0.0)  # colour off: the jitter stays as it is, drawn per view
    assert type(joint.view_transforms[0].transforms[1]) is T.ColorJitter
    assert type(joint.view_transforms[0].transforms[0]) is JointRandomResizedCrop


def test_building_unseeded_transforms_leaves_torchs_global_generator_alone():
    """An unseeded source must not draw from torch's global RNG: that would shift the user's own
    stream (model initialisation) merely by switching joint views on."""
    from jointaug_plugins.rng import GeneratorSource

    torch.manual_seed(0)
    before = torch.get_rng_state()
    sources = [GeneratorSource(), GeneratorSource()]
    views = JointViews([T.Compose([JointRandomResizedCrop(8)])] * 2, crop=0.0)
    assert torch.equal(torch.get_rng_state(), before)
    # Two unseeded sources of one process still draw different streams ...
    first, second = (torch.rand(4, generator=s.generator) for s in sources)
    assert not torch.equal(first, second)
    views(Image.new("RGB", (16, 12)))
    assert torch.equal(torch.get_rng_state(), before)  # ... and drawing leaves the global stream alone too


@pytest.mark.parametrize("shape", [(3, 0, 10), (3, 10, 0), (2, 3, 0, 4)])
def test_empty_tensors_are_refused_naming_the_size(shape):
    with pytest.raises(ValueError, match=r"height \d+ and width \d+: both must be >= 1"):
        JointRandomResizedCrop(8)(torch.zeros(shape))
    with pytest.raises(ValueError, match="both must be >= 1"):
        JointRandomResizedCrop(8)(Image.new("RGB", (0, 5)))
