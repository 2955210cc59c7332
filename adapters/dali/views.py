"""JointDALIViews: the views of a DALI recipe, made joint, from encoded images inside a DALI pipeline."""

from __future__ import annotations

import collections
import io
import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from ..._checks import check_choice
from ...options import JointOptions
from ...rng import GeneratorSource
from ...transforms.views import JointViews
from .params import COINS, BatchParams, batch_params
from .view import DALIView

DECODES = ("union", "full")
DEVICES = ("cpu", "mixed", "gpu")


class JointDALIViews:
    """Joint views for DALI pipelines: call it on the encoded images of a ``pipeline_def``.

    ``views(jpegs)`` returns one DALI ``DataNode`` per view. Per batch, on the CPU, the core's coordinator
    makes one batched draw (crop areas, aspect-ratio attempts, positions, blur sigmas, jitter factors: the
    same numbers and distributions as the PIL path), boxes are made from each image's own size (read from
    its header, before decoding), and each image decodes only the union of its views' boxes, once; every
    view is then resized straight out of that region and finished with its colour, blur, solarise, flip
    and normalisation operators.

    Args:
        views: The per-view recipe, one :class:`DALIView` per output view.
        options, ``**more``: The joint options, see :class:`~jointaug_plugins.JointOptions` (default JointCrop(0);
            ``seed``: the draws of shard ``shard_id`` are then reproducible, and differ across shards).
            ``reproducible=True`` is refused: DALI's readers pass no dataset index to the draw.
        layout: Views per group, as for :class:`~jointaug_plugins.JointViews` (``[2, n_local]``: multi-crop).
        shard_id: This pipeline's shard (int ``>= 0``); ``None`` reads the distributed rank.
        decode: ``"union"`` (decode each image's union box once; the default, fastest measured) or
            ``"full"`` (decode whole images).
        record: Keep the last batches' parameters in :attr:`records` (tests, draw logs).
    """

    def __init__(
        self,
        views: Sequence[DALIView],
        options: JointOptions | Mapping[str, Any] | None = None,
        *,
        shard_id: int | None = None,
        decode: str = "union",
        record: bool = False,
        layout: Sequence[int] | None = None,
        **more: Any,
    ) -> None:
        if isinstance(views, (str, bytes)) or not isinstance(views, Sequence) or not views:
            raise TypeError(f"views must be a non-empty list of DALIView, got {views!r}")
        for i, view in enumerate(views):
            if not isinstance(view, DALIView):
                raise TypeError(f"views[{i}] must be a DALIView, got {type(view).__name__}")
        self.views = list(views)
        # The core's coordinator draws every number; its build-time checks (unknown kinds, pairs whose views
        # differ, a kind no pair holds) apply here unchanged.
        parsed = JointOptions.parse(options, **more).check_door("DALI")
        self.coordinator = JointViews([view.draw_transforms() for view in self.views], parsed, layout=layout)
        self.seed = parsed.seed
        # The package's per-process generator, keyed by (seed, shard) instead of (seed, rank).
        self.rng = GeneratorSource(self.seed, rank=shard_id)
        self.decode = check_choice(decode, "decode", DECODES)
        self.records: collections.deque[BatchParams] | None = collections.deque(maxlen=64) if record else None
        self._eager: Any = None
        self._eager_owner: int | None = None

    def __getstate__(self) -> dict[str, Any]:
        # A built DALI pipeline cannot travel (the generator source pickles itself).
        return {**self.__dict__, "_eager": None, "_eager_owner": None}

    @property
    def pairs(self) -> list[tuple[int, int]]:
        """The joint pairs of views."""
        return self.coordinator.pairs

    @property
    def options(self) -> JointOptions:
        """The joint options, parsed once."""
        return self.coordinator.options

    @property
    def specs(self) -> dict[str, Any]:
        """The joint options per kind (``None`` where off)."""
        return self.coordinator.specs

    @property
    def shard_id(self) -> int | None:
        """This pipeline's shard (``None``: the distributed rank); setting it restarts the draws' stream."""
        return self.rng.rank

    @shard_id.setter
    def shard_id(self, shard_id: int | None) -> None:
        self.rng = GeneratorSource(self.seed, rank=shard_id)

    @property
    def generator(self) -> torch.Generator:
        """This process's generator: seeded by ``(seed, shard)``; without a seed, from torch's seeding."""
        return self.rng.generator

    def batch(self, shapes: np.ndarray) -> BatchParams:
        """The parameters of one batch of images of the given ``(n, >= 2)`` shapes (height, width first)."""
        n = len(shapes)
        draw = self.coordinator.draw_batch(n, self.generator)
        coins = torch.rand(n, len(self.views), COINS, generator=self.generator, dtype=torch.float64)
        params = batch_params(self.views, self.coordinator.slots, draw, shapes, coins, self.decode)
        if self.records is not None:
            self.records.append(params)
        return params

    def __call__(self, encoded: Any, device: str = "cpu") -> list[Any]:
        """The views of a batch of encoded images (a DALI ``DataNode``, e.g. from ``fn.readers.file``).

        Args:
            encoded: Encoded images (JPEG, PNG, ... anything DALI's decoder reads), on the CPU.
            device: ``"cpu"`` decodes and processes on the CPU; ``"mixed"`` or ``"gpu"`` decodes with
                nvJPEG and processes on the GPU (the pipeline needs a ``device_id``).

        Must be called inside a DALI pipeline definition.
        """
        from .graph import build_views

        check_choice(device, "device", DEVICES)
        return build_views(self, encoded, device)

    def run(self, image: Any) -> list[torch.Tensor]:
        """The views of one image, made now by a small DALI CPU pipeline (inspection, ``jointaug verify``).

        Args:
            image: A ``PIL.Image`` (any mode; converted to RGB and passed losslessly as BMP), or the bytes of
                an encoded image.

        Returns:
            One tensor per view: ``C x H x W`` float where the view normalises, else ``H x W x C`` uint8.
        """
        import PIL.Image

        if isinstance(image, PIL.Image.Image):
            buffer = io.BytesIO()
            image.convert("RGB").save(buffer, format="BMP")  # lossless, and ten times faster to write than PNG
            image = buffer.getvalue()
        if not isinstance(image, (bytes, bytearray)):
            raise TypeError(f"image must be a PIL image or encoded bytes, got {type(image).__name__}")
        if self._eager is None or self._eager_owner != os.getpid():
            from .graph import eager_pipeline

            # A pipeline's threads do not survive a fork: a forked worker builds its own.
            self._eager, self._eager_owner = eager_pipeline(self), os.getpid()
        self._eager.feed_input("encoded", [np.frombuffer(bytes(image), dtype=np.uint8)])
        return [torch.from_numpy(np.array(out.as_array()[0])) for out in self._eager.run()]

    def describe(self) -> str:
        """One line: the pairs and the joint kinds."""
        kinds = (
            ", ".join(
                f"{k}=({v.beta})" if v.scheduled else f"{k}={v.beta:g}" for k, v in self.specs.items() if v is not None
            )
            or "none"
        )
        return f"{len(self.views)} DALI views, pairs {self.pairs}, joint: {kinds}, decode: {self.decode}"

    def __repr__(self) -> str:
        return f"JointDALIViews({self.describe()})"


def announce(views: JointDALIViews) -> None:
    """Print the one line every entry point prints when it builds joint DALI views."""
    print(f"[jointaug] DALI: {views.describe()}", file=sys.stderr)
