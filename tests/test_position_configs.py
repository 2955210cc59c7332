"""The configs of the paper's best MoCo v1 row (JointCrop(0) + ContrastiveCrop's placement; issue 23, item 4), each
trained a few steps by its library's own trainer: mmengine's Runner (mmselfsup's MoCo v1), Lightning (the lightly
examples) and solo-learn's unchanged ``main_pretrain.py`` (skipped where solo-learn is not installed).

For every run the views the trainer built are checked (:mod:`position_checks`): their options hold the placement,
every draw made in training places its crops by the box ``(0, 0, 1, 1)``, each view was cut where its draw says,
and fresh draws of the same object follow ``Beta(alpha, alpha)`` with crop areas JC(0) (or independent with
``crop=None``). The semantic-box config (2 epochs, a box update in between) is in ``test_position_semantic.py``.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
from images import make_image, write_image_folder
from position_checks import check_fresh_draws, check_position_option, check_trained_draws, record_draws

ROOT = Path(__file__).resolve().parents[1]
MM = ROOT / "configs" / "mmselfsup"
LIGHTLY = ROOT / "configs" / "lightly"
SOLO = ROOT / "configs" / "solo"
IMAGE = (48, 64)  # generated training images (height, width)
MOCOV1 = "mmselfsup::selfsup/mocov1/mocov1_resnet50_8xb32-steplr-200e_in1k.py"
PREFIX = "mocov1_resnet50_8xb32-steplr-200e_in1k"
#: config stem -> its options line (what it adds to mmselfsup's MoCo v1 besides the README's line).
MM_OPTIONS = {
    f"{PREFIX}_jointcrop_ccrop": "jointaug = dict(crop=0.0, position=dict(alpha=0.6))",
    f"{PREFIX}_ccrop": "jointaug = dict(crop=None, position=dict(alpha=0.6))",
    f"{PREFIX}_jointcrop_ccrop_semantic": (
        "jointaug = dict(crop=0.0, position=dict(alpha=0.6, boxes='semantic', warmup=20, interval=20, threshold=0.1))"
    ),
}
#: solo YAML (folder/stem) -> alpha (ContrastiveCrop's ImageNet value, and its CIFAR one).
SOLO_YAMLS = {
    f"{folder}/{method}_jointcrop_ccrop": alpha
    for folder, alpha in (("imagenet-100", 0.6), ("cifar", 0.1))
    for method in ("simclr", "byol")
}


@pytest.fixture(scope="module")
def data_root(tmp_path_factory):
    return write_image_folder(tmp_path_factory.mktemp("position_images"), 8, size=IMAGE)


# --- mmselfsup: MoCo v1 --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stem", list(MM_OPTIONS))
def test_mm_configs_are_mocov1_plus_the_readme_line_and_the_options(stem):
    """mmselfsup's own MoCo v1 file (which the installed mmselfsup ships), the README's line, one options line."""
    from readme_blocks import of_kind

    text = (MM / f"{stem}.py").read_text()
    (block,) = of_kind("mm-config", "mmselfsup", exact=True)
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert lines == [f"_base_ = '{MOCOV1}'", block.text.strip(), MM_OPTIONS[stem]]
    assert all(figure in text for figure in ("Table 11", "57.25", "58.34", "60.87", "61.33"))
    pytest.importorskip("mmselfsup")
    from mmengine.config import Config

    assert Config.fromfile(str(MM / f"{stem}.py")).model.type == "MoCo"


def test_mmpretrain_ships_no_mocov1_config():
    """Why configs/mmpretrain has no MoCo v1 row: mmpretrain 1.2 ships MoCo v2 and v3 configs only."""
    pytest.importorskip("mmpretrain")
    import mmpretrain

    configs = Path(mmpretrain.__file__).parent / ".mim" / "configs"
    assert (configs / "mocov2").is_dir() and not list(configs.glob("mocov1*"))


def _joint_multiview(runner):
    (found,) = [t for t in runner.train_dataloader.dataset.pipeline.transforms if type(t).__name__ == "JointMultiView"]
    return found


@pytest.mark.slow
@pytest.mark.parametrize("stem, joint", [(f"{PREFIX}_jointcrop_ccrop", True), (f"{PREFIX}_ccrop", False)])
def test_mm_moco_v1_config_trains_two_steps_with_the_placement(stem, joint, tmp_path, data_root):
    pytest.importorskip("mmselfsup")
    from mm_runner import LossRecorder, small_config
    from mmengine.hooks import Hook
    from mmengine.runner import Runner

    from jointaug_plugins.adapters.mm.epoch import JointEpochHook

    runner = Runner.from_cfg(small_config(MM / f"{stem}.py", tmp_path / "work", data_root, iters=2))
    views = _joint_multiview(runner).joint_views
    draws, records = record_draws(views)
    recorder = type("Recorder", (LossRecorder, Hook), {})()
    runner.register_hook(recorder)
    runner.train()
    assert len(recorder.losses) == 2 and all(math.isfinite(x) for x in recorder.losses)
    check_position_option(views, 0.6)
    assert views.options.switched_on == (("crop",) if joint else ()) and views.pairs == [(0, 1)]
    (hook,) = [h for h in runner.hooks if isinstance(h, JointEpochHook)]
    assert "position=(alpha=0.6)" in hook.announce
    assert len(draws) == 8  # 2 iterations of 4 images
    check_trained_draws(views, draws, records, joint, IMAGE)
    check_fresh_draws(views, 0.6, joint)


# --- lightly: the Lightning examples ------------------------------------------------------------------------------


def _example(name: str):
    spec = importlib.util.spec_from_file_location(f"jointaug_example_{name}", LIGHTLY / f"{name}_jointcrop_ccrop.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
@pytest.mark.parametrize("method, crop", [("simclr", "0.0"), ("byol", "0.0"), ("simclr", "none")])
def test_lightly_example_trains_two_steps_with_the_placement(method, crop, data_root):
    pytest.importorskip("lightly")
    example = _example(method)
    argv = ["--data", str(data_root), "--max-steps", "2", "--batch-size", "4", "--input-size", "32", "--crop", crop]
    args = example.parse_args([*argv, "--accelerator", "cpu", "--num-workers", "0"])
    model, loader = example.build(args)
    views = loader.dataset.transform.joint_views
    draws, records = record_draws(views)
    trainer = example.fit(args, model, loader)
    joint = crop != "none"
    assert trainer.global_step == 2 and math.isfinite(float(trainer.callback_metrics["train_loss"]))
    check_position_option(views, 0.6)
    assert views.options.switched_on == (("crop",) if joint else ()) and views.pairs == [(0, 1)]
    assert len(draws) == 8  # 2 steps of 4 images
    check_trained_draws(views, draws, records, joint, IMAGE)
    check_fresh_draws(views, 0.6, joint)


def test_lightly_example_refuses_a_batch_larger_than_the_data(data_root):
    pytest.importorskip("lightly")
    example = _example("simclr")
    args = example.parse_args(["--data", str(data_root), "--batch-size", "9"])
    with pytest.raises(ValueError, match=r"--batch-size must be in \[2, 8\] \(the images found\), got 9"):
        example.build(args)


@pytest.mark.slow
def test_lightly_example_runs_as_a_script_on_the_shipped_photographs(tmp_path):
    """``python configs/lightly/simclr_jointcrop_ccrop.py`` without ``--data``: scikit-image's and scikit-learn's
    photographs, Lightning's own loop, the views announced with their placement."""
    pytest.importorskip("lightly")
    pytest.importorskip("skimage")
    command = [sys.executable, str(LIGHTLY / "simclr_jointcrop_ccrop.py"), "--max-steps", "1", "--batch-size", "4"]
    command += ["--accelerator", "cpu", "--num-workers", "0"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=tmp_path)
    log = done.stdout + done.stderr
    assert done.returncode == 0, log[-3000:]
    assert "[jointaug] views: crop β=0, position=(alpha=0.6), pairs [(0, 1)]" in done.stdout
    assert "`max_steps=1` reached" in log


