"""The plugin manager: built-ins, entry-point plugins, and plugins registered at run time."""

from __future__ import annotations

import functools
from typing import Any

import pluggy

from . import hookspecs

ENTRY_POINT_GROUP = "jointaug_plugins"


@functools.lru_cache(maxsize=1)
def plugin_manager() -> pluggy.PluginManager:
    """The process-wide plugin manager, made on first use."""
    from . import builtin

    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs.JointAugSpec)
    manager.register(builtin, name="jointaug-builtin")
    manager.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
    return manager


def register_plugin(plugin: Any, name: str | None = None) -> str | None:
    """Register ``plugin`` (a module or object with ``@hookimpl`` functions); returns its name.

    Registering the same object twice is a no-op.
    """
    manager = plugin_manager()
    if manager.is_registered(plugin):
        return manager.get_name(plugin)
    return manager.register(plugin, name=name)


def unregister_plugin(plugin: Any) -> None:
    plugin_manager().unregister(plugin)


def joint_augmentations() -> dict[str, type]:
    """All registered joint augmentations by kind name; a name provided twice is an error."""
    merged: dict[str, type] = {}
    for provided in reversed(plugin_manager().hook.jointaug_augmentations()):
        for kind, cls in provided.items():
            if kind in merged and merged[kind] is not cls:
                raise ValueError(
                    f"joint augmentation {kind!r} is provided by two plugins "
                    f"({merged[kind].__name__} and {cls.__name__})"
                )
            merged[kind] = cls
    return merged


def find_replacement(transform: Any) -> Any:
    """The joint replacement some plugin offers for ``transform``, or ``None``."""
    return plugin_manager().hook.jointaug_replacement(transform=transform)


def wrap_views(original: Any, joint: Any) -> Any:
    """What a plugin makes of ``joint`` (a ``JointViews``) for a user who passed ``original``, or ``None``."""
    return plugin_manager().hook.jointaug_wrap_views(original=original, joint=joint)


def _merged(provided: list[dict[str, Any]], what: str) -> dict[str, Any]:
    """The plugins' ``{name: value}`` dicts as one, sorted by name; a name provided twice is an error."""
    merged: dict[str, Any] = {}
    for entries in provided:
        for name, value in entries.items():
            if name in merged and merged[name] is not value:
                raise ValueError(f"{what} {name!r} is provided by two plugins")
            merged[name] = value
    return dict(sorted(merged.items()))


def bench_cases() -> dict[str, Any]:
    """Every plugin's ``jointaug bench`` cases, ``{name: build}`` (hook ``jointaug_bench_cases``), sorted by
    name; a name provided twice is an error."""
    return _merged(plugin_manager().hook.jointaug_bench_cases(), "bench case")


def bench_suites() -> dict[str, Any]:
    """Every plugin's ``jointaug bench`` suites, ``{name: run}`` (hook ``jointaug_bench_suites``), sorted."""
    return _merged(plugin_manager().hook.jointaug_bench_suites(), "bench suite")


def plugin_views_of(transform: Any) -> Any:
    """The per-view pipelines a plugin reads out of ``transform``, or ``None``."""
    return plugin_manager().hook.jointaug_views_of(transform=transform)
