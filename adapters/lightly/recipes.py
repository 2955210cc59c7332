"""lightly's recipes with joint views: same arguments and defaults as lightly's, plus the joint options.

Each recipe is one line on :class:`JointRecipe`: build lightly's own recipe with the user's arguments,
then make its views joint (its crop, blur and jitter swapped for joint versions with the same settings,
everything else lightly's, untouched). The signature a user sees (``help``, ``inspect.signature``) is
lightly's, read from the installed lightly, followed by the keyword-only joint options.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any, ClassVar

from lightly.transforms import (
    BYOLTransform,
    DINOTransform,
    MoCoV1Transform,
    MoCoV2Transform,
    SimCLRTransform,
    SimSiamTransform,
    VICRegTransform,
)

from ..._checks import refuse_misnamed
from ...options import DEFAULTS, JointOptions, option_keys
from .multiview import JointMultiViewTransform

__all__ = [
    "JointBYOLTransform",
    "JointDINOTransform",
    "JointMoCoV1Transform",
    "JointMoCoV2Transform",
    "JointRecipe",
    "JointSimCLRTransform",
    "JointSimSiamTransform",
    "JointVICRegTransform",
]

#: The joint options as keyword-only parameters, read from the one option set (defaults included), then
#: ``**options`` for the kinds of plugins.
JOINT_PARAMETERS = (
    *(inspect.Parameter(key, inspect.Parameter.KEYWORD_ONLY, default=value) for key, value in DEFAULTS.items()),
    inspect.Parameter("options", inspect.Parameter.VAR_KEYWORD),
)


class JointRecipe(JointMultiViewTransform):
    """Base of the recipes: lightly's recipe ``recipe`` built with the user's arguments, its views joint.

    A new recipe is ``class JointXTransform(JointRecipe, recipe=XTransform): "docstring"``. Its signature
    is ``recipe``'s followed by the joint options (keyword only, from :data:`jointaug_plugins.options.DEFAULTS`,
    then ``**options`` for plugin kinds); the lightly arguments go to ``recipe`` unchanged, the joint options
    are parsed once by :meth:`JointOptions.parse <jointaug_plugins.JointOptions.parse>`.
    """

    recipe: ClassVar[type]

    if TYPE_CHECKING:  # each recipe's constructor is made below from its lightly recipe's signature

        def __init__(self, *args: Any, **kwargs: Any) -> None: ...

    def __init_subclass__(cls, recipe: type | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if recipe is None:  # a subclass of a recipe: keeps its parent's recipe and constructor
            return
        cls.recipe = recipe
        lightly_params = list(inspect.signature(recipe).parameters.values())
        names = [p.name for p in lightly_params]
        signature = inspect.Signature(lightly_params + list(JOINT_PARAMETERS))

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            try:
                bound = signature.bind(*args, **kwargs)
            except TypeError as err:
                raise TypeError(f"{type(self).__name__}: {err}") from None
            joint = {k: v for k, v in bound.arguments.items() if k not in names and k != "options"}
            joint.update(bound.arguments.get("options", {}))
            refuse_misnamed(type(self).__name__, joint, names, option_keys())
            parsed = JointOptions.parse(joint)
            self._joint(self.recipe(**{n: bound.arguments[n] for n in names if n in bound.arguments}), parsed)

        self_param = inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)
        __init__.__signature__ = signature.replace(parameters=[self_param, *signature.parameters.values()])
        __init__.__qualname__ = f"{cls.__qualname__}.__init__"
        __init__.__doc__ = f"See :class:`{cls.__name__}`."
        cls.__init__ = __init__  # type: ignore[method-assign]  # the constructor with lightly's signature

    def _joint(self, base: Any, options: JointOptions) -> None:
        """Make ``base``'s views joint (a recipe with its own layout of views overrides this)."""
        JointMultiViewTransform.__init__(self, base.transforms, options)


_JOINT_ARGS = """
    Joint options (keyword only): the joint options, see :class:`~jointaug_plugins.JointOptions` (``crop``,
    ``blur``, ``color`` each ``None`` for lightly's independent draws, a β or an options dict; default
    JointCrop(0), blur and colour off; with ``reproducible=True`` wrap the dataset with
    ``jointaug_plugins.indexed``).

    Raises:
        UnknownOptionError: a key that is no joint option (the one message of every entry point).
        ValueError: a bad option, or settings that cannot be drawn jointly for a kind switched on
            (e.g. ``min_scale=0.95`` with ``crop`` on, or paired views with different ranges).
"""


