"""Train an mmselfsup / mmpretrain config for a few iterations on CPU, with size-only overrides."""

from __future__ import annotations

from pathlib import Path

from mmengine.config import Config

CROP = 32


def _shrink_pipeline(node) -> None:
    """Crop size 32 everywhere in a pipeline (RandomResizedCrop's ``size`` or ``scale``)."""
    if isinstance(node, dict):
        if node.get("type") == "RandomResizedCrop":
            key = "size" if "size" in node else "scale"
            node[key] = CROP
        for value in node.values():
            _shrink_pipeline(value)
    elif isinstance(node, list | tuple):
        for value in node:
            _shrink_pipeline(value)


def _shrink_model(node) -> None:
    """ResNet-50 -> ResNet-18; SyncBN -> BN on one CPU."""
    if isinstance(node, dict):
        if node.get("type") == "ResNet":
            node["depth"] = 18
        if node.get("type") == "SyncBN":
            node["type"] = "BN"
        for value in node.values():
            _shrink_model(value)
    elif isinstance(node, list | tuple):
        for value in node:
            _shrink_model(value)


def small_config(config: str | Path, work_dir: Path, data_root: Path, iters: int = 3) -> Config:
    """The config with overrides for size only: ResNet-18, 32-px crops, batch 4, a generated folder
    read by ``mmcls.CustomDataset`` / mmpretrain's ``CustomDataset``, ``iters`` iterations, no checkpoints."""
    cfg = Config.fromfile(str(config))
    scope = cfg.get("default_scope", "mmselfsup")
    _shrink_model(cfg.model)
    if cfg.model.get("neck", {}).get("in_channels") == 2048:
        cfg.model.neck.in_channels = 512  # ResNet-18's feature width
    loader = cfg.train_dataloader
    _shrink_pipeline(loader.dataset.pipeline)
    dataset_type = "mmcls.CustomDataset" if scope == "mmselfsup" else "CustomDataset"
    loader.dataset.pop("split", None)
    loader.dataset.update(type=dataset_type, data_root=str(data_root), ann_file="", data_prefix="")
    loader.update(batch_size=4, num_workers=0, persistent_workers=False)
    cfg.train_cfg = dict(type="IterBasedTrainLoop", max_iters=iters)
    cfg.param_scheduler = [dict(type="ConstantLR", factor=1.0, by_epoch=False)]
    if cfg.optim_wrapper.get("type") == "AmpOptimWrapper":
        cfg.optim_wrapper.type = "OptimWrapper"
        cfg.optim_wrapper.pop("loss_scale", None)
    cfg.optim_wrapper.pop("accumulative_counts", None)
    cfg.default_hooks.checkpoint = None
    cfg.default_hooks.logger = dict(type="LoggerHook", interval=1)
    cfg.custom_hooks = [h for h in cfg.get("custom_hooks", []) if h.get("type") != "SwAVHook"]
    cfg.visualizer = dict(type="Visualizer", vis_backends=[dict(type="LocalVisBackend")])
    cfg.log_processor = dict(window_size=1, by_epoch=False)
    cfg.env_cfg = dict(cudnn_benchmark=False, mp_cfg=dict(mp_start_method="fork"), dist_cfg=dict(backend="gloo"))
    cfg.launcher = "none"
    cfg.work_dir = str(work_dir)
    cfg.randomness = dict(seed=0)
    return cfg


class LossRecorder:
    """An mmengine hook (registered per test) that records the losses the model returned."""

    priority = "LOWEST"

    def __init__(self) -> None:
        self.losses: list[float] = []

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        self.losses.append(float(sum(v for k, v in outputs.items() if "loss" in k)))


# The libraries' shipped configs the README's block is pasted under.
SHIPPED = {
    "mmselfsup": {
        "simclr": "selfsup/simclr/simclr_resnet50_8xb32-coslr-200e_in1k.py",
        "byol": "selfsup/byol/byol_resnet50_16xb256-coslr-200e_in1k.py",
        "simsiam": "selfsup/simsiam/simsiam_resnet50_8xb32-coslr-200e_in1k.py",
        "mocov2": "selfsup/mocov2/mocov2_resnet50_8xb32-coslr-200e_in1k.py",
        "mocov3": "selfsup/mocov3/mocov3_resnet50_8xb512-amp-coslr-100e_in1k.py",
    },
    "mmpretrain": {
        "simclr": "simclr/simclr_resnet50_8xb32-coslr-200e_in1k.py",
        "byol": "byol/byol_resnet50_16xb256-coslr-200e_in1k.py",
        "simsiam": "simsiam/simsiam_resnet50_8xb32-coslr-200e_in1k.py",
        "mocov2": "mocov2/mocov2_resnet50_8xb32-coslr-200e_in1k.py",
        "mocov3": "mocov3/mocov3_resnet50_8xb512-amp-coslr-100e_in1k.py",
    },
}


def user_config(folder: Path, library: str, method: str, body: str, name: str = "user") -> Path:
    """A user config inheriting the library's shipped config, with ``body`` pasted at its end."""
    path = folder / f"{name}_{library}_{method}.py"
    path.write_text(f"_base_ = '{library}::{SHIPPED[library][method]}'\n\n{body}")
    return path


def train_block(folder: Path, library: str, method: str, block: str, data_root: Path, iters: int = 2):
    """Train the library's ``method`` config with ``block`` pasted at its end (the Runner, ``iters`` iterations).

    Returns ``(runner, losses, log)``: the Runner, the losses of each iteration and the text of the run's log.
    """
    from mmengine.hooks import Hook
    from mmengine.runner import Runner

    config = user_config(folder, library, method, block)
    runner = Runner.from_cfg(small_config(config, folder / "work", data_root, iters=iters))
    recorder = type("Recorder", (LossRecorder, Hook), {})()
    runner.register_hook(recorder)
    runner.train()
    log = "".join(p.read_text() for p in sorted(Path(runner.log_dir).glob("*.log")))
    return runner, recorder.losses, log


def runner_error(config: Path, work_dir: Path) -> BaseException | None:
    """The error building mmengine's Runner from ``config`` as it is (``tools/train.py``'s way) raises, or
    ``None``. The switch runs before the model is built, so nothing is shrunk."""
    from mmengine.runner import Runner

    cfg = Config.fromfile(str(config))
    cfg.work_dir = str(work_dir)
    try:
        Runner.from_cfg(cfg)
    except Exception as err:
        return err
    return None
