"""``jointaug verify``: are a training setup's views really joint? Measured on the pipeline's own output.

A target (a ``module:attr`` callable, or through plugins an mm config or a solo-learn YAML) is built
into a :class:`VerifyTarget`; :func:`verify` runs its views on a generated image whose pixels encode
their coordinates (:mod:`jointaug_plugins.tools.verify_probe`), reads each view's crop area back from the view,
and compares the measured ``P(s2/s1 > 2)`` of each checked pair with the values expected for joint and
for independent crops (:mod:`jointaug_plugins.tools.verify_stats`). Nothing here imports an SSL library.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .verify_stats import run
from .verify_target import VerifyTarget, VerifyTargetError

__all__ = ["VERDICTS", "VerifyTarget", "VerifyTargetError", "resolve_python", "resolve_target", "verify"]

VERDICTS = ("joint", "independent", "not measured")


_ATTR = re.compile(r"^(?P<module>.+?):(?P<attr>[A-Za-z_][\w.]*)$")


def _load_module(spec: str) -> Any:
    if spec.endswith(".py") or "/" in spec or "\\" in spec:
        path = Path(spec).resolve()
        if not path.is_file():
            raise VerifyTargetError(
                f"no such file: {path}", "name a Python file that exists, e.g. my_transforms.py:make"
            )
        name = f"_jointaug_verify_{abs(hash(str(path)))}"
        module_spec = importlib.util.spec_from_file_location(name, path)
        if module_spec is None or module_spec.loader is None:  # not a file Python can import (no .py suffix)
            raise VerifyTargetError(f"cannot import {path} as a module", "name a .py file, e.g. my_transforms.py:make")
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[name] = module
        sys.path.insert(0, str(path.parent))
        try:
            module_spec.loader.exec_module(module)
        finally:
            sys.path.remove(str(path.parent))
        return module
    if "" not in sys.path and "." not in sys.path:
        sys.path.insert(0, "")  # `module:attr` names a module of the working directory too, as `python -m` does
    return importlib.import_module(spec)


def _is_factory(obj: Any) -> bool:
    """Classes, and functions or methods callable without arguments, are factories (called once)."""
    if inspect.isclass(obj):
        return True
    if not (inspect.isfunction(obj) or inspect.ismethod(obj) or type(obj).__name__ == "partial"):
        return False
    try:
        inspect.signature(obj).bind()
    except TypeError:
        return False
    return True


def _list_views(pipelines: Sequence[Callable[[Any], Any]]) -> Callable[[Any], list[Any]]:
    def views(image: Any) -> list[Any]:
        return [pipeline(image) for pipeline in pipelines]

    return views


def resolve_python(target: str) -> VerifyTarget | None:
    """``module:attr`` or ``path/to/file.py:attr``: the named object, or what it returns.

    A class, or a function (or method) callable with no arguments, is a factory: it is called once and
    its result is the transform. Anything else (an instance such as lightly's ``SimCLRTransform()`` or a
    ``JointViews``, or a function taking the image) is the transform itself. A list or tuple of per-view
    pipelines is run view by view. The transform is called on an RGB ``PIL.Image``.
    """
    match = _ATTR.match(target)
    if match is None or "::" in target:
        return None
    try:
        module = _load_module(match["module"])
        obj = module
        for part in match["attr"].split("."):
            obj = getattr(obj, part)
        transform = obj() if _is_factory(obj) else obj
    except VerifyTargetError:
        raise
    except Exception as err:
        raise VerifyTargetError(
            f"{type(err).__name__}: {err}",
            f"`{target}` must name a multi-view transform, or a class or no-argument function returning one",
        ) from err
    if isinstance(transform, (list, tuple)) and all(callable(v) for v in transform) and transform:
        views = _list_views(list(transform))
    elif callable(transform):
        views = transform
    else:
        raise VerifyTargetError(
            f"{target} gave a {type(transform).__name__}, which is not callable",
            "name a transform (image -> list of views), a list of per-view pipelines, or a factory of one",
        )
    library = type(transform).__module__.split(".")[0].replace("builtins", "python")
    return VerifyTarget.from_transform(target, views, transform, library=library)


def resolve_target(target: str, args: Sequence[str] = ()) -> VerifyTarget:
    """Build ``target``: plugins first (hook ``jointaug_verify_target``: mm configs, solo YAMLs), then
    ``module:attr``.

    Raises:
        VerifyTargetError: nothing can build it, or building failed (with the library's message).
    """
    from ..registry import plugin_manager

    built = plugin_manager().hook.jointaug_verify_target(target=target, args=list(args))
    if built is None:
        built = resolve_python(target)
    if built is not None:
        return built
    hint = "give module:attr (a callable returning a multi-view transform), an mm config .py, or a solo YAML"
    if target.endswith((".py", ".yaml", ".yml")) and "::" not in target and not Path(target).is_file():
        raise VerifyTargetError(f"no such file: {target}", hint)
    if target.endswith((".py", ".yaml", ".yml")) or "--config-name" in args:
        hint = (
            "no installed plugin handles this target: install jointaug-plugins with the mm / solo extras "
            "(`pip install -e .` registers the verify plugins through the entry points `jointaug_plugins`)"
        )
    raise VerifyTargetError(f"cannot build {target or ' '.join(args)!r}", hint)


def verify(
    target: VerifyTarget, n: int | None = None, seed: int = 0, progress: Any = None, workers: int = 2
) -> dict[str, Any]:
    """Measure ``target`` and return the JSON-able report (see :func:`jointaug_plugins.tools.verify_stats.run`).

    Args:
        target: What :func:`resolve_target` built.
        n: Images (pairs) to run, ``>= 1``; ``None`` picks enough to tell joint from independent (>= 800).
        seed: Seed of Python's, numpy's and torch's generators, ``>= 0``.
        progress: A ``tqdm``-like wrapper of the run loop, or ``None``.
        workers: Forked processes running the views (``0``: this process), as a DataLoader's workers.
    """
    return run(target, n=n, seed=seed, progress=progress, workers=workers)
