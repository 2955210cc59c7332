"""Joint sampling of one scalar parameter for the two views of a pair.

The method (DESIGN.md §1): draw the log-ratio ``t = ln(p2/p1)`` from ``JC(beta)`` on ``[-L, L]``
with ``L = ln(hi/lo - margin)``, then ``p1`` uniformly among the values that keep ``p2 = e^t p1``
inside ``[lo, hi]``. A difference coupling (hue) draws ``d = p2 - p1`` the same way, with
``L = (1 - margin) (hi - lo)``.

Every draw is a deterministic function of uniforms, laid out in a fixed order, so the scalar path
(plain Python, used once per image in the data loader) and the batched path (torch, ``n`` draws in
one call) give the same numbers for the same uniforms.
"""

from __future__ import annotations

import functools
import math
from statistics import NormalDist
from typing import Literal

import torch

from ._checks import check_choice, check_int, check_range, check_real
from .spec import DEFAULT_MARGIN, JointSpec

Coupling = Literal["ratio", "difference"]
COUPLINGS = ("ratio", "difference")
_STANDARD_NORMAL = NormalDist()


def half_width(
    lo: float, hi: float, coupling: Coupling = "ratio", margin: float = DEFAULT_MARGIN, name: str = "range"
) -> float:
    """``L``, the largest ``|t|`` a pair may have on ``[lo, hi]``.

    Args:
        lo, hi: The parameter range, ``lo < hi``; ``lo > 0`` for a ratio coupling.
        coupling: ``"ratio"`` (``t = ln(p2/p1)``) or ``"difference"`` (``t = p2 - p1``).
        margin: See :class:`JointSpec`.
        name: The argument the range came from, named in errors.
    """
    check_choice(coupling, "coupling", COUPLINGS)
    lo, hi = check_range((lo, hi), name, allow_equal=False)
    margin = check_real(margin, "margin")
    if coupling == "ratio":
        if lo <= 0:
            raise ValueError(
                f"{name}=({lo:g}, {hi:g}) reaches 0 or below, so a ratio coupling cannot be used; "
                "a joint ratio needs 0 < min < max (use a range with min > 0)"
            )
        spread = hi / lo - margin
        if spread <= 1:
            raise ValueError(
                f"{name}=({lo:g}, {hi:g}) with margin={margin:g} leaves no room for a joint ratio: "
                f"max/min - margin must be > 1, got {spread:g}"
            )
        return math.log(spread)
    if not 0 <= margin < 1:
        raise ValueError(f"{name}: margin must be in [0, 1) for a difference coupling, got {margin:g}")
    return (1.0 - margin) * (hi - lo)


@functools.lru_cache(maxsize=1024)
def _cached_half_width(lo: float, hi: float, coupling: Coupling, margin: float) -> float:
    # The per-image draws ask again and again for the few ranges a pipeline holds (checked when built).
    return half_width(lo, hi, coupling, margin)


def jc_scale(beta: float, half: float, sigma: float | None = None) -> float:
    """The Gaussian scale of ``JC(beta)``: ``sigma`` if given, else ``L / |beta|``."""
    if sigma is not None:
        return sigma
    return half / abs(beta)


def _is_uniform(beta: float, half: float, sigma: float | None) -> bool:
    """``JC(beta)`` is uniform at ``beta = 0`` and, to double precision, wherever the Gaussian is so
    wide that it is flat on ``[-L, L]`` (``beta -> 0``, where ``L / beta`` may even overflow)."""
    return beta == 0 or half / jc_scale(beta, half, sigma) < 1e-6


def _truncated_normal_bounds(half: float, scale: float) -> tuple[float, float]:
    z = half / scale
    return _STANDARD_NORMAL.cdf(-z), _STANDARD_NORMAL.cdf(z)