# --- solo-learn -----------------------------------------------------------------------------------------------------


def _compose(path: Path, *overrides: str):
    from hydra import compose, initialize_config_dir

    with initialize_config_dir(config_dir=str(path.parent), version_base="1.2"):
        return compose(config_name=path.stem, overrides=list(overrides))


@pytest.mark.parametrize("name, alpha", list(SOLO_YAMLS.items()))
def test_solo_yaml_is_the_shipped_recipe_plus_the_block(name, alpha):
    """The shipped ``*_jointcrop.yaml`` (same ``defaults:`` with the group line, same body) plus the block
    ``jointaug: {crop: 0.0, position: {alpha: ...}}``; composed, its views carry the placement and JointCrop(0)."""
    pytest.importorskip("hydra")
    from omegaconf import OmegaConf

    from jointaug_plugins.adapters.solo import build_pretrain_transform

    path = SOLO / f"{name}.yaml"
    ours, shipped = OmegaConf.load(path), OmegaConf.load(path.with_name(path.name.replace("_ccrop", "")))
    assert list(ours.defaults) == list(shipped.defaults) and ours.defaults[0] == {"jointaug": "crop"}
    body, base = OmegaConf.to_container(ours), OmegaConf.to_container(shipped)
    assert body.pop("jointaug") == {"crop": 0.0, "position": {"alpha": alpha}}
    assert body.pop("name") == base.pop("name").replace("-jointcrop-", "-jointcrop-ccrop-") and body == base
    views = build_pretrain_transform(_compose(path))
    check_position_option(views, alpha)
    assert views.options.switched_on == ("crop",) and views.pairs == [(0, 1)]
    check_fresh_draws(views, alpha, joint=True)
    alone = build_pretrain_transform(_compose(path, "jointaug.crop=null"))  # Table 11's ContrastiveCrop row
    check_position_option(alone, alpha)
    assert alone.options.switched_on == ()
    check_fresh_draws(alone, alpha, joint=False)


