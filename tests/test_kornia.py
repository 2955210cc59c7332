"""The kornia adapter: kornia's own ops fed the core's joint draw (per-op equal to the per-image path on the same
draw), read-back pair statistics from pixels, reproducible draws, replay, and jointify's dispatch."""

from __future__ import annotations

import math

import pytest
import torch
from torchvision.transforms.v2 import functional as F

kornia = pytest.importorskip("kornia")
K = kornia.augmentation

from jointaug_plugins import jointify as core_jointify  # noqa: E402
from jointaug_plugins import unbatch  # noqa: E402
from jointaug_plugins.adapters.kornia import JointKorniaViews, jointify  # noqa: E402
from jointaug_plugins.adapters.kornia.params import seed_uniforms  # noqa: E402

# Tolerances of the per-op equivalence with the per-image path (torchvision v2 functional ops), float32 in [0, 1].
CROP_ATOL = 1e-6  # both are bilinear interpolate of the same box (align_corners=False, no antialias)
BLUR_ATOL = 1e-5  # the same normalised Gaussian kernel with reflect padding
COLOR_ATOL = 5e-4  # hue: kornia and torchvision convert RGB<->HSV differently (measured 8e-5)
FLIP_ATOL = 0.0  # exact

# P(r > 2) for crop area ratio r = a2 / a1 (DESIGN §1), one-sided.


def joint_p_over_2(lo: float, hi: float, margin: float = 0.1) -> float:
    """JC(0): ``(L - ln 2) / (2 L)`` with ``L = ln(hi / lo - margin)``."""
    span = math.log(hi / lo - margin)
    return (span - math.log(2)) / (2 * span)


def independent_p_over_2(lo: float, hi: float) -> float:
    """Independent uniform areas: ``(hi / 2 - lo)^2 / (hi - lo)^2`` (0 when ``hi / 2 <= lo``)."""
    return max(hi / 2 - lo, 0.0) ** 2 / (hi - lo) ** 2


def coordinate_batch(n: int, size: int = 64) -> torch.Tensor:
    """``(n, 3, size, size)`` uint8: channel 0 holds the column, channel 1 the row, channel 2 zero."""
    rows, cols = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    image = torch.stack((cols, rows, torch.zeros_like(rows))).to(torch.uint8)
    return image.expand(n, 3, size, size).contiguous()


def read_areas(view: torch.Tensor, image_area: int) -> torch.Tensor:
    """The crop area fraction each ``(N, 3, h, w)`` float view shows, read from its coordinate pixels (a crop resized
    with ``align_corners=True`` keeps its corner pixels exactly; a flip does not move the extremes)."""
    coords = (view[:, :2] * 255).round()
    low = coords.flatten(2).min(-1).values
    high = coords.flatten(2).max(-1).values
    extent = high - low + 1
    return extent[:, 0] * extent[:, 1] / image_area


def p_over_2(views: list[torch.Tensor], image_area: int, first: int = 0, second: int = 1) -> float:
    """Measured ``P(a_second / a_first > 2)`` from the pixels of two views."""
    a1, a2 = read_areas(views[first], image_area), read_areas(views[second], image_area)
    return float((a2 / a1 > 2).double().mean())


def _images(n: int, h: int = 40, w: int = 52, seed: int = 0) -> torch.Tensor:
    return torch.rand(n, 3, h, w, generator=torch.Generator().manual_seed(seed))


def _per_image(views: JointKorniaViews, images: torch.Tensor, view: int, op: int, run) -> torch.Tensor:
    """View ``view`` made image by image with the core's mirror of op ``op`` on the unbatched draw."""
    draw = views.last_draw
    mirror = views.ops[view][op].mirror
    rows = []
    for i, single in enumerate(unbatch(draw)):
        slice_ = single.views[view].slices[0]
        rows.append(run(mirror, slice_, images[i], i))
    return torch.stack(rows)


