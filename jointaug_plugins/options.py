"""The one option set: what a user switched on, parsed once by one parser and passed on.

Every entry point of this package (``JointViews``, ``jointify``, ``JointMultiCrop``, the lightly recipes and
collate functions, the mm ``jointaug = dict(...)`` switch and ``JointMultiView``, the solo-learn YAML block,
``JointDALIViews``, the DINO / DINOv2 / DINOv3 drop-ins, ``JointResizedCropBatch``) takes the same keys and
hands them to :meth:`JointOptions.parse` exactly once. The list of keys, their defaults, the error for an
unknown key and the reasons a door cannot honour a key exist here and nowhere else; the documentation's
option reference is generated from :data:`OPTION_DOCS`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ._checks import check_choice, check_int, check_probability, did_you_mean
from .placement import Position
from .spec import JointSpec, describe_specs, parse_specs

__all__ = [
    "DEFAULTS",
    "JOINT_KINDS",
    "MULTICROP_MODES",
    "OPTION_DOCS",
    "POLICY_KEYS",
    "JointOptions",
    "UnknownOptionError",
    "UnsupportedOptionError",
    "multicrop_pairs",
    "option_keys",
    "options_table",
]

#: The joint augmentations this package ships; plugins add kinds through the ``jointaug_augmentations`` hook.
JOINT_KINDS = ("crop", "blur", "color")
#: The keys that say how views pair and how draws are made (everything that is not a kind).
POLICY_KEYS = ("pairs", "multicrop", "crop_or_blur", "position", "seed", "reproducible")
MULTICROP_MODES = ("global", "local", "both")
#: The one default policy: JointCrop(0) on; blur, colour and every plugin kind off.
DEFAULTS: dict[str, Any] = {
    "crop": 0.0,
    "blur": None,
    "color": None,
    "pairs": None,
    "multicrop": None,
    "crop_or_blur": None,
    "position": None,
    "seed": None,
    "reproducible": False,
}

#: One line per key: what it takes and means (the docs' option reference is generated from this).
OPTION_DOCS: dict[str, str] = {
    "crop": "JointCrop: None (independent crops), a β (any finite real; 0 is the published JointCrop(0), > 0 "
    "easier pairs, < 0 harder), 'published' (the reference code's JointCrop(0)), or a dict of beta (a number or "
    "a schedule), margin, sigma, fallback.",
    "blur": "JointBlur (Gaussian-blur sigmas; each view keeps its own apply probability): None, a β, or a dict of "
    "beta, margin, sigma.",
    "color": "JointColor (brightness, contrast, saturation by ratio, hue by difference): None, a β, or a dict of "
    "beta, margin, sigma, factors.",
    "pairs": "Which views pair, as (i, j) index pairs, each view in at most one pair; None: the layout's default "
    "(consecutive (0, 1), (2, 3) ..., or multi-crop's pairs).",
    "multicrop": "For a multi-crop layout [n_global, n_local]: which pairs are joint, 'global' (globals among "
    "themselves), 'local' (locals among themselves, an odd last one independent) or 'both'; None: 'global'.",
    "crop_or_blur": "The paper's remedy for combining JointCrop and JointBlur (appendix F): None (both on every "
    "pair), or the probability in [0, 1] that a pair gets JointCrop, else JointBlur (needs both on).",
    "position": "Where every crop of every view lands: None (uniform, as torchvision places it) or a dict: alpha "
    "(ContrastiveCrop's center-suppressed Beta(α, α) placement; 1 uniform, 0.6 on ImageNet), box (h0, w0, h1, w1) in "
    "[0, 1] or boxes='semantic' (per image, from the model: warmup, interval, threshold, layer), correlation (the "
    "distance knob ρ in [-1, 1]: > 0 paired crops' centres closer, < 0 farther, None independent).",
    "seed": "None (streams derived from torch's seeding, different per DataLoader worker and rank) or an int >= 0.",
    "reproducible": "True: image i of epoch e gets views that are a function of (seed, e, i) alone (needs seed and "
    "a dataset index reaching the views).",
}

# Where a door cannot honour a key: the reason, said in one place.
_UNSUPPORTED: dict[str, dict[str, str]] = {
    "solo-learn": {
        "reproducible": "solo-learn's main_pretrain.py builds its dataset itself and passes no dataset index to the "
        "views, so a draw cannot be keyed on the image",
    },
    "DALI": {
        "reproducible": "a DALI pipeline's readers pass no dataset index to the draw, so it cannot be keyed on the "
        "image",
    },
    "JointResizedCropBatch": {
        "reproducible": "forward(images) receives no dataset indices; use JointViews.draw_batch(n, indices=...) "
        "and apply the boxes yourself",
    },
}
# Semantic boxes are looked up by the image's dataset index: the doors that cannot pass one refuse them.
_NO_INDEX = ("solo-learn", "DALI", "JointResizedCropBatch")


def options_table() -> str:
    """The option reference as a Markdown table (key, default, meaning), generated from :data:`DEFAULTS` and
    :data:`OPTION_DOCS`: the README and the docs print this, so they cannot drift from the parser."""
    rows = ["| option | default | values and meaning |", "|---|---|---|"]
    rows += [f"| `{key}` | `{DEFAULTS[key]!r}` | {OPTION_DOCS[key]} |" for key in DEFAULTS]
    return "\n".join(rows)


class UnknownOptionError(TypeError, ValueError):
    """A key that is not a joint option (a ``TypeError`` like a misspelled keyword, and a ``ValueError`` like a
    misspelled config key, so either ``except`` catches it)."""


class UnsupportedOptionError(ValueError):
    """A valid option that this entry point cannot honour."""


def _registered() -> dict[str, type]:
    from .registry import joint_augmentations

    return joint_augmentations()


def option_keys(kinds: Sequence[str] | None = None) -> tuple[str, ...]:
    """Every valid key: the built-in kinds, the plugin kinds (``kinds``, default the registered ones), then the
    policy keys."""
    kinds = list(_registered()) if kinds is None else list(kinds)
    extra = sorted(k for k in kinds if k not in JOINT_KINDS)
    return (*JOINT_KINDS, *extra, *POLICY_KEYS)


def unknown_option_message(key: Any, valid: Sequence[str]) -> str:
    """The message for an unknown key: the key, the closest valid key, the valid keys (one text for every door)."""
    return f"unknown joint option {key!r}{did_you_mean(key, valid)}; valid options: {', '.join(valid)}"


def _check_pairs(value: Any) -> tuple[tuple[int, int], ...] | None:
    if value is None:
        return None
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise TypeError(f"pairs must be None or a list of (i, j) view-index pairs, got {value!r}")
    out = []
    for pair in value:
        if isinstance(pair, (str, bytes)) or not isinstance(pair, Sequence) or len(pair) != 2:
            raise ValueError(f"pairs must hold (i, j) view-index pairs, got {pair!r}")
        out.append((check_int(pair[0], "pairs: a view index", 0), check_int(pair[1], "pairs: a view index", 0)))
    return tuple(out)


def is_multicrop_layout(layout: Sequence[int]) -> bool:
    """Whether views laid out as ``layout`` (views per group) are multi-crop: two groups, the first of >= 2
    global views, the second of >= 1 local view (``[2, 6]``; BYOL's ``[1, 1]`` is not)."""
    return len(layout) == 2 and layout[0] >= 2 and layout[1] >= 1


def multicrop_pairs(n_global: int, n_local: int, mode: str, name: str = "multicrop") -> list[tuple[int, int]]:
    """The joint pairs of a multi-crop layout ``[global_1, ..., global_G, local_1, ..., local_L]``.

    Globals pair as (0, 1), (2, 3) ...; locals as (G, G+1), (G+2, G+3) ...; an odd last view of either
    group is drawn independently.

    Args:
        n_global: Number of global views (``>= 0``), first in the layout.
        n_local: Number of local views (``>= 0``), after the globals.
        mode: ``"global"``, ``"local"`` or ``"both"``: which group's pairs are joint.
        name: The option's name in the error for any other mode.
    """
    check_choice(mode, name, MULTICROP_MODES)
    check_int(n_global, "n_global", 0)
    check_int(n_local, "n_local", 0)
    pairs = []
    if mode in ("global", "both"):
        pairs += [(i, i + 1) for i in range(0, n_global - 1, 2)]
    if mode in ("local", "both"):
        pairs += [(n_global + i, n_global + i + 1) for i in range(0, n_local - 1, 2)]
    return pairs


@dataclass(frozen=True)
class JointOptions:
    """What a user switched on, made by :meth:`parse` (the one parser) and passed on unchanged.

    Attributes:
        specs: Per kind (``crop``, ``blur``, ``color`` and every plugin kind named), its
            :class:`~jointaug_plugins.JointSpec`, or ``None`` where the views draw independently.
        pairs: Explicit view-index pairs, or ``None`` for the layout's default (see :meth:`pairs_for`).
        multicrop: ``"global"``, ``"local"``, ``"both"`` or ``None`` (``"global"`` on a multi-crop layout).
        crop_or_blur: ``None`` or the probability in [0, 1] that a pair gets JointCrop rather than JointBlur.
        position: Where every crop lands (:class:`~jointaug_plugins.placement.Position`), ``None`` as torchvision.
        seed: ``None`` or an int ``>= 0``.
        reproducible: Whether each image's views are a function of ``(seed, epoch, index)``.
    """

    specs: Mapping[str, JointSpec | None] = field(default_factory=dict)
    pairs: tuple[tuple[int, int], ...] | None = None
    multicrop: str | None = None
    crop_or_blur: float | None = None
    seed: int | None = None
    reproducible: bool = False
    position: Position | None = None

    @classmethod
    def parse(
        cls,
        options: JointOptions | Mapping[str, Any] | None = None,
        /,
        *,
        kinds: Mapping[str, type] | None = None,
        **more: Any,
    ) -> JointOptions:
        """The options a user wrote, checked: the one parser of this package.

        Args:
            options: A ``JointOptions`` (returned as it is when ``more`` is empty), a mapping of keys (a config
                block, ``dict(crop=0.0)``), or ``None``. Keys absent take :data:`DEFAULTS`.
            kinds: The joint augmentations by kind, whose ``option_keys`` and ``presets`` a kind's options may
                use; default the registered ones (built-ins and plugins).
            **more: Keys given as keywords (an entry point's ``**options``); they override ``options``.

        Raises:
            UnknownOptionError: a key that is no option, naming it, the closest valid key and the valid keys.
            ValueError, TypeError: a value out of range, naming the key and the accepted values.
        """
        if isinstance(options, JointOptions):
            if not more:
                return options
            options = options.to_dict()
        if options is None:
            options = {}
        if not isinstance(options, Mapping):
            raise TypeError(
                f"the joint options must be a mapping (e.g. dict(crop=0.0)) or None, got {type(options).__name__}: "
                f"{options!r}"
            )
        values = {**dict(options), **more}
        known = {**_registered(), **(kinds or {})}
        valid = option_keys(list(known))
        for key in values:
            if key not in valid:
                raise UnknownOptionError(unknown_option_message(key, valid))
        kind_values = {k: values.get(k, DEFAULTS.get(k)) for k in valid if k not in POLICY_KEYS}
        # Plugin kinds nobody named stay out of the specs (they are off).
        kind_values = {k: v for k, v in kind_values.items() if k in JOINT_KINDS or k in values}
        specs = parse_specs(kind_values, known)
        if not isinstance(values.get("reproducible", False), bool):
            raise TypeError(f"reproducible must be True or False, got {values['reproducible']!r}")
        seed = values.get("seed")
        if seed is not None:
            seed = check_int(seed, "seed", 0)
        multicrop = values.get("multicrop")
        if multicrop is not None:
            multicrop = check_choice(multicrop, "multicrop", MULTICROP_MODES)
        pairs = _check_pairs(values.get("pairs"))
        if pairs is not None and multicrop is not None:
            raise ValueError("pairs and multicrop both say which views pair: give one of them")
        crop_or_blur = values.get("crop_or_blur")
        if crop_or_blur is not None:
            crop_or_blur = check_probability(crop_or_blur, "crop_or_blur")
            if specs.get("crop") is None or specs.get("blur") is None:
                raise ValueError("crop_or_blur needs both crop and blur switched on (a beta or options for each)")
        reproducible = values.get("reproducible", False)
        if reproducible and seed is None:
            raise ValueError(
                "reproducible=True needs seed= (an int >= 0): the views of image i in epoch e are a function of "
                "(seed, e, i)"
            )
        position = Position.parse(values.get("position"))
        return cls(specs, pairs, multicrop, crop_or_blur, seed, reproducible, position)

    # --- reading -------------------------------------------------------------------------------------

    @property
    def switched_on(self) -> tuple[str, ...]:
        """The kinds drawn jointly."""
        return tuple(kind for kind, spec in self.specs.items() if spec is not None)

    def pairs_for(self, layout: Sequence[int]) -> list[tuple[int, int]]:
        """The joint pairs of views laid out as ``layout``: views per group, in order (``[2]`` for SimCLR,
        ``[1, 1]`` for BYOL's two pipelines, ``[2, 6]`` for multi-crop).

        Explicit ``pairs`` win; on a multi-crop layout (:func:`is_multicrop_layout`) globals pair among
        themselves and/or locals among themselves as ``multicrop`` says (default ``"global"``: the one default
        policy); otherwise views pair consecutively, ``(0, 1), (2, 3), ...``.

        Raises:
            ValueError: ``multicrop`` on a layout that is not multi-crop, or a multi-crop layout on which it forms
                no pair (``multicrop="local"`` with one local view).
        """
        layout = [check_int(n, "a view group's size", 0) for n in layout]
        if self.pairs is not None:
            return [(a, b) for a, b in self.pairs]
        if is_multicrop_layout(layout):
            pairs = multicrop_pairs(layout[0], layout[1], self.multicrop or "global")
            if not pairs:  # multicrop="local" on one local view: every door refuses it here, as solo-learn's does
                raise ValueError(
                    f"these {sum(layout)} view(s) form no joint pair (views per group: {list(layout)}, multicrop: "
                    f"{self.multicrop!r}), so nothing would be joint: a local pair needs at least 2 local views; "
                    "add local crops or use multicrop='global' or 'both'"
                )
            return pairs
        if self.multicrop is not None:
            raise ValueError(
                f"multicrop={self.multicrop!r} needs a multi-crop layout, [n_global >= 2, n_local >= 1] views; these "
                f"views are laid out as {list(layout)}"
            )
        total = sum(layout)
        return [(i, i + 1) for i in range(0, total - 1, 2)]

    def meant_to_pair(self, layout: Sequence[int]) -> list[int]:
        """The views of ``layout`` that the default pairs mean to pair: all of them, or on a multi-crop layout the
        group(s) ``multicrop`` names; none where ``pairs`` is explicit. One of these left in no pair (an odd count)
        is worth a warning; a local view under ``multicrop="global"`` is independent on purpose."""
        if self.pairs is not None:
            return []
        total = sum(layout)
        if not is_multicrop_layout(layout):
            return list(range(total))
        groups = {"global": range(layout[0]), "local": range(layout[0], total), "both": range(total)}
        return list(groups[self.multicrop or "global"])

    @property
    def swapped_kinds(self) -> frozenset[str]:
        """The kinds whose transforms are swapped for joint ones: those switched on, and the crop wherever
        ``position`` places it (``crop=None`` with a position is ContrastiveCrop alone)."""
        return frozenset(self.switched_on) | ({"crop"} if self.position is not None else frozenset())

    @property
    def has_effect(self) -> bool:
        """Whether these options change the views at all: a kind switched on, or a ``position``."""
        return bool(self.switched_on) or self.position is not None

    def require_effect(self) -> None:
        """Refuse options that switch nothing on (for the config switches, where that would be silent)."""
        if not self.has_effect:
            raise ValueError(
                "the joint options switch nothing on (crop, blur and color are all None) and place no crop (position "
                "is None): give one of them a β (e.g. crop=0.0), or opt out explicitly (mm: jointaug = None; "
                "solo-learn: remove the jointaug line)"
            )

    def check_door(self, door: str) -> JointOptions:
        """Refuse, with the reason, an option that entry point ``door`` cannot honour; returns ``self``."""
        for key, why in _UNSUPPORTED.get(door, {}).items():
            if getattr(self, key) != DEFAULTS[key]:
                raise UnsupportedOptionError(f"{door} cannot honour {key}={getattr(self, key)!r}: {why}")
        if door in _NO_INDEX and self.position is not None and self.position.semantic:
            raise UnsupportedOptionError(
                f"{door} cannot honour position boxes='semantic': the boxes are per image, looked up by the dataset "
                "index, and this entry point passes none to the draw (a fixed box, dict(alpha=..., box=...), works)"
            )
        return self

    def describe(self) -> str:
        """One line: ``crop β=0, blur β=-1, multicrop=global, seed=0``."""
        parts = [describe_specs(self.specs)]
        for key in POLICY_KEYS:
            value = getattr(self, key)
            if value != DEFAULTS[key]:
                shown = list(value) if key == "pairs" else f"({value.describe()})" if key == "position" else value
                parts.append(f"{key}={shown}")
        return ", ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """The options as keys (specs as ``JointSpec`` objects, which :meth:`parse` takes back)."""
        return {
            **dict(self.specs),
            "pairs": None if self.pairs is None else [list(p) for p in self.pairs],
            "multicrop": self.multicrop,
            "crop_or_blur": self.crop_or_blur,
            "position": self.position,
            "seed": self.seed,
            "reproducible": self.reproducible,
        }

    def replace(self, **changes: Any) -> JointOptions:
        """These options with some keys changed (parsed again, with the same checks)."""
        return JointOptions.parse(self, **changes)
