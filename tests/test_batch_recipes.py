"""Whole recipes as batch modules (kornia pipelines fed the core's joint draw): shapes and inputs, read-back pair
statistics from pixels per recipe, multi-crop pairs, reproducible draws and replay."""

from __future__ import annotations

import pytest
import torch

pytest.importorskip("kornia")

from test_kornia import coordinate_batch, independent_p_over_2, joint_p_over_2, p_over_2

from jointaug_plugins.adapters.kornia import (
    BYOLBatchViews,
    DINOBatchViews,
    MoCoV2BatchViews,
    MoCoV3BatchViews,
    SimCLRBatchViews,
)

TWO_VIEW = [SimCLRBatchViews, BYOLBatchViews, MoCoV2BatchViews, MoCoV3BatchViews]
# Everything that changes pixel values off: the coordinate pixels then show each view's crop box.
PLAIN = {"cj_prob": 0.0, "random_gray_scale": 0.0, "normalize": None}


def _plain(cls, crop, size=8):
    blur = {"gaussian_blur": 0.0} if cls in (SimCLRBatchViews, MoCoV2BatchViews) else {"gaussian_blur": (0.0, 0.0)}
    extra = {} if cls in (SimCLRBatchViews, MoCoV2BatchViews) else {"solarization_prob": (0.0, 0.0)}
    return cls(size, min_scale=0.08, crop=crop, seed=11, **PLAIN, **blur, **extra)


@pytest.mark.parametrize("cls", TWO_VIEW)
def test_recipe_views_from_uint8_float_and_lists(cls):
    module = cls(16, seed=0)
    uint8 = torch.randint(0, 256, (5, 3, 40, 48), dtype=torch.uint8)
    for images in (uint8, uint8.float() / 255, [uint8[0], uint8[1, :, :30, :20]]):
        views = module(images)
        n = len(images)
        assert len(views) == 2 and all(v.shape == (n, 3, 16, 16) and v.dtype == torch.float32 for v in views)
    # ImageNet normalisation is applied: the views are not in [0, 1] any more.
    assert float(module(uint8)[0].min()) < -0.1


def test_byol_views_are_asymmetric():
    module = BYOLBatchViews(16, seed=0)
    roles = [[type(op.module).__name__ for op in ops] for ops in module.ops]
    assert "RandomSolarize" not in roles[0] and "RandomSolarize" in roles[1]
    blur = [next(op for op in ops if op.role == "blur").p for ops in module.ops]
    assert blur == [1.0, 0.1]
    assert module.ops[1][roles[1].index("RandomSolarize")].p == 0.2
    assert [next(op for op in ops if op.role == "crop").mirror.scale for ops in MoCoV3BatchViews(8).ops] == [
        (0.2, 1.0),
        (0.2, 1.0),
    ]


@pytest.mark.parametrize("cls", TWO_VIEW)
@pytest.mark.parametrize(
    ("crop", "expected"), [(0.0, joint_p_over_2(0.08, 1.0)), (None, independent_p_over_2(0.08, 1.0))]
)
def test_recipe_read_back_pair_ratio(cls, crop, expected):
    measured = p_over_2(_plain(cls, crop)(coordinate_batch(4000)), 64 * 64)
    assert abs(measured - expected) < 0.03, (cls.__name__, measured, expected)


@pytest.mark.parametrize(
    ("crop", "expected"), [(0.0, joint_p_over_2(0.08, 1.0)), (None, independent_p_over_2(0.08, 1.0))]
)
def test_dino_globals_read_back_and_locals(crop, expected):
    module = DINOBatchViews(
        8, global_crop_scale=(0.08, 1.0), local_crop_size=4, n_local_views=2, gaussian_blur=(0.0, 0.0, 0.0),
        solarization_prob=0.0, crop=crop, seed=12, **PLAIN,
    )  # fmt: skip
    assert module.joint.layout == [2, 2] and module.joint.pairs == [(0, 1)]
    views = module(coordinate_batch(4000))
    assert [tuple(v.shape[-2:]) for v in views] == [(8, 8), (8, 8), (4, 4), (4, 4)]
    measured = p_over_2(views[:2], 64 * 64)
    assert abs(measured - expected) < 0.03, (measured, expected)


def test_dino_multicrop_option_pairs_locals():
    module = DINOBatchViews(8, local_crop_size=4, n_local_views=4, multicrop="both", seed=0)
    assert (0, 1) in module.joint.pairs and len(module.joint.pairs) == 3


@pytest.mark.parametrize("cls", [SimCLRBatchViews, BYOLBatchViews])
def test_recipe_replays_and_reproducible_rows(cls):
    module = cls(12, seed=3)
    images = torch.randint(0, 256, (6, 3, 32, 32), dtype=torch.uint8)
    first = module(images)
    draw = module.last_draw
    module(images)
    assert all(torch.equal(a, b) for a, b in zip(first, module.apply(images, draw)))
    schedule = {"beta": {"start": 1.0, "end": -1.0, "shape": "linear", "epochs": 2}}
    reproducible = cls(12, seed=3, reproducible=True, crop=schedule)
    batch = reproducible(images, indices=[10, 11, 12, 13, 14, 15], epoch=1)
    assert reproducible.last_draw.betas["crop"] == pytest.approx(0.0)
    row = reproducible(images[2:3], indices=[12], epoch=1)
    assert all(torch.equal(b[2:3], r) for b, r in zip(batch, row))
    assert not torch.equal(reproducible(images, indices=[10, 11, 12, 13, 14, 15], epoch=0)[0], batch[0])


def test_recipe_arguments_are_checked():
    with pytest.raises(ValueError, match="gaussian_blur"):
        BYOLBatchViews(8, gaussian_blur=(1.0,))
    with pytest.raises(ValueError, match="n_local_views"):
        DINOBatchViews(8, n_local_views=-1)
    with pytest.raises(ValueError, match="cj_prob"):
        SimCLRBatchViews(8, cj_prob=1.5)
