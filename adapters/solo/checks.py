"""Build-time checks: a switch that is set must take effect, or the build says so.

Errors (``ValueError``) where the switch would do nothing at all; warnings where it does less than asked.
"""

from __future__ import annotations

import importlib.util
import warnings
from collections.abc import Sequence
from typing import Any

from ...options import JointOptions
from .dali import dali_view
from .layout import layout_of
from .options import get

_KIND_SOURCE = {
    "crop": "rrc.enabled",
    "blur": "gaussian_blur.prob",
    "color": "color_jitter.prob",
}


def check_data_format(cfg: Any, options: JointOptions | None) -> None:
    """Under ``data.format: dali`` the joint views are made by DALI: DALI must be installed and every
    augmentation entry must have DALI operators (solo's DALI path has no equalization)."""
    data_format = get(get(cfg, "data", {}), "format", "image_folder")
    if options is None or data_format != "dali":
        return
    dataset = get(get(cfg, "data", {}), "dataset")
    for aug in get(cfg, "augmentations") or []:
        dali_view(dataset, aug)
    if importlib.util.find_spec("nvidia") is None or importlib.util.find_spec("nvidia.dali") is None:
        raise ValueError(
            "jointaug with data.format: dali needs NVIDIA DALI: pip install 'jointaug-plugins[dali]' "
            "(or solo-learn's own DALI requirement)"
        )


def _prob(aug: Any, key: str) -> float:
    return float(get(get(aug, key, {}), "prob", 0.0) or 0.0)


def _scale(aug: Any) -> tuple[float, float]:
    rrc = get(aug, "rrc", {})
    return float(get(rrc, "crop_min_scale", 0.08)), float(get(rrc, "crop_max_scale", 1.0))


def view_has(kind: str, aug: Any) -> bool:
    """Whether an augmentation entry's views contain the transform that ``kind`` makes joint."""
    if kind == "crop":
        return bool(get(get(aug, "rrc", {}), "enabled", True))
    if kind == "blur":
        return _prob(aug, "gaussian_blur") > 0
    if kind == "color":
        return _prob(aug, "color_jitter") > 0
    return True


def _warn(message: str) -> None:
    warnings.warn(message, UserWarning, stacklevel=3)


def check_switch_has_effect(augmentations: Sequence[Any], options: JointOptions) -> list[tuple[int, int]]:
    """Refuse a switch that has no effect on this recipe; warn where it has less effect than asked.

    Args:
        augmentations: solo's ``augmentations`` entries (``num_crops`` views each, in order).
        options: The parsed ``jointaug`` block (:func:`~.options.parse_block`).

    Returns:
        The joint pairs: ``options.pairs_for(layout)``, layout = the entries' ``num_crops``.

    Raises:
        ValueError: no pair at all, or a kind switched on (``crop``, ``blur``, ``color``) that no pair
            has in both of its views (e.g. JointBlur where every ``gaussian_blur.prob`` is 0).
    """
    layout = layout_of(augmentations)
    pairs = options.pairs_for(layout)
    entry_of = [i for i, count in enumerate(layout) for _ in range(count)]
    views = [augmentations[i] for i in entry_of]
    if not pairs:
        raise ValueError(
            f"jointaug is on but this recipe's {len(views)} view(s) form no joint pair "
            f"(num_crops per entry: {layout}, jointaug.multicrop: {options.multicrop}); nothing would be joint"
        )
    for kind, source in _KIND_SOURCE.items():
        if options.specs.get(kind) is None:
            continue
        effective = [(a, b) for a, b in pairs if view_has(kind, views[a]) and view_has(kind, views[b])]
        if not effective:
            found = [get(get(aug, source.split(".")[0], {}), source.split(".")[1]) for aug in augmentations]
            raise ValueError(
                f"jointaug.{kind} is on but no joint pair has that augmentation in both views "
                f"({source} per augmentation entry: {found}), so it would have no effect. "
                f"Turn it on in the augmentations file, or set jointaug.{kind}: null"
            )
        if len(effective) < len(pairs):
            missing = [p for p in pairs if p not in effective]
            _warn(f"jointaug.{kind} has no effect on pair(s) {missing}: one of their views has no {source}")
    if options.specs.get("crop") is not None:
        for a, b in pairs:
            if entry_of[a] != entry_of[b] and _scale(views[a]) != _scale(views[b]):
                _warn(
                    f"jointaug: pair ({a}, {b}) joins views of augmentation entries with different crop scales "
                    f"{_scale(views[a])} and {_scale(views[b])}; for a multi-crop recipe put its global crops "
                    "(>= 2) in the first entry and its local crops in the second"
                )
    return pairs
