"""``crop="published"``: the reference code's JointCrop(0), against the rule written out from its description."""

from __future__ import annotations

import math

import pytest
import torch

from jointaug_plugins import JointRandomResizedCrop, JointSpec, JointViews, unbatch
from jointaug_plugins.boxes import crop_box, crop_boxes_batch

SCALE = (0.08, 1.0)
RATIO = (3 / 4, 4 / 3)


def reference_areas(u_t: float, u_p: float, lo: float, hi: float) -> tuple[float, float]:
    """The paper's JointCrop(0): t uniform on [-L, L], L = ln(hi/lo - 0.1); r = e^t; the first area uniform
    among the values whose partner r * s1 stays in [lo, hi]; the second r * s1."""
    half = math.log(hi / lo - 0.1)
    r = math.exp(-half + 2 * half * u_t)
    first_lo, first_hi = max(lo, lo / r), min(hi, hi / r)
    s1 = first_lo + u_p * (first_hi - first_lo)
    return s1, r * s1


def reference_box(area: float, aspects, top: float, left: float, height: int, width: int):
    """One view of the reference: its area kept, up to ten aspect ratios tried in turn; the first box that
    fits is placed uniformly; if none fits, the view is the whole image (not torchvision's centre crop).
    Returns the box and whether it is that fallback."""
    for aspect in aspects:
        w = round(math.sqrt(area * height * width * aspect))
        h = round(math.sqrt(area * height * width / aspect))
        if 0 < w <= width and 0 < h <= height:
            box = min(int(top * (height - h + 1)), height - h), min(int(left * (width - w + 1)), width - w), h, w
            return box, False
    return (0, 0, height, width), True


def _views(crop) -> JointViews:
    return JointViews([JointRandomResizedCrop(8, scale=SCALE, ratio=RATIO)] * 2, crop=crop, seed=0)


def test_the_preset_is_the_reference_settings():
    spec = _views("published").specs["crop"]
    assert spec == JointSpec(beta=0.0, margin=0.1, options={"fallback": "whole"})
    assert _views({"beta": -1.0, "fallback": "whole"}).specs["crop"].options == {"fallback": "whole"}
    with pytest.raises(ValueError, match="fallback must be one of 'center', 'whole'"):
        _views({"beta": 0.0, "fallback": "corner"})
    with pytest.raises(TypeError, match="presets: 'published'"):
        _views("publish")
    with pytest.raises(TypeError, match="presets: none for this augmentation"):
        JointViews([JointRandomResizedCrop(8)] * 2, crop=None, blur="published")


@pytest.mark.parametrize("size", [(12, 300), (300, 12), (31, 37), (224, 224)])
def test_identical_boxes_for_the_same_uniforms(size):
    """On thin images many views fail their ten attempts: there the published rule takes the whole image;
    everywhere else it is torchvision's rule, box for box."""
    height, width = size
    views, baseline = _views("published"), _views(0.0)
    u = torch.rand(600, views.n_uniforms, generator=torch.Generator().manual_seed(sum(size)), dtype=torch.float64)
    published = unbatch(views.draw_from_uniforms(u))
    fallbacks = 0
    for row, draw in zip(u.tolist(), published):
        torchvision_rule = baseline.draw_from_uniforms(row)
        s1, s2 = reference_areas(row[0], row[1], *SCALE)
        for v, area in enumerate((s1, s2)):
            crop = draw.views[v].slices[0]
            assert crop.areas[0] == pytest.approx(area, rel=1e-12)
            expected, fell_back = reference_box(area, crop.aspects, crop.top, crop.left, height, width)
            got, got_area = crop_box(crop, height, width, RATIO)
            assert got == expected
            fallbacks += fell_back
            if fell_back:
                assert got_area == 1.0
            else:
                assert got == crop_box(torchvision_rule.views[v].slices[0], height, width, RATIO)[0]
    # The batched boxes (DALI, on-device batches) follow the same rule.
    batched = crop_boxes_batch(views.draw_from_uniforms(u).views[0].slices[0], height, width, RATIO)[0]
    assert batched.tolist() == [list(crop_box(d.views[0].slices[0], height, width, RATIO)[0]) for d in published]
    assert fallbacks > (100 if max(size) / min(size) > 4 else 0)
