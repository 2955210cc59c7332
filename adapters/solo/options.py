"""The ``jointaug`` block of a solo-learn YAML, read by the package's one parser (no solo-learn, no hydra needed).

The block's keys are the joint options of every entry point (see :class:`~jointaug_plugins.JointOptions`); they are
not listed again here. solo-learn refuses what it cannot honour (``reproducible``: its ``main_pretrain.py`` passes no
dataset index to the views), with the reason given by :meth:`JointOptions.check_door
<jointaug_plugins.JointOptions.check_door>`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...options import JointOptions

#: The name this door gives :meth:`JointOptions.check_door`.
DOOR = "solo-learn"
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


def parse_block(block: Any) -> JointOptions | None:
    """The ``jointaug`` block, parsed once by :meth:`JointOptions.parse <jointaug_plugins.JointOptions.parse>` and
    checked for this door; ``None`` when the config has no block (or ``jointaug: null``).

    An absent kind key takes the one default policy (``crop`` absent: JointCrop(0) on), as at every door.

    Raises:
        UnknownOptionError: a key that is no joint option (the message every door gives).
        UnsupportedOptionError: ``reproducible``, with the reason solo-learn cannot honour it.
        ValueError, TypeError: a value out of range, naming the key.
    """
    block = plain(block)
    if block is None:
        return None
    return JointOptions.parse(block).check_door(DOOR)
