"""The mmselfsup / mmpretrain switch: the docs' one line at the end of configs based on the libraries'
shipped files, built by mmengine's own Runner (the training itself: ``test_readme.py``); every mistake of the
README's mm table stops ``jointaug verify`` and the Runner with the same error."""

from __future__ import annotations

import importlib
import json
import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from images import make_image, write_image_folder
from readme_blocks import of_kind, page

pytest.importorskip("mmengine")

from mm_runner import SHIPPED, runner_error, small_config, user_config

LIBRARIES = list(SHIPPED)
LINE = "custom_imports = dict(imports=['jointaug_plugins.adapters.{lib}'], allow_failed_imports=False)\n"


def switch_block(library: str) -> str:
    """The README's block for ``library``, verbatim."""
    found = of_kind("mm-config", library, exact=True)
    assert len(found) == 1, f"the docs must hold exactly one mm-config block for {library}"
    return found[0].text


@pytest.fixture(scope="module")
def data_root(tmp_path_factory):
    return write_image_folder(tmp_path_factory.mktemp("mm_switch_images"), 8, size=(48, 64))


def _runner(config: Path, tmp_path: Path, data_root: Path, iters: int = 2):
    from mmengine.runner import Runner

    return Runner.from_cfg(small_config(config, tmp_path / "work", data_root, iters=iters))


def _joint_multiview(runner):
    steps = runner.train_dataloader.dataset.pipeline.transforms
    found = [t for t in steps if type(t).__name__ == "JointMultiView"]
    assert len(found) == 1, [type(t).__name__ for t in steps]
    return found[0]


def _epoch_hook(runner):
    from jointaug_plugins.adapters.mm.epoch import JointEpochHook

    (hook,) = [h for h in runner.hooks if isinstance(h, JointEpochHook)]
    return hook


def _p_ratio_gt_2(transform, n: int = 900) -> float:
    image = np.asarray(make_image(0, (96, 128)))[..., ::-1].copy()
    results = {"img": image, "img_shape": image.shape[:2], "ori_shape": image.shape[:2]}
    ratios = []
    # A seeded generator: the figure must not depend on which tests ran before (and built transforms) in this process.
    views, generator = transform.joint_views, torch.Generator().manual_seed(0)
    for _ in range(n):
        _, records = views.apply(results, views.draw(generator), records=True)
        areas = {r.view: r.params["area"] for r in records if r.kind == "crop"}
        ratios.append(areas[1] / areas[0])
    return float(np.mean(np.asarray(ratios) > 2))


@pytest.mark.parametrize("library", LIBRARIES)
def test_the_one_line_builds_jointcrop0_once(library, tmp_path, data_root, monkeypatch):
    """The README's line alone: the Runner builds JointMultiView once (the dataloader uses that build), the
    options are parsed once, the views draw JointCrop(0) for the config's own crop scale."""
    pytest.importorskip(library)
    from jointaug_plugins import JointOptions, JointSpec
    from jointaug_plugins.adapters.mm.switch import REGISTERED
    from jointaug_plugins.sampling import joint_ratio_sf

    importlib.import_module(f"jointaug_plugins.adapters.{library}")
    cls, builds, parses = REGISTERED[library], [], []
    init, parse = cls.__init__, JointOptions.parse.__func__

    def counting_init(self, *args, **kwargs):
        builds.append(1)
        init(self, *args, **kwargs)

    def counting_parse(klass, options=None, /, **more):
        if not isinstance(options, JointOptions):
            parses.append(options)
        return parse(klass, options, **more)

    monkeypatch.setattr(cls, "__init__", counting_init)
    monkeypatch.setattr(JointOptions, "parse", classmethod(counting_parse))
    runner = _runner(user_config(tmp_path, library, "simsiam", switch_block(library)), tmp_path, data_root)
    transform = _joint_multiview(runner)
    assert len(builds) == 1 and parses == [None]
    assert transform.options.switched_on == ("crop",) and transform.joint_views.pairs == [(0, 1)]
    assert "JointMultiView" in runner.cfg.pretty_text  # the dumped config says what trains
    assert _epoch_hook(runner).announce == "[jointaug] joint views on (crop β=0), pairs [(0, 1)]"
    # P(s2/s1 > 2) over 900 pairs drawn by the pipeline the dataloader holds, against JC(0) for the config's
    # crop scale (mmselfsup's SimSiam: 0.2-1.0).
    lo, hi = transform.pipelines[0].transforms[0].joint_source.scale
    assert abs(_p_ratio_gt_2(transform) - joint_ratio_sf(2, lo, hi, JointSpec(0.0))) < 0.04


