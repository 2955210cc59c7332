"""solo-learn adapter: joint views switched on by one line in a solo YAML, ``main_pretrain.py`` unchanged.

Add the ``jointaug`` config group to the ``defaults:`` list of a solo-learn YAML as it ships (e.g.
``scripts/pretrain/cifar/byol.yaml``), above ``- _self_``::

    defaults:
      - jointaug: crop          # JointCrop(0); also blur, color, crop_or_blur, multicrop_{global,local,both}
      - _self_
      - augmentations: asymmetric.yaml
      ...

The group comes from this package's hydra search-path plugin (``hydra_plugins.jointaug_searchpath``);
each option sets the ``jointaug`` block and registers :class:`JointAugCallback` under
``hydra.callbacks``. The callback runs inside the job, before ``main_pretrain.main``, and makes the
``FullTransformPipeline`` that ``main_pretrain`` builds from its ``augmentations`` joint: symmetric
recipes (one entry with ``num_crops: 2``) pair their two crops, asymmetric ones (two entries, one crop
each, e.g. BYOL) pair entry 1 with entry 2, and multi-crop recipes (a global entry of >= 2 crops, then a
local entry) pair their global crops, or the locals / both as ``jointaug.multicrop`` says: the pairs are
``JointOptions.pairs_for(num_crops per entry)``, the one default policy of every entry point. Each view keeps
its own entry's other augmentations. Values: in the YAML body (``jointaug: {crop: {beta: -1.0}}``) or on the
command line (``jointaug.crop.beta=-1.0``); the keys are the joint options of every entry point
(:class:`~jointaug_plugins.JointOptions`), parsed once.

``data.format: dali`` works too: the entries become joint DALI views (:mod:`.dali`). Never silent: bad keys,
a DALI entry DALI cannot make and a switch with no effect stop the run where
``main_pretrain`` builds its views; a ``jointaug:`` block without the group line is stopped at train
start by a Lightning guard (:mod:`.guard`, loaded through Lightning's external-callback entry points).

Modules: :mod:`.options` (the block), :mod:`.checks` (build-time checks), :mod:`.order` (group line vs
``_self_``), :mod:`.pipeline` (the views), :mod:`.callback` (hydra), :mod:`.guard` (Lightning),
:mod:`.main_path` (what ``main_pretrain`` builds, through both: ``jointaug verify``),
:mod:`.hooks` (jointify plugin for solo's ``GaussianBlur``), :mod:`.layout` (normalisation, views per entry),
:mod:`.dali` (``data.format: dali``). solo-learn is imported lazily: parsing and
building work where it is absent, from the same torchvision operations in solo's order.
"""

from __future__ import annotations

from ...registry import register_plugin
from . import hooks
from .callback import JointAugCallback
from .checks import check_data_format, check_switch_has_effect
from .layout import layout_of
from .main_path import build_as_main_pretrain, build_pretrain_transform
from .options import parse_block
from .order import check_group_order
from .pipeline import (
    JointFullTransformPipeline,
    build_view_pipeline,
    check_config,
    joint_pipeline,
    solo_available,
)

register_plugin(hooks, name="jointaug-solo")

__all__ = [
    "JointAugCallback",
    "JointFullTransformPipeline",
    "build_as_main_pretrain",
    "build_pretrain_transform",
    "build_view_pipeline",
    "check_config",
    "check_data_format",
    "check_group_order",
    "check_switch_has_effect",
    "joint_pipeline",
    "layout_of",
    "parse_block",
    "solo_available",
]
