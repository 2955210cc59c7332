"""``JointMultiView``: the library's ``MultiView`` with views drawn jointly."""

from __future__ import annotations

import contextlib
import copy
import importlib
from collections.abc import Callable, Mapping
from typing import Any

from ...indexed import sample_index
from ...jointify import jointify_view
from ...options import JointOptions
from ...transforms.views import JointViews


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


def make_joint_multiview(library: str) -> type:
    """The ``JointMultiView`` class for ``library`` (``"mmselfsup"`` or ``"mmpretrain"``)."""
    MultiView: Any = importlib.import_module(f"{library}.datasets.transforms").MultiView

    class JointMultiView(MultiView):
        """``MultiView`` whose views are drawn jointly (JointCrop / JointBlur / JointColor).

        Most users never write this class: with the adapter in ``custom_imports``, the Runner switch turns
        the train pipeline's ``MultiView`` into it (see :mod:`jointaug_plugins.adapters.mm.switch`). Its view
        pipelines stay as written; the library's ``RandomResizedCrop``, blur and ``ColorJitter`` are swapped
        for joint subclasses.

        Args:
            transforms: The view pipelines, as for ``MultiView`` (a list of lists of transform configs).
            num_views: Views per pipeline, an int or a list (``[2, 6]`` for multi-crop). They are the
                coordinator's ``layout``: views pair ``(0, 1), (2, 3) ...`` over the flattened views (so
                ``[1, 1]`` pairs BYOL's two asymmetric views), and on a multi-crop layout
                ``[n_global, n_local]`` the pairs follow ``multicrop`` (default: the global pair), the one
                default policy of this package.
            jointaug: The joint options, see :class:`~jointaug_plugins.JointOptions` (a mapping, or the
                options the switch parsed); ``None`` takes the defaults (JointCrop(0)). Options that switch
                nothing on are refused, as is a kind switched on that a paired view lacks.
        """

        def __init__(
            self,
            transforms: list,
            num_views: int | list[int],
            jointaug: JointOptions | Mapping[str, Any] | None = None,
        ) -> None:
            options = JointOptions.parse(jointaug)
            options.require_effect()
            super().__init__(transforms=transforms, num_views=num_views)
            for pipeline in self.pipelines:
                jointify_view(pipeline, options)
            self.joint_views = JointViews([_FreshCopy(p) for p in self.transforms], options, layout=self.num_views)

        @property
        def options(self) -> JointOptions:
            """The parsed joint options."""
            return self.joint_views.options

        def transform(self, results: dict) -> dict:
            # mmengine's datasets number their samples: reproducible draws key on it (else an index set outside).
            index = results.get("sample_idx")
            with sample_index(index) if index is not None else contextlib.nullcontext():
                outputs = self.joint_views(results)
            results.update(img=[out["img"] for out in outputs])
            return results

        def __repr__(self) -> str:
            return super().__repr__()[:-1] + f", jointaug=({self.options.describe()}))"

    # Importable by name where the adapter module keeps it (pickle, spawn workers).
    JointMultiView.__module__ = f"{__name__.rsplit('.', 2)[0]}.{library}"
    JointMultiView.__qualname__ = "JointMultiView"
    return JointMultiView
