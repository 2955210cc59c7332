"""Where batched joint views plug in: a lightly loop, Lightning's ``on_after_batch_transfer``, mm's data preprocessor.

Each route trains a couple of steps with the library's own trainer on single uint8 images from the loader; the
views are made from the batch after it reached the model's device.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
from images import write_image_folder

from jointaug_plugins import JointResizedCropBatch
from jointaug_plugins.adapters.lightning_batch import JointBatchViews, joint_options_of, views_on_device


def _batch_views(size: int = 32, **options):
    """The batch recipe of the tests: ``adapters.kornia``'s SimCLR (lightly's defaults, ImageNet-normalised
    float views) with the joint options."""
    pytest.importorskip("kornia")
    from jointaug_plugins.adapters.kornia import SimCLRBatchViews

    return SimCLRBatchViews(input_size=size, **options)


def _images(n: int = 4, size: int = 40) -> torch.Tensor:
    return torch.randint(0, 256, (n, 3, size, size), dtype=torch.uint8, generator=torch.Generator().manual_seed(n))


# --- finding the images in a batch ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "shape", ["tensor", "pair", "lightly", "solo", "mapping"], ids=lambda s: s
)  # the batch shapes of the README
def test_views_replace_the_images_where_the_loader_put_them(shape):
    views = _batch_views(seed=0)
    images, targets, names, idx = _images(), torch.arange(4), [f"{i}.png" for i in range(4)], torch.arange(4)
    batch = {
        "tensor": images,
        "pair": (images, targets),
        "lightly": (images, targets, names),
        "solo": (idx, [images], targets),
        "mapping": {"inputs": images, "label": targets},
    }[shape]
    out = views_on_device(batch, views)
    made = out if shape == "tensor" else None
    if shape == "pair":
        made = out[0]
        assert out[1] is targets
    elif shape == "lightly":
        made, rest = out[0], out[1:]
        assert rest[0] is targets and rest[1] is names
    elif shape == "solo":
        made = out[1]
        assert out[0] is idx and out[2] is targets and isinstance(out, tuple)
    elif shape == "mapping":
        made = out["inputs"]
        assert out["label"] is targets and batch["inputs"] is images  # the loader's batch is not mutated
    assert isinstance(made, list) and len(made) == 2
    assert all(v.shape == (4, 3, 32, 32) and v.dtype == torch.float32 for v in made)
    assert not torch.equal(made[0], made[1])


def test_a_batch_that_already_holds_views_is_refused():
    with pytest.raises(ValueError, match="already holds 2 views"):
        views_on_device((torch.arange(4), [_images(), _images()], torch.arange(4)), _batch_views(seed=0))


def test_ambiguous_images_need_where():
    batch = (_images(), _images(), torch.arange(4))  # images and, say, masks
    with pytest.raises(ValueError, match="pass where="):
        views_on_device(batch, _batch_views(seed=0))
    out = views_on_device(batch, _batch_views(seed=0), where=1)
    assert out[0] is batch[0] and len(out[1]) == 2


def test_reproducible_views_take_the_indices_from_the_batch():
    """solo-learn's batch carries the dataset indices first: the same images at the same indices give the same
    views, other indices other views."""
    views = _batch_views(seed=5, reproducible=True)
    idx = torch.arange(4)
    first = views_on_device((idx, [_images()], idx), views, indices=idx)[1]
    again = views_on_device((idx, [_images()], idx), views, indices=idx)[1]
    other = views_on_device((idx, [_images()], idx), views, indices=idx + 100)[1]
    assert all(torch.equal(a, b) for a, b in zip(first, again, strict=True))
    assert not torch.equal(first[0], other[0])


def test_views_without_joint_options_are_refused():
    def independent(images):
        return [images, images.flip(-1)]

    with pytest.raises(TypeError, match="views must be a jointaug batch views module"):
        views_on_device(_images(), independent)
    with pytest.raises(TypeError, match="batch must be"):
        views_on_device("not a batch", _batch_views(seed=0))


def test_the_mixin_reads_the_module_options():
    class Plain(JointBatchViews):
        pass

    with pytest.raises(AttributeError, match=r"sets no self\.joint_views"):
        Plain().joint_options  # noqa: B018
    holder = Plain()
    holder.joint_views = _batch_views(crop=-1.0, seed=0)  # options at .joint.options
    assert holder.joint_options.specs["crop"].beta == -1.0
    holder.joint_views = JointResizedCropBatch(8, crop=1.0)  # options at .views.options
    assert holder.joint_options.specs["crop"].beta == 1.0


# --- Lightning: views in on_after_batch_transfer ----------------------------------------------------------------


@pytest.fixture(scope="module")
def image_folder(tmp_path_factory):
    return write_image_folder(tmp_path_factory.mktemp("route_images"), 8, size=(48, 64))


def _lightly_dataset(folder: Path):
    """lightly's own dataset of single images, resized to one size and kept uint8 (no augmentation)."""
    from lightly.data import LightlyDataset
    from torchvision.transforms import v2

    return LightlyDataset(str(folder), transform=v2.Compose([v2.PILToTensor(), v2.Resize((40, 40))]))


