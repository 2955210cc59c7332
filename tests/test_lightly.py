"""lightly adapter: lightly's own models, losses, datasets and collate train with joint views."""

from __future__ import annotations

import copy
import inspect
import pickle
import subprocess
import sys
from importlib.metadata import entry_points

import numpy as np
import pytest
import torch
from helpers_images import coordinate_image, textured_image, varied_images, write_copies, write_varied_image_folder
from PIL import Image

pytest.importorskip("lightly")

import lightly.transforms as LT
from lightly.data import LightlyDataset
from lightly.data.multi_view_collate import MultiViewCollate
from lightly.loss import NegativeCosineSimilarity, NTXentLoss
from lightly.models.modules import (
    BYOLPredictionHead,
    BYOLProjectionHead,
    MoCoProjectionHead,
    SimCLRProjectionHead,
    SimSiamPredictionHead,
    SimSiamProjectionHead,
)
from lightly.models.utils import deactivate_requires_grad, update_momentum
from lightly.transforms.multi_view_transform import MultiViewTransform
from torchvision.transforms import v2 as T2

import jointaug_plugins
from jointaug_plugins import JointColorJitter, JointRandomResizedCrop, JointSpec, JointViews
from jointaug_plugins.adapters import lightly as adapter
from jointaug_plugins.adapters.lightly import (
    JointBYOLTransform,
    JointCollateFunction,
    JointDINOTransform,
    JointMoCoCollateFunction,
    JointMoCoV2Transform,
    JointMultiViewTransform,
    JointRandomResizedCropWithLocation,
    JointSimCLRCollateFunction,
    JointSimCLRTransform,
    JointSimSiamTransform,
    LightlyJointGaussianBlur,
    jointify,
)
from jointaug_plugins.options import DEFAULTS, JointOptions, UnknownOptionError
from jointaug_plugins.registry import plugin_manager
from jointaug_plugins.sampling import independent_ratio_sf, joint_ratio_sf
from jointaug_plugins.walk import iter_transforms

SIZE = 16
# The joint options every door shows after lightly's arguments: the one option set's keys, then **options.
OURS = (*DEFAULTS, "options")


def backbone() -> torch.nn.Module:
    return torch.nn.Sequential(
        torch.nn.Conv2d(3, 16, 3, stride=2, padding=1),
        torch.nn.BatchNorm2d(16),
        torch.nn.ReLU(),
        torch.nn.Conv2d(16, 32, 3, stride=2, padding=1),
        torch.nn.ReLU(),
        torch.nn.AdaptiveAvgPool2d(1),
        torch.nn.Flatten(),
    )


@pytest.fixture(scope="module")
def image_folder(tmp_path_factory):
    return write_varied_image_folder(tmp_path_factory.mktemp("lightly_images"), 16)


def _loader(folder, transform, collate_fn=None, batch_size=8, **kwargs):
    dataset = LightlyDataset(input_dir=str(folder), transform=transform)
    return torch.utils.data.DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=True,
        drop_last=True,
        collate_fn=collate_fn or MultiViewCollate(),
        **kwargs,
    )


def _train(loader, step_fn, model, steps=3):
    """``steps`` SGD steps; the losses are finite and the trained parameters change."""
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    before = [p.detach().clone() for p in model.parameters()]
    losses = []
    batches = iter(loader)
    for _ in range(steps):
        try:
            views, _, _ = next(batches)
        except StopIteration:
            batches = iter(loader)
            views, _, _ = next(batches)
        loss = step_fn(views)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert np.all(np.isfinite(losses)), losses
    assert any(not torch.equal(p, b) for p, b in zip(model.parameters(), before))
    return losses


# --------------------------------------------------------------------------------------------------
# Training with lightly's own modules and losses
# --------------------------------------------------------------------------------------------------


