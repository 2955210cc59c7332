"""JointMultiCrop (core) and the reference-DINO drop-in: layout, pairing and the joint relation."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from jointaug_plugins import JointMultiCrop, JointSpec, multicrop_pairs
from jointaug_plugins.adapters.dino import DataAugmentationDINO
from jointaug_plugins.options import JointOptions, UnknownOptionError
from jointaug_plugins.sampling import independent_ratio_sf, joint_ratio_sf


def _image(seed: int = 0, size=(120, 160)) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 255, (*size, 3), dtype=np.uint8))


def _pair_ratios(transform: JointMultiCrop, pairs: list[tuple[int, int]], n: int) -> np.ndarray:
    """Area ratios ``s_b / s_a`` of each pair over ``n`` images: an ``(n, len(pairs))`` array."""
    image = _image()
    ratios = []
    for _ in range(n):
        _, records = transform.apply(image, records=True)
        areas = {r.view: r.params["area"] for r in records if r.kind == "crop"}
        ratios.append([areas[b] / areas[a] for a, b in pairs])
    return np.asarray(ratios)


def test_multicrop_pairs_layouts():
    assert multicrop_pairs(2, 6, "global") == [(0, 1)]
    assert multicrop_pairs(2, 6, "local") == [(2, 3), (4, 5), (6, 7)]
    assert multicrop_pairs(2, 5, "both") == [(0, 1), (2, 3), (4, 5)]  # the odd last local stays alone
    with pytest.raises(ValueError, match="multicrop"):
        multicrop_pairs(2, 6, "all")


def test_dino_dropin_layout_and_shapes():
    dino = DataAugmentationDINO((0.4, 1.0), (0.05, 0.4), 3, seed=0)
    views = dino(_image())
    assert [tuple(v.shape) for v in views] == [(3, 224, 224)] * 2 + [(3, 96, 96)] * 3
    assert all(v.dtype == torch.float32 for v in views)
    assert dino.pairs == [(0, 1)]
    assert DataAugmentationDINO((0.4, 1.0), (0.05, 0.4), 3, multicrop="both").pairs == [(0, 1), (2, 3)]


def test_multicrop_option_and_bad_modes():
    transform = JointMultiCrop(32, 16, 2, crop={"beta": 0.0}, multicrop="local")
    assert transform.pairs == [(2, 3)] and transform.multicrop == "local"
    assert JointMultiCrop(32, 16, 2).multicrop == "global"  # None: DINO's global pair
    with pytest.raises(ValueError, match=r"multicrop must be one of 'global', 'local', 'both'; got 'all'"):
        JointMultiCrop(32, 16, 2, multicrop="all")
    # One way to say it: the mode is not a crop option.
    with pytest.raises(ValueError, match=r"crop has unknown option\(s\) joint; valid keys: beta, margin, sigma"):
        JointMultiCrop(32, 16, 2, crop={"beta": 0.0, "joint": "local"})
    # The one parser: on a multi-crop layout None means "global" (one default policy); elsewhere consecutive pairs.
    assert JointOptions.parse().pairs_for([2, 6]) == [(0, 1)]
    assert JointOptions.parse(multicrop="both").pairs_for([2, 5]) == [(0, 1), (2, 3), (4, 5)]
    assert JointOptions.parse(multicrop="local").pairs_for([2, 6]) == [(2, 3), (4, 5), (6, 7)]
    assert JointOptions.parse().pairs_for([1, 1]) == [(0, 1)]  # BYOL's two pipelines are not multi-crop
    with pytest.raises(ValueError, match=r"multicrop='both' needs a multi-crop layout"):
        JointOptions.parse(multicrop="both").pairs_for([2])
    with pytest.raises(ValueError, match=r"multicrop must be one of 'global', 'local', 'both'; got True"):
        JointOptions.parse(multicrop=True)


@pytest.mark.parametrize(
    "make",
    [lambda **k: JointMultiCrop(32, 16, 2, **k), lambda **k: DataAugmentationDINO((0.4, 1.0), (0.05, 0.4), 2, **k)],
    ids=["JointMultiCrop", "DataAugmentationDINO"],
)
def test_multicrop_doors_parse_the_one_option_set(make):
    with pytest.raises(UnknownOptionError) as one:
        JointOptions.parse(blurr=0.0)
    with pytest.raises(UnknownOptionError) as err:
        make(blurr=0.0)
    assert str(err.value) == str(one.value)
    views = make(reproducible=True, seed=0, blur=0.0)  # every key it can honour is taken
    assert views.options == JointOptions.parse(reproducible=True, seed=0, blur=0.0)
    assert views.layout == [2, 2] and views.pairs == [(0, 1)]


@pytest.mark.parametrize("mode", ["global", "local", "both", None])
def test_pairs_are_joint_only_where_asked(mode):
    n = 1200
    crop = None if mode is None else 0.0
    transform = JointMultiCrop(16, 8, n_local=2, crop=crop, multicrop=mode, seed=1)
    global_r, local_r = _pair_ratios(transform, [(0, 1), (2, 3)], n).T
    expected = {
        "global": joint_ratio_sf(2, 0.4, 1.0, JointSpec(0.0))
        if mode in ("global", "both")
        else independent_ratio_sf(2, 0.4, 1.0),
        "local": joint_ratio_sf(2, 0.05, 0.4, JointSpec(0.0))
        if mode in ("local", "both")
        else independent_ratio_sf(2, 0.05, 0.4),
    }
    assert abs(np.mean(global_r > 2) - expected["global"]) < 0.03
    assert abs(np.mean(local_r > 2) - expected["local"]) < 0.03


@pytest.mark.parametrize(
    "make",
    [
        lambda: JointMultiCrop(32, 16, n_local=1, multicrop="local"),
        lambda: DataAugmentationDINO((0.4, 1.0), (0.05, 0.4), 1, multicrop="local"),
        lambda: JointOptions.parse(multicrop="local").pairs_for([2, 1]),
    ],
    ids=["JointMultiCrop", "DataAugmentationDINO", "pairs_for"],
)
def test_local_pairs_on_a_single_local_crop_are_an_error_not_a_warning(make):
    with pytest.raises(ValueError, match=r"these 3 view\(s\) form no joint pair \(views per group: \[2, 1\]"):
        make()
    # With two locals the same mode pairs them; with one, "both" keeps the global pair.
    assert JointMultiCrop(32, 16, n_local=2, multicrop="local").pairs == [(2, 3)]
    with pytest.warns(UserWarning, match=r"view\(s\) \[2\] of 3 are in no pair"):
        assert JointMultiCrop(32, 16, n_local=1, multicrop="both").pairs == [(0, 1)]


def test_color_pairs_the_colour_jitter_of_every_view():
    # Its jitter is the core's JointColorJitter (torchvision's arguments), so color=... pairs it as on the drop-ins.
    transform = JointMultiCrop(32, 16, n_local=2, crop=None, color=0.0, multicrop="both", seed=0)
    brightness = []  # per view, the drawn brightness factor (in [0.6, 1.4]), whether or not RandomApply applies it
    for _ in range(2000):
        draw = transform.draw()
        brightness.append([next(s.factors[0] for s in v.slices if type(s).__name__ == "ColorDraw") for v in draw.views])
    b = np.asarray(brightness)
    joint, independent = joint_ratio_sf(2, 0.6, 1.4, JointSpec(0.0)), independent_ratio_sf(2, 0.6, 1.4)
    assert joint - independent > 0.04  # the test can tell the two apart
    for first, second in [(0, 1), (2, 3)]:
        assert abs(np.mean(b[:, second] / b[:, first] > 2) - joint) < 0.02


def test_a_misspelled_argument_is_a_type_error_naming_the_argument():
    with pytest.raises(TypeError, match=r"JointMultiCrop: got an unexpected keyword argument 'n_locals' \(did you"):
        JointMultiCrop(n_locals=2)
    with pytest.raises(TypeError, match=r"DataAugmentationDINO: .* 'local_crop_number' \(did you mean 'local_crops_n"):
        DataAugmentationDINO((0.4, 1.0), (0.05, 0.4), 2, local_crop_number=2)
