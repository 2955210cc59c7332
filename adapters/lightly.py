"""lightly adapter: joint versions of lightly's multi-view transforms and collate functions.

Switch a lightly recipe to JointCrop by changing one name (``SimCLRTransform`` ->
``JointSimCLRTransform``), by wrapping any multi-view transform with :func:`jointify`, or, with the
legacy collate API, by passing a transform to :class:`JointCollateFunction`. Models, losses, datasets
(``LightlyDataset``) and collate (``MultiViewCollate``) stay lightly's own.

Each recipe builds lightly's own transform with the arguments given and swaps its random resized crop,
Gaussian blur and colour jitter for joint versions with the same settings (through the plugin hook, see
:mod:`jointaug_plugins.adapters.lightly_plugin`); everything else in the views is lightly's, untouched.
The result *is* a lightly ``MultiViewTransform`` whose ``__call__`` runs the core coordinator
:class:`~jointaug_plugins.JointViews`, so the two views of a pair take their parameters from one joint draw.

Joint options, the same for every class here:

* ``crop``, ``blur``, ``color``: ``None`` (independent draws, lightly's behaviour), a β (any finite real;
  ``0`` is the published JointX(0), ``> 0`` easier pairs, ``< 0`` harder pairs) or a dict of options
  (``beta``, ``margin``, ``sigma``; ``factors`` for ``color``). Default JointCrop(0), blur and colour off.
* ``crop_or_blur``: ``None`` or a probability in [0, 1]: per pair, JointCrop with this probability, else
  JointBlur (the paper's remedy for combining both, its appendix F); needs ``crop`` and ``blur`` on.
* ``seed``: ``None`` or an int >= 0. Streams differ per DataLoader worker and distributed rank either way.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Sequence
from typing import Any

import torch

try:
    from lightly.transforms import (
        BYOLTransform,
        BYOLView1Transform,
        BYOLView2Transform,
        DINOTransform,
        MoCoV2Transform,
        SimCLRTransform,
        SimCLRViewTransform,
        SimSiamTransform,
    )
    from lightly.transforms.multi_view_transform import MultiViewTransform
    from lightly.transforms.utils import IMAGENET_NORMALIZE
except ImportError as _err:  # pragma: no cover - exercised only where lightly is absent
    raise ImportError(
        "jointaug_plugins.adapters.lightly needs lightly >= 1.5: pip install 'jointaug-plugins[lightly]'"
    ) from _err

try:  # torchvision-v2 multi-view transforms (lightly >= 1.5.x with torchvision >= 0.16)
    from lightly.transforms.multi_view_transform_v2 import MultiViewTransformV2
except ImportError:  # pragma: no cover
    MultiViewTransformV2 = None
try:  # VICRegL's views-and-grids transform
    from lightly.transforms.image_grid_transform import ImageGridTransform
except ImportError:  # pragma: no cover
    ImageGridTransform = None

from ..draw import DrawRecord
from ..registry import find_replacement, register_plugin
from ..spec import SpecLike
from ..transforms.jointify import jointify as _core_jointify
from ..transforms.jointify import views_of
from ..transforms.multicrop import multicrop_mode, multicrop_pairs
from ..transforms.views import JointViews, iter_transforms, joint_source_of, resolve_specs
from . import lightly_plugin

# Also found through the `jointaug_plugins` entry point; registering the same module twice is a no-op.
register_plugin(lightly_plugin, name="jointaug-lightly")

__all__ = [
    "JointBYOLTransform",
    "JointCollateFunction",
    "JointDINOCollateFunction",
    "JointDINOTransform",
    "JointImageGridTransform",
    "JointMoCoCollateFunction",
    "JointMoCoV2Transform",
    "JointMultiViewTransform",
    "JointMultiViewTransformV2",
    "JointSimCLRCollateFunction",
    "JointSimCLRTransform",
    "JointSimSiamTransform",
    "jointify",
]

Pairs = Sequence[tuple[int, int]] | None


# --------------------------------------------------------------------------------------------------
# Views: unwrapping what the core cannot look into, and checking the pairs
# --------------------------------------------------------------------------------------------------


def _unwrap(view: Any) -> Any:
    """``view`` (a private copy) with lightly's wrappers that hide their pipeline under a name the core
    does not look into replaced by that pipeline (``DetConSViewTransform.tr``, called with the same
    arguments)."""
    if lightly_plugin.is_lightly_instance(view, "lightly.transforms.detcon_transform", "DetConSViewTransform"):
        return _unwrap(view.tr)
    children = getattr(view, "transforms", None)
    if isinstance(children, (list, torch.nn.ModuleList)):
        for i, child in enumerate(children):
            children[i] = _unwrap(child)
    elif isinstance(children, tuple):
        view.transforms = tuple(_unwrap(child) for child in children)
    elif children is None and callable(vars(view).get("transform") if hasattr(view, "__dict__") else None):
        view.transform = _unwrap(view.transform)
    return view


def _check_convertible(views: Sequence[Any], specs: dict[str, Any], owner: str) -> None:
    """Raise where ``jointify`` would only warn: a transform of a kind switched on whose settings cannot be
    drawn jointly (a recipe's user asked for that kind explicitly)."""
    for view in views:
        for t in iter_transforms(view):
            try:
                joint = find_replacement(t)
            except (TypeError, ValueError):  # settings no joint transform takes: jointify warns and keeps it
                continue
            source = joint_source_of(joint) if joint is not None else None
            if source is not None and specs.get(source.kind) is not None:
                try:
                    source.check_spec(specs[source.kind], source.kind)
                except ValueError as err:
                    raise ValueError(f"{owner}: {err}") from None


def _joint_views(
    views: Sequence[Any],
    crop: SpecLike,
    blur: SpecLike,
    color: SpecLike,
    pairs: Pairs,
    crop_or_blur: float | None,
    seed: int | None,
    more: dict[str, SpecLike],
    strict_owner: str | None = None,
) -> JointViews:
    if isinstance(views, (str, bytes)) or not isinstance(views, Sequence):
        raise TypeError(f"transforms must be a list of per-view transforms, got {type(views).__name__}")
    prepared = [_unwrap(copy.deepcopy(v)) for v in views]
    if strict_owner is not None:
        _check_convertible(prepared, resolve_specs(crop, blur, color, more), strict_owner)
    joint_views = _core_jointify(prepared, crop, blur, color, pairs=pairs, crop_or_blur=crop_or_blur, seed=seed, **more)
    return joint_views


class _Capture:
    """Stands in for the views of a user's multi-view transform to catch what its ``__call__`` passes on."""

    def __init__(self) -> None:
        self.args: tuple | None = None

    def __call__(self, *args: Any) -> None:
        self.args = args


class _JointCall:
    """What the joint multi-view transforms share: the coordinator, draw records, input preparation."""

    joint_views: JointViews
    # A shallow copy of a user's multi-view transform whose own __call__ prepares the inputs (e.g. lightly's
    # DetConSTransform making the mask with `mask_fn`), its views replaced by a _Capture; None otherwise.
    _own_call: Any = None

    def _prepare(self, args: tuple) -> tuple:
        own = self._own_call
        if own is None:
            return args
        capture = own.transforms[0]
        capture.args = None
        own(*args)
        if capture.args is None:
            raise RuntimeError(
                f"{type(own).__name__}.__call__ did not pass its inputs on to its views; jointify cannot run it"
            )
        return capture.args

    @property
    def draw_sink(self):
        """Optional callable receiving each image's list of :class:`~jointaug_plugins.draw.DrawRecord`."""
        return self.joint_views.draw_sink

    @draw_sink.setter
    def draw_sink(self, sink) -> None:
        self.joint_views.draw_sink = sink

    @property
    def pairs(self) -> list[tuple[int, int]]:
        """The joint view pairs."""
        return self.joint_views.pairs


class JointMultiViewTransform(_JointCall, MultiViewTransform):
    """A lightly ``MultiViewTransform`` whose views are drawn jointly.

    Args:
        transforms: The per-view pipelines, as for lightly's ``MultiViewTransform`` (lightly's view
            transforms, ``Compose`` ...). Each is copied; every transform in it a plugin knows
            (torchvision's ``RandomResizedCrop``, ``GaussianBlur``, ``ColorJitter``, v1 and v2, lightly's
            ``GaussianBlur``, ``RandomResizedCropWithLocation``) is swapped for its joint version.
        crop, blur, color: ``None``, a β, or an options dict (see the module docstring); default JointCrop(0).
        pairs: Joint view pairs as index pairs; default ``(0, 1), (2, 3), ...``, an odd last view unpaired.
        crop_or_blur: ``None`` or a probability in [0, 1] (module docstring).
        seed: ``None`` or an int >= 0.
        **more: Options of other registered joint augmentations, by name.

    Raises:
        ValueError: a bad option, or paired views whose joint transforms have different ranges.
    """

    # Recipes refuse settings that cannot be drawn jointly; jointify of any transform warns and keeps them.
    _strict = False

    def __init__(
        self,
        transforms: Sequence[Any],
        crop: SpecLike = 0.0,
        blur: SpecLike = None,
        color: SpecLike = None,
        *,
        pairs: Pairs = None,
        crop_or_blur: float | None = None,
        seed: int | None = None,
        **more: SpecLike,
    ) -> None:
        owner = type(self).__name__ if self._strict else None
        self.joint_views = _joint_views(transforms, crop, blur, color, pairs, crop_or_blur, seed, more, owner)
        MultiViewTransform.__init__(self, transforms=self.joint_views.view_transforms)

    def __call__(self, image: Any) -> list[Any]:
        """The views of ``image`` (PIL image or tensor), paired views drawn jointly."""
        return self.joint_views(self._prepare((image,))[0])

    def call_with_draw(self, image: Any) -> tuple[list[Any], list[DrawRecord]]:
        """The views of ``image`` and the records of every joint transform's draw."""
        return self.joint_views.call_with_draw(self._prepare((image,))[0])

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.joint_views!r})"


