"""Core sampling and transforms: the method's numbers, the box geometry, seeding, pickling, plugins."""

from __future__ import annotations

import itertools
import math
import pickle

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from scipy import integrate, stats
from torchvision import transforms as T
from torchvision.transforms.v2 import functional as F

from jointaug_plugins import (
    JointColorJitter,
    JointGaussianBlur,
    JointRandomResizedCrop,
    JointSpec,
    JointViews,
    ScalarJointTransform,
    hookimpl,
    jointify,
    register_plugin,
    sample_crop_box_pairs,
)
from jointaug_plugins.boxes import (
    INDEPENDENT_UNIFORMS,
    JOINT_UNIFORMS,
    crop_box,
    independent_crop_draw,
    joint_crop_draws,
)
from jointaug_plugins.registry import unregister_plugin
from jointaug_plugins.sampling import (
    half_width,
    independent_ratio_pdf,
    independent_ratio_sf,
    jc_cdf,
    joint_ratio_sf,
    sample_pairs,
)

L_CROP = math.log(12.5 - 0.1)


def independent_box_from_uniforms(u, height, width, scale, ratio):
    return crop_box(independent_crop_draw(u, scale, ratio), height, width, ratio)


def joint_boxes_from_uniforms(u, height, width, scale, ratio, spec):
    first, second = joint_crop_draws(u, scale, ratio, spec)
    (box1, a1), (box2, a2) = crop_box(first, height, width, ratio), crop_box(second, height, width, ratio)
    return box1, box2, (a1, a2)


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# --- the method's numbers ---------------------------------------------------------------------------


def test_closed_forms_match_the_design_numbers():
    assert independent_ratio_sf(2, 0.08, 1.0) == pytest.approx(0.2084, abs=5e-5)
    assert joint_ratio_sf(2, 0.08, 1.0, JointSpec(0.0)) == pytest.approx((L_CROP - math.log(2)) / (2 * L_CROP))
    assert joint_ratio_sf(2, 0.08, 1.0, JointSpec(0.0)) == pytest.approx(0.3623, abs=5e-5)
    assert half_width(0.08, 1.0) == pytest.approx(L_CROP)


def test_monte_carlo_matches_closed_forms():
    independent = sample_pairs(0.08, 1.0, None, 200_000, generator=_gen(1))
    joint = sample_pairs(0.08, 1.0, 0.0, 200_000, generator=_gen(2))
    assert float(((independent[:, 1] / independent[:, 0]) > 2).double().mean()) == pytest.approx(0.2084, abs=0.004)
    assert float(((joint[:, 1] / joint[:, 0]) > 2).double().mean()) == pytest.approx(0.3623, abs=0.004)


def test_independent_ratio_density_matches_histogram():
    pairs = sample_pairs(0.08, 1.0, None, 400_000, generator=_gen(3)).numpy()
    r = pairs[:, 1] / pairs[:, 0]
    edges = np.geomspace(0.1, 10, 25)
    counts, _ = np.histogram(r, bins=edges)
    empirical = counts / (len(r) * np.diff(edges))
    centers = np.sqrt(edges[:-1] * edges[1:])
    np.testing.assert_allclose(empirical, independent_ratio_pdf(centers, 0.08, 1.0), rtol=0.06)
    # The density integrates to one over its support.
    grid = np.linspace(0.08, 12.5, 200_001)
    assert integrate.trapezoid(independent_ratio_pdf(grid, 0.08, 1.0), grid) == pytest.approx(1.0, abs=1e-3)


@pytest.mark.parametrize("beta", [-2.0, -1.0, 0.0, 1.0, 2.0])
def test_log_ratio_follows_jc_beta(beta):
    pairs = sample_pairs(0.08, 1.0, beta, 20_000, generator=_gen(10 + int(beta))).numpy()
    t = np.log(pairs[:, 1] / pairs[:, 0])
    assert np.all(np.abs(t) <= L_CROP + 1e-9)
    assert stats.kstest(t, lambda x: jc_cdf(x, beta, L_CROP)).pvalue > 1e-3
    # The test has teeth: the same draws are rejected against a different beta.
    wrong = 0.0 if beta != 0 else 2.0
    assert stats.kstest(t, lambda x: jc_cdf(x, wrong, L_CROP)).pvalue < 1e-6