@pytest.mark.parametrize("library", LIBRARIES)
def test_the_switch_reaches_pipelines_inside_dataset_wrappers(library):
    pytest.importorskip(library)
    from jointaug_plugins.adapters.mm.switch import REGISTERED, apply_switch

    importlib.import_module(f"jointaug_plugins.adapters.{library}")
    crop = {"type": "RandomResizedCrop", **({"size": 16} if library == "mmselfsup" else {"scale": 16})}
    multiview = {"type": "MultiView", "num_views": 2, "transforms": [[crop]]}
    wrapped = {"dataset": {"type": "RepeatDataset", "times": 2, "dataset": {"pipeline": [multiview]}}}
    switched = apply_switch(wrapped, None, scope=library, process_adapters=[library])
    assert isinstance(switched.loader["dataset"]["dataset"]["pipeline"][0], REGISTERED[library])
    assert switched.config_loader["dataset"]["dataset"]["pipeline"][0]["type"] == "JointMultiView"
    assert wrapped["dataset"]["dataset"]["pipeline"][0] == multiview  # the input is untouched
    named = {**multiview, "type": f"{library}.MultiView"}
    concat = {"dataset": {"type": "ConcatDataset", "datasets": [{"pipeline": [dict(named)]} for _ in "ab"]}}
    switched = apply_switch(concat, None, scope=library, process_adapters=[library])
    assert len(switched.views) == 2
    assert [d["pipeline"][0]["type"] for d in switched.config_loader["dataset"]["datasets"]] == [
        f"{library}.JointMultiView"
    ] * 2


def test_multicrop_layouts_get_the_one_default_policy():
    """SwAV's num_views=[2, 6]: the global pair is joint, the locals independent (as every multi-crop door)."""
    pytest.importorskip("mmselfsup")
    from jointaug_plugins.adapters.mm.switch import apply_switch

    importlib.import_module("jointaug_plugins.adapters.mmselfsup")
    views = [[{"type": "RandomResizedCrop", "size": s, "scale": r}] for s, r in ((16, (0.14, 1.0)), (8, (0.05, 0.14)))]
    loader = {"dataset": {"pipeline": [{"type": "MultiView", "num_views": [2, 6], "transforms": views}]}}
    (built,) = apply_switch(loader, None, scope="mmselfsup", process_adapters=["mmselfsup"]).views
    assert built.joint_views.pairs == [(0, 1)]


def test_jointaug_none_trains_the_library_multiview_and_says_so(tmp_path, data_root):
    pytest.importorskip("mmselfsup")
    config = user_config(tmp_path, "mmselfsup", "simclr", LINE.format(lib="mmselfsup") + "jointaug = None\n")
    runner = _runner(config, tmp_path, data_root)
    assert [type(t).__name__ for t in runner.train_dataloader.dataset.pipeline.transforms][1] == "MultiView"
    assert _epoch_hook(runner).announce == "[jointaug] independent views: the config says jointaug = None"


def test_the_epoch_hook_is_in_the_hook_table_once_beside_the_config_hooks(tmp_path, data_root):
    pytest.importorskip("mmselfsup")
    body = LINE.format(lib="mmselfsup") + "custom_hooks = [dict(type='SimSiamHook', fix_pred_lr=True, lr=0.05)]\n"
    runner = _runner(user_config(tmp_path, "mmselfsup", "simsiam", body), tmp_path, data_root)
    names = [type(h).__name__ for h in runner.hooks]
    assert names.count("JointEpochHook") == 1 and "SimSiamHook" in names
    assert "JointEpochHook" in runner.get_hooks_info()
    assert "JointEpochHook" not in runner.cfg.pretty_text  # the config's own list is not rewritten


