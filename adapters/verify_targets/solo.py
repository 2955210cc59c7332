"""``jointaug verify --config-path DIR --config-name NAME [overrides]``: a solo-learn YAML, composed by hydra.

The YAML is composed as solo-learn's ``main_pretrain.py`` composes it (hydra's compose API: its
``defaults:`` list, config groups such as ``augmentations``, the ``jointaug`` group of this package's
search-path plugin, command-line overrides), with its ``hydra`` node, as hydra hands it to job callbacks. Its
train transform is then built through the path training runs
(``jointaug_plugins.adapters.solo.build_as_main_pretrain``): the job callback's checks and builders where the
YAML registers it (the ``- jointaug: ...`` line), solo's own ``build_transform_pipeline`` per augmentation entry
when solo-learn is installed, and the Lightning guard's check for a ``jointaug:`` block without the line. So it
stops on the same mistakes, with the same errors, as ``main_pretrain.py``. A YAML's path given as TARGET works
too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...hookspecs import hookimpl
from ...tools.verify import VerifyTarget, VerifyTargetError

_FLAGS = {"--config-path": "path", "-cp": "path", "--config-name": "name", "-cn": "name"}
_HINT_COMPOSE = (
    "this is hydra's error composing the YAML: --config-path must be the folder holding it (and its groups, "
    "e.g. augmentations/), --config-name its file name; `- jointaug: ...` in defaults needs jointaug-plugins "
    "installed (its hydra search-path plugin provides the group)"
)


def parse_args(target: str, args: list[str]) -> tuple[Path, str, list[str]] | None:
    """``(config dir, config name, overrides)`` from ``--config-path/--config-name`` (or ``-cp/-cn``) and
    the rest of ``args``, or from ``target`` when it is a ``.yaml`` / ``.yml`` path; ``None`` otherwise."""
    found: dict[str, str] = {}
    overrides: list[str] = []
    items = iter(args)
    for item in items:
        key, _, value = item.partition("=")
        if key in _FLAGS:
            found[_FLAGS[key]] = value if value else next(items, "")
        else:
            overrides.append(item)
    if "name" not in found:
        if not target.endswith((".yaml", ".yml")):
            return None
        path = Path(target)
        return path.resolve().parent, path.stem, overrides
    if "path" not in found:
        raise VerifyTargetError(
            f"--config-name {found['name']} without --config-path", "add --config-path DIR, the YAML's folder"
        )
    name = found["name"]
    for suffix in (".yaml", ".yml"):
        name = name.removesuffix(suffix)
    if target:
        overrides.insert(0, target)
    return Path(found["path"]).resolve(), name, overrides


def compose_config(config_dir: Path, name: str, overrides: list[str]) -> Any:
    """The composed solo-learn config (an omegaconf ``DictConfig``) with its ``hydra`` node: the group choices,
    the primary YAML's source and the overrides that the job callback's checks read."""
    try:
        from hydra import compose, initialize_config_dir
        from hydra.core.global_hydra import GlobalHydra
    except ImportError as err:
        raise VerifyTargetError(f"{type(err).__name__}: {err}", "pip install 'jointaug-plugins[solo]'") from err

    if not config_dir.is_dir():
        raise VerifyTargetError(f"--config-path {config_dir} is not a folder", _HINT_COMPOSE)
    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(version_base=None, config_dir=str(config_dir)):
            return compose(config_name=name, overrides=overrides, return_hydra_config=True)
    except Exception as err:
        raise VerifyTargetError(f"{type(err).__name__}: {err}", _HINT_COMPOSE) from err
    finally:
        GlobalHydra.instance().clear()


@hookimpl
def jointaug_verify_target(target: str, args: list[str]) -> VerifyTarget | None:
    """Build a solo-learn YAML target, else ``None``."""
    parsed = parse_args(target, args)
    if parsed is None:
        return None
    config_dir, name, overrides = parsed
    cfg = compose_config(config_dir, name, overrides)
    try:
        from ..solo import build_as_main_pretrain

        transform = build_as_main_pretrain(cfg)
    except Exception as err:
        raise VerifyTargetError(
            f"{type(err).__name__}: {err}",
            "main_pretrain.py stops with this same error: it is what jointaug-plugins' hydra job callback (the "
            "`jointaug` group line) or its Lightning guard (a `jointaug:` block without the line) reports on this "
            "YAML (its augmentations list, data.dataset and the jointaug block)",
        ) from err
    label = f"{config_dir / name}.yaml" + (f" {' '.join(overrides)}" if overrides else "")
    return VerifyTarget.from_transform(label, transform, transform, library="solo-learn")
