"""mmselfsup / mmpretrain adapter: the libraries' own Runner trains every shipped config."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from images import make_image, write_image_folder

pytest.importorskip("mmengine")

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
MMSELFSUP_CONFIGS = sorted((CONFIGS / "mmselfsup").glob("*.py"))
MMPRETRAIN_CONFIGS = sorted((CONFIGS / "mmpretrain").glob("*.py"))


@pytest.fixture(scope="module")
def data_root(tmp_path_factory):
    return write_image_folder(tmp_path_factory.mktemp("mm_images"), 8, size=(48, 64))


def _train(config: Path, tmp_path: Path, data_root: Path) -> list[float]:
    from mm_runner import LossRecorder, small_config
    from mmengine.hooks import Hook
    from mmengine.runner import Runner

    cfg = small_config(config, tmp_path / "work", data_root, iters=3)
    runner = Runner.from_cfg(cfg)
    recorder = type("Recorder", (LossRecorder, Hook), {})()
    runner.register_hook(recorder)
    runner.train()
    pipeline = runner.train_dataloader.dataset.pipeline.transforms
    assert any(type(t).__name__ == "JointMultiView" for t in pipeline)
    return recorder.losses


@pytest.mark.slow
@pytest.mark.parametrize("config", MMSELFSUP_CONFIGS, ids=lambda p: p.stem)
def test_mmselfsup_config_trains(config, tmp_path, data_root):
    pytest.importorskip("mmselfsup")
    losses = _train(config, tmp_path, data_root)
    assert len(losses) == 3 and all(math.isfinite(x) for x in losses)


@pytest.mark.slow
@pytest.mark.parametrize("config", MMPRETRAIN_CONFIGS, ids=lambda p: p.stem)
def test_mmpretrain_config_trains(config, tmp_path, data_root):
    pytest.importorskip("mmpretrain")
    losses = _train(config, tmp_path, data_root)
    assert len(losses) == 3 and all(math.isfinite(x) for x in losses)


def test_shipped_configs_exist():
    assert len(MMSELFSUP_CONFIGS) >= 7 and len(MMPRETRAIN_CONFIGS) >= 5


@pytest.mark.parametrize("config", MMSELFSUP_CONFIGS + MMPRETRAIN_CONFIGS, ids=lambda p: p.stem)
def test_ready_configs_are_the_library_file_plus_the_readme_line(config):
    """Each ready config is a library config (SimCLR, BYOL, SimSiam, MoCo v2, MoCo v3) plus the README's one
    line, and an options line only where the options differ from the default: training them (above) trains the
    README's switch."""
    from readme_blocks import of_kind

    library = config.parent.name
    (block,) = of_kind("mm-config", library, exact=True)
    lines = [line for line in config.read_text().splitlines() if line and not line.startswith("#")]
    assert lines[0].startswith(f"_base_ = '{library}::") and lines[1] == block.text.strip()
    if config.stem.endswith("_jointcrop"):
        assert lines[2:] == []
    elif "ccrop" in config.stem:  # the MoCo v1 row of Table 11, checked in full by test_position_configs.py
        assert len(lines) == 3 and lines[2].startswith("jointaug = dict(") and "position=dict(alpha=0.6" in lines[2]
    else:  # JointBlur alone says crop=None: an absent crop means JointCrop(0) on
        assert lines[2:] == ["jointaug = dict(crop=None, blur=0.0)"]


VIEW = [
    dict(type="RandomResizedCrop", size=16, backend="pillow"),
    dict(type="RandomFlip", prob=0.5),
    dict(
        type="RandomApply",
        transforms=[dict(type="ColorJitter", brightness=0.8, contrast=0.8, saturation=0.8, hue=0.2)],
        prob=0.8,
    ),
    dict(type="RandomGaussianBlur", sigma_min=0.1, sigma_max=2.0, prob=0.5),
]


def _build(library: str, cfg: dict):
    pytest.importorskip(library)
    import importlib

    from mmengine.registry import DefaultScope

    importlib.import_module(f"jointaug_plugins.adapters.{library}")  # registers JointMultiView there
    registry = importlib.import_module(f"{library}.registry").TRANSFORMS
    with DefaultScope.overwrite_default_scope(library):
        return registry.build(cfg)


def _results(seed: int = 0) -> dict:
    image = np.asarray(make_image(seed, (96, 128)))[..., ::-1].copy()  # BGR, as mmcv loads it
    return {"img": image, "img_shape": image.shape[:2], "ori_shape": image.shape[:2]}


def _crop_ratios(transform, pairs, n: int) -> np.ndarray:
    ratios = []
    results = _results()
    for _ in range(n):
        _, records = transform.joint_views.apply(results, records=True)
        areas = {r.view: r.params["area"] for r in records if r.kind == "crop"}
        ratios.append([areas[b] / areas[a] for a, b in pairs])
    return np.asarray(ratios)


@pytest.mark.parametrize("library", ["mmselfsup", "mmpretrain"])
@pytest.mark.parametrize("beta", [0.0, 1.0])
def test_registry_built_pipeline_produces_joint_crops(library, beta):
    from jointaug_plugins import JointSpec
    from jointaug_plugins.sampling import joint_ratio_sf

    view = [dict(VIEW[0], **({"scale": 16} if library == "mmpretrain" else {})), *VIEW[1:2]]
    if library == "mmpretrain":
        view[0].pop("size")
    transform = _build(
        library, dict(type="JointMultiView", num_views=2, transforms=[view], jointaug=dict(crop=beta, seed=0))
    )
    out = transform.transform(_results())
    assert len(out["img"]) == 2 and out["img"][0].shape == (16, 16, 3)
    p = np.mean(_crop_ratios(transform, [(0, 1)], 1500) > 2)
    assert abs(p - joint_ratio_sf(2, 0.08, 1.0, JointSpec(beta))) < 0.03


