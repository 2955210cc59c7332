"""Argument checks shared by the public API.

Every check raises ``ValueError`` or ``TypeError`` naming the argument and the accepted range, so that a
bad configuration fails where the user wrote it instead of deep inside a training library.
"""

from __future__ import annotations

import difflib
import inspect
import math
from collections.abc import Iterable, Sequence
from numbers import Real
from typing import Any


def check_real(value: Any, name: str) -> float:
    """Return ``value`` as a finite float, refusing bools, strings, NaN and infinities."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a real number, got {value!r} of type {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    return value


def check_probability(value: Any, name: str) -> float:
    """A probability in [0, 1]."""
    value = check_real(value, name)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be a probability in [0, 1], got {value}")
    return value


def check_range(
    value: Any,
    name: str,
    *,
    lower: float = -math.inf,
    upper: float = math.inf,
    lower_open: bool = False,
    allow_equal: bool = True,
) -> tuple[float, float]:
    """A ``(lo, hi)`` pair with ``lower <= lo <= hi <= upper`` (``lower < lo`` when ``lower_open``)."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or len(value) != 2:
        raise TypeError(f"{name} must be a (min, max) pair of numbers, got {value!r}")
    lo = check_real(value[0], f"{name}[0]")
    hi = check_real(value[1], f"{name}[1]")
    opening = "(" if lower_open else "["
    accepted = f"{opening}{lower:g}, {upper:g}]"
    if (lo <= lower if lower_open else lo < lower) or hi > upper:
        raise ValueError(f"{name} must lie in {accepted}, got ({lo:g}, {hi:g})")
    if lo > hi or (not allow_equal and lo == hi):
        relation = "<" if not allow_equal else "<="
        raise ValueError(f"{name} must be ordered as (min, max) with min {relation} max, got ({lo:g}, {hi:g})")
    return lo, hi


def check_size(value: Any, name: str) -> tuple[int, int]:
    """An output size: a positive int or an ``(h, w)`` pair of positive ints."""
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        if len(value) == 1:
            value = (value[0], value[0])
        if len(value) != 2:
            raise TypeError(f"{name} must be an int or an (h, w) pair, got {value!r}")
        h, w = value
    else:
        h = w = value
    out = []
    for part in (h, w):
        if isinstance(part, bool) or not isinstance(part, int):
            raise TypeError(f"{name} must be an int or an (h, w) pair of ints, got {value!r}")
        if part <= 0:
            raise ValueError(f"{name} must be positive, got {value!r}")
        out.append(int(part))
    return out[0], out[1]


def check_int(value: Any, name: str, minimum: int, maximum: int | None = None, *, optional: bool = False) -> Any:
    """An int ``>= minimum`` (and ``<= maximum`` when given; bools refused); ``None`` passes when ``optional``."""
    if optional and value is None:
        return None
    too_large = maximum is not None and isinstance(value, int) and value > maximum
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum or too_large:
        accepted = f"an int >= {minimum}" if maximum is None else f"an int in [{minimum}, {maximum}]"
        raise ValueError(f"{name} must be {'None or ' if optional else ''}{accepted}, got {value!r}")
    return value


def check_choice(value: Any, name: str, choices: Sequence[str]) -> str:
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}; got {value!r}")
    return value


def did_you_mean(word: Any, choices: Iterable[str]) -> str:
    """``" (did you mean 'x'?)"`` for the choice closest to ``word`` (difflib, cutoff 0.6), else ``""``: the hint every
    unknown-key error of the package gives."""
    close = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def refuse_misnamed(owner: str, keys: Iterable[str], names: Iterable[str], valid: Iterable[str]) -> None:
    """Refuse, as Python refuses an unexpected keyword (``TypeError``, with a did-you-mean hint), a key of an entry
    point's ``**options`` that is neither a joint option (``valid``) nor an argument of ``owner`` (``names``) but
    closest to one of ``names``: a misspelled upstream argument (``global_crop_size``). Any other unknown key is left
    to the options' parser, whose message is the one of every entry point.

    Args:
        owner: The class or function named in the error.
        keys: The keys given (e.g. the ``**options`` dict).
        names: The owner's own argument names.
        valid: The joint option keys (``jointaug_plugins.options.option_keys()``).
    """
    names, valid = list(names), list(valid)
    for key in keys:
        if key in valid or key in names:
            continue
        hint = did_you_mean(key, names)
        if hint and hint == did_you_mean(key, [*names, *valid]):
            raise TypeError(f"{owner}: got an unexpected keyword argument {key!r}{hint}")


def argument_names(*functions: Any) -> list[str]:
    """The named parameters of ``functions`` (``self``, ``*args`` and ``**kwargs`` left out), in order, once each."""
    found: dict[str, None] = {}
    for function in functions:
        for parameter in inspect.signature(function).parameters.values():
            if parameter.name != "self" and parameter.kind not in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
                found[parameter.name] = None
    return list(found)