class _ArgsView:
    """One view of a transforms-v2 multi-view transform, called with all the inputs (image, mask ...)."""

    def __init__(self, transform: Any) -> None:
        self.transform = transform

    def __call__(self, args: tuple) -> Any:
        return self.transform(*args)

    def __repr__(self) -> str:
        return repr(self.transform)


if MultiViewTransformV2 is not None:

    class JointMultiViewTransformV2(_JointCall, MultiViewTransformV2):
        """A lightly ``MultiViewTransformV2`` (inputs: images with masks, boxes ... in torchvision-v2
        structures) whose views are drawn jointly; every input of a view gets that view's draw.

        Arguments as for :class:`JointMultiViewTransform`.
        """

        def __init__(
            self,
            transforms: Sequence[Any],
            crop: SpecLike = 0.0,
            blur: SpecLike = None,
            color: SpecLike = None,
            *,
            pairs: Pairs = None,
            crop_or_blur: float | None = None,
            seed: int | None = None,
            **more: SpecLike,
        ) -> None:
            if isinstance(transforms, (str, bytes)) or not isinstance(transforms, Sequence):
                raise TypeError(f"transforms must be a list of per-view transforms, got {type(transforms).__name__}")
            views = [_ArgsView(t) for t in transforms]
            self.joint_views = _joint_views(views, crop, blur, color, pairs, crop_or_blur, seed, more)
            MultiViewTransformV2.__init__(self, transforms=[v.transform for v in self.joint_views.view_transforms])

        def __call__(self, *args: Any) -> list[Any]:
            """The views of the inputs, each view transforming all of them with its draw."""
            return self.joint_views(self._prepare(args))

        def call_with_draw(self, *args: Any) -> tuple[list[Any], list[DrawRecord]]:
            """The views and the records of every joint transform's draw."""
            return self.joint_views.call_with_draw(self._prepare(args))

        def __repr__(self) -> str:
            return f"{type(self).__name__}({self.joint_views!r})"

