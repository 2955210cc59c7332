"""Build solo-learn's pretraining views, made joint: the per-entry pipelines and the multi-view transform."""

from __future__ import annotations

import copy
import importlib
import importlib.util
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

from torchvision import transforms as T

from ...jointify import jointify_view
from ...options import JointOptions
from ...transforms.blur import JointGaussianBlur
from ...transforms.views import JointViews
from .checks import check_data_format, check_switch_has_effect
from .dali import SoloDALIEntry, build_transform_pipeline_dali, full_transform
from .layout import dataset_stats
from .options import get, parse_block
from .order import check_group_order

SOLO_MODULE = "solo.data.pretrain_dataloader"


def solo_available() -> bool:
    """Whether solo-learn itself is importable."""
    return importlib.util.find_spec("solo") is not None


class JointFullTransformPipeline(JointViews):
    """solo-learn's ``FullTransformPipeline`` with joint views: image -> list of view tensors, in solo's order."""


def joint_pipeline(entries: Sequence[tuple[Callable, int]], options: JointOptions | None) -> JointFullTransformPipeline:
    """Views from ``(per-view pipeline, num_crops)`` entries, made joint under ``options`` (the parsed ``jointaug``
    block; ``None``: independent views). The layout is the entries' ``num_crops``, so the views pair as
    :meth:`JointOptions.pairs_for <jointaug_plugins.JointOptions.pairs_for>` says (the one default policy)."""
    views = [pipeline for pipeline, count in entries for _ in range(int(count))]
    layout = [int(count) for _, count in entries]
    if options is None:
        return JointFullTransformPipeline(views, crop=None, layout=layout)
    # Swap the views' transforms (each view its own copy, as jointify does) and build the coordinator once.
    return JointFullTransformPipeline(
        [jointify_view(copy.deepcopy(v), options) for v in views], options, layout=layout
    )


def _prob(node: Any, key: str) -> float:
    return float(get(get(node, key, {}), "prob", 0.0) or 0.0)


def build_view_pipeline(dataset: str, aug_cfg: Any) -> Callable:
    """One augmentation entry's single-view pipeline: solo's own ``build_transform_pipeline`` when
    solo-learn is importable, else the same torchvision operations in solo's order."""
    if solo_available():
        return importlib.import_module(SOLO_MODULE).build_transform_pipeline(dataset, aug_cfg)
    mean, std = dataset_stats(dataset, aug_cfg)
    size = int(get(aug_cfg, "crop_size"))
    rrc = get(aug_cfg, "rrc", {})
    ops: list[Any] = []
    if get(rrc, "enabled", True):
        scale = (float(get(rrc, "crop_min_scale", 0.08)), float(get(rrc, "crop_max_scale", 1.0)))
        ops.append(T.RandomResizedCrop(size, scale=scale, interpolation=T.InterpolationMode.BICUBIC))
    else:
        ops.append(T.Resize(size, interpolation=T.InterpolationMode.BICUBIC))
    jitter = get(aug_cfg, "color_jitter", {})
    if _prob(aug_cfg, "color_jitter"):
        factors = [get(jitter, k) for k in ("brightness", "contrast", "saturation", "hue")]
        ops.append(T.RandomApply([T.ColorJitter(*factors)], p=_prob(aug_cfg, "color_jitter")))
    if _prob(aug_cfg, "grayscale"):
        ops.append(T.RandomGrayscale(p=_prob(aug_cfg, "grayscale")))
    if _prob(aug_cfg, "gaussian_blur"):
        # solo blurs PIL images with ImageFilter.GaussianBlur(radius ~ U(0.1, 2.0)): JointGaussianBlur's PIL path.
        ops.append(T.RandomApply([JointGaussianBlur(sigma=(0.1, 2.0), p=1.0)], p=_prob(aug_cfg, "gaussian_blur")))
    if _prob(aug_cfg, "solarization"):
        ops.append(T.RandomApply([T.RandomSolarize(threshold=128, p=1.0)], p=_prob(aug_cfg, "solarization")))
    if _prob(aug_cfg, "equalization"):
        ops.append(T.RandomApply([T.RandomEqualize(p=1.0)], p=_prob(aug_cfg, "equalization")))
    if _prob(aug_cfg, "horizontal_flip"):
        ops.append(T.RandomHorizontalFlip(p=_prob(aug_cfg, "horizontal_flip")))
    ops += [T.ToTensor(), T.Normalize(mean=mean, std=std)]
    return T.Compose(ops)


def check_config(cfg: Any) -> JointOptions | None:
    """All build-time checks of a solo config, the ones the hydra job callback runs; returns the parsed ``jointaug``
    block (``None``: the config has none).

    The block is parsed once (:func:`~.options.parse_block`); the switch must have an effect
    (:meth:`~jointaug_plugins.JointOptions.require_effect`). Raises ``ValueError`` / ``TypeError`` for a bad
    ``jointaug`` block, an option solo-learn cannot honour, a DALI entry DALI cannot make, a switch that would
    have no effect, and (when ``cfg`` carries its ``hydra`` node) a value in the YAML body that the ``jointaug``
    group line, placed after ``- _self_``, replaced. Warns when a view is left unpaired.
    """
    options = parse_block(get(cfg, "jointaug"))
    if options is None:
        return None
    options.require_effect()
    check_group_order(cfg)
    check_data_format(cfg, options)
    augmentations = get(cfg, "augmentations")
    if augmentations:
        check_switch_has_effect(augmentations, options)
    return options


def plain_builders() -> dict[str, Callable[..., Any]]:
    """What ``main_pretrain`` builds its views with where the switch replaced nothing: the entries' pipelines
    (solo's own ``build_transform_pipeline`` when solo-learn is importable) and independent views."""

    def plain_full_transform(transforms: Sequence[Any]) -> Any:
        entries = [(t.transform, t.num_crops) for t in transforms]
        if entries and all(isinstance(entry, SoloDALIEntry) for entry, _ in entries):
            return full_transform(entries, None)
        return joint_pipeline(entries, None)

    return {
        "build_transform_pipeline": build_view_pipeline,
        "build_transform_pipeline_dali": build_transform_pipeline_dali,
        "FullTransformPipeline": plain_full_transform,
    }


def build_views(cfg: Any, builders: Mapping[str, Callable[..., Any]]) -> Any:
    """The train transform as ``main_pretrain.py`` builds it from ``cfg.augmentations``, each builder it calls
    taken from ``builders`` where given (the ones the hydra callback installs), else :func:`plain_builders`:
    per entry ``build_transform_pipeline`` (``build_transform_pipeline_dali`` under ``data.format: dali``),
    wrapped as ``NCropAugmentation``, then ``FullTransformPipeline`` of them all."""
    augmentations = get(cfg, "augmentations")
    if not augmentations:
        raise ValueError("cfg.augmentations must list at least one augmentation entry")
    use = {**plain_builders(), **builders}
    data = get(cfg, "data", {})
    dataset = get(data, "dataset")
    if get(data, "format") == "dali":
        device = get(get(cfg, "dali", {}), "device", "gpu")
        entries = [use["build_transform_pipeline_dali"](dataset, aug, device) for aug in augmentations]
    else:
        entries = [use["build_transform_pipeline"](dataset, aug) for aug in augmentations]
    crops = [NCrop(entry, int(get(aug, "num_crops"))) for entry, aug in zip(entries, augmentations)]
    return use["FullTransformPipeline"](crops)


class NCrop(NamedTuple):
    """solo's ``NCropAugmentation`` as its ``FullTransformPipeline`` reads it: a pipeline and its crop count."""

    transform: Any
    num_crops: int
