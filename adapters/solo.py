"""solo-learn adapter: joint views switched on in the YAML, solo-learn's own ``main_pretrain.py`` unchanged.

Add to an existing solo-learn YAML (e.g. ``scripts/pretrain/cifar/byol.yaml``)::

    jointaug:
      crop: {beta: 0.0}      # or a bare number; null = off
      blur: null
      color: null

    hydra:
      callbacks:
        jointaug:
          _target_: jointaug_plugins.adapters.solo.JointAugCallback

Hydra runs the callback inside the job, before ``main_pretrain.main``. It makes the
``FullTransformPipeline`` that ``main_pretrain`` builds from its ``augmentations`` joint:
symmetric recipes (one entry with ``num_crops: 2``) pair their two crops, asymmetric ones (two
entries, one crop each, e.g. BYOL) pair entry 1 with entry 2, and multi-crop recipes (a global and a
local entry) pair globals and/or locals as ``jointaug.crop.joint`` says. Each view keeps its own
entry's other augmentations. solo-learn is imported lazily: parsing the block and building the
views work where solo-learn is absent, from the same torchvision operations in solo's order.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from torchvision import transforms as T

from ..hookspecs import hookimpl
from ..registry import register_plugin
from ..spec import JointSpec
from ..transforms.blur import JointGaussianBlur
from ..transforms.jointify import jointify
from ..transforms.multicrop import MULTICROP_MODES, multicrop_pairs
from ..transforms.views import JointViews, consecutive_pairs

JOINTAUG_KEYS = ("crop", "blur", "color", "crop_or_blur", "seed")
_SOLO_MODULE = "solo.data.pretrain_dataloader"
_IMAGENET_STATS = ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
# Per-dataset normalisation solo-learn applies (its MEANS_N_STD); other datasets use the entry's mean/std.
_DATASET_STATS = {
    "cifar10": ((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)),
    "cifar100": ((0.5071, 0.4865, 0.4409), (0.2673, 0.2564, 0.2762)),
    "stl10": ((0.4914, 0.4823, 0.4466), (0.247, 0.243, 0.261)),
    "imagenet100": _IMAGENET_STATS,
    "imagenet": _IMAGENET_STATS,
}


def solo_available() -> bool:
    """Whether solo-learn itself is importable."""
    return importlib.util.find_spec("solo") is not None


def _plain(value: Any) -> Any:
    """An OmegaConf node as plain Python data (dicts and lists), anything else unchanged."""
    if type(value).__module__.startswith("omegaconf"):
        from omegaconf import OmegaConf

        return OmegaConf.to_container(value, resolve=True)
    return value


def _get(node: Any, key: str, default: Any = None) -> Any:
    if isinstance(node, Mapping):
        return node.get(key, default)
    return getattr(node, key, default)


def parse_jointaug(block: Any) -> dict[str, Any] | None:
    """Validate the YAML ``jointaug`` block; ``None`` when it is absent or switches nothing on.

    Returns the options: ``crop``, ``blur``, ``color`` (``JointSpec`` or ``None``), ``multicrop``
    (``"global"``/``"local"``/``"both"`` from ``crop.joint``, or ``None``), ``crop_or_blur``, ``seed``.
    """
    block = _plain(block)
    if block is None:
        return None
    if not isinstance(block, Mapping):
        raise TypeError(f"jointaug must be a mapping with keys {', '.join(JOINTAUG_KEYS)}; got {block!r}")
    unknown = sorted(str(k) for k in block if k not in JOINTAUG_KEYS)
    if unknown:
        raise ValueError(f"jointaug has unknown key(s) {', '.join(unknown)}; valid keys: {', '.join(JOINTAUG_KEYS)}")
    crop = JointSpec.parse(block.get("crop"), "jointaug.crop", ("joint",))
    multicrop = None
    if crop is not None and "joint" in crop.options:
        multicrop = crop.options["joint"]
        if multicrop not in MULTICROP_MODES:
            raise ValueError(f"jointaug.crop.joint must be one of {', '.join(MULTICROP_MODES)}; got {multicrop!r}")
        crop = JointSpec(crop.beta, crop.margin, crop.sigma)
    options = {
        "crop": crop,
        "blur": JointSpec.parse(block.get("blur"), "jointaug.blur"),
        "color": JointSpec.parse(block.get("color"), "jointaug.color", ("factors",)),
        "multicrop": multicrop,
        "crop_or_blur": block.get("crop_or_blur"),
        "seed": block.get("seed"),
    }
    if all(options[k] is None for k in ("crop", "blur", "color")):
        return None
    return options


def view_pairs(num_crops: Sequence[int], multicrop: str | None) -> list[tuple[int, int]]:
    """Joint pairs for solo's flattened views (entry 1's crops, then entry 2's ...).

    Without ``multicrop`` views pair consecutively: one entry with ``num_crops: 2`` gives (0, 1), two
    entries with one crop each give (0, 1) across the entries. With ``multicrop`` the first entry holds
    the global crops and the second the local ones.
    """
    if multicrop is None:
        return consecutive_pairs(sum(num_crops))
    if len(num_crops) != 2:
        raise ValueError(
            "jointaug.crop.joint (multi-crop) needs two augmentation entries, global then local; "
            f"got {len(num_crops)} entries"
        )
    return multicrop_pairs(num_crops[0], num_crops[1], multicrop)


class JointFullTransformPipeline(JointViews):
    """solo-learn's ``FullTransformPipeline`` with joint views: image -> list of view tensors, in solo's order."""


def joint_pipeline(
    entries: Sequence[tuple[Callable, int]], options: Mapping[str, Any] | None
) -> JointFullTransformPipeline:
    """Views from ``(per-view pipeline, num_crops)`` entries, made joint under ``options``."""
    views = [pipeline for pipeline, count in entries for _ in range(int(count))]
    if options is None:
        return JointFullTransformPipeline(views)
    kwargs = {
        "crop": options["crop"],
        "blur": options["blur"],
        "color": options["color"],
        "pairs": view_pairs([count for _, count in entries], options["multicrop"]),
        "crop_or_blur": options["crop_or_blur"],
        "seed": options["seed"],
    }
    return JointFullTransformPipeline(jointify(views, **kwargs).view_transforms, **kwargs)


def _prob(node: Any, key: str) -> float:
    return float(_get(_get(node, key, {}), "prob", 0.0) or 0.0)


def build_view_pipeline(dataset: str, aug_cfg: Any) -> Callable:
    """One augmentation entry's single-view pipeline: solo's own ``build_transform_pipeline`` when
    solo-learn is importable, else the same torchvision operations in solo's order."""
    if solo_available():
        return importlib.import_module(_SOLO_MODULE).build_transform_pipeline(dataset, aug_cfg)
    mean, std = _DATASET_STATS.get(
        dataset, (_get(aug_cfg, "mean", _IMAGENET_STATS[0]), _get(aug_cfg, "std", _IMAGENET_STATS[1]))
    )
    size = int(_get(aug_cfg, "crop_size"))
    rrc = _get(aug_cfg, "rrc", {})
    ops: list[Any] = []
    if _get(rrc, "enabled", True):
        scale = (float(_get(rrc, "crop_min_scale", 0.08)), float(_get(rrc, "crop_max_scale", 1.0)))
        ops.append(T.RandomResizedCrop(size, scale=scale, interpolation=T.InterpolationMode.BICUBIC))
    else:
        ops.append(T.Resize(size, interpolation=T.InterpolationMode.BICUBIC))
    jitter = _get(aug_cfg, "color_jitter", {})
    if _prob(aug_cfg, "color_jitter"):
        ops.append(
            T.RandomApply(
                [
                    T.ColorJitter(
                        _get(jitter, "brightness"),
                        _get(jitter, "contrast"),
                        _get(jitter, "saturation"),
                        _get(jitter, "hue"),
                    )
                ],
                p=_prob(aug_cfg, "color_jitter"),
            )
        )
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