@pytest.mark.parametrize(
    ("switch", "error"),
    [
        ("dict(crop=0.0, blurr=0.0)", r"unknown joint option 'blurr' \(did you mean 'blur'\?\); valid options: crop"),
        ("dict(crop=None)", r"switch nothing on"),
        ("0.0", r"must be a mapping"),
        ("dict(crop=float('nan'))", r"finite"),
        ("dict(crop=0.0, multicrop='local')", r"multicrop='local' needs a multi-crop layout"),
    ],
)
def test_bad_switch_values_stop_the_runner_with_the_key_named(switch, error, tmp_path, data_root):
    pytest.importorskip("mmselfsup")
    body = LINE.format(lib="mmselfsup") + f"jointaug = {switch}\n"
    with pytest.raises((ValueError, TypeError), match=error):
        _runner(user_config(tmp_path, "mmselfsup", "simclr", body), tmp_path, data_root)


# --- the docs' mm mistakes: verify and training agree --------------------------------------------------------

_PIPELINE = (
    "train_dataloader = dict(dataset=dict(pipeline=[dict(type='LoadImageFromFile'),\n"
    "    {steps}, dict(type='PackSelfSupInputs')]))\n"
)
_CROP = "dict(type='RandomResizedCrop', size=224, backend='pillow'{more})"
_MULTIVIEW = "dict(type='MultiView', num_views={n}, transforms={views})"
SELFSUP, PRETRAIN = LINE.format(lib="mmselfsup"), LINE.format(lib="mmpretrain")
#: Each row of the docs' mm mistakes table (its first cell, verbatim) -> (library, config body).
MISTAKES = {
    "`jointaug = dict(crop=0.0, blurr=0.0)`": ("mmselfsup", SELFSUP + "jointaug = dict(crop=0.0, blurr=0.0)\n"),
    "`jointaug = dict(crop=None)`": ("mmselfsup", SELFSUP + "jointaug = dict(crop=None)\n"),
    "`jointaug = dict(crop=None, blur=0.0)` where no view blurs": (
        "mmselfsup",
        _PIPELINE.format(steps=_MULTIVIEW.format(n=2, views=f"[[{_CROP.format(more='')}]]"))
        + SELFSUP
        + "jointaug = dict(crop=None, blur=0.0)\n",
    ),
    "paired views whose crops differ in `scale`": (
        "mmselfsup",
        _PIPELINE.format(
            steps=_MULTIVIEW.format(
                n="[1, 1]", views=f"[[{_CROP.format(more='')}], [{_CROP.format(more=', scale=(0.5, 1.0)')}]]"
            )
        )
        + SELFSUP,
    ),
    "an odd view count (`num_views=3`)": (
        "mmselfsup",
        _PIPELINE.format(steps=_MULTIVIEW.format(n=3, views=f"[[{_CROP.format(more='')}]]")) + SELFSUP,
    ),
    "no `MultiView` in the train pipeline": ("mmselfsup", _PIPELINE.format(steps=_CROP.format(more="")) + SELFSUP),
    "the mmselfsup adapter imported for an mmpretrain config": ("mmpretrain", SELFSUP),
    "the line pasted under a base that sets its own `custom_imports`": ("base", SELFSUP),
    "`jointaug = dict(...)` without the `custom_imports` line": ("mmpretrain", "jointaug = dict(crop=0.0)\n"),
    "a misspelled module under `allow_failed_imports=True`": (
        "mmpretrain",
        "custom_imports = dict(imports=['jointaug_plugins.adapters.mmpretrian'], allow_failed_imports=True)\n",
    ),
}
#: Rows that nothing of this package can see in training (it is not imported): verify stops, training is independent.
UNSEEN = (
    "`jointaug = dict(...)` without the `custom_imports` line",
    "a misspelled module under `allow_failed_imports=True`",
)