def test_sigma_override_changes_the_draws():
    default = sample_pairs(0.08, 1.0, 1.0, 20_000, generator=_gen(4)).numpy()
    narrow = sample_pairs(0.08, 1.0, 1.0, 20_000, sigma=0.5, generator=_gen(4)).numpy()
    assert np.std(np.log(narrow[:, 1] / narrow[:, 0])) < 0.6 * np.std(np.log(default[:, 1] / default[:, 0]))
    t = np.log(narrow[:, 1] / narrow[:, 0])
    assert stats.kstest(t, lambda x: jc_cdf(x, 1.0, L_CROP, sigma=0.5)).pvalue > 1e-3


def test_p_ratio_gt_2_rises_as_beta_falls():
    closed = [joint_ratio_sf(2, 0.08, 1.0, JointSpec(b)) for b in (2, 1, 0, -1, -2)]
    assert all(a < b for a, b in itertools.pairwise(closed))
    mc = []
    for b in (2, 1, 0, -1, -2):
        pairs = sample_pairs(0.08, 1.0, b, 100_000, generator=_gen(5))
        mc.append(float(((pairs[:, 1] / pairs[:, 0]) > 2).double().mean()))
    assert all(a < b for a, b in itertools.pairwise(mc))
    assert closed[0] > independent_ratio_sf(2, 0.08, 1.0)


@settings(max_examples=60, deadline=None)
@given(
    lo=st.floats(0.01, 0.5),
    spread=st.floats(2.2, 50.0),
    beta=st.floats(-5, 5),
    coupling=st.sampled_from(["ratio", "difference"]),
)
def test_both_parameters_stay_inside_the_range(lo, spread, beta, coupling):
    hi = lo * spread
    pairs = sample_pairs(lo, hi, beta, 500, coupling=coupling, generator=_gen(0))
    assert torch.all(pairs >= lo - 1e-12) and torch.all(pairs <= hi + 1e-12)


def test_difference_coupling_couples_the_difference():
    pairs = sample_pairs(-0.1, 0.1, 0.0, 50_000, coupling="difference", generator=_gen(6)).numpy()
    d = pairs[:, 1] - pairs[:, 0]
    half = 0.9 * 0.2
    assert np.abs(d).max() <= half + 1e-12
    assert stats.kstest(d, stats.uniform(-half, 2 * half).cdf).pvalue > 1e-3


# --- boxes ------------------------------------------------------------------------------------------


@settings(max_examples=80, deadline=None)
@given(
    height=st.integers(1, 600),
    width=st.integers(1, 600),
    lo=st.floats(0.01, 0.4),
    ratio_lo=st.floats(0.3, 1.0),
    ratio_spread=st.floats(1.0, 3.0),
    beta=st.one_of(st.none(), st.floats(-3, 3)),
)
def test_boxes_lie_inside_the_image(height, width, lo, ratio_lo, ratio_spread, beta):
    spec = None if beta is None else JointSpec(beta)
    scale, ratio = (lo, 1.0), (ratio_lo, ratio_lo * ratio_spread)
    boxes = sample_crop_box_pairs(height, width, 64, scale=scale, ratio=ratio, spec=spec, generator=_gen(0))
    top, left, h, w = boxes.unbind(-1)
    assert torch.all(h >= 1) and torch.all(w >= 1)
    assert torch.all(top >= 0) and torch.all(left >= 0)
    assert torch.all(top + h <= height) and torch.all(left + w <= width)
    # The per-image (scalar) path on the same sizes.
    u = torch.rand(JOINT_UNIFORMS if spec else INDEPENDENT_UNIFORMS, generator=_gen(1), dtype=torch.float64).tolist()
    if spec is None:
        box, _ = independent_box_from_uniforms(u, height, width, scale, ratio)
        found = [box]
    else:
        box1, box2, _ = joint_boxes_from_uniforms(u, height, width, scale, ratio, spec)
        found = [box1, box2]
    for t, lft, bh, bw in found:
        assert 0 <= t and 0 <= lft and bh >= 1 and bw >= 1 and t + bh <= height and lft + bw <= width


@pytest.mark.parametrize("spec", [None, JointSpec(0.0), JointSpec(-1.5), JointSpec(2.0, sigma=0.7)])
@pytest.mark.parametrize("size", [(375, 500), (1, 1), (7, 300)])
def test_scalar_and_batched_paths_agree_on_the_same_uniforms(spec, size):
    n = 300
    batched = sample_crop_box_pairs(*size, n, spec=spec, generator=_gen(7))
    width = JOINT_UNIFORMS if spec is not None else 2 * INDEPENDENT_UNIFORMS
    u = torch.rand(n, width, generator=_gen(7), dtype=torch.float64)
    for i in range(n):
        row = u[i].tolist()
        if spec is None:
            first, _ = independent_box_from_uniforms(row[:INDEPENDENT_UNIFORMS], *size, (0.08, 1.0), (3 / 4, 4 / 3))
            second, _ = independent_box_from_uniforms(row[INDEPENDENT_UNIFORMS:], *size, (0.08, 1.0), (3 / 4, 4 / 3))
        else:
            first, second, _ = joint_boxes_from_uniforms(row, *size, (0.08, 1.0), (3 / 4, 4 / 3), spec)
        assert tuple(batched[i, 0].tolist()) == first
        assert tuple(batched[i, 1].tolist()) == second