def check_data_format(cfg: Any, options: Mapping[str, Any] | None) -> None:
    """Joint views are made in the PIL pipeline; refuse the DALI one clearly."""
    data_format = _get(_get(cfg, "data", {}), "format", "image_folder")
    if options is not None and data_format == "dali":
        raise ValueError(
            "jointaug works on solo-learn's PIL pipelines (data.format: image_folder or h5); "
            "data.format: dali builds its augmentations on the GPU and cannot be made joint. "
            "Set data.format: image_folder or remove the jointaug block."
        )


def build_pretrain_transform(cfg: Any) -> JointFullTransformPipeline:
    """The callable solo's pretraining dataset takes: image -> list of views, joint per ``cfg.jointaug``.

    Args:
        cfg: A solo-learn config (``augmentations`` list, ``data.dataset``, optional ``jointaug``).
    """
    augmentations = _get(cfg, "augmentations")
    if not augmentations:
        raise ValueError("cfg.augmentations must list at least one augmentation entry")
    options = parse_jointaug(_get(cfg, "jointaug"))
    check_data_format(cfg, options)
    dataset = _get(_get(cfg, "data", {}), "dataset")
    entries = [(build_view_pipeline(dataset, aug), int(_get(aug, "num_crops"))) for aug in augmentations]
    return joint_pipeline(entries, options)


