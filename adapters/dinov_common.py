"""What the DINOv2 and DINOv3 drop-ins share: their views, made joint from the recipe's own attributes.

Upstream's ``DataAugmentationDINO.__call__`` runs the steps of each view itself: the shared
``geometric_augmentation_global`` once per global crop, then ``global_transfo1`` or ``global_transfo2``;
``geometric_augmentation_local`` and ``local_transfo`` once per local crop. The drop-ins keep those
attributes and that ``__call__``. :class:`JointDINOLayout` swaps the joint transforms into the attributes,
builds a coordinator whose views are the attributes each crop goes through, and draws once per image;
each step of view ``k`` then runs inside ``making_view(draw, k)``, takes its slice and draws its flips, jitter
and blur coins from the global generators seeded by the view's seed (restored on leaving), so a draw replays.
Steps outside ``making_view`` (DINOv3's shared colour jitter, its local-crop offsets) stay on the global streams.

An attribute given a new pipeline after construction (``aug.local_transfo = ...``) is picked up at the next
call: its transforms are made joint where their kind is on and the coordinator is rebuilt.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from torchvision import transforms as T

from .._checks import check_int
from ..draw import ImageDraw
from ..jointify import jointify_view
from ..options import JointOptions
from ..transforms.views import JointViews


class JointDINOLayout:
    """The joint views of a DINO-style recipe object.

    Args:
        owner: The recipe (its attributes hold the per-view steps).
        global_steps: Per global crop, the attribute names it goes through, in order (two globals).
        local_steps: The attribute names every local crop goes through.
        n_local: Number of local crops (``>= 0``).
        options: The joint options, parsed once by the drop-in (:meth:`JointOptions.parse
            <jointaug_plugins.JointOptions.parse>`); the views are laid out ``[n_global, n_local]``, so
            ``multicrop`` says which pairs are joint (``"global"`` by default, as everywhere).
    """

    def __init__(
        self,
        owner: Any,
        global_steps: Sequence[Sequence[str]],
        local_steps: Sequence[str],
        n_local: int,
        options: JointOptions,
    ) -> None:
        n_local = check_int(n_local, "local_crops_number", 0)
        self.owner = owner
        self.steps = [list(s) for s in global_steps] + [list(local_steps)] * n_local
        #: The joint options (parsed once, by the drop-in) and the views' groups.
        self.options, self.layout = options, [len(global_steps), n_local]
        self.specs = dict(options.specs)
        self.multicrop = options.multicrop or "global"
        self.pairs = options.pairs_for(self.layout)
        self.seed = options.seed
        self._names = sorted({name for view in self.steps for name in view})
        self._views: JointViews | None = None
        self._key: tuple[int, ...] = ()
        self.views()  # build now: a bad option or a kind no pair holds fails at construction

    def _attribute_key(self) -> tuple[int, ...]:
        # Runs once per image: a few getattr calls tell whether an attribute was replaced.
        return tuple(id(getattr(self.owner, name)) for name in self._names)

    def views(self) -> JointViews:
        """The coordinator of the owner's current attributes (rebuilt when one was replaced)."""
        key = self._attribute_key()
        if self._views is not None and key == self._key:
            return self._views
        for name in self._names:
            setattr(self.owner, name, jointify_view(getattr(self.owner, name), self.options))
        pipelines = [T.Compose([getattr(self.owner, name) for name in view]) for view in self.steps]
        self._views = JointViews(pipelines, self.options, layout=self.layout)
        self._key = self._attribute_key()
        return self._views

    def draw(self) -> tuple[JointViews, ImageDraw]:
        """The coordinator and one image's draw."""
        views = self.views()
        return views, views.draw()
