"""The draw is the whole of a view's randomness: ``apply(image, draw)`` replays every view exactly (flips, apply
coins, grayscale, a library's own random ops included), after pickling too, and never moves the global streams."""

from __future__ import annotations

import dataclasses
import pickle
import random
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch
from images import make_image
from torchvision import transforms as T1
from torchvision.transforms import v2 as T2

from jointaug_plugins import JointRandomResizedCrop, JointViews, jointify, rng, unbatch
from jointaug_plugins.rng import forked_global_rngs, sample_uniforms


def global_streams() -> tuple[Any, ...]:
    """Snapshots of torch's default CPU generator, numpy's global generator and Python's ``random``."""
    return torch.random.get_rng_state(), np.random.get_state(), random.getstate()


def assert_same_streams(before: tuple[Any, ...], after: tuple[Any, ...]) -> None:
    assert torch.equal(before[0], after[0])
    (name, key, pos, has_gauss, gauss), other = before[1], after[1]
    assert (name, pos, has_gauss, gauss) == other[:1] + other[2:] and np.array_equal(key, other[1])
    assert before[2] == after[2]


def as_arrays(views: Any) -> list[np.ndarray]:
    """Comparable arrays of a list of views (PIL images, tensors, mm results dicts)."""
    out = []
    for view in views:
        view = view["img"] if isinstance(view, dict) else view
        out.append(view.numpy() if isinstance(view, torch.Tensor) else np.asarray(view))
    return out


def same_views(a: Any, b: Any) -> bool:
    return all(np.array_equal(x, y) for x, y in zip(as_arrays(a), as_arrays(b), strict=True))


def check_replay(views: JointViews, make_input: Callable[[], Any]) -> None:
    """One draw applied twice, with the global streams moved in between and a Gaussian cached in numpy's and
    Python's generators, then again after pickling the draw and the coordinator: the same views, the global
    streams left as they were each time. Several draws give several distinct outputs (the test can fail)."""
    torch.manual_seed(0)
    np.random.seed(0)
    random.seed(0)
    draws = [views.draw() for _ in range(6)]
    first = [views.apply(make_input(), d) for d in draws]
    for draw, expected in zip(draws, first):
        torch.rand(3), np.random.rand(3), random.random()  # the globals move on between the calls
        np.random.randn(), random.gauss(0.0, 1.0), torch.randn(1)  # odd: a Gaussian stays cached
        before = global_streams()
        again = views.apply(make_input(), draw)
        assert_same_streams(before, global_streams())
        assert same_views(again, expected)
    copied, copied_draws = pickle.loads(pickle.dumps(views)), pickle.loads(pickle.dumps(draws))
    for draw, expected in zip(copied_draws, first):
        assert same_views(copied.apply(make_input(), draw), expected)
    before = global_streams()
    views(make_input())  # a fresh draw leaves the streams alone too
    assert_same_streams(before, global_streams())
    distinct = {tuple(a.tobytes() for a in as_arrays(views_)) for views_ in first}
    assert len(distinct) == len(draws)


def simclr_views(v2: bool, seed: int | None = 0) -> JointViews:
    """A SimCLR-style pipeline per view, its RandomResizedCrop made joint by ``jointify``."""
    T = T2 if v2 else T1
    view = T.Compose(
        [
            T.RandomResizedCrop(24),
            T.RandomHorizontalFlip(),
            T.RandomApply([T.ColorJitter(0.4, 0.4, 0.2, 0.1)], p=0.8),
            T.RandomGrayscale(p=0.2),
            T.GaussianBlur(5, sigma=(0.1, 2.0)),
            T2.ToImage() if v2 else T1.ToTensor(),
        ]
    )
    return jointify([view, view], crop=0.0, seed=seed)


@pytest.mark.parametrize("v2", [False, True], ids=["v1", "v2"])
def test_a_torchvision_simclr_pipeline_replays_exactly(v2):
    views = simclr_views(v2)
    assert type(views.view_transforms[0].transforms[0]).__name__ == "JointRandomResizedCrop"
    check_replay(views, lambda: make_image(0, (40, 48)))


def test_a_lightly_recipe_replays_exactly():
    pytest.importorskip("lightly")
    from jointaug_plugins.adapters.lightly import JointSimCLRTransform

    transform = JointSimCLRTransform(input_size=24, crop=0.0, color=0.0, seed=1)
    check_replay(transform.joint_views, lambda: make_image(1, (40, 48)))


