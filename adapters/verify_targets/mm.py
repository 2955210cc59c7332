"""``jointaug verify CONFIG.py``: an mmselfsup / mmpretrain config, built as its Runner builds the train pipeline.

The config is read with ``mmengine.Config.fromfile`` (which imports its ``custom_imports``, inheritance
through ``_base_`` included), as ``tools/train.py`` reads it; a target ``mmselfsup::selfsup/...py`` /
``mmpretrain::...py`` names a config shipped inside the library. The train dataset's pipeline is built by
``jointaug_plugins.adapters.mm.switch.train_pipeline``, i.e. through
:func:`~jointaug_plugins.adapters.mm.switch.apply_switch`, the function the wrapped ``Runner.__init__`` runs,
with its checks: verify stops on the errors training stops on, and the adapters that count are those the
config's ``custom_imports`` import (a fresh training process imports nothing else), so ``jointaug`` set
without the adapter imported is an error here (training cannot see it and would run independent views). The
pipeline runs on ``{'img_path': <the probe PNG>}``; its ``inputs`` are the views.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from ...hookspecs import hookimpl
from ...tools.verify import VerifyTarget, VerifyTargetError
from ...tools.verify_probe import image_digest

LIBRARIES = ("mmselfsup", "mmpretrain")
_PACKAGE_CONFIG = re.compile(r"^(mmselfsup|mmpretrain|mmcls)::\S+\.py$")
_HINT_READ = (
    "this is mmengine's error while reading the config (its _base_ chain and custom_imports); "
    "the config must load on its own, e.g. python -c \"from mmengine import Config; Config.fromfile('{path}')\""
)


def is_mm_config(target: str) -> bool:
    """A ``*.py`` file that exists (``file.py:attr`` is the core's form), or ``<library>::<path>.py``."""
    return bool(_PACKAGE_CONFIG.match(target)) or (target.endswith(".py") and Path(target).is_file())


def load_config(target: str, workdir: str) -> Any:
    """``mmengine.Config`` of ``target``; library-relative targets go through a one-line ``_base_`` config."""
    try:
        from mmengine.config import Config
    except ImportError as err:
        raise VerifyTargetError(f"{type(err).__name__}: {err}", "pip install 'jointaug-plugins[mmselfsup]'") from err
    path = target
    if "::" in target:
        path = str(Path(workdir) / "jointaug_verify_config.py")
        Path(path).write_text(f"_base_ = {target!r}\n")
    try:
        return Config.fromfile(path)
    except Exception as err:
        raise VerifyTargetError(f"{type(err).__name__}: {err}", _HINT_READ.format(path=target)) from err


def _library(cfg: Any) -> str:
    scope = cfg.get("default_scope", None)
    if scope in LIBRARIES:
        return scope
    found = [name for name in LIBRARIES if importlib.util.find_spec(name) is not None]
    if not found:
        raise VerifyTargetError(
            "neither mmselfsup nor mmpretrain is installed", "pip install 'jointaug-plugins[mmselfsup]'"
        )
    return found[0]


def _check_preprocessor(cfg: Any) -> None:
    """The Runner's check of the data preprocessor route, under the same condition: where that route registered
    its stage of ``Runner.__init__`` (the config imported ``jointaug_plugins.adapters.mm.preprocessor``), a
    ``JointViewsDataPreprocessor`` model beside a pipeline that still makes views (``MultiView``) is refused,
    first, with the same error."""
    from ..mm.runner import has_stage

    if has_stage("preprocessor_check"):
        from ..mm.preprocessor import check_runner_args

        check_runner_args(cfg.get("model"), cfg.get("train_dataloader"))


def build_pipeline(cfg: Any) -> tuple[Any, str, list[str]]:
    """``(train pipeline, library, notes)`` of an mm config, as its Runner would build it."""
    library = _library(cfg)
    notes: list[str] = []
    importlib.import_module(f"{library}.utils").register_all_modules(init_default_scope=False)
    from ..mm import upstream_fixes

    upstream_fixes.apply_all()  # without them an unmodified config cannot run here (mmcv's hue under numpy 2)
    notes.append("jointaug's workarounds for mmselfsup/mmcv upstream bugs are applied (see the README)")
    if "train_dataloader" not in cfg:
        raise VerifyTargetError(
            "the config has no train_dataloader", "name an mm training config; for a Python module use file.py:attr"
        )
    from ..mm.switch import train_pipeline

    try:
        _check_preprocessor(cfg)
        pipeline, switched = train_pipeline(cfg)
        return pipeline, library, notes + switched.warnings
    except VerifyTargetError:
        raise
    except Exception as err:
        raise VerifyTargetError(
            f"{type(err).__name__}: {err}",
            f"raised while building the train pipeline as the Runner does ({library}'s registries, jointaug's switch)",
        ) from err


class MMViews:
    """``image -> views`` through an mm pipeline: the image is written as PNG and loaded by the pipeline's own
    ``LoadImageFromFile``; the packed ``inputs`` are the views.

    The PNG is named after the image's content (:func:`~jointaug_plugins.tools.verify_probe.image_digest`),
    never after the object's ``id()``: CPython reuses the id of a freed image for the next one, so an
    id-keyed cache would feed the pipeline an earlier, differently designed probe (in this process, or in
    forked workers that inherit the cache). A file is written once per content (to a temporary name, then
    renamed), so forked workers writing the same probe at once never read a half-written file.
    """

    def __init__(self, pipeline: Any) -> None:
        self.pipeline = pipeline
        self._dir = tempfile.TemporaryDirectory(prefix="jointaug-verify-")
        self._files: dict[str, str] = {}  # content digest -> PNG path

    def probe_path(self, image: Any) -> str:
        """The PNG file holding ``image`` (written on first use of this content)."""
        key = image_digest(image)
        path = self._files.get(key)
        if path is None or not os.path.exists(path):
            path = str(Path(self._dir.name) / f"probe_{key}.png")
            if not os.path.exists(path):
                partial = f"{path}.{os.getpid()}.partial.png"
                image.save(partial, format="PNG")
                os.replace(partial, path)
            self._files[key] = path
        return path

    def __call__(self, image: Any) -> Any:
        results = self.pipeline({"img_path": self.probe_path(image)})
        if results is None:
            raise ValueError("the train pipeline dropped the sample (returned None)")
        return results


@hookimpl
def jointaug_verify_target(target: str, args: list[str]) -> VerifyTarget | None:
    """Build an mm config target (``*.py`` or ``mmselfsup::...py``), else ``None``."""
    if not target or not is_mm_config(target):
        return None
    with tempfile.TemporaryDirectory(prefix="jointaug-verify-cfg-") as workdir:
        cfg = load_config(target, workdir)
        pipeline, library, notes = build_pipeline(cfg)
    return VerifyTarget.from_transform(target, MMViews(pipeline), pipeline, library=library, notes=notes)
