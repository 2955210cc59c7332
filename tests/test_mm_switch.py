"""The mmselfsup / mmpretrain switch: the README's block pasted at the end of configs based on the
libraries' shipped files, built and trained by mmengine's own Runner; every silent path is loud."""

from __future__ import annotations

import importlib
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from images import make_image, write_image_folder
from readme_blocks import of_kind

pytest.importorskip("mmengine")

SHIPPED = {
    "mmselfsup": {
        "simclr": "selfsup/simclr/simclr_resnet50_8xb32-coslr-200e_in1k.py",
        "byol": "selfsup/byol/byol_resnet50_16xb256-coslr-200e_in1k.py",
        "simsiam": "selfsup/simsiam/simsiam_resnet50_8xb32-coslr-200e_in1k.py",
        "mocov2": "selfsup/mocov2/mocov2_resnet50_8xb32-coslr-200e_in1k.py",
        "mocov3": "selfsup/mocov3/mocov3_resnet50_8xb512-amp-coslr-100e_in1k.py",
    },
    "mmpretrain": {
        "simclr": "simclr/simclr_resnet50_8xb32-coslr-200e_in1k.py",
        "byol": "byol/byol_resnet50_16xb256-coslr-200e_in1k.py",
        "simsiam": "simsiam/simsiam_resnet50_8xb32-coslr-200e_in1k.py",
        "mocov2": "mocov2/mocov2_resnet50_8xb32-coslr-200e_in1k.py",
        "mocov3": "mocov3/mocov3_resnet50_8xb512-amp-coslr-100e_in1k.py",
    },
}
LIBRARIES = list(SHIPPED)


def switch_block(library: str) -> str:
    """The README's block for ``library``, verbatim."""
    found = of_kind("mm-config", library, exact=True)
    assert len(found) == 1, f"README must hold exactly one mm-config block for {library}"
    return found[0].text


def user_config(tmp_path: Path, library: str, method: str, body: str | None = None, name: str = "user") -> Path:
    """A user config inheriting the library's shipped config, with ``body`` (default: the README block) pasted."""
    text = f"_base_ = '{library}::{SHIPPED[library][method]}'\n\n" + (switch_block(library) if body is None else body)
    path = tmp_path / f"{name}_{library}_{method}.py"
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def data_root(tmp_path_factory):
    return write_image_folder(tmp_path_factory.mktemp("mm_switch_images"), 8, size=(48, 64))


def _runner(config: Path, tmp_path: Path, data_root: Path, iters: int = 2):
    from mm_runner import small_config
    from mmengine.runner import Runner

    return Runner.from_cfg(small_config(config, tmp_path / "work", data_root, iters=iters))


def _joint_multiview(runner):
    steps = runner.train_dataloader.dataset.pipeline.transforms
    found = [t for t in steps if type(t).__name__ == "JointMultiView"]
    assert len(found) == 1, [type(t).__name__ for t in steps]
    return found[0]


def _p_ratio_gt_2(transform, n: int = 900) -> float:
    image = np.asarray(make_image(0, (96, 128)))[..., ::-1].copy()
    results = {"img": image, "img_shape": image.shape[:2], "ori_shape": image.shape[:2]}
    ratios = []
    # A seeded generator: the figure must not depend on which tests ran before (and built transforms) in this process.
    views, generator = transform.joint_views, torch.Generator().manual_seed(0)
    for _ in range(n):
        _, records = views.apply_with_records(results, views.draw(generator))
        areas = {r.view: r.params["area"] for r in records if r.kind == "crop"}
        ratios.append(areas[1] / areas[0])
    return float(np.mean(np.asarray(ratios) > 2))