@pytest.mark.filterwarnings("ignore:Fail to import")
def test_an_mm_pipeline_with_mmcvs_flip_and_grayscale_replays_exactly():
    pytest.importorskip("mmselfsup")
    import importlib

    from mmengine.registry import DefaultScope

    importlib.import_module("jointaug_plugins.adapters.mmselfsup")
    view = [
        dict(type="RandomResizedCrop", size=24, backend="pillow"),
        dict(type="RandomFlip", prob=0.5),
        dict(type="RandomApply", transforms=[dict(type="ColorJitter", brightness=0.4, contrast=0.4)], prob=0.8),
        dict(type="RandomGrayscale", prob=0.2, keep_channels=True),
        dict(type="RandomGaussianBlur", sigma_min=0.1, sigma_max=2.0, prob=0.5),
    ]
    cfg = dict(type="JointMultiView", num_views=2, transforms=[view], jointaug=dict(crop=0.0, seed=2))
    with DefaultScope.overwrite_default_scope("mmselfsup"):
        transform = importlib.import_module("mmselfsup.registry").TRANSFORMS.build(cfg)
    image = np.asarray(make_image(2, (40, 48)))[..., ::-1].copy()

    def results() -> dict:
        return {"img": image.copy(), "img_shape": image.shape[:2], "ori_shape": image.shape[:2]}

    check_replay(transform.joint_views, results)


def test_a_timm_pipeline_replays_exactly():
    timm = pytest.importorskip("timm")
    options = dict(is_training=True, hflip=0.5, color_jitter=0.4, interpolation="random", re_prob=0.5)
    pipelines = [timm.data.create_transform(24, **options) for _ in range(2)]
    views = jointify(pipelines, crop=0.0, seed=3)
    assert type(views.view_transforms[0].transforms[0]).__name__ == "JointRandomResizedCropAndInterpolation"
    check_replay(views, lambda: make_image(3, (40, 48)))


def test_making_view_forks_the_globals_with_the_views_seed():
    """DINOv2's drop-in runs each view's steps itself, inside ``making_view``: the flips, colour jitter and
    solarization of its views replay too."""
    from jointaug_plugins.adapters import dinov2

    aug = dinov2.DataAugmentationDINO((0.32, 1.0), (0.05, 0.32), 2, global_crops_size=32, local_crops_size=16, seed=0)
    views, draw = aug.joint.draw()
    aug.joint.draw = lambda: (views, draw)  # replay one draw
    image = make_image(4, (40, 48))
    first = aug(image)
    torch.rand(3), np.random.rand(3), random.random()
    before = global_streams()
    again = aug(image)
    assert_same_streams(before, global_streams())
    for key in ("global_crops", "local_crops"):
        assert all(torch.equal(a, b) for a, b in zip(first[key], again[key], strict=True))
    with views.making_view(draw, 0):
        inside = torch.rand(4)
    with views.making_view(dataclasses.replace(draw), 0):
        assert torch.equal(torch.rand(4), inside)  # view 0's seed, whatever came before
    with views.making_view(draw, 1):
        assert not torch.equal(torch.rand(4), inside)


def test_the_seed_is_what_fixes_the_flip():
    """Without a crop, only a view's seed decides its flip: the same seed gives the same view, other seeds give both
    orientations."""
    view = T2.Compose([T2.RandomHorizontalFlip(), T2.ToImage()])
    views = JointViews([view, view], crop=None, seed=5)
    image = make_image(5, (16, 16))
    draw = views.draw()
    reference = as_arrays(views.apply(image, draw))[0]
    orientations = set()
    for seed in range(16):
        reseeded = dataclasses.replace(draw.views[0], seed=seed)
        out = as_arrays(views.apply(image, dataclasses.replace(draw, views=(reseeded, draw.views[1]))))[0]
        orientations.add(out.tobytes())
        if seed == draw.views[0].seed:
            assert np.array_equal(out, reference)
    assert len(orientations) == 2
    # A draw made by hand without seeds runs on the global streams as they stand (and moves them).
    bare = dataclasses.replace(draw, views=tuple(dataclasses.replace(v, seed=None) for v in draw.views))
    before = global_streams()
    views.apply(image, bare)
    assert not torch.equal(before[0], torch.random.get_rng_state())


def test_batched_rows_equal_scalar_draws_seeds_included():
    views = simclr_views(v2=True, seed=None)
    batched = views.draw_batch(64, torch.Generator().manual_seed(7))
    assert all(v.seed.dtype == torch.int64 and v.seed.shape == (64,) for v in batched.views)
    generator = torch.Generator().manual_seed(7)
    scalar = [views.draw(generator) for _ in range(64)]
    rows = unbatch(batched)
    for row, draw in zip(rows, scalar, strict=True):
        seeds = [v.seed for v in row.views]
        assert seeds == [v.seed for v in draw.views] and all(type(s) is int and 0 <= s < 2**63 for s in seeds)
    assert len({s for d in scalar for s in (v.seed for v in d.views)}) == 128
    # The seeds use their full 63 bits: the top one is set about half the time.
    assert 32 < sum(v.seed >> 62 for d in scalar for v in d.views) < 96