def test_simclr_trains_with_joint_transform(image_folder):
    model = torch.nn.Sequential(backbone(), SimCLRProjectionHead(32, 32, 16))
    criterion = NTXentLoss()
    transform = JointSimCLRTransform(input_size=SIZE, crop=0.0, blur=0.0, color=0.0, seed=0)
    assert isinstance(transform, MultiViewTransform)
    _train(_loader(image_folder, transform), lambda v: criterion(model(v[0]), model(v[1])), model)


def test_simclr_trains_through_joint_collate_function(image_folder):
    model = torch.nn.Sequential(backbone(), SimCLRProjectionHead(32, 32, 16))
    criterion = NTXentLoss()
    collate = JointCollateFunction(LT.SimCLRViewTransform(input_size=SIZE), crop=0.0, blur=0.0, seed=0)
    _train(_loader(image_folder, None, collate_fn=collate), lambda v: criterion(model(v[0]), model(v[1])), model)


def test_moco_v2_trains_with_memory_bank(image_folder):
    query = torch.nn.Sequential(backbone(), MoCoProjectionHead(32, 32, 16))
    key = copy.deepcopy(query)
    deactivate_requires_grad(key)
    criterion = NTXentLoss(memory_bank_size=(64, 16))

    def step(views):
        update_momentum(query, key, m=0.99)
        return criterion(query(views[0]), key(views[1]).detach())

    transform = JointMoCoV2Transform(input_size=SIZE, crop=0.0, seed=0)
    _train(_loader(image_folder, transform), step, query)


def test_byol_trains_with_asymmetric_joint_views(image_folder):
    online = torch.nn.Sequential(backbone(), BYOLProjectionHead(32, 32, 16))
    predictor = BYOLPredictionHead(16, 32, 16)
    target = copy.deepcopy(online)
    deactivate_requires_grad(target)
    model = torch.nn.ModuleList([online, predictor])
    criterion = NegativeCosineSimilarity()

    def step(views):
        update_momentum(online, target, m=0.99)
        p0, p1 = predictor(online(views[0])), predictor(online(views[1]))
        return 0.5 * (criterion(p0, target(views[1]).detach()) + criterion(p1, target(views[0]).detach()))

    transform = JointBYOLTransform(
        view_1_transform=LT.BYOLView1Transform(input_size=SIZE),
        view_2_transform=LT.BYOLView2Transform(input_size=SIZE),
        crop=0.0,
        blur=0.0,
        seed=0,
    )
    _train(_loader(image_folder, transform), step, model)


def test_simsiam_trains(image_folder):
    projection = torch.nn.Sequential(backbone(), SimSiamProjectionHead(32, 32, 16))
    predictor = SimSiamPredictionHead(16, 8, 16)
    model = torch.nn.ModuleList([projection, predictor])
    criterion = NegativeCosineSimilarity()

    def step(views):
        z0, z1 = projection(views[0]), projection(views[1])
        return 0.5 * (criterion(predictor(z0), z1.detach()) + criterion(predictor(z1), z0.detach()))

    transform = JointSimSiamTransform(input_size=SIZE, crop=-1.0, seed=0)
    _train(_loader(image_folder, transform), step, model)


# --------------------------------------------------------------------------------------------------
# The views are joint
# --------------------------------------------------------------------------------------------------

N_IMAGES = 1500


@pytest.fixture(scope="module")
def many_images():
    return varied_images(N_IMAGES, 64, 96, seed=7)


def _recorded_ratios(transform, images) -> np.ndarray:
    """Crop area ratio view 1 / view 0 of each image, from the draws recorded while making its views."""
    ratios = []
    for image in images:
        views, records = transform.apply(image, records=True)
        assert len(views) == 2 and views[0].shape == (3, SIZE, SIZE)
        areas = {r.view: r.params["area"] for r in records if r.kind == "crop"}
        ratios.append(areas[1] / areas[0])
    return np.asarray(ratios)


