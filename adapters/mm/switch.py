"""The Runner switch: one line, ``custom_imports = dict(imports=['jointaug_plugins.adapters.mmselfsup'], ...)``.

Importing an mm adapter adds the switch's stage to the one wrapper of ``mmengine.runner.Runner.__init__``
(:mod:`.runner`). For every Runner built with a train
dataloader config, :func:`apply_switch` (the one path, which ``jointaug verify`` runs too) finds the train
pipeline's ``MultiView`` (through any dataset wrappers) and builds ``JointMultiView`` in its place, once, with
the options parsed once from the optional ``jointaug`` key (absent: the package's default, JointCrop(0);
``jointaug = None``: independent on purpose). The built object is what the dataloader uses; the config the
Runner dumps to ``work_dir`` shows ``JointMultiView`` with the options. A switch cannot restate the pipeline
or append to ``custom_hooks``: mmengine replaces lists wholesale, and a child's ``train_pipeline`` does not
reach the ``train_dataloader.dataset.pipeline`` its base built from it.

Every mistake stops the build before the first iteration: options that are unknown or switch nothing on, a
kind the views lack, the config importing the adapter (or setting ``jointaug``) without a ``MultiView``, the
wrong library's adapter, and (seen by ``jointaug verify``, since then nothing of this package runs in
training) ``jointaug`` set without the adapter imported. Every Runner also gets
:class:`~jointaug_plugins.adapters.mm.epoch.JointEpochHook` (shown in mmengine's hook table), which tells the
joint views the epoch and logs what is joint when training starts.
"""

from __future__ import annotations

import copy
import importlib
import inspect
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ...epoch import sync_epoch
from ...options import JointOptions
from ...transforms.views import JointViews
from ...walk import find_instances
from .imports import adapter_line, config_adapters, dropped_base_imports
from .runner import add_stage

SWITCH_KEY = "jointaug"
LIBRARIES = ("mmselfsup", "mmpretrain")
_MISSING = object()
# library name -> its registered JointMultiView class (filled by the adapter modules).
REGISTERED: dict[str, type] = {}


def _type_name(node: Mapping) -> str:
    kind = node.get("type")
    if isinstance(kind, str):
        return kind.rsplit(".", 1)[-1]
    return getattr(kind, "__name__", "") if kind is not None else ""


def _walk(node: Any) -> Iterator[Mapping]:
    """Every dict inside ``node`` (dataset wrappers, pipelines, nested transforms), depth first."""
    if isinstance(node, Mapping):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            yield from _walk(value)


def _replaced(node: Any, table: Mapping[int, Any]) -> Any:
    """A copy of ``node`` with the dicts whose ``id`` is in ``table`` replaced."""
    if isinstance(node, Mapping):
        return table[id(node)] if id(node) in table else {k: _replaced(v, table) for k, v in node.items()}
    if isinstance(node, (list, tuple)):
        return type(node)(_replaced(v, table) for v in node)
    return node


def multiview_nodes(dataset: Any) -> list[Mapping]:
    """The ``MultiView`` / ``JointMultiView`` dicts of a dataset config (found through wrappers), each once."""
    found = {id(n): n for n in _walk(dataset) if _type_name(n) in ("MultiView", "JointMultiView")}
    return list(found.values())


def _is_views(obj: Any) -> bool:
    return isinstance(obj, JointViews)


def switch_value(cfg: Any) -> Any:
    """The config's ``jointaug`` value, or a private marker when the key is absent."""
    try:
        return cfg[SWITCH_KEY] if cfg is not None and SWITCH_KEY in cfg else _MISSING
    except TypeError:
        return _MISSING


@dataclass
class Switched:
    """What :func:`apply_switch` made of a train dataloader config."""

    #: The dataloader config for the Runner: each ``MultiView`` replaced by the ``JointMultiView`` built for it.
    loader: dict
    #: The same as config (``type='JointMultiView', jointaug=...``), for the config the Runner dumps.
    config_loader: dict
    #: The built ``JointMultiView`` objects (one build each).
    views: list = field(default_factory=list)
    #: ``True`` for ``jointaug = None`` (independent on purpose).
    off: bool = False
    #: Warnings about the config (dropped ``_base_`` imports), also issued as ``UserWarning``.
    warnings: list[str] = field(default_factory=list)

    def announcement(self) -> str | None:
        """The log line of what is joint (as solo-learn's switch prints), or ``None`` where the switch is idle."""
        lines = dict.fromkeys(
            f"[jointaug] joint views on ({v.options.describe()}), pairs {v.joint_views.pairs}" for v in self.views
        )
        if lines:
            return "; ".join(lines)
        return "[jointaug] independent views: the config says jointaug = None" if self.off else None