def _simclr_net():
    """lightly's SimCLR example model: ResNet-18 trunk and lightly's projection head (the views come normalised)."""
    import torchvision
    from lightly.models.modules import SimCLRProjectionHead

    class SimCLRNet(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            resnet = torchvision.models.resnet18()
            self.backbone = torch.nn.Sequential(*list(resnet.children())[:-1])
            self.projection_head = SimCLRProjectionHead(512, 512, 128)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.projection_head(self.backbone(x).flatten(start_dim=1))

    return SimCLRNet()


def test_lightning_on_after_batch_transfer_trains_lightly_simclr(image_folder):
    pl = pytest.importorskip("pytorch_lightning")
    from lightly.loss import NTXentLoss

    class SimCLR(JointBatchViews, pl.LightningModule):
        def __init__(self) -> None:
            super().__init__()
            self.net = _simclr_net()
            self.criterion = NTXentLoss()
            self.joint_views = _batch_views(crop=0.0, seed=0)
            self.arrived, self.trained, self.losses = [], [], []

        def on_after_batch_transfer(self, batch, dataloader_idx):
            self.arrived.append((tuple(batch[0].shape), batch[0].dtype))
            return super().on_after_batch_transfer(batch, dataloader_idx)

        def training_step(self, batch, batch_index):
            (x0, x1), _, _ = batch  # lightly's example reads the views here
            self.trained.append((tuple(x0.shape), tuple(x1.shape), x0.dtype, bool(torch.equal(x0, x1))))
            loss = self.criterion(self.net(x0), self.net(x1))
            self.losses.append(float(loss.detach()))
            return loss

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=0.06)

    model = SimCLR()
    before = [p.detach().clone() for p in model.net.projection_head.parameters()]
    loader = torch.utils.data.DataLoader(_lightly_dataset(image_folder), batch_size=4, shuffle=True, drop_last=True)
    trainer = pl.Trainer(
        max_steps=2,
        accelerator="cpu",
        devices=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    trainer.fit(model, train_dataloaders=loader)
    assert model.arrived == [((4, 3, 40, 40), torch.uint8)] * 2  # single images left the loader
    assert [t[:3] for t in model.trained] == [((4, 3, 32, 32), (4, 3, 32, 32), torch.float32)] * 2
    assert not any(t[3] for t in model.trained)
    assert len(model.losses) == 2 and all(math.isfinite(x) for x in model.losses)
    assert model.joint_options.switched_on == ("crop",) and model.joint_options.specs["crop"].beta == 0.0
    assert any(not torch.equal(a, p) for a, p in zip(before, model.net.projection_head.parameters(), strict=True))


# --- a plain lightly loop: views in the training step ------------------------------------------------------------


def test_plain_lightly_loop_makes_the_views_in_the_step(image_folder):
    from lightly.loss import NTXentLoss

    device = "cuda" if torch.cuda.is_available() else "cpu"
    model = _simclr_net().to(device)
    views = _batch_views(crop=0.0, seed=0).to(device)
    loader = torch.utils.data.DataLoader(_lightly_dataset(image_folder), batch_size=4, shuffle=True, drop_last=True)
    criterion = NTXentLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.06)
    losses = []
    for step, batch in enumerate(loader):
        if step == 2:
            break
        x0, x1 = views(batch[0].to(device))  # the one changed line of lightly's example (was: x0, x1 = batch[0])
        assert x0.shape == x1.shape == (4, 3, 32, 32) and x0.device.type == device
        loss = criterion(model(x0), model(x1))
        losses.append(float(loss.detach()))
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    assert len(losses) == 2 and all(math.isfinite(x) for x in losses)
    assert joint_options_of(views).specs["crop"].beta == 0.0


