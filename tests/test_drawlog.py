"""Training-time draw logging: the sink across processes, the Lightning callback and the mmengine hook
in their real trainers."""

from __future__ import annotations

import json
import math
import os
import pickle
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from images import make_image
from torchvision.transforms import v2

from jointaug_plugins import JointGaussianBlur, JointRandomResizedCrop, JointSpec, JointViews
from jointaug_plugins.drawlog import (
    DrawLogSink,
    DrawSummary,
    attach_draw_log,
    find_joint_views,
    pair_log_ratios,
)
from jointaug_plugins.sampling import independent_ratio_sf, joint_ratio_sf

BETA = -1.0
N_VIEWS = 16  # 8 pairs per image: enough pairs from a few batches for loose checks of P(r > 2)
P_JOINT = joint_ratio_sf(2.0, 0.08, 1.0, JointSpec(beta=BETA))  # 0.389
P_BLUR_INDEPENDENT = independent_ratio_sf(2.0, 0.1, 2.0)  # blur off: independent uniform sigmas


def make_views(n_views: int = N_VIEWS, size: int = 8) -> JointViews:
    """Joint crops (β = -1), independent blur sigmas, tiny outputs."""
    pipeline = [
        v2.Compose([v2.ToImage(), JointRandomResizedCrop(size), JointGaussianBlur(sigma=(0.1, 2.0), p=0.0)])
        for _ in range(n_views)
    ]
    return JointViews(pipeline, crop=BETA, seed=0)


class ViewsDataset(torch.utils.data.Dataset):
    def __init__(self, n: int = 256) -> None:
        self.transform = make_views()
        self.image = make_image(0, (64, 64))
        self.n = n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, index: int):
        return torch.stack(self.transform(self.image)).float() / 255


def check_summary(summary: DrawSummary, images: int, tol: float = 0.06) -> None:
    """``images`` images with 8 pairs each; P(r>2) of joint crops and independent blurs near theory."""
    assert summary.images >= images
    metrics = summary.metrics()
    crop, blur = summary.groups["crop/joint"], summary.groups["blur/independent"]
    assert crop["n"] == blur["n"] == summary.images * N_VIEWS // 2
    assert "crop/independent" not in summary.groups and "blur/joint" not in summary.groups
    assert abs(metrics["jointaug/crop/joint/p_ratio_gt_2"] - P_JOINT) < tol
    assert abs(metrics["jointaug/blur/independent/p_ratio_gt_2"] - P_BLUR_INDEPENDENT) < tol
    assert crop["hist"].sum() == crop["n"]


def test_pair_log_ratios_match_records():
    jv = JointViews([JointRandomResizedCrop(8), JointRandomResizedCrop(8), JointRandomResizedCrop(8)], crop=0.0, seed=1)
    _, records = jv.apply(make_image(1), records=True)
    ratios = pair_log_ratios(records)
    assert len(ratios) == 1  # view 2 is unpaired
    kind, joint, t, beta = ratios[0]
    areas = {r.view: r.params["area"] for r in records}
    assert kind == "crop" and joint and t == pytest.approx(math.log(areas[1] / areas[0]))
    assert beta == 0.0  # the β in force travels with the pair


def test_summary_round_trips_and_merges():
    summary = DrawSummary()
    summary.images = 3
    for t in (-5.0, -0.8, 0.0, 0.7, 0.69, 4.5):
        summary.add("crop", True, t)
    summary.add("blur", False, 0.1)
    again = DrawSummary.from_json(json.loads(json.dumps(summary.to_json())))
    keys = ["blur/independent", "crop/joint", "color/joint"]
    back = DrawSummary.from_vector(summary.to_vector(keys), keys)
    for other in (again, back):
        assert other.metrics() == pytest.approx(summary.metrics())
        assert np.array_equal(other.groups["crop/joint"]["hist"], summary.groups["crop/joint"]["hist"])
    crop = summary.metrics()["jointaug/crop/joint/p_ratio_gt_2"]
    assert crop == pytest.approx(2 / 6)  # 0.7 and 4.5 are above ln 2 = 0.693; 0.69 is not
    hist = summary.groups["crop/joint"]["hist"]
    assert hist[0] == 1 and hist[-1] == 1  # out-of-range values land in the end bins
    total = DrawSummary().merge(summary).merge(again)
    assert total.images == 6 and total.groups["crop/joint"]["n"] == 12
    with pytest.raises(ValueError, match="keys"):
        DrawSummary.from_vector(np.zeros(5), keys)


