"""solo-learn adapter: the ``jointaug`` block, the ready YAMLs of configs/solo composed by hydra (each
switched on by its one ``- jointaug: ...`` line), joint views in solo's layout.

Tests that need solo-learn itself skip when it is not installed (it is not on PyPI in a usable form).
The switch on solo-layout YAMLs written by the tests, and every silent path, are in test_solo_switch.py.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from images import make_image

pytest.importorskip("hydra")

from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from jointaug_plugins import JointOptions, JointSpec
from jointaug_plugins.adapters.solo import (
    JointAugCallback,
    build_pretrain_transform,
    parse_block,
    solo_available,
)
from jointaug_plugins.sampling import independent_ratio_sf, joint_ratio_sf

CONFIGS = Path(__file__).resolve().parents[1] / "configs" / "solo"
YAMLS = sorted(CONFIGS.glob("*/*_jointcrop.yaml"))


def _compose(path: Path, return_hydra_config: bool = False):
    with initialize_config_dir(config_dir=str(path.parent), version_base="1.2"):
        return compose(config_name=path.stem, return_hydra_config=return_hydra_config)


def _drawn_box_ratios(transform, pairs, n: int, size: tuple[int, int]) -> np.ndarray:
    """Box-area ratios per pair from the pipeline's batched draw (the numbers its views are cut with)."""
    import torch

    from jointaug_plugins.boxes import crop_boxes_batch

    draw = transform.draw_batch(n, torch.Generator().manual_seed(0))
    areas = []
    for slots, view in zip(transform.slots, draw.views):
        crop = next(t for t in slots if t.kind == "crop")
        part = next(p for t, p in zip(slots, view.slices) if t is crop)
        boxes, _ = crop_boxes_batch(part, size[0], size[1], crop.ratio)
        areas.append((boxes[:, 2] * boxes[:, 3]).double().numpy())
    return np.stack([areas[b] / areas[a] for a, b in pairs], 1)


def _crop_ratios(transform, pairs, n: int, size=(96, 128)) -> np.ndarray:
    image = make_image(0, size)
    ratios = []
    for _ in range(n):
        _, records = transform.apply(image, records=True)
        areas = {r.view: r.params["area"] for r in records if r.kind == "crop"}
        ratios.append([areas[b] / areas[a] for a, b in pairs])
    return np.asarray(ratios)


def test_shipped_yamls_cover_the_recipes():
    names = {p.stem for p in YAMLS}
    for method in ("simclr", "byol", "mocov2plus", "simsiam", "dino_multicrop"):
        assert f"{method}_jointcrop" in names
    assert {p.parent.name for p in YAMLS} == {"cifar", "imagenet-100"}


