"""Drop-in for the reference DINO repository's ``DataAugmentationDINO`` with JointCrop.

In DINO's ``main_dino.py`` replace ``DataAugmentationDINO(...)`` by this class (same three
arguments, same output layout ``[global_1, global_2, local_1, ...]``) and choose which pairs are joint.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..transforms.multicrop import JointMultiCrop


class DataAugmentationDINO(JointMultiCrop):
    """DINO's augmentation (224-px globals, 96-px locals) with joint crops.

    Args:
        global_crops_scale: Area range of the two global crops, ``0 < min < max <= 1`` (DINO: 0.4–1.0).
        local_crops_scale: Area range of the local crops, ``0 < min < max <= 1`` (DINO: 0.05–0.4).
        local_crops_number: Number of local crops, ``>= 0`` (DINO: 8 in its ViT-S recipe).
        **options: The joint options, see :class:`~jointaug_plugins.JointOptions` (default JointCrop(0) on the
            global pair; ``crop=None`` is the reference behaviour; ``multicrop`` says which pairs are joint).
    """

    def __init__(
        self,
        global_crops_scale: Sequence[float],
        local_crops_scale: Sequence[float],
        local_crops_number: int,
        **options: Any,
    ) -> None:
        super().__init__(
            global_size=224,
            local_size=96,
            n_local=local_crops_number,
            global_scale=global_crops_scale,
            local_scale=local_crops_scale,
            **options,
        )
