"""The solo-learn switch: one line, ``- jointaug: crop``, in the ``defaults:`` of a YAML in solo-learn's layout.

The YAMLs are written here, in solo-learn's layout (``defaults:`` with ``_self_`` first, an
``augmentations`` group file, a ``wandb`` group, a ``hydra:`` block with ``output_subdir: null`` and
``run.dir``), and composed by hydra through this package's search-path plugin. Every way the switch could
fail silently has a test that it now raises or warns. A hydra app that builds its views the way
solo-learn's ``main_pretrain.py`` does runs in a subprocess, with Lightning, end to end.
"""

from __future__ import annotations

import copy
import subprocess
import sys
import types
import warnings
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from helpers_images import coordinate_image
from images import make_image
from solo_layout import entry

pytest.importorskip("hydra")

from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from torch.utils.data import DataLoader

from jointaug_plugins import JointSpec, UnknownOptionError, UnsupportedOptionError
from jointaug_plugins.adapters.solo import build_pretrain_transform, check_config
from jointaug_plugins.adapters.solo.guard import JointAugMissingError, check_trainer
from jointaug_plugins.sampling import joint_ratio_sf

TARGET = "jointaug_plugins.adapters.solo.JointAugCallback"
OPTIONS = ("crop", "blur", "color", "crop_or_blur", "multicrop_global", "multicrop_local", "multicrop_both")
JC0 = joint_ratio_sf(2, 0.08, 1.0, JointSpec(0.0))  # 0.3623


AUGMENTATIONS = {
    "two_views": entry(2),  # symmetric (SimCLR-like): one entry, two crops
    "one_each": entry(1, blur=0.0) + "\n" + entry(1, blur=0.0),  # asymmetric (BYOL on CIFAR): no blur at all
    "three_views": entry(3),
    "no_jitter": entry(2, color=0.0),
    "half_blur": entry(2) + "\n" + entry(2, blur=0.0),
    "multicrop": entry(2, scale=(0.4, 1.0)) + "\n" + entry(4, scale=(0.05, 0.4)),
}


def write_recipe(
    root: Path,
    name: str = "recipe",
    *,
    switch: str | None = "crop",
    above_self: bool = True,
    body: str = "",
    augmentations: str = "two_views",
    data_format: str = "image_folder",
) -> Path:
    """A solo-learn-style primary YAML (plus its group files) in ``root``; ``switch`` is the one added line."""
    (root / "augmentations").mkdir(parents=True, exist_ok=True)
    (root / "wandb").mkdir(exist_ok=True)
    for aug_name, text in AUGMENTATIONS.items():
        (root / "augmentations" / f"{aug_name}.yaml").write_text(text)
    (root / "wandb" / "private.yaml").write_text('enabled: False\nproject: "test"\n')
    line = [f"  - jointaug: {switch}"] if switch else []
    defaults = [*(line if above_self else []), "  - _self_", *([] if above_self else line)]
    text = "\n".join(
        [
            "defaults:",
            *defaults,
            f"  - augmentations: {augmentations}.yaml",
            "  - wandb: private.yaml",
            "  - override hydra/hydra_logging: disabled",
            "  - override hydra/job_logging: disabled",
            "",
            "# no hydra outputs, as solo-learn's own YAMLs",
            "hydra:",
            "  output_subdir: null",
            "  run:",
            "    dir: .",
            "",
            body,
            'name: "test-recipe"',
            'method: "simclr"',
            "data:",
            "  dataset: cifar10",
            '  train_path: "./datasets"',
            f'  format: "{data_format}"',
            "  num_workers: 0",
            "optimizer:",
            "  batch_size: 4",
            "max_epochs: 1",
            "",
        ]
    )
    path = root / f"{name}.yaml"
    path.write_text(text)
    return path


def compose_recipe(path: Path, *overrides: str, hydra_node: bool = True):
    with initialize_config_dir(config_dir=str(path.parent), version_base="1.2"):
        return compose(config_name=path.stem, overrides=list(overrides), return_hydra_config=hydra_node)


def p_ratio_gt_2(transform, pairs=((0, 1),), n: int = 1000) -> np.ndarray:
    """``P(s2/s1 > 2)`` per pair, from the crop areas the draw records hold."""
    image = make_image(0, (96, 128))
    ratios = []
    for _ in range(n):
        _, records = transform.apply(image, records=True)
        areas = {r.view: r.params["area"] for r in records if r.kind == "crop"}
        ratios.append([areas[b] / areas[a] for a, b in pairs])
    return np.mean(np.asarray(ratios) > 2, axis=0)


# --- the group and the callback --------------------------------------------------------------------------


