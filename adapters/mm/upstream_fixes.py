"""Workarounds for upstream problems that stop mmselfsup's / mmpretrain's own Runner here.

Each fix is applied once, when an mm adapter module is imported, and is a no-op where it is not needed:

* mmselfsup 1.0.0 names a registry location it does not ship (``mmselfsup.engine.runner``,
  https://github.com/open-mmlab/mmselfsup/issues/745): with mmengine >= 0.7 every Runner build fails
  with ``ModuleNotFoundError``. An empty module is registered under that name, so the lookup falls
  back to mmengine's runners.
* Configs inheriting ``mmselfsup::`` / ``mmpretrain::`` bases carry ``_scope_`` into
  ``collate_fn=dict(type='default_collate')``, which mmengine then passes to the function as a keyword
  (``TypeError``). ``Runner.build_dataloader`` is wrapped to drop that key.
* mmcv 2.0.x's ``adjust_hue`` (pillow backend) computes ``np.uint8(hue_factor * 255)``, which numpy 2
  refuses for a negative hue: every ``ColorJitter`` with ``hue > 0`` then fails about half the time.
  Under numpy >= 2 the pillow branch is replaced by one that wraps the shift modulo 256 as numpy 1 did.
"""

from __future__ import annotations

import copy
import functools
import importlib
import importlib.util
import sys
import types
from collections.abc import Mapping
from typing import Any

import numpy as np
from PIL import Image


def needs_missing_runner_location() -> bool:
    """Whether mmselfsup is installed and still lacks ``mmselfsup.engine.runner`` (upstream #745)."""
    if importlib.util.find_spec("mmselfsup") is None:
        return False
    importlib.import_module("mmselfsup.engine")
    module = sys.modules.get("mmselfsup.engine.runner")
    if module is not None:
        return getattr(module, "_jointaug_placeholder", False)
    return importlib.util.find_spec("mmselfsup.engine.runner") is None


def register_missing_runner_location() -> None:
    """Register an empty ``mmselfsup.engine.runner`` where mmselfsup does not ship one."""
    name = "mmselfsup.engine.runner"
    if name in sys.modules or not needs_missing_runner_location():
        return
    module = types.ModuleType(name, "Placeholder for mmselfsup 1.0.0's missing module (open-mmlab/mmselfsup#745).")
    module._jointaug_placeholder = True
    sys.modules[name] = module
    sys.modules["mmselfsup.engine"].runner = module


def drop_collate_scope() -> None:
    """Wrap ``Runner.build_dataloader`` so a ``_scope_`` key in ``collate_fn`` does not reach the function."""
    from mmengine.runner import Runner

    original = Runner.build_dataloader
    if getattr(original, "_jointaug_scope_fix", False):
        return

    @functools.wraps(original)
    def build_dataloader(dataloader, *args, **kwargs):
        collate = dataloader.get("collate_fn") if isinstance(dataloader, Mapping) else None
        if isinstance(collate, Mapping) and "_scope_" in collate:
            dataloader = copy.copy(dataloader)
            dataloader["collate_fn"] = {k: v for k, v in collate.items() if k != "_scope_"}
        return original(dataloader, *args, **kwargs)

    build_dataloader._jointaug_scope_fix = True
    Runner.build_dataloader = staticmethod(build_dataloader)


def numpy2_safe_adjust_hue() -> None:
    """Under numpy >= 2, replace mmcv's pillow ``adjust_hue`` by one that wraps the hue shift modulo 256."""
    if int(np.__version__.split(".")[0]) < 2:
        return
    import mmcv
    import mmcv.image
    import mmcv.image.photometric as photometric

    original = photometric.adjust_hue
    if getattr(original, "_jointaug_numpy2_fix", False):
        return

    @functools.wraps(original)
    def adjust_hue(img: np.ndarray, hue_factor: float, backend: str | None = None) -> np.ndarray:
        chosen = photometric.imread_backend if backend is None else backend
        if chosen != "pillow" or not (-0.5 <= hue_factor <= 0.5) or not isinstance(img, np.ndarray):
            return original(img, hue_factor, backend=backend)
        image = Image.fromarray(img[..., ::-1], mode="RGB")
        h, s, v = image.convert("HSV").split()
        shifted = (np.asarray(h, dtype=np.int64) + int(hue_factor * 255)) % 256
        h = Image.fromarray(shifted.astype(np.uint8), "L")
        return np.array(Image.merge("HSV", (h, s, v)).convert("RGB"), dtype=img.dtype)[..., ::-1]

    adjust_hue._jointaug_numpy2_fix = True
    for module in (photometric, mmcv.image, mmcv):
        module.adjust_hue = adjust_hue
    # mmselfsup imported the name into its own namespace.
    if importlib.util.find_spec("mmselfsup") is not None:
        importlib.import_module("mmselfsup.datasets.transforms.processing").adjust_hue = adjust_hue


def resumable_local_checkpoints() -> None:
    """mmengine <= 0.10.7 loads local checkpoints with ``torch.load``'s default, which torch >= 2.6 made
    ``weights_only=True``: its own checkpoints (``HistoryBuffer``, numpy scalars in ``message_hub``) are then refused,
    so ``resume=True`` fails, and with it the restore of semantic boxes. Re-register the local scheme to load them
    as mmengine always did (``weights_only=False``: the user's own checkpoint files)."""
    import inspect
    import os.path as osp

    import torch
    from mmengine.runner.checkpoint import CheckpointLoader

    already = getattr(CheckpointLoader._schemes.get(""), "_jointaug_fix", False)
    if already or "weights_only" not in inspect.signature(torch.load).parameters:
        return

    def load_from_local(filename: str, map_location: Any = None) -> Any:
        filename = osp.expanduser(filename)
        if not osp.isfile(filename):
            raise FileNotFoundError(f"{filename} can not be found.")
        return torch.load(filename, map_location=map_location, weights_only=False)

    load_from_local._jointaug_fix = True
    CheckpointLoader.register_scheme(prefixes="", loader=load_from_local, force=True)


def apply_all() -> None:
    """Apply every fix that this environment needs (idempotent)."""
    register_missing_runner_location()
    drop_collate_scope()
    numpy2_safe_adjust_hue()
    resumable_local_checkpoints()