@pytest.mark.parametrize("beta", [-2.0, 0.0, 2.0])
def test_recorded_draws_follow_jc_beta(beta, many_images):
    transform = JointSimCLRTransform(input_size=SIZE, crop=beta, seed=11)
    p = np.mean(_recorded_ratios(transform, many_images) > 2)
    expected = joint_ratio_sf(2, 0.08, 1.0, JointSpec(beta))
    assert abs(p - expected) < 0.03, (p, expected)
    # The test can tell JC(beta) from independent crops.
    assert abs(expected - independent_ratio_sf(2, 0.08, 1.0)) > 0.07


def test_unpaired_views_draw_independently(many_images):
    transform = jointify(LT.SimCLRTransform(input_size=SIZE), crop=0.0, pairs=[], seed=11)
    p = np.mean(_recorded_ratios(transform, many_images) > 2)
    assert abs(p - independent_ratio_sf(2, 0.08, 1.0)) < 0.03, p


def _box_area_from_view(view: torch.Tensor, out: int) -> float:
    """The source box's area, read off a view of the coordinate image (a resized linear ramp stays
    linear: across the view the red channel spans (out - 1) / out of the box width, green the height)."""
    pixels = view * 255.0
    width = float((pixels[0, :, -1] - pixels[0, :, 0]).median()) * out / (out - 1)
    height = float((pixels[1, -1, :] - pixels[1, 0, :]).median()) * out / (out - 1)
    return max(width, 1.0) * max(height, 1.0)


@pytest.mark.parametrize("beta", [0.0, None])
def test_produced_views_show_the_joint_relation(beta):
    """Area ratios read off the views lightly's pipeline actually produced; ``crop=None`` keeps lightly's
    own crops (no draw is recorded), which must give the independent value."""
    out = 24
    transform = JointSimCLRTransform(
        input_size=out,
        cj_prob=0.0,
        random_gray_scale=0.0,
        gaussian_blur=0.0,
        hf_prob=0.0,
        normalize=None,
        crop=beta,
        seed=3,
    )
    image = coordinate_image()
    ratios = []
    for _ in range(N_IMAGES):
        v0, v1 = transform(image)
        ratios.append(_box_area_from_view(v1, out) / _box_area_from_view(v0, out))
    p = np.mean(np.asarray(ratios) > 2)
    expected = independent_ratio_sf(2, 0.08, 1.0) if beta is None else joint_ratio_sf(2, 0.08, 1.0, JointSpec(beta))
    assert abs(p - expected) < 0.03, (p, expected)
    if beta is None:
        assert transform.apply(image, records=True)[1] == []


# --------------------------------------------------------------------------------------------------
# The recipes: lightly's arguments, defaults and views
# --------------------------------------------------------------------------------------------------

RECIPES = [
    (JointSimCLRTransform, LT.SimCLRTransform),
    (adapter.JointMoCoV1Transform, LT.MoCoV1Transform),
    (JointMoCoV2Transform, LT.MoCoV2Transform),
    (adapter.JointVICRegTransform, LT.VICRegTransform),
    (JointBYOLTransform, LT.BYOLTransform),
    (JointSimSiamTransform, LT.SimSiamTransform),
    (JointDINOTransform, LT.DINOTransform),
]


@pytest.mark.parametrize(("ours", "theirs"), RECIPES, ids=lambda c: c.__name__)
def test_recipe_has_lightlys_signature_plus_joint_options(ours, theirs):
    mine = inspect.signature(ours).parameters
    lightly_params = list(inspect.signature(theirs).parameters.values())
    shape = [(p.name, p.kind, p.default) for p in mine.values() if p.name not in OURS]
    assert shape == [(p.name, p.kind, p.default) for p in lightly_params]
    # Then the joint options, read from the one option set (names and defaults), and **options (plugin kinds).
    assert list(mine)[len(lightly_params) :] == list(OURS)
    assert {k: mine[k].default for k in DEFAULTS} == DEFAULTS
    assert all(mine[name].kind is inspect.Parameter.KEYWORD_ONLY for name in DEFAULTS)
    assert mine["options"].kind is inspect.Parameter.VAR_KEYWORD


def _type_names(view) -> list[str]:
    return [type(t).__name__ for t in iter_transforms(view)]


