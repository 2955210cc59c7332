"""JointAugmentation (JointCrop, JointBlur, JointColor) for self-supervised learning libraries.

The core draws the augmentation parameters of a positive pair jointly instead of independently
(AAAI 2025, "Enhancing Contrastive Learning Inspired by the Philosophy of 'The Blind Men and the
Elephant'"). It imports no SSL library; ``jointaug_plugins.adapters`` connects it to lightly,
solo-learn, mmselfsup / mmpretrain and DINO.

The public names: the coordinator :class:`JointViews` (``draw`` / ``draw_batch`` / ``apply``), the
joint transforms, :func:`jointify`, the draw's data classes, the batched on-device crop, the batched
box sampler, the plugin API (``hookimpl``, ``register_plugin``, ``JointSpec``), β schedules
(``BetaSchedule``, ``set_epoch``) and reproducible draws (``indexed``, ``sample_index``).
"""

from .batch import JointResizedCropBatch
from .boxes import sample_crop_box_pairs
from .draw import ColorDraw, CropDraw, DrawRecord, ImageDraw, ScalarDraw, SliceDraw, ViewDraw, unbatch
from .epoch import current_epoch, set_epoch
from .hookspecs import hookimpl
from .indexed import IndexedDataset, indexed, sample_index
from .jointify import jointify
from .options import JointOptions, UnknownOptionError, UnsupportedOptionError
from .registry import register_plugin
from .schedule import BetaSchedule
from .spec import JointSpec
from .transforms import (
    JointColorJitter,
    JointGaussianBlur,
    JointMultiCrop,
    JointRandomResizedCrop,
    JointTransform,
    JointViews,
    ScalarJointTransform,
    multicrop_pairs,
)

__version__ = "0.1.0"

__all__ = [
    "BetaSchedule",
    "ColorDraw",
    "CropDraw",
    "DrawRecord",
    "ImageDraw",
    "IndexedDataset",
    "JointColorJitter",
    "JointGaussianBlur",
    "JointMultiCrop",
    "JointOptions",
    "JointRandomResizedCrop",
    "JointResizedCropBatch",
    "JointSpec",
    "JointTransform",
    "JointViews",
    "ScalarDraw",
    "ScalarJointTransform",
    "SliceDraw",
    "UnknownOptionError",
    "UnsupportedOptionError",
    "ViewDraw",
    "current_epoch",
    "hookimpl",
    "indexed",
    "jointify",
    "multicrop_pairs",
    "register_plugin",
    "sample_crop_box_pairs",
    "sample_index",
    "set_epoch",
    "unbatch",
]