@pytest.mark.parametrize("path", YAMLS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_shipped_yaml_composes_and_builds_joint_views(path):
    raw = OmegaConf.load(path)
    option = "multicrop_global" if "multicrop" in path.stem else "crop"
    assert list(raw.defaults[:2]) == [{"jointaug": option}, "_self_"]  # the one line, above _self_
    assert "jointaug" not in raw and "callbacks" not in raw.hydra  # nothing else of ours in the file
    cfg = _compose(path, return_hydra_config=True)
    assert cfg.hydra.callbacks.jointaug._target_ == "jointaug_plugins.adapters.solo.JointAugCallback"
    assert cfg.hydra.output_subdir is None and cfg.hydra.run.dir == "."  # solo's own hydra block kept
    transform = build_pretrain_transform(cfg)
    counts = [a.num_crops for a in cfg.augmentations]
    sizes = [a.crop_size for a in cfg.augmentations for _ in range(a.num_crops)]
    views = transform(make_image(1, (64, 80)))
    assert len(views) == sum(counts)
    assert [tuple(v.shape) for v in views] == [(3, s, s) for s in sizes]
    assert transform.pairs == [(0, 1)]  # symmetric, asymmetric, and multi-crop with multicrop: global


@pytest.mark.parametrize("recipe, beta", [("simclr", 0.0), ("byol", 0.0), ("byol", -1.0)])
def test_joint_relation_holds_for_symmetric_and_asymmetric_recipes(recipe, beta):
    cfg = _compose(CONFIGS / "cifar" / f"{recipe}_jointcrop.yaml")
    cfg.jointaug.crop = {"beta": beta}
    cfg.jointaug.seed = 0
    transform = build_pretrain_transform(cfg)
    p = np.mean(_crop_ratios(transform, [(0, 1)], 1500) > 2)
    assert abs(p - joint_ratio_sf(2, 0.08, 1.0, JointSpec(beta))) < 0.03


@pytest.mark.parametrize("mode", ["global", "local", "both"])
def test_multicrop_yaml_selects_global_and_or_local_pairs(mode):
    cfg = _compose(CONFIGS / "cifar" / "dino_multicrop_jointcrop.yaml")
    cfg.jointaug.crop = {"beta": 0.0}
    cfg.jointaug.multicrop = mode
    cfg.jointaug.seed = 0
    transform = build_pretrain_transform(cfg)
    assert transform.pairs == JointOptions.parse(multicrop=mode).pairs_for([2, 6])
    ratios = _drawn_box_ratios(transform, [(0, 1), (2, 3)], 3000, size=(40, 48))
    glob = joint_ratio_sf(2, 0.4, 1.0, JointSpec(0.0)) if mode != "local" else independent_ratio_sf(2, 0.4, 1.0)
    loc = joint_ratio_sf(2, 0.05, 0.4, JointSpec(0.0)) if mode != "global" else independent_ratio_sf(2, 0.05, 0.4)
    assert abs(np.mean(ratios[:, 0] > 2) - glob) < 0.03
    assert abs(np.mean(ratios[:, 1] > 2) - loc) < 0.03


def test_each_view_keeps_its_own_entry():
    """BYOL: solarisation only in entry 2; the crops of the two entries are still one joint pair."""
    cfg = _compose(CONFIGS / "imagenet-100" / "byol_jointcrop.yaml")
    transform = build_pretrain_transform(cfg)
    text = [repr(v) for v in transform.view_transforms]
    assert "Solariz" not in text[0] and "Solariz" in text[1]  # torchvision RandomSolarize or solo Solarization
    assert "JointRandomResizedCrop" in text[0] and "JointRandomResizedCrop" in text[1]


def test_bad_input_jointaug_block():
    """The block is read by the one parser: the messages of every entry point."""
    valid = "valid options: crop, blur, color, pairs, multicrop, crop_or_blur, position, seed, reproducible"
    with pytest.raises(ValueError, match=rf"unknown joint option 'crp' \(did you mean 'crop'\?\); {valid}"):
        parse_block({"crp": 0.0})
    with pytest.raises(ValueError, match=r"crop has unknown option\(s\) bta"):
        parse_block({"crop": {"beta": 0.0, "bta": 1}})
    with pytest.raises(TypeError, match=r"crop must be None"):
        parse_block({"crop": "zero"})
    with pytest.raises(ValueError, match=r"multicrop must be one of 'global', 'local', 'both'; got 'all'"):
        parse_block({"crop": 0.0, "multicrop": "all"})
    # The mode is a top-level key, not a crop option.
    with pytest.raises(ValueError, match=r"crop has unknown option\(s\) joint; valid keys: beta, margin"):
        parse_block({"crop": {"beta": 0.0, "joint": "local"}})
    with pytest.raises(ValueError, match=r"solo-learn cannot honour reproducible=True: solo-learn's main_pretrain"):
        parse_block({"reproducible": True, "seed": 0})
    assert parse_block(None) is None and parse_block({"crop": None}).switched_on == ()
    assert parse_block({}).switched_on == ("crop",)  # an absent crop key: JointCrop(0), the one default policy
    assert parse_block({"crop": {"beta": 0.0}, "multicrop": None}).multicrop is None
    assert parse_block({"crop": 0.0, "multicrop": "local"}).multicrop == "local"
    # DALI has no equalization: under data.format: dali an entry that asks for it is refused, naming it.
    cfg = _compose(CONFIGS / "cifar" / "simclr_jointcrop.yaml")
    cfg.data.format = "dali"
    cfg.augmentations[0].equalization.prob = 0.2
    with pytest.raises(ValueError, match=r"equalization\.prob is 0\.2, but DALI has no equalization"):
        build_pretrain_transform(cfg)
    with pytest.raises(ValueError, match="DALI has no equalization"):
        JointAugCallback().on_job_start(config=cfg)


_SCRIPT = """
import hydra
from jointaug_plugins.adapters.solo import JointFullTransformPipeline, build_view_pipeline
class NCropAugmentation:
    def __init__(self, transform, num_crops):
        self.transform, self.num_crops = transform, num_crops
class FullTransformPipeline:
    def __init__(self, transforms):
        self.transforms = transforms
@hydra.main(version_base='1.2')
def main(cfg):
    entries = [NCropAugmentation(build_view_pipeline(cfg.data.dataset, a), a.num_crops) for a in cfg.augmentations]
    pipeline = FullTransformPipeline(entries)
    print('JOINT' if isinstance(pipeline, JointFullTransformPipeline) else 'PLAIN', pipeline.pairs)
main()
"""


def _run_script(tmp_path: Path, *overrides: str):
    """A script that imports FullTransformPipeline by name and builds it in its hydra task, as solo's
    main_pretrain.py does, run with a shipped YAML."""
    import subprocess
    import sys

    script = tmp_path / "script.py"
    script.write_text(_SCRIPT)
    command = [sys.executable, str(script), "--config-path", str(CONFIGS / "cifar"), "--config-name", "byol_jointcrop"]
    return subprocess.run([*command, *overrides], capture_output=True, text=True, timeout=120, cwd=tmp_path)


def test_callback_replaces_full_transform_pipeline_in_the_running_script(tmp_path):
    result = _run_script(tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "JOINT [(0, 1)]" in result.stdout


@pytest.mark.parametrize(
    "override, message",
    [
        (["+jointaug.crp=0.0"], "unknown joint option 'crp' (did you mean 'crop'?)"),
        (["data.format=dali", "augmentations.0.equalization.prob=0.2"], "DALI has no equalization"),
    ],
)
def test_bad_input_in_the_yaml_stops_the_run(tmp_path, override, message):
    """Hydra only warns when a callback raises; the run must still stop with the clear error."""
    result = _run_script(tmp_path, *override)
    assert result.returncode != 0
    assert message in result.stderr and "PLAIN" not in result.stdout and "JOINT" not in result.stdout


@pytest.mark.skipif(not solo_available(), reason="solo-learn is not installed (install it from its repository)")
def test_solo_own_pipeline_is_used_and_made_joint():
    from solo.data.pretrain_dataloader import build_transform_pipeline

    cfg = _compose(CONFIGS / "cifar" / "simclr_jointcrop.yaml")
    cfg.jointaug.seed = 0
    transform = build_pretrain_transform(cfg)
    solo_ops = [type(t).__name__ for t in build_transform_pipeline("cifar10", cfg.augmentations[0]).transforms]
    ours = [type(t).__name__ for t in transform.view_transforms[0].transforms]
    assert ours[0] == "JointRandomResizedCrop" and ours[1:] == solo_ops[1:]
    p = np.mean(_crop_ratios(transform, [(0, 1)], 1000) > 2)
    assert abs(p - joint_ratio_sf(2, 0.08, 1.0, JointSpec(0.0))) < 0.04


@pytest.mark.skipif(not solo_available(), reason="solo-learn is not installed (install it from its repository)")
def test_solo_method_trains_a_step_with_joint_views():
    import torch
    from solo.methods import METHODS

    cfg = _compose(CONFIGS / "cifar" / "byol_jointcrop.yaml")
    OmegaConf.set_struct(cfg, False)
    from solo.args.pretrain import parse_cfg

    cfg.data.train_path = str(Path(__file__).parent)
    cfg.optimizer.batch_size = 4
    cfg.devices = "1"
    cfg.accelerator = "cpu"
    cfg = parse_cfg(cfg)
    model = METHODS[cfg.method](cfg)
    transform = build_pretrain_transform(cfg)
    batch = [transform(make_image(i, (40, 40))) for i in range(4)]
    views = [torch.stack([b[k] for b in batch]) for k in range(2)]
    out = model.training_step((torch.arange(4), views, torch.zeros(4, dtype=torch.long)), 0)
    loss = out["loss"] if isinstance(out, dict) else out
    assert torch.isfinite(loss)


@pytest.mark.skipif(not solo_available(), reason="solo-learn is not installed (install it from its repository)")
@pytest.mark.parametrize("recipe, pairs", [("simclr_jointcrop", [(0, 1)]), ("dino_multicrop_jointcrop", [(0, 1)])])
def test_solo_dali_builder_makes_joint_views_in_a_cpu_pipeline(recipe, pairs, tmp_path, monkeypatch):
    """data.format: dali through solo's own functions as main_pretrain calls them, after the switch replaced
    them: solo's PretrainPipelineBuilder (the joint subclass) builds a CPU pipeline whose views are joint."""
    pytest.importorskip("nvidia.dali")
    import collections

    import solo.data.dali_dataloader as solo_dali
    import solo.data.pretrain_dataloader as solo_pil

    for module, name in ((solo_dali, "PretrainPipelineBuilder"), (solo_dali, "build_transform_pipeline_dali")):
        monkeypatch.setattr(module, name, getattr(module, name))  # restored after the test
    monkeypatch.setattr(solo_pil, "FullTransformPipeline", solo_pil.FullTransformPipeline)
    cfg = _compose(CONFIGS / "cifar" / f"{recipe}.yaml")
    cfg.data.format = "dali"
    OmegaConf.set_struct(cfg, False)
    cfg.dali = {"device": "cpu"}
    JointAugCallback().on_job_start(config=cfg)
    entries = [solo_dali.build_transform_pipeline_dali("cifar10", aug, dali_device="cpu") for aug in cfg.augmentations]
    crops = [aug.num_crops for aug in cfg.augmentations]
    transform = solo_pil.FullTransformPipeline([solo_pil.NCropAugmentation(e, n) for e, n in zip(entries, crops)])
    transform.views.records = collections.deque(maxlen=64)
    folder = tmp_path / "data" / "class_0"
    folder.mkdir(parents=True)
    for i in range(8):
        make_image(i, (40, 48)).save(folder / f"{i}.png")
    builder = solo_dali.PretrainPipelineBuilder(
        tmp_path / "data", batch_size=32, device="cpu", transforms=transform, device_id=0, num_threads=2
    )
    pipeline = builder.pipeline(batch_size=32, num_threads=2, device_id=0, seed=1)
    pipeline.build()
    outputs = pipeline.run()
    n_views = sum(int(aug.num_crops) for aug in cfg.augmentations)
    assert len(outputs) == n_views + 1 and transform.views.pairs == pairs
    sizes = [int(aug.crop_size) for aug in cfg.augmentations for _ in range(int(aug.num_crops))]
    for out, size in zip(outputs, sizes):
        assert out.as_array().shape == (32, 3, size, size)
    for _ in range(40):
        pipeline.run()
    boxes = np.concatenate([np.stack([v.boxes for v in r.views], 1) for r in transform.views.records])
    areas = boxes[..., 2] * boxes[..., 3]
    p = np.mean(areas[:, 1] / areas[:, 0] > 2)
    scale = (cfg.augmentations[0].rrc.crop_min_scale, cfg.augmentations[0].rrc.crop_max_scale)
    assert abs(p - joint_ratio_sf(2, *scale, JointSpec(0.0))) < 0.05, p
