"""``JointMultiView``: the library's ``MultiView`` with views drawn jointly, and its ``jointaug=`` options."""

from __future__ import annotations

import contextlib
import copy
import importlib
from collections.abc import Callable, Mapping
from typing import Any

from ...indexed import sample_index
from ...jointify import jointify_view, resolve_specs
from ...transforms.multicrop import multicrop_mode, multicrop_pairs
from ...transforms.views import JointViews

JOINT_KEYS = ("crop", "blur", "color", "multicrop", "crop_or_blur", "seed", "reproducible")


class _FreshCopy:
    """Runs a view pipeline on its own deep copy of the results dict, as ``MultiView`` does."""

    def __init__(self, pipeline: Callable[[dict], dict | None]) -> None:
        self.transform = pipeline

    def __call__(self, results: dict) -> dict:
        out = self.transform(copy.deepcopy(results))
        if out is None:
            raise ValueError(
                f"a JointMultiView view pipeline returned None (a transform dropped the sample): {self.transform}"
            )
        return out


def parse_joint(jointaug: Mapping[str, Any] | None, num_views: list[int], where: str = "jointaug") -> dict[str, Any]:
    """Check the ``jointaug`` options and turn them into ``JointViews`` arguments (specs, pairs, seed, policy).

    Args:
        jointaug: A dict with keys among ``crop``, ``blur``, ``color`` (``None``, a β, or an options dict),
            ``multicrop`` (``None``, ``"global"``, ``"local"``, ``"both"``), ``crop_or_blur`` (probability in
            [0, 1]), ``seed`` (int >= 0) and ``reproducible`` (``True``: each image's views are a function of
            ``(seed, epoch, sample_idx)``). At least one of crop, blur, color must be on.
        num_views: The ``MultiView``'s views per pipeline.
        where: The name of the option in error messages (the config switch and the argument are both
            ``jointaug``).
    """
    if jointaug is None:
        jointaug = {}
    if not isinstance(jointaug, Mapping):
        raise TypeError(
            f"{where} must be a dict with keys {', '.join(JOINT_KEYS)}, e.g. dict(crop=0.0); got {jointaug!r}"
        )
    unknown = sorted(str(k) for k in jointaug if k not in JOINT_KEYS)
    if unknown:
        raise ValueError(f"{where} has unknown key(s) {', '.join(unknown)}; valid keys: {', '.join(JOINT_KEYS)}")
    if all(jointaug.get(kind) is None for kind in ("crop", "blur", "color")):
        raise ValueError(
            f"{where}={dict(jointaug)} switches nothing on: give crop, blur or color a β (e.g. dict(crop=0.0)); "
            "to train without joint views on purpose, use the library's MultiView (and jointaug = None)"
        )
    mode = multicrop_mode(jointaug.get("multicrop"), default=None, name=f"{where}['multicrop']")
    if mode is None:
        pairs = None  # consecutive (0, 1), (2, 3) ... over the flattened views, checked by JointViews
    else:
        if len(num_views) != 2:
            raise ValueError(
                f"{where}['multicrop'] needs num_views=[n_global, n_local] (two pipelines); got num_views={num_views}"
            )
        pairs = multicrop_pairs(num_views[0], num_views[1], mode, name=f"{where}['multicrop']")
    return {
        "crop": jointaug.get("crop"),
        "blur": jointaug.get("blur"),
        "color": jointaug.get("color"),
        "pairs": pairs,
        "crop_or_blur": jointaug.get("crop_or_blur"),
        "seed": jointaug.get("seed"),
        "reproducible": jointaug.get("reproducible", False),
    }


def make_joint_multiview(library: str) -> type:
    """The ``JointMultiView`` class for ``library`` (``"mmselfsup"`` or ``"mmpretrain"``)."""
    MultiView = importlib.import_module(f"{library}.datasets.transforms").MultiView

    class JointMultiView(MultiView):
        """``MultiView`` whose views are drawn jointly (JointCrop / JointBlur / JointColor).

        Most users never write this class: the config switch ``jointaug = dict(crop=0.0)`` turns the
        train pipeline's ``MultiView`` into it. Its view pipelines stay as written; the library's
        ``RandomResizedCrop``, blur and ``ColorJitter`` are swapped for joint subclasses.

        Args:
            transforms: The view pipelines, as for ``MultiView`` (a list of lists of transform configs).
            num_views: Views per pipeline, an int or a list (``[2, 6]`` for multi-crop).
            jointaug: Which augmentations are joint, the config switch's dict: keys ``crop``, ``blur``,
                ``color`` (each ``None``/absent = off, a β, or an options dict with ``beta``, ``margin``,
                ``sigma``), ``multicrop`` (``None``, ``"global"``, ``"local"`` or ``"both"``; needs
                ``num_views=[n_global, n_local]``), ``crop_or_blur`` (probability of JointCrop rather than
                JointBlur per pair), ``seed`` and ``reproducible`` (views of a sample a function of ``(seed,
                epoch, sample_idx)``). Views are paired (0, 1), (2, 3) ... across the flattened
                view list (so ``num_views=[1, 1]`` pairs the two asymmetric BYOL views); with ``multicrop``
                globals pair among themselves and locals among themselves, an odd last one drawn
                independently.
                A kind switched on that a paired view lacks, or that no view has, is refused.
        """

        def __init__(self, transforms: list, num_views: int | list[int], jointaug: Mapping[str, Any] | None = None):
            super().__init__(transforms=transforms, num_views=num_views)
            options = parse_joint(jointaug, list(self.num_views))
            specs = resolve_specs({kind: options[kind] for kind in ("crop", "blur", "color")})
            for pipeline in self.pipelines:
                jointify_view(pipeline, specs)
            self.jointaug = dict(jointaug)
            self.joint_views = JointViews([_FreshCopy(p) for p in self.transforms], **options)

        def transform(self, results: dict) -> dict:
            # mmengine's datasets number their samples: reproducible draws key on it (else an index set outside).
            index = results.get("sample_idx")
            with sample_index(index) if index is not None else contextlib.nullcontext():
                outputs = self.joint_views(results)
            results.update(img=[out["img"] for out in outputs])
            return results

        def __repr__(self) -> str:
            return super().__repr__()[:-1] + f", jointaug={self.jointaug})"

    JointMultiView.__module__ = __name__
    JointMultiView.__qualname__ = "JointMultiView"
    return JointMultiView