def test_joint_crop_alone_behaves_like_torchvision():
    """Used alone, JointRandomResizedCrop draws area fractions as torchvision's RandomResizedCrop does."""
    image = torch.zeros(3, 150, 200)
    torch.manual_seed(0)
    ours = [JointRandomResizedCrop(8).make_params([image])["area"] for _ in range(4000)]
    theirs = []
    for _ in range(4000):
        _, _, h, w = T.RandomResizedCrop.get_params(image, (0.08, 1.0), (3 / 4, 4 / 3))
        theirs.append(h * w / (150 * 200))
    assert stats.ks_2samp(ours, theirs).pvalue > 1e-3
    assert JointRandomResizedCrop((5, 7))(image).shape == (3, 5, 7)


# --- transforms through the coordinator -------------------------------------------------------------


def _pil(seed: int = 0, size=(60, 80)) -> Image.Image:
    return Image.fromarray(np.random.default_rng(seed).integers(0, 255, (*size, 3), dtype=np.uint8))


def test_same_seed_same_draws_and_other_seed_other_draws():
    views = [T.Compose([JointRandomResizedCrop(16), JointGaussianBlur(p=0.5), T.PILToTensor()])] * 2
    a, b, c = (JointViews(views, crop=0.0, blur=0.0, seed=s) for s in (5, 5, 6))
    image = _pil()
    for _ in range(3):
        (va, ra), (vb, rb), (_, rc) = (x.apply(image, records=True) for x in (a, b, c))
        assert [r.params for r in ra] == [r.params for r in rb]
        assert all(torch.equal(x, y) for x, y in zip(va, vb))
        assert [r.params for r in ra] != [r.params for r in rc]


class _Draws(torch.utils.data.Dataset):
    def __init__(self, transform):
        self.transform = transform
        self.image = _pil()

    def __len__(self):
        return 8

    def __getitem__(self, index):
        _, records = self.transform.apply(self.image, records=True)
        return torch.utils.data.get_worker_info().id, [r.params["area"] for r in records]


def _collate(batch):
    return batch


@pytest.mark.parametrize("context", ["fork", "spawn"])
def test_two_workers_draw_different_reproducible_streams(context):
    views = [T.Compose([JointRandomResizedCrop(8)])] * 2
    # One unseeded transform, iterated twice after the same torch seed: what a re-run of the script
    # sees (the DDP tests re-run whole processes). Building it consumes no global random number.
    joint = JointViews(views, crop=0.0)

    def run():
        torch.manual_seed(123)
        loader = torch.utils.data.DataLoader(
            _Draws(joint),
            batch_size=4,
            num_workers=2,
            multiprocessing_context=context,
            collate_fn=_collate,
        )
        return [item for batch in loader for item in batch]

    first, again = run(), run()
    assert first == again
    by_worker = {w: [tuple(a) for ww, a in first if ww == w] for w in (0, 1)}
    assert by_worker[0] and by_worker[1] and not set(by_worker[0]) & set(by_worker[1])


def test_every_transform_pickles_and_still_works():
    objects = [
        JointRandomResizedCrop(8, scale=(0.2, 1.0)),
        JointGaussianBlur(kernel_size=3, sigma=(0.1, 1.0), p=0.5),
        JointColorJitter(0.4, 0.4, 0.4, 0.1),
        JointViews([T.Compose([JointRandomResizedCrop(8), T.PILToTensor()])] * 2, crop=0.0, seed=1),
        jointify([T.Compose([T.RandomResizedCrop(8), T.ColorJitter(0.4, 0.4), T.PILToTensor()])] * 2, color=0.0),
    ]
    for obj in objects:
        restored = pickle.loads(pickle.dumps(obj))
        out = restored(_pil())
        assert out is not None


