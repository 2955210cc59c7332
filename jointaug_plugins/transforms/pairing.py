"""Which views pair, and the build-time check that every switched-on kind couples every pair."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

from ..spec import JointSpec
from .base import JointTransform


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
) -> frozenset[str]:
    """Refuse a switched-on kind that would not couple every pair; returns the kinds the views hold.

    Args:
        slots: Per view, its joint transforms in pipeline order.
        specs: Per kind, its options (``None``: off).
        pairs: The paired views.
        meant_to_pair: The views the default pairs mean to pair (:meth:`JointOptions.meant_to_pair
            <jointaug_plugins.JointOptions.meant_to_pair>`): one of them in no pair is a warning.

    Raises:
        ValueError: a kind switched on that no view holds; paired views holding different numbers of it,
            or with different settings (``pairing_key``); options that do not fit a transform's range.
    """
    kinds_found = frozenset(t.kind for view in slots for t in view)
    for view in slots:
        for t in view:
            if specs.get(t.kind) is not None:
                t.check_spec(specs[t.kind], t.kind)
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
