"""Parse and validate the ``jointaug`` block of a solo-learn YAML (no solo-learn, no hydra needed)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...registry import joint_augmentations
from ...spec import parse_specs
from ...transforms.multicrop import multicrop_mode

JOINTAUG_KEYS = ("crop", "blur", "color", "crop_or_blur", "multicrop", "seed")
GROUP_LINE = "- jointaug: crop"


def plain(value: Any) -> Any:
    """An OmegaConf node as plain Python data (dicts and lists), anything else unchanged."""
    if type(value).__module__.startswith("omegaconf"):
        from omegaconf import OmegaConf

        return OmegaConf.to_container(value, resolve=True)
    return value


def get(node: Any, key: str, default: Any = None) -> Any:
    """``node[key]`` for mappings (``DictConfig`` included), ``node.key`` otherwise; ``default`` if absent."""
    if isinstance(node, Mapping) or hasattr(node, "keys"):
        try:
            return node.get(key, default)
        except Exception:  # omegaconf raises on some missing keys in struct mode
            return default
    return getattr(node, key, default)


def parse_jointaug(block: Any) -> dict[str, Any] | None:
    """Validate the YAML ``jointaug`` block; ``None`` when it is absent or switches nothing on.

    Args:
        block: The ``jointaug`` node: ``None`` or a mapping with keys ``crop``, ``blur``, ``color``
            (each ``None``, a β, or ``{beta, margin, sigma}``, ``beta`` a number or a schedule
            ``{start, end, shape, epochs}``; ``color`` also takes ``factors``, ``crop`` ``fallback`` and the
            preset ``published``),
            ``crop_or_blur`` (``None`` or a probability), ``multicrop`` (``null`` = views pair
            consecutively, or ``global``, ``local``, ``both`` for a multi-crop recipe's global / local
            entries) and ``seed`` (``None`` or an int).

    Returns:
        The options: ``crop``, ``blur``, ``color`` (``JointSpec`` or ``None``), ``multicrop`` (the mode or
        ``None``), ``crop_or_blur``, ``seed``.

    Raises:
        ValueError, TypeError: an unknown key or a value out of range, naming the key.
    """
    block = plain(block)
    if block is None:
        return None
    if not isinstance(block, Mapping):
        raise TypeError(f"jointaug must be a mapping with keys {', '.join(JOINTAUG_KEYS)}; got {block!r}")
    unknown = sorted(str(k) for k in block if k not in JOINTAUG_KEYS)
    if unknown:
        raise ValueError(f"jointaug has unknown key(s) {', '.join(unknown)}; valid keys: {', '.join(JOINTAUG_KEYS)}")
    kinds = ("crop", "blur", "color")
    options = {
        **parse_specs({kind: block.get(kind) for kind in kinds}, joint_augmentations(), prefix="jointaug."),
        "multicrop": multicrop_mode(block.get("multicrop"), default=None, name="jointaug.multicrop"),
        "crop_or_blur": block.get("crop_or_blur"),
        "seed": block.get("seed"),
    }
    if all(options[k] is None for k in ("crop", "blur", "color")):
        return None
    return options


def describe(options: Mapping[str, Any]) -> str:
    """A one-line summary of parsed options, e.g. ``crop β=0.0, blur β=-1.0``."""
    parts = [f"{kind} {options[kind].describe()}" for kind in ("crop", "blur", "color") if options[kind] is not None]
    if options.get("multicrop"):
        parts.append(f"multi-crop pairs: {options['multicrop']}")
    if options.get("crop_or_blur") is not None:
        parts.append(f"crop_or_blur={options['crop_or_blur']}")
    return ", ".join(parts)