def test_tensor_inputs_uint8_float_and_batched():
    views = [T.Compose([JointRandomResizedCrop(12), JointColorJitter(0.4, 0.4, 0.4, 0.1), JointGaussianBlur()])] * 2
    joint = JointViews(views, crop=0.0, blur=0.0, color=0.0, seed=0)
    for image in (torch.randint(0, 255, (3, 40, 50), dtype=torch.uint8), torch.rand(3, 40, 50), torch.rand(2, 3, 9, 9)):
        out = joint(image)
        assert out[0].shape[-2:] == (12, 12) and out[0].dtype == image.dtype and out[0].shape[:-2] == image.shape[:-2]


def test_blur_keeps_each_views_probability():
    views = [T.Compose([JointGaussianBlur(p=1.0)]), T.Compose([JointGaussianBlur(p=0.1)])]
    joint = JointViews(views, crop=None, blur=0.0, seed=0)
    image = _pil(size=(8, 8))
    applied = np.array([[r.params["apply"] for r in joint.apply(image, records=True)[1]] for _ in range(2000)])
    assert applied[:, 0].all()
    assert applied[:, 1].mean() == pytest.approx(0.1, abs=0.025)
    image = _pil(size=(8, 8))
    assert np.array_equal(np.asarray(JointGaussianBlur(p=0.0)(image)), np.asarray(image))


def test_apply_probability_multiplies_the_wrappers_and_the_transforms_own_p():
    from torchvision.transforms import v2

    from jointaug_plugins.transforms.pairing import apply_probabilities

    blur, color = JointGaussianBlur(p=0.4), JointColorJitter(0.4)
    view = T.Compose([T.RandomApply([T.Compose([v2.RandomApply([blur], p=0.5)])], p=0.5), color])
    found = apply_probabilities(view)
    assert found[id(blur)] == pytest.approx(0.1) and found[id(color)] == 1.0


@pytest.mark.parametrize(
    ("kind", "make"),
    [
        ("blur", lambda: JointGaussianBlur(p=0.0)),  # the transform's own p (lightly's gaussian_blur=0.0)
        ("color", lambda: T.RandomApply([JointColorJitter(0.4)], p=0.0)),  # lightly's cj_prob=0.0
        ("blur", lambda: T.RandomApply([T.Compose([JointGaussianBlur(p=1.0)])], p=0.0)),  # nested wrappers
    ],
)
def test_a_kind_no_pair_applies_is_refused_as_if_no_view_held_it(kind, make):
    views = [T.Compose([JointRandomResizedCrop(8), make()]) for _ in range(2)]
    with pytest.raises(ValueError, match=rf"{kind} is switched on but no joint pair applies a {kind} transform"):
        JointViews(views, crop=0.0, **{kind: 0.0})
    JointViews(views, crop=0.0)  # with the kind off, the same views build


def test_a_kind_applied_in_one_view_of_a_pair_only_has_no_effect_there():
    views = [T.Compose([JointGaussianBlur(p=p)]) for p in (1.0, 0.0, 0.5, 0.5)]
    with pytest.warns(UserWarning, match=r"blur has no effect on pair\(s\) \[\(0, 1\)\]"):
        joint = JointViews(views, crop=None, blur=0.0, seed=0)
    assert joint.pairs == [(0, 1), (2, 3)]
    with pytest.raises(ValueError, match=r"no joint pair applies a blur.*\{0: \[1\.0\], 1: \[0\.0\]\}"):
        JointViews(views[:2], crop=None, blur=0.0)


def test_hue_is_coupled_by_difference_and_factors_by_ratio():
    joint = JointViews([T.Compose([JointColorJitter(0.8, 0.8, 0.8, 0.2)])] * 2, crop=None, color=0.0, seed=0)
    image = _pil(size=(4, 4))
    factors = np.array([[r.params["factors"] for r in joint.apply(image, records=True)[1]] for _ in range(4000)])
    hue = factors[:, 1, 3] - factors[:, 0, 3]
    assert np.abs(hue).max() <= 0.9 * 0.4 + 1e-9
    assert stats.kstest(hue, stats.uniform(-0.36, 0.72).cdf).pvalue > 1e-3
    t = np.log(factors[:, 1, 0] / factors[:, 0, 0])
    assert stats.kstest(t, lambda x: jc_cdf(x, 0.0, math.log(9 - 0.1))).pvalue > 1e-3


def test_crop_or_blur_makes_exactly_one_joint_per_pair():
    views = [T.Compose([JointRandomResizedCrop(8), JointGaussianBlur()])] * 2
    joint = JointViews(views, crop=0.0, blur=0.0, crop_or_blur=0.3, seed=0)
    image = _pil(size=(20, 20))
    crop_joint = []
    for _ in range(3000):
        records = joint.apply(image, records=True)[1]
        kinds = {r.kind for r in records if r.joint}
        assert len(kinds) == 1
        crop_joint.append("crop" in kinds)
    assert np.mean(crop_joint) == pytest.approx(0.3, abs=0.03)


