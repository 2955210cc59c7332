"""Where the ``jointaug`` group line sits in ``defaults:`` decides who wins: the YAML body or the group.

Hydra merges a primary config's ``defaults:`` in order, its own body at ``_self_``. solo-learn's YAMLs
list ``_self_`` first, so a group line added after it overrides the YAML body: a ``jointaug:`` value the
user wrote in the body (``crop: {beta: -1.0}``) would be replaced by the group's default without a word.
:func:`check_group_order` reads the primary YAML as written and refuses that case, naming the value.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .options import get, plain


def primary_yaml(config: Any) -> Path | None:
    """The primary YAML file a composed config came from (its ``hydra`` node must be present), or ``None``."""
    hydra = get(config, "hydra")
    name = get(get(hydra, "job", {}), "config_name") if hydra is not None else None
    if not name:
        return None
    name = str(name) if str(name).endswith((".yaml", ".yml")) else f"{name}.yaml"
    for source in get(get(hydra, "runtime", {}), "config_sources") or []:
        if get(source, "schema") == "file":
            candidate = Path(str(get(source, "path"))) / name
            if candidate.is_file():
                return candidate
    return None


def _group_position(defaults: list[Any]) -> tuple[int | None, int, str | None]:
    """Indexes of the ``jointaug`` group entry and of ``_self_`` (end of the list when absent), and the entry."""
    group, self_at, line = None, len(defaults), None
    for i, entry in enumerate(defaults):
        if entry == "_self_":
            self_at = i
        elif isinstance(entry, dict):
            for key, value in entry.items():
                if str(key).split()[-1].split("@")[0] == "jointaug":
                    group, line = i, f"- {key}: {value}"
    return group, self_at, line


def _leaves(node: Any, prefix: str) -> dict[str, Any]:
    if isinstance(node, dict) and node:
        out: dict[str, Any] = {}
        for key, value in node.items():
            out.update(_leaves(value, f"{prefix}.{key}"))
        return out
    return {prefix: node}


def _select(tree: Any, keys: list[str]) -> Any:
    for key in keys:
        if not isinstance(tree, dict) or key not in tree:
            return None
        tree = tree[key]
    return tree


def _cli_keys(config: Any) -> list[str]:
    overrides = get(get(get(config, "hydra", {}), "overrides", {}), "task") or []
    keys = [str(o).split("=", 1)[0].lstrip("~+") for o in overrides]
    return [k for k in keys if k != "jointaug"]  # `jointaug=blur` picks a group option; it sets no value


def _set_on_cli(path: str, cli_keys: list[str]) -> bool:
    return any(path == k or path.startswith(k + ".") or k.startswith(path + ".") for k in cli_keys)


def check_group_order(config: Any) -> None:
    """Refuse a ``jointaug`` value written in the YAML body that the group, merged after ``_self_``, replaced.

    Does nothing when the config has no ``hydra`` node or its primary YAML cannot be found (e.g. a config
    composed without ``return_hydra_config``), or when the body has no ``jointaug`` block.

    Raises:
        ValueError: naming each shadowed value and the two fixes (move the line above ``- _self_``, or set
            the value on the command line).
    """
    path = primary_yaml(config)
    if path is None:
        return
    from omegaconf import OmegaConf

    raw = OmegaConf.load(path)
    body = OmegaConf.to_container(raw, resolve=False).get("jointaug") if isinstance(plain(raw), dict) else None
    if body is None:
        return
    defaults = plain(get(raw, "defaults")) or []
    group_at, self_at, line = _group_position(defaults)
    choices = get(get(get(config, "hydra", {}), "runtime", {}), "choices") or {}
    if group_at is None:
        if get(choices, "jointaug") is None:
            return  # no group at all: the body is all there is
        line = f"+jointaug={get(choices, 'jointaug')} (command line)"
    elif group_at < self_at:
        return  # the body is merged after the group: its values win
    composed = plain(get(config, "jointaug"))
    cli = _cli_keys(config)
    shadowed = []
    for key, value in _leaves(body, "jointaug").items():
        in_effect = _select(composed, key.split(".")[1:])
        if value != {} and in_effect != value and not _set_on_cli(key, cli):
            shadowed.append(f"{key}: {value!r} (in effect: {in_effect!r})")
    if shadowed:
        raise ValueError(
            f"jointaug: {path.name} sets {'; '.join(shadowed)} in its body, but the group line `{line}` is "
            "merged after `- _self_` in `defaults:`, so hydra replaced the body's values with the group's. "
            "Move the group line above `- _self_` (then values in the YAML body win), or set the values on "
            "the command line (e.g. jointaug.crop.beta=-1.0)."
        )
