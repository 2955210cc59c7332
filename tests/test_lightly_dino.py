"""JointDINOTransform with lightly's own DINO pieces (projection head, loss, momentum teacher)."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
import torch
from helpers_images import varied_images, write_varied_image_folder

pytest.importorskip("lightly")

import lightly.transforms as LT
from lightly.data import LightlyDataset
from lightly.data.multi_view_collate import MultiViewCollate
from lightly.loss import DINOLoss
from lightly.models.modules import DINOProjectionHead
from lightly.models.utils import deactivate_requires_grad, update_momentum
from torchvision.transforms import v2 as T2

from jointaug_plugins import JointColorJitter, JointSpec
from jointaug_plugins.adapters.lightly import JointDINOCollateFunction, JointDINOTransform
from jointaug_plugins.sampling import independent_ratio_sf, joint_ratio_sf
from jointaug_plugins.walk import iter_transforms

GLOBAL, LOCAL = 32, 16


def _backbone() -> torch.nn.Module:
    return torch.nn.Sequential(
        torch.nn.Conv2d(3, 16, 3, stride=2, padding=1),
        torch.nn.ReLU(),
        torch.nn.AdaptiveAvgPool2d(1),
        torch.nn.Flatten(),
    )


def test_dino_trains_three_steps_with_lightly_modules(tmp_path):
    folder = write_varied_image_folder(tmp_path, 12)
    transform = JointDINOTransform(
        global_crop_size=GLOBAL, local_crop_size=LOCAL, n_local_views=2, crop=0.0, multicrop="both", seed=0
    )
    loader = torch.utils.data.DataLoader(
        LightlyDataset(input_dir=str(folder), transform=transform),
        batch_size=4,
        shuffle=True,
        collate_fn=MultiViewCollate(),
    )
    student = torch.nn.Sequential(_backbone(), DINOProjectionHead(16, 32, 8, 16))
    # lightly's DINO head uses weight norm, which deepcopy refuses: build the teacher and copy the weights.
    teacher = torch.nn.Sequential(_backbone(), DINOProjectionHead(16, 32, 8, 16))
    teacher.load_state_dict(student.state_dict())
    deactivate_requires_grad(teacher)
    criterion = DINOLoss(output_dim=16, warmup_teacher_temp_epochs=1)
    optimizer = torch.optim.SGD(student.parameters(), lr=0.1)
    before = [p.detach().clone() for p in student.parameters()]
    teacher_before = [p.detach().clone() for p in teacher.parameters()]
    losses = []
    for views, _, _ in loader:
        assert [tuple(v.shape) for v in views] == [(4, 3, GLOBAL, GLOBAL)] * 2 + [(4, 3, LOCAL, LOCAL)] * 2
        update_momentum(student, teacher, m=0.9)
        teacher_out = [teacher(v) for v in views[:2]]
        student_out = [student(v) for v in views]
        loss = criterion(teacher_out, student_out, epoch=0)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert len(losses) == 3 and np.all(np.isfinite(losses)), losses
    assert any(not torch.equal(p, b) for p, b in zip(student.parameters(), before))
    assert any(not torch.equal(p, b) for p, b in zip(teacher.parameters(), teacher_before))


@pytest.fixture(scope="module")
def many_images():
    return varied_images(1500, 64, 96, seed=13)


# The three modes with different betas; the global range (0.4, 1.0) is narrow, so a joint global pair gets
# beta <= 0, which keeps JC(beta) at least 0.07 away from the independent value (0.028).
@pytest.mark.parametrize(("mode", "beta"), [("global", 0.0), ("local", 1.0), ("both", -1.0)])
def test_dino_pairs_are_joint_only_in_the_chosen_group(mode, beta, many_images):
    transform = JointDINOTransform(
        global_crop_size=16, local_crop_size=8, n_local_views=2, crop=beta, multicrop=mode, normalize=None, seed=2
    )
    ratios = []
    for image in many_images:
        _, records = transform.apply(image, records=True)
        areas = {r.view: r.params["area"] for r in records if r.kind == "crop"}
        ratios.append((areas[1] / areas[0], areas[3] / areas[2]))
    global_p, local_p = (np.asarray(ratios) > 2).mean(axis=0)
    spec = JointSpec(beta)
    joint_global = joint_ratio_sf(2, 0.4, 1.0, spec)
    joint_local = joint_ratio_sf(2, 0.05, 0.4, spec)
    independent_global = independent_ratio_sf(2, 0.4, 1.0)
    independent_local = independent_ratio_sf(2, 0.05, 0.4)
    on_global, on_local = mode in ("global", "both"), mode in ("local", "both")
    # The test tells a joint group from an independent one.
    assert abs(joint_global - independent_global) > 0.07 or not on_global
    assert abs(joint_local - independent_local) > 0.07 or not on_local
    expected_global = joint_global if on_global else independent_global
    expected_local = joint_local if on_local else independent_local
    assert abs(global_p - expected_global) < 0.03, (global_p, expected_global)
    assert abs(local_p - expected_local) < 0.03, (local_p, expected_local)


def test_odd_last_local_is_drawn_independently():
    transform = JointDINOTransform(global_crop_size=16, local_crop_size=8, n_local_views=3, multicrop="both", seed=0)
    assert transform.pairs == [(0, 1), (2, 3)]
    _, records = transform.apply(varied_images(1)[0], records=True)
    crops = {r.view: (r.joint, r.pair) for r in records if r.kind == "crop"}
    assert crops == {0: (True, 0), 1: (True, 0), 2: (True, 1), 3: (True, 1), 4: (False, None)}


def test_multicrop_option_and_bad_modes():
    assert JointDINOTransform(n_local_views=2, crop={"beta": 0.5}, multicrop="local").pairs == [(2, 3)]
    assert JointDINOTransform(n_local_views=2).multicrop == "global"
    with pytest.raises(ValueError, match=r"multicrop must be one of 'global', 'local', 'both'; got 'middle'"):
        JointDINOTransform(multicrop="middle")
    with pytest.raises(ValueError, match=r"crop has unknown option\(s\) joint"):
        JointDINOTransform(crop={"joint": "local"})
    with pytest.raises(TypeError, match="joint"):
        JointDINOTransform(joint="global")  # the old name is gone


def test_color_on_the_global_pair_needs_lightlys_default_strength():
    """lightly's DINOTransform gives the second global view its default cj_strength (0.5): the global pair's
    jitter ranges then differ and cannot be drawn jointly; this is refused when built."""
    JointDINOTransform(n_local_views=2, color=0.0)
    with pytest.raises(ValueError, match="color: views 0 and 1 are paired"):
        JointDINOTransform(n_local_views=2, cj_strength=1.0, color=0.0)


def _jitter_ranges(view):
    jitter = next(t for t in iter_transforms(view) if isinstance(t, (JointColorJitter, T2.ColorJitter)))
    return [jitter.brightness, jitter.contrast, jitter.saturation, jitter.hue]


def test_dino_collate_drop_in_has_lightly_15_arguments_and_recipe():
    params = inspect.signature(JointDINOCollateFunction).parameters
    expected = {
        "global_crop_size": 224, "global_crop_scale": (0.4, 1.0), "local_crop_size": 96,
        "local_crop_scale": (0.05, 0.4), "n_local_views": 6, "hf_prob": 0.5, "vf_prob": 0, "rr_prob": 0,
        "rr_degrees": None, "cj_prob": 0.8, "cj_bright": 0.4, "cj_contrast": 0.4, "cj_sat": 0.2, "cj_hue": 0.1,
        "random_gray_scale": 0.2, "gaussian_blur": (1.0, 0.1, 0.5), "kernel_size": None, "kernel_scale": None,
        "sigmas": (0.1, 2), "solarization_prob": 0.2,
    }  # fmt: skip
    assert [n for n in params][: len(expected)] == list(expected)
    assert {n: params[n].default for n in expected} == expected
    assert [n for n in params][len(expected) + 1 :] == ["options"]  # the joint options, after `normalize`
    collate = JointDINOCollateFunction(n_local_views=2, multicrop="local")
    assert collate.multicrop == "local" and collate.joint_transform.pairs == [(2, 3)]
    collate = JointDINOCollateFunction(global_crop_size=GLOBAL, local_crop_size=LOCAL, n_local_views=2, color=0.0)
    # Every view jitters as lightly 1.5's did: (0.4, 0.4, 0.2, 0.1), unscaled.
    for view in collate.joint_transform.transforms:
        assert _jitter_ranges(view) == [pytest.approx(r) for r in [(0.6, 1.4), (0.6, 1.4), (0.8, 1.2), (-0.1, 0.1)]]
    batch = [(image, i % 2, f"{i}.png") for i, image in enumerate(varied_images(4))]
    views, labels, names = collate(batch)
    assert [tuple(v.shape) for v in views] == [(4, 3, GLOBAL, GLOBAL)] * 2 + [(4, 3, LOCAL, LOCAL)] * 2
    assert labels.tolist() == [0, 1, 0, 1] and names == ["0.png", "1.png", "2.png", "3.png"]
    assert collate.joint_transform.pairs == [(0, 1)]


def test_recipe_matches_lightlys_dino_views():
    joint = JointDINOTransform(n_local_views=3, crop=0.0, blur=0.0)
    base = LT.DINOTransform(n_local_views=3)
    for mine, original in zip(joint.transforms, base.transforms):
        names = [type(t).__name__ for t in iter_transforms(original)]
        swapped = {"RandomResizedCrop": "JointRandomResizedCrop", "GaussianBlur": "LightlyJointGaussianBlur"}
        assert [type(t).__name__ for t in iter_transforms(mine)] == [swapped.get(n, n) for n in names]
