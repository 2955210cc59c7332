"""lightly adapter: lightly's own models, losses and datasets train with joint views."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest
import torch
from images import make_image, write_image_folder
from PIL import Image

pytest.importorskip("lightly")

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
from lightly.transforms import SimCLRTransform

from jointaug_plugins import JointGaussianBlur, JointRandomResizedCrop, JointSpec
from jointaug_plugins.adapters.lightly import (
    JointBYOLTransform,
    JointCollateFunction,
    JointMoCoCollateFunction,
    JointMoCoV2Transform,
    JointMultiViewTransform,
    JointSimCLRCollateFunction,
    JointSimCLRTransform,
    JointSimSiamTransform,
    jointify,
)
from jointaug_plugins.sampling import independent_ratio_sf, joint_ratio_sf

SIZE = 32


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
    return write_image_folder(tmp_path_factory.mktemp("lightly_images"), 16)


def _loader(folder, transform, collate_fn=None, batch_size=8):
    dataset = LightlyDataset(input_dir=str(folder), transform=transform)
    return torch.utils.data.DataLoader(
        dataset, batch_size=batch_size, shuffle=True, drop_last=True, collate_fn=collate_fn or MultiViewCollate()
    )


def _snapshot(module):
    return [p.detach().clone() for p in module.parameters()]


def _changed(module, before):
    return any(not torch.equal(p, b) for p, b in zip(module.parameters(), before))


def _train(loader, step_fn, model, steps=3):
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    before = _snapshot(model)
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
        losses.append(float(loss))
    assert all(np.isfinite(losses)), losses
    assert _changed(model, before)
    return losses


def test_simclr_trains_with_joint_transform(image_folder):
    model = torch.nn.Sequential(backbone(), SimCLRProjectionHead(32, 32, 16))
    criterion = NTXentLoss()
    transform = JointSimCLRTransform(input_size=SIZE, crop=0.0, blur=0.0, seed=0)
    _train(_loader(image_folder, transform), lambda v: criterion(model(v[0]), model(v[1])), model)


def test_simclr_trains_through_joint_collate_function(image_folder):
    model = torch.nn.Sequential(backbone(), SimCLRProjectionHead(32, 32, 16))
    criterion = NTXentLoss()
    collate = JointSimCLRCollateFunction(input_size=SIZE, crop=0.0, seed=0)
    loader = _loader(image_folder, None, collate_fn=collate)
    _train(loader, lambda v: criterion(model(v[0]), model(v[1])), model)


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

    from lightly.transforms import BYOLView1Transform, BYOLView2Transform

    transform = JointBYOLTransform(
        view_1_transform=BYOLView1Transform(input_size=SIZE),
        view_2_transform=BYOLView2Transform(input_size=SIZE),
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

    transform = JointSimSiamTransform(input_size=SIZE, crop=0.0, seed=0)
    _train(_loader(image_folder, transform), step, model)


def _coordinate_image() -> Image.Image:
    """Red = x and green = y (in pixels): a crop's view then tells which box it came from."""
    y, x = np.mgrid[0:192, 0:256]
    return Image.fromarray(np.stack([x, y, np.zeros_like(x)], axis=-1).astype(np.uint8))


def _box_area_from_view(view: torch.Tensor, out: int) -> float:
    """The source box's area, read off a view of the coordinate image.

    Resizing keeps a linear ramp linear, so across the view the red channel spans (out - 1) / out of
    the box width (pixel centres), and likewise green for the height.
    """
    pixels = view * 255.0
    width = float((pixels[0, :, -1] - pixels[0, :, 0]).median()) * out / (out - 1)
    height = float((pixels[1, -1, :] - pixels[1, 0, :]).median()) * out / (out - 1)
    return max(width, 1.0) * max(height, 1.0)


