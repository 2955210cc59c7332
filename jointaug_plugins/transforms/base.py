"""Base classes of the joint transforms.

A joint transform is a torchvision v2 transform in two steps, as kornia's augmentations are: a
*draw* of size-free numbers from uniforms (``draw_single`` for a view on its own, ``draw_pair`` for
both views of a pair), then ``params_from_draw(slice, size)``, a pure function giving the pixel
parameters that ``transform`` applies. Inside a coordinator (:class:`~jointaug_plugins.JointViews`)
the draw is already made when the view runs: ``make_params`` takes this transform's slice of it. Used
alone, the transform draws for itself from its own generator and behaves like the one it replaces.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import PIL.Image
import torch
from torchvision.transforms.v2 import Transform

from .._checks import check_probability, check_range
from ..draw import ScalarDraw, SliceDraw, active_view, slice_of
from ..rng import GeneratorSource
from ..sampling import Coupling, half_width, pair_from_uniforms, pairs_from_uniforms_batch
from ..spec import JointSpec

Uniforms = Sequence[float]


def describe_input(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"numpy.ndarray of shape {value.shape}"
    if isinstance(value, torch.Tensor):
        return f"tensor of shape {tuple(value.shape)}"
    return type(value).__name__


def image_size(image: PIL.Image.Image | torch.Tensor) -> tuple[int, int]:
    """``(height, width)`` of a PIL image or a ``(..., H, W)`` tensor."""
    if isinstance(image, PIL.Image.Image):
        return image.height, image.width
    return int(image.shape[-2]), int(image.shape[-1])


def uniforms(n: int, generator: torch.Generator | None) -> list[float]:
    """``n`` uniforms in [0, 1) as Python floats: one generator call, cheap enough per image."""
    return torch.rand(n, generator=generator, dtype=torch.float64).tolist()


def stack_slices(rows: Sequence[SliceDraw]) -> SliceDraw:
    """A batched slice from scalar ones of one class: every field but ``pair`` becomes a tensor."""
    fields = {}
    for f in dataclasses.fields(rows[0]):
        values = [getattr(row, f.name) for row in rows]
        if f.name == "pair":
            fields[f.name] = values[0]
            continue
        tensor = torch.tensor(values)
        # Python floats are float64; torch.tensor would make float32 of them.
        fields[f.name] = torch.tensor(values, dtype=torch.float64) if tensor.is_floating_point() else tensor
    return type(rows[0])(**fields)


class JointTransform(Transform):
    """A transform whose random parameters can be drawn jointly with another view's.

    Class attributes:
        kind: The option that switches it on in a coordinator (``"crop"``, ``"blur"`` ...).
        option_keys: Extra option keys its ``JointSpec`` accepts besides ``beta``, ``margin``, ``sigma``.
        pil_modes: PIL modes it can process (``None``: all).
        single_uniforms / pair_uniforms: How many uniforms ``draw_single`` / ``draw_pair`` consume.
    """

    kind: ClassVar[str] = ""
    option_keys: ClassVar[tuple[str, ...]] = ()
    pil_modes: tuple[str, ...] | None = None  # per instance where it depends on the settings (JointGaussianBlur)
    single_uniforms: ClassVar[int] = 0
    pair_uniforms: ClassVar[int] = 0

    def __init__(self) -> None:
        super().__init__()
        # Used only when the transform runs outside a coordinator; never torch's global generator.
        self._own_rng = GeneratorSource(None)

    # --- the draw ---------------------------------------------------------------------------------

    def draw_single(self, u: Uniforms, pair: int | None = None) -> SliceDraw:
        """This view's slice drawn on its own, as the replaced transform draws, from ``single_uniforms``."""
        raise NotImplementedError

    def draw_pair(
        self, other: JointTransform, spec: JointSpec, u: Uniforms, pair: int | None = None
    ) -> tuple[SliceDraw, SliceDraw]:
        """The slices of this view and of its partner ``other`` (same ``pairing_key``), drawn jointly
        under ``spec`` from ``pair_uniforms`` uniforms."""
        raise NotImplementedError

    def draw_single_batch(self, u: torch.Tensor, pair: int | None = None) -> SliceDraw:
        """Batched ``draw_single``: ``u`` is ``(n, single_uniforms)``; equal to ``n`` scalar draws."""
        return stack_slices([self.draw_single(row, pair) for row in u.tolist()])

    def draw_pair_batch(
        self, other: JointTransform, spec: JointSpec, u: torch.Tensor, pair: int | None = None
    ) -> tuple[SliceDraw, SliceDraw]:
        """Batched ``draw_pair``: ``u`` is ``(n, pair_uniforms)``; equal to ``n`` scalar draws."""
        rows = [self.draw_pair(other, spec, row, pair) for row in u.tolist()]
        return stack_slices([r[0] for r in rows]), stack_slices([r[1] for r in rows])

    def params_from_draw(self, draw: SliceDraw, size: tuple[int, int]) -> dict[str, Any]:
        """The pixel parameters of ``draw`` on an image of ``size = (height, width)`` (a pure function)."""
        raise NotImplementedError

    def pairing_key(self) -> tuple:
        """The settings two paired instances must share for a joint draw to make sense."""
        raise NotImplementedError

    def check_spec(self, spec: JointSpec, name: str) -> None:
        """Raise ``ValueError`` if ``spec`` cannot be used with this transform's settings."""

    # --- torchvision's hooks -------------------------------------------------------------------------

    def check_inputs(self, flat_inputs: list[Any]) -> None:
        images = [x for x in flat_inputs if isinstance(x, (PIL.Image.Image, torch.Tensor))]
        if not images:
            got = ", ".join(describe_input(x) for x in flat_inputs) or "nothing"
            raise TypeError(
                f"{type(self).__name__} takes a PIL image or a (..., C, H, W) tensor, got {got}; for HWC numpy "
                "arrays as mmcv uses, use the transforms of jointaug_plugins.adapters.mmselfsup"
            )
        for image in images:
            if isinstance(image, torch.Tensor) and image.ndim < 3:
                raise TypeError(
                    f"{type(self).__name__} takes tensors shaped (..., C, H, W), got shape {tuple(image.shape)}"
                )
            height, width = image_size(image)
            if height < 1 or width < 1:
                raise ValueError(
                    f"{type(self).__name__} got an image of height {height} and width {width}: both must be >= 1 "
                    f"({describe_input(image)})"
                )
            if isinstance(image, PIL.Image.Image) and self.pil_modes is not None and image.mode not in self.pil_modes:
                raise ValueError(
                    f"{type(self).__name__} cannot process PIL images of mode {image.mode!r}; supported modes: "
                    f"{', '.join(self.pil_modes)} (convert the image, or pass it as a tensor)"
                )

    def make_params(self, flat_inputs: list[Any]) -> dict[str, Any]:
        image = next(x for x in flat_inputs if isinstance(x, (PIL.Image.Image, torch.Tensor)))
        return self.params_for_size(image_size(image))

    def params_for_size(self, size: tuple[int, int]) -> dict[str, Any]:
        """This view's pixel parameters for an image of ``size = (height, width)``: from its slice of the
        coordinator's draw inside one, else from a draw of its own.

        Adapters whose transforms are not torchvision's (mmcv's results dicts) hold a joint transform
        as ``joint_source`` and call this to get their parameters.
        """
        active = active_view()
        if active is None:
            own = self.draw_single(uniforms(self.single_uniforms, self._own_rng.generator))
            return self.params_from_draw(own, size)
        slice_ = active.slice_for(self)
        params = self.params_from_draw(slice_, size)
        active.record(self, slice_, params)
        return params

    # torchvision 0.16-0.20 call these names; 0.21 made them public as check_inputs / make_params / transform.
    def _check_inputs(self, flat_inputs: list[Any]) -> None:
        self.check_inputs(flat_inputs)

    def _get_params(self, flat_inputs: list[Any]) -> dict[str, Any]:
        return self.make_params(flat_inputs)

    def _transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        return self.transform(inpt, params)