def _not_imported(value: Any, scope: str | None) -> ValueError:
    library = scope if scope in LIBRARIES else "mmselfsup"
    return ValueError(
        f"jointaug = {value!r} is set, but this config's custom_imports do not import jointaug_plugins' "
        "adapter: nothing reads the key, and training would run independent views. Add at the end of the "
        f"config:\n    {adapter_line(library)}"
    )


def _library_of(scope: str | None, nodes: list[Mapping], adapters: Collection[str]) -> str:
    prefixes = {n["type"].split(".", 1)[0] for n in nodes if isinstance(n.get("type"), str) and "." in n["type"]}
    library = next(iter(prefixes), None) or scope
    if library not in LIBRARIES:
        library = next(iter(adapters), "mmselfsup")
    if library not in adapters:
        imported = ", ".join(f"jointaug_plugins.adapters.{k}" for k in adapters) or "no mm adapter"
        raise ValueError(
            f"this config builds its pipeline with {library}, but jointaug_plugins.adapters.{library} is not "
            f"imported (imported: {imported}): put 'jointaug_plugins.adapters.{library}' in custom_imports"
        )
    return library


def apply_switch(
    dataloader: Mapping, cfg: Any = None, *, scope: str | None = None, process_adapters: Collection[str] = ()
) -> Switched:
    """Apply and check the switch on a train dataloader config: the one path of the Runner and ``jointaug verify``.

    Args:
        dataloader: ``train_dataloader`` as a config dict (left untouched).
        cfg: The whole config (its ``jointaug`` key, ``custom_imports`` and ``_base_`` chain), or ``None``.
        scope: The config's default scope (``mmselfsup`` / ``mmpretrain``).
        process_adapters: The adapters imported in this process, used where the config's ``custom_imports``
            name none (the Runner passes those imported; ``jointaug verify``, standing for a fresh
            ``tools/train.py``, passes none).

    Raises:
        ValueError, TypeError, ImportError: every mistake of the README's mm table, before training.
    """
    value = switch_value(cfg)
    named = config_adapters(cfg)
    notes = dropped_base_imports(cfg)
    adapters = named or list(process_adapters)
    new = copy.deepcopy(dict(dataloader))
    dataset = new.get("dataset")
    nodes = multiview_nodes(dataset)
    untouched = Switched(new, new, warnings=notes)
    if not adapters:
        if value is not _MISSING and value is not None:
            raise _not_imported(value, scope)
        if any(_type_name(n) == "JointMultiView" for n in nodes):
            raise ValueError(
                "the train pipeline names JointMultiView, but this config's custom_imports do not import "
                f"jointaug_plugins' adapter, which registers it. Add at the end of the config:\n    "
                f"{adapter_line(scope if scope in LIBRARIES else 'mmselfsup')}"
            )
        return untouched
    options = None if value is None else JointOptions.parse(None if value is _MISSING else value)
    if options is not None:
        options.require_effect()
    if not nodes:
        # An adapter imported elsewhere in this process, views built by the user, or independent on purpose.
        if value is None or (value is _MISSING and not named) or find_instances(dataset, _is_views):
            return Switched(new, new, off=value is None, warnings=notes)
        said = f"jointaug = {value!r} is set" if value is not _MISSING else "this config imports the mm adapter"
        raise ValueError(
            f"{said}, but the train pipeline has no MultiView to make joint; transforms found in "
            f"train_dataloader.dataset: {[_type_name(n) for n in _walk(dataset) if 'type' in n]}"
        )
    todo = [n for n in nodes if options is not None or _type_name(n) == "JointMultiView"]
    if not todo:
        return Switched(new, new, off=True, warnings=notes)
    library = _library_of(scope, todo, adapters)
    if library not in REGISTERED:
        importlib.import_module(f"jointaug_plugins.adapters.{library}")
    built, written = {}, {}
    from mmengine.registry import DefaultScope

    with DefaultScope.overwrite_default_scope(library):
        for node in todo:
            own = node.get(SWITCH_KEY, _MISSING) if _type_name(node) == "JointMultiView" else _MISSING
            if own is not _MISSING and value not in (_MISSING, None) and own != value:
                raise ValueError(
                    f"the train pipeline already has {node['type']}(jointaug={own!r}) and the config also sets "
                    f"jointaug = {value!r}; keep one (the jointaug key is the usual form)"
                )
            jointaug = options if own is _MISSING or own == value else own
            kwargs = copy.deepcopy({k: v for k, v in node.items() if k not in ("type", SWITCH_KEY)})
            built[id(node)] = REGISTERED[library](**kwargs, jointaug=jointaug)
            kind = node["type"] if isinstance(node["type"], str) else library
            prefix = kind.rsplit(".", 1)[0] + "." if "." in kind else ""
            shown = own if own is not _MISSING else ({} if value is _MISSING else dict(value))
            written[id(node)] = {**node, "type": prefix + "JointMultiView", SWITCH_KEY: copy.deepcopy(shown)}
    return Switched(
        _replaced(new, built), _replaced(new, written), [built[id(n)] for n in todo], options is None, notes
    )