def test_find_and_attach_through_any_container(tmp_path):
    jv = make_views(2)

    class Holder:
        def __init__(self):
            self.pipeline = {"steps": [None, (1, jv)]}
            self.data_list = [jv] * 1000  # a long list is data: not searched

    class Outer:
        def __init__(self):
            self.holder = Holder()

    assert find_joint_views(Outer()) == [jv]

    class DataOnly:
        def __init__(self):
            self.data_list = [jv] * 1000

    with pytest.raises(ValueError, match="no JointViews"):
        attach_draw_log(DataOnly())
    seen = []
    jv.draw_sink = seen.append
    sink = attach_draw_log(Outer(), directory=tmp_path / "d", flush_every=1)
    jv(make_image(0))
    assert len(seen) == 1  # a sink already there keeps being called
    assert sink.collect().images == 1
    assert sink.collect().empty  # collect returns only what is new
    with pytest.raises(ValueError, match="flush_every"):
        DrawLogSink(tmp_path, flush_every=0)


@pytest.mark.parametrize("context", ["fork", "spawn"])
def test_sink_gathers_draws_of_dataloader_workers(tmp_path, context):
    dataset = ViewsDataset(n=128 if context == "fork" else 64)
    # Large flush thresholds: the rest is flushed when each worker exits at the end of the epoch.
    sink = attach_draw_log(dataset, directory=tmp_path, flush_every=10_000, flush_seconds=1e6)
    pickle.loads(pickle.dumps(sink))  # what spawn does with it
    workers = 2 if context == "fork" else 1
    loader = torch.utils.data.DataLoader(dataset, batch_size=32, num_workers=workers, multiprocessing_context=context)
    for _ in loader:
        pass
    summary = sink.collect()
    assert summary.images == len(dataset)
    check_summary(summary, len(dataset), tol=0.08 if context == "spawn" else 0.06)
    assert len(list(tmp_path.glob("draws-*.jsonl"))) == workers


def test_waiting_workers_flush_in_the_background(tmp_path):
    """A worker that has filled its prefetch queue and waits still hands its draws over."""
    dataset = ViewsDataset(n=256)
    sink = attach_draw_log(dataset, directory=tmp_path, flush_every=10_000, flush_seconds=0.2)
    loader = torch.utils.data.DataLoader(dataset, batch_size=16, num_workers=1, prefetch_factor=2)
    iterator = iter(loader)
    next(iterator)
    time.sleep(1.0)
    summary = sink.collect()
    assert 16 <= summary.images <= 48  # the batch used + at most 2 prefetched; the worker is alive
    del iterator


# ---------------------------------------------------------------- Lightning


def test_lightning_callback_logs_epoch_summary(tmp_path):
    pl = pytest.importorskip("pytorch_lightning")
    import importlib.util

    from pytorch_lightning.loggers import CSVLogger, TensorBoardLogger

    # tensorboard comes with the mmselfsup extra; without it, check the metrics through a CSV logger.
    tensorboard = importlib.util.find_spec("tensorboard") is not None

    from jointaug_plugins.adapters.lightning import JointDrawLogger

    class Tiny(pl.LightningModule):
        def __init__(self):
            super().__init__()
            self.layer = torch.nn.Linear(3, 4)

        def training_step(self, batch, batch_idx):
            z = self.layer(batch.mean(dim=(-1, -2)))  # (B, views, 4)
            return (z[:, 0::2] - z[:, 1::2]).pow(2).mean()

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=0.01)

    dataset = ViewsDataset(n=512)
    loader = torch.utils.data.DataLoader(dataset, batch_size=64, num_workers=2)
    callback = JointDrawLogger(flush_every=16)
    assert isinstance(callback, pl.Callback)
    trainer = pl.Trainer(
        accelerator="cpu",
        max_epochs=1,
        limit_train_batches=2,
        callbacks=[callback],
        logger=TensorBoardLogger(tmp_path, name="tb") if tensorboard else CSVLogger(tmp_path, name="csv"),
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    trainer.fit(Tiny(), loader)
    metrics = trainer.logged_metrics
    # At least the two batches the model saw (workers may have drawn prefetched batches too).
    assert metrics["jointaug/images"] >= 128
    check_summary(callback.last_summary, 128)
    assert float(metrics["jointaug/crop/joint/p_ratio_gt_2"]) == pytest.approx(
        callback.last_summary.metrics()["jointaug/crop/joint/p_ratio_gt_2"]
    )
    assert dataset.transform.draw_sink is None  # detached after fit

    if not tensorboard:
        return
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(next((tmp_path / "tb").glob("version_*"))), size_guidance={"histograms": 0})
    events.Reload()
    assert "jointaug/crop/joint/log_ratio" in events.Tags()["histograms"]
    assert "jointaug/crop/joint/p_ratio_gt_2" in events.Tags()["scalars"]


