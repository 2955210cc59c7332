"""The one walker: find and replace transforms inside the containers that libraries build.

Two kinds of search, each written once:

* **Pipelines** (:func:`iter_transforms`, :func:`replace_transforms`): the transforms of one view,
  looking through what torchvision, lightly, mmcv and solo-learn use to hold them: a ``transforms``
  list, tuple, dict or single callable (``Compose``, ``RandomApply``, ``RandomChoice``, mmcv's
  ``Compose`` and ``RandomApply``), ``nn.Sequential`` / ``nn.ModuleList``, and a wrapper's own
  ``transform`` attribute (lightly's view transforms, solo-learn's ``NCropAugmentation``).
* **Object graphs** (:func:`find_instances`): every object of a kind reachable from a DataLoader,
  dataset or trainer through attributes, lists, tuples and dicts, without knowing the library.

The walker only looks; what counts as convertible is the plugins' business (``registry``).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from types import BuiltinFunctionType, FunctionType, MethodType, ModuleType
from typing import Any

import numpy as np
import PIL.Image
import torch

Setter = Callable[[Any], None]

_SEQUENTIAL = (torch.nn.Sequential, torch.nn.ModuleList)
# Objects that hold no transform: never descended into by the object-graph search.
_ATOMS = (
    str, bytes, bytearray, int, float, complex, bool, type(None), type, ModuleType, FunctionType,
    BuiltinFunctionType, MethodType, np.ndarray, np.generic, Path, torch.Tensor, torch.Generator, PIL.Image.Image,
)  # fmt: skip
# Objects of these libraries hold locks, pipes and files, never transforms.
_SYSTEM_MODULES = ("multiprocessing", "threading", "queue", "_thread", "socket", "io", "logging")
MAX_CONTAINER = 256  # longer containers are data (a dataset's sample list), not pipelines


def _set_item(container: Any, key: Any) -> Setter:
    def put(value: Any) -> None:
        container[key] = value

    return put


def _set_attr(owner: Any, name: str) -> Setter:
    def put(value: Any) -> None:
        setattr(owner, name, value)

    return put


def _set_tuple_item(owner: Any, index: int) -> Setter:
    def put(value: Any) -> None:
        items = list(owner.transforms)
        items[index] = value
        owner.transforms = tuple(items)

    return put


def child_slots(obj: Any) -> list[tuple[Any, Setter]]:
    """The transforms directly inside ``obj``, each with a setter that puts a replacement in its place."""
    if isinstance(obj, _SEQUENTIAL):
        return [(child, _set_item(obj._modules, name)) for name, child in obj._modules.items()]
    children = getattr(obj, "transforms", None)
    if isinstance(children, (list, *_SEQUENTIAL)):
        return [(child, _set_item(children, i)) for i, child in enumerate(children)]
    if isinstance(children, tuple):
        return [(child, _set_tuple_item(obj, i)) for i, child in enumerate(children)]
    if isinstance(children, Mapping):
        return [(child, _set_item(children, key)) for key, child in children.items()]
    if children is not None and callable(children):
        return [(children, _set_attr(obj, "transforms"))]
    own = vars(obj).get("transform") if hasattr(obj, "__dict__") else None
    if children is None and callable(own):
        return [(own, _set_attr(obj, "transform"))]
    return []


def iter_transforms(obj: Any) -> Iterator[Any]:
    """``obj`` and every transform inside it, depth first, each object once."""
    for item, _ in iter_transforms_within(obj):
        yield item


def iter_transforms_within(obj: Any) -> Iterator[tuple[Any, tuple[Any, ...]]]:
    """As :func:`iter_transforms`, each transform with the containers around it, outermost first."""
    seen: set[int] = set()
    stack: list[tuple[Any, tuple[Any, ...]]] = [(obj, ())]
    while stack:
        item, outer = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        yield item, outer
        stack.extend(reversed([(child, (*outer, item)) for child, _ in child_slots(item)]))


def replace_transforms(obj: Any, replace: Callable[[Any], Any]) -> Any:
    """Replace, in place, every transform inside ``obj`` for which ``replace`` returns a new object.

    ``replace(t)`` returns the replacement of ``t`` or ``None`` to keep it (and look inside it). The
    walk does not descend into a replacement. Returns ``obj``, or its replacement.
    """
    new = replace(obj)
    if new is not None:
        return new
    for child, put in child_slots(obj):
        replaced = replace_transforms(child, replace)
        if replaced is not child:
            put(replaced)
    return obj


def _graph_children(obj: Any) -> list[Any]:
    if isinstance(obj, Mapping):
        return list(obj.values()) if len(obj) <= MAX_CONTAINER else []
    if isinstance(obj, (list, tuple, set, frozenset, deque)):
        return list(obj) if len(obj) <= MAX_CONTAINER else []
    if (type(obj).__module__ or "").split(".")[0] in _SYSTEM_MODULES:
        return []
    try:
        return list(vars(obj).values())
    except TypeError:
        return []


def find_instances(obj: Any, match: Callable[[Any], bool], max_depth: int = 10, max_nodes: int = 20_000) -> list[Any]:
    """Every object reachable from ``obj`` (breadth first, each once) for which ``match`` is true.

    Args:
        obj: Where to start: a DataLoader, dataset, transform, trainer, or a list of them.
        match: The test; a matching object is still searched further (a coordinator inside another).
        max_depth: Steps of attribute or container access followed, ``>= 0``.
        max_nodes: Objects visited at most, ``>= 1`` (a bound on pathological graphs).
    """
    found: list[Any] = []
    seen: set[int] = set()  # ids: the objects themselves may be unhashable
    queue = deque([(obj, 0)])
    while queue and len(seen) < max_nodes:
        item, depth = queue.popleft()
        if id(item) in seen or isinstance(item, _ATOMS):
            continue
        seen.add(id(item))
        if match(item):
            found.append(item)
        if depth < max_depth:
            queue.extend((child, depth + 1) for child in _graph_children(item))
    return found