SWAPPED = {
    "RandomResizedCrop": "JointRandomResizedCrop",
    "GaussianBlur": "LightlyJointGaussianBlur",
    "ColorJitter": "JointColorJitter",
}


@pytest.mark.parametrize(("ours", "theirs"), RECIPES, ids=lambda c: c.__name__)
def test_recipe_views_are_lightlys_with_joint_transforms_swapped_in(ours, theirs):
    # lightly's MoCo v1 never blurs (gaussian_blur=0.0), where blur=0.0 is refused: give it a blur to see every swap.
    lightly_args = {"gaussian_blur": 0.5} if theirs is LT.MoCoV1Transform else {}
    joint = ours(**lightly_args, crop=0.0, blur=0.0, color=0.0, seed=0)
    base = theirs(**lightly_args)
    assert isinstance(joint, MultiViewTransform) and len(joint.transforms) == len(base.transforms)
    for mine, original in zip(joint.transforms, base.transforms):
        assert type(mine) is type(original)
        assert _type_names(mine) == [SWAPPED.get(name, name) for name in _type_names(original)]
    # lightly's own transform objects are left alone.
    assert "JointRandomResizedCrop" not in _type_names(base.transforms[0])


def test_recipe_arguments_reach_lightlys_views():
    transform = JointSimCLRTransform(
        input_size=20,
        min_scale=0.3,
        cj_strength=0.5,
        gaussian_blur=0.7,
        sigmas=(0.3, 1.5),
        crop=0.0,
        blur=1.0,
        color=0.0,
    )
    for view in transform.transforms:
        steps = list(iter_transforms(view))
        crop = next(t for t in steps if isinstance(t, JointRandomResizedCrop))
        blur = next(t for t in steps if isinstance(t, LightlyJointGaussianBlur))
        jitter = next(t for t in steps if isinstance(t, JointColorJitter))
        assert crop.size == [20, 20] and crop.scale == (0.3, 1.0)
        assert blur.sigma == (0.3, 1.5) and blur.p == 0.7
        assert jitter.brightness == pytest.approx((0.6, 1.4)) and jitter.hue == pytest.approx((-0.1, 0.1))
    assert transform(textured_image(np.random.default_rng(0), 40, 50))[0].shape == (3, 20, 20)


def test_byol_views_keep_their_asymmetric_blur_probabilities():
    transform = JointBYOLTransform(crop=0.0, blur=0.0)
    blurs = [
        next(t for t in iter_transforms(v) if isinstance(t, LightlyJointGaussianBlur)) for v in transform.transforms
    ]
    assert [b.p for b in blurs] == [1.0, 0.1]


def test_mismatched_paired_ranges_are_refused_when_built():
    with pytest.raises(ValueError, match="crop: views 0 and 1 are paired"):
        JointBYOLTransform(LT.BYOLView1Transform(min_scale=0.08), LT.BYOLView2Transform(min_scale=0.2), crop=0.0)
    # Off, the same views are fine (lightly's own crops).
    JointBYOLTransform(LT.BYOLView1Transform(min_scale=0.08), LT.BYOLView2Transform(min_scale=0.2), crop=None)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"crop": "strong"}, TypeError, "crop"),
        ({"input_sze": 32}, TypeError, "JointSimCLRTransform: got an unexpected keyword argument 'input_sze'"),
        ({"crop": float("nan")}, ValueError, "beta"),
        ({"seed": -1}, ValueError, "seed"),
        ({"crop_or_blur": 0.5}, ValueError, "crop_or_blur"),
        ({"crop_or_blur": 1.5, "blur": 0.0}, ValueError, "crop_or_blur"),
        ({"min_scale": 0.95}, ValueError, "scale"),
    ],
)
def test_bad_options_are_refused_with_their_name(kwargs, error, match):
    with pytest.raises(error, match=match):
        JointSimCLRTransform(input_size=SIZE, **kwargs)