@pytest.mark.slow
@pytest.mark.parametrize("library", LIBRARIES)
@pytest.mark.parametrize("method", ["simclr", "simsiam"])
def test_readme_block_trains_joint_views_through_the_runner(library, method, tmp_path, data_root):
    pytest.importorskip(library)
    from mm_runner import LossRecorder
    from mmengine.hooks import Hook

    from jointaug_plugins import JointSpec
    from jointaug_plugins.sampling import joint_ratio_sf

    runner = _runner(user_config(tmp_path, library, method), tmp_path, data_root)
    recorder = type("Recorder", (LossRecorder, Hook), {})()
    runner.register_hook(recorder)
    runner.train()
    assert len(recorder.losses) == 2 and all(math.isfinite(x) for x in recorder.losses)
    if method == "simsiam":  # the base's custom_hooks = [SimSiamHook] survives the switch
        assert "SimSiamHook" in [type(h).__name__ for h in runner.hooks]
    transform = _joint_multiview(runner)
    # P(s2/s1 > 2) over 900 pairs drawn by the pipeline the dataloader holds, against JC(0) for the
    # config's own crop scale (0.08-1.0 for SimCLR; mmpretrain's SimSiam uses 0.2-1.0).
    lo, hi = transform.pipelines[0].transforms[0].joint_source.scale
    assert abs(_p_ratio_gt_2(transform) - joint_ratio_sf(2, lo, hi, JointSpec(0.0))) < 0.04
    assert "JointMultiView" in runner.cfg.pretty_text  # the dumped config says what trained


@pytest.mark.parametrize("library", LIBRARIES)
def test_the_block_reaches_pipelines_inside_dataset_wrappers(library, tmp_path, data_root):
    pytest.importorskip(library)
    from jointaug_plugins.adapters.mm.switch import apply_switch

    importlib.import_module(f"jointaug_plugins.adapters.{library}")
    wrapped = {"dataset": {"type": "RepeatDataset", "times": 2, "dataset": {"pipeline": [{"type": "MultiView"}]}}}
    new, nodes = apply_switch(wrapped, {"crop": 0.0})
    assert new["dataset"]["dataset"]["pipeline"][0] == {"type": "JointMultiView", "jointaug": {"crop": 0.0}}
    assert wrapped["dataset"]["dataset"]["pipeline"][0] == {"type": "MultiView"}  # the input is untouched
    concat = {
        "dataset": {
            "type": "ConcatDataset",
            "datasets": [{"pipeline": [{"type": f"{library}.MultiView"}]} for _ in "ab"],
        }
    }
    new, nodes = apply_switch(concat, {"crop": 0.0})
    assert len(nodes) == 2 and all(n["type"] == f"{library}.JointMultiView" for n in nodes)


# --- every silent path is loud ------------------------------------------------------------------------

IMPORT_ONLY = "custom_imports = dict(imports=['jointaug_plugins.adapters.{lib}'], allow_failed_imports=False)\n"


@pytest.mark.parametrize("library", LIBRARIES)
def test_adapter_imported_without_a_joint_pair_stops_the_runner(library, tmp_path, data_root):
    pytest.importorskip(library)
    config = user_config(tmp_path, library, "simclr", IMPORT_ONLY.format(lib=library))
    with pytest.raises(ValueError, match=r"no joint pair: its MultiView draws every view independently"):
        _runner(config, tmp_path, data_root)
    # Independent on purpose is said explicitly, and then trains as the library would.
    config = user_config(tmp_path, library, "simclr", IMPORT_ONLY.format(lib=library) + "jointaug = None\n", "off")
    runner = _runner(config, tmp_path, data_root)
    assert [t["type"] for t in runner._train_dataloader["dataset"]["pipeline"]][1] == "MultiView"


@pytest.mark.parametrize(
    ("switch", "error"),
    [
        ("dict(crop=0.0, blurr=0.0)", r"jointaug has unknown key\(s\) blurr; valid keys: crop, blur, color"),
        ("dict(crop=None)", r"switches nothing on"),
        ("0.0", r"jointaug must be a dict"),
        ("dict(crop=float('nan'))", r"beta must be finite"),
        ("dict(crop=0.0, multicrop='local')", r"multicrop'\] needs num_views=\[n_global, n_local\]"),
    ],
)
def test_bad_switch_values_stop_the_runner_with_the_key_named(switch, error, tmp_path, data_root):
    pytest.importorskip("mmselfsup")
    body = IMPORT_ONLY.format(lib="mmselfsup") + f"jointaug = {switch}\n"
    with pytest.raises((ValueError, TypeError), match=error):
        _runner(user_config(tmp_path, "mmselfsup", "simclr", body), tmp_path, data_root)


