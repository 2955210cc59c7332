"""``jointaug bench`` cases: lightly's recipes against their joint counterparts.

- ``lightly-simclr``: ``SimCLRTransform()`` vs ``JointSimCLRTransform(crop=0.0)`` (JointCrop only).
- ``lightly-simclr-all``, ``lightly-byol-all``: ``SimCLRTransform()`` / ``BYOLTransform()`` vs the joint recipe
  with crop, blur and colour all joint (``crop=0.0, blur=0.0, color=0.0``).

All with lightly's defaults (224-px views), timed by ``jointaug bench`` on 256 x 256 images. lightly is
imported inside the hook, never at module level.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ...hookspecs import hookimpl


def simclr() -> tuple[Any, Any]:
    """``(lightly's SimCLRTransform(), JointSimCLRTransform(crop=0.0))``."""
    from lightly.transforms import SimCLRTransform

    from ..lightly import JointSimCLRTransform

    return SimCLRTransform(), JointSimCLRTransform(crop=0.0)


def simclr_all() -> tuple[Any, Any]:
    """``(SimCLRTransform(), JointSimCLRTransform(crop=0.0, blur=0.0, color=0.0))``."""
    from lightly.transforms import SimCLRTransform

    from ..lightly import JointSimCLRTransform

    return SimCLRTransform(), JointSimCLRTransform(crop=0.0, blur=0.0, color=0.0)


def byol_all() -> tuple[Any, Any]:
    """``(BYOLTransform(), JointBYOLTransform(crop=0.0, blur=0.0, color=0.0))``."""
    from lightly.transforms import BYOLTransform

    from ..lightly import JointBYOLTransform

    return BYOLTransform(), JointBYOLTransform(crop=0.0, blur=0.0, color=0.0)


@hookimpl
def jointaug_bench_cases() -> dict[str, Callable[[], tuple[Any, Any]]]:
    try:
        import lightly.transforms  # noqa: F401

        from ..lightly import JointSimCLRTransform  # noqa: F401
    except ImportError:
        return {}
    return {"lightly-simclr": simclr, "lightly-simclr-all": simclr_all, "lightly-byol-all": byol_all}
