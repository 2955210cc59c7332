"""``JointViewsDataPreprocessor``: mmselfsup / mmpretrain views made on the model's device, by the model's
data preprocessor, from single un-augmented images.

The pipeline loads and resizes each image to one fixed size and packs it (no ``MultiView``); the data
preprocessor, which already moves every batch to the model's device, makes the joint views of the whole
batch with a batch views module and then converts channels and normalises as the library's
``SelfSupDataPreprocessor`` does. In a user config whose ``_base_`` is the library's SimCLR::

    _base_ = 'mmselfsup::selfsup/simclr/simclr_resnet50_8xb32-coslr-200e_in1k.py'
    custom_imports = dict(imports=['jointaug_plugins.adapters.mm.preprocessor'], allow_failed_imports=False)
    model = dict(data_preprocessor=dict(
        type='JointViewsDataPreprocessor',
        views=dict(type='SimCLRBatchViews', input_size=224, normalize=None, crop=0.0)))
    train_dataloader = dict(dataset=dict(pipeline=[
        dict(type='LoadImageFromFile'),
        dict(type='Resize', scale=(256, 256)),
        dict(type='PackSelfSupInputs', meta_keys=['img_path']),  # mmpretrain: dict(type='PackInputs')
    ]))

``views`` is a batch views module or its config: ``type`` names a recipe of
``jointaug_plugins.adapters.kornia`` (e.g. ``'SimCLRBatchViews'``), a class of ``jointaug_plugins``
(``'JointResizedCropBatch'``) or a dotted import path; the other keys are its arguments (the joint options
among them). Importing this module registers the class into the ``MODELS`` registry of each installed mm
library, applies the upstream fixes of :mod:`.upstream_fixes` and adds a stage to the one wrapper of mmengine's
``Runner`` (:mod:`.runner`) so a train
pipeline that still makes views (``MultiView`` / ``JointMultiView``) next to this preprocessor stops the build:
the images would be augmented twice.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
from collections.abc import Iterator, Mapping
from typing import Any

import torch

from ..lightning_batch import joint_options_of
from .runner import add_stage

__all__ = ["NAME", "REGISTERED", "build_views", "check_runner_args", "register"]

NAME = "JointViewsDataPreprocessor"
LIBRARIES = ("mmselfsup", "mmpretrain")
#: library name -> its registered ``JointViewsDataPreprocessor`` class.
REGISTERED: dict[str, type] = {}
_VIEW_MAKERS = ("MultiView", "JointMultiView")
_BASES = {
    "mmselfsup": "mmselfsup.models.utils.data_preprocessor",
    "mmpretrain": "mmpretrain.models.utils.data_preprocessor",
}


def _resolve(kind: str) -> Any:
    """The class a ``views`` config's ``type`` names."""
    if "." in kind:
        module, _, name = kind.rpartition(".")
        return getattr(importlib.import_module(module), name)
    places = ["jointaug_plugins"]
    if importlib.util.find_spec("jointaug_plugins.adapters.kornia") is not None:
        places.insert(0, "jointaug_plugins.adapters.kornia")
    for place in places:
        found = getattr(importlib.import_module(place), kind, None)
        if found is not None:
            return found
    raise ValueError(
        f"views=dict(type={kind!r}): no such batch views module in {', '.join(places)}; give a recipe name "
        "(e.g. 'SimCLRBatchViews', 'JointResizedCropBatch') or a dotted import path"
    )


def build_views(views: Any) -> Any:
    """The batch views module of a ``views`` argument: a module as it is, or a config dict built.

    Args:
        views: A callable ``views(images) -> [view_1, view_2, ...]`` carrying its ``JointOptions``, or a dict
            whose ``type`` names one (a name or a dotted path, see the module docstring) and whose other keys
            are its arguments.

    Raises:
        TypeError: ``views`` is missing or carries no joint options.
        ValueError: ``type`` missing or naming nothing known.
    """
    if isinstance(views, Mapping):
        config = dict(views)
        kind = config.pop("type", None)
        if kind is None:
            raise ValueError("views=dict(...) needs type=, e.g. views=dict(type='SimCLRBatchViews', crop=0.0)")
        views = (_resolve(kind) if isinstance(kind, str) else kind)(**config)
    elif views is None or not callable(views):
        raise TypeError(f"views must be a batch views module or its config dict, got {views!r}")
    joint_options_of(views)
    return views


def _views_error(count: int) -> ValueError:
    return ValueError(
        f"{NAME} makes the views, but the batch already holds {count} views per image: the train pipeline "
        "makes views too (MultiView), which would augment every image twice. Replace the pipeline's MultiView "
        "by a fixed-size Resize (single un-augmented images), or drop the data preprocessor's views"
    )