def _joint_full_transform_pipeline(options: Mapping[str, Any]) -> Callable[[Sequence[Any]], JointFullTransformPipeline]:
    """A stand-in for solo's ``FullTransformPipeline`` class: takes its ``NCropAugmentation`` list."""

    def FullTransformPipeline(transforms: Sequence[Any]) -> JointFullTransformPipeline:
        return joint_pipeline([(t.transform, t.num_crops) for t in transforms], options)

    return FullTransformPipeline


try:
    from hydra.experimental.callback import Callback as _HydraCallback
except ImportError:  # pragma: no cover - hydra-core comes with the solo extra
    _HydraCallback = object


def _refusing(error: Exception) -> Callable[..., Any]:
    """A stand-in that raises ``error`` when the script builds its pipeline."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise error

    return refuse


class JointAugCallback(_HydraCallback):
    """Hydra job callback that switches solo-learn's ``main_pretrain.py`` to joint views.

    Listed under ``hydra.callbacks`` in the YAML; on job start it validates ``jointaug``, refuses DALI,
    and replaces ``FullTransformPipeline`` in the running script (``__main__``) and in solo's module,
    so the pipeline ``main_pretrain`` builds is a :class:`JointFullTransformPipeline`.

    Hydra only warns when a callback raises, so a bad ``jointaug`` block (or ``data.format: dali``)
    also replaces the pipeline builders with stand-ins that raise the same error: the run stops where
    ``main_pretrain`` builds its views instead of training without joint views.
    """

    _BUILDERS = ("FullTransformPipeline", "build_transform_pipeline_dali", "PretrainDALIDataModule")

    def on_job_start(self, config: Any, **kwargs: Any) -> None:
        try:
            options = parse_jointaug(_get(config, "jointaug"))
            check_data_format(config, options)
        except (TypeError, ValueError) as err:
            self._install({name: _refusing(err) for name in self._BUILDERS})
            raise
        if options is not None:
            self._install({"FullTransformPipeline": _joint_full_transform_pipeline(options)})

    @staticmethod
    def _install(replacements: Mapping[str, Callable[..., Any]]) -> None:
        targets = [sys.modules.get("__main__")]
        if solo_available():
            targets.append(importlib.import_module(_SOLO_MODULE))
        for module in targets:
            for name, replacement in replacements.items():
                if module is not None and hasattr(module, name):
                    setattr(module, name, replacement)


@hookimpl
def jointaug_replacement(transform: Any) -> Any:
    """solo-learn's own ``GaussianBlur`` (PIL radius drawn from ``sigma``) -> ``JointGaussianBlur``."""
    module = sys.modules.get(_SOLO_MODULE)
    blur_cls = getattr(module, "GaussianBlur", None) if module is not None else None
    if blur_cls is not None and isinstance(transform, blur_cls):
        return JointGaussianBlur(sigma=tuple(float(s) for s in transform.sigma), p=1.0)
    return None


register_plugin(sys.modules[__name__], name="jointaug-solo")

__all__ = [
    "JointAugCallback",
    "JointFullTransformPipeline",
    "build_pretrain_transform",
    "build_view_pipeline",
    "parse_jointaug",
    "view_pairs",
]