else:  # pragma: no cover
    JointMultiViewTransformV2 = None


class _GridView:
    """One ``(grid transform, view transform)`` entry of lightly's ``ImageGridTransform`` as one view:
    ``image -> (view, grid)``."""

    def __init__(self, grid_transform: Any, view_transform: Any) -> None:
        self.transforms = [grid_transform, view_transform]

    def __call__(self, image: Any) -> tuple[Any, Any]:
        view, grid = self.transforms[0](image)
        return self.transforms[1](view), grid

    def __repr__(self) -> str:
        return f"({self.transforms[0]!r}, {self.transforms[1]!r})"


if ImageGridTransform is not None:

    class JointImageGridTransform(_JointCall, ImageGridTransform):
        """lightly's ``ImageGridTransform`` (VICRegL: views and their location grids) with joint crops.

        Returns ``[view_1, ..., view_n, grid_1, ..., grid_n]`` like lightly's. Args: ``transforms``, a list
        of ``(grid transform, view transform)`` pairs as lightly's; the rest as for
        :class:`JointMultiViewTransform`. VICRegL's layout is ``[global..., local...]``: pass
        ``pairs=multicrop_pairs(n_global, n_local, mode)`` to pair within groups only.
        """

        def __init__(
            self,
            transforms: Sequence[tuple[Any, Any]],
            crop: SpecLike = 0.0,
            blur: SpecLike = None,
            color: SpecLike = None,
            *,
            pairs: Pairs = None,
            crop_or_blur: float | None = None,
            seed: int | None = None,
            **more: SpecLike,
        ) -> None:
            views = []
            for i, entry in enumerate(transforms):
                if not isinstance(entry, (tuple, list)) or len(entry) != 2:
                    raise TypeError(f"transforms[{i}] must be a (grid transform, view transform) pair, got {entry!r}")
                views.append(_GridView(*entry))
            self.joint_views = _joint_views(views, crop, blur, color, pairs, crop_or_blur, seed, more)
            entries = [tuple(v.transforms) for v in self.joint_views.view_transforms]
            ImageGridTransform.__init__(self, transforms=entries)

        def __call__(self, image: Any) -> list[Any]:
            """``[views..., grids...]`` of ``image``, paired views drawn jointly."""
            return self.call_with_draw(image)[0]

        def call_with_draw(self, image: Any) -> tuple[list[Any], list[DrawRecord]]:
            """The output of ``__call__`` and the records of every joint transform's draw."""
            outputs, records = self.joint_views.call_with_draw(image)
            return [o[0] for o in outputs] + [o[1] for o in outputs], records

        def __repr__(self) -> str:
            return f"{type(self).__name__}({self.joint_views!r})"

else:  # pragma: no cover
    JointImageGridTransform = None


def _own_call_of(transform: Any, base_call: Any) -> Any:
    """A capturing copy of ``transform`` when its class overrides lightly's ``__call__``, else ``None``."""
    if isinstance(transform, _JointCall) or type(transform).__call__ is base_call:
        return None
    own = copy.copy(transform)
    own.transforms = [_Capture()]
    return own


