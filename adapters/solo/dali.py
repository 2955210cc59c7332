"""solo-learn's ``data.format: dali`` with joint views: its DALI augmentation entries become joint DALI views.

With the ``jointaug`` switch on and ``data.format: dali``, the hydra callback replaces, in the running
``main_pretrain`` and in solo's module, ``build_transform_pipeline_dali`` (an entry becomes a
:class:`DALIView` of the same operations), ``FullTransformPipeline`` (the entries become one
:class:`~jointaug_plugins.adapters.dali.JointDALIViews`) and solo's ``PretrainPipelineBuilder`` (a
subclass whose pipeline hands the *encoded* images to the joint views, so each image decodes only the
union of its views' boxes). ``PretrainDALIDataModule``, the iterator and ``main_pretrain`` stay solo's.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from ...options import JointOptions
from ..dali import DALIView, JointDALIViews
from ..dali.views import announce
from .layout import dataset_stats
from .options import get

DALI_MODULE = "solo.data.dali_dataloader"


def _prob(aug: Any, key: str) -> float:
    return float(get(get(aug, key, {}), "prob", 0.0) or 0.0)


@dataclass(frozen=True)
class SoloDALIEntry:
    """What ``build_transform_pipeline_dali(dataset, cfg, dali_device)`` returns under the switch: the
    entry's view, described as data, and the device solo asked for (``"gpu"`` or ``"cpu"``)."""

    view: DALIView
    device: str


def dali_view(dataset: str | None, aug_cfg: Any) -> DALIView:
    """The :class:`DALIView` of one solo augmentation entry: solo's DALI operations, in solo's order.

    Raises ``ValueError`` naming an augmentation solo's DALI path has no operator for (``equalization``).
    """
    if _prob(aug_cfg, "equalization"):
        raise ValueError(
            "jointaug with data.format: dali: augmentations.equalization.prob is "
            f"{_prob(aug_cfg, 'equalization')}, but DALI has no equalization (solo-learn refuses it too). "
            "Set equalization.prob: 0, or use data.format: image_folder"
        )
    mean, std = dataset_stats(dataset, aug_cfg)
    rrc = get(aug_cfg, "rrc", {})
    jitter = get(aug_cfg, "color_jitter", {})
    strengths = [float(get(jitter, k, 0.0) or 0.0) for k in ("brightness", "contrast", "saturation", "hue")]
    return DALIView(
        size=int(get(aug_cfg, "crop_size")),
        crop=bool(get(rrc, "enabled", True)),
        scale=(float(get(rrc, "crop_min_scale", 0.08)), float(get(rrc, "crop_max_scale", 1.0))),
        interpolation="cubic",  # solo's DALI crops and resizes with INTERP_CUBIC
        color_jitter=tuple(strengths) if _prob(aug_cfg, "color_jitter") else None,  # type: ignore[arg-type]
        color_prob=_prob(aug_cfg, "color_jitter"),
        grayscale=_prob(aug_cfg, "grayscale"),
        blur=_prob(aug_cfg, "gaussian_blur"),
        blur_sigma=(0.1, 2.0),  # solo: sigma = U(0, 1) * 1.9 + 0.1
        solarize=_prob(aug_cfg, "solarization"),
        hflip=_prob(aug_cfg, "horizontal_flip"),
        mean=tuple(float(m) for m in mean),  # type: ignore[arg-type]
        std=tuple(float(s) for s in std),  # type: ignore[arg-type]
    )


