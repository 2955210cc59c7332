"""Hydra search-path plugin: exposes jointaug-plugins' ``jointaug`` config group to every hydra app.

Hydra imports every module under the ``hydra_plugins`` namespace package when an app starts, so this
module only imports hydra. It appends ``pkg://hydra_plugins.jointaug_searchpath.conf`` (a light package
holding only YAML files) to the config search path; a solo-learn YAML then switches JointCrop on with
one line in its ``defaults:`` list::

    defaults:
      - jointaug: crop
      - _self_
      ...

Each option of the group sets the ``jointaug`` block and registers
``jointaug_plugins.adapters.solo.JointAugCallback`` under ``hydra.callbacks``.
"""

from __future__ import annotations

from hydra.core.config_search_path import ConfigSearchPath
from hydra.plugins.search_path_plugin import SearchPathPlugin

CONFIG_PACKAGE = "pkg://hydra_plugins.jointaug_searchpath.conf"


class JointAugSearchPathPlugin(SearchPathPlugin):
    """Appends jointaug-plugins' config package (group ``jointaug``) to hydra's config search path."""

    def manipulate_search_path(self, search_path: ConfigSearchPath) -> None:
        """Append the ``jointaug`` group's package, after the app's own config folders."""
        search_path.append(provider="jointaug-plugins", path=CONFIG_PACKAGE)