def jointify(
    transform: Any,
    crop: SpecLike = 0.0,
    blur: SpecLike = None,
    color: SpecLike = None,
    *,
    pairs: Pairs = None,
    crop_or_blur: float | None = None,
    seed: int | None = None,
    **more: SpecLike,
) -> Any:
    """The joint version of a lightly multi-view transform; the original is left untouched.

    Args:
        transform: A lightly ``MultiViewTransform`` (any recipe, or user-built; a subclass's own
            ``__call__`` still prepares the inputs), a ``MultiViewTransformV2`` (e.g. ``DetConSTransform``),
            an ``ImageGridTransform`` (VICRegL), a joint transform from this module (re-jointified with its
            pairs), a core ``JointViews``, or a list of per-view transforms.
        crop, blur, color, pairs, crop_or_blur, seed, **more: As for :class:`JointMultiViewTransform`.

    Returns:
        A :class:`JointMultiViewTransform` (a lightly ``MultiViewTransform``), a
        :class:`JointMultiViewTransformV2` or a :class:`JointImageGridTransform`, matching ``transform``.
    """
    if pairs is None:
        source = transform if isinstance(transform, JointViews) else getattr(transform, "joint_views", None)
        if isinstance(source, JointViews):
            pairs = source.pairs
    options = dict(pairs=pairs, crop_or_blur=crop_or_blur, seed=seed, **more)
    if MultiViewTransformV2 is not None and isinstance(transform, MultiViewTransformV2):
        result = JointMultiViewTransformV2(transform.transforms, crop, blur, color, **options)
        result._own_call = _own_call_of(transform, MultiViewTransformV2.__call__)
    elif ImageGridTransform is not None and isinstance(transform, ImageGridTransform):
        result = JointImageGridTransform(transform.transforms, crop, blur, color, **options)
    else:
        result = JointMultiViewTransform(views_of(transform), crop, blur, color, **options)
        if isinstance(transform, MultiViewTransform):
            result._own_call = _own_call_of(transform, MultiViewTransform.__call__)
    return result


# --------------------------------------------------------------------------------------------------
# Recipes: lightly's own classes, same arguments and defaults, with joint views
# --------------------------------------------------------------------------------------------------

_VIEW_ARGS = """
    Args (lightly's, same meaning and defaults):
        input_size: Output size of each view in pixels, ``>= 1``.
        cj_prob: Probability in [0, 1] that the colour jitter is applied (per view).
        cj_strength: Factor multiplying ``cj_bright``, ``cj_contrast``, ``cj_sat`` and ``cj_hue``, ``>= 0``.
        cj_bright, cj_contrast, cj_sat: Jitter strengths ``>= 0`` (factor range ``[1 - s, 1 + s]``).
        cj_hue: Hue jitter in [0, 0.5].
        min_scale: Smallest crop area as a fraction of the image, in (0, 1); crops span ``(min_scale, 1)``.
        random_gray_scale: Probability in [0, 1] of converting a view to grayscale.
        gaussian_blur: Probability in [0, 1] that a view is blurred.
        sigmas: ``(min, max)`` of the blur sigma in pixels, ``0 < min <= max``.
        vf_prob, hf_prob: Probabilities in [0, 1] of a vertical / horizontal flip.
        rr_prob: Probability in [0, 1] of a random rotation.
        rr_degrees: ``None`` (90° rotations), an angle ``d`` (uniform in ``[-d, d]``) or ``(min, max)``.
        normalize: ``{"mean": [...], "std": [...]}`` for ``Normalize``, or ``None`` to skip it.

    Joint options (keyword only): ``crop`` (default JointCrop(0)), ``blur`` (the Gaussian blur's sigmas;
    each view keeps its blur probability), ``color`` (the colour jitter's factors), each ``None``, a β or
    an options dict; ``crop_or_blur``; ``seed``. See the module docstring.
"""


class JointSimCLRTransform(JointMultiViewTransform):
    _strict = True
    __doc__ = "lightly's ``SimCLRTransform`` (SimCLR v1/v2 views) with joint views.\n" + _VIEW_ARGS

    def __init__(
        self,
        input_size: int = 224,
        cj_prob: float = 0.8,
        cj_strength: float = 1.0,
        cj_bright: float = 0.8,
        cj_contrast: float = 0.8,
        cj_sat: float = 0.8,
        cj_hue: float = 0.2,
        min_scale: float = 0.08,
        random_gray_scale: float = 0.2,
        gaussian_blur: float = 0.5,
        sigmas: tuple[float, float] = (0.1, 2),
        vf_prob: float = 0.0,
        hf_prob: float = 0.5,
        rr_prob: float = 0.0,
        rr_degrees: float | tuple[float, float] | None = None,
        normalize: dict[str, list[float]] | None = IMAGENET_NORMALIZE,
        *,
        crop: SpecLike = 0.0,
        blur: SpecLike = None,
        color: SpecLike = None,
        crop_or_blur: float | None = None,
        seed: int | None = None,
    ) -> None:
        base = SimCLRTransform(
            input_size=input_size,
            cj_prob=cj_prob,
            cj_strength=cj_strength,
            cj_bright=cj_bright,
            cj_contrast=cj_contrast,
            cj_sat=cj_sat,
            cj_hue=cj_hue,
            min_scale=min_scale,
            random_gray_scale=random_gray_scale,
            gaussian_blur=gaussian_blur,
            sigmas=sigmas,
            vf_prob=vf_prob,
            hf_prob=hf_prob,
            rr_prob=rr_prob,
            rr_degrees=rr_degrees,
            normalize=normalize,
        )
        super().__init__(base.transforms, crop, blur, color, crop_or_blur=crop_or_blur, seed=seed)