def jc_from_uniform(u: float, beta: float, half: float, sigma: float | None = None) -> float:
    """One ``JC(beta)`` draw on ``[-half, half]`` from a uniform ``u`` in [0, 1) (inverse CDF)."""
    if _is_uniform(beta, half, sigma):
        return (2.0 * u - 1.0) * half
    scale = jc_scale(beta, half, sigma)
    a, b = _truncated_normal_bounds(half, scale)
    p = a + u * (b - a)
    # The inverse normal CDF is infinite at 0 and 1 (where a or b underflow, scale << L): t is then
    # clamped to -L or L, as torch.special.ndtri's infinities are in the batched path.
    if p <= 0.0:
        t = -half
    elif p >= 1.0:
        t = half
    else:
        t = min(max(scale * _STANDARD_NORMAL.inv_cdf(p), -half), half)
    if beta < 0:
        t = half - t if t >= 0 else -half - t
    return t


def jc_from_uniform_batch(u: torch.Tensor, beta: float, half: float, sigma: float | None = None) -> torch.Tensor:
    """Vectorised :func:`jc_from_uniform` (float64)."""
    u = u.to(torch.float64)
    if _is_uniform(beta, half, sigma):
        return (2.0 * u - 1.0) * half
    scale = jc_scale(beta, half, sigma)
    a, b = _truncated_normal_bounds(half, scale)
    t = (scale * torch.special.ndtri(a + u * (b - a))).clamp_(-half, half)
    if beta < 0:
        t = torch.where(t >= 0, half - t, -half - t)
    return t


def pair_from_uniforms(
    u_t: float,
    u_p: float,
    lo: float,
    hi: float,
    spec: JointSpec,
    coupling: Coupling = "ratio",
    half: float | None = None,
) -> tuple[float, float]:
    """One joint pair ``(p1, p2)`` from two uniforms; ``half`` may be passed if already known."""
    if half is None:
        half = _cached_half_width(lo, hi, coupling, spec.margin)
    t = jc_from_uniform(u_t, spec.beta, half, spec.sigma)
    if coupling == "ratio":
        r = math.exp(t)
        first_lo, first_hi = max(lo, lo / r), min(hi, hi / r)
        # Rounding may push p1 an ulp out of [lo, hi] when |t| = L and margin = 0: keep it inside.
        p1 = min(max(first_lo + u_p * (first_hi - first_lo), lo), hi)
        return p1, min(max(r * p1, lo), hi)
    first_lo, first_hi = max(lo, lo - t), min(hi, hi - t)
    p1 = min(max(first_lo + u_p * (first_hi - first_lo), lo), hi)
    return p1, min(max(p1 + t, lo), hi)


def pairs_from_uniforms_batch(
    u_t: torch.Tensor, u_p: torch.Tensor, lo: float, hi: float, spec: JointSpec, coupling: Coupling = "ratio"
) -> torch.Tensor:
    """Vectorised :func:`pair_from_uniforms`: returns an ``(n, 2)`` float64 tensor."""
    half = _cached_half_width(lo, hi, coupling, spec.margin)
    t = jc_from_uniform_batch(u_t, spec.beta, half, spec.sigma)
    u_p = u_p.to(torch.float64)
    if coupling == "ratio":
        r = torch.exp(t)
        first_lo = torch.clamp(lo / r, min=lo)
        first_hi = torch.clamp(hi / r, max=hi)
        p1 = (first_lo + u_p * (first_hi - first_lo)).clamp_(lo, hi)
        p2 = (r * p1).clamp_(lo, hi)
    else:
        first_lo = torch.clamp(lo - t, min=lo)
        first_hi = torch.clamp(hi - t, max=hi)
        p1 = (first_lo + u_p * (first_hi - first_lo)).clamp_(lo, hi)
        p2 = (p1 + t).clamp_(lo, hi)
    return torch.stack((p1, p2), dim=-1)


