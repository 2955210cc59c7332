"""Build solo-learn's pretraining views, made joint: the per-entry pipelines and the multi-view transform."""

from __future__ import annotations

import copy
import importlib
import importlib.util
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from torchvision import transforms as T

from ...jointify import jointify_view, resolve_specs
from ...transforms.blur import JointGaussianBlur
from ...transforms.views import JointViews
from .checks import check_data_format, check_switch_has_effect
from .dali import JointDALIFullTransform, build_transform_pipeline_dali, full_transform
from .layout import dataset_stats, view_pairs
from .options import get, parse_jointaug
from .order import check_group_order

SOLO_MODULE = "solo.data.pretrain_dataloader"


def solo_available() -> bool:
    """Whether solo-learn itself is importable."""
    return importlib.util.find_spec("solo") is not None


class JointFullTransformPipeline(JointViews):
    """solo-learn's ``FullTransformPipeline`` with joint views: image -> list of view tensors, in solo's order."""


def joint_pipeline(
    entries: Sequence[tuple[Callable, int]], options: Mapping[str, Any] | None
) -> JointFullTransformPipeline:
    """Views from ``(per-view pipeline, num_crops)`` entries, made joint under ``options``."""
    views = [pipeline for pipeline, count in entries for _ in range(int(count))]
    if options is None:
        return JointFullTransformPipeline(views, crop=None)
    kwargs = {
        "crop": options["crop"],
        "blur": options["blur"],
        "color": options["color"],
        "pairs": view_pairs([count for _, count in entries], options["multicrop"]),
        "crop_or_blur": options["crop_or_blur"],
        "seed": options["seed"],
    }
    # Swap the views' transforms (each view its own copy, as jointify does) and build the coordinator once.
    specs = resolve_specs({kind: options[kind] for kind in ("crop", "blur", "color")})
    return JointFullTransformPipeline([jointify_view(copy.deepcopy(v), specs) for v in views], **kwargs)


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


def check_config(cfg: Any) -> dict[str, Any] | None:
    """All build-time checks of a solo config; returns the parsed ``jointaug`` options (``None`` = off).

    Raises ``ValueError`` / ``TypeError`` for a bad ``jointaug`` block, a DALI entry DALI cannot make, a switch that
    would have no effect, and (when ``cfg`` carries its ``hydra`` node) a value in the YAML body that the
    ``jointaug`` group line, placed after ``- _self_``, replaced. Warns when a view is left unpaired.
    """
    options = parse_jointaug(get(cfg, "jointaug"))
    check_group_order(cfg)
    check_data_format(cfg, options)
    augmentations = get(cfg, "augmentations")
    if options is not None and augmentations:
        counts = [int(get(aug, "num_crops", 1)) for aug in augmentations]
        check_switch_has_effect(augmentations, options, view_pairs(counts, options["multicrop"]))
    return options


def build_pretrain_transform(cfg: Any) -> JointFullTransformPipeline | JointDALIFullTransform:
    """What solo's pretraining data path takes, joint per ``cfg.jointaug``: for ``data.format: image_folder``
    or ``h5`` the dataset's transform (image -> list of views); for ``data.format: dali`` the joint DALI views
    of solo's DALI entries (:class:`~.dali.JointDALIFullTransform`, device from ``dali.device``).

    Runs :func:`check_config` first, so what would stop ``main_pretrain`` stops here too.

    Args:
        cfg: A solo-learn config (``augmentations`` list, ``data.dataset``, optional ``jointaug``), e.g. as
            composed by hydra from a YAML with the ``- jointaug: crop`` line.
    """
    augmentations = get(cfg, "augmentations")
    if not augmentations:
        raise ValueError("cfg.augmentations must list at least one augmentation entry")
    options = check_config(cfg)
    data = get(cfg, "data", {})
    dataset = get(data, "dataset")
    if get(data, "format") == "dali":
        device = get(get(cfg, "dali", {}), "device", "gpu")
        dali_entries = [
            (build_transform_pipeline_dali(dataset, aug, device), int(get(aug, "num_crops"))) for aug in augmentations
        ]
        return full_transform(dali_entries, options)
    entries = [(build_view_pipeline(dataset, aug), int(get(aug, "num_crops"))) for aug in augmentations]
    return joint_pipeline(entries, options)
