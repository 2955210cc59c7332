"""Reproducible draws: the views of image i in epoch e are a function of (seed, e, i) alone."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch
from draws import close
from images import make_image
from scipy import stats
from torchvision.transforms import v2

from jointaug_plugins import (
    JointGaussianBlur,
    JointRandomResizedCrop,
    JointViews,
    indexed,
    sample_index,
    set_epoch,
    unbatch,
)
from jointaug_plugins.epoch import epoch_channel
from jointaug_plugins.sampling import half_width, jc_cdf

SEED = 7
N_IMAGES = 24


@pytest.fixture(autouse=True)
def no_epoch():
    epoch_channel().set(None)
    yield
    epoch_channel().set(None)


# β 2 at epoch 0, -2 from epoch 1, 0.5 from epoch 3 (tests/scripts/ddp_epoch.py).
SCHEDULE = {"beta": {"start": 2.0, "shape": "step", "steps": [[1, -2.0], [3, 0.5]]}}


def make_views(reproducible: bool = True, seed: int | None = SEED, crop=-1.0) -> JointViews:
    """Joint crops and blurs, plus a flip that draws from torch's global generator (seeded per view by the draw)."""
    blur = JointGaussianBlur(sigma=(0.1, 2.0), p=0.5)
    view = v2.Compose([v2.ToImage(), JointRandomResizedCrop(12), v2.RandomHorizontalFlip(), blur])
    return JointViews([view, view], crop=crop, blur=0.0, seed=seed, reproducible=reproducible)


class Images(torch.utils.data.Dataset):
    def __init__(self, transform) -> None:
        self.transform = transform
        self.images = [make_image(i, (40, 48)) for i in range(N_IMAGES)]

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int):
        return index, torch.stack(self.transform(self.images[index]))


def views_by_index(workers: int, batch_size: int, order_seed: int) -> dict[int, torch.Tensor]:
    loader = torch.utils.data.DataLoader(
        indexed(Images(make_views())),
        batch_size=batch_size,
        shuffle=True,
        num_workers=workers,
        generator=torch.Generator().manual_seed(order_seed),
    )
    return {int(i): v for indices, views in loader for i, v in zip(indices, views)}


def test_same_views_whatever_the_workers_batch_size_and_order():
    set_epoch(2)
    runs = [views_by_index(0, 4, 0), views_by_index(1, 3, 1), views_by_index(3, 5, 2)]
    for run in runs:
        assert sorted(run) == list(range(N_IMAGES))
        for i in range(N_IMAGES):
            assert torch.equal(run[i], runs[0][i])  # the flips included: the whole views reproduce
    set_epoch(3)
    other_epoch = views_by_index(0, 4, 0)
    assert sum(not torch.equal(other_epoch[i], runs[0][i]) for i in range(N_IMAGES)) >= N_IMAGES - 1


def test_other_epochs_and_indices_draw_otherwise_and_the_seed_matters():
    views = make_views()
    base = views.draw(index=5, epoch=1)
    assert views.draw(index=5, epoch=1) == base
    with sample_index(5):
        assert views.draw(epoch=1) == base  # the index set by a dataset wrapper
    assert views.draw(index=6, epoch=1).views != base.views
    assert views.draw(index=5, epoch=2).views != base.views
    assert make_views(seed=SEED + 1).draw(index=5, epoch=1).views != base.views
    assert base.index == 5 and base.epoch == 1
    # A batch of indices is the scalar draws of those indices (to float64 rounding).
    batch = unbatch(views.draw_batch(3, indices=[5, 9, 2], epoch=1))
    assert close(batch[0], base) and close(batch[2], views.draw(index=2, epoch=1))


def test_the_distribution_stays_jc_beta():
    views = make_views()
    draws = views.draw_batch(4000, indices=range(4000), epoch=0)
    areas = [view.slices[0].areas[:, 0] for view in draws.views]
    t = torch.log(areas[1] / areas[0]).numpy()
    half = half_width(0.08, 1.0)
    result = stats.kstest(t, lambda x: jc_cdf(x, -1.0, half))
    assert result.pvalue > 1e-3
    # And the per-view uniforms are uniform: the flip coins of the blur's apply flag (p = 0.5).
    assert abs(float(draws.views[0].slices[1].apply.double().mean()) - 0.5) < 0.03