def test_lightning_callback_finds_a_dataset_built_late():
    """A dataloader built inside train_dataloader() is found at train start (with a warning)."""
    pl = pytest.importorskip("pytorch_lightning")
    from jointaug_plugins.adapters.lightning import JointDrawLogger

    class Late(pl.LightningModule):
        def __init__(self):
            super().__init__()
            self.layer = torch.nn.Linear(3, 1)

        def train_dataloader(self):
            return torch.utils.data.DataLoader(ViewsDataset(n=32), batch_size=16)

        def training_step(self, batch, batch_idx):
            return self.layer(batch.mean(dim=(-1, -2))).pow(2).mean()

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=0.01)

    callback = JointDrawLogger()
    trainer = pl.Trainer(
        accelerator="cpu",
        max_epochs=1,
        callbacks=[callback],
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    with pytest.warns(UserWarning, match="only in the running train dataloader"):
        trainer.fit(Late())
    # No workers: every draw happened in this process after the callback attached.
    assert callback.last_summary.images == 32
    assert trainer.callback_metrics["jointaug/crop/joint/n"] == 32 * N_VIEWS // 2


# ---------------------------------------------------------------- mmengine


def test_mmengine_hook_in_runner(tmp_path):
    pytest.importorskip("mmengine")
    from mmengine.model import BaseModel
    from mmengine.registry import HOOKS
    from mmengine.runner import Runner

    from jointaug_plugins.adapters.mmengine_hooks import JointDrawLoggerHook

    assert HOOKS.get("JointDrawLoggerHook") is JointDrawLoggerHook
    for package in ("mmselfsup", "mmpretrain"):
        registry = pytest.importorskip(f"{package}.registry")
        assert registry.HOOKS.get("JointDrawLoggerHook") is JointDrawLoggerHook
        assert registry.HOOKS.get(f"{package}.JointDrawLoggerHook") is JointDrawLoggerHook

    class Tiny(BaseModel):
        def __init__(self):
            super().__init__()
            self.layer = torch.nn.Linear(3, 4)

        def forward(self, inputs, data_samples=None, mode="tensor"):
            z = self.layer(torch.stack(inputs).mean(dim=(-1, -2)))
            if mode == "loss":
                return {"loss": (z[:, 0::2] - z[:, 1::2]).pow(2).mean()}
            return z

    class MMDataset(ViewsDataset):
        def __getitem__(self, index):
            return {"inputs": super().__getitem__(index)}

    dataset = MMDataset(n=128)
    runner = Runner(
        model=Tiny(),
        work_dir=str(tmp_path),
        train_dataloader=dict(
            dataset=dataset,
            sampler=dict(type="DefaultSampler", shuffle=True),
            batch_size=32,
            num_workers=2,
            collate_fn=dict(type="pseudo_collate"),
        ),
        train_cfg=dict(by_epoch=True, max_epochs=2),
        optim_wrapper=dict(optimizer=dict(type="SGD", lr=0.01)),
        custom_hooks=[dict(type="JointDrawLoggerHook", interval=2, flush_every=8)],
        default_hooks=dict(logger=dict(type="LoggerHook", interval=2), checkpoint=None),
        randomness=dict(seed=0),
    )
    runner.train()
    hook = next(h for h in runner.hooks if isinstance(h, JointDrawLoggerHook))
    info = runner.message_hub.get_info("jointaug_draws")
    assert info["epoch"] == 2
    # Workers exit at each epoch's end and flush: each epoch's summary holds exactly its images.
    assert info["metrics"]["jointaug/images"] == len(dataset)
    check_summary(DrawSummary.from_json(info["summary"]), len(dataset))
    assert hook.last_summary.images == len(dataset)
    scalar = runner.message_hub.get_scalar("train/jointaug/crop/joint/p_ratio_gt_2").current()
    assert 0 < scalar < 1
    log = next(tmp_path.glob("*/*.log")).read_text()
    assert "jointaug draws, epoch 1: 128 images" in log and "jointaug draws, epoch 2" in log
    scalars = [json.loads(line) for line in next(tmp_path.glob("*/vis_data/scalars.json")).read_text().splitlines()]
    assert any("jointaug/crop/joint/p_ratio_gt_2" in s and s["step"] == 2 for s in scalars)
    assert dataset.transform.draw_sink is None  # detached after the run


@pytest.mark.slow
def test_lightning_ddp_sums_the_ranks(tmp_path):
    """Two gloo ranks through torchrun: each rank's workers write their own directory; the logged
    summary is the sum over ranks, the same on both."""
    pytest.importorskip("pytorch_lightning")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    script = Path(__file__).parent / "scripts" / "ddp_drawlog.py"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_addr", "127.0.0.1"]
    cmd += ["--master_port", str(port), str(script), str(tmp_path)]
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stderr[-3000:]
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    # The DistributedSampler gives each rank half of the 128 images; its worker flushes every 8 images.
    assert [r["local_images"] for r in ranks] == [64, 64]
    assert ranks[0]["images"] == ranks[1]["images"] == 128
    assert ranks[0]["metrics"]["jointaug/images"] == 128
    assert ranks[0]["metrics"]["jointaug/crop/joint/n"] == 128 * N_VIEWS // 2
    assert abs(ranks[0]["metrics"]["jointaug/crop/joint/p_ratio_gt_2"] - P_JOINT) < 0.06


def test_mmengine_hook_restarts_iteration_based_workers(tmp_path):
    """An IterBasedTrainLoop starts its workers before any hook; the hook restarts them with the sink."""
    pytest.importorskip("mmengine")
    from mmengine.model import BaseModel
    from mmengine.runner import Runner

    import jointaug_plugins.adapters.mmengine_hooks  # noqa: F401 - registers the hook

    class Tiny(BaseModel):
        def __init__(self):
            super().__init__()
            self.layer = torch.nn.Linear(3, 4)

        def forward(self, inputs, data_samples=None, mode="tensor"):
            z = self.layer(torch.stack(inputs).mean(dim=(-1, -2)))
            return {"loss": (z[:, 0::2] - z[:, 1::2]).pow(2).mean()}

    class MMDataset(ViewsDataset):
        def __getitem__(self, index):
            return {"inputs": super().__getitem__(index)}

    runner = Runner(
        model=Tiny(),
        work_dir=str(tmp_path),
        train_dataloader=dict(
            dataset=MMDataset(n=64),
            sampler=dict(type="InfiniteSampler", shuffle=True),
            batch_size=16,
            num_workers=1,
            persistent_workers=True,
            collate_fn=dict(type="pseudo_collate"),
        ),
        train_cfg=dict(by_epoch=False, max_iters=6),
        optim_wrapper=dict(optimizer=dict(type="SGD", lr=0.01)),
        custom_hooks=[dict(type="JointDrawLoggerHook", interval=3, flush_every=4)],
        default_hooks=dict(logger=dict(type="LoggerHook", interval=3), checkpoint=None),
    )
    runner.train()  # the InfiniteSampler keeps going after the restart: 6 iterations run
    assert runner.iter == 6
    info = runner.message_hub.get_info("jointaug_draws")
    assert info["metrics"]["jointaug/images"] >= 6 * 16
    assert info["summary"]["groups"]["crop/joint"]["n"] == info["metrics"]["jointaug/images"] * N_VIEWS // 2
