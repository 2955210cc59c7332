"""lightly's three multi-view types with joint views, each around one core coordinator.

* :class:`JointMultiViewTransform` is a lightly ``MultiViewTransform``: ``image -> [view, ...]``.
* :class:`JointMultiViewTransformV2` is a ``MultiViewTransformV2`` (e.g. ``DetConSTransform``): every
  input of a view (image, mask, boxes ...) gets that view's draw.
* :class:`JointImageGridTransform` is an ``ImageGridTransform`` (VICRegL): ``[views..., grids...]``.

Each holds its :class:`~jointaug_plugins.JointViews` as ``joint_views``; its lightly ``transforms`` are
the coordinator's (joint) views, so code that reads them keeps working. A user's subclass whose own
``__call__`` prepares the inputs (DetConS making the mask) keeps doing so (``_own_call``).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from lightly.transforms.multi_view_transform import MultiViewTransform

from ...draw import ImageDraw
from ...jointify import jointify
from ...options import JointOptions
from ...transforms.views import JointViews
from ...walk import iter_transforms, replace_transforms
from .names import is_lightly_instance

try:  # torchvision-v2 multi-view transforms (lightly >= 1.5.x with torchvision >= 0.16)
    from lightly.transforms.multi_view_transform_v2 import MultiViewTransformV2
except ImportError:  # pragma: no cover
    MultiViewTransformV2 = None  # type: ignore[misc, assignment]  # an older lightly: the class is absent
try:  # VICRegL's views-and-grids transform
    from lightly.transforms.image_grid_transform import ImageGridTransform
except ImportError:  # pragma: no cover
    ImageGridTransform = None  # type: ignore[misc, assignment]  # an older lightly: the class is absent

__all__ = ["JointImageGridTransform", "JointMultiViewTransform", "JointMultiViewTransformV2"]

_DETCONS_VIEW = ("lightly.transforms.detcon_transform", "DetConSViewTransform")


def _detcons_pipeline(t: Any) -> Any:
    """A ``DetConSViewTransform``'s own pipeline (``.tr``, called with the same arguments), else ``None``."""
    return replace_transforms(t.tr, _detcons_pipeline) if is_lightly_instance(t, *_DETCONS_VIEW) else None


def readable_view(view: Any) -> Any:
    """``view``, or a copy of it where lightly's wrappers that hide their pipeline from the walker
    (``DetConSViewTransform.tr``) are replaced by that pipeline."""
    if not any(is_lightly_instance(t, *_DETCONS_VIEW) for t in iter_transforms(view)):
        return view
    return replace_transforms(copy.deepcopy(view), _detcons_pipeline)


def _sequence(transforms: Any) -> Sequence[Any]:
    if isinstance(transforms, (str, bytes)) or not isinstance(transforms, Sequence):
        raise TypeError(f"transforms must be a list of per-view transforms, got {type(transforms).__name__}")
    return transforms


class _Capture:
    """Stands in for the views of a user's multi-view transform to catch what its ``__call__`` passes on."""

    def __init__(self) -> None:
        self.args: tuple | None = None

    def __call__(self, *args: Any) -> None:
        self.args = args


def own_call_of(transform: Any, base: type | None) -> Any:
    """A capturing copy of ``transform`` when its class overrides ``base.__call__``, else ``None``."""
    if isinstance(transform, _JointCall):
        transform = transform._own_call
    elif base is None or type(transform).__call__ is base.__call__:
        return None
    if transform is None:
        return None
    own = copy.copy(transform)
    own.transforms = [_Capture()]
    return own