class JointMoCoV2Transform(JointMultiViewTransform):
    _strict = True
    __doc__ = "lightly's ``MoCoV2Transform`` with joint views.\n" + _VIEW_ARGS

    def __init__(
        self,
        input_size: int = 224,
        cj_prob: float = 0.8,
        cj_strength: float = 1.0,
        cj_bright: float = 0.4,
        cj_contrast: float = 0.4,
        cj_sat: float = 0.4,
        cj_hue: float = 0.1,
        min_scale: float = 0.2,
        random_gray_scale: float = 0.2,
        gaussian_blur: float = 0.5,
        sigmas: tuple[float, float] = (0.1, 2),
        vf_prob: float = 0.0,
        hf_prob: float = 0.5,
        rr_prob: float = 0.0,
        rr_degrees: float | tuple[float, float] | None = None,
        normalize: dict[str, list[float]] | None = IMAGENET_NORMALIZE,
        *,
        crop: SpecLike = 0.0,
        blur: SpecLike = None,
        color: SpecLike = None,
        crop_or_blur: float | None = None,
        seed: int | None = None,
    ) -> None:
        base = MoCoV2Transform(
            input_size=input_size,
            cj_prob=cj_prob,
            cj_strength=cj_strength,
            cj_bright=cj_bright,
            cj_contrast=cj_contrast,
            cj_sat=cj_sat,
            cj_hue=cj_hue,
            min_scale=min_scale,
            random_gray_scale=random_gray_scale,
            gaussian_blur=gaussian_blur,
            sigmas=sigmas,
            vf_prob=vf_prob,
            hf_prob=hf_prob,
            rr_prob=rr_prob,
            rr_degrees=rr_degrees,
            normalize=normalize,
        )
        super().__init__(base.transforms, crop, blur, color, crop_or_blur=crop_or_blur, seed=seed)


class JointSimSiamTransform(JointMultiViewTransform):
    _strict = True
    __doc__ = "lightly's ``SimSiamTransform`` with joint views.\n" + _VIEW_ARGS

    def __init__(
        self,
        input_size: int = 224,
        cj_prob: float = 0.8,
        cj_strength: float = 1.0,
        cj_bright: float = 0.4,
        cj_contrast: float = 0.4,
        cj_sat: float = 0.4,
        cj_hue: float = 0.1,
        min_scale: float = 0.2,
        random_gray_scale: float = 0.2,
        gaussian_blur: float = 0.5,
        sigmas: tuple[float, float] = (0.1, 2),
        vf_prob: float = 0.0,
        hf_prob: float = 0.5,
        rr_prob: float = 0.0,
        rr_degrees: float | tuple[float, float] | None = None,
        normalize: dict[str, list[float]] | None = IMAGENET_NORMALIZE,
        *,
        crop: SpecLike = 0.0,
        blur: SpecLike = None,
        color: SpecLike = None,
        crop_or_blur: float | None = None,
        seed: int | None = None,
    ) -> None:
        base = SimSiamTransform(
            input_size=input_size,
            cj_prob=cj_prob,
            cj_strength=cj_strength,
            cj_bright=cj_bright,
            cj_contrast=cj_contrast,
            cj_sat=cj_sat,
            cj_hue=cj_hue,
            min_scale=min_scale,
            random_gray_scale=random_gray_scale,
            gaussian_blur=gaussian_blur,
            sigmas=sigmas,
            vf_prob=vf_prob,
            hf_prob=hf_prob,
            rr_prob=rr_prob,
            rr_degrees=rr_degrees,
            normalize=normalize,
        )
        super().__init__(base.transforms, crop, blur, color, crop_or_blur=crop_or_blur, seed=seed)


class JointBYOLTransform(JointMultiViewTransform):
    """lightly's ``BYOLTransform`` with joint views.

    The two asymmetric views keep their own recipes (blur probability 1.0 / 0.1, solarisation on view 2);
    only the paired parameters are drawn jointly, so paired transforms need the same ranges in both view
    configs (the crops' ``min_scale``, the blur's ``sigmas``, the jitter strengths for ``color``); a
    mismatch is refused when the transform is built.

    Args:
        view_1_transform: lightly's ``BYOLView1Transform`` (its arguments: ``input_size``, ``cj_*``,
            ``min_scale``, ``gaussian_blur``, ``solarization_prob``, ``sigmas`` ...), default ``BYOLView1Transform()``.
        view_2_transform: lightly's ``BYOLView2Transform``, default ``BYOLView2Transform()``.
        crop, blur, color, crop_or_blur, seed: Joint options (keyword only), see the module docstring.
    """

    _strict = True

    def __init__(
        self,
        view_1_transform: BYOLView1Transform | None = None,
        view_2_transform: BYOLView2Transform | None = None,
        *,
        crop: SpecLike = 0.0,
        blur: SpecLike = None,
        color: SpecLike = None,
        crop_or_blur: float | None = None,
        seed: int | None = None,
    ) -> None:
        base = BYOLTransform(view_1_transform=view_1_transform, view_2_transform=view_2_transform)
        super().__init__(base.transforms, crop, blur, color, crop_or_blur=crop_or_blur, seed=seed)


