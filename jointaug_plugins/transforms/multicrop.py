"""JointMultiCrop: DINO's multi-crop views with joint global and/or local pairs (paper, appendix D)."""

from __future__ import annotations

from collections.abc import Sequence

from torchvision import transforms as T
from torchvision.transforms import InterpolationMode

from .._checks import check_choice, check_range
from ..spec import SpecLike
from .blur import JointGaussianBlur
from .crop import JointRandomResizedCrop
from .views import JointViews

MULTICROP_MODES = ("global", "local", "both")
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


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
    for value, name in ((n_global, "n_global"), (n_local, "n_local")):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{name} must be an int >= 0, got {value!r}")
    pairs = []
    if mode in ("global", "both"):
        pairs += [(i, i + 1) for i in range(0, n_global - 1, 2)]
    if mode in ("local", "both"):
        pairs += [(n_global + i, n_global + i + 1) for i in range(0, n_local - 1, 2)]
    return pairs


def multicrop_mode(multicrop: str | None, *, default: str | None = "global", name: str = "multicrop") -> str | None:
    """The one parser of the multi-crop pairing option: which pairs of a multi-crop layout are joint.

    Args:
        multicrop: ``"global"``, ``"local"``, ``"both"``, or ``None`` for ``default``.
        default: The mode when ``multicrop`` is ``None``: ``"global"`` for the recipes that are multi-crop
            by nature (DINO), ``None`` for "not multi-crop" (solo-learn's YAML, the mm switch).
        name: The option's name in errors (``multicrop``, ``jointaug.multicrop``, ``jointaug['multicrop']``).

    Returns:
        The mode: ``"global"``, ``"local"``, ``"both"``, or ``default``.
    """
    mode = default if multicrop is None else multicrop
    if mode is not None and (not isinstance(mode, str) or mode not in MULTICROP_MODES):
        raise ValueError(f"{name} must be null or one of {', '.join(MULTICROP_MODES)}; got {multicrop!r}")
    return mode


class JointMultiCrop(JointViews):
    """DINO's multi-crop augmentation with JointCrop on the global pair, the local pairs, or both.

    Views come out as ``[global_1, global_2, local_1, ..., local_n]`` (tensors, ImageNet-normalised),
    each with DINO's recipe: random resized crop (bicubic), horizontal flip, colour jitter (0.4, 0.4,
    0.2, 0.1) with p 0.8, grayscale p 0.2, Gaussian blur (PIL radius 0.1–2.0) with p 1.0 / 0.1 / 0.5
    for global 1 / global 2 / locals, and solarisation (p 0.2) on global 2. Locals pair as
    (1, 2), (3, 4) ...; an odd last local is drawn independently. ``self.multicrop`` is the mode in use.

    Args:
        global_size: Output size of the global views, ``>= 1``.
        local_size: Output size of the local views, ``>= 1``.
        n_local: Number of local views, ``>= 0``.
        global_scale: Area range of the global crops, ``0 < min < max <= 1``.
        local_scale: Area range of the local crops, ``0 < min < max <= 1``.
        crop: JointCrop's β (0 is the published JointCrop(0)), an options dict, or ``None`` for DINO's
            independent crops.
        multicrop: Which pairs are joint: ``"global"`` (``None``: the default), ``"local"`` or ``"both"``.
        blur, color: Options for JointBlur / JointColor on the same pairs (default off).
        seed: ``None`` or an int >= 0 (see :class:`~jointaug_plugins.rng.GeneratorSource`).
    """

    def __init__(
        self,
        global_size: int = 224,
        local_size: int = 96,
        n_local: int = 6,
        global_scale: Sequence[float] = (0.4, 1.0),
        local_scale: Sequence[float] = (0.05, 0.4),
        crop: SpecLike = 0.0,
        multicrop: str | None = None,
        blur: SpecLike = None,
        color: SpecLike = None,
        seed: int | None = None,
    ) -> None:
        mode = multicrop_mode(multicrop)
        global_scale = check_range(global_scale, "global_scale", lower=0.0, upper=1.0, lower_open=True)
        local_scale = check_range(local_scale, "local_scale", lower=0.0, upper=1.0, lower_open=True)
        if isinstance(n_local, bool) or not isinstance(n_local, int) or n_local < 0:
            raise ValueError(f"n_local must be an int >= 0, got {n_local!r}")
        self.multicrop = mode
        views = [
            self._view(global_size, global_scale, blur_p=1.0, solarize_p=0.0),
            self._view(global_size, global_scale, blur_p=0.1, solarize_p=0.2),
        ] + [self._view(local_size, local_scale, blur_p=0.5, solarize_p=0.0) for _ in range(n_local)]
        super().__init__(views, crop=crop, blur=blur, color=color, pairs=multicrop_pairs(2, n_local, mode), seed=seed)

    @staticmethod
    def _view(size: int, scale: tuple[float, float], blur_p: float, solarize_p: float) -> T.Compose:
        ops = [
            JointRandomResizedCrop(size, scale=scale, interpolation=InterpolationMode.BICUBIC),
            T.RandomHorizontalFlip(p=0.5),
            T.RandomApply([T.ColorJitter(brightness=0.4, contrast=0.4, saturation=0.2, hue=0.1)], p=0.8),
            T.RandomGrayscale(p=0.2),
            JointGaussianBlur(sigma=(0.1, 2.0), p=blur_p),
        ]
        if solarize_p > 0:
            ops.append(T.RandomSolarize(threshold=128, p=solarize_p))
        ops += [T.ToTensor(), T.Normalize(IMAGENET_MEAN, IMAGENET_STD)]
        return T.Compose(ops)
