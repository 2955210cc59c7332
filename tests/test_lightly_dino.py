"""JointDINOTransform with lightly's own DINO pieces (projection head, loss, momentum teacher)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from images import make_image

pytest.importorskip("lightly")

from lightly.loss import DINOLoss
from lightly.models.modules import DINOProjectionHead
from lightly.models.utils import deactivate_requires_grad, update_momentum

from jointaug_plugins import JointSpec
from jointaug_plugins.adapters.lightly import JointDINOCollateFunction, JointDINOTransform
from jointaug_plugins.sampling import independent_ratio_sf, joint_ratio_sf


def _backbone() -> torch.nn.Module:
    return torch.nn.Sequential(
        torch.nn.Conv2d(3, 16, 3, stride=2, padding=1),
        torch.nn.ReLU(),
        torch.nn.AdaptiveAvgPool2d(1),
        torch.nn.Flatten(),
    )


def test_dino_trains_three_steps_with_lightly_modules():
    student = torch.nn.Sequential(_backbone(), DINOProjectionHead(16, 32, 8, 16))
    # lightly's DINO head uses weight norm, which deepcopy refuses: build the teacher and copy weights.
    teacher = torch.nn.Sequential(_backbone(), DINOProjectionHead(16, 32, 8, 16))
    teacher.load_state_dict(student.state_dict())
    deactivate_requires_grad(teacher)
    criterion = DINOLoss(output_dim=16, warmup_teacher_temp_epochs=1)
    optimizer = torch.optim.SGD(student.parameters(), lr=0.1)
    collate = JointDINOCollateFunction(global_crop_size=32, local_crop_size=16, n_local_views=2, joint="both", seed=0)
    before = [p.detach().clone() for p in student.parameters()]
    losses = []
    for step in range(3):
        views, _, _ = collate([(make_image(step * 4 + i, (64, 80)), 0, f"{i}.png") for i in range(4)])
        assert [tuple(v.shape) for v in views] == [(4, 3, 32, 32)] * 2 + [(4, 3, 16, 16)] * 2
        update_momentum(student, teacher, m=0.99)
        teacher_out = [teacher(v) for v in views[:2]]
        student_out = [student(v) for v in views]
        loss = criterion(teacher_out, student_out, epoch=0)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert np.all(np.isfinite(losses))
    assert any(not torch.equal(p, b) for p, b in zip(student.parameters(), before))


@pytest.mark.parametrize("mode", ["global", "local", "both"])
def test_dino_pairs_are_joint_only_in_the_chosen_group(mode):
    transform = JointDINOTransform(
        global_crop_size=16, local_crop_size=8, n_local_views=2, crop=0.0, joint=mode, seed=2
    )
    image = make_image(0, (48, 64))
    ratios = []
    for _ in range(2500):
        _, records = transform.joint_views.call_with_draw(image)
        areas = {r.view: r.params["area"] for r in records if r.kind == "crop"}
        ratios.append((areas[1] / areas[0], areas[3] / areas[2]))
    global_p, local_p = (np.asarray(ratios) > 2).mean(axis=0)
    joint_global = mode in ("global", "both")
    joint_local = mode in ("local", "both")
    expected_global = joint_ratio_sf(2, 0.4, 1.0, JointSpec(0.0)) if joint_global else independent_ratio_sf(2, 0.4, 1.0)
    expected_local = joint_ratio_sf(2, 0.05, 0.4, JointSpec(0.0)) if joint_local else independent_ratio_sf(2, 0.05, 0.4)
    assert abs(global_p - expected_global) < 0.03
    assert abs(local_p - expected_local) < 0.03
