"""Base classes of the joint transforms.

A joint transform is a torchvision v2 transform whose ``make_params`` either draws on its own (used
alone it behaves exactly like the transform it replaces) or, inside a coordinator, takes its half
of a pair's joint draw. Subclasses say how to draw alone (``make_single_params``), how to draw a
pair (``make_pair_params``), and how to apply the parameters (``transform``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import PIL.Image
import torch
from torchvision.transforms.v2 import Transform
from torchvision.transforms.v2._utils import query_size

from .._checks import check_probability, check_range
from ..draw import active_view
from ..sampling import Coupling, half_width, pair_from_uniforms
from ..spec import JointSpec


def describe_input(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"numpy.ndarray of shape {value.shape}"
    if isinstance(value, torch.Tensor):
        return f"tensor of shape {tuple(value.shape)}"
    return type(value).__name__


class JointTransform(Transform):
    """A transform whose random parameters can be drawn jointly with another view's.

    Class attributes:
        kind: The name under which the coordinator's options switch it on (``"crop"``, ``"blur"`` ...).
        option_keys: Extra option keys its ``JointSpec`` accepts besides ``beta``, ``margin``, ``sigma``.
        pil_modes: PIL modes it can process (``None``: all).
    """

    kind: ClassVar[str] = ""
    option_keys: ClassVar[tuple[str, ...]] = ()
    pil_modes: ClassVar[tuple[str, ...] | None] = None

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
            height, width = (image.shape[-2], image.shape[-1]) if isinstance(image, torch.Tensor) else image.size[::-1]
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
        return self.params_for_size(tuple(query_size(flat_inputs)))

    def params_for_size(self, size: tuple[int, int]) -> dict[str, Any]:
        """This view's parameters for an image of ``size = (height, width)``: its half of the pair's
        joint draw inside a coordinator, else a draw of its own.

        Adapters whose transforms are not torchvision's (mmcv's results dicts) hold a joint transform
        as ``joint_source`` and call this to get their parameters.
        """
        active = active_view()
        if active is None:
            return self.make_single_params(size, None)
        draw, view = active
        return draw.params_for(self, view, size)

    def make_single_params(self, size: tuple[int, int], generator: torch.Generator | None) -> dict[str, Any]:
        """Parameters for one view drawn on their own, as the replaced transform draws them."""
        raise NotImplementedError

    def make_pair_params(
        self, size: tuple[int, int], spec: JointSpec, generator: torch.Generator | None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Parameters of both views of a pair, drawn jointly under ``spec``."""
        raise NotImplementedError

    def pairing_key(self) -> tuple:
        """The settings two paired instances must share for a joint draw to make sense."""
        raise NotImplementedError

    def view_params(self, params: dict[str, Any]) -> dict[str, Any]:
        """This view's final parameters from its half of a pair's draw, made by the *other* view's
        transform when that one asked first; settings that may differ per view (an apply probability)
        are applied here. Default: unchanged."""
        return params

    def check_spec(self, spec: JointSpec, name: str) -> None:
        """Raise ``ValueError`` if ``spec`` cannot be used with this transform's settings."""


def uniforms(n: int, generator: torch.Generator | None) -> list[float]:
    """``n`` uniforms in [0, 1) as Python floats: one generator call, cheap enough per image."""
    return torch.rand(n, generator=generator, dtype=torch.float64).tolist()


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

    def __init__(self, value_range: Sequence[float], p: float = 1.0) -> None:
        super().__init__()
        lower, upper = self.range_bounds
        setattr(self, self.range_name, check_range(value_range, self.range_name, lower=lower, upper=upper))
        self.p = check_probability(p, "p")

    @property
    def value_range(self) -> tuple[float, float]:
        """The ``(min, max)`` range of the parameter (stored under ``range_name``)."""
        return getattr(self, self.range_name)

    def make_single_params(self, size, generator):
        u = uniforms(2, generator)
        lo, hi = self.value_range
        return {self.param: lo + u[0] * (hi - lo), "apply": u[1] < self.p}

    def make_pair_params(self, size, spec, generator):
        u = uniforms(4, generator)
        lo, hi = self.value_range
        if lo == hi:
            first, second = lo, hi
        else:
            first, second = pair_from_uniforms(u[0], u[1], lo, hi, spec, self.coupling)
        # Each view decides with its own probability (SimCLR 0.5 / 0.5, BYOL 1.0 / 0.1): see view_params.
        return {self.param: first, "coin": u[2]}, {self.param: second, "coin": u[3]}

    def view_params(self, params: dict[str, Any]) -> dict[str, Any]:
        return {self.param: params[self.param], "apply": params["coin"] < self.p}

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
