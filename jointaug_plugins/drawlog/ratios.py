"""What is counted of one image's draw records: the log-ratio ``ln(p_b / p_a)`` of each pair of views, per kind."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from ..draw import DrawRecord

# What each kind's ratio is taken of: a key of the record's params, or "key.index" for a list entry.
DEFAULT_QUANTITIES: dict[str, str] = {"crop": "area", "blur": "sigma", "color": "factors.0"}
_SKIP_KEYS = frozenset({"top", "left", "height", "width", "apply", "order"})


def _quantity(params: Mapping[str, Any], key: str | None) -> float | None:
    if key is None:  # the first real-valued parameter that is not a box coordinate or a flag
        for name, value in params.items():
            if name not in _SKIP_KEYS and isinstance(value, (int, float)) and not isinstance(value, bool):
                return float(value)
        return None
    name, _, index = key.partition(".")
    value = params.get(name)
    if index and isinstance(value, (list, tuple)):
        value = value[int(index)] if int(index) < len(value) else None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return None


def pair_log_ratios(
    records: Iterable[DrawRecord], quantities: Mapping[str, str | None] | None = None
) -> list[tuple[str, bool, float, float | None]]:
    """``(kind, joint, ln(p_b / p_a), β)`` for every pair of views in one image's records (``β``: the one in
    force for a joint pair, else ``None``).

    Views ``a < b`` of a pair are matched per kind and per occurrence (a view holding two crops pairs
    its first crop with the other view's first crop). Kinds absent from ``quantities`` use their first
    real-valued parameter; pairs whose values are missing or not positive are skipped.
    """
    quantities = DEFAULT_QUANTITIES if quantities is None else quantities
    occurrence: dict[tuple[int, str], int] = {}
    slots: dict[tuple[int, str, int], list[tuple[int, float | None, bool, float | None]]] = {}
    for record in records:
        n = occurrence.get((record.view, record.kind), 0)
        occurrence[(record.view, record.kind)] = n + 1
        if record.pair is None:
            continue
        value = _quantity(record.params, quantities.get(record.kind))
        slots.setdefault((record.pair, record.kind, n), []).append((record.view, value, record.joint, record.beta))
    out = []
    for (_, kind, _), entries in slots.items():
        if len(entries) != 2:
            continue
        (_, first, joint_a, beta), (_, second, joint_b, _) = sorted(entries, key=lambda e: e[0])
        if first is None or second is None or first <= 0 or second <= 0:
            continue
        joint = joint_a and joint_b
        out.append((kind, joint, math.log(second / first), beta if joint else None))
    return out
