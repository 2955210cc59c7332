"""The "Mistakes and what they print" table at the end of each library page (``docs/pages/libraries/``).

Each row's first cell names a mistake; :data:`CASES` maps it, verbatim, to a function that commits it. Every
row must have a case and every case a row; each case runs, and what it raises (for a ``UserWarning`` row: what
it warns, raising nothing) must begin with the first code span of the row's second cell, type name included,
so a page cannot drift from the code. The mm cases build mmengine's own Runner (``tools/train.py``'s way) and,
where the page says so, check that ``jointaug verify`` stops with the same message.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
from images import write_image_folder
from torchvision import transforms as T

PAGES = Path(__file__).resolve().parents[1] / "docs" / "pages" / "libraries"
HEADING = "## Mistakes and what they print"
HEADER = "| mistake | what happens |"
Case = Callable[[Path], Any]


def page_table(page: str) -> dict[str, str]:
    """The mistakes table of ``page`` (the last section of the page): first cell -> second cell."""
    text = (PAGES / f"{page}.md").read_text()
    assert text.count(HEADING) == 1, f"{page}.md needs exactly one '{HEADING}' section"
    section = text.split(HEADING, 1)[1]
    assert "\n## " not in section, f"'{HEADING}' must be the last section of {page}.md"
    lines = section[section.index(HEADER) :].split("\n\n", 1)[0].strip().splitlines()
    assert lines[1].replace(" ", "") == "|---|---|", lines[1]
    rows: dict[str, str] = {}
    for line in lines[2:]:
        cells = line.strip().removeprefix("|").removesuffix("|").split(" | ")
        assert len(cells) == 2, f"{page}.md: a row needs two cells: {line}"
        assert cells[0].strip() not in rows, f"{page}.md: row listed twice: {cells[0]}"
        rows[cells[0].strip()] = cells[1].strip()
    return rows


def said(cell: str) -> str:
    """The first code span of a cell, a trailing ``...`` (the message goes on) removed."""
    found = re.search(r"(`+)(.+?)\1", cell)
    assert found, f"no code span in: {cell}"
    return found.group(2).strip().removesuffix("...").rstrip()


def outcome(case: Case, tmp_path: Path) -> tuple[str | None, list[str]]:
    """``('Type: message' raised by ``case`` or None, ['Category: message' of each warning])``."""
    error = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            case(tmp_path)
        except AssertionError:  # a case's own check (verify agreeing with the Runner) failed
            raise
        except Exception as err:
            error = f"{type(err).__name__}: {err}"
    return error, [f"{w.category.__name__}: {w.message}" for w in caught]


def needs(module: str, case: Case) -> Case:
    """``case``, skipped where ``module`` is not installed."""

    def run(tmp: Path) -> Any:
        pytest.importorskip(module)
        return case(tmp)

    return run


# --- lightly --------------------------------------------------------------------------------------------------


def _simclr(**kwargs: Any) -> Any:
    from jointaug_plugins.adapters.lightly import JointSimCLRTransform

    return JointSimCLRTransform(**kwargs)


def _lightly_views(*views: Any, **options: Any) -> Any:
    from lightly.transforms.multi_view_transform import MultiViewTransform

    from jointaug_plugins import jointify

    return jointify(MultiViewTransform(list(views)), **options)


def _lightly_unindexed(tmp: Path) -> None:
    from lightly.data import LightlyDataset

    transform = _simclr(input_size=32, crop=0.0, reproducible=True, seed=0)
    LightlyDataset(input_dir=str(write_image_folder(tmp / "images", 2)), transform=transform)[0]


def _one_lightly_view(_: Path) -> None:
    from lightly.transforms import SimCLRTransform

    from jointaug_plugins import jointify

    jointify(SimCLRTransform().transforms[0])


def _moco_v1_blur(_: Path) -> None:
    from jointaug_plugins.adapters.lightly import JointMoCoV1Transform

    JointMoCoV1Transform(blur=0.0)


LIGHTLY: dict[str, Case] = {
    "a misspelled joint option: `JointSimCLRTransform(input_size=32, crop=0.0, blurr=0.0)`": lambda _: _simclr(
        input_size=32, crop=0.0, blurr=0.0
    ),
    "a misspelled lightly argument: `JointSimCLRTransform(input_sze=32)`": lambda _: _simclr(input_sze=32),
    "a crop range too narrow to draw jointly: `JointSimCLRTransform(min_scale=0.95)` (crop on by default)": (
        lambda _: _simclr(min_scale=0.95)
    ),
    "`blur=0.0` on views that hold no Gaussian blur: `jointify(MultiViewTransform([RandomResizedCrop(32)] * 2), "
    "blur=0.0)`": lambda _: _lightly_views(T.RandomResizedCrop(32), T.RandomResizedCrop(32), blur=0.0),
    "`blur=0.0` where every view blurs with probability 0: `JointMoCoV1Transform(blur=0.0)` (lightly's MoCo v1 has "
    "`gaussian_blur=0.0`; likewise `color=0.0` with `cj_prob=0.0`)": _moco_v1_blur,
    "paired views whose crops differ: `jointify(MultiViewTransform([RandomResizedCrop(32, scale=(0.2, 1.0)), "
    "RandomResizedCrop(32)]))`": lambda _: _lightly_views(
        T.RandomResizedCrop(32, scale=(0.2, 1.0)), T.RandomResizedCrop(32)
    ),
    '`multicrop="local"` on a two-view recipe: `JointSimCLRTransform(multicrop="local")`': lambda _: _simclr(
        multicrop="local"
    ),
    "`reproducible=True, seed=0` with a `LightlyDataset` not wrapped in `jointaug_plugins.indexed`": (
        _lightly_unindexed
    ),
    "one view's transform given to `jointify`: `jointify(SimCLRTransform().transforms[0])`": _one_lightly_view,
}

# --- mmpretrain (and the mm data preprocessor of the kornia page) ---------------------------------------------

_LINE = "custom_imports = dict(imports=['jointaug_plugins.adapters.{}'], allow_failed_imports=False)\n"
PRETRAIN = _LINE.format("mmpretrain")
_VIEWS = (
    "train_dataloader = dict(dataset=dict(pipeline=[dict(type='LoadImageFromFile'),\n"
    "    dict(type='MultiView', num_views=2, transforms=[[{}]]), dict(type='PackInputs')]))\n"
)
_CROP = "dict(type='RandomResizedCrop', scale=224, backend='pillow')"
_BLUR_STD_1 = "dict(type='GaussianBlur', magnitude_range=(0.1, 2.0), magnitude_std=1, prob=0.5)"
_PREPROCESSOR = _LINE.format("mm.preprocessor") + (
    "model = dict(data_preprocessor=dict(type='JointViewsDataPreprocessor',\n"
    "    views=dict(type='SimCLRBatchViews', input_size=224, normalize=None, crop=0.0)))\n"
)


def _mm(base: str, body: str, verify: bool = True, warns: str | None = None) -> Case:
    """Build mmengine's Runner from a config inheriting ``base``'s SimCLR with ``body`` at its end (raising what
    it raises); with ``verify``, ``jointaug verify`` must stop with the same message; with ``warns``, the build
    must warn with that text."""

    def run(tmp: Path) -> None:
        pytest.importorskip(base)
        from mm_runner import runner_error, user_config

        from jointaug_plugins.tools.verify import VerifyTargetError, resolve_target

        config = user_config(tmp, base, "simclr", body, "mistake")
        with pytest.warns(UserWarning, match=warns) if warns else warnings.catch_warnings():
            try:  # mmengine raises a failed custom import while reading the config, before any Runner
                error = runner_error(config, tmp / "work")
            except Exception as err:
                error = err
        if verify:
            try:
                resolve_target(str(config))
                verified = None
            except VerifyTargetError as err:
                verified = str(err)
            assert verified == (None if error is None else f"{type(error).__name__}: {error}"), verified
        if error is not None:
            raise error

    return run


MMPRETRAIN: dict[str, Case] = {
    "the mmpretrain line at the end of an mmselfsup config (`_base_ = 'mmselfsup::...'`)": _mm("mmselfsup", PRETRAIN),
    "the adapter's name misspelled under `allow_failed_imports=False` (`'jointaug_plugins.adapters.mmpretrian'`)": (
        _mm("mmpretrain", _LINE.format("mmpretrian"))
    ),
    "`jointaug = dict(crop=0.0, blur=0.0)` where the views' `GaussianBlur` has `magnitude_std=1` (only `'inf'`, a "
    "uniform magnitude, can be drawn jointly)": _mm(
        "mmpretrain",
        _VIEWS.format(f"{_CROP}, {_BLUR_STD_1}") + PRETRAIN + "jointaug = dict(crop=0.0, blur=0.0)\n",
        warns="magnitude_std=1",
    ),
    "a crop range too narrow to draw jointly, `RandomResizedCrop(scale=224, crop_ratio_range=(0.95, 1.0))`": _mm(
        "mmpretrain",
        _VIEWS.format("dict(type='RandomResizedCrop', scale=224, crop_ratio_range=(0.95, 1.0))") + PRETRAIN,
    ),
    "mmselfsup's crop arguments in an mmpretrain view, `RandomResizedCrop(size=224)` (mmpretrain's is `scale=224`)": (
        _mm("mmpretrain", _VIEWS.format("dict(type='RandomResizedCrop', size=224)") + PRETRAIN)
    ),
    "`jointaug = dict(crop=0.0, reproducible=True)` without a `seed`": _mm(
        "mmpretrain", PRETRAIN + "jointaug = dict(crop=0.0, reproducible=True)\n"
    ),
    "`jointaug = dict(crop=0.0, multicrop='local')` on SimCLR's two views": _mm(
        "mmpretrain", PRETRAIN + "jointaug = dict(crop=0.0, multicrop='local')\n"
    ),
}

# --- DALI -----------------------------------------------------------------------------------------------------


def _dali(*views: Any, **options: Any) -> Any:
    from jointaug_plugins.adapters.dali import DALIView, JointDALIViews

    view = DALIView(224, color_jitter=(0.4, 0.4, 0.2, 0.1), blur=0.5)
    return JointDALIViews(list(views) or [view, view], **options)


def _dali_view(**kwargs: Any) -> Any:
    from jointaug_plugins.adapters.dali import DALIView

    return DALIView(224, **kwargs)


def _dali_device(tmp: Path) -> None:
    from nvidia.dali import fn, pipeline_def

    views, root = _dali(crop=0.0), write_image_folder(tmp / "images", 2)

    @pipeline_def(batch_size=2, num_threads=1, device_id=None)
    def pipeline():
        jpegs, _ = fn.readers.file(file_root=str(root))
        return tuple(views(jpegs, device="cuda"))

    pipeline().build()


DALI: dict[str, Case] = {
    "a misspelled joint option: `JointDALIViews([view, view], crop=0.0, blurr=0.0)`": lambda _: _dali(
        crop=0.0, blurr=0.0
    ),
    "a misspelled `DALIView` argument: `DALIView(224, colour_jitter=(0.4, 0.4, 0.2, 0.1))`": lambda _: _dali_view(
        colour_jitter=(0.4, 0.4, 0.2, 0.1)
    ),
    "`reproducible=True` (with a `seed`)": lambda _: _dali(crop=0.0, reproducible=True, seed=0),
    'semantic boxes, `position=dict(boxes="semantic")`': lambda _: _dali(crop=0.0, position=dict(boxes="semantic")),
    "`blur=0.0` on views that never blur (`DALIView`'s `blur` probability is 0 unless given)": lambda _: _dali(
        _dali_view(), _dali_view(), blur=0.0
    ),
    "a crop range too narrow to draw jointly: `DALIView(224, scale=(0.95, 1.0))` with crop on": lambda _: _dali(
        _dali_view(scale=(0.95, 1.0)), _dali_view(scale=(0.95, 1.0)), crop=0.0
    ),
    '`multicrop="local"` on views given without `layout=[2, n_local]`': lambda _: _dali(crop=0.0, multicrop="local"),
    'torch\'s device name inside the pipeline: `views(jpegs, device="cuda")`': _dali_device,
}
DALI = {k: needs("nvidia.dali", v) for k, v in DALI.items()}

# --- DINO multi-crop: JointMultiCrop and the DINO, DINOv2, DINOv3 drop-ins ------------------------------------


def _dinov2(*args: Any, **kwargs: Any) -> Any:
    from jointaug_plugins.adapters.dinov2 import DataAugmentationDINO

    return DataAugmentationDINO(*(args or ((0.32, 1.0), (0.05, 0.32), 8)), **kwargs)


def _multicrop(**kwargs: Any) -> Any:
    from jointaug_plugins import JointMultiCrop

    return JointMultiCrop(**kwargs)


def _dino_reference(_: Path) -> None:
    from jointaug_plugins.adapters.dino import DataAugmentationDINO

    DataAugmentationDINO((0.95, 1.0), (0.05, 0.4), 8)


def _dinov3_shared_jitter(_: Path) -> None:
    from jointaug_plugins.adapters.dinov3 import DataAugmentationDINO

    DataAugmentationDINO((0.32, 1.0), (0.05, 0.32), 8, share_color_jitter=True, color=0.0)


def _dino_unindexed(tmp: Path) -> None:
    from torchvision.datasets import ImageFolder

    transform = _dinov2(crop=0.0, reproducible=True, seed=0)
    ImageFolder(str(write_image_folder(tmp / "images", 2)), transform=transform)[0]


DINO: dict[str, Case] = {
    "a misspelled joint option: `DataAugmentationDINO((0.32, 1.0), (0.05, 0.32), 8, crop=0.0, blurr=0.0)`": (
        lambda _: _dinov2(crop=0.0, blurr=0.0)
    ),
    "a misspelled upstream argument: `global_crop_size=224` (upstream's is `global_crops_size`)": lambda _: _dinov2(
        global_crop_size=224
    ),
    '`multicrop="local"` with `local_crops_number=0`': lambda _: _dinov2(
        (0.32, 1.0), (0.05, 0.32), 0, multicrop="local"
    ),
    '`multicrop="local"` with a single local crop: `JointMultiCrop(n_local=1, multicrop="local")`': (
        lambda _: _multicrop(n_local=1, multicrop="local")
    ),
    "a global crop range too narrow to draw jointly: the reference DINO drop-in with `global_crops_scale=(0.95, "
    "1.0)`": _dino_reference,
    "`color=0.0` on the DINOv3 drop-in with `share_color_jitter=True` (one jitter, applied to the image before any "
    "crop: nothing to pair)": _dinov3_shared_jitter,
    "`reproducible=True, seed=0` with a dataset not wrapped in `jointaug_plugins.indexed`": _dino_unindexed,
}

# --- timm -----------------------------------------------------------------------------------------------------


def _timm(**kwargs: Any) -> Any:
    from timm.data import create_transform

    return create_transform(224, **{"is_training": True, **kwargs})


def _timm_views(views: Any, **options: Any) -> Any:
    from jointaug_plugins import jointify

    return jointify(views, **options)


def _timm_unindexed(tmp: Path) -> None:
    from timm.data import ImageDataset

    views = _timm_views([_timm(), _timm()], crop=0.0, reproducible=True, seed=0)
    ImageDataset(str(write_image_folder(tmp / "images", 2)), transform=views)[0]


TIMM: dict[str, Case] = {
    "a misspelled joint option: `jointify([make(), make()], crop=0.0, blurr=0.0)`": lambda _: _timm_views(
        [_timm(), _timm()], crop=0.0, blurr=0.0
    ),
    "`blur=0.0` (timm's training pipelines hold no Gaussian blur)": lambda _: _timm_views([_timm(), _timm()], blur=0.0),
    "`color=0.0` on pipelines made with `auto_augment=...` (timm then leaves out its colour jitter)": (
        lambda _: _timm_views([_timm(auto_augment="rand-m9-mstd0.5") for _ in range(2)], color=0.0)
    ),
    "a crop range too narrow to draw jointly: `make(scale=(0.95, 1.0))`": lambda _: _timm_views(
        [_timm(scale=(0.95, 1.0)) for _ in range(2)], crop=0.0
    ),
    "evaluation pipelines, `create_transform(224, is_training=False)` (no random crop)": lambda _: _timm_views(
        [_timm(is_training=False) for _ in range(2)], crop=0.0
    ),
    "one pipeline instead of a list of views: `jointify(make(), crop=0.0)`": lambda _: _timm_views(_timm(), crop=0.0),
    "pipelines made with `separate=True` (each a tuple of three stages, not one callable)": lambda _: _timm_views(
        [_timm(separate=True) for _ in range(2)], crop=0.0
    ),
    "`reproducible=True, seed=0` with timm's `ImageDataset` not wrapped in `jointaug_plugins.indexed`": (
        _timm_unindexed
    ),
}
TIMM = {k: needs("timm", v) for k, v in TIMM.items()}

# --- kornia ---------------------------------------------------------------------------------------------------


def _kornia_views(*ops: Any, **options: Any) -> Any:
    import kornia.augmentation as K

    from jointaug_plugins import jointify

    view = K.AugmentationSequential(*(ops or (K.RandomResizedCrop((96, 96)),)))
    return jointify([view, view], **options)


def _k(name: str, *args: Any, **kwargs: Any) -> Any:
    import kornia.augmentation as K

    return getattr(K, name)(*args, **kwargs)


def _kornia_random_apply(_: Path) -> None:
    from jointaug_plugins import jointify

    view = _k("AugmentationSequential", _k("RandomResizedCrop", (96, 96)), _k("RandomHorizontalFlip"), random_apply=1)
    jointify([view, view], crop=0.0)


def _kornia_bands(_: Path) -> None:
    from jointaug_plugins.adapters.kornia import SimCLRBatchViews

    batch = torch.randint(0, 65536, (4, 13, 48, 48), dtype=torch.int32).to(torch.uint16)
    SimCLRBatchViews(input_size=32, crop=0.0)(batch)


def _simclr_batch(**kwargs: Any) -> Any:
    from jointaug_plugins.adapters.kornia import SimCLRBatchViews

    return SimCLRBatchViews(**kwargs)


KORNIA: dict[str, Case] = {
    "a misspelled joint option: `jointify([view, view], crop=0.0, blurr=0.0)`": lambda _: _kornia_views(
        crop=0.0, blurr=0.0
    ),
    "a misspelled recipe argument: `SimCLRBatchViews(input_sze=96)`": lambda _: _simclr_batch(input_sze=96),
    "a batch-level coin: `K.RandomHorizontalFlip(p_batch=0.5)` in a view": lambda _: _kornia_views(
        _k("RandomResizedCrop", (96, 96)), _k("RandomHorizontalFlip", p_batch=0.5), crop=0.0
    ),
    "one draw for the whole batch: `same_on_batch=True` on any op of a view, the crop included: "
    "`K.RandomResizedCrop((96, 96), same_on_batch=True)`": lambda _: _kornia_views(
        _k("RandomResizedCrop", (96, 96), same_on_batch=True), crop=0.0
    ),
    "a crop that is not always applied: `K.RandomResizedCrop((96, 96), p=0.5)`": lambda _: _kornia_views(
        _k("RandomResizedCrop", (96, 96), p=0.5), crop=0.0
    ),
    "ops picked at random per batch: `K.AugmentationSequential(crop, K.RandomHorizontalFlip(), random_apply=1)`": (
        _kornia_random_apply
    ),
    "saturation or hue jitter on a batch that is not RGB (a 13-band `uint16` batch through `SimCLRBatchViews`)": (
        _kornia_bands
    ),
}
KORNIA = {k: needs("kornia", v) for k, v in KORNIA.items()}
# The mm data preprocessor: the Runner refuses it, and jointaug verify with the same message.
KORNIA[
    "the data preprocessor on a config whose pipeline still has `MultiView` (mmselfsup's SimCLR with only the two "
    "preprocessor lines)"
] = _mm("mmselfsup", _PREPROCESSOR)

CASES: dict[str, dict[str, Case]] = {
    "lightly": {k: needs("lightly", v) for k, v in LIGHTLY.items()},
    "mmpretrain": MMPRETRAIN,
    "dali": DALI,
    "dino": DINO,
    "timm": TIMM,
    "kornia": KORNIA,
}


@pytest.mark.parametrize("page", list(CASES))
def test_every_row_has_a_case_and_every_case_a_row(page):
    rows = page_table(page)
    assert 4 <= len(rows) <= 9, f"{page}.md: {len(rows)} rows"
    assert sorted(rows) == sorted(CASES[page]), set(rows) ^ set(CASES[page])


@pytest.mark.parametrize("page", list(CASES))
def test_each_cell_quotes_a_type_and_the_beginning_of_a_message(page):
    for row, cell in page_table(page).items():
        quoted = said(cell)
        assert re.match(r"[A-Z]\w*(Error|Warning): \S", quoted), (row, quoted)
        assert len(quoted) >= 40, (row, quoted)


@pytest.mark.parametrize(
    ("page", "row"), [(page, row) for page, cases in CASES.items() for row in cases], ids=lambda v: str(v)[:40]
)
def test_each_mistake_prints_what_its_row_says(page, row, tmp_path):
    cells = page_table(page)
    assert row in cells, f"{page}.md has no row {row!r}"
    expected = said(cells[row])
    error, warned = outcome(CASES[page][row], tmp_path)
    if expected.split(":", 1)[0].endswith("Warning"):
        assert error is None, error
        assert any(w.startswith(expected) for w in warned), (expected, warned)
    else:
        assert error is not None, f"{row}: nothing raised (warnings: {warned})"
        assert error.startswith(expected), (expected, error)
