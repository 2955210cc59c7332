"""What solo-learn's ``main_pretrain.py`` builds from a composed YAML, through the switch's own code (for verify).

A run of ``main_pretrain.py`` meets this package twice: hydra runs the job callback that the ``jointaug`` group
registers (:meth:`~.callback.JointAugCallback.on_job_start`: the checks, then the builders it installs), and at
train start the Lightning guard checks that a ``jointaug:`` block did make the views joint
(:func:`~.guard.check_views`). :func:`build_as_main_pretrain` runs the same two, in that order, on the config hydra
composed, so it stops on the same mistakes with the same errors and returns the views training would get.
"""

from __future__ import annotations

from typing import Any

from ...drawlog import find_joint_views
from .callback import job_builders, registered
from .dali import JointDALIFullTransform
from .guard import check_views
from .options import get
from .pipeline import JointFullTransformPipeline, build_views


def build_as_main_pretrain(config: Any) -> Any:
    """The train transform ``main_pretrain.py`` would train with, checked as training checks it.

    Args:
        config: The config as hydra hands it to job callbacks: composed from the YAML, its ``defaults:`` (the
            ``jointaug`` group line or none) and overrides, with its ``hydra`` node (``return_hydra_config=True``
            in hydra's compose API), so the callback sees the group choice, the defaults order and the overrides.

    Returns:
        What solo's ``FullTransformPipeline`` is, as the callback left it: a
        :class:`~.pipeline.JointFullTransformPipeline` (independent views where nothing is switched on), or under
        ``data.format: dali`` a :class:`~.dali.JointDALIFullTransform`.

    Raises:
        Exception: Whatever the callback's checks raise where the YAML registers it (an unknown option,
            ``reproducible``, the group line below ``- _self_`` replacing a value of the body, a switch with no
            effect, DALI ...), and the guard's :class:`~.guard.JointAugMissingError` for a ``jointaug:`` block
            that nothing read.
    """
    builders = job_builders(config) if registered(config) else {}
    transform = build_views(config, builders)
    check_views(config, find_joint_views(transform))
    return transform


def build_pretrain_transform(cfg: Any) -> JointFullTransformPipeline | JointDALIFullTransform:
    """What solo's pretraining data path takes, joint per ``cfg.jointaug``: for ``data.format: image_folder``
    or ``h5`` the dataset's transform (image -> list of views); for ``data.format: dali`` the joint DALI views
    of solo's DALI entries (:class:`~.dali.JointDALIFullTransform`, device from ``dali.device``).

    For your own scripts: runs :func:`check_config` (what the hydra callback checks) and builds with the
    callback's builders whatever the YAML's ``defaults:`` say; ``jointaug verify`` follows the YAML as
    ``main_pretrain.py`` does (:func:`~.main_path.build_as_main_pretrain`).

    Args:
        cfg: A solo-learn config (``augmentations`` list, ``data.dataset``, optional ``jointaug``), e.g. as
            composed by hydra from a YAML with the ``- jointaug: crop`` line.
    """
    if not get(cfg, "augmentations"):
        raise ValueError("cfg.augmentations must list at least one augmentation entry")
    return build_views(cfg, job_builders(cfg))
