"""How a user switches one joint augmentation on: a β, ``None``, or a dict of options."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Union

from ._checks import check_real

DEFAULT_MARGIN = 0.1

SpecLike = Union[None, float, int, "JointSpec", Mapping[str, Any]]


@dataclass(frozen=True)
class JointSpec:
    """Options of one joint augmentation.

    Args:
        beta: Difficulty of the pairs, any finite real. ``0`` is the published JointX(0) (log-ratio
            uniform), ``beta > 0`` moves mass toward equal parameters (easier pairs), ``beta < 0`` toward
            the extremes (harder pairs).
        margin: Subtracted from the parameter ratio ``hi/lo`` before taking the log, so the first
            parameter never has an empty interval to come from. For a ratio coupling ``hi/lo - margin``
            must stay above 1; for a difference coupling it is a fraction of ``hi - lo`` in [0, 1).
        sigma: Scale of the truncated Gaussian in log-ratio units; default ``L / |beta|``. Only used
            when ``beta != 0``; must be positive.
        options: Further options one augmentation accepts (e.g. ``joint`` for multi-crop).
    """

    beta: float = 0.0
    margin: float = DEFAULT_MARGIN
    sigma: float | None = None
    options: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "beta", check_real(self.beta, "beta"))
        margin = check_real(self.margin, "margin")
        if margin < 0:
            raise ValueError(f"margin must be >= 0, got {margin}")
        object.__setattr__(self, "margin", margin)
        if self.sigma is not None:
            sigma = check_real(self.sigma, "sigma")
            if sigma <= 0:
                raise ValueError(f"sigma must be > 0 (or None for L/|beta|), got {sigma}")
            object.__setattr__(self, "sigma", sigma)
        object.__setattr__(self, "options", dict(self.options))

    @classmethod
    def parse(cls, value: SpecLike, name: str, extra_keys: Iterable[str] = ()) -> JointSpec | None:
        """Turn what a user wrote (``None``, a β, or an options dict) into a spec.

        Args:
            value: ``None`` (off), a finite β, a ``JointSpec``, or a mapping with keys ``beta``, ``margin``,
                ``sigma`` and the ``extra_keys`` of that augmentation.
            name: The argument the user set, named in errors (``crop``, ``blur`` ...).
            extra_keys: Option keys accepted besides ``beta``, ``margin`` and ``sigma``.
        """
        if value is None:
            return None
        if isinstance(value, JointSpec):
            return value
        if isinstance(value, Mapping):
            allowed = ("beta", "margin", "sigma", *extra_keys)
            unknown = sorted(str(k) for k in value if k not in allowed)
            if unknown:
                raise ValueError(f"{name} has unknown option(s) {', '.join(unknown)}; valid keys: {', '.join(allowed)}")
            options = {k: v for k, v in value.items() if k in extra_keys}
            try:
                return cls(
                    beta=value.get("beta", 0.0),
                    margin=value.get("margin", DEFAULT_MARGIN),
                    sigma=value.get("sigma"),
                    options=options,
                )
            except (TypeError, ValueError) as err:
                raise type(err)(f"{name}: {err}") from None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(
                f"{name} must be None (off), a finite beta, or a dict of options; got {value!r} "
                f"of type {type(value).__name__}"
            )
        if not math.isfinite(value):
            raise ValueError(f"{name}: beta must be finite, got {value}")
        return cls(beta=float(value))


def parse_specs(options: Mapping[str, SpecLike], classes: Mapping[str, type]) -> dict[str, JointSpec | None]:
    """Parse the user's options per kind; ``classes`` maps a kind to the joint transform class whose
    ``option_keys`` it accepts (a kind not in ``classes`` accepts only ``beta``, ``margin``, ``sigma``)."""
    return {
        kind: JointSpec.parse(value, kind, tuple(getattr(classes.get(kind), "option_keys", ())))
        for kind, value in options.items()
    }