def _readme_mistakes() -> dict[str, str]:
    """The mm mistakes table of the mmselfsup page: first cell -> second cell."""
    section = page("libraries/mmselfsup")
    table = section[section.index("| mistake |") :].split("\n\n", 1)[0].splitlines()[2:]
    return {cells[0]: cells[1] for cells in (row.strip("| ").split(" | ", 1) for row in table)}


def _said(cell: str, who: str | None = None) -> str:
    """What a cell says (for ``who``, ``training`` or ``jointaug verify``, where it tells them apart): the code span."""
    if who is not None:
        cell = cell.split("`jointaug verify`:", 1)[1] if who == "verify" else cell.split(";", 1)[0]
    spans = re.findall(r"`([^`]*)`", cell)
    return spans[0] if spans else cell.strip()


def _like(pattern: str, text: str) -> bool:
    """``text`` holds the pieces of ``pattern`` (split at ``...``), in order."""
    position = 0
    for piece in (p.strip() for p in pattern.split("...")):
        found = text.find(piece, position)
        if found < 0:
            return False
        position = found + len(piece)
    return True


def _mistake_config(tmp_path: Path, row: str) -> Path:
    library, body = MISTAKES[row]
    if library == "base":  # a user's base that imports a module of its own
        base = user_config(tmp_path, "mmselfsup", "simclr", "custom_imports = dict(imports=['json'])\n", "base")
        path = tmp_path / "child.py"
        path.write_text(f"_base_ = './{base.name}'\n\n{body}")
        return path
    return user_config(tmp_path, library, "simclr", body, "mistake")


def _outcome(build) -> tuple[str | None, list[str]]:
    """``(error as 'Type: message' or None, warnings as 'UserWarning: message')`` of ``build()``."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        error = build()
    said = [f"{w.category.__name__}: {w.message}" for w in caught if issubclass(w.category, UserWarning)]
    return error, said


def test_every_readme_mistake_is_tested():
    assert set(_readme_mistakes()) == set(MISTAKES)


@pytest.mark.parametrize("row", list(MISTAKES))
def test_verify_stops_on_each_readme_mistake_with_the_error_training_stops_with(row, tmp_path):
    """Each docs' mistake through ``jointaug verify``'s resolver and through the Runner (``tools/train.py``'s
    way, the config as it is): the same error, type and message, or the same warning; the docs' cell says it."""
    library = MISTAKES[row][0]
    pytest.importorskip("mmselfsup" if library == "base" else library)
    from jointaug_plugins.tools.verify import VerifyTargetError, resolve_target

    cell, config = _readme_mistakes()[row], _mistake_config(tmp_path, row)

    def verify():
        try:
            resolve_target(str(config))
        except VerifyTargetError as err:
            return str(err)
        return None

    verified, verify_warned = _outcome(verify)
    if row in UNSEEN:
        assert verified is not None and _like(_said(cell, "verify"), verified), verified
        return
    trained, train_warned = _outcome(lambda: runner_error(config, tmp_path / "work"))
    trained = None if trained is None else f"{type(trained).__name__}: {trained}"
    assert verified == trained, (verified, trained)
    expected = _said(cell)
    if expected.startswith("UserWarning"):
        assert trained is None
        assert [w for w in verify_warned if _like(expected, w)] == [w for w in train_warned if _like(expected, w)]
        assert any(_like(expected, w) for w in train_warned), (expected, train_warned)
    else:
        assert trained is not None and _like(expected, trained), (expected, trained)


_FRESH_TRAINING = """
import json, sys
from pathlib import Path
sys.path.insert(0, {tests!r})
from mm_runner import small_config
from mmengine.runner import Runner
out = {{}}
for name, path in json.loads(sys.argv[1]).items():
    runner = Runner.from_cfg(small_config(path, Path({work!r}) / name, Path({data!r}), iters=1))
    steps = [type(t).__name__ for t in runner.train_dataloader.dataset.pipeline.transforms]
    out[name] = [steps, sorted(m for m in sys.modules if m.startswith("jointaug_plugins.adapters.mm"))]
print(json.dumps(out))
"""


