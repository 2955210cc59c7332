"""β schedules: their values, their parsing, and the epoch reaching DataLoader workers and trainers."""

from __future__ import annotations

import math
import warnings
from contextlib import contextmanager

import pytest
import torch
from images import make_image
from torchvision.transforms import v2

from jointaug_plugins import BetaSchedule, JointRandomResizedCrop, JointSpec, JointViews, set_epoch
from jointaug_plugins.drawlog import attach_draw_log
from jointaug_plugins.epoch import current_epoch, epoch_channel, sync_epoch

LINEAR = {"start": 2.0, "end": -1.0, "shape": "linear", "epochs": 3}
STEPS = {"start": 2.0, "shape": "step", "steps": [[1, -2.0], [3, 0.5]]}


@contextmanager
def warnings_as_errors():
    """Turn the "no epoch was ever set" warning into an error: a trainer must have set it before any draw."""
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*no epoch was ever set.*")
        yield


@pytest.fixture(autouse=True)
def no_epoch():
    """Each test starts with the process's epoch unset, as a fresh process has it."""
    epoch_channel().set(None)
    yield
    epoch_channel().set(None)


@pytest.mark.parametrize(
    "schedule, expected",
    [
        (LINEAR, {0: 2.0, 1: 1.0, 2: 0.0, 3: -1.0, 10: -1.0}),
        ({"start": 2.0, "end": -2.0, "shape": "cosine", "epochs": 4}, {0: 2.0, 2: 0.0, 4: -2.0, 9: -2.0}),
        (STEPS, {0: 2.0, 1: -2.0, 2: -2.0, 3: 0.5, 100: 0.5}),
        ({"start": 2.0, "end": -1.0, "shape": "step", "steps": [5, 10, 15]}, {4: 2.0, 5: 1.0, 10: 0.0, 15: -1.0}),
    ],
)
def test_schedule_values_at_given_epochs(schedule, expected):
    parsed = BetaSchedule.parse(schedule)
    for epoch, beta in expected.items():
        assert parsed.at(epoch) == pytest.approx(beta, abs=1e-12)
    # The cosine schedule is slow at both ends: a quarter of the way it has moved less than a quarter.
    if parsed.shape == "cosine":
        assert parsed.at(1) == pytest.approx(-2.0 + 4.0 * (1 + math.cos(math.pi / 4)) / 2)
    assert BetaSchedule.parse(parsed.to_dict()) == parsed  # the dict a user writes round-trips


@pytest.mark.parametrize(
    "schedule, error, text",
    [
        ({"start": 2.0, "shape": "linear", "epochs": 3}, ValueError, "needs start, end and epochs"),
        ({"start": 2.0, "end": 0.0, "shape": "linear"}, ValueError, "needs start, end and epochs"),
        ({"start": 2.0, "end": 0.0, "shape": "linear", "epochs": 0}, ValueError, "epochs must be an int >= 1"),
        ({"start": 2.0, "end": 0.0, "shape": "wavy", "epochs": 3}, ValueError, "shape must be one of"),
        ({"end": 0.0, "epochs": 3}, ValueError, "needs start"),
        ({"start": 2.0, "end": 0.0, "epochs": 3, "warmup": 1}, ValueError, "unknown key.*warmup"),
        ({"start": math.nan, "end": 0.0, "epochs": 3}, ValueError, "finite"),
        ({"start": 2.0, "shape": "step", "steps": [3, 2], "end": 0.0}, ValueError, "strictly increasing"),
        ({"start": 2.0, "shape": "step", "steps": [3]}, ValueError, "needs end"),
        ({"start": 2.0, "shape": "step", "steps": [[3, 1.0]], "end": 0.0}, ValueError, "conflicts"),
        ({"start": 2.0, "shape": "step"}, ValueError, "needs steps"),
        ({"start": 2.0, "shape": "step", "steps": [[0, 1.0]]}, ValueError, "epoch must be an int >= 1"),
        ({"start": 2.0, "end": 0.0, "epochs": 3, "steps": [1]}, ValueError, "steps is for shape 'step'"),
    ],
)
def test_bad_schedules_are_refused_by_name(schedule, error, text):
    with pytest.raises(error, match=text) as info:
        JointSpec.parse({"beta": schedule}, "crop")
    assert "crop" in str(info.value)