def _view_args(extra: str = "") -> str:
    """The Args section of the recipes built from lightly's view transform (``SimCLRViewTransform`` ...)."""
    return (
        """
    lightly's arguments, with the same names, order and defaults:

    Args:
        input_size: Output size of each view in pixels, ``>= 1``.
        cj_prob: Probability in [0, 1] that the colour jitter is applied (per view).
        cj_strength: Factor multiplying ``cj_bright``, ``cj_contrast``, ``cj_sat`` and ``cj_hue``, ``>= 0``.
        cj_bright, cj_contrast, cj_sat: Jitter strengths ``>= 0`` (factor range ``[1 - s, 1 + s]``).
        cj_hue: Hue jitter in [0, 0.5].
        min_scale: Smallest crop area as a fraction of the image, in (0, 1); crops span ``(min_scale, 1)``.
        random_gray_scale: Probability in [0, 1] of converting a view to grayscale.
{extra}        gaussian_blur: Probability in [0, 1] that a view is blurred.
        sigmas: ``(min, max)`` of the blur sigma in pixels, ``0 < min <= max``.
        vf_prob, hf_prob: Probabilities in [0, 1] of a vertical / horizontal flip.
        rr_prob: Probability in [0, 1] of a random rotation.
        rr_degrees: ``None`` (90° rotations), an angle ``d`` (uniform in ``[-d, d]``) or ``(min, max)``.
        normalize: ``{"mean": [...], "std": [...]}`` for ``Normalize``, or ``None`` to skip it.
"""
    ).replace("{extra}", extra) + _JOINT_ARGS


class JointSimCLRTransform(JointRecipe, recipe=SimCLRTransform):
    __doc__ = "lightly's ``SimCLRTransform`` (SimCLR v1/v2 views) with joint views.\n" + _view_args()


class JointMoCoV1Transform(JointRecipe, recipe=MoCoV1Transform):
    __doc__ = "lightly's ``MoCoV1Transform`` with joint views.\n" + _view_args()


class JointMoCoV2Transform(JointRecipe, recipe=MoCoV2Transform):
    __doc__ = "lightly's ``MoCoV2Transform`` with joint views.\n" + _view_args()


class JointSimSiamTransform(JointRecipe, recipe=SimSiamTransform):
    __doc__ = "lightly's ``SimSiamTransform`` with joint views.\n" + _view_args()


class JointVICRegTransform(JointRecipe, recipe=VICRegTransform):
    __doc__ = "lightly's ``VICRegTransform`` with joint views.\n" + _view_args(
        "        solarize_prob: Probability in [0, 1] of solarising a view.\n"
    )


class JointBYOLTransform(JointRecipe, recipe=BYOLTransform):
    __doc__ = (
        """lightly's ``BYOLTransform`` with joint views.

    The two asymmetric views keep their own recipes (blur probability 1.0 / 0.1, solarisation on view 2);
    only the paired parameters are drawn jointly, so paired transforms need the same ranges in both view
    configs (the crops' ``min_scale``, the blur's ``sigmas``, the jitter strengths for ``color``); a
    mismatch is refused when the transform is built.

    lightly's arguments:

    Args:
        view_1_transform: lightly's ``BYOLView1Transform`` (its arguments: ``input_size``, ``cj_*``,
            ``min_scale``, ``gaussian_blur``, ``solarization_prob``, ``sigmas`` ...); ``None`` for the default.
        view_2_transform: lightly's ``BYOLView2Transform``; ``None`` for the default.
"""
        + _JOINT_ARGS
    )


class JointDINOTransform(JointRecipe, recipe=DINOTransform):
    __doc__ = (
        """lightly's ``DINOTransform`` with joint multi-crop views (paper, appendix D).

    Views: ``[global_1, global_2, local_1, ..., local_n]``, lightly's recipes, laid out ``[2, n_local_views]``:
    the joint option ``multicrop`` selects the joint pairs, ``"global"`` (the two global views; ``None``: the
    default, as everywhere), ``"local"`` (locals paired (1, 2), (3, 4) ...; an odd last local is drawn
    independently) or ``"both"``. ``self.multicrop`` is the mode in use.

    lightly's arguments, with the same names, order and defaults:

    Args:
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
        gaussian_blur: Blur probabilities ``(global_1, global_2, locals)``, each in [0, 1].
        sigmas: ``(min, max)`` of the blur sigma in pixels.
        solarization_prob: Probability in [0, 1] of solarising the second global view.
        normalize: ``{"mean", "std"}`` for ``Normalize`` or ``None``.
"""
        + _JOINT_ARGS
    )
    multicrop: str

    def _joint(self, base: Any, options: JointOptions) -> None:
        JointMultiViewTransform.__init__(self, base.transforms, options, layout=[2, len(base.transforms) - 2])
        self.multicrop = options.multicrop or "global"
