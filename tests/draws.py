"""Comparing draws in tests: equal up to float64 rounding (torch's and Python's exp/log may differ in the
last bit, so a batched draw equals the scalar one to ~1e-16, not bit for bit)."""

from __future__ import annotations

import dataclasses
import math
from typing import Any


def close(a: Any, b: Any) -> bool:
    """``a`` and ``b`` (draws, slices, tuples, numbers) are equal, floats to a relative 1e-12."""
    if isinstance(a, float) or isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-15)
    if isinstance(a, tuple):
        return len(a) == len(b) and all(close(x, y) for x, y in zip(a, b))
    if dataclasses.is_dataclass(a):
        return type(a) is type(b) and all(close(getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(a))
    return a == b