def test_schedule_wherever_a_beta_is_accepted():
    spec = JointSpec.parse({"beta": LINEAR, "margin": 0.2}, "crop")
    assert spec.scheduled and spec.margin == 0.2
    assert spec.at(1).beta == 1.0 and not spec.at(1).scheduled
    assert JointSpec(beta=0.5).at(7).beta == 0.5
    assert "linear 2→-1 over 3 epochs" in spec.describe()
    with pytest.raises(ValueError, match="epoch must be an int >= 0"):
        spec.beta.at(-1)


def _views(crop, n_views: int = 2, **kwargs) -> JointViews:
    view = v2.Compose([v2.ToImage(), JointRandomResizedCrop(8)])
    return JointViews([view] * n_views, crop=crop, seed=0, **kwargs)


def test_the_draw_takes_the_beta_of_the_epoch_set():
    views = _views({"beta": STEPS})
    with pytest.warns(UserWarning, match="no epoch was ever set, so β stays at the schedule's start"):
        assert views.draw().betas == {"crop": 2.0}
    for epoch, beta in ((0, 2.0), (1, -2.0), (3, 0.5)):
        set_epoch(epoch)
        draw = views.draw()
        assert draw.betas == {"crop": beta} and draw.epoch == epoch
    assert views.draw(epoch=1).betas == {"crop": -2.0}  # an explicit epoch wins
    # The records carry the β in force, which the draw log sums.
    _, records = views.apply(make_image(0), records=True)
    assert {r.beta for r in records} == {0.5}
    with pytest.raises(ValueError, match="epoch must be an int >= 0"):
        set_epoch(-1)


def test_a_schedule_changes_the_pairs_it_draws():
    """β's effect on the pairs follows the schedule: JC(2) pairs are far less unequal than JC(-2) pairs."""
    views = _views({"beta": {"start": 2.0, "shape": "step", "steps": [[1, -2.0]]}})
    gt2 = {}
    for epoch in (0, 1):
        draws = views.draw_batch(4000, torch.Generator().manual_seed(0), epoch=epoch)
        areas = [view.slices[0].areas[:, 0] for view in draws.views]
        gt2[epoch] = float(((areas[1] / areas[0]) > 2).double().mean())
    assert gt2[0] == pytest.approx(0.2810, abs=0.02) and gt2[1] == pytest.approx(0.4467, abs=0.02)


def test_trainer_side_sync_is_inert_where_no_view_uses_the_epoch():
    import jointaug_plugins.epoch as epoch_module

    previous, epoch_module._CHANNEL = epoch_module._CHANNEL, None
    try:
        assert sync_epoch(3) is False and epoch_module._CHANNEL is None
    finally:
        epoch_module._CHANNEL = previous
    _views({"beta": LINEAR})  # a coordinator with a schedule makes the channel
    assert sync_epoch(3) is True and current_epoch() == 3


class _ScheduledDataset(torch.utils.data.Dataset):
    def __init__(self, n: int = 24) -> None:
        self.transform = _views({"beta": STEPS}, n_views=4)
        self.image = make_image(1, (32, 32))
        self.n = n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, index: int) -> torch.Tensor:
        return torch.stack(self.transform(self.image))


@pytest.mark.parametrize("context", ["fork", "spawn"])
@pytest.mark.parametrize("persistent", [False, True])
def test_the_epoch_reaches_every_worker(tmp_path, context, persistent):
    """After set_epoch in the main process, 2 workers (fork or spawn, persistent or not) draw with its β:
    read back from the draw log, whose joint pairs carry the β in force."""
    dataset = _ScheduledDataset()
    sink = attach_draw_log(dataset, directory=tmp_path, flush_every=1, flush_seconds=60)
    loader = torch.utils.data.DataLoader(
        dataset, batch_size=4, num_workers=2, multiprocessing_context=context, persistent_workers=persistent
    )
    for epoch, beta in ((1, -2.0), (3, 0.5)):  # neither is the start's 2.0, what an unset epoch would give
        set_epoch(epoch)
        for _ in loader:
            pass
        summary = sink.collect()  # flush_every=1: a worker writes each image's draws before handing it over
        group = summary.groups["crop/joint"]
        assert summary.images == len(dataset) and group["n"] == 2 * len(dataset)
        assert group["sum_beta"] / group["n"] == pytest.approx(beta)
        assert summary.metrics()["jointaug/crop/joint/beta"] == pytest.approx(beta)


