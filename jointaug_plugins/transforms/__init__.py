"""Joint transforms (torchvision v2 compatible) and the multi-view coordinator."""

from .base import JointTransform, ScalarJointTransform
from .blur import JointGaussianBlur
from .color import JointColorJitter
from .crop import JointRandomResizedCrop
from .multicrop import JointMultiCrop, multicrop_pairs
from .views import JointViews

__all__ = [
    "JointColorJitter",
    "JointGaussianBlur",
    "JointMultiCrop",
    "JointRandomResizedCrop",
    "JointTransform",
    "JointViews",
    "ScalarJointTransform",
    "multicrop_pairs",
]