class JointDINOTransform(JointMultiViewTransform):
    """lightly's ``DINOTransform`` with joint multi-crop views (paper, appendix D).

    Views: ``[global_1, global_2, local_1, ..., local_n]``, lightly's recipes. ``joint`` selects the joint
    pairs: ``"global"`` (the two global views; the default), ``"local"`` (locals paired (1, 2), (3, 4) ...;
    an odd last local is drawn independently) or ``"both"``; it may also be given as ``crop={"joint": ...}``.

    Args (lightly's, same meaning and defaults):
        global_crop_size, local_crop_size: Output sizes of the global / local views, ``>= 1``.
        global_crop_scale, local_crop_scale: ``(min, max)`` crop areas as image fractions, ``0 < min < max <= 1``.
        n_local_views: Number of local views, ``>= 0``.
        hf_prob, vf_prob, rr_prob: Probabilities in [0, 1] of a horizontal flip / vertical flip / rotation.
        rr_degrees: ``None`` (90° rotations), an angle ``d`` or ``(min, max)``.
        cj_prob: Probability in [0, 1] of the colour jitter.
        cj_strength, cj_bright, cj_contrast, cj_sat, cj_hue: Jitter strengths (``cj_strength`` times each).
            lightly passes ``cj_strength`` to the first global view and the locals only (the second global
            view keeps 0.5); with ``color`` on and ``cj_strength != 0.5`` the global pair is then refused.
        random_gray_scale: Probability in [0, 1] of grayscale.
        gaussian_blur: Blur probabilities ``(global_1, global_2, locals)``.
        sigmas: ``(min, max)`` of the blur sigma in pixels.
        solarization_prob: Probability in [0, 1] of solarising the second global view.
        normalize: ``{"mean", "std"}`` for ``Normalize`` or ``None``.
        crop: JointCrop's β (default 0), an options dict (may carry ``joint``), or ``None`` (lightly's crops).
        joint: ``"global"``, ``"local"`` or ``"both"``; ``None`` means ``"global"`` unless ``crop`` says otherwise.
        blur, color, crop_or_blur, seed: As in the module docstring, on the same pairs.
    """

    _strict = True

    def __init__(
        self,
        global_crop_size: int = 224,
        global_crop_scale: tuple[float, float] = (0.4, 1.0),
        local_crop_size: int = 96,
        local_crop_scale: tuple[float, float] = (0.05, 0.4),
        n_local_views: int = 6,
        hf_prob: float = 0.5,
        vf_prob: float = 0,
        rr_prob: float = 0,
        rr_degrees: float | tuple[float, float] | None = None,
        cj_prob: float = 0.8,
        cj_strength: float = 0.5,
        cj_bright: float = 0.8,
        cj_contrast: float = 0.8,
        cj_sat: float = 0.4,
        cj_hue: float = 0.2,
        random_gray_scale: float = 0.2,
        gaussian_blur: tuple[float, float, float] = (1.0, 0.1, 0.5),
        sigmas: tuple[float, float] = (0.1, 2),
        solarization_prob: float = 0.2,
        normalize: dict[str, list[float]] | None = IMAGENET_NORMALIZE,
        *,
        crop: SpecLike = 0.0,
        joint: str | None = None,
        blur: SpecLike = None,
        color: SpecLike = None,
        crop_or_blur: float | None = None,
        seed: int | None = None,
    ) -> None:
        mode, crop_spec = multicrop_mode(crop, joint)
        pairs = multicrop_pairs(2, n_local_views, mode)
        base = DINOTransform(
            global_crop_size=global_crop_size,
            global_crop_scale=global_crop_scale,
            local_crop_size=local_crop_size,
            local_crop_scale=local_crop_scale,
            n_local_views=n_local_views,
            hf_prob=hf_prob,
            vf_prob=vf_prob,
            rr_prob=rr_prob,
            rr_degrees=rr_degrees,
            cj_prob=cj_prob,
            cj_strength=cj_strength,
            cj_bright=cj_bright,
            cj_contrast=cj_contrast,
            cj_sat=cj_sat,
            cj_hue=cj_hue,
            random_gray_scale=random_gray_scale,
            gaussian_blur=gaussian_blur,
            sigmas=sigmas,
            solarization_prob=solarization_prob,
            normalize=normalize,
        )
        self.multicrop = mode
        super().__init__(base.transforms, crop_spec, blur, color, pairs=pairs, crop_or_blur=crop_or_blur, seed=seed)


# --------------------------------------------------------------------------------------------------
# Collate functions (lightly's legacy API)
# --------------------------------------------------------------------------------------------------


def _is_multi_view(transform: Any) -> bool:
    kinds = [MultiViewTransform, JointViews, list, tuple]
    kinds += [k for k in (MultiViewTransformV2, ImageGridTransform) if k is not None]
    return isinstance(transform, tuple(kinds))