@pytest.mark.slow
def test_the_mistakes_training_cannot_see_train_independent_views(tmp_path, data_root):
    """What the docs say of the rows verify alone catches: in a fresh training process (as ``tools/train.py``)
    nothing of this package is imported and the library's own MultiView trains."""
    pytest.importorskip("mmpretrain")
    configs = {
        f"row{i}": str(_mistake_config(tmp_path, row).rename(tmp_path / f"row{i}.py")) for i, row in enumerate(UNSEEN)
    }
    script = _FRESH_TRAINING.format(tests=str(Path(__file__).parent), work=str(tmp_path / "work"), data=str(data_root))
    done = subprocess.run(
        [sys.executable, "-c", script, json.dumps(configs)], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-4000:]
    for steps, modules in json.loads(done.stdout.strip().splitlines()[-1]).values():
        assert "MultiView" in steps and "JointMultiView" not in steps and modules == []


@pytest.mark.parametrize("library", LIBRARIES)
def test_verify_says_independent_for_the_library_config_as_it_ships(library, capsys):
    pytest.importorskip(library)
    from jointaug_plugins.cli import main

    assert main(["verify", f"{library}::{SHIPPED[library]['simclr']}", "--json", "--n", "300"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert {p["verdict"] for p in report["pairs"] if p["kind"] == "crop"} == {"independent"}, report


@pytest.mark.slow
def test_readme_schedule_block_trains_with_the_epoch_and_sample_idx(tmp_path, data_root):
    """The README's schedule block on mmselfsup's SimCLR: the Runner gets JointEpochHook (here an iteration-based
    loop, whose epochs are passes through the data: 8 images, batch 4), and the views draw from (seed, epoch,
    sample_idx)."""
    pytest.importorskip("mmselfsup")
    from jointaug_plugins.epoch import current_epoch, epoch_channel

    (block,) = of_kind("mm-config", "mmselfsup", "schedule", exact=True)
    epoch_channel().set(None)
    runner = _runner(user_config(tmp_path, "mmselfsup", "simclr", block.text), tmp_path, data_root, iters=6)
    assert _epoch_hook(runner) is not None
    runner.train()
    assert current_epoch() == 2  # the 6th iteration's pass
    views = _joint_multiview(runner).joint_views
    assert views.reproducible and views.specs["crop"].scheduled
    assert views.draw(index=3).betas["crop"] == pytest.approx(views.specs["crop"].beta.at(2))
    assert views.draw(index=3) == views.draw(index=3)
    epoch_channel().set(None)


@pytest.mark.slow
def test_readme_position_block_trains_with_contrastive_crop_placement(tmp_path):
    """The README's `position` block pasted under mmselfsup's SimCLR config: the Runner trains views whose crops
    land by ContrastiveCrop's rule, areas still JointCrop(0)'s; the shipped MoCo v1 config holds the same lines."""
    import math
    from pathlib import Path

    pytest.importorskip("mmselfsup")
    from images import write_image_folder
    from mm_runner import train_block
    from readme_blocks import of_kind

    (block,) = of_kind("mm-config", "mmselfsup", "position", exact=True)
    data_root = write_image_folder(tmp_path / "images", 8)
    runner, losses, log = train_block(tmp_path, "mmselfsup", "simclr", block.text, data_root)
    assert len(losses) == 2 and all(math.isfinite(x) for x in losses)
    steps = runner.train_dataloader.dataset.pipeline.transforms
    (views,) = [t.joint_views for t in steps if type(t).__name__ == "JointMultiView"]
    assert views.options.position.alpha == 0.6 and views.specs["crop"].beta == 0.0
    assert all(s.box == (0.0, 0.0, 1.0, 1.0) for v in views.draw().views for s in v.slices if hasattr(s, "box"))
    assert "position=(alpha=0.6)" in log
    configs = Path(__file__).resolve().parents[1] / "configs/mmselfsup"
    shipped = configs / "mocov1_resnet50_8xb32-steplr-200e_in1k_jointcrop_ccrop.py"
    lines = [x for x in shipped.read_text().splitlines() if x and not x.startswith(("#", "_base_"))]
    assert lines == block.text.strip().splitlines()
