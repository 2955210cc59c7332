"""The config switch: ``jointaug = dict(crop=0.0)`` at the end of any mmselfsup / mmpretrain config.

mmengine replaces lists wholesale when a config inherits another, and a child's ``train_pipeline``
does not reach the ``train_dataloader.dataset.pipeline`` its base already built from it, so a switch
that restates the pipeline (or appends to ``custom_hooks``) either does nothing or drops the base's
entries without a word. The switch is therefore a new top-level key that no base defines: when the
Runner is built, the train dataloader's config (through any dataset wrappers) is searched for the
library's ``MultiView``, which becomes ``JointMultiView`` with ``jointaug=<the switch>``, and the result is
built once on the spot so that every mistake stops the run before the first iteration:

* the switch set but no ``MultiView`` in the train pipeline, or unknown keys, or a kind switched on that
  the views lack (``ValueError``);
* an mm adapter imported but neither the switch nor a ``JointMultiView`` in the train pipeline: the
  views would be independent (``ValueError``; ``jointaug = None`` says "independent on purpose").

Every Runner also gets :class:`~jointaug_plugins.adapters.mm.epoch.JointEpochHook`, which tells the joint views
the epoch (β schedules, reproducible draws).
"""

from __future__ import annotations

import copy
import functools
import importlib
import inspect
from collections.abc import Iterator, Mapping
from typing import Any

from ...epoch import sync_epoch
from ...transforms.views import JointViews
from ...walk import find_instances
from .multiview import parse_joint

SWITCH_KEY = "jointaug"
_MISSING = object()
# library name -> its registered JointMultiView class (filled by the adapter modules).
REGISTERED: dict[str, type] = {}


def _type_name(node: Mapping) -> str:
    kind = node.get("type")
    if isinstance(kind, str):
        return kind.rsplit(".", 1)[-1]
    return getattr(kind, "__name__", "") if kind is not None else ""


def _walk(node: Any) -> Iterator[dict]:
    """Every dict inside ``node`` (dataset wrappers, pipelines, nested transforms), depth first."""
    if isinstance(node, Mapping):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            yield from _walk(value)


def multiview_nodes(dataset: Any) -> list[dict]:
    """The ``MultiView`` / ``JointMultiView`` dicts of a dataset config (found through wrappers), each once."""
    found = {id(n): n for n in _walk(dataset) if _type_name(n) in ("MultiView", "JointMultiView")}
    return list(found.values())


def _num_views(node: Mapping) -> list[int]:
    value = node.get("num_views", 1)
    return [int(v) for v in value] if isinstance(value, (list, tuple)) else [int(value)]


def _pipeline_types(dataset: Any) -> list[str]:
    return [_type_name(n) for n in _walk(dataset) if "type" in n]


def switch_value(cfg: Any) -> Any:
    """The config's ``jointaug`` value, or a private marker when the key is absent."""
    if cfg is None:
        return _MISSING
    try:
        return cfg[SWITCH_KEY] if SWITCH_KEY in cfg else _MISSING
    except TypeError:
        return _MISSING


def apply_switch(dataloader: Mapping, switch: Any, strict: bool = True) -> tuple[dict, list[dict]]:
    """The train dataloader config with the switch applied, and its ``JointMultiView`` dicts.

    Args:
        dataloader: ``train_dataloader`` as a config dict (left untouched; a deep copy is returned).
        switch: The ``jointaug`` value: a dict of joint options, ``None`` (independent on purpose), or
            absent (the module's marker): then the pipeline must already hold a ``JointMultiView``, or
            the dataset, passed as a built object, a joint coordinator.
        strict: When ``False``, an absent switch with no joint pair returns the config unchanged
            (``jointaug verify`` measures such configs) instead of raising.
    """
    new = copy.deepcopy(dict(dataloader))
    dataset = new.get("dataset")
    nodes = multiview_nodes(dataset)
    joint = [n for n in nodes if _type_name(n) == "JointMultiView"]
    plain = [n for n in nodes if _type_name(n) == "MultiView"]
    if switch is None:
        return new, joint
    if switch is _MISSING:
        # A dataset passed as a built object may hold a joint coordinator already (not a config node).
        if joint or not strict or find_instances(dataset, lambda obj: isinstance(obj, JointViews)):
            return new, joint
        raise ValueError(
            "jointaug_plugins' mm adapter is imported (custom_imports), but this config's train pipeline has no "
            f"joint pair: {'its MultiView draws every view independently' if plain else 'it has no MultiView'}. "
            "Add at the end of the config:\n    jointaug = dict(crop=0.0)\n"
            "or, to train with independent views on purpose:\n    jointaug = None"
        )
    if not nodes:
        raise ValueError(
            f"jointaug = {switch!r} is set, but the train pipeline has no MultiView to make joint; "
            f"transforms found in train_dataloader.dataset: {_pipeline_types(dataset)}"
        )
    for node in nodes:
        parse_joint(switch, _num_views(node), where=SWITCH_KEY)  # bad keys and values stop here, named
        if SWITCH_KEY in node:
            raise ValueError(
                f"the train pipeline already has {node['type']}(jointaug={node[SWITCH_KEY]!r}) and the config "
                f"also sets jointaug = {switch!r}; keep one (the jointaug switch on the library's MultiView is the "
                "usual form)"
            )
        kind = node["type"]
        prefix = kind.rsplit(".", 1)[0] + "." if isinstance(kind, str) and "." in kind else ""
        node["type"] = prefix + "JointMultiView"
        node[SWITCH_KEY] = dict(switch)
    return new, nodes


