"""The ``position`` option: ContrastiveCrop's placement and the centre-distance knob, measured from pixels.

Crop boxes are read back from views of an image whose pixels encode their coordinates (red = column, green =
row), made by the real pipeline (a torchvision ``RandomResizedCrop`` swapped by ``jointify``) with nearest
interpolation to an output at least as large as any crop, so a view's corner pixels are the crop's corners.
The reference for ContrastiveCrop's rule is written here from its definition (issue 23 / DESIGN.md), drawing
with numpy: torchvision's ten area / aspect attempts, then per axis ``ch0 + int((ch1 - ch0) * Beta(a, a))``.
"""

from __future__ import annotations

import itertools
import math

import helpers_images
import numpy as np
import pytest
import torch
from PIL import Image
from scipy import stats
from torchvision.transforms import InterpolationMode
from torchvision.transforms import v2 as T

from jointaug_plugins import JointOptions, JointResizedCropBatch, jointify
from jointaug_plugins.draw import unbatch
from jointaug_plugins.placement import Position

SIDE = 128  # image side; coordinates fit in a uint8 channel
SCALE, RATIO = (0.08, 1.0), (3 / 4, 4 / 3)
N = 1500  # image pairs per measured setting


def coordinate_image(side: int = SIDE) -> Image.Image:
    """A square coordinate image (red = column, green = row), the suite's own."""
    return helpers_images.coordinate_image(side, side)


def read_box(view: Image.Image) -> tuple[int, int, int, int]:
    """(top, left, height, width) of the crop a view shows (nearest interpolation, output >= crop)."""
    a = np.asarray(view)
    top, left = int(a[0, 0, 1]), int(a[0, 0, 0])
    return top, left, int(a[-1, 0, 1]) - top + 1, int(a[0, -1, 0]) - left + 1


def measured_boxes(n: int = N, **options) -> np.ndarray:
    """``(n, 2, 4)`` boxes of the two views of ``n`` images, read from the views' pixels."""
    crop = T.RandomResizedCrop(SIDE, scale=SCALE, ratio=RATIO, interpolation=InterpolationMode.NEAREST)
    views = jointify([T.Compose([crop])] * 2, seed=7, **options)
    image = coordinate_image()
    return np.array([[read_box(v) for v in views(image)] for _ in range(n)], dtype=np.float64)


