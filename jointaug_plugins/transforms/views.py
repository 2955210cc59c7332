"""JointViews: the coordinator that draws everything random about an image's views, then makes them."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch

from .._checks import check_int
from ..draw import ActiveView, DrawRecord, ImageDraw, running_view
from ..epoch import epoch_channel
from ..indexed import current_sample_index
from ..options import JointOptions
from ..rng import GeneratorSource, check_sample_key, forked_global_rngs, sample_uniforms
from ..walk import iter_transforms
from .base import JointTransform, joint_source_of, uniforms
from .pairing import apply_probabilities, check_pairing, check_pairs, consecutive_pairs
from .plan import DrawPlan, generators_of

__all__ = ["JointViews", "consecutive_pairs", "joint_transforms_in"]

View = Callable[[Any], Any]


def joint_transforms_in(view: Any) -> list[JointTransform]:
    """The joint transforms of one view's pipeline, in the order the walker finds them."""
    return [s for s in (joint_source_of(t) for t in iter_transforms(view)) if s is not None]


class JointViews:
    """Make the views of one image, drawing paired views' parameters jointly.

    Each view is the user's own pipeline (a ``Compose`` or any callable). Joint transforms inside them
    (:class:`JointRandomResizedCrop`, :class:`JointGaussianBlur`, :class:`JointColorJitter`, or any
    registered one) take their parameters from one draw per image, made before any view runs
    (:meth:`draw`); everything else in the pipelines runs untouched, under the view's own seed from the same
    draw, so :meth:`apply` replays a draw exactly. Views ``(0, 1), (2, 3), ...`` are paired unless the options
    or the ``layout`` say otherwise. ``views(image)`` is ``views.apply(image)``, with a new draw.

    Args:
        view_transforms: The per-view pipelines, at least one.
        options: The joint options as one object (a :class:`~jointaug_plugins.JointOptions`, or a mapping of
            its keys); or give the keys as keywords. Every entry point of this package takes the same keys,
            parsed by :meth:`JointOptions.parse <jointaug_plugins.JointOptions.parse>`:

            ``crop``, ``blur``, ``color`` and plugin kinds (``None``, a β, ``"published"`` or a dict; default
            JointCrop(0) alone), ``pairs``, ``multicrop``, ``crop_or_blur``, ``position`` (where crops land:
            :mod:`jointaug_plugins.placement`), ``seed`` and ``reproducible`` (image ``i`` of epoch ``e`` drawn from
            ``(seed, e, i)``; the index from :func:`~jointaug_plugins.indexed`, mmengine's ``sample_idx`` or
            ``draw(index=...)``, the epoch from :func:`~jointaug_plugins.set_epoch`). Each key's values and meaning:
            :data:`jointaug_plugins.options.OPTION_DOCS` (the README's option table).
        layout: How many views each group of ``view_transforms`` holds, in order: ``None`` (one group,
            views pair ``(0, 1), (2, 3) ...``), or e.g. ``[2, 6]`` for multi-crop (two globals, six locals),
            where pairs follow ``multicrop``. Sums to ``len(view_transforms)``.

    Raises:
        UnknownOptionError: a key that is no option (naming the closest valid key).
        ValueError: when built, for any switched-on kind that would not couple every pair: no view
            holds it, the paired views hold different numbers of it or with different ranges, or its
            options do not fit a transform's range. A view left out of every pair is a warning.
    """

    def __init__(
        self,
        view_transforms: Sequence[View],
        options: JointOptions | Mapping[str, Any] | None = None,
        /,
        *,
        layout: Sequence[int] | None = None,
        **more: Any,
    ) -> None:
        if isinstance(view_transforms, (str, bytes)) or not isinstance(view_transforms, Sequence):
            raise TypeError(
                f"view_transforms must be a list of per-view transforms, got {type(view_transforms).__name__}"
            )
        if len(view_transforms) == 0:
            raise ValueError("view_transforms must hold at least one view")
        for i, view in enumerate(view_transforms):
            if not callable(view):
                raise TypeError(f"view_transforms[{i}] is not callable: {view!r}")
        self.view_transforms = list(view_transforms)
        # The slots of the draw: per view, its joint transforms in pipeline order.
        self.slots = [joint_transforms_in(v) for v in self.view_transforms]
        self._slot_counts = tuple(len(view) for view in self.slots)
        classes = {t.kind: type(t) for view in self.slots for t in view}
        #: What the user switched on, parsed once (the one parser of every entry point).
        self.options = JointOptions.parse(options, kinds=classes, **more)
        self.specs = dict(self.options.specs)
        self.layout = [len(self.view_transforms)] if layout is None else [check_int(n, "layout", 0) for n in layout]
        if sum(self.layout) != len(self.view_transforms):
            raise ValueError(f"layout {self.layout} must add up to the {len(self.view_transforms)} views")
        self.pairs = check_pairs(self.options.pairs_for(self.layout), len(self.view_transforms))
        self.crop_or_blur = self.options.crop_or_blur
        self.rng = GeneratorSource(self.options.seed)
        # Optional callable taking each image's list of DrawRecord (training-time draw logging).
        self.draw_sink: Callable[[list[DrawRecord]], None] | None = None
        # The one place that checks a pair's settings, when built, for every adapter.
        meant = self.options.meant_to_pair(self.layout)
        chances = [apply_probabilities(v) for v in self.view_transforms]
        self.kinds_found = check_pairing(self.slots, self.specs, self.pairs, meant, chances)
        self.position = self.options.position
        self.plan = DrawPlan(self.slots, self.pairs, self.specs, self.crop_or_blur, self.position)
        # Semantic boxes: this process's box table (shared with the DataLoader workers like the epoch), else None.
        self.box_table = self.plan.box_table
        self.reproducible = self.options.reproducible
        # β schedules and reproducible draws need the epoch: the shared channel carries it into every worker.
        self.epoch_channel = epoch_channel() if self.plan.scheduled or self.reproducible else None
        self._unset_epoch_warned = False
        # Per view, the global generators its transforms may draw from: apply forks only those, once per image.
        self._view_generators = tuple(generators_of(view) for view in self.view_transforms)
        self._forked_generators = frozenset().union(*self._view_generators)

    # --- the draw ----------------------------------------------------------------------------------

    def _epoch(self, epoch: int | None) -> int | None:
        """The epoch of a draw: ``epoch`` if given, else the one the trainer set (``None`` if never set)."""
        if epoch is not None:
            return check_int(epoch, "epoch", 0)
        if self.epoch_channel is None:
            return None
        current = self.epoch_channel.epoch
        if current is None and not self._unset_epoch_warned:
            self._unset_epoch_warned = True
            needs = "a β schedule" if self.plan.scheduled else "reproducible draws"
            effect = "β stays at the schedule's start" if self.plan.scheduled else "every epoch draws the same views"
            warnings.warn(
                f"JointViews has {needs}, but no epoch was ever set, so {effect}. In a plain PyTorch loop call "
                "jointaug_plugins.set_epoch(epoch) at the start of each epoch (Lightning trainers, the mmengine "
                "switch and solo-learn's switch set it themselves)",
                UserWarning,
                stacklevel=3,
            )
        return current

    def _reproducible_key(self, epoch: int | None, index: Any) -> tuple[int, int, int]:
        if index is None:
            raise ValueError(
                "reproducible=True, but no dataset index reached the transform, so the draw cannot depend on the "
                "image: wrap the dataset with jointaug_plugins.indexed(dataset) (mmengine's datasets pass "
                "sample_idx themselves), or pass draw(index=...)"
            )
        return check_sample_key(self.rng.seed, 0 if epoch is None else epoch, index)

    def draw(
        self, generator: torch.Generator | None = None, *, index: int | None = None, epoch: int | None = None
    ) -> ImageDraw:
        """Everything random about one image's views (plain, size-free data): the joint transforms' slices, and
        per view the seed its other random transforms run under (see :meth:`apply`).

        Args:
            generator: Where the uniforms come from; ``None`` uses this coordinator's own generator
                (seeded by ``seed``, different per DataLoader worker and rank), never torch's global one.
                Not with ``reproducible=True``, whose uniforms, the views' seeds included, come from
                ``(seed, epoch, index)``.
            index: The image's dataset index, an int ``>= 0``; default the one set by
                :func:`~jointaug_plugins.indexed` / :class:`~jointaug_plugins.sample_index` (or ``None``).
                Needed with ``reproducible=True``.
            epoch: The training epoch, an int ``>= 0``; default the one set by
                :func:`~jointaug_plugins.set_epoch`. It picks the β of a schedule.
        """
        epoch = self._epoch(epoch)
        if index is None:
            index = current_sample_index()
        if self.reproducible:
            if generator is not None:
                raise ValueError("reproducible draws come from (seed, epoch, index): pass index=, not generator=")
            seed, at, index = self._reproducible_key(epoch, index)
            return self.plan.draw_from_uniforms(sample_uniforms(seed, at, index, self.n_uniforms), epoch, index)
        return self.plan.draw_from_uniforms(uniforms(self.n_uniforms, generator or self.rng.generator), epoch, index)

    def draw_batch(
        self,
        n: int,
        generator: torch.Generator | None = None,
        *,
        indices: Sequence[int] | torch.Tensor | None = None,
        epoch: int | None = None,
    ) -> ImageDraw:
        """The draws of ``n`` images at once, every number a tensor with leading size ``n`` (the views' seeds
        int64); row ``i`` equals the scalar draw from the same uniforms, seeds included
        (:func:`~jointaug_plugins.draw.unbatch`).

        Args:
            n: Number of images, an int ``>= 0``.
            generator: As for :meth:`draw`.
            indices: The ``n`` images' dataset indices (needed with ``reproducible=True``: row ``k`` is then
                ``draw(index=indices[k])``).
            epoch: As for :meth:`draw`.
        """
        check_int(n, "n", 0)
        epoch = self._epoch(epoch)
        if indices is not None:
            indices = [int(i) for i in (indices.tolist() if isinstance(indices, torch.Tensor) else indices)]
            if len(indices) != n:
                raise ValueError(f"indices must hold n={n} dataset indices, got {len(indices)}")
        if self.reproducible:
            if generator is not None:
                raise ValueError("reproducible draws come from (seed, epoch, index): pass indices=, not generator=")
            if indices is None:
                raise ValueError("reproducible=True: draw_batch needs indices= (the n images' dataset indices)")
            keys = [self._reproducible_key(epoch, i) for i in indices]
            rows = [sample_uniforms(*key, self.n_uniforms) for key in keys]
            u = torch.tensor(rows, dtype=torch.float64).reshape(n, self.n_uniforms)
        else:
            u = torch.rand(n, self.n_uniforms, generator=generator or self.rng.generator, dtype=torch.float64)
        return self.plan.draw_from_uniforms(u, epoch, None if indices is None else torch.tensor(indices))

    def draw_from_uniforms(
        self, u: Sequence[float] | torch.Tensor, epoch: int | None = None, index: Any = None
    ) -> ImageDraw:
        """The draw made of ``n_uniforms`` uniforms in [0, 1): a list (one image) or an ``(n, n_uniforms)``
        tensor (a batch); β schedules take their value at ``epoch`` (``None``: epoch 0)."""
        return self.plan.draw_from_uniforms(u, epoch, index)

    @property
    def n_uniforms(self) -> int:
        """How many uniforms one image's draw consumes."""
        return self.plan.n_uniforms

    # --- making the views ----------------------------------------------------------------------------

    def apply(self, image: Any, draw: ImageDraw | None = None, *, records: bool = False) -> Any:
        """The views of ``image`` made with ``draw`` (from :meth:`draw`, or a recorded one, pickled or not; ``None``:
        a new draw, so ``views(image)`` is ``views.apply(image)``). With ``records=True``, also what each joint
        transform made of its slice: ``(views, records)``, one :class:`~jointaug_plugins.DrawRecord` per joint
        transform run.

        The joint transforms take their slices; each view's whole pipeline runs with torch's default CPU
        generator, numpy's global generator and Python's ``random`` seeded by the view's seed
        (:attr:`~jointaug_plugins.draw.ViewDraw.seed`), their states saved before the first view and restored
        after the last (only those a view may draw from: none for joint and deterministic torchvision transforms,
        torch's for torchvision's random ones; :func:`~jointaug_plugins.transforms.plan.generators_of`). So the
        same draw gives the same views
        (flips, apply coins, a library's own random ops included) whatever the image size, and the global streams
        are left as they were. A draw made by hand without seeds runs on the global generators as they stand. Not
        safe against other threads drawing from the global generators meanwhile."""
        if draw is None and self.box_table is not None and self.box_table.localizing:
            # A semantic-box update is reading the training set: each view is the plain image (see localize).
            from ..localize import localizing_views

            plain = localizing_views(self, image)
            return (plain, []) if records else plain
        draw = self.draw() if draw is None else draw
        made, made_records = self._run(image, draw, keep_records=records or self.draw_sink is not None)
        return (made, made_records) if records else made

    def _run(self, image: Any, draw: ImageDraw, keep_records: bool) -> tuple[list[Any], list[DrawRecord]]:
        if not isinstance(draw, ImageDraw) or tuple(len(v.slices) for v in draw.views) != self._slot_counts:
            shape = [len(v.slices) for v in draw.views] if isinstance(draw, ImageDraw) else type(draw).__name__
            raise ValueError(
                f"draw does not fit these views: it has {shape} slices per view, the views hold "
                f"{list(self._slot_counts)} joint transforms"
            )
        # A batched draw has tensor seeds (and a tensor joint_kind where a crop_or_blur policy is set).
        if isinstance(draw.joint_kind, torch.Tensor) or any(isinstance(v.seed, torch.Tensor) for v in draw.views):
            raise ValueError("apply takes the draw of one image; split a batched draw with jointaug_plugins.unbatch()")
        views: list[Any] = []
        records: list[DrawRecord] = []
        kept = records if keep_records else None
        seeds = [v.seed for v in draw.views if v.seed is not None and not isinstance(v.seed, torch.Tensor)]
        generators, forked = self._view_generators, self._forked_generators
        # Each view runs with those seeded by its seed, forked once per image and then restored; a draw made by hand
        # without seeds runs on them as they stand.
        fork = forked_global_rngs(forked) if forked and len(seeds) == len(draw.views) else None
        with fork or contextlib.nullcontext():
            for i, view in enumerate(self.view_transforms):
                if fork is not None and generators[i]:
                    fork.seed(seeds[i], generators[i])
                with running_view(ActiveView(draw, i, self.slots[i], kept)):
                    views.append(view(image))
        if self.draw_sink is not None:
            self.draw_sink(records)
        return views, records

    def making_view(self, draw: ImageDraw, index: int) -> running_view:
        """A context in which the joint transforms of view ``index`` take their slices of ``draw``.

        For recipes whose own ``__call__`` runs the steps of each view (DINOv2's ``DataAugmentationDINO``
        calls its shared geometric augmentation once per view): ``with views.making_view(draw, 0): ...``.
        ``draw`` is the draw of one image (:meth:`draw`); ``index`` a view, ``0 <= index < len(self)``. As in
        :meth:`apply`, the block runs with the global generators seeded by the view's seed and restored on
        leaving, so the view replays with its draw.
        """
        check_int(index, "index (a view index)", 0, len(self.view_transforms) - 1)
        return running_view(ActiveView(draw, index, self.slots[index]), draw.views[index].seed)

    def __call__(self, image: Any) -> list[Any]:
        return self.apply(image)

    def __len__(self) -> int:
        return len(self.view_transforms)

    def __repr__(self) -> str:
        head = f"joint: {self.options.describe()}, pairs={self.pairs},"
        lines = [f"{type(self).__name__}({head}"]
        lines += [f"  view {i}: {v!r}".replace("\n", "\n  ") for i, v in enumerate(self.view_transforms)]
        return "\n".join(lines) + "\n)"