class JointDALIFullTransform:
    """solo's ``FullTransformPipeline`` for DALI, made joint: ``views(encoded)`` gives solo's flat view list."""

    forkable = False  # a DALI pipeline's threads do not survive a fork (``jointaug verify`` runs it in-process)

    def __init__(self, entries: Sequence[tuple[SoloDALIEntry, int]], options: JointOptions | None) -> None:
        devices = {entry.device for entry, _ in entries}
        if len(devices) != 1:
            raise ValueError(f"every DALI augmentation entry must use one dali.device, got {sorted(devices)}")
        self.device = devices.pop()
        views = [entry.view for entry, count in entries for _ in range(int(count))]
        layout = [int(count) for _, count in entries]
        #: The parsed ``jointaug`` block (``None``: independent views, solo's own DALI path without the switch).
        self.options = options
        # The DALI views' coordinator pairs solo's layout by the one default policy, as the PIL path does.
        self.views = JointDALIViews(views, {"crop": None} if options is None else options, layout=layout)

    def __call__(self, image: Any) -> Any:
        """The views of one PIL image, made by a small DALI CPU pipeline (``jointaug verify``, inspection)."""
        import PIL.Image

        if not isinstance(image, (PIL.Image.Image, bytes, bytearray)):
            raise TypeError(
                "jointaug's DALI views take encoded images inside a DALI pipeline (solo's PretrainPipelineBuilder "
                f"as the jointaug switch replaces it, or .views(encoded)), or one PIL image; got {type(image).__name__}"
            )
        return self.views.run(image)

    def __repr__(self) -> str:
        return f"JointDALIFullTransform({self.views.describe()})"


def build_transform_pipeline_dali(dataset: str, cfg: Any, dali_device: str) -> SoloDALIEntry:
    """Stand-in for solo's function of that name (same arguments): the entry as a :class:`SoloDALIEntry`."""
    if dali_device not in ("gpu", "cpu"):
        raise ValueError(f"dali.device must be 'gpu' or 'cpu', got {dali_device!r}")
    return SoloDALIEntry(dali_view(dataset, cfg), dali_device)


def full_transform(
    entries: Sequence[tuple[SoloDALIEntry, int]], options: JointOptions | None
) -> JointDALIFullTransform:
    """The joint DALI views of solo's entries (``(entry, num_crops)``), announced on stderr."""
    full = JointDALIFullTransform(entries, options)
    announce(full.views)
    return full


def joint_pipeline_builder(base: type) -> type:
    """A subclass of solo's ``PretrainPipelineBuilder`` whose pipeline feeds encoded images to joint views."""
    from nvidia.dali import pipeline_def

    class JointPretrainPipelineBuilder(base):
        """solo's builder; the transforms (a :class:`JointDALIFullTransform`) decode and make the views."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            if isinstance(self.transforms, JointDALIFullTransform):
                # Draws differ per shard (rank) and repeat for a seed, whatever the device.
                self.transforms.views.shard_id = int(kwargs.get("shard_id", 0))

        @pipeline_def
        def _joint_graph(self):
            if not isinstance(self.transforms, JointDALIFullTransform):
                raise TypeError(
                    f"jointaug's DALI pipeline builder needs joint DALI views, got {type(self.transforms).__name__}"
                )
            inputs, labels = self.reader(name="Reader")
            crops = self.transforms.views(inputs, device="gpu" if self.device == "gpu" else "cpu")
            if self.device == "gpu":
                labels = labels.gpu()
            return (*crops, self.to_int64(labels))

        def pipeline(self, **kwargs: Any) -> Any:
            """solo's call (``batch_size``, ``num_threads``, ``device_id``, ``seed``) -> the DALI pipeline."""
            if self.device == "cpu" and not torch.cuda.is_available():
                # A CPU pipeline needs no GPU; DALI refuses a device_id where CUDA is absent.
                kwargs["device_id"] = None
            return self._joint_graph(**kwargs)

    JointPretrainPipelineBuilder.__qualname__ = "JointPretrainPipelineBuilder"
    return JointPretrainPipelineBuilder


def install_builder() -> None:
    """Replace solo's ``PretrainPipelineBuilder`` (used by its ``PretrainDALIDataModule``) by the joint one."""
    module = importlib.import_module(DALI_MODULE)
    current = module.PretrainPipelineBuilder
    if getattr(current, "__qualname__", "") != "JointPretrainPipelineBuilder":
        module.PretrainPipelineBuilder = joint_pipeline_builder(current)