def test_a_kind_the_views_lack_is_refused_when_the_runner_is_built(tmp_path, data_root):
    pytest.importorskip("mmselfsup")
    no_blur = (
        "view = [dict(type='RandomResizedCrop', size=224, backend='pillow'), dict(type='RandomFlip', prob=0.5)]\n"
        "train_dataloader = dict(dataset=dict(pipeline=[dict(type='LoadImageFromFile'),\n"
        "    dict(type='MultiView', num_views=2, transforms=[view]), dict(type='PackSelfSupInputs')]))\n"
    )
    body = no_blur + IMPORT_ONLY.format(lib="mmselfsup") + "jointaug = dict(blur=0.0)\n"
    config = user_config(tmp_path, "mmselfsup", "simclr", body)
    with pytest.raises(ValueError, match="blur is switched on but no view holds a blur"):
        _runner(config, tmp_path, data_root)


def test_a_switch_without_multiview_and_a_double_switch_are_refused(tmp_path, data_root):
    pytest.importorskip("mmselfsup")
    from jointaug_plugins.adapters.mm.switch import apply_switch

    importlib.import_module("jointaug_plugins.adapters.mmselfsup")
    supervised = {"dataset": {"pipeline": [{"type": "LoadImageFromFile"}, {"type": "RandomResizedCrop"}]}}
    with pytest.raises(ValueError, match=r"no MultiView to make joint; .*'LoadImageFromFile', 'RandomResizedCrop'"):
        apply_switch(supervised, {"crop": 0.0})
    ready = {"dataset": {"pipeline": [{"type": "JointMultiView", "jointaug": {"blur": 0.0}}]}}
    with pytest.raises(ValueError, match="keep one"):
        apply_switch(ready, {"crop": 0.0})


def test_the_wrong_adapter_for_the_config_names_the_right_one(monkeypatch):
    pytest.importorskip("mmselfsup")
    from jointaug_plugins.adapters.mm import switch

    importlib.import_module("jointaug_plugins.adapters.mmselfsup")
    monkeypatch.setattr(switch, "REGISTERED", {"mmselfsup": switch.REGISTERED["mmselfsup"]})
    with pytest.raises(ValueError, match=r"put 'jointaug_plugins.adapters.mmpretrain' in custom_imports"):
        switch.check_build([{"type": "JointMultiView", "jointaug": {"crop": 0.0}}], "mmpretrain")


@pytest.mark.slow
def test_readme_schedule_block_trains_with_the_epoch_and_sample_idx(tmp_path, data_root):
    """The README's schedule block on mmselfsup's SimCLR: the Runner gets JointEpochHook (here an iteration-based
    loop, whose epochs are passes through the data: 8 images, batch 4), and the views draw from (seed, epoch,
    sample_idx)."""
    pytest.importorskip("mmselfsup")
    from jointaug_plugins.adapters.mm.epoch import JointEpochHook
    from jointaug_plugins.epoch import current_epoch, epoch_channel

    (block,) = of_kind("mm-config", "mmselfsup", "schedule", exact=True)
    epoch_channel().set(None)
    runner = _runner(user_config(tmp_path, "mmselfsup", "simclr", body=block.text), tmp_path, data_root, iters=6)
    assert any(isinstance(h, JointEpochHook) for h in runner.hooks)
    runner.train()
    assert current_epoch() == 2  # the 6th iteration's pass
    views = _joint_multiview(runner).joint_views
    assert views.reproducible and views.specs["crop"].scheduled
    assert views.draw(index=3).betas["crop"] == pytest.approx(views.specs["crop"].beta.at(2))
    assert views.draw(index=3) == views.draw(index=3)
    epoch_channel().set(None)