def _lightly_doors():
    views = LT.SimCLRTransform(input_size=SIZE).transforms
    return {
        "JointMultiViewTransform": lambda **k: JointMultiViewTransform(views, **k),
        "JointSimCLRTransform": lambda **k: JointSimCLRTransform(input_size=SIZE, **k),
        "JointBYOLTransform": lambda **k: JointBYOLTransform(**k),
        "JointDINOTransform": lambda **k: JointDINOTransform(n_local_views=2, **k),
        "JointCollateFunction": lambda **k: JointCollateFunction(LT.SimCLRViewTransform(input_size=SIZE), **k),
        "JointCollateFunction(multi-view)": lambda **k: JointCollateFunction(LT.SimCLRTransform(input_size=SIZE), **k),
        "JointSimCLRCollateFunction": lambda **k: JointSimCLRCollateFunction(input_size=SIZE, **k),
        "JointMoCoCollateFunction": lambda **k: JointMoCoCollateFunction(input_size=SIZE, **k),
        "JointDINOCollateFunction": lambda **k: adapter.JointDINOCollateFunction(n_local_views=2, **k),
    }


@pytest.mark.parametrize("door", list(_lightly_doors()))
def test_every_lightly_door_parses_the_one_option_set(door):
    make = _lightly_doors()[door]
    with pytest.raises(UnknownOptionError) as one:
        JointOptions.parse(blurr=0.0)
    with pytest.raises(UnknownOptionError) as err:
        make(blurr=0.0)
    assert str(err.value) == str(one.value)  # the one message, naming 'blur' and every valid key
    joint = make(reproducible=True, seed=0)  # every key it can honour is taken
    views = getattr(joint, "joint_views", None) or joint.joint_transform.joint_views
    assert views.options == JointOptions.parse(reproducible=True, seed=0)
    if "DINO" in door:  # multi-crop: one default policy, the global pair
        assert views.layout == [2, 2] and views.pairs == [(0, 1)]


# --------------------------------------------------------------------------------------------------
# jointify: any lightly multi-view transform
# --------------------------------------------------------------------------------------------------


def test_jointify_user_built_transform_with_lightly_blur_keeps_the_original():
    views = [
        T2.Compose(
            [T2.RandomResizedCrop(SIZE, scale=(0.2, 1.0)), LT.GaussianBlur(prob=0.3, sigmas=(0.2, 1.5)), LT.ToTensor()]
        ),
        T2.Compose(
            [T2.RandomResizedCrop(SIZE, scale=(0.2, 1.0)), LT.GaussianBlur(prob=0.9, sigmas=(0.2, 1.5)), LT.ToTensor()]
        ),
    ]
    base = MultiViewTransform(views)
    joint = jointify(base, crop=0.0, blur=0.0, seed=0)
    assert isinstance(joint, MultiViewTransform) and isinstance(joint, JointMultiViewTransform)
    blurs = [next(t for t in iter_transforms(v) if isinstance(t, LightlyJointGaussianBlur)) for v in joint.transforms]
    assert [(b.sigma, b.p) for b in blurs] == [((0.2, 1.5), 0.3), ((0.2, 1.5), 0.9)]
    assert isinstance(base.transforms[0].transforms[1], LT.GaussianBlur)
    views_out, records = joint.apply(textured_image(np.random.default_rng(1), 70, 90), records=True)
    assert [v.shape for v in views_out] == [(3, SIZE, SIZE)] * 2
    assert {(r.kind, r.joint) for r in records} >= {("crop", True)}


def test_one_jointify_returns_the_inputs_family():
    """There is one ``jointify``: a lightly ``MultiViewTransform`` gives one (through the plugin's
    ``jointaug_wrap_views`` hook), lightly's V2 and grid types their joint versions (the plugin reads their
    views through ``jointaug_views_of``), a list of views a ``JointViews``."""
    assert jointify is jointaug_plugins.jointify
    base = LT.SimCLRTransform(input_size=SIZE)
    joint = jointify(base, crop=0.0, seed=0)
    assert type(joint) is JointMultiViewTransform and joint.joint_views.specs["crop"] == JointSpec(0.0)
    assert isinstance(jointify(list(base.transforms), crop=0.0), JointViews)
    detcon = jointify(LT.DetConSTransform(input_size=SIZE))
    assert isinstance(detcon, LT.MultiViewTransformV2) and detcon.joint_views.kinds_found == {"crop"}


