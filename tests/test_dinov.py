"""DINOv2 / DINOv3 drop-ins: upstream's output structure and attributes, joint pairs read back from pixels.

Upstream (facebookresearch/dinov2, dinov3) is not on PyPI: the structural comparison against it runs where
``dinov2`` / ``dinov3`` are importable (a scratch checkout on ``PYTHONPATH``) and skips cleanly elsewhere.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
import torch
from helpers_images import coordinate_image
from torchvision import transforms as T

from jointaug_plugins import sample_index
from jointaug_plugins.adapters import dinov2, dinov3
from jointaug_plugins.boxes import sample_crop_box_pairs
from jointaug_plugins.options import JointOptions, UnknownOptionError
from jointaug_plugins.spec import JointSpec

GLOBAL, LOCAL = (0.32, 1.0), (0.05, 0.32)
MODULES = {"dinov2": dinov2, "dinov3": dinov3}
ATTRIBUTES = ["geometric_augmentation_global", "geometric_augmentation_local", "global_transfo1", "global_transfo2",
              "local_transfo", "normalize"]  # fmt: skip


@pytest.mark.parametrize("name", MODULES)
def test_output_structure_and_attributes_are_upstreams(name):
    aug = MODULES[name].DataAugmentationDINO(GLOBAL, LOCAL, 4, seed=0)
    out = aug(coordinate_image())
    expected = ["global_crops", "global_crops_teacher", "local_crops", "offsets"]
    assert sorted(k for k in out if k != "weak_flag") == expected and (name == "dinov3") == ("weak_flag" in out)
    assert [tuple(c.shape) for c in out["global_crops"]] == [(3, 224, 224)] * 2
    assert [tuple(c.shape) for c in out["local_crops"]] == [(3, 96, 96)] * 4
    assert out["global_crops_teacher"][0] is out["global_crops"][0] and out["offsets"] == ()
    for attribute in ATTRIBUTES:
        assert hasattr(aug, attribute), attribute
    assert type(aug.geometric_augmentation_global.transforms[0]).__name__ == "JointRandomResizedCrop"


@pytest.mark.parametrize("name", MODULES)
def test_joint_options_are_the_one_option_set(name):
    with pytest.raises(UnknownOptionError) as one:
        JointOptions.parse(blurr=0.0)
    with pytest.raises(UnknownOptionError) as err:
        MODULES[name].DataAugmentationDINO(GLOBAL, LOCAL, 2, blurr=0.0)
    assert str(err.value) == str(one.value)  # the one message of every entry point
    aug = MODULES[name].DataAugmentationDINO(GLOBAL, LOCAL, 2, 32, 16, reproducible=True, seed=0)
    views = aug.joint.views()
    assert views.options == JointOptions.parse(reproducible=True, seed=0) and views.layout == [2, 2]
    assert views.pairs == [(0, 1)]  # multi-crop: the one default policy, the global pair
    image, made = coordinate_image(), []
    for index in (7, 7, 8):
        with sample_index(index):
            out = aug(image)
        made.append(out["global_crops"] + out["local_crops"])
    # The views are a function of (seed, epoch, index): the same index gives the same views, another differs.
    assert all(torch.equal(a, b) for a, b in zip(made[0], made[1]))
    assert not torch.equal(made[0][0], made[2][0])


@pytest.mark.parametrize("name", MODULES)
def test_a_misspelled_upstream_argument_is_a_type_error_and_one_local_crop_forms_no_local_pair(name):
    make = MODULES[name].DataAugmentationDINO
    with pytest.raises(TypeError, match=r"got an unexpected keyword argument 'global_crop_size' \(did you mean 'glob"):
        make(GLOBAL, LOCAL, 2, global_crop_size=32)
    with pytest.raises(ValueError, match=r"these 3 view\(s\) form no joint pair .*multicrop: 'local'"):
        make(GLOBAL, LOCAL, 1, 32, 16, multicrop="local")
    assert make(GLOBAL, LOCAL, 2, 32, 16, multicrop="local").joint.views().pairs == [(2, 3)]


def test_dinov3_options_keep_upstreams_outputs():
    out = dinov3.DataAugmentationDINO(GLOBAL, LOCAL, 4, gram_teacher_crops_size=256, seed=0)(coordinate_image())
    assert [tuple(c.shape) for c in out["gram_teacher_crops"]] == [(3, 256, 256)] * 2
    assert [tuple(c.shape) for c in out["global_crops"]] == [(3, 224, 224)] * 2
    subset = dinov3.DataAugmentationDINO(GLOBAL, LOCAL, 4, local_crops_subset_of_global_crops=True, seed=0)
    out = subset(coordinate_image())
    assert len(out["offsets"]) == 4 and [tuple(c.shape) for c in out["local_crops"]] == [(3, 96, 96)] * 4
    with pytest.raises(ValueError, match="color is switched on but no view holds a color transform"):
        dinov3.DataAugmentationDINO(GLOBAL, LOCAL, 4, share_color_jitter=True, color=0.0)


def test_dinov3_local_offsets_replay_with_the_draw_and_leave_numpy_alone():
    """The subset-of-global local crops' offsets (upstream: numpy's global generator) come from each local view's
    seed: the same reproducible key gives the same offsets and crops, and numpy's stream outside is untouched."""
    subset = dinov3.DataAugmentationDINO(GLOBAL, LOCAL, 4, local_crops_subset_of_global_crops=True, seed=0,
                                         reproducible=True)  # fmt: skip
    image = coordinate_image()
    made = []
    for index in (3, 3, 4):
        np.random.seed(7)
        with sample_index(index):
            made.append(subset(image))
        assert np.random.randint(0, 2**31) == np.random.RandomState(7).randint(0, 2**31)
    assert made[0]["offsets"] == made[1]["offsets"]
    assert all(torch.equal(a, b) for a, b in zip(made[0]["local_crops"], made[1]["local_crops"]))
    other_index_differs = made[2]["offsets"] != made[0]["offsets"] or not all(
        torch.equal(a, b) for a, b in zip(made[0]["local_crops"], made[2]["local_crops"])
    )
    assert other_index_differs


