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
    def jointaug_views_of(self, transform: Any) -> Any:
        """The per-view pipelines of a library's multi-view ``transform`` as a list of one-argument
        callables, or ``None`` when this plugin does not know it (the core then reads a list, a
        ``JointViews``, or a ``transforms`` list). For multi-view types whose views are not plain
        pipelines (lightly's ``ImageGridTransform`` holds ``(grid, view)`` tuples)."""

    @hookspec(firstresult=True)
    def jointaug_wrap_views(self, original: Any, joint: Any) -> Any:
        """``joint`` (the :class:`~jointaug_plugins.JointViews` that ``jointify`` built from ``original``'s
        views) as an object of ``original``'s library, or ``None`` for the plain ``JointViews``.

        This keeps ``jointify``'s return rule one rule: the result is of the input's family, so a lightly
        ``MultiViewTransform`` stays one. Recognise ``original`` without importing its library.
        """

    @hookspec(firstresult=True)
    def jointaug_verify_target(self, target: str, args: list[str]) -> Any:
        """Build the training transform that ``jointaug verify TARGET [ARGS...]`` names, or ``None``.

        ``target`` is the command's first positional argument (``""`` when absent); ``args`` holds the rest
        in command-line form (``--config-path DIR``, ``--config-name NAME``, hydra overrides). Return a
        :class:`jointaug_plugins.tools.verify.VerifyTarget` when this plugin recognises the target (an mm config,
        a solo-learn YAML ...), else ``None``; raise :class:`jointaug_plugins.tools.verify.VerifyTargetError` with
        the library's own message and a hint when it recognises the target but cannot build it.
        Import the library inside the function, never at module level.
        """

    @hookspec
    def jointaug_bench_cases(self) -> dict[str, Any]:
        """DataLoader cases for ``jointaug bench``: ``{case name: build}``, ``build()`` returning ``(baseline, joint)``.

        ``baseline`` is a library's own multi-view transform (lightly's ``SimCLRTransform`` ...) and ``joint``
        its joint counterpart with the same settings; each maps an RGB ``PIL.Image`` (256 x 256) to a list of
        equally shaped view tensors. ``jointaug bench`` times a 2-worker DataLoader of each, interleaved, and
        reports the images/s ratio joint / baseline per case. Name cases ``<library>-<recipe>``
        (``lightly-simclr``); return ``{}`` when the library is not installed. Import the library inside the
        function (this hook or ``build``), never at module level, so the core never imports it.
        """

    @hookspec
    def jointaug_bench_suites(self) -> dict[str, Any]:
        """Whole benchmark suites for ``jointaug bench``: ``{suite name: run}``.

        ``run(rounds, bar)`` measures its figures, each a ratio of two runs interleaved with
        :func:`jointaug_plugins.tools.bench.interleaved` over ``rounds`` rounds (``bar``, a tqdm bar or
        ``None``, is passed on to it), and returns them as one flat JSON-able dict merged into the output
        (up to four interleaved comparisons per suite). Return ``{}`` when the library is not installed;
        import it inside ``run``.
        """