def joint_source_of(obj: Any) -> JointTransform | None:
    """The joint transform behind ``obj``: itself, or the ``joint_source`` an adapter's transform holds."""
    if isinstance(obj, JointTransform):
        return obj
    source = getattr(obj, "joint_source", None)
    return source if isinstance(source, JointTransform) else None


class ScalarJointTransform(JointTransform):
    """A joint transform of one scalar parameter applied with probability ``p`` per view.

    A new JointX is a subclass that sets ``kind``, ``param``, ``coupling`` and implements ``apply``;
    see ``JointGaussianBlur``.

    Args:
        value_range: ``(min, max)`` of the parameter, drawn uniformly when used alone.
        p: Probability in [0, 1] that this view applies the operation at all; each view keeps its own.
    """

    param: ClassVar[str] = "value"
    coupling: ClassVar[Coupling] = "ratio"
    range_name: ClassVar[str] = "value_range"
    range_bounds: ClassVar[tuple[float, float]] = (float("-inf"), float("inf"))
    # single: [value, coin]; pair: [t, p1, coin of this view, coin of the partner]
    single_uniforms = 2
    pair_uniforms = 4

    def __init__(self, value_range: Sequence[float], p: float = 1.0) -> None:
        super().__init__()
        lower, upper = self.range_bounds
        setattr(self, self.range_name, check_range(value_range, self.range_name, lower=lower, upper=upper))
        self.p = check_probability(p, "p")

    @property
    def value_range(self) -> tuple[float, float]:
        """The ``(min, max)`` range of the parameter (stored under ``range_name``)."""
        return getattr(self, self.range_name)

    def draw_single(self, u, pair=None) -> ScalarDraw:
        lo, hi = self.value_range
        return ScalarDraw(pair, False, lo + u[0] * (hi - lo), u[1] < self.p)

    def draw_pair(self, other, spec, u, pair=None) -> tuple[ScalarDraw, ScalarDraw]:
        lo, hi = self.value_range
        first, second = (lo, hi) if lo == hi else pair_from_uniforms(u[0], u[1], lo, hi, spec, self.coupling)
        # Each view decides with its own probability (SimCLR 0.5 / 0.5, BYOL 1.0 / 0.1).
        return ScalarDraw(pair, True, first, u[2] < self.p), ScalarDraw(pair, True, second, u[3] < other.p)

    def draw_single_batch(self, u, pair=None) -> ScalarDraw:
        lo, hi = self.value_range
        return ScalarDraw(pair, torch.zeros(u.shape[0], dtype=torch.bool), lo + u[:, 0] * (hi - lo), u[:, 1] < self.p)

    def draw_pair_batch(self, other, spec, u, pair=None) -> tuple[ScalarDraw, ScalarDraw]:
        lo, hi = self.value_range
        if lo == hi:
            values = torch.full((u.shape[0], 2), lo, dtype=torch.float64)
        else:
            values = pairs_from_uniforms_batch(u[:, 0], u[:, 1], lo, hi, spec, self.coupling)
        joint = torch.ones(u.shape[0], dtype=torch.bool)
        return (
            ScalarDraw(pair, joint, values[:, 0], u[:, 2] < self.p),
            ScalarDraw(pair, joint, values[:, 1], u[:, 3] < other.p),
        )

    def params_from_draw(self, draw: SliceDraw, size: tuple[int, int]) -> dict[str, Any]:
        draw = slice_of(draw, ScalarDraw, type(self).__name__)
        return {self.param: draw.value, "apply": bool(draw.apply)}

    def pairing_key(self) -> tuple:
        return (self.value_range,)

    def check_spec(self, spec: JointSpec, name: str) -> None:
        lo, hi = self.value_range
        if lo != hi:
            half_width(lo, hi, self.coupling, spec.margin, name=f"{name}: {type(self).__name__} {self.range_name}")

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        if not params["apply"]:
            return inpt
        return self.apply(inpt, params[self.param])

    def apply(self, inpt: Any, value: float) -> Any:
        """Apply the operation with the drawn parameter ``value``."""
        raise NotImplementedError