def _view_area_ratios(transform: JointMultiViewTransform, n: int, out: int) -> np.ndarray:
    image = _coordinate_image()
    ratios = []
    for _ in range(n):
        v0, v1 = transform(image)
        ratios.append(_box_area_from_view(v1, out) / _box_area_from_view(v0, out))
    return np.asarray(ratios)


@pytest.mark.parametrize("beta", [0.0, -1.0, None])
def test_produced_views_show_the_joint_relation(beta):
    """Area ratios recovered from the views lightly's pipeline actually produced."""
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
    p = np.mean(_view_area_ratios(transform, 1500, out) > 2)
    expected = independent_ratio_sf(2, 0.08, 1.0) if beta is None else joint_ratio_sf(2, 0.08, 1.0, JointSpec(beta))
    assert abs(p - expected) < 0.03, (p, expected)


def test_produced_crops_match_recorded_boxes():
    """The crops the views actually show have the recorded sizes (areas recovered from the views)."""
    transform = JointSimCLRTransform(input_size=16, crop=0.0, seed=1)
    step = transform.joint_views.view_transforms[0].transform.transforms[0]
    assert isinstance(step, JointRandomResizedCrop)
    image = make_image(0, (96, 128))
    _, records = transform.joint_views.call_with_draw(image)
    for record in (r for r in records if r.kind == "crop"):
        box = record.params
        assert 0 <= box["top"] and box["top"] + box["height"] <= 96
        assert 0 <= box["left"] and box["left"] + box["width"] <= 128
        assert abs(box["height"] * box["width"] / (96 * 128) - box["area"]) < 0.05


def test_jointify_knows_lightly_gaussian_blur_and_keeps_original():
    base = SimCLRTransform(input_size=SIZE, gaussian_blur=0.3, sigmas=(0.2, 1.5))
    joint = jointify(base, crop=0.0, blur=0.0)
    blurs = [t for t in joint.joint_views.view_transforms[0].transform.transforms if isinstance(t, JointGaussianBlur)]
    assert len(blurs) == 1 and blurs[0].sigma == (0.2, 1.5) and blurs[0].p == 0.3
    # lightly's own transform is untouched.
    assert not any(isinstance(t, JointGaussianBlur) for t in base.transforms[0].transform.transforms)
    views = joint(make_image(0))
    assert len(views) == 2 and views[0].shape == (3, SIZE, SIZE)


def test_joint_collate_function_contract():
    from torchvision import transforms as T

    single = T.Compose([T.RandomResizedCrop(SIZE), T.ToTensor()])
    collate = JointCollateFunction(single, crop=0.0, seed=0)
    batch = [(make_image(i), i % 2, f"img_{i}.png") for i in range(5)]
    (x0, x1), labels, names = collate(batch)
    assert x0.shape == x1.shape == (5, 3, SIZE, SIZE)
    assert labels.tolist() == [0, 1, 0, 1, 0] and names == [f"img_{i}.png" for i in range(5)]
    moco = JointMoCoCollateFunction(input_size=SIZE, crop=1.0)
    (m0, _), _, _ = moco(batch)
    assert m0.shape == (5, 3, SIZE, SIZE)


def _identity(batch):
    return batch


def test_transform_pickles_and_runs_under_spawn_workers():
    transform = JointSimCLRTransform(input_size=16, crop=0.0, seed=0)
    restored = pickle.loads(pickle.dumps(transform))
    assert len(restored(make_image(0))) == 2
    dataset = [make_image(i) for i in range(8)]

    loader = torch.utils.data.DataLoader(
        _PicklableViews(dataset, transform),
        batch_size=4,
        num_workers=2,
        multiprocessing_context="spawn",
        collate_fn=_identity,
    )
    batches = list(loader)
    assert sum(len(b) for b in batches) == 8
    assert all(len(views) == 2 and views[0].shape == (3, 16, 16) for b in batches for views in b)


class _PicklableViews(torch.utils.data.Dataset):
    def __init__(self, images, transform):
        self.images = images
        self.transform = transform

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        return self.transform(self.images[i])
