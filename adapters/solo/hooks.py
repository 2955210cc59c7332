"""jointify plugin for solo-learn: its own ``GaussianBlur`` class -> ``JointGaussianBlur``."""

from __future__ import annotations

import sys
from typing import Any

from ...hookspecs import hookimpl
from ...transforms.blur import JointGaussianBlur
from .pipeline import SOLO_MODULE


@hookimpl
def jointaug_replacement(transform: Any) -> Any:
    """solo-learn's own ``GaussianBlur`` (PIL radius drawn from ``sigma``) -> ``JointGaussianBlur``."""
    module = sys.modules.get(SOLO_MODULE)
    blur_cls = getattr(module, "GaussianBlur", None) if module is not None else None
    if blur_cls is not None and isinstance(transform, blur_cls):
        return JointGaussianBlur(sigma=tuple(float(s) for s in transform.sigma), p=1.0)
    return None
