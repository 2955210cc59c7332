"""The dataset index of the image being transformed, for reproducible draws.

With ``reproducible=True`` a coordinator draws image ``i`` of epoch ``e`` as a pure function of
``(seed, e, i)``, so it needs ``i``. A transform is called as ``transform(image)``: the index travels
beside it in a context variable, set by whoever knows it:

* :func:`indexed` wraps a map-style dataset so that ``dataset[i]`` runs its transform with ``i`` set
  (torchvision's and lightly's datasets, anything that transforms inside ``__getitem__``);
* mmengine's datasets put ``sample_idx`` in every results dict; the mm adapter hands it over;
* :func:`sample_index` sets it around any code (``with sample_index(i): views(image)``).
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from torch.utils.data import Dataset

from ._checks import check_int

_INDEX: ContextVar[int | None] = ContextVar("jointaug_sample_index", default=None)


def current_sample_index() -> int | None:
    """The index set by the innermost :func:`sample_index` (or :func:`indexed` dataset), else ``None``."""
    return _INDEX.get()


class sample_index:  # lower case: used like a function, `with sample_index(i):`
    """Make ``index`` the dataset index of the image transformed inside the block (``None`` clears it).

    Args:
        index: An int ``>= 0``, or ``None``.
    """

    __slots__ = ("index", "token")

    def __init__(self, index: int | None) -> None:
        if index is not None:
            if hasattr(index, "__index__") and not isinstance(index, bool):
                index = index.__index__()
            check_int(index, "sample index", 0)
        self.index = index

    def __enter__(self) -> int | None:
        self.token = _INDEX.set(self.index)
        return self.index

    def __exit__(self, *exc: object) -> None:
        _INDEX.reset(self.token)


class IndexedDataset(Dataset):
    """A map-style dataset whose items are made with their index set (see :func:`indexed`).

    Attributes of the wrapped dataset (``transform``, ``classes`` ...) are read through.
    """

    def __init__(self, dataset: Any) -> None:
        if not hasattr(dataset, "__getitem__"):
            raise TypeError(f"indexed() takes a map-style dataset (with __getitem__), got {type(dataset).__name__}")
        self.dataset = dataset

    def __getitem__(self, index: int) -> Any:
        # Negative indices name the same item as their positive counterpart: draw it the same way.
        key = index + len(self) if isinstance(index, int) and index < 0 and hasattr(self.dataset, "__len__") else index
        with sample_index(key):
            return self.dataset[index]

    def __len__(self) -> int:
        return len(self.dataset)

    def __getattr__(self, name: str) -> Any:
        if name == "dataset":  # not set yet (unpickling): avoid recursing
            raise AttributeError(name)
        return getattr(self.dataset, name)

    def __repr__(self) -> str:
        return f"indexed({self.dataset!r})"


def indexed(dataset: Any) -> IndexedDataset:
    """Wrap a map-style dataset so that its transform knows which image it transforms.

    ``indexed(dataset)[i]`` is ``dataset[i]``, computed with ``i`` set as the sample index: a coordinator
    built with ``reproducible=True`` inside the dataset's transform then draws image ``i`` the same way in
    every run, whatever the number of workers, ranks, the batch size or the sampler order.

    Args:
        dataset: Any map-style dataset that calls its transform inside ``__getitem__``
            (``torchvision.datasets.ImageFolder``, lightly's ``LightlyDataset`` ...).
    """
    return IndexedDataset(dataset)
