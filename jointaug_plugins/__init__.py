"""JointAugmentation (JointCrop, JointBlur, JointColor) for self-supervised learning libraries.

The core draws the augmentation parameters of a positive pair jointly instead of independently
(AAAI 2025, "Enhancing Contrastive Learning Inspired by the Philosophy of 'The Blind Men and the
Elephant'"). It imports no SSL library; ``jointaug_plugins.adapters`` connects it to lightly,
solo-learn and mmselfsup / mmpretrain.
"""

from .boxes import sample_crop_box_pairs
from .hookspecs import hookimpl
from .registry import register_plugin
from .sampling import half_width, sample_pairs
from .spec import JointSpec
from .transforms import (
    JointColorJitter,
    JointGaussianBlur,
    JointMultiCrop,
    JointRandomResizedCrop,
    JointTransform,
    JointViews,
    ScalarJointTransform,
    jointify,
    multicrop_pairs,
)

__version__ = "0.1.0"

__all__ = [
    "JointColorJitter",
    "JointGaussianBlur",
    "JointMultiCrop",
    "JointRandomResizedCrop",
    "JointSpec",
    "JointTransform",
    "JointViews",
    "ScalarJointTransform",
    "half_width",
    "hookimpl",
    "jointify",
    "multicrop_pairs",
    "register_plugin",
    "sample_crop_box_pairs",
    "sample_pairs",
]