def reference_ccrop_boxes(n: int, alpha: float, box, seed: int = 0) -> np.ndarray:
    """ContrastiveCrop's rule, one view per row: ``(n, 4)`` boxes (top, left, h, w) on a SIDE x SIDE image."""
    rng = np.random.default_rng(seed)
    out = np.zeros((n, 4))
    h0, w0, h1, w1 = box
    for k in range(n):
        for _ in range(10):
            area = SIDE * SIDE * rng.uniform(*SCALE)
            aspect = math.exp(rng.uniform(math.log(RATIO[0]), math.log(RATIO[1])))
            w, h = round(math.sqrt(area * aspect)), round(math.sqrt(area / aspect))
            if 0 < w <= SIDE and 0 < h <= SIDE:
                ch0 = min(max(int(SIDE * h0) - h // 2, 0), SIDE - h)
                ch1 = min(max(int(SIDE * h1) - h // 2, 0), SIDE - h)
                cw0 = min(max(int(SIDE * w0) - w // 2, 0), SIDE - w)
                cw1 = min(max(int(SIDE * w1) - w // 2, 0), SIDE - w)
                out[k] = (
                    ch0 + int((ch1 - ch0) * rng.beta(alpha, alpha)),
                    cw0 + int((cw1 - cw0) * rng.beta(alpha, alpha)),
                    h,
                    w,
                )
                break
        else:  # a square image never fails ten attempts with these ranges; keep the reference honest anyway
            out[k] = (0, 0, SIDE, SIDE)
    return out


def centres(boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return boxes[..., 0] + boxes[..., 2] / 2, boxes[..., 1] + boxes[..., 3] / 2


@pytest.fixture(scope="module")
def ks_report() -> dict:
    return {}


@pytest.mark.parametrize("box", [None, (0.25, 0.3, 0.6, 0.7)])
@pytest.mark.parametrize("alpha", [0.1, 0.6, 1.0])
def test_placement_matches_contrastive_crop_by_ks_per_axis(alpha, box, ks_report):
    position = {"alpha": alpha} if box is None else {"alpha": alpha, "box": box}
    ours = measured_boxes(crop=None, position=position).reshape(-1, 4)
    reference = reference_ccrop_boxes(20000, alpha, box or (0.0, 0.0, 1.0, 1.0))
    for axis, (a, b) in enumerate(zip(centres(ours), centres(reference))):
        p = stats.ks_2samp(a, b).pvalue
        ks_report[(alpha, box, axis)] = p
        print(f"KS alpha={alpha} box={box} axis={'yx'[axis]}: p={p:.3f}")
        assert p > 1e-3, f"crop centres along {'yx'[axis]} differ from ContrastiveCrop's rule (KS p={p:.2g})"
    # The test can fail: the same centres are far from the uniform rule's unless alpha is 1.
    if alpha != 1.0:
        uniform = reference_ccrop_boxes(20000, 1.0, box or (0.0, 0.0, 1.0, 1.0), seed=1)
        assert stats.ks_2samp(centres(ours)[0], centres(uniform)[0]).pvalue < 1e-4


def test_joint_crop_areas_are_unchanged_by_the_placement():
    placed = measured_boxes(crop=0.0, position={"alpha": 0.6})
    plain = measured_boxes(crop=0.0)
    # Same seed, same areas: the placement moves crops, never resizes them.
    np.testing.assert_array_equal(placed[..., 2:], plain[..., 2:])
    assert not np.array_equal(placed[..., :2], plain[..., :2])
    areas = placed[..., 2] * placed[..., 3] / SIDE**2
    ratio = np.maximum(areas[:, 0], areas[:, 1]) / np.minimum(areas[:, 0], areas[:, 1])
    # JointCrop(0): P(r > 2) = (L - ln 2) / L with L = ln 12.4 (two-sided, DESIGN.md's 0.3623 each way).
    half = math.log(1.0 / 0.08 - 0.1)
    expected = (half - math.log(2)) / half
    observed = float(np.mean(ratio > 2))
    print(f"JC(0) with alpha=0.6: P(max/min area > 2) = {observed:.3f}, closed form {expected:.3f}")
    assert abs(observed - expected) < 4 * math.sqrt(expected * (1 - expected) / N) + 0.02


def test_distance_knob_moves_the_centre_distance_monotonically():
    means = {}
    for rho in (-1.0, -0.5, 0.0, 0.5, 1.0):
        boxes = measured_boxes(crop=0.0, position={"correlation": rho})
        cy, cx = centres(boxes)
        means[rho] = float(np.mean(np.hypot(cy[:, 0] - cy[:, 1], cx[:, 0] - cx[:, 1])))
    cy, cx = centres(measured_boxes(crop=0.0))
    baseline = float(np.mean(np.hypot(cy[:, 0] - cy[:, 1], cx[:, 0] - cx[:, 1])))
    print(
        "mean centre distance by correlation:", {k: round(v, 2) for k, v in means.items()}, f"baseline {baseline:.2f}"
    )
    values = [means[r] for r in sorted(means)]
    assert all(a > b for a, b in itertools.pairwise(values)), means
    assert means[1.0] < baseline < means[-1.0]
    # Independent placement is the knob at 0: equal within sampling error (mean distance ~ 30 px, sd ~ 20 px).
    assert abs(means[0.0] - baseline) < 4 * 20 / math.sqrt(N)


def test_batched_draws_and_boxes_equal_the_scalar_ones():
    crop = T.RandomResizedCrop(32)
    views = jointify([T.Compose([crop])] * 2, position={"alpha": 0.3, "box": (0.1, 0.2, 0.8, 0.9), "correlation": 0.7})
    batched = views.draw_batch(64, torch.Generator().manual_seed(0))
    u = torch.rand(64, views.n_uniforms, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    scalar = [views.draw_from_uniforms(row.tolist()) for row in u]
    for row, one in zip(unbatch(batched), scalar):
        for a, b in zip(row.views, one.views):
            assert (a.slices[0].top, a.slices[0].left, a.slices[0].box) == (
                b.slices[0].top,
                b.slices[0].left,
                b.slices[0].box,
            )
    from jointaug_plugins.boxes import crop_box, crop_boxes_batch

    boxes, _ = crop_boxes_batch(batched.views[1].slices[0], 90, 120, crop.ratio)
    assert boxes.tolist() == [list(crop_box(d.views[1].slices[0], 90, 120, crop.ratio)[0]) for d in scalar]


def test_a_draw_replays_the_placed_views():
    views = jointify(
        [T.Compose([T.RandomResizedCrop(24), T.RandomHorizontalFlip()])] * 2, position={"alpha": 0.6}, seed=3
    )
    image, draw = coordinate_image(), views.draw()
    first, again = views.apply(image, draw), views.apply(image, draw)
    assert all(np.array_equal(np.asarray(a), np.asarray(b)) for a, b in zip(first, again))


def test_the_batch_module_places_crops_inside_the_box():
    batch = JointResizedCropBatch(8, scale=(0.05, 0.1), position={"alpha": 1.0, "box": (0.5, 0.5, 1.0, 1.0)}, seed=0)
    _, boxes = batch(torch.zeros(400, 3, 100, 100), return_boxes=True)
    cy, cx = centres(boxes.double().numpy())
    # Top-left offsets start at the box edge minus half the crop: centres lie in the box's half of the image.
    assert cy.min() >= 49 and cx.min() >= 49 and cy.max() <= 100 and cx.max() <= 100


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"alpah": 0.6}, r"unknown position key 'alpah' \(did you mean 'alpha'\?\)"),
        ({"alpha": 0}, "alpha must be > 0"),
        ({"box": (0.5, 0, 0.4, 1)}, "0 <= h0 < h1 <= 1"),
        ({"box": (0, 0, 1)}, "4 numbers"),
        ({"correlation": 1.5}, r"correlation must be in \[-1, 1\]"),
        ({"warmup": 5}, "only apply to boxes='semantic'"),
        ({"boxes": "semantic", "box": (0, 0, 1, 1)}, "not both"),
        ({"boxes": "saliency"}, "boxes must be None or 'semantic'"),
        (0.6, "must be None or a dict"),
    ],
)
def test_bad_positions_are_refused_with_the_key_and_range(value, message):
    with pytest.raises((ValueError, TypeError), match=message):
        JointOptions.parse(position=value)


def test_position_round_trips_through_the_parser_and_needs_a_crop():
    options = JointOptions.parse(crop=None, position={"alpha": 0.6, "box": [0.1, 0.1, 0.9, 0.9]})
    assert options.position == Position(alpha=0.6, box=(0.1, 0.1, 0.9, 0.9))
    assert JointOptions.parse(options.to_dict()) == options
    assert options.has_effect and not options.switched_on
    options.require_effect()  # ContrastiveCrop alone is an effect: the config switches accept it
    with pytest.raises(ValueError, match="no view holds a crop it can place"):
        jointify([T.Compose([T.ToImage()])] * 2, crop=None, position={"alpha": 0.6})


def test_verify_says_where_the_crops_land():
    from jointaug_plugins.tools.verify_walk import describe

    views = jointify([T.Compose([T.RandomResizedCrop(24)])] * 2, crop=0.0, position={"alpha": 0.6})
    assert "crops placed by position (alpha=0.6)" in " ".join(describe(views).notes)
    assert not any("position" in note for note in describe(jointify([T.Compose([T.RandomResizedCrop(24)])] * 2)).notes)
