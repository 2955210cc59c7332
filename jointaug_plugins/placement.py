"""Where the crop lands: the ``position`` option (ContrastiveCrop's placement and the centre-distance knob).

JointCrop couples the two views' crop *areas*; where each crop lands is a separate choice. By default the
package places crops as torchvision does (a uniform top-left among the valid positions). ``position=`` changes
that for every crop of every view:

* **Center-suppressed sampling** (ContrastiveCrop, Peng et al., CVPR 2022; JointCrop paper, appendix G): per
  axis, with a box ``(h0, w0, h1, w1)`` in [0, 1] (default the whole image) and a crop of height ``h`` on an
  image of height ``H``, ``ch0 = clamp(int(H*h0) - h//2, 0, H-h)``, ``ch1 = clamp(int(H*h1) - h//2, 0, H-h)``
  and the top is ``ch0 + int((ch1 - ch0) * b)`` with ``b ~ Beta(alpha, alpha)``; the same for the left with
  widths. ``alpha = 1`` is uniform, ``alpha < 1`` pushes crops away from the centre (0.6 on ImageNet).
* **Semantic boxes** (ContrastiveCrop's semantic-aware localization): the box is per image, set from the
  model's feature map every ``interval`` epochs after ``warmup`` (:mod:`jointaug_plugins.localize`); until the
  first update, crops land as torchvision places them (ContrastiveCrop's warm-up).
* **The distance knob** (appendix E), ``correlation`` = ρ in [-1, 1]: per axis, the two views of a pair take
  their placement uniforms from a Gaussian copula with correlation ρ (``u2 = Φ(ρ Φ⁻¹(u1) + √(1-ρ²) Φ⁻¹(u2'))``),
  before the Beta quantile. ρ = 0 is independent placement; ρ > 0 puts both crops at similar *relative*
  positions, so their centres are closer than independent ones; ρ < 0 at mirrored ones, so farther. Per axis
  the expected centre distance ``E|c1 - c2|`` falls monotonically as ρ rises (Gaussian copulas are ordered in
  the supermodular order by ρ, and ``-|f(u1) - g(u2)|`` is supermodular for increasing ``f``, ``g``). Limits:
  it couples *relative* positions, so at ρ = 1 two crops of different sizes still have different centres, and a
  crop as large as the image has one position whatever ρ says.

Everything here is size-free: the draw holds the placement fractions ``b`` (after copula and quantile) and the
box, and :func:`jointaug_plugins.boxes.crop_box` turns them into pixels for the size it sees.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, overload

import numpy as np

from ._checks import check_int, check_real, did_you_mean

__all__ = ["POSITION_KEYS", "Position", "couple_placements", "placement_fractions"]

#: The keys of ``position=dict(...)``, with their defaults.
POSITION_KEYS: dict[str, Any] = {
    "alpha": 1.0,
    "box": None,
    "boxes": None,
    "warmup": 20,
    "interval": 20,
    "threshold": 0.1,
    "layer": None,
    "correlation": None,
}
_SEMANTIC_KEYS = ("warmup", "interval", "threshold", "layer")
# Uniforms are clipped this far inside (0, 1) before Φ⁻¹, whose value at 0 is -inf (0 * -inf would be NaN).
_EDGE = 1e-12

Box = tuple[float, float, float, float]


def _check_box(value: Any, name: str) -> Box:
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or len(value) != 4:
        raise ValueError(f"{name} must be 4 numbers (h0, w0, h1, w1) in [0, 1], got {value!r}")
    h0, w0, h1, w1 = (check_real(v, name) for v in value)
    if not (0.0 <= h0 < h1 <= 1.0 and 0.0 <= w0 < w1 <= 1.0):
        raise ValueError(f"{name} must satisfy 0 <= h0 < h1 <= 1 and 0 <= w0 < w1 <= 1, got {tuple(value)!r}")
    return (h0, w0, h1, w1)


@dataclass(frozen=True)
class Position:
    """Where every crop of every view lands (the ``position`` option; see this module's docstring).

    Attributes:
        alpha: ``Beta(alpha, alpha)`` places the crop between the box's edges; > 0 (1 uniform, < 1 away from the
            centre, > 1 towards it).
        box: A fixed box ``(h0, w0, h1, w1)``, ``0 <= h0 < h1 <= 1`` and ``0 <= w0 < w1 <= 1``; ``None``: the
            whole image ``(0, 0, 1, 1)`` (or the semantic boxes).
        boxes: ``"semantic"``: a box per image from the model (needs the dataset index), else ``None``.
        warmup: Semantic boxes: epochs trained before the first update, an int >= 0 (ContrastiveCrop: 20).
        interval: Semantic boxes: epochs between updates, an int >= 1 (20).
        threshold: Semantic boxes: a row or column belongs to the box where the normalised feature map's
            maximum along it exceeds this, in [0, 1) (0.1).
        layer: Semantic boxes: the name of the module whose output is the feature map (``"backbone.layer4"``);
            ``None`` finds a ResNet's ``layer4`` or a ViT's last block.
        correlation: The distance knob ρ in [-1, 1] (> 0 closer centres, < 0 farther); ``None``: independent.
    """

    alpha: float = 1.0
    box: Box | None = None
    boxes: str | None = None
    warmup: int = 20
    interval: int = 20
    threshold: float = 0.1
    layer: str | None = None
    correlation: float | None = None

    # The overloads tell a checker what the checks guarantee: None stays None, a mapping or a Position gives one.
    @overload
    @classmethod
    def parse(cls, value: None, name: str = "position") -> None: ...
    @overload
    @classmethod
    def parse(cls, value: Position | Mapping[str, Any], name: str = "position") -> Position: ...
    @overload
    @classmethod
    def parse(cls, value: Any, name: str = "position") -> Position | None: ...
    @classmethod
    def parse(cls, value: Any, name: str = "position") -> Position | None:
        """The ``position`` option checked: ``None``, a ``Position``, or a mapping of :data:`POSITION_KEYS`.

        Raises:
            ValueError, TypeError: an unknown key (naming the closest one) or a value out of range.
        """
        if value is None or isinstance(value, Position):
            return value
        if not isinstance(value, Mapping):
            raise TypeError(
                f"{name} must be None or a dict of {', '.join(POSITION_KEYS)} (e.g. dict(alpha=0.6)), got {value!r}"
            )
        for key in value:
            if key not in POSITION_KEYS:
                hint = did_you_mean(key, POSITION_KEYS)
                raise ValueError(f"unknown {name} key {key!r}{hint}; valid keys: {', '.join(POSITION_KEYS)}")
        v = {**POSITION_KEYS, **dict(value)}
        alpha = check_real(v["alpha"], f"{name}: alpha")
        if alpha <= 0:
            raise ValueError(f"{name}: alpha must be > 0 (1 is uniform, < 1 suppresses the centre), got {alpha:g}")
        boxes = v["boxes"]
        if boxes not in (None, "semantic"):
            raise ValueError(f"{name}: boxes must be None or 'semantic', got {boxes!r}")
        box = None if v["box"] is None else _check_box(v["box"], f"{name}: box")
        if box is not None and boxes is not None:
            raise ValueError(f"{name}: give box (one fixed box) or boxes='semantic' (one per image), not both")
        if boxes is None:
            stray = [k for k in _SEMANTIC_KEYS if k in value]
            if stray:
                raise ValueError(f"{name}: {', '.join(stray)} only apply to boxes='semantic'; add boxes='semantic'")
        warmup = check_int(v["warmup"], f"{name}: warmup", 0)
        interval = check_int(v["interval"], f"{name}: interval", 1)
        threshold = check_real(v["threshold"], f"{name}: threshold")
        if not 0.0 <= threshold < 1.0:
            raise ValueError(f"{name}: threshold must be in [0, 1), got {threshold:g}")
        layer = v["layer"]
        if layer is not None and (not isinstance(layer, str) or not layer):
            raise TypeError(f"{name}: layer must be a module name such as 'backbone.layer4', got {layer!r}")
        correlation = v["correlation"]
        if correlation is not None:
            correlation = check_real(correlation, f"{name}: correlation")
            if not -1.0 <= correlation <= 1.0:
                raise ValueError(f"{name}: correlation must be in [-1, 1] (or None), got {correlation:g}")
        return cls(alpha, box, boxes, warmup, interval, threshold, layer, correlation)

    @property
    def semantic(self) -> bool:
        """Whether the box is per image, from the model."""
        return self.boxes == "semantic"

    @property
    def coupled(self) -> bool:
        """Whether the two views of a pair are placed jointly (a non-zero ``correlation``)."""
        return self.correlation is not None and self.correlation != 0.0

    def describe(self) -> str:
        """One line: ``alpha=0.6, box=(0.1, 0.1, 0.9, 0.9)``."""
        parts = [f"alpha={self.alpha:g}"]
        if self.box is not None:
            parts.append(f"box={self.box}")
        if self.semantic:
            parts.append(
                f"boxes=semantic (warmup={self.warmup}, interval={self.interval}, threshold={self.threshold:g})"
            )
        if self.correlation is not None:
            parts.append(f"correlation={self.correlation:g}")
        return ", ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """The keys that differ from their defaults (what a user would write)."""
        out = {k: getattr(self, k) for k in POSITION_KEYS if getattr(self, k) != POSITION_KEYS[k]}
        if "box" in out:
            out["box"] = list(out["box"])
        return out


def couple_placements(first: np.ndarray, second: np.ndarray, correlation: float) -> np.ndarray:
    """The second view's placement uniforms coupled to the first's by a Gaussian copula with ``correlation``.

    Args:
        first, second: Uniforms in [0, 1) of the same shape (one per axis, per pair, per image).
        correlation: ρ in [-1, 1].

    Returns:
        Uniforms in [0, 1]: ``Φ(ρ Φ⁻¹(first) + √(1-ρ²) Φ⁻¹(second))``; ``second`` itself at ρ = 0.
    """
    if correlation == 0.0:
        return second
    special = _special()
    z1 = special.ndtri(np.clip(first, _EDGE, 1.0 - _EDGE))
    z2 = special.ndtri(np.clip(second, _EDGE, 1.0 - _EDGE))
    return special.ndtr(correlation * z1 + math.sqrt(max(0.0, 1.0 - correlation * correlation)) * z2)


def placement_fractions(u: Any, alpha: float) -> Any:
    """The ``Beta(alpha, alpha)`` quantiles of uniforms ``u`` (an array or a list; ``u`` itself at ``alpha = 1``):
    where each crop lands between its box's edges, as a fraction in [0, 1]. An array otherwise."""
    if alpha == 1.0:
        return u
    return _special().betaincinv(alpha, alpha, u)


def _special() -> Any:
    """``scipy.special``, imported on first use (the import takes ~0.1 s; a draw asks for it every image)."""
    global _SPECIAL
    if _SPECIAL is None:
        import scipy.special

        _SPECIAL = scipy.special
    return _SPECIAL


_SPECIAL: Any = None