# --- mm: JointViewsDataPreprocessor -----------------------------------------------------------------------------

_PIPELINE = {
    "mmselfsup": "dict(type='PackSelfSupInputs', meta_keys=['img_path'])",
    "mmpretrain": "dict(type='PackInputs')",
}


def _block(library: str, views: str, pipeline: bool = True) -> str:
    """The lines a user pastes under ``_base_`` (the README's data preprocessor route)."""
    block = (
        "custom_imports = dict(imports=['jointaug_plugins.adapters.mm.preprocessor'], allow_failed_imports=False)\n"
        f"model = dict(data_preprocessor=dict(type='JointViewsDataPreprocessor', views={views}))\n"
    )
    if pipeline:
        block += (
            "train_dataloader = dict(dataset=dict(pipeline=[\n"
            "    dict(type='LoadImageFromFile'),\n"
            "    dict(type='Resize', scale=(40, 40)),\n"
            f"    {_PIPELINE[library]},\n"
            "]))\n"
        )
    return block


_VIEWS = "dict(type='SimCLRBatchViews', input_size=32, normalize=None, crop=0.0, seed=0)"


@pytest.mark.parametrize("library", ["mmselfsup", "mmpretrain"])
def test_mm_data_preprocessor_makes_joint_views_on_the_model_device(library, tmp_path, image_folder):
    pytest.importorskip(library)
    from mm_runner import LossRecorder, small_config, user_config
    from mmengine.hooks import Hook
    from mmengine.runner import Runner

    import jointaug_plugins.adapters.mm.preprocessor as preprocessor

    config = user_config(tmp_path, library, "simclr", _block(library, _VIEWS))
    runner = Runner.from_cfg(small_config(config, tmp_path / "work", image_folder, iters=2))
    recorder = type("Recorder", (LossRecorder, Hook), {})()
    runner.register_hook(recorder)
    pre = runner.model.data_preprocessor
    made = []
    pre.views.register_forward_hook(lambda module, args, out: made.append((args[0].shape, [v.shape for v in out])))
    runner.train()
    log = "".join(p.read_text() for p in sorted(Path(runner.log_dir).glob("*.log")))
    assert isinstance(pre, preprocessor.REGISTERED[library]) and type(pre).__name__ == "JointViewsDataPreprocessor"
    assert pre.options.switched_on == ("crop",) and pre.options.specs["crop"].beta == 0.0
    assert "[jointaug] JointViewsDataPreprocessor: joint views on (crop β=0" in log
    pipeline = [type(t).__name__ for t in runner.train_dataloader.dataset.pipeline.transforms]
    assert "MultiView" not in pipeline and "JointMultiView" not in pipeline
    # Single 40-px images reached the model; the preprocessor made the two 32-px views of each.
    assert made == [((4, 3, 40, 40), [(4, 3, 32, 32), (4, 3, 32, 32)])] * 2
    assert len(recorder.losses) == 2 and all(math.isfinite(x) for x in recorder.losses)


@pytest.mark.parametrize("library", ["mmselfsup", "mmpretrain"])
def test_mm_pipeline_that_still_makes_views_is_refused(library, tmp_path, image_folder):
    pytest.importorskip(library)
    from mm_runner import small_config, user_config
    from mmengine.runner import Runner

    from jointaug_plugins.tools.verify import VerifyTargetError, resolve_target

    config = user_config(tmp_path, library, "simclr", _block(library, _VIEWS, pipeline=False))
    with pytest.raises(ValueError, match=r"train pipeline has \['(Joint)?MultiView'\] too.*augmented twice") as err:
        Runner.from_cfg(small_config(config, tmp_path / "work", image_folder, iters=1))
    # jointaug verify builds through the same check: it stops with the Runner's message.
    with pytest.raises(VerifyTargetError) as verified:
        resolve_target(str(config))
    assert str(verified.value) == f"ValueError: {err.value}"


def test_mm_views_config_errors():
    pytest.importorskip("mmengine")
    if not any(__import__("importlib").util.find_spec(m) for m in ("mmselfsup", "mmpretrain")):
        pytest.skip("no mm library")
    from jointaug_plugins.adapters.mm.preprocessor import build_views

    with pytest.raises(ValueError, match="needs type="):
        build_views(dict(size=32))
    with pytest.raises(ValueError, match="no such batch views module"):
        build_views(dict(type="NoSuchViews"))
    with pytest.raises(TypeError, match="batch views module or its config"):
        build_views(None)
    assert build_views(dict(type="JointResizedCropBatch", size=8, crop=1.0)).views.options.specs["crop"].beta == 1.0