class _JointCall:
    """What the three share: building the coordinator, preparing the inputs, the draw records."""

    _lightly_class: ClassVar[type[Any]]
    joint_views: JointViews
    # A shallow copy of a user's multi-view transform whose own __call__ prepares the inputs (e.g. lightly's
    # DetConSTransform making the mask with `mask_fn`), its views replaced by a _Capture; None otherwise.
    _own_call: Any = None

    def __init__(
        self,
        transforms: Sequence[Any],
        options: JointOptions | Mapping[str, Any] | None = None,
        *,
        layout: Sequence[int] | None = None,
        **more: Any,
    ) -> None:
        self._attach(jointify(self.views_in(_sequence(transforms)), options, layout=layout, **more))

    @classmethod
    def views_in(cls, transforms: Sequence[Any]) -> list[Any]:
        """lightly's ``transforms`` of this type as the coordinator's single-input views."""
        return [readable_view(v) for v in transforms]

    @staticmethod
    def lightly_views(views: Sequence[Any]) -> list[Any]:
        """The coordinator's views back as lightly's ``transforms`` of this type."""
        return list(views)

    @classmethod
    def from_joint_views(cls, joint: JointViews, own_call: Any = None) -> Any:
        """This type around a coordinator already built (what ``jointify`` returns for lightly inputs)."""
        result = cls.__new__(cls)
        result._attach(joint, own_call)
        return result

    def _attach(self, joint: JointViews, own_call: Any = None) -> None:
        self.joint_views, self._own_call = joint, own_call
        self._lightly_class.__init__(self, transforms=self.lightly_views(joint.view_transforms))

    def _prepare(self, args: tuple) -> tuple:
        own = self._own_call
        if own is None:
            return args
        capture = own.transforms[0]
        capture.args = None
        own(*args)
        if capture.args is None:
            raise RuntimeError(
                f"{type(own).__name__}.__call__ did not pass its inputs on to its views; jointify cannot run it"
            )
        return capture.args

    @property
    def draw_sink(self):
        """Optional callable receiving each image's list of :class:`~jointaug_plugins.DrawRecord`."""
        return self.joint_views.draw_sink

    @draw_sink.setter
    def draw_sink(self, sink) -> None:
        self.joint_views.draw_sink = sink

    @property
    def pairs(self) -> list[tuple[int, int]]:
        """The joint view pairs."""
        return self.joint_views.pairs

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.joint_views!r})"


class JointMultiViewTransform(_JointCall, MultiViewTransform):
    """A lightly ``MultiViewTransform`` whose views are drawn jointly.

    Args:
        transforms: The per-view pipelines, as for lightly's ``MultiViewTransform``. Each is copied; every
            transform in it a plugin knows (torchvision's ``RandomResizedCrop``, ``GaussianBlur``,
            ``ColorJitter``, v1 and v2, lightly's ``GaussianBlur``, ``RandomResizedCropWithLocation``) is
            swapped for its joint version, for the kinds switched on.
        options, ``**more``: The joint options (a :class:`~jointaug_plugins.JointOptions`, a mapping, or the keys
            as keywords), see :class:`~jointaug_plugins.JointOptions`; default JointCrop(0), blur and colour off,
            views paired ``(0, 1), (2, 3) ...``. With ``reproducible=True`` wrap the dataset with
            :func:`jointaug_plugins.indexed`.
        layout: Views per group, as for :class:`~jointaug_plugins.JointViews` (``[2, n_local]``: multi-crop).

    Raises:
        UnknownOptionError: a key that is no joint option (the one message of every entry point).
        ValueError: a bad option, a kind switched on that no view holds or whose settings cannot be drawn
            jointly, or paired views whose joint transforms have different ranges.
    """

    _lightly_class = MultiViewTransform

    def __call__(self, image: Any) -> list[Any]:
        """The views of ``image`` (PIL image or tensor), paired views drawn jointly."""
        return self.joint_views(self._prepare((image,))[0])

    def apply(self, image: Any, draw: ImageDraw | None = None, *, records: bool = False) -> Any:
        """The views of ``image`` made with ``draw`` (``None``: a new one), and with ``records=True`` the records of
        every joint transform's draw (see :meth:`JointViews.apply <jointaug_plugins.JointViews.apply>`)."""
        return self.joint_views.apply(self._prepare((image,))[0], draw, records=records)


class _ArgsView:
    """One view of a transforms-v2 multi-view transform, called with all the inputs (image, mask ...)."""

    def __init__(self, transform: Any) -> None:
        self.transform = transform

    def __call__(self, args: tuple) -> Any:
        return self.transform(*args)

    def __repr__(self) -> str:
        return repr(self.transform)


