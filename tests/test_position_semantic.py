"""The semantic-box MoCo v1 config (JointCrop(0) + ContrastiveCrop with semantic-aware localization) trained two
epochs by mmengine's Runner, with a box update in between (issue 23, item 4).

The config as it ships, with sizes shrunk as every mm test does (ResNet-18, batch 4) and three cfg options:
``warmup=1, interval=1`` (so ContrastiveCrop's rule updates after the first of two epochs, not after the last) and
``threshold=0.5`` (an untrained encoder's feature map is diffuse: at 0.1 every box is nearly the whole image, which
could not tell a per-image box from no box at all). The images are bright discs at different places on black, 96 x
128, cropped at 96 px, so the backbone's last feature map is 3 x 3 rather than 1 x 1.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from position_checks import check_trained_draws, record_draws

pytest.importorskip("mmengine")

CONFIG = (
    Path(__file__).resolve().parents[1]
    / "configs"
    / "mmselfsup"
    / "mocov1_resnet50_8xb32-steplr-200e_in1k_jointcrop_ccrop_semantic.py"
)
IMAGE = (96, 128)  # (height, width)
N_IMAGES = 8


def disc_images(root: Path) -> Path:
    """``N_IMAGES`` bright discs (radius 0.15 of the short side) centred at different places on black, in an
    ImageFolder layout; returns ``root``."""
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0 : IMAGE[0], 0 : IMAGE[1]]
    radius = 0.15 * min(IMAGE)
    for i in range(N_IMAGES):
        folder = root / f"class_{i % 2}"
        folder.mkdir(parents=True, exist_ok=True)
        cy, cx = rng.uniform(0.25, 0.75) * IMAGE[0], rng.uniform(0.25, 0.75) * IMAGE[1]
        pixels = np.zeros((*IMAGE, 3), np.uint8)
        pixels[(y - cy) ** 2 + (x - cx) ** 2 < radius**2] = (255, 230, 200)
        Image.fromarray(pixels).save(folder / f"img_{i}.png")
    return root


def _config(work_dir: Path, data_root: Path, monkeypatch, **more):
    import mm_runner

    monkeypatch.setattr(mm_runner, "CROP", IMAGE[0])
    cfg = mm_runner.small_config(CONFIG, work_dir, data_root)
    cfg.train_cfg = dict(type="EpochBasedTrainLoop", max_epochs=2)
    cfg.jointaug.position.update(warmup=1, interval=1, threshold=0.5)
    cfg.default_hooks.checkpoint = dict(type="CheckpointHook", interval=1)
    cfg.update(more)
    return cfg


@pytest.fixture
def table():
    from jointaug_plugins.boxtable import box_table

    table = box_table()  # this process's table: start and end without boxes, whatever ran before
    table.clear()
    yield table
    table.clear()


@pytest.mark.slow
def test_semantic_config_trains_two_epochs_with_a_box_update_in_between(tmp_path, monkeypatch, table):
    pytest.importorskip("mmselfsup")
    from mm_runner import LossRecorder
    from mmengine.hooks import Hook
    from mmengine.runner import Runner

    from jointaug_plugins.adapters.mm.semantic_hook import CHECKPOINT_KEY
    from jointaug_plugins.boxtable import check_boxes

    data_root = disc_images(tmp_path / "images")
    runner = Runner.from_cfg(_config(tmp_path / "work", data_root, monkeypatch))
    assert [type(h).__name__ for h in runner.hooks].count("JointSemanticBoxHook") == 1  # the switch registered it
    assert "JointSemanticBoxHook" not in runner.cfg.pretty_text  # the config's own hook list is not rewritten
    (multiview,) = [t for t in runner.train_dataloader.dataset.pipeline.transforms if hasattr(t, "joint_views")]
    views = multiview.joint_views
    position = views.options.position
    assert (position.alpha, position.semantic, position.warmup, position.interval) == (0.6, True, 1, 1)
    assert views.options.switched_on == ("crop",) and views.pairs == [(0, 1)]
    draws, records = record_draws(views)
    recorder = type("Recorder", (LossRecorder, Hook), {})()
    runner.register_hook(recorder)
    assert table.get() is None
    runner.train()
    assert len(recorder.losses) == 4 and all(math.isfinite(x) for x in recorder.losses)

    # One update, after epoch 0 (ContrastiveCrop: none after the last epoch): a box per image, set from the model.
    log = "".join(p.read_text() for p in sorted(Path(runner.log_dir).glob("*.log")))
    assert log.count("[jointaug] semantic boxes updated") == 1
    assert f"[jointaug] semantic boxes updated (epoch 0, {N_IMAGES} boxes" in log
    boxes = table.get()
    assert boxes is not None and boxes.shape == (N_IMAGES, 4)
    check_boxes(boxes)
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    assert bool((areas < 0.95).all()), boxes  # no longer the whole image
    assert len({tuple(row) for row in boxes.tolist()}) > 1, boxes  # per image, not one box for all

    # The views used them: epoch 0 placed crops as torchvision does (warm-up, no box); epoch 1 by each image's box,
    # looked up by mmengine's sample_idx; every view was cut where its draw says.
    assert len(draws) == 2 * N_IMAGES
    first, second = draws[:N_IMAGES], draws[N_IMAGES:]
    assert sorted(d.index for d in first) == sorted(d.index for d in second) == list(range(N_IMAGES))
    check_trained_draws(views, first, records[:N_IMAGES], True, IMAGE, box=lambda draw: None)
    check_trained_draws(
        views, second, records[N_IMAGES:], True, IMAGE, box=lambda draw: tuple(boxes[draw.index].tolist())
    )

    # Saved in both epochs' checkpoints (the update runs before the checkpoint of epoch 1), and restored on resume.
    for epoch in (1, 2):
        checkpoint = torch.load(tmp_path / "work" / f"epoch_{epoch}.pth", map_location="cpu", weights_only=False)
        assert torch.equal(checkpoint[CHECKPOINT_KEY]["boxes"], boxes)
    table.clear()
    # Resuming works: the mm adapter loads mmengine's own checkpoints as mmengine did (upstream_fixes).
    last = str(tmp_path / "work" / "epoch_2.pth")
    resumed = Runner.from_cfg(_config(tmp_path / "resumed", data_root, monkeypatch, resume=True, load_from=last))
    resumed.train()  # loads the checkpoint, then has no epoch left to train
    assert torch.equal(table.get(), boxes)
