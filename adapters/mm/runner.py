"""One wrapper of mmengine's ``Runner.__init__`` for every mm route of this package.

The switch (``JointMultiView`` in the train pipeline) and the data preprocessor route each register a stage
here instead of wrapping ``Runner.__init__`` themselves. The wrapper, installed once, runs the stages in the
fixed order of :data:`ORDER` whatever order the routes were imported in (two stacked wrappers would run in
reverse import order, so which mistake a Runner reported first depended on it), then the original
``__init__``, then what each stage left to run on the built Runner.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

#: A stage sees the bound arguments of ``Runner.__init__`` (and may replace some) before the Runner is built;
#: it may return a function to run on the built Runner.
Stage = Callable[[inspect.BoundArguments], Callable[[Any], None] | None]
#: The order stages run in: the data preprocessor's refusal first (``jointaug verify`` checks it first too).
ORDER = ("preprocessor_check", "switch")
_STAGES: dict[str, Stage] = {}


def add_stage(name: str, stage: Stage) -> None:
    """Register ``stage`` under ``name`` (one of :data:`ORDER`; registering again replaces it) and make sure
    ``Runner.__init__`` is wrapped."""
    if name not in ORDER:
        raise ValueError(f"name must be one of {ORDER}, got {name!r}")
    _STAGES[name] = stage
    _install()


def has_stage(name: str) -> bool:
    """Whether a route registered the stage ``name`` in this process."""
    return name in _STAGES


def _install() -> None:
    from mmengine.runner import Runner

    original = Runner.__init__
    if getattr(original, "_jointaug_stages", False):
        return
    signature = inspect.signature(original)

    @functools.wraps(original)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        bound = signature.bind(self, *args, **kwargs)
        after = [_STAGES[name](bound) for name in ORDER if name in _STAGES]
        original(*bound.args, **bound.kwargs)
        for finish in after:
            if finish is not None:
                finish(self)

    __init__._jointaug_stages = True  # the mark that makes _install idempotent
    Runner.__init__ = __init__