def test_lightly_blur_replacement_is_the_same_operation():
    image = textured_image(np.random.default_rng(2), 40, 50)
    theirs = LT.GaussianBlur(prob=1.0, sigmas=(1.3, 1.3))
    mine = plugin_manager().hook.jointaug_replacement(transform=theirs)
    assert isinstance(mine, LightlyJointGaussianBlur)
    assert np.array_equal(np.asarray(mine(image)), np.asarray(theirs(image)))
    tensor = LT.ToTensor()(image)
    assert torch.equal(mine(tensor), theirs(tensor))


def test_plugin_is_an_entry_point_and_does_not_import_lightly():
    values = {ep.value for ep in entry_points(group="jointaug_plugins")}
    assert "jointaug_plugins.adapters.lightly.plugin" in values
    code = (
        "import sys, jointaug_plugins.adapters.lightly.plugin as p\n"
        "from jointaug_plugins.registry import plugin_manager\n"
        "assert plugin_manager().is_registered(p), plugin_manager().list_name_plugin()\n"
        "assert not any(m == 'lightly' or m.startswith('lightly.') for m in sys.modules), 'lightly imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_jointify_keeps_a_subclass_call_that_prepares_the_input():
    class GrayFirst(MultiViewTransform):
        def __call__(self, image):
            return super().__call__(image.convert("L").convert("RGB"))

    base = GrayFirst([T2.Compose([T2.RandomResizedCrop(SIZE), LT.ToTensor()])] * 2)
    views = jointify(base, seed=0)(textured_image(np.random.default_rng(3), 50, 60))
    assert all(torch.equal(v[0], v[1]) and torch.equal(v[1], v[2]) for v in views)


def test_jointify_v2_detcon_crops_image_and_mask_with_the_joint_boxes():
    from torchvision.transforms.v2 import functional as F
    from torchvision.tv_tensors import Mask

    image = F.to_image(coordinate_image(96, 128))
    rows = torch.arange(96).view(96, 1).expand(96, 128)

    def segment(img):  # module-level-like: the row index as the label
        return rows.clone()

    joint = jointify(LT.DetConSTransform(mask_fn=segment, input_size=SIZE, hf_prob=0.0), crop=0.0, seed=0)
    assert isinstance(joint, LT.MultiViewTransformV2)
    views, records = joint.apply(image, records=True)
    boxes = {r.view: r.params for r in records if r.kind == "crop"}
    assert {r.joint for r in records if r.kind == "crop"} == {True} and set(boxes) == {0, 1}
    for k, (img, mask) in enumerate(views):
        assert isinstance(mask, Mask) and mask.shape == (1, SIZE, SIZE) and img.shape == (3, SIZE, SIZE)
        # The mask (its row labels) was cropped with the view's recorded box.
        assert boxes[k]["top"] <= int(mask.min()) and int(mask.max()) < boxes[k]["top"] + boxes[k]["height"]
    grid = jointify(LT.DetConSTransform(grid_size=(2, 2), input_size=SIZE), crop=1.0)
    out = grid(image, Mask(torch.zeros(1, 96, 128, dtype=torch.int64)))
    assert [tuple(o[1].shape) for o in out] == [(1, SIZE, SIZE)] * 2


def test_jointify_vicregl_grids_follow_the_joint_crops():
    base = LT.VICRegLTransform(global_crop_size=SIZE, local_crop_size=8, n_local_views=2, global_grid_size=4)
    joint = jointify(base, crop=0.0, seed=0)
    assert isinstance(joint, adapter.JointImageGridTransform)
    out, records = joint.apply(textured_image(np.random.default_rng(4), 80, 90), records=True)
    assert [tuple(o.shape) for o in out] == [(3, SIZE, SIZE)] * 2 + [(3, 8, 8)] * 2 + [(4, 4, 2)] * 2 + [(3, 3, 2)] * 2
    crops = [r for r in records if r.kind == "crop"]
    assert [r.view for r in crops] == [0, 1, 2, 3] and all(r.joint for r in crops)
    crop = next(t for t in iter_transforms(joint.joint_views.view_transforms[0]) if hasattr(t, "joint_source"))
    assert isinstance(crop.joint_source, JointRandomResizedCropWithLocation)


def test_jointify_of_a_joint_dino_transform_keeps_its_pairs():
    dino = JointDINOTransform(global_crop_size=SIZE, local_crop_size=8, n_local_views=4, multicrop="local")
    assert dino.pairs == [(2, 3), (4, 5)]
    assert jointify(dino, blur=0.0).pairs == [(2, 3), (4, 5)]
    assert jointify(LT.DINOTransform(n_local_views=4)).pairs == [(0, 1), (2, 3), (4, 5)]


def test_jointify_rejects_what_has_no_views():
    with pytest.raises(TypeError, match="Compose"):
        jointify(T2.Compose([T2.RandomResizedCrop(SIZE)]))


# --------------------------------------------------------------------------------------------------
# Collate functions (legacy API)
# --------------------------------------------------------------------------------------------------


def _batch(n=5):
    rng = np.random.default_rng(5)
    return [(textured_image(rng, 60 + i, 70), i % 2, f"img_{i}.png") for i in range(n)]


def test_joint_collate_function_contract_and_pairs():
    collate = JointCollateFunction(LT.SimCLRViewTransform(input_size=SIZE), crop=0.0, seed=0)
    (x0, x1), labels, names = collate(_batch())
    assert x0.shape == x1.shape == (5, 3, SIZE, SIZE)
    assert labels.dtype == torch.int64 and labels.tolist() == [0, 1, 0, 1, 0]
    assert names == [f"img_{i}.png" for i in range(5)]
    _, records = collate.joint_transform.apply(_batch(1)[0][0], records=True)
    assert [(r.view, r.pair, r.joint) for r in records if r.kind == "crop"] == [(0, 0, True), (1, 0, True)]
    # A multi-view transform gives lightly's MultiViewCollateFunction layout: a list of N batches.
    multi = JointCollateFunction(LT.SimCLRTransform(input_size=SIZE), crop=0.0)
    views, _, _ = multi(_batch(3))
    assert isinstance(views, list) and [v.shape for v in views] == [(3, 3, SIZE, SIZE)] * 2
    with pytest.raises(ValueError, match="batch"):
        collate([])


def _jitter(view):
    return next(t for t in iter_transforms(view) if isinstance(t, (JointColorJitter, T2.ColorJitter)))


# lightly 1.5.x (lightly/data/collate.py at v1.5.26): constructor arguments and defaults.
LIGHTLY_15_IMAGE_COLLATE = {
    "input_size": 224,
    "cj_prob": 0.8,
    "min_scale": 0.08,
    "random_gray_scale": 0.2,
    "gaussian_blur": 0.5,
    "kernel_size": None,
    "sigmas": (0.2, 2),
    "vf_prob": 0.0,
    "hf_prob": 0.5,
    "rr_prob": 0.0,
    "rr_degrees": None,
}


@pytest.mark.parametrize(
    ("cls", "defaults", "jitter"),
    [
        (JointSimCLRCollateFunction, {"cj_strength": 0.5}, [(0.6, 1.4), (0.6, 1.4), (0.6, 1.4), (-0.1, 0.1)]),
        (
            JointMoCoCollateFunction,
            {"cj_strength": 0.4, "min_scale": 0.2, "gaussian_blur": 0.0},
            [(0.6, 1.4), (0.6, 1.4), (0.6, 1.4), (-0.4, 0.4)],
        ),
    ],
)
def test_lightly_15_collate_drop_ins(cls, defaults, jitter):
    params = inspect.signature(cls).parameters
    expected = {**LIGHTLY_15_IMAGE_COLLATE, **defaults}
    names = [n for n in params if n not in OURS]
    assert names == [
        "input_size",
        "cj_prob",
        "cj_strength",
        "min_scale",
        "random_gray_scale",
        "gaussian_blur",
        "kernel_size",
        "sigmas",
        "vf_prob",
        "hf_prob",
        "rr_prob",
        "rr_degrees",
        "normalize",
    ]
    assert {n: params[n].default for n in expected} == expected
    collate = cls(input_size=SIZE, color=0.0, seed=0)
    ranges = _jitter(collate.joint_transform.transforms[0])
    assert [ranges.brightness, ranges.contrast, ranges.saturation, ranges.hue] == [pytest.approx(r) for r in jitter]
    (x0, _), labels, _ = collate(_batch(4))
    assert x0.shape == (4, 3, SIZE, SIZE) and labels.shape == (4,)
    with pytest.warns(DeprecationWarning, match="kernel_size"):
        cls(input_size=SIZE, kernel_size=0.1)


def test_spawn_workers_unpickle_and_draw_distinct_streams(tmp_path):
    """Under `spawn`, the transform is pickled into 2 workers; with only the crop random, identical images
    give different views in the two workers (distinct streams)."""
    folder = write_copies(tmp_path, textured_image(np.random.default_rng(6), 64, 80), 8)
    options = {"input_size": SIZE, "cj_prob": 0.0, "random_gray_scale": 0.0, "gaussian_blur": 0.0, "hf_prob": 0.0}
    loader = torch.utils.data.DataLoader(
        LightlyDataset(input_dir=str(folder), transform=JointSimCLRTransform(**options, crop=0.0, seed=0)),
        batch_size=4,
        num_workers=2,
        multiprocessing_context="spawn",
        collate_fn=MultiViewCollate(),
    )
    batches = [views for views, _, _ in loader]
    assert len(batches) == 2 and all(v.shape == (4, 3, SIZE, SIZE) for views in batches for v in views)
    first, second = batches
    assert not torch.equal(first[0], second[0]), "both workers drew the same crops"
    # Within a worker each image gets its own draw.
    assert not torch.equal(first[0][0], first[0][1])


def test_collate_function_pickles_and_runs_restored():
    collate = JointCollateFunction(LT.SimCLRViewTransform(input_size=SIZE), crop=0.0, blur=0.0, seed=0)
    restored = pickle.loads(pickle.dumps(collate))
    (x0, x1), labels, _ = restored(_batch(3))
    assert x0.shape == x1.shape == (3, 3, SIZE, SIZE) and labels.tolist() == [0, 1, 0]


def test_pickled_transform_reproduces_with_its_seed():
    image = Image.fromarray(np.full((50, 60, 3), 128, np.uint8))
    transform = JointSimCLRTransform(input_size=SIZE, crop=0.0, seed=5)
    restored = pickle.loads(pickle.dumps(transform))
    first = [r.params for r in transform.apply(image, records=True)[1]]
    assert first == [r.params for r in restored.apply(image, records=True)[1]]


@pytest.mark.parametrize(
    ("make", "kind"),
    [
        (lambda: adapter.JointMoCoV1Transform(blur=0.0), "blur"),  # lightly's MoCo v1: gaussian_blur=0.0
        (lambda: JointSimCLRTransform(input_size=SIZE, gaussian_blur=0.0, blur=0.0), "blur"),
        (lambda: JointSimCLRTransform(input_size=SIZE, cj_prob=0.0, color=0.0), "color"),  # RandomApply(p=0)
    ],
)
def test_a_kind_the_recipe_applies_with_probability_0_is_refused(make, kind):
    with pytest.raises(ValueError, match=rf"{kind} is switched on but no joint pair applies a {kind} transform"):
        make()