def _area(view: torch.Tensor) -> float:
    """Box area read off a view of the coordinate image (red = column, green = row; flips reverse red)."""
    pixels = view * 255.0
    out_h, out_w = view.shape[-2:]
    width = float((pixels[0, :, -1] - pixels[0, :, 0]).abs().median()) * out_w / (out_w - 1)
    height = float((pixels[1, -1, :] - pixels[1, 0, :]).median()) * out_h / (out_h - 1)
    return max(width, 1.0) * max(height, 1.0)


@pytest.mark.parametrize("name", MODULES)
@pytest.mark.parametrize("multicrop", ["global", "local"])
def test_pairs_read_back_from_pixels_are_joint_as_multicrop_says(name, multicrop):
    aug = MODULES[name].DataAugmentationDINO(GLOBAL, LOCAL, 2, 32, 16, crop=0.0, multicrop=multicrop, seed=1)
    # Customised attributes keep working: colour, blur and normalisation replaced by a plain conversion.
    plain = T.ToTensor()
    aug.global_transfo1 = aug.global_transfo2 = aug.local_transfo = plain
    image = coordinate_image()
    ratios = []
    for _ in range(1200):
        out = aug(image)
        g, loc = out["global_crops"], out["local_crops"]
        ratios.append((_area(g[1]) / _area(g[0]), _area(loc[1]) / _area(loc[0])))
    p_global, p_local = np.mean(np.asarray(ratios) > 2, axis=0)
    expected_global = _box_p(GLOBAL, multicrop == "global", image.size)
    expected_local = _box_p(LOCAL, multicrop == "local", image.size)
    assert abs(p_global - expected_global) < 0.03, (p_global, expected_global)
    assert abs(p_local - expected_local) < 0.03, (p_local, expected_local)
    # The test tells joint from independent pairs on both scale ranges.
    for scale in (GLOBAL, LOCAL):
        assert abs(_box_p(scale, True, image.size) - _box_p(scale, False, image.size)) > 0.1


def _box_p(scale, joint: bool, size) -> float:
    """P(s2/s1 > 2) of the boxes themselves on an image of ``size`` (fallbacks included), by Monte Carlo:
    with scale 0.32-1.0 on a 4:3 image many large areas do not fit, so the closed forms do not apply."""
    width, height = size
    spec = JointSpec(0.0) if joint else None
    boxes = sample_crop_box_pairs(height, width, 200_000, scale, spec=spec, generator=torch.Generator().manual_seed(0))
    areas = (boxes[..., 2] * boxes[..., 3]).double()
    return float((areas[:, 1] / areas[:, 0] > 2).double().mean())


@pytest.mark.skipif(importlib.util.find_spec("dinov2") is None, reason="DINOv2 is not installed (a source checkout)")
def test_same_structure_as_upstream_dinov2():
    from dinov2.data.augmentations import DataAugmentationDINO as Upstream

    theirs = Upstream(GLOBAL, LOCAL, 4)
    ours = dinov2.DataAugmentationDINO(GLOBAL, LOCAL, 4, crop=None)
    _compare(theirs, ours)


@pytest.mark.skipif(importlib.util.find_spec("dinov3") is None, reason="DINOv3 is not installed (a source checkout)")
@pytest.mark.parametrize("options", [{}, {"gram_teacher_crops_size": 256}, {"local_crops_subset_of_global_crops": 1}])
def test_same_structure_as_upstream_dinov3(options):
    from dinov3.data.augmentations import DataAugmentationDINO as Upstream

    theirs = Upstream(GLOBAL, LOCAL, 4, **options)
    ours = dinov3.DataAugmentationDINO(GLOBAL, LOCAL, 4, **options, crop=None)
    _compare(theirs, ours)


def _compare(theirs, ours) -> None:
    """Same output keys and shapes, same public attributes, same transform classes per attribute."""
    image = coordinate_image()
    a, b = theirs(image), ours(image)
    assert sorted(a) == sorted(b)
    for key, value in a.items():
        if isinstance(value, list) and value and isinstance(value[0], torch.Tensor):
            assert [v.shape for v in value] == [v.shape for v in b[key]], key
    public = {k for k in vars(theirs) if not k.startswith("_")}
    assert public <= set(vars(ours)), public - set(vars(ours))
    names = lambda t: [type(x).__name__ for x in getattr(t, "transforms", [t])]  # noqa: E731
    for attribute in ATTRIBUTES:
        assert names(getattr(theirs, attribute)) == names(getattr(ours, attribute)), attribute


def test_a_replaced_attribute_is_made_joint_and_a_bad_view_index_is_refused():
    aug = dinov2.DataAugmentationDINO(GLOBAL, LOCAL, 2, seed=0)
    aug.geometric_augmentation_local = dinov2.geometric(96, (0.05, 0.4))  # a user's own local crop
    views, draw = aug.joint.draw()
    assert type(aug.geometric_augmentation_local.transforms[0]).__name__ == "JointRandomResizedCrop"
    assert len(views) == 4 and views.pairs == [(0, 1)]
    with pytest.raises(ValueError, match=r"index \(a view index\) must be an int in \[0, 3\]"):
        views.making_view(draw, 4)