def _library_of(scope: str | None, nodes: list[dict]) -> str:
    prefixes = {n["type"].split(".", 1)[0] for n in nodes if isinstance(n.get("type"), str) and "." in n["type"]}
    library = next(iter(prefixes), None) or scope
    if library not in ("mmselfsup", "mmpretrain"):
        library = next(iter(REGISTERED), "mmselfsup")
    if library not in REGISTERED:
        imported = ", ".join(f"jointaug_plugins.adapters.{k}" for k in REGISTERED) or "no mm adapter"
        raise ValueError(
            f"this config builds its pipeline with {library}, but jointaug_plugins.adapters.{library} is not "
            f"imported (imported: {imported}): put 'jointaug_plugins.adapters.{library}' in custom_imports"
        )
    return library


def check_build(nodes: list[dict], scope: str | None) -> None:
    """Build each ``JointMultiView`` once now, so a mistake stops before training, not at the first batch."""
    if not nodes:
        return
    from mmengine.registry import DefaultScope

    library = _library_of(scope, nodes)
    registry = importlib.import_module(f"{library}.registry").TRANSFORMS
    with DefaultScope.overwrite_default_scope(library):
        for node in nodes:
            registry.build(copy.deepcopy({**node, "type": "JointMultiView"}))


def train_pipeline(cfg: Any, strict: bool = False) -> Any:
    """The train dataset's pipeline of ``cfg`` (an ``mmengine.Config``) as the Runner builds it, switch applied.

    Returns an ``mmcv.transforms.Compose`` that takes a results dict (``{'img_path': ...}``) and returns
    the packed sample (``inputs``: the list of views). Used by ``jointaug verify``.
    """
    from mmcv.transforms import Compose
    from mmengine.registry import DefaultScope

    loader, nodes = apply_switch(cfg["train_dataloader"], switch_value(cfg), strict=strict)
    scope = cfg.get("default_scope", None)
    pipelines = [n["pipeline"] for n in _walk(loader.get("dataset")) if isinstance(n.get("pipeline"), (list, tuple))]
    holding = [p for p in pipelines if multiview_nodes(list(p))] or pipelines
    if not holding:
        raise ValueError("train_dataloader.dataset has no pipeline")
    library = _library_of(scope, nodes) if nodes else scope
    if library in ("mmselfsup", "mmpretrain"):
        importlib.import_module(f"{library}.registry")
    with DefaultScope.overwrite_default_scope(library):
        return Compose(copy.deepcopy(list(holding[0])))


def install_runner_switch() -> None:
    """Wrap ``mmengine.runner.Runner.__init__`` so every Runner applies and checks the switch (idempotent)."""
    from mmengine.runner import Runner

    original = Runner.__init__
    if getattr(original, "_jointaug_switch", False):
        return
    signature = inspect.signature(original)

    @functools.wraps(original)
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        bound = signature.bind(self, *args, **kwargs)
        loader, cfg = bound.arguments.get("train_dataloader"), bound.arguments.get("cfg")
        nodes: list[dict] = []
        if isinstance(loader, Mapping):
            loader, nodes = apply_switch(loader, switch_value(cfg))
            bound.arguments["train_dataloader"] = loader
            if cfg is not None:
                cfg = copy.deepcopy(cfg)
                cfg["train_dataloader"] = loader  # so the config dumped into work_dir shows JointMultiView
                bound.arguments["cfg"] = cfg
        original(*bound.args, **bound.kwargs)
        check_build(nodes, bound.arguments.get("default_scope"))
        # β schedules and reproducible draws follow the runner's epoch (inert where no joint view uses it).
        from .epoch import JointEpochHook

        sync_epoch(0)  # before an iteration-based loop starts its DataLoader workers; hooks set the real epoch
        self.register_hook(JointEpochHook())

    __init__._jointaug_switch = True
    Runner.__init__ = __init__


def register(library: str) -> type:
    """Register ``JointMultiView`` into ``library``'s ``TRANSFORMS`` and install the switch; returns the class."""
    from .multiview import make_joint_multiview

    if library not in REGISTERED:
        registry = importlib.import_module(f"{library}.registry").TRANSFORMS
        cls = make_joint_multiview(library)
        registry.register_module(name="JointMultiView", module=cls, force=True)
        REGISTERED[library] = cls
    install_runner_switch()
    return REGISTERED[library]