def test_search_path_plugin_exposes_the_jointaug_group(tmp_path):
    from hydra.core.plugins import Plugins
    from hydra.plugins.search_path_plugin import SearchPathPlugin

    assert "JointAugSearchPathPlugin" in [p.__name__ for p in Plugins.instance().discover(SearchPathPlugin)]
    path = write_recipe(tmp_path)
    with initialize_config_dir(config_dir=str(path.parent), version_base="1.2"):
        options = GlobalHydra.instance().config_loader().get_group_options("jointaug")
    assert set(OPTIONS) <= set(options)


@pytest.mark.parametrize("option", OPTIONS)
@pytest.mark.parametrize("above_self", [True, False], ids=["above_self", "below_self"])
def test_each_option_registers_the_callback_beside_solos_hydra_block(tmp_path, option, above_self):
    aug = "multicrop" if option.startswith("multicrop") else "two_views"
    cfg = compose_recipe(write_recipe(tmp_path, switch=option, above_self=above_self, augmentations=aug))
    assert cfg.hydra.callbacks.jointaug._target_ == TARGET
    assert cfg.hydra.output_subdir is None and cfg.hydra.run.dir == "."
    assert set(cfg.jointaug) == {"crop", "blur", "color", "crop_or_blur", "pairs", "multicrop", "seed"}
    assert cfg.hydra.runtime.choices.jointaug == option
    assert check_config(cfg) is not None


@pytest.mark.parametrize("augmentations", ["two_views", "one_each"])
@pytest.mark.parametrize("above_self", [True, False], ids=["above_self", "below_self"])
def test_the_one_line_gives_joint_crops(tmp_path, augmentations, above_self):
    path = write_recipe(tmp_path, above_self=above_self, augmentations=augmentations)
    transform = build_pretrain_transform(compose_recipe(path, "jointaug.seed=0"))
    assert transform.pairs == [(0, 1)]
    assert abs(p_ratio_gt_2(transform)[0] - JC0) < 0.04


def test_without_the_line_nothing_changes(tmp_path):
    cfg = compose_recipe(write_recipe(tmp_path, switch=None))
    assert "jointaug" not in cfg and not cfg.hydra.callbacks
    assert check_config(cfg) is None
    transform = build_pretrain_transform(cfg)
    assert all(spec is None for spec in transform.specs.values())


def test_beta_from_the_command_line(tmp_path):
    path = write_recipe(tmp_path, above_self=False)
    transform = build_pretrain_transform(compose_recipe(path, "jointaug.crop.beta=-3", "jointaug.seed=0"))
    assert transform.specs["crop"].beta == -3.0
    expected = joint_ratio_sf(2, 0.08, 1.0, JointSpec(-3.0))  # 0.486: harder pairs than JC(0)'s 0.362
    assert expected > JC0 + 0.1
    assert abs(p_ratio_gt_2(transform)[0] - expected) < 0.04


def test_beta_in_the_yaml_body_with_the_line_above_self(tmp_path):
    body = "jointaug:\n  crop:\n    beta: 2.0\n  seed: 0\n"
    cfg = compose_recipe(write_recipe(tmp_path, body=body))
    assert cfg.jointaug.crop.beta == 2.0 and cfg.jointaug.crop.margin == 0.1  # body wins, group fills the rest
    transform = build_pretrain_transform(cfg)
    expected = joint_ratio_sf(2, 0.08, 1.0, JointSpec(2.0))  # 0.281: easier pairs than JC(0)'s 0.362
    assert abs(p_ratio_gt_2(transform)[0] - expected) < 0.04


def test_a_beta_schedule_and_the_published_preset_from_the_yaml(tmp_path):
    """A schedule in the YAML body or on the command line; the published JointCrop as one override. The epoch
    itself comes from the Lightning callback every Trainer loads (tests/test_schedule.py)."""
    from readme_blocks import of_kind

    (body,) = of_kind("solo-body", "schedule", exact=True)  # the README's block, verbatim
    spec = build_pretrain_transform(compose_recipe(write_recipe(tmp_path, body=body.text))).specs["crop"]
    assert spec.scheduled and spec.at(0).beta == 2.0 and spec.at(200).beta == 0.5 and spec.at(400).beta == -1.0
    override = "jointaug.crop.beta={start:2.0,end:-1.0,shape:linear,epochs:400}"  # the README's command line
    assert build_pretrain_transform(compose_recipe(write_recipe(tmp_path, name="a"), override)).specs["crop"] == spec
    line = compose_recipe(write_recipe(tmp_path, name="b"), "jointaug.crop.beta={start:2,shape:step,steps:[[5,-1]]}")
    assert build_pretrain_transform(line).specs["crop"].at(5).beta == -1.0
    published = build_pretrain_transform(compose_recipe(write_recipe(tmp_path, name="c"), "jointaug.crop=published"))
    assert published.specs["crop"] == JointSpec(beta=0.0, margin=0.1, options={"fallback": "whole"})
    with pytest.raises(ValueError, match=r"crop: beta: a linear β schedule needs start, end and epochs"):
        build_pretrain_transform(compose_recipe(write_recipe(tmp_path, name="d"), "jointaug.crop.beta={start:2}"))


