"""How a user switches one joint augmentation on: a β, ``None``, or a dict of options."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Union

from ._checks import check_real, did_you_mean
from .schedule import BetaSchedule

DEFAULT_MARGIN = 0.1

SpecLike = Union[None, float, int, str, "JointSpec", Mapping[str, Any]]


@dataclass(frozen=True)
class JointSpec:
    """Options of one joint augmentation.

    Args:
        beta: Difficulty of the pairs, any finite real. ``0`` is the published JointX(0) (log-ratio
            uniform), ``beta > 0`` moves mass toward equal parameters (easier pairs), ``beta < 0`` toward
            the extremes (harder pairs). Or a schedule over training epochs: a
            :class:`~jointaug_plugins.schedule.BetaSchedule` or its dict (``{"start": 2.0, "end": -1.0,
            "shape": "linear", "epochs": 100}``); :meth:`at` gives the spec in force at an epoch.
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
        if isinstance(self.beta, (Mapping, BetaSchedule)):
            object.__setattr__(self, "beta", BetaSchedule.parse(self.beta, "beta"))
        else:
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

    @property
    def scheduled(self) -> bool:
        """Whether β follows a schedule over epochs."""
        return isinstance(self.beta, BetaSchedule)

    def at(self, epoch: int | None) -> JointSpec:
        """The spec in force at ``epoch`` (an int ``>= 0``; ``None``: epoch 0): β a number. A spec without
        a schedule is returned as it is."""
        if not isinstance(self.beta, BetaSchedule):
            return self
        return dataclasses.replace(self, beta=self.beta.at(0 if epoch is None else epoch))

    def describe(self) -> str:
        """``β=0``, or ``β linear 2→-1 over 100 epochs``, plus options that differ from the defaults."""
        beta = f"β={self.beta:g}" if not self.scheduled else f"β {self.beta}"
        extra = [f"{k}={v}" for k, v in self.options.items()]
        return ", ".join([beta, *extra]) if extra else beta

    @classmethod
    def parse(
        cls,
        value: SpecLike,
        name: str,
        extra_keys: Iterable[str] = (),
        presets: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> JointSpec | None:
        """Turn what a user wrote (``None``, a β, a preset name, or an options dict) into a spec.

        Args:
            value: ``None`` (off), a finite β, the name of a preset (``"published"`` for crop), a
                ``JointSpec``, or a mapping with keys ``beta`` (a number or a schedule dict), ``margin``,
                ``sigma`` and the ``extra_keys`` of that augmentation.
            name: The argument the user set, named in errors (``crop``, ``blur`` ...).
            extra_keys: Option keys accepted besides ``beta``, ``margin`` and ``sigma``.
            presets: Named option dicts this augmentation accepts as a string.
        """
        if value is None:
            return None
        if isinstance(value, JointSpec):
            return value
        if isinstance(value, str):
            presets = presets or {}
            if value not in presets:
                offered = ", ".join(repr(p) for p in presets) or "none for this augmentation"
                raise TypeError(
                    f"{name} must be None (off), a finite beta, a preset name (presets: {offered}), or a dict of "
                    f"options; got the string {value!r}"
                )
            value = presets[value]
        if isinstance(value, Mapping):
            allowed = ("beta", "margin", "sigma", *extra_keys)
            unknown = sorted(str(k) for k in value if k not in allowed)
            if unknown:
                hint = did_you_mean(unknown[0], allowed)
                raise ValueError(
                    f"{name} has unknown option(s) {', '.join(unknown)}{hint}; valid keys: {', '.join(allowed)}"
                )
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
                f"{name} must be None (off), a finite beta, a preset name, or a dict of options; got {value!r} "
                f"of type {type(value).__name__}"
            )
        if not math.isfinite(value):
            raise ValueError(f"{name}: beta must be finite, got {value}")
        return cls(beta=float(value))


def parse_specs(
    options: Mapping[str, SpecLike], classes: Mapping[str, type], prefix: str = ""
) -> dict[str, JointSpec | None]:
    """Parse the user's options per kind; ``classes`` maps a kind to the joint transform class whose
    ``option_keys`` and ``presets`` it accepts (a kind not in ``classes`` accepts only ``beta``, ``margin``,
    ``sigma``). ``prefix`` is put before each kind in errors (``"jointaug."``)."""
    return {
        kind: JointSpec.parse(
            value,
            prefix + kind,
            tuple(getattr(classes.get(kind), "option_keys", ())),
            getattr(classes.get(kind), "presets", None),
        )
        for kind, value in options.items()
    }


def describe_specs(specs: Mapping[str, JointSpec | None]) -> str:
    """``crop β=0, blur β linear 2→-1 over 100 epochs``: the kinds switched on."""
    return ", ".join(f"{kind} {spec.describe()}" for kind, spec in specs.items() if spec is not None) or "none"
