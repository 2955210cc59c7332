"""Plugin that teaches ``jointify`` lightly's own transforms, without importing lightly.

Registered through the ``jointaug_plugins`` entry point. An instance of a lightly class can only exist
once lightly is imported, so the classes are looked up in ``sys.modules`` instead of imported.
"""

from __future__ import annotations

import sys
from typing import Any

from ..hookspecs import hookimpl
from ..transforms.blur import JointGaussianBlur


def _lightly_class(module: str, name: str) -> type | None:
    loaded = sys.modules.get(module)
    return getattr(loaded, name, None) if loaded is not None else None


@hookimpl
def jointaug_replacement(transform: Any) -> Any:
    blur_cls = _lightly_class("lightly.transforms.gaussian_blur", "GaussianBlur")
    if blur_cls is not None and isinstance(transform, blur_cls):
        # lightly blurs PIL images with ImageFilter.GaussianBlur(radius=sigma): JointGaussianBlur's PIL path.
        return JointGaussianBlur(kernel_size=None, sigma=tuple(transform.sigmas), p=float(transform.prob))
    return None