def test_multicrop_options_pair_globals_or_locals(tmp_path):
    for mode, pairs in [("global", [(0, 1)]), ("local", [(2, 3), (4, 5)]), ("both", [(0, 1), (2, 3), (4, 5)])]:
        path = write_recipe(tmp_path, switch=f"multicrop_{mode}", augmentations="multicrop")
        transform = build_pretrain_transform(compose_recipe(path, "jointaug.seed=0"))
        assert transform.pairs == pairs
    p_global, p_local = p_ratio_gt_2(transform, [(0, 1), (2, 3)], n=800)
    assert abs(p_global - joint_ratio_sf(2, 0.4, 1.0, JointSpec(0.0))) < 0.04
    assert abs(p_local - joint_ratio_sf(2, 0.05, 0.4, JointSpec(0.0))) < 0.04


def test_crop_or_blur_option(tmp_path):
    transform = build_pretrain_transform(compose_recipe(write_recipe(tmp_path, switch="crop_or_blur")))
    assert transform.crop_or_blur == 0.5
    assert transform.specs["crop"] is not None and transform.specs["blur"] is not None


# --- every silent path now raises or warns ------------------------------------------------------------------


def _plain_loader(cfg) -> DataLoader:
    """A DataLoader over a dataset whose transform is solo's plain (independent) multi-view pipeline."""
    from jointaug_plugins.adapters.solo import build_view_pipeline

    class FullTransformPipeline:  # solo-learn's shape: a list of per-view pipelines, applied in order
        def __init__(self, transforms):
            self.transforms = transforms

        def __call__(self, x):
            return [t(x) for t in self.transforms]

    views = [build_view_pipeline("cifar10", a) for a in cfg.augmentations for _ in range(a.num_crops)]
    return DataLoader(SimpleNamespace(transform=FullTransformPipeline(views)), batch_size=2)


def test_a_jointaug_block_without_the_line_stops_training(tmp_path):
    cfg = compose_recipe(write_recipe(tmp_path, switch=None, body="jointaug:\n  crop: {beta: 0.0}\n"))
    assert check_config(cfg) is not None  # a valid block ...
    trainer = SimpleNamespace(train_dataloader=_plain_loader(cfg))  # ... that solo never read
    with pytest.raises(JointAugMissingError, match=r"solo-learn ignores a `jointaug:` block.*- jointaug: crop"):
        check_trainer(trainer, SimpleNamespace(cfg=cfg))


def test_guard_is_inert_without_a_block_and_passes_joint_views(tmp_path):
    cfg = compose_recipe(write_recipe(tmp_path, switch=None))
    check_trainer(SimpleNamespace(train_dataloader=_plain_loader(cfg)), SimpleNamespace(cfg=cfg))  # no block
    check_trainer(SimpleNamespace(train_dataloader=None), SimpleNamespace())  # not a solo module
    off = compose_recipe(write_recipe(tmp_path, name="off"), "jointaug.crop=null")  # the explicit opt-out
    check_trainer(SimpleNamespace(train_dataloader=_plain_loader(off)), SimpleNamespace(cfg=off))
    on = compose_recipe(write_recipe(tmp_path, name="on"))
    loader = DataLoader(SimpleNamespace(transform=build_pretrain_transform(on)), batch_size=2)
    check_trainer(SimpleNamespace(train_dataloader=loader), SimpleNamespace(cfg=on))


_ENTRY_POINT_CHECK = """
import importlib, sys
from importlib.metadata import entry_points
package = sys.argv[1]
lightning = importlib.import_module(package)
factories = [ep for ep in entry_points(group=package + ".callbacks_factory") if ep.name == "jointaug_solo_guard"]
assert factories, "entry point missing: reinstall the package (pip install -e .)"
callbacks = factories[0].load()()
assert all(isinstance(cb, lightning.Callback) for cb in callbacks)
assert [type(cb).__name__ for cb in callbacks] == ["JointAugGuard", "JointSemanticBoxes"], callbacks
trainer = lightning.Trainer(accelerator="cpu", devices=1, logger=False, enable_checkpointing=False)
print("GUARDS", [type(cb).__name__ for cb in trainer.callbacks if type(cb).__name__ == "JointAugGuard"])
"""


