"""timm through the plugin hooks: its training pipelines jointified, boxes read back, a real timm model trained."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch
from helpers_images import coordinate_image

from jointaug_plugins import JointViews, jointify
from jointaug_plugins.sampling import independent_ratio_sf, joint_ratio_sf
from jointaug_plugins.spec import JointSpec

timm = pytest.importorskip("timm")
from timm.data import create_transform  # noqa: E402

SIZE = 24


def _pipelines(**kwargs):
    """Two of timm's training pipelines; mean 0 / std 1 keep the coordinate image's values readable."""
    options = {"is_training": True, "hflip": 0.0, "color_jitter": None, "mean": (0.0,) * 3, "std": (1.0,) * 3}
    return [create_transform(SIZE, **{**options, **kwargs}) for _ in range(2)]


def _area(view: torch.Tensor) -> float:
    pixels = view * 255.0
    width = float((pixels[0, :, -1] - pixels[0, :, 0]).median()) * SIZE / (SIZE - 1)
    height = float((pixels[1, -1, :] - pixels[1, 0, :]).median()) * SIZE / (SIZE - 1)
    return max(width, 1.0) * max(height, 1.0)


def test_the_plugin_is_an_entry_point_and_imports_timm_lazily():
    code = (
        "import sys; from importlib.metadata import entry_points; "
        "names = {e.name: e.value for e in entry_points(group='jointaug_plugins')}; "
        "assert names['timm'] == 'jointaug_plugins.adapters.timm_plugin', names; "
        "from jointaug_plugins.registry import plugin_manager; plugin_manager(); "
        "import jointaug_plugins.adapters.timm_plugin; assert 'timm' not in sys.modules"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]


@pytest.mark.parametrize("beta", [0.0, -1.0, None])
def test_timm_pipelines_read_back_follow_jc_beta(beta):
    views = jointify(_pipelines(interpolation="random"), crop=beta, seed=5)
    crops = [type(v.transforms[0]).__name__ for v in views.view_transforms]
    timm_own = "RandomResizedCropAndInterpolation"  # crop=None keeps timm's own crop
    assert crops == [timm_own if beta is None else f"Joint{timm_own}"] * 2
    image = coordinate_image()
    ratios = []
    for _ in range(1500):
        first, second = views(image)
        ratios.append(_area(second) / _area(first))
    p = np.mean(np.asarray(ratios) > 2)
    expected = independent_ratio_sf(2, 0.08, 1.0) if beta is None else joint_ratio_sf(2, 0.08, 1.0, JointSpec(beta))
    assert abs(p - expected) < 0.03, (p, expected)


def test_random_interpolation_is_kept_per_view():
    views = jointify(_pipelines(interpolation="random"), crop=0.0, seed=1)
    modes = set()
    for _ in range(40):
        _, records = views.apply(coordinate_image(), records=True)
        modes |= {str(r.params["interpolation"]) for r in records if r.kind == "crop"}
    assert modes == {"InterpolationMode.BILINEAR", "InterpolationMode.BICUBIC"}
    fixed = jointify(_pipelines(interpolation="bicubic"), crop=0.0, seed=1)
    _, records = fixed.apply(coordinate_image(), records=True)
    assert {str(r.params["interpolation"]) for r in records} == {"InterpolationMode.BICUBIC"}


def test_an_object_holding_its_views_in_transforms_is_jointified():
    """timm's main branch holds a MultiViewTransform's view pipelines in ``.transforms``: read the same way."""

    class MultiViewTransform:  # the structure timm's main branch documents; not in the 1.0.31 release
        def __init__(self, transforms):
            self.transforms = transforms

        def __call__(self, image):
            return [t(image) for t in self.transforms]

    views = jointify(MultiViewTransform(_pipelines()), crop=0.0, seed=0)
    assert isinstance(views, JointViews) and views.pairs == [(0, 1)]
    crops = [type(v.transforms[0]).__name__ for v in views.view_transforms]
    assert crops == ["JointRandomResizedCropAndInterpolation"] * 2


def test_a_timm_model_trains_a_few_steps_on_joint_views():
    torch.manual_seed(0)
    pipelines = [create_transform(32, is_training=True) for _ in range(2)]  # timm's defaults, colour jitter included
    views = jointify(pipelines, crop=0.0, color=0.0, seed=0)
    names = [type(t).__name__ for t in views.view_transforms[0].transforms]
    assert names[0] == "JointRandomResizedCropAndInterpolation" and "JointColorJitter" in names
    model = timm.create_model("resnet10t", num_classes=32, pretrained=False)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    rng = np.random.default_rng(0)
    from PIL import Image

    images = [Image.fromarray(rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)) for _ in range(8)]
    before = [p.detach().clone() for p in model.parameters()]
    for _ in range(3):
        pairs = [views(image) for image in images]
        x1 = torch.stack([p[0] for p in pairs])
        x2 = torch.stack([p[1] for p in pairs])
        z1 = torch.nn.functional.normalize(model(x1), dim=1)
        z2 = torch.nn.functional.normalize(model(x2), dim=1)
        logits = z1 @ z2.T / 0.2
        loss = torch.nn.functional.cross_entropy(logits, torch.arange(len(images)))  # InfoNCE
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        assert torch.isfinite(loss)
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters()))