def test_crop_equals_the_per_image_resized_crop():
    aug = K.RandomResizedCrop((24, 20), scale=(0.08, 1.0), align_corners=False)
    views = JointKorniaViews([aug, K.RandomResizedCrop((24, 20), align_corners=False)], crop=0.0, seed=1)
    images = _images(16)
    made = views(images)

    def run(mirror, slice_, image, i):
        p = mirror.params_from_draw(slice_, tuple(image.shape[-2:]))
        return F.resized_crop(image, p["top"], p["left"], p["height"], p["width"], [24, 20], antialias=False)

    for v in range(2):
        expected = _per_image(views, images, v, 0, run)
        assert (made[v] - expected).abs().max() <= CROP_ATOL


def test_blur_equals_the_per_image_blur_with_its_coins():
    def view():
        return K.AugmentationSequential(K.RandomResizedCrop((32, 32)), K.RandomGaussianBlur((9, 9), (0.1, 2.0), p=0.5))

    views = JointKorniaViews([view(), view()], crop=None, blur=0.0, seed=2)
    images = _images(24)
    views(images)
    crops = [views.ops[v][0].module(images, params=dict(views.last_params[v][0])) for v in range(2)]
    made = views.run(images, views.last_params)
    blurred = 0
    for v in range(2):
        for i, single in enumerate(unbatch(views.last_draw)):
            slice_ = single.views[v].slices[1]
            mirror = views.ops[v][1].mirror
            expected = mirror.apply(crops[v][i], slice_.value) if slice_.apply else crops[v][i]
            blurred += bool(slice_.apply)
            assert (made[v][i] - expected).abs().max() <= BLUR_ATOL
    assert 0 < blurred < 48  # both apply and skip happened


def test_color_equals_the_per_image_jitter_with_per_image_order():
    def view():
        return K.AugmentationSequential(K.RandomResizedCrop((16, 16)), K.ColorJitter(0.4, 0.4, 0.4, 0.1, p=0.8))

    views = JointKorniaViews([view(), view()], crop=0.0, color=0.0, seed=3)
    images = _images(32)
    made = views(images)
    orders = set()
    for v in range(2):
        crops = views.ops[v][0].module(images, params=dict(views.last_params[v][0]))
        coins = views.last_params[v][1]["batch_prob"]
        for i, single in enumerate(unbatch(views.last_draw)):
            slice_ = single.views[v].slices[1]
            orders.add(tuple(slice_.order))
            mirror = views.ops[v][1].mirror
            expected = crops[i]
            if coins[i]:
                expected = mirror.transform(expected, mirror.params_from_draw(slice_, (16, 16)))
            assert (made[v][i] - expected).abs().max() <= COLOR_ATOL
    assert len(orders) > 5  # the order is drawn per image, not once per batch


def test_flip_coins_come_from_each_image_view_seed():
    views = JointKorniaViews(
        [K.AugmentationSequential(K.RandomResizedCrop((8, 8)), K.RandomHorizontalFlip(p=0.5))] * 2, seed=4
    )
    images = _images(200, 20, 20)
    made = views(images)
    unflipped = [views.ops[v][0].module(images, params=dict(views.last_params[v][0])) for v in range(2)]
    for v in range(2):
        coins = seed_uniforms(views.last_draw.views[v].seed.tolist(), 1)[:, 0] < 0.5
        expected = torch.where(coins[:, None, None, None], F.horizontal_flip(unflipped[v]), unflipped[v])
        assert (made[v] - expected).abs().max() <= FLIP_ATOL
        assert 0.4 < float(coins.double().mean()) < 0.6


@pytest.mark.parametrize(
    ("crop", "expected"), [(0.0, joint_p_over_2(0.08, 1.0)), (None, independent_p_over_2(0.08, 1.0))]
)
def test_read_back_pair_ratio_from_pixels(crop, expected):
    assert abs(joint_p_over_2(0.08, 1.0) - 0.3623) < 1e-4 and abs(independent_p_over_2(0.08, 1.0) - 0.2084) < 1e-4

    def view():
        return K.AugmentationSequential(K.RandomResizedCrop((8, 8)), K.RandomHorizontalFlip())

    views = jointify([view(), view()], crop=crop, seed=5)
    measured = p_over_2(views(coordinate_batch(4000)), 64 * 64)
    assert abs(measured - expected) < 0.03, (measured, expected)