class JointCollateFunction(torch.nn.Module):
    """Collate function with the contract of lightly's legacy ``BaseCollateFunction(transform)``.

    Takes a batch of ``(image, label, filename)`` (what ``LightlyDataset`` without a transform yields) and
    returns ``((x0, x1), labels, filenames)``: ``x0[i]`` and ``x1[i]`` are a joint pair of image ``i``
    (lightly's view ``i`` and view ``i + batch_size``), ``labels`` a ``LongTensor``.

    Args:
        transform: The single-view transform (PIL image -> tensor) both views use, as lightly's collate
            takes it; or a multi-view transform (lightly ``MultiViewTransform``, a list of views), then the
            result is ``([x0, x1, ..., x_{N-1}], labels, filenames)`` like ``MultiViewCollateFunction``.
        crop, blur, color, pairs, crop_or_blur, seed, **more: As for :class:`JointMultiViewTransform`.
    """

    # The drop-ins refuse settings that cannot be drawn jointly; a user's transform is converted where it can.
    _strict = False

    def __init__(
        self,
        transform: Any,
        crop: SpecLike = 0.0,
        blur: SpecLike = None,
        color: SpecLike = None,
        *,
        pairs: Pairs = None,
        crop_or_blur: float | None = None,
        seed: int | None = None,
        **more: SpecLike,
    ) -> None:
        super().__init__()
        if not callable(transform) and not _is_multi_view(transform):
            raise TypeError(f"transform must be a callable view transform, got {type(transform).__name__}")
        self.transform = transform
        self.multi_view = _is_multi_view(transform)
        views = transform if self.multi_view else [transform, transform]
        if self._strict:
            _check_convertible(views_of(views), resolve_specs(crop, blur, color, more), type(self).__name__)
        self.joint_transform = jointify(
            views, crop, blur, color, pairs=pairs, crop_or_blur=crop_or_blur, seed=seed, **more
        )

    def forward(self, batch: list[tuple[Any, int, str]]) -> tuple[Any, torch.Tensor, list[str]]:
        """``batch``: list of ``(image, label, filename)``; returns ``(views, labels, filenames)``."""
        if len(batch) == 0:
            raise ValueError("batch must hold at least one (image, label, filename) item")
        per_image = [self.joint_transform(item[0]) for item in batch]
        views = [torch.stack([v[k] for v in per_image]) for k in range(len(per_image[0]))]
        labels = torch.LongTensor([item[1] for item in batch])
        filenames = [item[2] for item in batch]
        return (views if self.multi_view else tuple(views)), labels, filenames


def _warn_ignored_kernel(owner: str, **values: Any) -> None:
    for name, value in values.items():
        if value is not None:
            warnings.warn(
                f"{owner}: {name} is deprecated in lightly and was already ignored by lightly 1.5; "
                "the blur sigmas come from `sigmas`",
                DeprecationWarning,
                stacklevel=3,
            )


class JointSimCLRCollateFunction(JointCollateFunction):
    """Joint drop-in for lightly 1.5's ``SimCLRCollateFunction``: same arguments and defaults, the same
    view recipe, built from lightly's ``SimCLRViewTransform`` (so it also works on lightly 1.6, which removed
    ``lightly.data.collate``). Returns ``((x0, x1), labels, filenames)``.

    Args (lightly 1.5's): ``input_size`` (pixels), ``cj_prob``, ``cj_strength`` (jitter 0.8 / 0.8 / 0.8 /
    0.2 times it), ``min_scale`` (crop area in (min_scale, 1)), ``random_gray_scale``, ``gaussian_blur``
    (probabilities in [0, 1]), ``kernel_size`` (deprecated, ignored as in lightly 1.5), ``sigmas`` (blur
    sigma range), ``vf_prob``, ``hf_prob``, ``rr_prob``, ``rr_degrees``, ``normalize``.
    Joint options (keyword only): ``crop`` (default JointCrop(0)), ``blur``, ``color``, ``crop_or_blur``, ``seed``.
    """

    _strict = True

    def __init__(
        self,
        input_size: int = 224,
        cj_prob: float = 0.8,
        cj_strength: float = 0.5,
        min_scale: float = 0.08,
        random_gray_scale: float = 0.2,
        gaussian_blur: float = 0.5,
        kernel_size: float | None = None,
        sigmas: tuple[float, float] = (0.2, 2),
        vf_prob: float = 0.0,
        hf_prob: float = 0.5,
        rr_prob: float = 0.0,
        rr_degrees: float | tuple[float, float] | None = None,
        normalize: dict[str, list[float]] = IMAGENET_NORMALIZE,
        *,
        crop: SpecLike = 0.0,
        blur: SpecLike = None,
        color: SpecLike = None,
        crop_or_blur: float | None = None,
        seed: int | None = None,
    ) -> None:
        _warn_ignored_kernel(type(self).__name__, kernel_size=kernel_size)
        view = SimCLRViewTransform(
            input_size=input_size,
            cj_prob=cj_prob,
            cj_strength=cj_strength,
            cj_bright=0.8,
            cj_contrast=0.8,
            cj_sat=0.8,
            cj_hue=0.2,
            min_scale=min_scale,
            random_gray_scale=random_gray_scale,
            gaussian_blur=gaussian_blur,
            sigmas=sigmas,
            vf_prob=vf_prob,
            hf_prob=hf_prob,
            rr_prob=rr_prob,
            rr_degrees=rr_degrees,
            normalize=normalize,
        )
        super().__init__(view, crop, blur, color, crop_or_blur=crop_or_blur, seed=seed)