def sample_pairs(
    lo: float,
    hi: float,
    beta: float | None,
    n: int,
    coupling: Coupling = "ratio",
    margin: float = DEFAULT_MARGIN,
    sigma: float | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Draw ``n`` pairs ``(p1, p2)`` of a scalar parameter with range ``[lo, hi]``.

    Args:
        lo, hi: Parameter range, ``lo < hi`` (``lo > 0`` for ``coupling="ratio"``).
        beta: Difficulty, any finite real (see :class:`JointSpec`); ``None`` draws the two parameters
            independently and uniformly, the baseline the method replaces.
        n: Number of pairs, ``n >= 0``.
        coupling: ``"ratio"`` couples ``ln(p2/p1)`` (crop area, blur sigma, brightness ...);
            ``"difference"`` couples ``p2 - p1`` (hue).
        margin: See :class:`JointSpec`.
        sigma: Gaussian scale in log-ratio units, default ``L/|beta|``.
        generator: Source of randomness; ``None`` uses torch's default generator.

    Returns:
        An ``(n, 2)`` float64 tensor; both columns lie in ``[lo, hi]``.
    """
    check_int(n, "n", 0)
    check_choice(coupling, "coupling", COUPLINGS)
    if beta is None:
        lo, hi = check_range((lo, hi), "range", allow_equal=False)
        u = torch.rand(n, 2, generator=generator, dtype=torch.float64)
        return lo + u * (hi - lo)
    spec = JointSpec(beta=beta, margin=margin, sigma=sigma)
    u = torch.rand(n, 2, generator=generator, dtype=torch.float64)
    return pairs_from_uniforms_batch(u[:, 0], u[:, 1], lo, hi, spec, coupling)


# Closed forms, used by tests and by `jointaug stats`.


def jc_cdf(t: torch.Tensor | float, beta: float, half: float, sigma: float | None = None):
    """CDF of ``JC(beta)`` on ``[-half, half]`` (numpy-compatible, for goodness-of-fit tests)."""
    import numpy as np
    from scipy import stats

    x = np.clip(np.asarray(t, dtype=np.float64), -half, half)
    if _is_uniform(beta, half, sigma):
        return (x + half) / (2 * half)
    scale = jc_scale(beta, half, sigma)
    base = stats.truncnorm(-half / scale, half / scale, loc=0.0, scale=scale)
    if beta > 0:
        return base.cdf(x)
    # t = L - t' for t' >= 0 and t = -L - t' for t' < 0: each half of t' is reflected outward.
    # P(T <= t) for t < 0 is P(-L - T' <= t) = P(T' >= -L - t) restricted to T' < 0.
    neg = base.cdf(0.0) - base.cdf(-half - x)
    pos = base.cdf(0.0) + (base.cdf(half) - base.cdf(half - x))
    return np.where(x < 0, neg, pos)


def independent_ratio_sf(r: float, lo: float, hi: float) -> float:
    """``P(p2/p1 > r)`` for ``p1, p2`` independent uniform on ``[lo, hi]`` and ``r >= 1``."""
    if r < 1:
        raise ValueError(f"r must be >= 1, got {r}")
    top = max(hi / r - lo, 0.0)
    return r * top * top / (2.0 * (hi - lo) ** 2)


def independent_ratio_pdf(r, lo: float, hi: float):
    """Density of ``p2/p1`` for independent uniform ``p1, p2`` on ``[lo, hi]`` (numpy array in, out)."""
    import numpy as np

    r = np.asarray(r, dtype=np.float64)
    norm = 2.0 * (hi - lo) ** 2
    below = (hi**2 - lo**2 / r**2) / norm
    above = (hi**2 / r**2 - lo**2) / norm
    pdf = np.where(r <= 1, below, above)
    return np.where((r >= lo / hi) & (r <= hi / lo), np.maximum(pdf, 0.0), 0.0)


def joint_ratio_sf(r: float, lo: float, hi: float, spec: JointSpec) -> float:
    """``P(p2/p1 > r)`` under ``JC(beta)``, exact for every β: ``P(t > ln r)``."""
    half = half_width(lo, hi, "ratio", spec.margin)
    return float(1.0 - jc_cdf(math.log(r), spec.beta, half, spec.sigma))