def test_core_jointify_dispatches_kornia_views_and_keeps_the_input():
    original = [K.RandomResizedCrop((8, 8)), K.RandomResizedCrop((8, 8))]
    jointify(original[:1] * 2)  # registers the plugin (the entry point does it in an installed package)
    views = core_jointify(original, crop=-1.0, seed=0)
    assert isinstance(views, JointKorniaViews)
    assert views.joint.specs["crop"].beta == -1.0
    assert views.augmentations[0] is not original[0]
    with pytest.raises(ValueError, match="crop"):
        jointify([K.RandomResizedCrop((8, 8)), K.RandomHorizontalFlip()], crop=0.0)  # nothing to pair with


def test_replay_by_draw_and_by_params_with_kornia_drawn_ops():
    def view():
        return K.AugmentationSequential(
            K.RandomResizedCrop((16, 16)), K.ColorJiggle(0.2, 0.2, 0.2, 0.05, p=0.8), K.RandomGrayscale(p=0.3),
            K.RandomSolarize(0.1, 0.1, p=0.5), K.RandomAffine(15.0, translate=(0.1, 0.1)), K.RandomRotation(10.0),
        )  # fmt: skip

    views = JointKorniaViews([view(), view()], seed=6)
    assert [op.role for op in views.ops[0]] == ["crop", "color", "coin", "uniform", "kornia", "uniform"]
    images = (_images(8) * 255).to(torch.uint8)
    first = views(images)
    draw, params = views.last_draw, views.last_params
    views(images)  # a new draw moves on
    for again in (views.apply(images, draw), views(images, params=params)):
        assert all(torch.equal(a, b) for a, b in zip(first, again))
    state = torch.get_rng_state()
    views(images)
    assert torch.equal(state, torch.get_rng_state())  # torch's global generator untouched


def test_reproducible_rows_follow_the_index_with_a_beta_schedule():
    def view():
        return K.AugmentationSequential(
            K.RandomResizedCrop((12, 12)), K.RandomHorizontalFlip(), K.RandomGrayscale(p=0.5)
        )

    schedule = {"beta": {"start": 2.0, "end": -2.0, "shape": "linear", "epochs": 4}}
    views = JointKorniaViews([view(), view()], crop=schedule, seed=7, reproducible=True)
    images = _images(3, 30, 30)
    batch = views(images, indices=[5, 7, 9], epoch=2)
    assert views.last_draw.betas["crop"] == pytest.approx(0.0)
    single = views(images[1:2], indices=[7], epoch=2)
    assert all(torch.equal(b[1:2], s) for b, s in zip(batch, single))
    later = views(images, indices=[5, 7, 9], epoch=3)
    assert views.last_draw.betas["crop"] == pytest.approx(-1.0)
    assert not torch.equal(later[0], batch[0])
    with pytest.raises(ValueError, match="indices"):
        views(images, epoch=2)


def test_a_list_of_variable_size_images_is_cropped_per_image():
    views = JointKorniaViews([K.RandomResizedCrop((10, 10)), K.RandomResizedCrop((10, 10))], seed=8)
    same = _images(6, 30, 30)
    batched = views(same)
    listed = views.run(list(same), views.params(views.last_draw, list(same)))
    assert all((a - b).abs().max() < 1e-5 for a, b in zip(batched, listed))
    sizes = [(20, 30), (64, 48), (33, 33)]
    images = [coordinate_batch(1, max(h, w))[0, :, :h, :w] for h, w in sizes]
    made = views(images)
    for v in range(2):
        boxes = views.last_params[v][0]["src"]
        for i in range(3):
            coords = (made[v][i, :2] * 255).round()
            assert coords[0].min() == boxes[i, 0, 0] and coords[0].max() == boxes[i, 2, 0]
            assert coords[1].min() == boxes[i, 0, 1] and coords[1].max() == boxes[i, 2, 1]
    with pytest.raises(TypeError, match="RandomResizedCrop"):
        JointKorniaViews([K.RandomHorizontalFlip()] * 2, crop=None)(images)


