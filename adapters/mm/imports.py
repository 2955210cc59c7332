"""What a config's ``custom_imports`` say about the mm switch.

* Which jointaug adapters the config imports (:func:`config_adapters`): a fresh ``tools/train.py`` run imports
  exactly these, so ``jointaug verify`` and the Runner switch agree on "adapter not imported". A module of
  this package that the config names but that cannot be imported (a misspelling hidden by
  ``allow_failed_imports=True``) stops the build: training would run independent views.
* Which modules of the ``_base_`` chain's ``custom_imports`` the config no longer imports
  (:func:`dropped_base_imports`): mmengine replaces lists wholesale, so pasting ``custom_imports`` under a
  base that sets its own drops the base's modules without a word.
"""

from __future__ import annotations

import difflib
import importlib
import os
import warnings
from collections.abc import Mapping
from typing import Any

PACKAGE = "jointaug_plugins"
#: The module a config imports -> the library whose switch it installs.
ADAPTERS = {f"{PACKAGE}.adapters.mmselfsup": "mmselfsup", f"{PACKAGE}.adapters.mmpretrain": "mmpretrain"}
_OURS = (*ADAPTERS, f"{PACKAGE}.adapters.mmengine_hooks")


def adapter_line(library: str) -> str:
    """The README's one line for ``library``."""
    return f"custom_imports = dict(imports=['{PACKAGE}.adapters.{library}'], allow_failed_imports=False)"


def custom_imports_of(cfg: Any) -> list[str]:
    """The modules of ``cfg``'s ``custom_imports`` (``[]`` without one)."""
    if cfg is None or (not isinstance(cfg, Mapping) and not hasattr(cfg, "get")):
        return []
    block = cfg.get("custom_imports", None)
    if not isinstance(block, Mapping):
        return []
    modules = block.get("imports", [])
    return [modules] if isinstance(modules, str) else [str(m) for m in modules or []]


def _importable(module: str) -> Exception | None:
    try:
        importlib.import_module(module)
    except Exception as err:  # what mmengine's allow_failed_imports=True hid
        return err
    return None


def config_adapters(cfg: Any) -> list[str]:
    """The libraries whose jointaug adapter ``cfg``'s ``custom_imports`` import.

    Raises:
        ImportError: a module of this package named there cannot be imported (``allow_failed_imports=True``
            let the config load without it, and nothing of this package would run).
    """
    found = []
    for module in custom_imports_of(cfg):
        if module.split(".")[0] != PACKAGE:
            continue
        err = _importable(module)
        if err is not None:
            close = difflib.get_close_matches(module, _OURS, n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ImportError(
                f"custom_imports names {module!r}, which cannot be imported ({type(err).__name__}: {err}){hint} "
                "With allow_failed_imports=True the config loads without it, nothing of jointaug_plugins runs, and "
                "training would run independent views"
            )
        if module in ADAPTERS:
            found.append(ADAPTERS[module])
    return found


def _base_custom_imports(filename: str) -> list[tuple[str, list[str]]]:
    """``(base as written, its custom_imports modules)`` for each direct ``_base_`` of ``filename``."""
    from mmengine.config import Config

    out = []
    for base in Config._get_base_files(filename):
        try:
            path, _ = Config._get_cfg_path(base, filename)
            base_cfg = Config.fromfile(path, import_custom_modules=False)
        except Exception:  # a base mmengine itself could read; never fail the run on this check
            continue
        out.append((base, custom_imports_of(base_cfg)))
    return out


def dropped_base_imports(cfg: Any) -> list[str]:
    """Warnings (also issued as ``UserWarning``) for ``_base_`` ``custom_imports`` modules that ``cfg`` no
    longer imports, each saying what to paste instead."""
    filename = getattr(cfg, "filename", None)
    if not filename or not str(filename).endswith(".py") or not os.path.isfile(filename):
        return []
    own = custom_imports_of(cfg)
    messages = []
    for base, modules in _base_custom_imports(str(filename)):
        dropped = [m for m in modules if m not in own]
        if not dropped:
            continue
        keep = dropped + [m for m in own if m not in dropped]
        messages.append(
            f"this config's custom_imports replaces the one its _base_ {base!r} sets (mmengine replaces lists): "
            f"{', '.join(repr(m) for m in dropped)} {'is' if len(dropped) == 1 else 'are'} no longer imported. To keep "
            "them, paste instead:\n"
            f"    custom_imports = dict(imports={keep!r}, allow_failed_imports=False)"
        )
    for message in messages:
        warnings.warn(message, UserWarning, stacklevel=3)
    return messages
