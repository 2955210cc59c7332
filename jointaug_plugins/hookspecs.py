"""Hook specifications of the ``jointaug`` plugin namespace (pluggy).

A plugin is any object or module with functions marked ``@hookimpl``; it is registered with
:func:`jointaug_plugins.registry.register_plugin` or found through the entry-point group
``jointaug_plugins`` (``[project.entry-points.jointaug_plugins] myplugin = "mypkg.plugin"``).
"""

from __future__ import annotations

from typing import Any

import pluggy

PROJECT = "jointaug"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


class JointAugSpec:
    @hookspec
    def jointaug_augmentations(self) -> dict[str, type]:
        """Joint augmentations this plugin provides: ``{kind name: JointTransform subclass}``.

        The name is what users pass to ``JointViews`` / ``jointify`` (``crop=0.0``, ``solarize=0.0``).
        """

    @hookspec(firstresult=True)
    def jointaug_replacement(self, transform: Any) -> Any:
        """The joint transform that replaces ``transform`` with the same settings, or ``None``.

        Plugins registered later are asked first, so a plugin can override a built-in mapping.
        Raise ``ValueError`` when the class is known but these settings cannot be made joint:
        ``jointify`` then keeps ``transform`` and warns.
        """

    @hookspec(firstresult=True)
    def jointaug_verify_target(self, target: str, args: list[str]) -> Any:
        """Build the training transform that ``jointaug verify TARGET [ARGS...]`` names, or ``None``.

        ``target`` is the command's first positional argument (``""`` when absent); ``args`` holds the rest
        in command-line form (``--config-path DIR``, ``--config-name NAME``, hydra overrides). Return a
        :class:`jointaug_plugins.verify.VerifyTarget` when this plugin recognises the target (an mm config,
        a solo-learn YAML ...), else ``None``; raise :class:`jointaug_plugins.verify.VerifyTargetError` with
        the library's own message and a hint when it recognises the target but cannot build it.
        Import the library inside the function, never at module level.
        """
