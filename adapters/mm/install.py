"""What importing ``jointaug_plugins.adapters.mmselfsup`` / ``.mmpretrain`` does, for either library."""

from __future__ import annotations

import importlib.util

from ...registry import register_plugin
from . import upstream_fixes
from .switch import register
from .transforms import MMConversions

_OTHER = {"mmselfsup": "mmpretrain", "mmpretrain": "mmselfsup"}


def install(library: str) -> type:
    """Check ``library`` is installed, apply the upstream fixes, register the plugin that converts its
    random transforms, register ``JointMultiView`` into its ``TRANSFORMS`` registry and install the
    Runner switch; returns the registered class.

    Args:
        library: ``"mmselfsup"`` or ``"mmpretrain"``.
    """
    if importlib.util.find_spec(library) is None:
        raise ImportError(
            f"jointaug_plugins.adapters.{library} needs {library} installed "
            f"(pip install 'jointaug-plugins[{library}]'); for {_OTHER[library]} use "
            f"jointaug_plugins.adapters.{_OTHER[library]}"
        )
    upstream_fixes.apply_all()
    register_plugin(MMConversions(library), name=f"jointaug-{library}")
    return register(library)
