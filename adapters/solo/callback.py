"""Hydra job callback that makes solo-learn's unchanged ``main_pretrain.py`` build joint views."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ...options import JointOptions
from .dali import DALI_MODULE, SoloDALIEntry, build_transform_pipeline_dali, full_transform, install_builder
from .options import get
from .pipeline import SOLO_MODULE, check_config, joint_pipeline, solo_available

try:
    from hydra.experimental.callback import Callback as _HydraCallback
except ImportError:  # pragma: no cover - hydra-core comes with the solo extra
    _HydraCallback = object  # type: ignore[misc, assignment]  # without hydra: a plain base

# What main_pretrain.py builds its training views with; replaced in the running script and in solo's module.
BUILDERS = ("FullTransformPipeline", "build_transform_pipeline_dali", "PretrainDALIDataModule")
#: What every option of the ``jointaug`` config group registers under ``hydra.callbacks``.
TARGET = "jointaug_plugins.adapters.solo.JointAugCallback"


def _joint_full_transform_pipeline(options: JointOptions) -> Callable[[Sequence[Any]], Any]:
    """A stand-in for solo's ``FullTransformPipeline`` class: takes its ``NCropAugmentation`` list (PIL
    pipelines, or under ``data.format: dali`` the entries of the DALI stand-in)."""

    def FullTransformPipeline(transforms: Sequence[Any]) -> Any:
        entries = [(t.transform, t.num_crops) for t in transforms]
        if entries and all(isinstance(entry, SoloDALIEntry) for entry, _ in entries):
            return full_transform(entries, options)
        pipeline = joint_pipeline(entries, options)
        print(f"[jointaug] joint views on ({options.describe()}), pairs {pipeline.pairs}", file=sys.stderr)
        return pipeline

    return FullTransformPipeline


def _refusing(error: Exception) -> Callable[..., Any]:
    """A stand-in that raises ``error`` when the script builds its pipeline."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise error

    return refuse


def registered(config: Any) -> bool:
    """Whether a composed config (its ``hydra`` node included) registers :class:`JointAugCallback`, as every
    option of the ``jointaug`` group does: then hydra runs it before ``main_pretrain.main``."""
    callbacks = get(get(config, "hydra", {}), "callbacks") or {}
    return any(get(callbacks[name], "_target_") == TARGET for name in callbacks)


def job_builders(config: Any) -> dict[str, Callable[..., Any]]:
    """What :meth:`JointAugCallback.on_job_start` checks and installs: :func:`~.pipeline.check_config` on
    ``config``, then the builders that stand in for solo's (``FullTransformPipeline``; under ``data.format: dali``
    also ``build_transform_pipeline_dali``). Empty when the config has no ``jointaug`` block.

    ``jointaug verify`` builds through the same builders (:mod:`.main_path`).

    Raises:
        ValueError, TypeError: every check of :func:`~.pipeline.check_config`.
    """
    options = check_config(config)
    if options is None:
        return {}
    builders: dict[str, Callable[..., Any]] = {"FullTransformPipeline": _joint_full_transform_pipeline(options)}
    if get(get(config, "data", {}), "format") == "dali":
        # The entries become joint DALI views; solo's builder hands them the encoded images.
        builders["build_transform_pipeline_dali"] = build_transform_pipeline_dali
    return builders


class JointAugCallback(_HydraCallback):
    """Hydra job callback that switches solo-learn's ``main_pretrain.py`` to joint views.

    Registered under ``hydra.callbacks.jointaug`` by every option of the ``jointaug`` config group
    (``- jointaug: crop`` in the YAML's ``defaults:``). On job start it checks the ``jointaug`` block
    (unknown keys, a switch with no effect, YAML values shadowed by the group) and replaces
    ``FullTransformPipeline`` in the running script (``__main__``) and in solo's module, so the pipeline
    ``main_pretrain`` builds is a :class:`JointFullTransformPipeline`. With ``data.format: dali`` it also
    replaces ``build_transform_pipeline_dali`` and solo's ``PretrainPipelineBuilder`` (see :mod:`.dali`), so
    the DALI pipeline makes joint views.

    Hydra only warns when a callback raises, so a failed check also replaces the pipeline builders with
    stand-ins that raise the same error: the run stops where ``main_pretrain`` builds its views instead of
    training without joint views.
    """

    def on_job_start(self, config: Any, **kwargs: Any) -> None:
        """Check the config and install the joint (or the refusing) pipeline builders."""
        try:
            builders = job_builders(config)
        except (TypeError, ValueError) as err:
            self._install({name: _refusing(err) for name in BUILDERS})
            raise
        if "build_transform_pipeline_dali" in builders and solo_available():
            install_builder()
        if builders:
            self._install(builders)

    @staticmethod
    def _install(replacements: Mapping[str, Callable[..., Any]]) -> None:
        targets = [sys.modules.get("__main__")]
        if solo_available():
            targets.append(importlib.import_module(SOLO_MODULE))
        if solo_available() and "build_transform_pipeline_dali" in replacements:
            try:
                targets.append(importlib.import_module(DALI_MODULE))
            except ImportError:  # solo's DALI module needs DALI; where it is absent, solo cannot build that path
                pass
        for module in targets:
            for name, replacement in replacements.items():
                if module is not None and hasattr(module, name):
                    setattr(module, name, replacement)
