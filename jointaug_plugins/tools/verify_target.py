"""What ``jointaug verify`` measures: a built training transform (:class:`VerifyTarget`), or why it could not
be built (:class:`VerifyTargetError`). Plugins (hook ``jointaug_verify_target``) return or raise these; both are
importable from :mod:`jointaug_plugins.tools.verify`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .verify_walk import Layout, describe


class VerifyTargetError(Exception):
    """A target that cannot be built: ``message`` as the library reported it, ``hint`` what to try."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint


@dataclass
class VerifyTarget:
    """A built training transform, ready to be measured.

    Attributes:
        name: What the user named (shown in the report).
        views: ``image -> views``: takes an RGB ``PIL.Image`` and returns the list of views (tensors,
            arrays or PIL images; a dict with ``inputs`` or ``img`` is also read, and a DINO recipe's dict:
            its ``global_crops`` then its ``local_crops``).
        layout: Views, pairs to check, each view's crop range and the joint specs
            (:func:`jointaug_plugins.tools.verify_walk.describe` of the built transform).
        library: Who built it (``torchvision``, ``lightly``, ``mmselfsup``, ``solo-learn`` ...).
        notes: Anything the user should know about how it was built.
        forkable: Whether forked processes may run ``views`` (``False`` for views made by a DALI pipeline,
            whose threads do not survive a fork: they run in this process).
        transform: The built transform ``views`` runs (what ``layout`` describes), or ``None`` (``views``
            itself); verify restarts the joint generators inside it before each run, so the same seed gives the
            same report however often the target is measured.
    """

    name: str
    views: Callable[[Any], Any]
    layout: Layout
    library: str = "python"
    notes: list[str] = field(default_factory=list)
    forkable: bool = True
    transform: Any = None

    @classmethod
    def from_transform(
        cls, name: str, views: Callable[[Any], Any], transform: Any = None, library: str = "python", notes=()
    ) -> VerifyTarget:
        """Describe ``transform`` (default: ``views`` itself) by walking it, and wrap it as a target. A transform
        with ``forkable = False`` runs in this process."""
        built = views if transform is None else transform
        forkable = getattr(built, "forkable", True) is not False
        layout = describe(built)
        return cls(
            name=name, views=views, layout=layout, library=library, notes=list(notes), forkable=forkable,
            transform=built,
        )  # fmt: skip