class _JointViewsLogic:
    """The library-independent part of ``JointViewsDataPreprocessor`` (see the module docstring).

    Args:
        views: The batch views module or its config (see :func:`build_views`); it runs on the model's
            device, on the ``(N, C, H, W)`` batch in RGB order (after the ``bgr_to_rgb`` conversion, so colour
            operations see RGB) and in the loader's dtype (uint8 for images read from files). It must not
            normalise: views in the input's dtype are used as they are; float views of a uint8 batch are read as
            [0, 1] (kornia's convention) and scaled to 0-255, where the preprocessor's mean and std apply.
        **kwargs: The library's ``SelfSupDataPreprocessor`` arguments (``mean``, ``std``, ``bgr_to_rgb``, ...).
    """

    # Set by the library's preprocessor this class is mixed into (mmengine's ImgDataPreprocessor: bgr_to_rgb).
    _channel_conversion: bool

    def __init__(self, *args: Any, views: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.views = build_views(views)
        self.options = joint_options_of(self.views)
        self._range_checked = False
        from mmengine.logging import print_log

        print_log(f"[jointaug] {NAME}: joint views on ({self.options.describe()})", logger="current")

    @staticmethod
    def _indices(samples: Any, n: int) -> list[int]:
        """The dataset indices of the batch (``reproducible=True``): each data sample's ``sample_idx``."""
        found = [getattr(s, "metainfo", {}).get("sample_idx") for s in samples or []]
        if len(found) != n or any(i is None for i in found):
            raise ValueError(
                f"views are reproducible=True, which needs each image's dataset index: add 'sample_idx' to the "
                f"pack transform's meta_keys (e.g. dict(type='PackSelfSupInputs', meta_keys=['img_path', "
                f"'sample_idx'])); found {found}"
            )
        return [int(i) for i in found if i is not None]  # none is None (checked above)

    def _to_loader_scale(self, images: torch.Tensor, made: list[torch.Tensor]) -> list[torch.Tensor]:
        """The views in the loader's pixel scale, where the mean and std apply: a float view of a uint8 batch is
        in [0, 1] (kornia's convention) and is scaled by 255; views that normalised themselves are refused."""
        if len(made) < 2 or any(not isinstance(v, torch.Tensor) or v.shape[0] != images.shape[0] for v in made):
            shapes = [tuple(v.shape) if isinstance(v, torch.Tensor) else type(v).__name__ for v in made]
            raise ValueError(f"views must return >= 2 view batches of {images.shape[0]} images, got {shapes}")
        if images.is_floating_point() or not made[0].is_floating_point():
            return made
        if not self._range_checked:
            # Checked on the first batch only: the check waits for the device, and a module does not change.
            low, high = min(float(v.min()) for v in made), max(float(v.max()) for v in made)
            if low < -1e-3 or high > 1 + 1e-3:
                raise ValueError(
                    f"views returned float views in [{low:.2f}, {high:.2f}] from a uint8 batch: they normalise "
                    f"themselves, and {NAME} normalises again with its mean and std. Build the views without their "
                    "normalisation (e.g. views=dict(type='SimCLRBatchViews', normalize=None, ...))"
                )
            self._range_checked = True
        return [v * 255.0 for v in made]

    def forward(self, data: dict, training: bool = False) -> Any:
        """Training: the joint views of the packed single images, channel-converted and normalised as the
        library's preprocessor does; otherwise the library's own forward (single images, e.g. validation)."""
        if not training:
            return super().forward(data, training)  # type: ignore[misc]  # the library preprocessor's (a mixin)
        inputs = data["inputs"]
        if isinstance(inputs, (list, tuple)):
            if len(inputs) != 1:
                raise _views_error(len(inputs))
            inputs = inputs[0]
        if not isinstance(inputs, torch.Tensor) or inputs.ndim != 4:
            raise TypeError(
                f"{NAME} needs the packed images as one (N, C, H, W) tensor: resize to a fixed size in the pipeline "
                f"and collate with default_collate; got {type(inputs).__name__} {tuple(getattr(inputs, 'shape', ()))}"
            )
        images = self.cast_data(inputs)
        if self._channel_conversion and images.shape[1] == 3:
            images = images[:, [2, 1, 0], ...]
        if self.options.reproducible:
            made = self.views(images, indices=self._indices(data.get("data_samples"), images.shape[0]))
        else:
            made = self.views(images)
        made = self._to_loader_scale(images, list(made))
        # The channels are converted already (before the views); the library's forward normalises and packs.
        conversion, self._channel_conversion = self._channel_conversion, False
        try:
            return super().forward({**data, "inputs": made}, training)  # type: ignore[misc]  # as above
        finally:
            self._channel_conversion = conversion


def _make(library: str) -> type:
    base = importlib.import_module(_BASES[library]).SelfSupDataPreprocessor
    cls = type(NAME, (_JointViewsLogic, base), {"__module__": __name__, "__doc__": _JointViewsLogic.__doc__})
    cls.__qualname__ = NAME
    return cls


def _type_name(kind: Any) -> str:
    if isinstance(kind, str):
        return kind.rsplit(".", 1)[-1]
    return getattr(kind, "__name__", "") if kind is not None else ""


def _view_makers(node: Any, seen: set[int] | None = None) -> Iterator[str]:
    """Names of the ``MultiView`` / ``JointMultiView`` in a dataloader config or a built dataloader / dataset."""
    seen = set() if seen is None else seen
    if id(node) in seen or isinstance(node, (str, bytes, int, float, torch.Tensor)) or node is None:
        return
    seen.add(id(node))
    if isinstance(node, Mapping):
        if _type_name(node.get("type")) in _VIEW_MAKERS:
            yield _type_name(node.get("type"))
        for value in node.values():
            yield from _view_makers(value, seen)
    elif isinstance(node, (list, tuple)):
        for value in node:
            yield from _view_makers(value, seen)
    elif type(node).__name__ in _VIEW_MAKERS:
        yield type(node).__name__
    else:
        # A built DataLoader / dataset / Compose: follow the attributes that lead to the pipeline.
        for attr in ("dataset", "datasets", "pipeline", "transforms"):
            if hasattr(node, attr):
                yield from _view_makers(getattr(node, attr), seen)


def _uses_preprocessor(model: Any) -> bool:
    if isinstance(model, Mapping):
        given = model.get("data_preprocessor")
        if isinstance(given, Mapping):
            return _type_name(given.get("type")) == NAME
        return isinstance(given, _JointViewsLogic)
    model = getattr(model, "module", model)  # a wrapped (DDP) model
    return isinstance(getattr(model, "data_preprocessor", None), _JointViewsLogic)


def check_runner_args(model: Any, train_dataloader: Any) -> None:
    """Refuse a Runner whose model makes views in ``JointViewsDataPreprocessor`` while its train pipeline makes
    views too (``MultiView`` / ``JointMultiView``).

    Raises:
        ValueError: naming the view maker found, before anything is built.
    """
    if model is None or train_dataloader is None or not _uses_preprocessor(model):
        return
    found = sorted(set(_view_makers(train_dataloader)))
    if found:
        raise ValueError(
            f"model.data_preprocessor is {NAME}, which makes the views, but the train pipeline has {found} too: "
            "every image would be augmented twice. Set train_dataloader.dataset.pipeline to single images: "
            "[LoadImageFromFile, Resize(scale=(S, S)), PackSelfSupInputs] (mmpretrain: PackInputs)"
        )


def _preprocessor_stage(bound: inspect.BoundArguments) -> None:
    """The data preprocessor route's stage of ``Runner.__init__`` (:mod:`.runner`): :func:`check_runner_args`."""
    check_runner_args(bound.arguments.get("model"), bound.arguments.get("train_dataloader"))


def register(library: str) -> type:
    """Register ``JointViewsDataPreprocessor`` into ``library``'s ``MODELS`` (``"mmselfsup"`` or ``"mmpretrain"``),
    apply the upstream fixes and the Runner check; returns the class."""
    if library not in LIBRARIES:
        raise ValueError(f"library must be one of {LIBRARIES}, got {library!r}")
    if library not in REGISTERED:
        from . import upstream_fixes

        upstream_fixes.apply_all()
        cls = _make(library)
        importlib.import_module(f"{library}.registry").MODELS.register_module(name=NAME, module=cls, force=True)
        REGISTERED[library] = cls
    add_stage("preprocessor_check", _preprocessor_stage)
    return REGISTERED[library]


def _register_installed() -> None:
    installed = [lib for lib in LIBRARIES if importlib.util.find_spec(lib) is not None]
    if not installed:
        raise ImportError(
            f"jointaug_plugins.adapters.mm.preprocessor registers {NAME} into mmselfsup or mmpretrain; neither is "
            "installed (pip install 'jointaug-plugins[mmselfsup]' or '[mmpretrain]')"
        )
    for library in installed:
        register(library)


_register_installed()
