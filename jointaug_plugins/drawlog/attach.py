"""Find every :class:`~jointaug_plugins.JointViews` inside a training setup and set a draw sink on it."""

from __future__ import annotations

import os
import tempfile
from typing import Any

from ..transforms.views import JointViews
from ..walk import find_instances
from .sink import ChainedSink, DrawLogSink


def find_joint_views(obj: Any, max_depth: int = 10) -> list[JointViews]:
    """Every :class:`~jointaug_plugins.JointViews` reachable from ``obj`` through attributes, lists,
    tuples and dicts (at most ``max_depth`` steps; containers longer than 256 entries are skipped).

    Works without knowing the library (the one walker's object-graph search,
    :func:`jointaug_plugins.walk.find_instances`): a DataLoader's ``dataset``, a dataset's ``transform`` or
    ``pipeline``, lightly's ``MultiViewTransform``, an mm ``Compose`` holding a joint multi-view ...
    """
    return find_instances(obj, lambda item: isinstance(item, JointViews), max_depth=max_depth)


def set_sink(views: list[JointViews], sink: DrawLogSink) -> None:
    """Make ``sink`` the draw log of every view coordinator in ``views``: it replaces a previous
    :class:`DrawLogSink` and is chained after any other sink already set."""
    for jv in views:
        current = jv.draw_sink
        if current is None or isinstance(current, DrawLogSink) or current is sink:
            jv.draw_sink = sink
        elif isinstance(current, ChainedSink):
            current.sinks = [s for s in current.sinks if not isinstance(s, DrawLogSink)] + [sink]
        else:
            jv.draw_sink = ChainedSink(current, sink)


def attach_draw_log(
    target: Any,
    sink: DrawLogSink | None = None,
    directory: str | os.PathLike[str] | None = None,
    **sink_options: Any,
) -> DrawLogSink:
    """Set a :class:`DrawLogSink` on every ``JointViews`` inside ``target``.

    Attach before the DataLoader starts its workers: workers copy the transform when they start.

    Args:
        target: A transform, dataset, DataLoader, or anything holding them (searched recursively),
            or a list of such objects.
        sink: The sink to set; default a new one writing into ``directory``.
        directory: For a new sink; default a new temporary directory.
        **sink_options: More arguments of :class:`DrawLogSink`.

    Returns:
        The sink; call its ``collect()`` to read the draws made since the previous call.

    Raises:
        ValueError: ``target`` holds no ``JointViews``.
    """
    views = find_joint_views(target)
    if not views:
        raise ValueError(
            f"attach_draw_log: no JointViews found in {type(target).__name__}; pass the transform, dataset or "
            "DataLoader whose views are made by JointViews (jointify, the adapters' Joint* transforms)"
        )
    if sink is None:
        if directory is None:
            directory = tempfile.mkdtemp(prefix="jointaug-draws-")
        sink = DrawLogSink(directory, **sink_options)
    elif sink_options or directory is not None:
        raise ValueError("attach_draw_log: give either sink or directory/options for a new sink, not both")
    set_sink(views, sink)
    return sink