class _GridView:
    """One ``(grid transform, view transform)`` entry of ``ImageGridTransform``: ``image -> (view, grid)``."""

    def __init__(self, grid_transform: Any, view_transform: Any) -> None:
        self.transforms = [grid_transform, view_transform]

    def __call__(self, image: Any) -> tuple[Any, Any]:
        view, grid = self.transforms[0](image)
        return self.transforms[1](view), grid

    def __repr__(self) -> str:
        return f"({self.transforms[0]!r}, {self.transforms[1]!r})"


if MultiViewTransformV2 is not None:

    class JointMultiViewTransformV2(_JointCall, MultiViewTransformV2):
        """A lightly ``MultiViewTransformV2`` (inputs: images with masks, boxes ... as torchvision-v2
        structures) whose views are drawn jointly; every input of a view gets that view's draw.

        Arguments as for :class:`JointMultiViewTransform`.
        """

        _lightly_class = MultiViewTransformV2

        @classmethod
        def views_in(cls, transforms: Sequence[Any]) -> list[Any]:
            return [_ArgsView(readable_view(v)) for v in transforms]

        @staticmethod
        def lightly_views(views: Sequence[Any]) -> list[Any]:
            return [v.transform for v in views]

        def __call__(self, *args: Any) -> list[Any]:
            """The views of the inputs, each view transforming all of them with its draw."""
            return self.joint_views(self._prepare(args))

        def apply(self, *args: Any, draw: ImageDraw | None = None, records: bool = False) -> Any:
            """The views of the inputs made with ``draw`` (``None``: a new one), and with ``records=True`` the
            records of every joint transform's draw."""
            return self.joint_views.apply(self._prepare(args), draw, records=records)

else:  # pragma: no cover
    JointMultiViewTransformV2 = None  # type: ignore[misc, assignment]  # lightly lacks the class it would extend


if ImageGridTransform is not None:

    class JointImageGridTransform(_JointCall, ImageGridTransform):
        """lightly's ``ImageGridTransform`` (VICRegL: views and their location grids) with joint crops.

        Returns ``[view_1, ..., view_n, grid_1, ..., grid_n]`` like lightly's. Args: ``transforms``, a list
        of ``(grid transform, view transform)`` pairs as lightly's; the rest as for
        :class:`JointMultiViewTransform`. VICRegL's layout is ``[global..., local...]``: pass
        ``layout=[n_global, n_local]`` to pair within groups only (``multicrop`` says which).
        """

        _lightly_class = ImageGridTransform

        @classmethod
        def views_in(cls, transforms: Sequence[Any]) -> list[Any]:
            for i, entry in enumerate(transforms):
                if not isinstance(entry, (tuple, list)) or len(entry) != 2:
                    raise TypeError(f"transforms[{i}] must be a (grid transform, view transform) pair, got {entry!r}")
            return [_GridView(*entry) for entry in transforms]

        @staticmethod
        def lightly_views(views: Sequence[Any]) -> list[Any]:
            return [tuple(v.transforms) for v in views]

        def __call__(self, image: Any) -> list[Any]:
            """``[views..., grids...]`` of ``image``, paired views drawn jointly."""
            return self.apply(image)

        def apply(self, image: Any, draw: ImageDraw | None = None, *, records: bool = False) -> Any:
            """The output of ``__call__`` made with ``draw`` (``None``: a new one), and with ``records=True`` the
            records of every joint transform's draw."""
            table = self.joint_views.box_table
            if draw is None and table is not None and table.localizing:
                return self.joint_views.apply(image, records=records)  # a semantic-box pass: plain images only
            outputs, made = self.joint_views.apply(image, draw, records=True)
            flat = [o[0] for o in outputs] + [o[1] for o in outputs]
            return (flat, made) if records else flat

else:  # pragma: no cover
    JointImageGridTransform = None  # type: ignore[misc, assignment]  # lightly lacks the class it would extend