def test_clear_errors():
    with pytest.raises(ValueError, match="p_batch"):
        JointKorniaViews([K.RandomHorizontalFlip(p_batch=0.5)] * 2, crop=None)
    with pytest.raises(ValueError, match=r"RandomResizedCrop\(p=0.5\)"):
        JointKorniaViews([K.RandomResizedCrop((8, 8), p=0.5)] * 2)
    with pytest.raises(TypeError, match="kornia"):
        JointKorniaViews([lambda x: x] * 2)


@pytest.mark.parametrize("op", ["RandomResizedCrop", "ColorJiggle"])
def test_same_on_batch_is_refused_on_every_op_the_crop_included(op):
    if op == "RandomResizedCrop":
        view = K.AugmentationSequential(K.RandomResizedCrop((8, 8), same_on_batch=True))
    else:
        jitter = K.ColorJiggle(0.4, 0.4, 0.4, 0.1, same_on_batch=True)
        view = K.AugmentationSequential(K.RandomResizedCrop((8, 8)), jitter)
    with pytest.raises(ValueError, match=rf"{op}\(same_on_batch=True\) would give every image one draw"):
        JointKorniaViews([view, view], crop=0.0)


@pytest.mark.parametrize("kind", ["color", "blur"])
def test_a_kornia_op_applied_with_p_0_cannot_be_switched_on(kind):
    ops = {"color": K.ColorJiggle(0.4, 0.4, 0.4, 0.1, p=0.0), "blur": K.RandomGaussianBlur((3, 3), (0.1, 2.0), p=0.0)}
    op = ops[kind]
    view = K.AugmentationSequential(K.RandomResizedCrop((8, 8)), op)
    with pytest.raises(ValueError, match=rf"{kind} is switched on but no joint pair applies a {kind} transform"):
        JointKorniaViews([view, view], crop=0.0, **{kind: 0.0})
    JointKorniaViews([view, view], crop=0.0)(_images(2))  # with the kind off, the op runs as kornia's


def test_bench_suite_is_a_plugin_hook():
    from jointaug_plugins.adapters.kornia import bench
    from jointaug_plugins.registry import bench_suites, register_plugin

    register_plugin(bench, name="jointaug-kornia-bench")
    assert bench_suites()["kornia"] is bench.kornia_figures
    per_image = bench.per_image_simclr(16)
    assert per_image.specs["crop"] is not None and len(per_image.slots[0]) == 1  # the crop became joint


@pytest.mark.parametrize(
    ("recipe", "wrong", "right"),
    [
        ("SimCLRBatchViews", "input_sze", "input_size"),
        ("MoCoV2BatchViews", "input_sze", "input_size"),  # its arguments reach SimCLRBatchViews' check
        ("BYOLBatchViews", "gausian_blur", "gaussian_blur"),
        ("DINOBatchViews", "n_local_view", "n_local_views"),
    ],
)
def test_a_misspelled_recipe_argument_is_a_type_error_and_a_misspelled_option_the_one_message(recipe, wrong, right):
    from jointaug_plugins.adapters import kornia as adapter
    from jointaug_plugins.options import JointOptions, UnknownOptionError

    make = getattr(adapter, recipe)
    expected = rf"{recipe}: got an unexpected keyword argument '{wrong}' \(did you mean '{right}'\?\)"
    with pytest.raises(TypeError, match=expected):
        make(**{wrong: 1})
    with pytest.raises(UnknownOptionError) as one:
        JointOptions.parse(blurr=0.0)
    with pytest.raises(UnknownOptionError) as err:
        make(blurr=0.0)
    assert str(err.value) == str(one.value)