class JointMoCoCollateFunction(JointCollateFunction):
    """Joint drop-in for lightly 1.5's ``MoCoCollateFunction`` (MoCo v1 views: jitter ``cj_strength`` on
    all four of brightness, contrast, saturation and hue, crops in (0.2, 1), no blur), same arguments and
    defaults, built from lightly's ``SimCLRViewTransform``. Returns ``((x0, x1), labels, filenames)``.

    Args: as :class:`JointSimCLRCollateFunction` (``cj_strength`` in [0, 0.5], the hue jitter's bound).
    """

    _strict = True

    def __init__(
        self,
        input_size: int = 224,
        cj_prob: float = 0.8,
        cj_strength: float = 0.4,
        min_scale: float = 0.2,
        random_gray_scale: float = 0.2,
        gaussian_blur: float = 0.0,
        kernel_size: float | None = None,
        sigmas: tuple[float, float] = (0.2, 2),
        vf_prob: float = 0.0,
        hf_prob: float = 0.5,
        rr_prob: float = 0.0,
        rr_degrees: float | tuple[float, float] | None = None,
        normalize: dict[str, list[float]] = IMAGENET_NORMALIZE,
        *,
        crop: SpecLike = 0.0,
        blur: SpecLike = None,
        color: SpecLike = None,
        crop_or_blur: float | None = None,
        seed: int | None = None,
    ) -> None:
        _warn_ignored_kernel(type(self).__name__, kernel_size=kernel_size)
        view = SimCLRViewTransform(
            input_size=input_size,
            cj_prob=cj_prob,
            cj_strength=cj_strength,
            cj_bright=1.0,
            cj_contrast=1.0,
            cj_sat=1.0,
            cj_hue=1.0,
            min_scale=min_scale,
            random_gray_scale=random_gray_scale,
            gaussian_blur=gaussian_blur,
            sigmas=sigmas,
            vf_prob=vf_prob,
            hf_prob=hf_prob,
            rr_prob=rr_prob,
            rr_degrees=rr_degrees,
            normalize=normalize,
        )
        super().__init__(view, crop, blur, color, crop_or_blur=crop_or_blur, seed=seed)


class JointDINOCollateFunction(JointCollateFunction):
    """Joint drop-in for lightly 1.5's ``DINOCollateFunction``: same arguments and defaults (jitter
    strengths taken as they are, not scaled), built from lightly's ``DINOTransform``. Returns
    ``([global_1, global_2, local_1, ...], labels, filenames)``.

    Args (lightly 1.5's): ``global_crop_size``, ``global_crop_scale``, ``local_crop_size``,
    ``local_crop_scale``, ``n_local_views``, ``hf_prob``, ``vf_prob``, ``rr_prob``, ``rr_degrees``,
    ``cj_prob``, ``cj_bright``, ``cj_contrast``, ``cj_sat``, ``cj_hue``, ``random_gray_scale``,
    ``gaussian_blur`` (probabilities for global 1, global 2, locals), ``kernel_size`` / ``kernel_scale``
    (deprecated, ignored as in lightly 1.5), ``sigmas``, ``solarization_prob``, ``normalize``; see
    :class:`JointDINOTransform`. Joint options (keyword only): ``crop`` (default JointCrop(0)), ``joint``
    (``"global"`` default, ``"local"``, ``"both"``), ``blur``, ``color``, ``crop_or_blur``, ``seed``.
    """

    _strict = True

    def __init__(
        self,
        global_crop_size: int = 224,
        global_crop_scale: tuple[float, float] = (0.4, 1.0),
        local_crop_size: int = 96,
        local_crop_scale: tuple[float, float] = (0.05, 0.4),
        n_local_views: int = 6,
        hf_prob: float = 0.5,
        vf_prob: float = 0,
        rr_prob: float = 0,
        rr_degrees: float | tuple[float, float] | None = None,
        cj_prob: float = 0.8,
        cj_bright: float = 0.4,
        cj_contrast: float = 0.4,
        cj_sat: float = 0.2,
        cj_hue: float = 0.1,
        random_gray_scale: float = 0.2,
        gaussian_blur: tuple[float, float, float] = (1.0, 0.1, 0.5),
        kernel_size: float | None = None,
        kernel_scale: float | None = None,
        sigmas: tuple[float, float] = (0.1, 2),
        solarization_prob: float = 0.2,
        normalize: dict[str, list[float]] = IMAGENET_NORMALIZE,
        *,
        crop: SpecLike = 0.0,
        joint: str | None = None,
        blur: SpecLike = None,
        color: SpecLike = None,
        crop_or_blur: float | None = None,
        seed: int | None = None,
    ) -> None:
        _warn_ignored_kernel(type(self).__name__, kernel_size=kernel_size, kernel_scale=kernel_scale)
        mode, crop_spec = multicrop_mode(crop, joint)
        pairs = multicrop_pairs(2, n_local_views, mode)
        # lightly 1.5 used the strengths as given; 1.6's DINOTransform multiplies them by cj_strength, and
        # gives the second global view its default strength 0.5. With 0.5 and doubled strengths every view
        # gets exactly lightly 1.5's jitter.
        base = DINOTransform(
            global_crop_size=global_crop_size,
            global_crop_scale=global_crop_scale,
            local_crop_size=local_crop_size,
            local_crop_scale=local_crop_scale,
            n_local_views=n_local_views,
            hf_prob=hf_prob,
            vf_prob=vf_prob,
            rr_prob=rr_prob,
            rr_degrees=rr_degrees,
            cj_prob=cj_prob,
            cj_strength=0.5,
            cj_bright=2 * cj_bright,
            cj_contrast=2 * cj_contrast,
            cj_sat=2 * cj_sat,
            cj_hue=2 * cj_hue,
            random_gray_scale=random_gray_scale,
            gaussian_blur=gaussian_blur,
            sigmas=sigmas,
            solarization_prob=solarization_prob,
            normalize=normalize,
        )
        self.multicrop = mode
        super().__init__(base, crop_spec, blur, color, pairs=pairs, crop_or_blur=crop_or_blur, seed=seed)
