"""The draw is plain data made first: replay, batching, pickling, no global RNG, no hidden transforms."""

from __future__ import annotations

import dataclasses
import math
import pickle

import pytest
import torch
from draws import close
from torchvision.transforms import v2 as T

from jointaug_plugins import (
    CropDraw,
    ImageDraw,
    JointColorJitter,
    JointGaussianBlur,
    JointRandomResizedCrop,
    JointResizedCropBatch,
    JointViews,
    unbatch,
)
from jointaug_plugins.draw import UnknownJointTransformError

# Three-view recipes leave view 2 unpaired on purpose (it draws alone).
pytestmark = pytest.mark.filterwarnings(r"ignore:view\(s\) \[2\]")


def _recipe(n_views: int = 2, **options) -> JointViews:
    views = [
        T.Compose(
            [
                JointRandomResizedCrop(16),
                JointColorJitter(0.4, 0.4, 0.2, 0.1),
                JointGaussianBlur(sigma=(0.1, 2.0), p=0.5 if i % 2 else 1.0),
            ]
        )
        for i in range(n_views)
    ]
    return JointViews(views, **options)


def _image(height: int = 48, width: int = 64) -> torch.Tensor:
    return torch.randint(0, 256, (3, height, width), dtype=torch.uint8, generator=torch.Generator().manual_seed(5))


OPTIONS = [
    dict(crop=0.0),
    dict(crop=-1.0, blur=1.0, color=0.0),
    dict(crop=0.0, blur=0.0, crop_or_blur=0.5),
    dict(crop=2.0, color={"beta": 0.0, "factors": ["brightness", "hue"]}, pairs=[(0, 2)]),
]


@pytest.mark.parametrize("options", OPTIONS)
def test_apply_replays_a_recorded_draw_exactly(options):
    views = _recipe(3, seed=1, **options)
    image = _image()
    draw = views.draw()
    first, second = views.apply(image, draw), views.apply(image, draw)
    assert all(torch.equal(a, b) for a, b in zip(first, second))
    # views(image) is apply(image, draw()): the same seed gives the same views both ways.
    again = _recipe(3, seed=1, **options)
    assert all(torch.equal(a, b) for a, b in zip(again(image), first))


def test_a_draw_is_size_free_so_a_resize_before_the_crop_still_works():
    views = JointViews([T.Compose([T.Resize(40), JointRandomResizedCrop(8)]), JointRandomResizedCrop(8)], crop=0.0)
    draw = views.draw(torch.Generator().manual_seed(0))
    out, records = views.apply(_image(100, 120), draw, records=True)
    assert [tuple(v.shape) for v in out] == [(3, 8, 8), (3, 8, 8)]
    first, second = (r.params for r in records)
    # Each view turned the same area fractions into boxes on the size it saw (40x48 and 100x120).
    assert first["top"] + first["height"] <= 40 and first["left"] + first["width"] <= 48
    assert (first["area"], second["area"]) == (draw.views[0].slices[0].areas[0], draw.views[1].slices[0].areas[0])


@pytest.mark.parametrize("options", OPTIONS)
def test_draw_batch_equals_scalar_draws_from_the_same_uniforms(options):
    views = _recipe(3, **options)
    n = 200
    batched = views.draw_batch(n, torch.Generator().manual_seed(3))
    generator = torch.Generator().manual_seed(3)
    scalar = [views.draw(generator) for _ in range(n)]
    rows = unbatch(batched)
    assert len(rows) == n
    assert all(close(a, b) for a, b in zip(rows, scalar))
    # The same uniforms, given explicitly, whatever the generator's chunking.
    u = torch.rand(n, views.n_uniforms, dtype=torch.float64, generator=torch.Generator().manual_seed(9))
    rows = unbatch(views.draw_from_uniforms(u))
    assert all(close(a, views.draw_from_uniforms(u[i].tolist())) for i, a in enumerate(rows))


def test_batched_boxes_equal_per_image_boxes():
    module = JointResizedCropBatch(8, crop=-0.5)
    per_image = JointViews([JointRandomResizedCrop(8)] * 2, crop=-0.5)
    u = torch.rand(300, per_image.n_uniforms, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    boxes, areas = module.boxes(module.views.draw_from_uniforms(u), 37, 91)
    image = torch.zeros(1, 37, 91)
    for i in range(300):
        _, records = per_image.apply(image, per_image.draw_from_uniforms(u[i].tolist()), records=True)
        for view, record in enumerate(records):
            p = record.params
            assert boxes[i, view].tolist() == [p["top"], p["left"], p["height"], p["width"]]
            assert math.isclose(areas[i, view].item(), p["area"], rel_tol=1e-12)


def test_a_draw_round_trips_through_pickle_and_asdict():
    views = _recipe(2, crop=0.0, blur=0.0, color=0.0, crop_or_blur=0.3, seed=0)
    draw = views.draw()
    assert pickle.loads(pickle.dumps(draw)) == draw
    tree = dataclasses.asdict(draw)
    assert tree["views"][0]["slices"][0]["joint"] in (True, False)
    assert all(type(view["seed"]) is int and 0 <= view["seed"] < 2**63 for view in tree["views"])
    assert isinstance(draw, ImageDraw) and isinstance(draw.views[0].slices[0], CropDraw)
    assert all(isinstance(a, float) for a in draw.views[0].slices[0].areas)


def test_no_draw_consumes_torchs_global_generator():
    torch.manual_seed(0)
    before = torch.get_rng_state()
    views = _recipe(2, crop=0.0, blur=0.0, color=0.0)  # unseeded: derives its stream, draws nothing global
    views(_image())
    views.draw_batch(4)
    JointRandomResizedCrop(8)(_image())  # a joint transform used alone draws from its own generator
    assert torch.equal(before, torch.get_rng_state())


class _Opaque:
    """A container the walker does not look into (it hides its pipeline under a private name)."""

    def __init__(self, inner):
        self._inner = inner

    def __call__(self, x):
        return self._inner(x)


def test_a_joint_transform_the_coordinator_did_not_find_raises_naming_it():
    # With crop on, the build already refuses (no view holds a crop it can find) ...
    with pytest.raises(ValueError, match="crop is switched on but no view holds"):
        JointViews([_Opaque(JointRandomResizedCrop(8)), _Opaque(JointRandomResizedCrop(8))])
    # ... and off, the hidden transform still cannot draw alone in silence.
    views = JointViews([_Opaque(JointRandomResizedCrop(8)), _Opaque(JointRandomResizedCrop(8))], crop=None)
    with pytest.raises(UnknownJointTransformError, match="JointRandomResizedCrop ran in view 0"):
        views(_image())


def test_a_draw_that_does_not_fit_the_views_is_refused():
    small, large = _recipe(2, crop=0.0), _recipe(3, crop=0.0)
    with pytest.raises(ValueError, match="does not fit these views"):
        small.apply(_image(), large.draw())
    with pytest.raises(ValueError, match="unbatch"):
        small.apply(_image(), small.draw_batch(2))