@pytest.mark.parametrize("package", ["lightning.pytorch", "pytorch_lightning"])
def test_guard_is_a_lightning_external_callback(tmp_path, package):
    """Every Trainer loads the guard through Lightning's external-callback entry points. Run from a fresh
    folder, as a user would (a stale ``*.egg-info`` in the current folder would hide installed metadata)."""
    pytest.importorskip(package)
    script = tmp_path / "check.py"
    script.write_text(_ENTRY_POINT_CHECK)
    result = subprocess.run([sys.executable, str(script), package], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "GUARDS ['JointAugGuard']" in result.stdout


def test_a_misspelled_key_raises(tmp_path):
    cfg = compose_recipe(write_recipe(tmp_path), "+jointaug.crp=0.0")
    with pytest.raises(ValueError, match=r"unknown joint option 'crp' \(did you mean 'crop'\?\); valid options: crop"):
        check_config(cfg)
    with pytest.raises(ValueError, match=r"crop has unknown option\(s\) bta"):
        build_pretrain_transform(compose_recipe(write_recipe(tmp_path, name="b"), "+jointaug.crop.bta=1"))


def test_dali_format_builds_joint_dali_views(tmp_path):
    """data.format: dali: solo's DALI entries become joint DALI views with the same pairs as the PIL path."""
    pytest.importorskip("nvidia.dali")
    from jointaug_plugins.adapters.solo.dali import JointDALIFullTransform

    cfg = compose_recipe(write_recipe(tmp_path, data_format="dali"))
    transform = build_pretrain_transform(cfg)
    assert isinstance(transform, JointDALIFullTransform)
    assert transform.views.pairs == [(0, 1)] and transform.views.specs["crop"].beta == 0.0
    view = transform.views.views[0]
    assert view.interpolation == "cubic" and view.mean is not None
    with pytest.raises(TypeError, match="take encoded images inside a DALI pipeline"):
        transform(None)
    views = transform(coordinate_image(40, 48))  # one image through a small DALI CPU pipeline
    assert [tuple(v.shape) for v in views] == [(3, 32, 32), (3, 32, 32)]


@pytest.mark.parametrize("option", ["blur", "crop_or_blur"])
def test_joint_blur_where_no_view_blurs_raises(tmp_path, option):
    cfg = compose_recipe(write_recipe(tmp_path, switch=option, augmentations="one_each"))
    message = r"jointaug\.blur is on but no joint pair.*gaussian_blur\.prob per augmentation entry: \[0\.0, 0\.0\]"
    with pytest.raises(ValueError, match=message):
        build_pretrain_transform(cfg)


def test_joint_blur_on_some_pairs_only_warns(tmp_path):
    # Two entries of two crops are a multi-crop layout (its global pair by default): ask for both sides.
    cfg = compose_recipe(write_recipe(tmp_path, switch="blur", augmentations="half_blur"), "jointaug.multicrop=both")
    with pytest.warns(UserWarning, match=r"jointaug\.blur has no effect on pair\(s\) \[\(2, 3\)\]"):
        build_pretrain_transform(cfg)


def test_joint_color_without_colour_jitter_raises(tmp_path):
    cfg = compose_recipe(write_recipe(tmp_path, switch="color", augmentations="no_jitter"))
    with pytest.raises(ValueError, match=r"jointaug\.color is on but no joint pair.*color_jitter\.prob"):
        build_pretrain_transform(cfg)


def test_an_unpaired_view_warns(tmp_path):
    cfg = compose_recipe(write_recipe(tmp_path, augmentations="three_views"))
    with pytest.warns(UserWarning, match=r"view\(s\) \[2\] of 3 are in no pair and draw independently"):
        build_pretrain_transform(cfg)


def test_a_multicrop_option_on_a_single_entry_recipe_raises(tmp_path):
    cfg = compose_recipe(write_recipe(tmp_path, switch="multicrop_global"))
    with pytest.raises(ValueError, match=r"multicrop='global' needs a multi-crop layout.*laid out as \[2\]"):
        build_pretrain_transform(cfg)


def test_a_body_value_replaced_by_the_group_raises(tmp_path):
    """The line below ``- _self_``: the group's beta 0 would silently replace the body's -1."""
    path = write_recipe(tmp_path, above_self=False, body="jointaug:\n  crop:\n    beta: -1.0\n")
    cfg = compose_recipe(path)
    assert cfg.jointaug.crop.beta == 0.0  # what hydra does: the group, merged after _self_, wins
    with pytest.raises(ValueError, match=r"sets jointaug\.crop\.beta: -1\.0 \(in effect: 0\.0\).*above `- _self_`"):
        build_pretrain_transform(cfg)
    assert check_config(compose_recipe(path, "jointaug.crop.beta=-1.0")).specs["crop"].beta == -1.0  # CLI is fine
    assert check_config(compose_recipe(path, hydra_node=False)) is not None  # no hydra node: no file to compare
    # The group added on the command line instead of the line is merged after _self_ too.
    cli_group = write_recipe(tmp_path, name="cli", switch=None, body="jointaug:\n  crop:\n    beta: -1.0\n")
    with pytest.raises(ValueError, match=r"the group line `\+jointaug=crop \(command line\)`"):
        check_config(compose_recipe(cli_group, "+jointaug=crop"))


# --- the README's mistakes: jointaug verify stops where training stops, with the same error -----------------

_MAIN_PRETRAIN = '''
"""What solo-learn's main_pretrain.py does with its views (solo-learn 1.0.6), solo's own names as stand-ins
(solo-learn is not installed here); the hydra callback replaces these names in the running script."""
from jointaug_plugins.adapters.solo import build_view_pipeline as build_transform_pipeline


class NCropAugmentation:
    def __init__(self, transform, num_crops):
        self.transform, self.num_crops = transform, num_crops


class FullTransformPipeline:
    def __init__(self, transforms):
        self.transforms = transforms


def build_transform_pipeline_dali(dataset, cfg, dali_device):
    return ("solo's own DALI entry", dataset, dali_device)


def build_views(cfg):
    if cfg.data.format == "dali":
        build = lambda aug: build_transform_pipeline_dali(cfg.data.dataset, aug, dali_device=cfg.dali.device)
    else:
        build = lambda aug: build_transform_pipeline(cfg.data.dataset, aug)
    return FullTransformPipeline([NCropAugmentation(build(aug), aug.num_crops) for aug in cfg.augmentations])
'''

_DALI = "dali:\n  device: cpu\n"
_BLOCK = "jointaug:\n  crop: {beta: 0.0}\n"
_MISSING = "solo-learn ignores a `jointaug:` block by itself"
_UNKNOWN = "unknown joint option 'blurr' (did you mean 'blur'?)"
# (id, write_recipe arguments, overrides, the error both must stop with (None: none), what the README quotes)
MISTAKES = [
    ("block_without_line", {"switch": None, "body": _BLOCK}, [], JointAugMissingError, _MISSING),
    ("body_value_below_self", {"above_self": False, "body": "jointaug:\n  crop:\n    beta: -1.0\n"}, [], ValueError,
     "is merged after `- _self_` in `defaults:`"),
    ("misspelled_in_body", {"body": "jointaug:\n  blurr: 0.0\n"}, [], UnknownOptionError, _UNKNOWN),
    ("misspelled_override", {}, ["+jointaug.blurr=0.0"], UnknownOptionError, _UNKNOWN),
    ("misspelled_crop_option", {}, ["+jointaug.crop.bta=1"], ValueError, "crop has unknown option(s) bta"),
    ("bad_multicrop_mode", {}, ["jointaug.multicrop=all"], ValueError,
     "multicrop must be one of 'global', 'local', 'both'; got 'all'"),
    ("reproducible", {"body": "jointaug:\n  reproducible: true\n  seed: 0\n"}, [], UnsupportedOptionError,
     "solo-learn cannot honour reproducible=True"),
    ("switches_nothing_on", {}, ["jointaug.crop=null"], ValueError, "the joint options switch nothing on"),
    ("blur_where_no_view_blurs", {"switch": "blur", "augmentations": "one_each"}, [], ValueError,
     "jointaug.blur is on but no joint pair has that augmentation in both views"),
    ("multicrop_on_one_entry", {"switch": "multicrop_global"}, [], ValueError,
     "multicrop='global' needs a multi-crop layout"),
    ("dali_equalization", {"data_format": "dali", "body": _DALI}, ["augmentations.0.equalization.prob=0.2"],
     ValueError, "DALI has no equalization"),
    ("dali_block_without_line", {"switch": None, "data_format": "dali", "body": _DALI + _BLOCK}, [],
     JointAugMissingError, _MISSING),
    ("unpaired_view", {"augmentations": "three_views"}, [], None, "are in no pair and draw independently"),
]  # fmt: skip


def _outcome(run) -> tuple[BaseException | None, list[str], object]:
    """What ``run()`` ended with: the error (or ``None``), this package's warnings, the built transform."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        built, error = None, None
        try:
            built = run()
        except Exception as err:
            error = err
    # Hydra's own "Callback ... raised" warning is the training side's only extra: hydra, not this package.
    warned = sorted({str(w.message) for w in caught if not str(w.message).startswith("Callback ")})
    return error, warned, built


def _train(cfg, monkeypatch):
    """main_pretrain.py as hydra runs it, without solo-learn: hydra instantiates ``hydra.callbacks`` and calls
    their ``on_job_start`` with the whole config (warning where one raises), the task builds its views from the
    config without its ``hydra`` node, and at train start Lightning runs the guard on the train dataloader."""
    from hydra._internal.callbacks import Callbacks
    from omegaconf import open_dict, read_write

    main = types.ModuleType("__main__")
    exec(_MAIN_PRETRAIN, main.__dict__)
    monkeypatch.setitem(sys.modules, "__main__", main)
    Callbacks(cfg).on_job_start(config=cfg, task_function=main.build_views)
    task = copy.deepcopy(cfg)
    with read_write(task), open_dict(task):
        del task["hydra"]
    transform = main.build_views(task)
    loader = DataLoader(SimpleNamespace(transform=transform), batch_size=2)
    check_trainer(SimpleNamespace(train_dataloader=loader, datamodule=None), SimpleNamespace(cfg=task))
    return transform


def _verify(path: Path, overrides: list[str]):
    """``jointaug verify PATH OVERRIDES``' target, raising the error the adapter reported (the CLI prints it)."""
    from jointaug_plugins.adapters.verify_targets.solo import jointaug_verify_target
    from jointaug_plugins.tools.verify import VerifyTargetError

    try:
        return jointaug_verify_target(str(path), list(overrides)).views
    except VerifyTargetError as err:
        raise err.__cause__ from None


def _squashed(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("case, recipe, overrides, error, quoted", MISTAKES, ids=[m[0] for m in MISTAKES])
def test_readme_mistakes_stop_verify_as_they_stop_training(tmp_path, monkeypatch, case, recipe, overrides, error,
                                                           quoted):  # fmt: skip
    """Each mistake of the README's solo-learn list, through ``jointaug verify`` and through the training entry
    (the hydra job callback, main_pretrain's builders, the Lightning guard): the same error type and message,
    or no error and the same warnings and pairs."""
    from readme_blocks import page

    section = page("libraries/solo-learn")
    assert _squashed(quoted) in _squashed(section), f"the solo-learn page's mistakes no longer quote {quoted!r}"
    if recipe.get("data_format") == "dali":
        pytest.importorskip("nvidia.dali")
    path = write_recipe(tmp_path, **recipe)
    trained = _outcome(lambda: _train(compose_recipe(path, *overrides), monkeypatch))
    verified = _outcome(lambda: _verify(path, overrides))
    if error is None:
        assert trained[0] is None and verified[0] is None, (trained[0], verified[0])
        assert any(quoted in message for message in trained[1]), trained[1]
        assert verified[2].pairs == trained[2].pairs and verified[2].specs == trained[2].specs
    else:
        assert type(trained[0]) is error and type(verified[0]) is error, (trained[0], verified[0])
        assert str(verified[0]) == str(trained[0]) and quoted in str(trained[0])
    assert verified[1] == trained[1]


@pytest.mark.parametrize("recipe", [{}, {"switch": None}, {"augmentations": "multicrop"}], ids=["line", "none", "mc"])
def test_verify_measures_the_views_training_builds(tmp_path, monkeypatch, recipe):
    """A working YAML: verify's views are training's (joint with the line, the global pair of a multi-crop recipe
    by the one default policy; independent without it)."""
    path = write_recipe(tmp_path, **recipe)
    trained = _train(compose_recipe(path), monkeypatch)
    verified = _verify(path, [])
    if recipe.get("switch", "crop") is None:
        assert type(trained).__name__ == "FullTransformPipeline" and not verified.options.switched_on
        return
    assert type(verified) is type(trained)
    assert verified.pairs == trained.pairs == [(0, 1)] and verified.options == trained.options
    assert verified.layout == trained.layout == [int(a.num_crops) for a in compose_recipe(path).augmentations]


# --- end to end: a hydra app built like solo-learn's main_pretrain.py, with Lightning ----------------------

_APP = """
import sys

import hydra
import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset

try:
    import lightning.pytorch as pl
except ImportError:
    import pytorch_lightning as pl

from jointaug_plugins.adapters.solo import build_view_pipeline


class NCropAugmentation:
    def __init__(self, transform, num_crops):
        self.transform, self.num_crops = transform, num_crops

    def __call__(self, x):
        return [self.transform(x) for _ in range(self.num_crops)]


class FullTransformPipeline:
    def __init__(self, transforms):
        self.transforms = transforms

    def __call__(self, x):
        return [view for t in self.transforms for view in t(x)]


class Images(Dataset):
    def __init__(self, transform):
        self.transform = transform

    def __len__(self):
        return 8

    def __getitem__(self, i):
        pixels = np.random.default_rng(i).integers(0, 255, (40, 48, 3), dtype=np.uint8)
        return i, self.transform(Image.fromarray(pixels)), 0


class Method(pl.LightningModule):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.head = torch.nn.Linear(3, 1)

    def training_step(self, batch, batch_idx):
        _, views, _ = batch
        return sum(self.head(v.mean((2, 3))).pow(2).mean() for v in views)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


@hydra.main(version_base="1.2")
def main(cfg):
    pipelines = [NCropAugmentation(build_view_pipeline(cfg.data.dataset, a), a.num_crops) for a in cfg.augmentations]
    transform = FullTransformPipeline(pipelines)
    print("BUILT", type(transform).__name__, getattr(transform, "pairs", None), flush=True)
    loader = DataLoader(Images(transform), batch_size=4, num_workers=0)
    trainer = pl.Trainer(
        accelerator="cpu", devices=1, max_steps=2, logger=False, enable_checkpointing=False,
        enable_progress_bar=False, enable_model_summary=False,
    )
    trainer.fit(Method(cfg), loader)
    print("TRAINED", flush=True)


main()
"""


def _lightning_available() -> bool:
    import importlib.util

    return any(importlib.util.find_spec(name) is not None for name in ("lightning", "pytorch_lightning"))


@pytest.mark.skipif(not _lightning_available(), reason="needs lightning or pytorch_lightning")
@pytest.mark.parametrize(
    "case, recipe",
    [
        ("switch", {}),
        ("unmodified", {"switch": None}),
        ("block_without_line", {"switch": None, "body": "jointaug:\n  crop: {beta: 0.0}\n"}),
        ("body_value_below_self", {"above_self": False, "body": "jointaug:\n  crop:\n    beta: -1.0\n"}),
    ],
)
def test_hydra_app_like_main_pretrain_end_to_end(tmp_path, case, recipe):
    """A real hydra run (the callback gets the config hydra makes for a run); on a mistake it stops with the error
    ``jointaug verify`` gives for the same YAML."""
    path = write_recipe(tmp_path / "conf", **recipe)
    app = tmp_path / "main_pretrain.py"
    app.write_text(_APP)
    command = [sys.executable, str(app), "--config-path", str(path.parent), "--config-name", path.stem]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    log = result.stdout + result.stderr
    if case == "switch":
        assert result.returncode == 0, log[-3000:]
        assert "BUILT JointFullTransformPipeline [(0, 1)]" in result.stdout
        assert "[jointaug] guard: train views are joint (crop β=0)" in result.stderr
        assert "TRAINED" in result.stdout
    elif case == "unmodified":
        assert result.returncode == 0, log[-3000:]
        assert "BUILT FullTransformPipeline None" in result.stdout and "TRAINED" in result.stdout
        assert "[jointaug]" not in log
    else:
        assert result.returncode != 0 and "TRAINED" not in result.stdout
        with pytest.raises(Exception) as verified:
            _verify(path, [])
        assert f"{type(verified.value).__name__}: {verified.value}" in log, log[-3000:]
        if case == "block_without_line":
            assert "BUILT FullTransformPipeline None" in result.stdout  # solo ignored the block; the guard stopped it
            assert "JointAugMissingError" in log and "solo-learn ignores a `jointaug:` block" in log
        else:  # the callback's check: hydra only warns, the refusing stand-in stops the build
            assert "BUILT" not in result.stdout and "merged after `- _self_`" in log


# --- solo-learn itself (installed from its repository; skipped where it is not) ---------------------------


def _solo_checkout() -> Path | None:
    import importlib.util

    spec = importlib.util.find_spec("solo")
    if spec is None or spec.origin is None:
        return None
    root = Path(spec.origin).resolve().parents[1]
    found = (root / "main_pretrain.py").is_file() and (root / "scripts" / "pretrain" / "cifar").is_dir()
    return root if found else None


@pytest.mark.slow
@pytest.mark.skipif(_solo_checkout() is None, reason="solo-learn is not installed from a source checkout")
@pytest.mark.parametrize("case", ["switch", "block_without_line", "schedule"])
def test_solo_main_pretrain_unchanged_with_the_one_line(tmp_path, case):
    """solo-learn's own main_pretrain.py and its shipped byol.yaml, plus the one line (or the old mistake, or the
    line with a β schedule, which the callback Lightning loads moves epoch by epoch)."""
    import shutil

    root = _solo_checkout()
    conf = tmp_path / "cifar"
    shutil.copytree(root / "scripts" / "pretrain" / "cifar", conf)
    text = (conf / "byol.yaml").read_text()
    if case in ("switch", "schedule"):
        text = text.replace("defaults:\n", "defaults:\n  - jointaug: crop\n", 1)
    else:
        text += "\njointaug:\n  crop: {beta: 0.0}\n"
    (conf / "byol.yaml").write_text(text)
    images = tmp_path / "images"
    images.mkdir()
    for i in range(8):
        make_image(i, (40, 48)).save(images / f"{i}.png")
    overrides = [
        "data.dataset=custom", f"data.train_path={images}", "data.val_path=null", "++data.no_labels=True",
        "data.num_workers=0", "optimizer.batch_size=4", "accelerator=cpu", 'devices="1"', "strategy=auto",
        "precision=32", "sync_batchnorm=False", "max_epochs=1", "++limit_train_batches=2", "wandb.enabled=False",
        "checkpoint.enabled=False", "auto_resume.enabled=False",
    ]  # fmt: skip
    if case == "schedule":
        overrides += ["max_epochs=3", "jointaug.crop.beta={start:2,shape:step,steps:[[1,-2],[2,0.5]]}"]
    command = [sys.executable, str(root / "main_pretrain.py"), "--config-path", str(conf), "--config-name", "byol"]
    result = subprocess.run([*command, *overrides], capture_output=True, text=True, timeout=600, cwd=tmp_path)
    log = result.stdout + result.stderr
    if case == "switch":
        assert result.returncode == 0, log[-3000:]
        assert "[jointaug] joint views on (crop β=0), pairs [(0, 1)]" in log
        assert "[jointaug] guard: train views are joint" in log
    elif case == "schedule":
        assert result.returncode == 0, log[-3000:]
        assert "[jointaug] joint views on (crop β step 2, then -2 at 1, 0.5 at 2), pairs [(0, 1)]" in log
        for epoch, beta in ((0, 2), (1, -2), (2, 0.5)):
            assert f"[jointaug] epoch {epoch}: crop β={beta:g}" in log
    else:
        assert result.returncode != 0 and "solo-learn ignores a `jointaug:` block" in log


# --- the README's blocks, verbatim ------------------------------------------------------------------------


def _with_readme_defaults(path: Path) -> Path:
    """``path``'s ``defaults:`` list replaced by the README's block (which names ``asymmetric.yaml``)."""
    from readme_blocks import of_kind

    (block,) = of_kind("solo-defaults")
    (path.parent / "augmentations" / "asymmetric.yaml").write_text(entry(1, blur=1.0) + "\n" + entry(1, blur=0.1))
    text = path.read_text()
    start = text.index("defaults:\n")
    end = text.index("\n\n", start) + 1
    path.write_text(text[:start] + block.text + text[end:])
    return path


def test_readme_defaults_block_switches_a_solo_yaml(tmp_path):
    path = _with_readme_defaults(write_recipe(tmp_path, switch=None))
    cfg = compose_recipe(path)
    assert cfg.hydra.callbacks.jointaug._target_ == TARGET
    transform = build_pretrain_transform(cfg)
    assert abs(p_ratio_gt_2(transform, n=900)[0] - JC0) < 0.04


def test_readme_body_block_sets_beta_in_the_yaml(tmp_path):
    from readme_blocks import of_kind

    (body,) = of_kind("solo-body", exact=True)
    path = _with_readme_defaults(write_recipe(tmp_path, switch=None, body=body.text))
    transform = build_pretrain_transform(compose_recipe(path))
    assert transform.specs["crop"].beta == -1.0


def test_readme_position_block_places_every_crop(tmp_path):
    """The README's `position` body block, verbatim: ContrastiveCrop's placement with JointCrop(0) in solo's views."""
    from readme_blocks import of_kind

    (body,) = of_kind("solo-body", "position", exact=True)
    transform = build_pretrain_transform(compose_recipe(write_recipe(tmp_path, body=body.text)))
    assert transform.options.position.alpha == 0.6 and transform.specs["crop"].beta == 0.0
    crops = [s for view in transform.draw().views for s in view.slices if hasattr(s, "box")]
    assert crops and all(s.box == (0.0, 0.0, 1.0, 1.0) for s in crops)
    semantic = compose_recipe(write_recipe(tmp_path, name="s"), "+jointaug.position={alpha:0.6,boxes:semantic}")
    with pytest.raises(UnsupportedOptionError, match="solo-learn cannot honour position boxes='semantic'"):
        build_pretrain_transform(semantic)