def test_library_transforms_are_swapped_and_keep_their_settings():
    transform = _build(
        "mmselfsup",
        dict(type="JointMultiView", num_views=2, transforms=[VIEW], jointaug=dict(crop=0.0, blur=0.0, color=0.0)),
    )
    steps = transform.pipelines[0].transforms
    assert type(steps[0]).__name__ == "JointRandomResizedCrop" and steps[0].size == (16, 16)
    assert type(steps[2].transforms.transforms[0]).__name__ == "JointColorJitter"
    assert type(steps[3]).__name__ == "JointRandomGaussianBlur" and steps[3].prob == 0.5
    _, records = transform.joint_views.apply(_results(), records=True)
    assert {r.kind for r in records if r.joint} >= {"crop"}
    assert all(r.joint for r in records)


def test_multicrop_two_pipelines_pairs_globals_and_locals():
    from jointaug_plugins import JointSpec
    from jointaug_plugins.sampling import independent_ratio_sf, joint_ratio_sf

    global_view = [dict(type="RandomResizedCrop", size=16, scale=(0.4, 1.0), backend="pillow")]
    local_view = [dict(type="RandomResizedCrop", size=8, scale=(0.05, 0.4), backend="pillow")]
    transform = _build(
        "mmselfsup",
        dict(
            type="JointMultiView",
            num_views=[2, 6],
            transforms=[global_view, local_view],
            jointaug=dict(crop=0.0, multicrop="local", seed=0),  # seeded: the same 1500 draws every run,
        ),
    )
    out = transform.transform(_results())
    assert [im.shape[0] for im in out["img"]] == [16, 16, 8, 8, 8, 8, 8, 8]
    assert transform.joint_views.pairs == [(2, 3), (4, 5), (6, 7)]
    ratios = _crop_ratios(transform, [(0, 1), (2, 3)], 1500)
    assert abs(np.mean(ratios[:, 0] > 2) - independent_ratio_sf(2, 0.4, 1.0)) < 0.03
    assert abs(np.mean(ratios[:, 1] > 2) - joint_ratio_sf(2, 0.05, 0.4, JointSpec(0.0))) < 0.03


def test_multicrop_layout_defaults_to_the_global_pair():
    """SwAV's [2, 6] with the default options: the one default policy, the global pair joint."""
    global_view = [dict(type="RandomResizedCrop", size=16, scale=(0.4, 1.0), backend="pillow")]
    local_view = [dict(type="RandomResizedCrop", size=8, scale=(0.05, 0.4), backend="pillow")]
    transform = _build("mmselfsup", dict(type="JointMultiView", num_views=[2, 6], transforms=[global_view, local_view]))
    assert transform.joint_views.pairs == [(0, 1)] and transform.joint_views.layout == [2, 6]


def test_bad_input_jointaug_dict_and_layouts():
    from jointaug_plugins import UnknownOptionError

    with pytest.raises(UnknownOptionError, match=r"unknown joint option 'crp' \(did you mean 'crop'\?\)"):
        _build("mmselfsup", dict(type="JointMultiView", num_views=2, transforms=[VIEW], jointaug=dict(crp=0.0)))
    with pytest.raises(ValueError, match="multicrop='local' needs a multi-crop layout"):
        _build(
            "mmselfsup",
            dict(type="JointMultiView", num_views=2, transforms=[VIEW], jointaug=dict(crop=0.0, multicrop="local")),
        )
    with pytest.raises(ValueError, match=r"multicrop must be one of"):
        _build(
            "mmselfsup",
            dict(
                type="JointMultiView",
                num_views=[2, 2],
                transforms=[VIEW, VIEW],
                jointaug=dict(crop=0.0, multicrop="all"),
            ),
        )
    with pytest.raises(ValueError, match="finite"):
        _build(
            "mmselfsup", dict(type="JointMultiView", num_views=2, transforms=[VIEW], jointaug=dict(crop=float("nan")))
        )
    # Two pipelines whose crops differ, paired across pipelines: refused when built.
    wide = [dict(type="RandomResizedCrop", size=16, scale=(0.5, 1.0), backend="pillow")]
    with pytest.raises(ValueError, match="views 0 and 1 are paired but their JointRandomResizedCrop settings differ"):
        _build(
            "mmselfsup", dict(type="JointMultiView", num_views=[1, 1], transforms=[VIEW, wide], jointaug=dict(crop=0.0))
        )
    # A kind switched on that the views do not have would do nothing: refused when built.
    with pytest.raises(ValueError, match="blur is switched on but no view holds a blur"):
        _build(
            "mmselfsup",
            dict(type="JointMultiView", num_views=2, transforms=[wide], jointaug=dict(crop=None, blur=0.0)),
        )
    with pytest.raises(ValueError, match="switch nothing on"):
        _build("mmselfsup", dict(type="JointMultiView", num_views=2, transforms=[VIEW], jointaug=dict(crop=None)))
    # No options: the one default policy, JointCrop(0).
    built = _build("mmselfsup", dict(type="JointMultiView", num_views=2, transforms=[VIEW]))
    assert built.options.switched_on == ("crop",)
    # A view count that leaves a view out of every pair: said when built.
    with pytest.warns(UserWarning, match=r"view\(s\) \[2\] of 3 are in no pair"):
        _build("mmselfsup", dict(type="JointMultiView", num_views=3, transforms=[VIEW], jointaug=dict(crop=0.0)))