def test_reproducible_seeds_come_from_the_key():
    """``reproducible=True``: a view's seed, like its slices, comes from the (seed, epoch, index) key's uniforms (the
    last two per view), so the whole views of image i in epoch e reproduce."""
    views = simclr_views(v2=True, seed=None)
    views = JointViews(views.view_transforms, crop=0.0, seed=9, reproducible=True)
    draw = views.draw(index=4, epoch=2)
    assert draw == views.draw_from_uniforms(sample_uniforms(9, 2, 4, views.n_uniforms), 2, 4)
    assert [v.seed for v in draw.views] != [v.seed for v in views.draw(index=5, epoch=2).views]
    image = make_image(6, (40, 48))
    assert same_views(views.apply(image, draw), views.apply(image, views.draw(index=4, epoch=2)))


@pytest.mark.parametrize("raw", [True, False], ids=["raw-bytes", "documented-calls"])
def test_forked_global_rngs_restores_states_and_caches(raw, monkeypatch):
    """Both ways of saving numpy's state (raw MT19937 bytes where they read back as the documented state, else
    ``get_state``) restore the three generators exactly, cached Gaussians included."""
    if not raw:
        monkeypatch.setattr(rng, "_state_views", None)
    else:
        assert rng._numpy_state_view() is not None  # here the fast path is taken
    for cached in (False, True):
        torch.manual_seed(1)
        np.random.seed(1)
        random.seed(1)
        if cached:
            np.random.randn(), random.gauss(0.0, 1.0), torch.randn(1)
        before = global_streams()
        with forked_global_rngs() as fork:
            fork.seed(2**63 - 1)
            first = torch.rand(2), np.random.rand(2), random.random(), np.random.randn(), random.gauss(0.0, 1.0)
        assert_same_streams(before, global_streams())
        with forked_global_rngs() as fork:
            fork.seed(2**63 - 1)
            again = torch.rand(2), np.random.rand(2), random.random(), np.random.randn(), random.gauss(0.0, 1.0)
        assert torch.equal(first[0], again[0]) and np.array_equal(first[1], again[1]) and first[2:] == again[2:]
        assert_same_streams(before, global_streams())


def test_views_fork_only_the_generators_they_may_draw_from(monkeypatch):
    """Joint transforms and torchvision's deterministic ones draw from no global generator, torchvision's random ones
    from torch's alone (but v1's RandomChoice / RandomOrder, from Python's ``random``); anything else may draw from
    all three. A view forks only those (each costs several us per view), and replays all the same."""
    from jointaug_plugins.transforms import views as views_module
    from jointaug_plugins.transforms.plan import generators_of

    seeded: list[tuple[int, frozenset[str] | None]] = []

    class Counting(forked_global_rngs):
        __slots__ = ()

        def seed(self, seed: int, generators: frozenset[str] | None = None) -> None:
            seeded.append((seed, generators))
            super().seed(seed, generators)

    monkeypatch.setattr(views_module, "forked_global_rngs", Counting)
    plain = T2.Compose([JointRandomResizedCrop(8), T2.ToImage(), T2.ToDtype(torch.float32, scale=True)])
    flipped = T2.Compose([JointRandomResizedCrop(8), T2.RandomHorizontalFlip()])
    everything = {"torch", "numpy", "python"}
    assert generators_of(plain) == set() and generators_of(flipped) == {"torch"}
    assert generators_of(simclr_views(v2=False).view_transforms[0]) == {"torch"}
    assert generators_of(T1.Compose([T1.RandomChoice([T1.Resize(4)])])) == everything
    assert generators_of(T2.Compose([T2.Lambda(lambda x: x)])) == everything
    assert generators_of(T2.RandomApply([lambda x: x])) == everything
    image = make_image(7, (16, 16))
    JointViews([plain, plain], crop=0.0, seed=0)(image)
    assert seeded == []
    views = JointViews([plain, flipped], crop=0.0, seed=0)
    draw = views.draw()
    before = global_streams()
    first = views.apply(image, draw)
    assert seeded == [(draw.views[1].seed, {"torch"})]
    assert_same_streams(before, global_streams())
    assert same_views(first, views.apply(image, draw))