def test_the_global_generators_are_left_as_they_were():
    views, image = make_views(), make_image(0, (40, 48))
    torch.manual_seed(0)
    np.random.seed(0)
    random.seed(0)
    expected = (torch.rand(3), np.random.rand(3), random.random())
    torch.manual_seed(0)
    np.random.seed(0)
    random.seed(0)
    views.apply(image, views.draw(index=3, epoch=0))
    got = (torch.rand(3), np.random.rand(3), random.random())
    assert torch.equal(got[0], expected[0]) and np.array_equal(got[1], expected[1]) and got[2] == expected[2]


def test_mistakes_are_named():
    with pytest.raises(ValueError, match="reproducible=True needs seed="):
        make_views(seed=None)
    with pytest.raises(TypeError, match="reproducible must be True or False"):
        JointViews([JointRandomResizedCrop(8)] * 2, seed=0, reproducible="yes")
    views = make_views()
    with pytest.raises(ValueError, match=r"jointaug_plugins.indexed\(dataset\)"):
        views(make_image(0))  # no index anywhere
    with pytest.raises(ValueError, match="not generator="):
        views.draw(torch.Generator(), index=1)
    with pytest.raises(ValueError, match="needs indices="):
        views.draw_batch(2)
    with pytest.raises(ValueError, match="sample index must be an int >= 0"):
        sample_index(-1)
    with pytest.warns(UserWarning, match="every epoch draws the same views"):
        make_views().draw(index=0)


def test_lightly_recipe_with_an_indexed_dataset(tmp_path):
    """lightly's own random transforms (colour jitter, grayscale) reproduce too: they draw from the generators
    the coordinator seeds per view with the draw's seeds, which come from the (seed, epoch, index) key."""
    pytest.importorskip("lightly")
    from lightly.data import LightlyDataset

    from jointaug_plugins.adapters.lightly import JointSimCLRTransform

    for i in range(6):
        make_image(i).save(tmp_path / f"{i}.png")
    transform = JointSimCLRTransform(input_size=16, crop=0.0, color=0.0, seed=3, reproducible=True)
    dataset = indexed(LightlyDataset(input_dir=str(tmp_path), transform=transform))
    set_epoch(0)
    first = [dataset[i][0] for i in range(6)]
    again = [dataset[i][0] for i in reversed(range(6))][::-1]
    assert all(torch.equal(a, b) for x, y in zip(first, again) for a, b in zip(x, y))
    assert not torch.equal(first[0][0], first[1][0])


@pytest.mark.parametrize("library", ["mmselfsup"])
def test_mmengine_sample_idx_keys_the_draw(library):
    pytest.importorskip(library)
    import importlib

    from mmengine.registry import DefaultScope

    importlib.import_module(f"jointaug_plugins.adapters.{library}")
    view = [dict(type="RandomResizedCrop", size=16), dict(type="RandomFlip", prob=0.5)]
    jointaug = dict(crop=0.0, seed=3, reproducible=True)
    cfg = dict(type="JointMultiView", num_views=2, transforms=[view], jointaug=jointaug)
    with DefaultScope.overwrite_default_scope(library):
        transform = importlib.import_module(f"{library}.registry").TRANSFORMS.build(cfg)
    image = np.asarray(make_image(0, (64, 80)))

    def views(idx):
        out = transform.transform({"img": image.copy(), "img_shape": image.shape[:2], "sample_idx": idx})
        return np.stack(out["img"])

    set_epoch(1)
    assert np.array_equal(views(4), views(4))  # mmcv's flip (numpy's generator) reproduces too
    assert not np.array_equal(views(4), views(5))
    with pytest.raises(ValueError, match="no dataset index reached the transform"):
        transform.transform({"img": image.copy(), "img_shape": image.shape[:2]})