def _preprocessor(library: str, views):
    pytest.importorskip(library)
    import jointaug_plugins.adapters.mm.preprocessor as preprocessor

    mean, std = (123.675, 116.28, 103.53), (58.395, 57.12, 57.375)
    return preprocessor.REGISTERED[library](mean=mean, std=std, bgr_to_rgb=True, views=views), mean, std


@pytest.mark.parametrize("library", ["mmselfsup", "mmpretrain"])
def test_mm_preprocessor_converts_channels_before_the_views_and_normalises_after(library):
    """Same seed, same draw: the preprocessor's output is the views of the RGB batch, scaled to 0-255 and
    normalised with the config's mean and std."""
    pre, mean, std = _preprocessor(library, dict(type="SimCLRBatchViews", input_size=16, normalize=None, seed=3))
    bgr = _images(4, 24)
    out = pre({"inputs": [bgr], "data_samples": None}, training=True)
    inputs = out[0] if isinstance(out, tuple) else out["inputs"]  # mmselfsup: a tuple; mmpretrain: a dict
    expected_views = _batch_views(16, normalize=None, seed=3)(bgr[:, [2, 1, 0]])
    mean_t, std_t = torch.tensor(mean).view(1, 3, 1, 1), torch.tensor(std).view(1, 3, 1, 1)
    assert len(inputs) == 2
    for got, view in zip(inputs, expected_views, strict=True):
        assert torch.allclose(got, (view * 255.0 - mean_t) / std_t, atol=1e-4)
    single = pre({"inputs": [bgr], "data_samples": None}, training=False)  # validation: no views
    single = single[0] if isinstance(single, tuple) else single["inputs"]
    assert [tuple(x.shape) for x in (single if isinstance(single, list) else [single])] == [(4, 3, 24, 24)]


@pytest.mark.parametrize("library", ["mmselfsup", "mmpretrain"])
def test_mm_preprocessor_refuses_double_augmentation_and_double_normalisation(library):
    pre, _, _ = _preprocessor(library, dict(type="SimCLRBatchViews", input_size=16, normalize=None, seed=0))
    with pytest.raises(ValueError, match=r"already holds 2 views per image.*augment every image twice"):
        pre({"inputs": [_images(4, 24), _images(4, 24)], "data_samples": None}, training=True)
    normalising, _, _ = _preprocessor(library, dict(type="SimCLRBatchViews", input_size=16, seed=0))
    with pytest.raises(ValueError, match="they normalise themselves"):
        normalising({"inputs": [_images(4, 24)], "data_samples": None}, training=True)


# --- TorchGeo-style kornia pipelines: 13 bands, dict batches -------------------------------------------------


def _torchgeo_style_view(size: int):
    """The ops of TorchGeo's ``simclr_augmentations`` that kornia ships (TorchGeo adds its own grayscale)."""
    import kornia.augmentation as K

    ks = size // 10 // 2 * 2 + 1
    return K.AugmentationSequential(
        K.RandomResizedCrop(size=(size, size), ratio=(0.75, 1.33)),
        K.RandomHorizontalFlip(),
        K.RandomVerticalFlip(),
        K.RandomBrightness(brightness=(0.2, 1.8), p=0.8),
        K.RandomContrast(contrast=(0.2, 1.8), p=0.8),
        K.RandomGaussianBlur(kernel_size=(ks, ks), sigma=(0.1, 2)),
        data_keys=["input"],
    )


def test_torchgeo_style_pipelines_become_joint_views_of_a_13_band_batch():
    pytest.importorskip("kornia")
    from jointaug_plugins.adapters.kornia import jointify

    views = jointify([_torchgeo_style_view(24), _torchgeo_style_view(24)], crop=0.0, seed=0)
    batch = {"image": torch.rand(4, 13, 40, 40, generator=torch.Generator().manual_seed(0)), "mask": None}
    out = views_on_device(batch, views)  # TorchGeo's batches are dicts with the images under "image"
    assert [tuple(v.shape) for v in out["image"]] == [(4, 13, 24, 24)] * 2 and out["mask"] is None
    assert joint_options_of(views).specs["crop"].beta == 0.0
    # TorchGeo's SSL tasks read two views as one 2C-channel tensor: the switch concatenates them.
    assert torch.cat(out["image"], dim=1).shape == (4, 26, 24, 24)