def test_jointify_swaps_v1_and_v2_with_the_same_arguments_and_leaves_the_input():
    from torchvision.transforms import v2

    v1 = T.Compose(
        [
            T.RandomResizedCrop(24, scale=(0.2, 0.9)),
            T.RandomApply([T.ColorJitter(0.4, 0.3, 0.2, 0.1)], p=0.8),
            T.GaussianBlur(5, sigma=(0.2, 1.5)),
        ]
    )
    v2_view = v2.Compose(
        [
            v2.RandomResizedCrop(24, scale=(0.2, 0.9)),
            v2.RandomApply([v2.ColorJitter(0.4, 0.3, 0.2, 0.1)], p=0.8),
            v2.GaussianBlur(5, sigma=(0.2, 1.5)),
        ]
    )
    joint = jointify([v1, v2_view], crop=0.0, blur=0.0, color=0.0)
    crop, apply, blur = joint.view_transforms[0].transforms
    assert type(crop) is JointRandomResizedCrop and crop.scale == (0.2, 0.9) and crop.size == [24, 24]
    assert type(apply.transforms[0]) is JointColorJitter and apply.transforms[0].hue == (-0.1, 0.1)
    assert type(blur) is JointGaussianBlur and blur.sigma == (0.2, 1.5) and blur.kernel_size == [5, 5]
    assert type(joint.view_transforms[1].transforms[0]) is JointRandomResizedCrop
    assert type(v1.transforms[0]) is T.RandomResizedCrop  # the input is untouched
    # A kind switched on that one paired view lacks would leave that view independent: refused.
    with pytest.raises(ValueError, match="paired views 0 and 1 hold 1 and 0 color"):
        jointify([v1, T.Compose([T.RandomResizedCrop(24, scale=(0.2, 0.9)), T.GaussianBlur(5, (0.2, 1.5))])], color=0.0)
    with pytest.raises(TypeError, match="single Compose"):
        jointify(v1)


# --- plugins ----------------------------------------------------------------------------------------


class JointSolarize(ScalarJointTransform):
    """Solarise above a threshold drawn in ``threshold``; paired views draw it jointly (ratio)."""

    kind = "solarize"
    param = "threshold"
    range_name = "threshold"
    range_bounds = (0.0, 255.0)

    def apply(self, image, value):
        return F.solarize(image, threshold=value)


class _SolarizePlugin:
    @hookimpl
    def jointaug_augmentations(self):
        return {"solarize": JointSolarize}

    @hookimpl
    def jointaug_replacement(self, transform):
        if type(transform) is T.RandomSolarize:
            return JointSolarize((32.0, 224.0), p=transform.p)
        return None


@pytest.fixture
def solarize_plugin():
    plugin = _SolarizePlugin()
    register_plugin(plugin)
    yield plugin
    unregister_plugin(plugin)


def test_a_new_joint_augmentation_through_the_hook(solarize_plugin):
    views = [T.Compose([JointSolarize((32.0, 224.0)), T.PILToTensor()])] * 2
    joint = JointViews(views, crop=None, solarize=0.0, seed=0)
    image = _pil()
    thresholds = np.array([[r.params["threshold"] for r in joint.apply(image, records=True)[1]] for _ in range(3000)])
    t = np.log(thresholds[:, 1] / thresholds[:, 0])
    assert stats.kstest(t, lambda x: jc_cdf(x, 0.0, math.log(7 - 0.1))).pvalue > 1e-3
    converted = jointify([T.Compose([T.RandomSolarize(128, p=0.4), T.PILToTensor()])] * 2, crop=None, solarize=0.0)
    assert type(converted.view_transforms[0].transforms[0]) is JointSolarize
    assert len(converted(image)) == 2


def test_unknown_kind_gives_one_message_at_every_door_and_plugin_kinds_are_listed(solarize_plugin):
    messages = []
    for door in (
        lambda: jointify([T.Compose([T.RandomResizedCrop(8)])] * 2, solarise=0.0),
        lambda: JointViews([T.Compose([JointRandomResizedCrop(8)])] * 2, solarise=0.0),
    ):
        with pytest.raises(ValueError) as err:
            door()
        messages.append(str(err.value))
    assert messages[0] == messages[1]
    assert "unknown joint option 'solarise' (did you mean 'solarize'?)" in messages[0]
    assert "valid options: crop, blur, color, solarize, pairs" in messages[0]
