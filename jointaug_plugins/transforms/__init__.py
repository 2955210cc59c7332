"""Joint transforms (torchvision v2 compatible) and the multi-view coordinator."""

from .base import JointTransform, ScalarJointTransform
from .blur import JointGaussianBlur
from .color import JointColorJitter
from .crop import JointRandomResizedCrop
from .jointify import jointify
from .views import JointViews

__all__ = [
    "JointColorJitter",
    "JointGaussianBlur",
    "JointRandomResizedCrop",
    "JointTransform",
    "JointViews",
    "ScalarJointTransform",
    "jointify",
]