_SPY_MAIN = """
import json, os, runpy, sys
from jointaug_plugins.draw import CropDraw
from jointaug_plugins.transforms.views import JointViews

real, out = JointViews.draw, open(os.environ["JOINTAUG_TEST_DRAWS"], "a")


def draw(self, *args, **kwargs):  # the real draw, kept: what the running script's views drew
    made = real(self, *args, **kwargs)
    crops = [[list(s.box), bool(s.joint), s.pair] for v in made.views for s in v.slices if isinstance(s, CropDraw)]
    out.write(json.dumps({"alpha": self.options.position.alpha, "crops": crops}) + "\\n")
    out.flush()
    return made


JointViews.draw = draw
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def _solo_checkout() -> Path | None:
    spec = importlib.util.find_spec("solo")
    if spec is None or spec.origin is None:
        return None
    root = Path(spec.origin).resolve().parents[1]
    return root if (root / "main_pretrain.py").is_file() else None


@pytest.mark.slow
@pytest.mark.skipif(_solo_checkout() is None, reason="solo-learn is not installed from a source checkout")
@pytest.mark.parametrize("name, alpha", list(SOLO_YAMLS.items()))
def test_solo_main_pretrain_trains_the_yaml_two_steps_with_the_placement(name, alpha, tmp_path):
    """solo-learn's unchanged ``main_pretrain.py`` with the YAML as it ships (sizes and devices overridden on the
    command line), run under a wrapper that keeps the draws its views make."""
    images = tmp_path / "images"  # solo's unlabelled custom dataset reads the files of one folder
    images.mkdir()
    for i in range(8):
        make_image(i, IMAGE).save(images / f"{i}.png")
    draws_file = tmp_path / "draws.jsonl"
    (wrapper := tmp_path / "spy_main.py").write_text(_SPY_MAIN)
    path = SOLO / f"{name}.yaml"
    entries = len(_compose(path).augmentations)
    overrides = [
        "data.dataset=custom", f"data.train_path={images}", "data.val_path=null", "++data.no_labels=True",
        "data.num_workers=0", "optimizer.batch_size=4", "accelerator=cpu", 'devices="1"', "strategy=auto",
        "precision=32", "sync_batchnorm=False", "max_epochs=1", "++limit_train_batches=2", "wandb.enabled=False",
        "checkpoint.enabled=False", "auto_resume.enabled=False",
        *(f"augmentations.{i}.crop_size=32" for i in range(entries)),
    ]  # fmt: skip
    command = [sys.executable, str(wrapper), str(_solo_checkout() / "main_pretrain.py")]
    command += ["--config-path", str(path.parent), "--config-name", path.stem, *overrides]
    env = {**os.environ, "JOINTAUG_TEST_DRAWS": str(draws_file)}
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=tmp_path, env=env)
    log = done.stdout + done.stderr
    assert done.returncode == 0, log[-3000:]
    assert f"[jointaug] joint views on (crop β=0, position=(alpha={alpha:g})), pairs [(0, 1)]" in log
    assert f"[jointaug] guard: train views are joint (crop β=0, position=(alpha={alpha:g})), pairs [(0, 1)]" in log
    assert "2/2 [" in log  # Lightning's progress bar: both training batches done
    drawn = [json.loads(line) for line in draws_file.read_text().splitlines()]
    assert len(drawn) >= 8  # 2 batches of 4 images
    for item in drawn:
        assert item["alpha"] == alpha and item["crops"] == [[[0.0, 0.0, 1.0, 1.0], True, 0]] * 2