def _tiny_lightning_module(pl):
    class Tiny(pl.LightningModule):
        def __init__(self):
            super().__init__()
            self.layer = torch.nn.Linear(3, 4)

        def training_step(self, batch, batch_idx):
            z = self.layer(batch.float().mean(dim=(-1, -2)))
            return (z[:, 0::2] - z[:, 1::2]).pow(2).mean()

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=0.01)

    return Tiny()


def test_any_lightning_trainer_moves_the_schedule(tmp_path, capsys):
    """No user code sets the epoch: the callback Lightning loads from this package's entry point does, before
    the first epoch's workers start and at every epoch; the draw logger sees each epoch's β."""
    pl = pytest.importorskip("pytorch_lightning")
    from jointaug_plugins.adapters.lightning import JointDrawLogger

    seen = []

    class Record(pl.Callback):
        def on_train_epoch_end(self, trainer, pl_module):
            seen.append(logger.last_summary.metrics()["jointaug/crop/joint/beta"])

    dataset = _ScheduledDataset(n=16)
    loader = torch.utils.data.DataLoader(dataset, batch_size=4, num_workers=1)
    logger = JointDrawLogger(flush_every=1, flush_seconds=60)
    trainer = pl.Trainer(
        accelerator="cpu", max_epochs=4, callbacks=[logger, Record()], logger=False,
        enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
    )  # fmt: skip
    with warnings_as_errors():
        trainer.fit(_tiny_lightning_module(pl), loader)
    assert seen == pytest.approx([2.0, -2.0, -2.0, 0.5])
    assert current_epoch() == 3
    log = capsys.readouterr().err
    assert "[jointaug] epoch 0: crop β=2" in log and "[jointaug] epoch 3: crop β=0.5" in log


def test_mmengine_runner_moves_the_schedule(tmp_path):
    """The mm adapter's Runner gets JointEpochHook: an epoch-based run draws each epoch with its β."""
    pytest.importorskip("mmselfsup")
    from mmengine.model import BaseModel
    from mmengine.runner import Runner

    import jointaug_plugins.adapters.mmselfsup  # noqa: F401  (installs the switch on mmengine's Runner)
    from jointaug_plugins.adapters.mm.epoch import JointEpochHook
    from jointaug_plugins.adapters.mmengine_hooks import JointDrawLoggerHook

    class Tiny(BaseModel):
        def __init__(self):
            super().__init__()
            self.layer = torch.nn.Linear(3, 4)

        def forward(self, inputs, data_samples=None, mode="tensor"):
            z = self.layer(torch.stack(inputs).float().mean(dim=(-1, -2)))
            return {"loss": (z[:, 0::2] - z[:, 1::2]).pow(2).mean()} if mode == "loss" else z

    class MMDataset(_ScheduledDataset):
        def __getitem__(self, index):
            return {"inputs": super().__getitem__(index)}

    seen = []

    class Record(JointDrawLoggerHook):
        def after_train_epoch(self, runner):
            super().after_train_epoch(runner)
            seen.append(self.last_summary.metrics()["jointaug/crop/joint/beta"])

    runner = Runner(
        model=Tiny(), work_dir=str(tmp_path),
        train_dataloader=dict(
            dataset=MMDataset(n=8), sampler=dict(type="DefaultSampler", shuffle=False), batch_size=4,
            num_workers=1, collate_fn=dict(type="pseudo_collate"),
        ),
        train_cfg=dict(by_epoch=True, max_epochs=4), optim_wrapper=dict(optimizer=dict(type="SGD", lr=0.01)),
        custom_hooks=[Record(flush_every=1)], default_hooks=dict(checkpoint=None),
    )  # fmt: skip
    assert any(isinstance(h, JointEpochHook) for h in runner.hooks)
    with warnings_as_errors():
        runner.train()
    assert seen == pytest.approx([2.0, -2.0, -2.0, 0.5])