def train_pipeline(cfg: Any, process_adapters: Collection[str] = ()) -> tuple[Any, Switched]:
    """The train dataset's pipeline of ``cfg`` (an ``mmengine.Config``) as the Runner builds it, the switch
    applied by :func:`apply_switch`, and what the switch made. The pipeline is an ``mmcv.transforms.Compose``
    that takes a results dict (``{'img_path': ...}``) and returns the packed sample (``inputs``: the list of
    views). Used by ``jointaug verify``."""
    from mmcv.transforms import Compose
    from mmengine.registry import DefaultScope

    scope = cfg.get("default_scope", None)
    switched = apply_switch(cfg["train_dataloader"], cfg, scope=scope, process_adapters=process_adapters)
    pipelines = [
        n["pipeline"] for n in _walk(switched.loader.get("dataset")) if isinstance(n.get("pipeline"), (list, tuple))
    ]
    holding = [p for p in pipelines if any(v is t for v in switched.views for t in p) or multiview_nodes(list(p))]
    holding = holding or pipelines
    if not holding:
        raise ValueError("train_dataloader.dataset has no pipeline")
    if scope in LIBRARIES:
        importlib.import_module(f"{scope}.registry")
    with DefaultScope.overwrite_default_scope(scope):
        return Compose(list(holding[0])), switched


def _with_epoch_hook(hooks: Any, announce: str | None) -> list:
    """``custom_hooks`` plus one ``JointEpochHook`` (unless there is one) that logs ``announce`` at train start."""
    from .epoch import JointEpochHook

    hooks = list(hooks or [])
    for i, hook in enumerate(hooks):
        if isinstance(hook, JointEpochHook):
            hook.announce = hook.announce or announce
            return hooks
        if isinstance(hook, Mapping) and _type_name(hook) == "JointEpochHook":
            hooks[i] = {"announce": announce, **hook}
            return hooks
    return [*hooks, JointEpochHook(announce=announce)]


def _switch_stage(bound: inspect.BoundArguments) -> Callable[[Any], None]:
    """The switch's stage of ``Runner.__init__`` (:mod:`.runner`): apply and check the switch on the train
    dataloader config, add the epoch hook (and the semantic box hook where views use it); after the build, log
    the switch's warnings and publish epoch 0."""
    loader, cfg = bound.arguments.get("train_dataloader"), bound.arguments.get("cfg")
    switched = None
    if isinstance(loader, Mapping):
        scope = bound.arguments.get("default_scope", None)
        switched = apply_switch(loader, cfg, scope=scope, process_adapters=list(REGISTERED))
        bound.arguments["train_dataloader"] = switched.loader
        if cfg is not None and switched.views:
            cfg = copy.deepcopy(cfg)
            cfg["train_dataloader"] = switched.config_loader  # the config dumped into work_dir says what trains
            bound.arguments["cfg"] = cfg
    # Registered with the config's hooks, so mmengine's hook table lists it; β schedules and reproducible
    # draws follow the runner's epoch (inert where no joint view uses it).
    announce = switched.announcement() if switched is not None else None
    hooks = _with_epoch_hook(bound.arguments.get("custom_hooks"), announce)
    # Semantic boxes (position boxes="semantic"): the hook that updates them, only where views use them.
    from .semantic_hook import with_semantic_hook

    bound.arguments["custom_hooks"] = with_semantic_hook(hooks, switched.views if switched is not None else [])

    def finish(runner: Any) -> None:
        for message in switched.warnings if switched is not None else ():
            runner.logger.warning(message)
        sync_epoch(0)  # before an iteration-based loop starts its DataLoader workers; hooks set the real epoch

    return finish


def install_runner_switch() -> None:
    """Make every Runner apply and check the switch (idempotent; one wrapper for all routes, :mod:`.runner`)."""
    add_stage("switch", _switch_stage)


def register(library: str) -> type:
    """Register ``JointMultiView`` into ``library``'s ``TRANSFORMS`` and install the switch; returns the class."""
    from .multiview import make_joint_multiview

    if library not in REGISTERED:
        registry = importlib.import_module(f"{library}.registry").TRANSFORMS
        cls = make_joint_multiview(library)
        registry.register_module(name="JointMultiView", module=cls, force=True)
        REGISTERED[library] = cls
    importlib.import_module("jointaug_plugins.adapters.mm.semantic_hook")  # registers JointSemanticBoxHook
    install_runner_switch()
    return REGISTERED[library]