def test_torchgeo_simclr_task_trains_with_joint_views():
    """The README's TorchGeo switch on TorchGeo's own SimCLRTask (where torchgeo is installed; it is not a
    dependency of this project)."""
    pytest.importorskip("torchgeo")
    import lightning.pytorch as L
    from torchgeo.trainers import SimCLRTask
    from torchgeo.trainers.simclr import simclr_augmentations

    from jointaug_plugins.adapters.kornia import jointify

    class JointSimCLRTask(JointBatchViews, SimCLRTask):
        def on_after_batch_transfer(self, batch, dataloader_idx):
            batch = super().on_after_batch_transfer(batch, dataloader_idx)
            if isinstance(batch["image"], list):  # training: TorchGeo's two-view layout, 2C channels
                batch["image"] = torch.cat(batch["image"], dim=1)
            return batch

    bands, size = 13, 32
    task = JointSimCLRTask(
        model="resnet18", in_channels=bands, size=size, version=1, layers=2, hidden_dim=64, output_dim=32,
        augmentations=torch.nn.Identity(),  # the views are made already: never augment twice
    )  # fmt: skip
    pipeline = [simclr_augmentations(size, torch.ones(bands) / bands) for _ in range(2)]
    task.joint_views = jointify(pipeline, crop=0.0, seed=0)
    images = [{"image": torch.rand(bands, 40, 40, generator=torch.Generator().manual_seed(i))} for i in range(8)]
    trainer = L.Trainer(
        max_steps=2, accelerator="cpu", devices=1, logger=False, enable_checkpointing=False,
        enable_progress_bar=False, enable_model_summary=False,
    )  # fmt: skip
    trainer.fit(task, torch.utils.data.DataLoader(images, batch_size=4))
    assert task.joint_options.specs["crop"].beta == 0.0
    assert math.isfinite(float(trainer.callback_metrics["train_loss"]))


@pytest.mark.parametrize("library", ["mmselfsup", "mmpretrain"])
def test_mm_reproducible_views_read_the_sample_indices(library):
    from mmengine.structures import BaseDataElement

    views = dict(type="SimCLRBatchViews", input_size=16, normalize=None, seed=1, reproducible=True)
    pre, _, _ = _preprocessor(library, views)

    def run(indices):
        samples = [BaseDataElement(metainfo=dict(sample_idx=i)) for i in indices]
        out = pre({"inputs": [_images(4, 24)], "data_samples": samples}, training=True)
        return out[0] if isinstance(out, tuple) else out["inputs"]

    assert torch.equal(run([0, 1, 2, 3])[0], run([0, 1, 2, 3])[0])
    assert not torch.equal(run([0, 1, 2, 3])[0], run([10, 11, 12, 13])[0])
    with pytest.raises(ValueError, match="add 'sample_idx' to the pack transform's meta_keys"):
        pre({"inputs": [_images(4, 24)], "data_samples": [BaseDataElement() for _ in range(4)]}, training=True)


@pytest.mark.slow
def test_readme_preprocessor_block_trains_verbatim(tmp_path, image_folder):
    """The README's mm block for views made on the model's device, pasted under mmselfsup's SimCLR config verbatim:
    the Runner trains 2 iterations, views made by the preprocessor (joint), none by the pipeline."""
    pytest.importorskip("mmselfsup")
    from mm_runner import LossRecorder, small_config, user_config
    from mmengine.hooks import Hook
    from mmengine.runner import Runner
    from readme_blocks import of_kind

    (block,) = of_kind("mm-config", "mmselfsup", "preprocessor", exact=True)
    config = user_config(tmp_path, "mmselfsup", "simclr", block.text)
    runner = Runner.from_cfg(small_config(config, tmp_path / "work", image_folder, iters=2))
    recorder = type("Recorder", (LossRecorder, Hook), {})()
    runner.register_hook(recorder)
    made = []
    pre = runner.model.data_preprocessor
    pre.views.register_forward_hook(lambda module, args, out: made.append([tuple(v.shape) for v in out]))
    runner.train()
    assert made == [[(4, 3, 224, 224)] * 2] * 2 and pre.options.specs["crop"].beta == 0.0
    assert len(recorder.losses) == 2 and all(math.isfinite(x) for x in recorder.losses)
