"""Which views pair, and the build-time check that every switched-on kind couples every pair."""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

from ..spec import JointSpec
from ..walk import iter_transforms_within
from .base import JointTransform, joint_source_of


def consecutive_pairs(n_views: int) -> list[tuple[int, int]]:
    """``(0, 1), (2, 3), ...``; an odd last view stays unpaired."""
    return [(i, i + 1) for i in range(0, n_views - 1, 2)]


def check_pairs(pairs: Sequence[Sequence[int]] | None, n_views: int) -> list[tuple[int, int]]:
    """``pairs`` as a list of ``(i, j)`` view indices (``None``: :func:`consecutive_pairs`); each view in at most
    one pair, never with itself, every index in ``[0, n_views)``."""
    if pairs is None:
        return consecutive_pairs(n_views)
    checked, used = [], set()
    for pair in pairs:
        if len(pair) != 2:
            raise ValueError(f"pairs must hold (i, j) index pairs, got {pair!r}")
        a, b = (int(x) for x in pair)
        for v in (a, b):
            if not 0 <= v < n_views:
                raise ValueError(f"pairs: view index {v} outside [0, {n_views - 1}]")
            if v in used:
                raise ValueError(f"pairs: view {v} appears in more than one pair")
            used.add(v)
        if a == b:
            raise ValueError(f"pairs: a view cannot pair with itself ({a}, {b})")
        checked.append((a, b))
    return checked


def check_pairing(
    slots: Sequence[Sequence[JointTransform]],
    specs: Mapping[str, JointSpec | None],
    pairs: Sequence[tuple[int, int]],
    meant_to_pair: Sequence[int] = (),
    probabilities: Sequence[Mapping[int, float]] | None = None,
) -> frozenset[str]:
    """Refuse a switched-on kind that would not couple every pair; returns the kinds the views hold.

    Args:
        slots: Per view, its joint transforms in pipeline order.
        specs: Per kind, its options (``None``: off).
        pairs: The paired views.
        meant_to_pair: The views the default pairs mean to pair (:meth:`JointOptions.meant_to_pair
            <jointaug_plugins.JointOptions.meant_to_pair>`): one of them in no pair is a warning.
        probabilities: Per view, the probability that each of its joint transforms runs, by ``id``
            (:func:`apply_probabilities`); ``None``: each transform's own ``p`` (1 where it has none).

    Raises:
        ValueError: a kind switched on that no view holds; paired views holding different numbers of it,
            or with different settings (``pairing_key``); options that do not fit a transform's range; a kind
            that no pair applies with a probability > 0 in both views (in only some pairs: a warning naming them).
    """
    kinds_found = frozenset(t.kind for view in slots for t in view)
    for view in slots:
        for t in view:
            spec = specs.get(t.kind)
            if spec is not None:
                t.check_spec(spec, t.kind)
    switched_on = [kind for kind, spec in specs.items() if spec is not None]
    for kind in switched_on:
        if kind not in kinds_found:
            raise ValueError(
                f"{kind} is switched on but no view holds a {kind} transform this package can draw jointly, "
                f"so it would have no effect; joint transforms found: {sorted(kinds_found) or 'none'}"
            )
        for a, b in pairs:
            first = [t for t in slots[a] if t.kind == kind]
            second = [t for t in slots[b] if t.kind == kind]
            if len(first) != len(second):
                raise ValueError(
                    f"{kind} is switched on but paired views {a} and {b} hold {len(first)} and {len(second)} "
                    f"{kind} transform(s): every {kind} of one view needs a partner in the other"
                )
            for x, y in zip(first, second):
                if x.pairing_key() != y.pairing_key():
                    raise ValueError(
                        f"{kind}: views {a} and {b} are paired but their {type(x).__name__} settings differ "
                        f"({x.pairing_key()} vs {y.pairing_key()}); paired views need the same range to be "
                        f"drawn jointly. Give both views the same range, choose other pairs, or pass {kind}=None"
                    )
        _check_applied(kind, slots, pairs, probabilities)
    paired = {v for pair in pairs for v in pair}
    unpaired = [i for i in meant_to_pair if i not in paired]
    if switched_on and unpaired:
        warnings.warn(
            f"view(s) {unpaired} of {len(slots)} are in no pair and draw independently "
            f"(pairs: {list(pairs)}); pass pairs= to pair them",
            UserWarning,
            stacklevel=3,
        )
    return kinds_found


def _own_probability(t: JointTransform) -> float:
    """A joint transform's own apply probability (``JointGaussianBlur``'s ``p``); 1 where it has none."""
    value = getattr(t, "p", 1.0)
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 1.0


def _wrapper_probability(obj: Any) -> float:
    """The probability that a container runs its transforms: torchvision's ``RandomApply`` ``p``, mmcv's ``prob``;
    1 for a container without one (``Compose``; ``RandomChoice``'s ``p`` is a list, not an apply probability)."""
    for name in ("p", "prob"):
        value = getattr(obj, name, None)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    return 1.0


def apply_probabilities(view: Any) -> dict[int, float]:
    """Per joint transform of one view's pipeline (by ``id``), the probability that it runs: its own ``p``
    (``JointGaussianBlur``'s; 1 where it has none) times that of every container around it (``RandomApply(p=...)``,
    mmcv's ``RandomApply(prob=...)``). lightly's recipes wrap the colour jitter in ``RandomApply(p=cj_prob)``."""
    found: dict[int, float] = {}
    for obj, outer in iter_transforms_within(view):
        source = joint_source_of(obj)
        if source is not None:
            chance = math.prod(_wrapper_probability(container) for container in outer) * _own_probability(source)
            found[id(source)] = max(found.get(id(source), 0.0), chance)
    return found


def _check_applied(
    kind: str,
    slots: Sequence[Sequence[JointTransform]],
    pairs: Sequence[tuple[int, int]],
    probabilities: Sequence[Mapping[int, float]] | None,
) -> None:
    """Refuse ``kind`` where no pair applies it with a probability > 0 in both views (the joint draw would have
    no effect, as where no view holds it); warn naming the pairs where only some do (solo-learn's rule)."""

    def chances(view: int) -> list[float]:
        found = probabilities[view] if probabilities is not None else {}
        return [found.get(id(t), _own_probability(t)) for t in slots[view] if t.kind == kind]

    if not pairs:
        return
    idle = [(a, b) for a, b in pairs if not any(x > 0 and y > 0 for x, y in zip(chances(a), chances(b)))]
    if not idle:
        return
    if len(idle) == len(pairs):
        per_view = {v: chances(v) for pair in pairs for v in pair}
        raise ValueError(
            f"{kind} is switched on but no joint pair applies a {kind} transform in both views (its apply "
            f"probability per paired view: {per_view}), so it would have no effect; give the {kind} a "
            f"probability > 0 (RandomApply p, the transform's own p), or pass {kind}=None"
        )
    warnings.warn(
        f"{kind} has no effect on pair(s) {idle}: one of their views applies its {kind} with probability 0",
        UserWarning,
        stacklevel=4,
    )
