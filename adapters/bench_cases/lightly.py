"""``jointaug bench`` case ``lightly-simclr``: lightly's ``SimCLRTransform`` against ``JointSimCLRTransform``.

Both with lightly's defaults (224-px views, JointCrop(0) on the joint side), timed by ``jointaug bench``
in a 2-worker DataLoader on 256 x 256 images. lightly is imported inside the hook, never at module level.
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


@hookimpl
def jointaug_bench_cases() -> dict[str, Callable[[], tuple[Any, Any]]]:
    try:
        import lightly.transforms  # noqa: F401

        from ..lightly import JointSimCLRTransform  # noqa: F401
    except ImportError:
        return {}
    return {"lightly-simclr": simclr}
