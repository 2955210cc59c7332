"""ContrastiveCrop's semantic boxes (issue 23, items 1 and 3(c)): the boxes computed from a feature map, the
process-shared box table (fork / spawn / persistent DataLoader workers, checkpoints), the localization pass, and the
box updates of the Lightning callback and the mmengine hook inside their libraries' own trainers."""

from __future__ import annotations

import io
import types

import numpy as np
import pytest
import torch
from torch import nn

from jointaug_plugins import JointRandomResizedCrop, JointViews, sample_index
from jointaug_plugins.boxtable import box_table
from jointaug_plugins.localize import (
    PlainImage,
    boxes_from_feature_maps,
    collate_plain,
    due,
    feature_module,
    localizing_views,
    update_semantic_boxes,
)
from jointaug_plugins.localize_site import feature_map


def disc_image(height: int, width: int, centre: tuple[float, float], radius: float) -> tuple[torch.Tensor, tuple]:
    """A bright disc on a dark background, ``(3, H, W)`` float, and the disc's box ``(h0, w0, h1, w1)`` in the
    boxes' convention (first and last pixel row / column that the disc touches, over H and W)."""
    rows = torch.arange(height, dtype=torch.float64)[:, None]
    cols = torch.arange(width, dtype=torch.float64)[None, :]
    inside = ((rows - centre[0]) ** 2 + (cols - centre[1]) ** 2 <= radius**2) & (radius >= 0)
    image = torch.where(inside, 0.9, 0.05).float().expand(3, height, width).clone()
    if not inside.any():
        return image, None
    hit_rows, hit_cols = inside.any(1).nonzero()[:, 0], inside.any(0).nonzero()[:, 0]
    box = (int(hit_rows[0]) / height, int(hit_cols[0]) / width, int(hit_rows[-1]) / height, int(hit_cols[-1]) / width)
    return image, box


class ImageIsTheMap(nn.Module):
    """An encoder whose feature map is the (grey) image itself: ``layer4`` is the identity."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 1, 1, bias=False)
        with torch.no_grad():
            self.stem.weight.fill_(1 / 3)
        self.layer4 = nn.Identity()
        self.head = nn.Linear(1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.layer4(self.stem(x)).mean(dim=(2, 3)))


@pytest.fixture(autouse=True)
def _empty_table():
    box_table().clear()
    yield
    box_table().clear()
    box_table().localizing = False


# --- (a) item 3(c): the box of a known salient blob ---------------------------------------------------------


@pytest.mark.parametrize(("height", "width", "centre", "radius"), [(48, 64, (20, 30), 9), (40, 40, (8, 31), 6.5)])
def test_the_disc_gets_its_own_box_to_the_pixel(height, width, centre, radius):
    """An encoder whose feature map is the image: the box is the disc's, exactly (same size, no resampling)."""
    image, expected = disc_image(height, width, centre, radius)
    background, _ = disc_image(height, width, centre, -1)  # no disc: a constant map keeps the whole image
    loader = [(torch.stack([image, background]), torch.tensor([1, 0]))]
    boxes = update_semantic_boxes(ImageIsTheMap(), loader, threshold=0.1, progress=False)
    assert boxes.shape == (2, 4)
    assert boxes[1].tolist() == pytest.approx(expected, abs=1e-12)
    assert boxes[0].tolist() == [0.0, 0.0, 1.0, 1.0]
    assert box_table().lookup(1) == pytest.approx(expected, abs=1e-12)
    assert box_table().get().equal(boxes)


def test_boxes_follow_the_threshold_and_the_upsampling():
    """A 4x4 map with one hot cell, upsampled 4x (bilinear, align_corners=False: output pixel y reads the map at
    (y + 0.5) / 4 - 0.5, weight 1 - |distance to the cell|). The cell (row 1, column 2) peaks at 0.875 x 0.875
    on output rows 5, 6 and columns 9, 10: a threshold just below keeps the peak, a low one the tails, one above the
    peak nothing (the whole image)."""
    features = torch.zeros(1, 2, 4, 4)
    features[0, :, 1, 2] = 1.0
    tight = boxes_from_feature_maps(features, (16, 16), threshold=0.7)[0]
    assert (tight * 16).tolist() == [5, 9, 6, 10]
    loose = boxes_from_feature_maps(features, (16, 16), threshold=0.05)[0]
    assert (loose * 16).tolist() == [2, 6, 9, 13]  # row weight > 0.05 / 0.875: rows 2..9, columns 6..13
    assert boxes_from_feature_maps(features, 16, threshold=0.8)[0].tolist() == [0.0, 0.0, 1.0, 1.0]
    with pytest.raises(ValueError, match=r"threshold must lie in \[0, 1\)"):
        boxes_from_feature_maps(features, 16, threshold=1.0)


# --- the table: checks, sharing with workers, checkpoints ------------------------------------------------------


def test_the_table_refuses_bad_boxes_and_names_n_for_a_bad_index():
    table = box_table()
    assert table.lookup(3) is None and table.lookup_batch(torch.tensor([0, 3])) is None
    for bad, said in (
        (torch.tensor([[0.0, 0.0, 1.0]]), r"shape \(N, 4\)"),
        (torch.tensor([[0.0, 0.0, 1.0, 1.0], [0.5, 0.0, 0.4, 1.0]]), r"boxes\[1\].*h0 <= h1"),
        (torch.tensor([[0.0, 0.0, 1.2, 1.0]]), r"boxes\[0\].*\[0, 1\]"),
        (torch.tensor([[0.0, float("nan"), 1.0, 1.0]]), r"boxes\[0\].*finite"),
    ):
        with pytest.raises(ValueError, match=said):
            table.set(bad)
    table.set(torch.tensor([[0.1, 0.2, 0.3, 0.4], [0.0, 0.0, 1.0, 1.0]], dtype=torch.float64))
    with pytest.raises(IndexError, match="N=2"):
        table.lookup(2)
    with pytest.raises(IndexError, match="N=2"):
        table.lookup_batch(torch.tensor([0, 5]))
    assert table.lookup_batch(torch.tensor([1, 0])).tolist() == [[0.0, 0.0, 1.0, 1.0], [0.1, 0.2, 0.3, 0.4]]


class TableReader(torch.utils.data.Dataset):
    """Each item is the box the worker reads for its index (``-1`` rows: no boxes). It holds the table, as the
    joint views do, so that a spawned worker shares the parent's."""

    def __init__(self, n: int) -> None:
        self.table = box_table()
        self.n = n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, index: int) -> torch.Tensor:
        box = box_table().lookup(index)
        return torch.tensor(box if box is not None else (-1.0,) * 4, dtype=torch.float64)


@pytest.mark.parametrize("context", ["fork", "spawn"])
@pytest.mark.parametrize("persistent", [False, True])
def test_every_worker_reads_the_boxes_set_after_it_started(context, persistent):
    """Workers (fork or spawn, persistent or not) read no boxes, then each new table the main process sets
    between epochs, the persistent ones included (started before any boxes existed)."""
    n = 12
    # Two persistent workers share one table across epochs; restarted ones need one each (spawning costs seconds).
    workers = 2 if persistent else 1
    loader = torch.utils.data.DataLoader(
        TableReader(n),
        batch_size=4,
        num_workers=workers,
        multiprocessing_context=context,
        persistent_workers=persistent,
    )
    assert torch.cat(list(loader)).eq(-1).all()
    rng = np.random.default_rng(0)
    # Workers that restart every epoch need one update to show they read it; persistent ones get two and a clear.
    for _ in range(2 if persistent else 1):
        low = rng.uniform(0, 0.5, (n, 2))
        boxes = torch.tensor(np.concatenate([low, low + rng.uniform(0, 0.5, (n, 2))], axis=1))
        box_table().set(boxes)
        assert torch.cat(list(loader)).equal(boxes)
    if persistent:
        box_table().clear()
        assert torch.cat(list(loader)).eq(-1).all()


def test_state_dict_round_trip_through_a_checkpoint_file():
    table = box_table()
    assert table.state_dict() == {"boxes": None}
    boxes = torch.tensor([[0.1, 0.2, 0.6, 0.7], [0.0, 0.05, 0.9, 1.0], [0.3, 0.3, 0.3, 0.3]], dtype=torch.float64)
    table.set(boxes)
    buffer = io.BytesIO()
    torch.save({"jointaug_boxes": table.state_dict()}, buffer)
    generation = table.generation
    table.clear()
    assert table.get() is None and table.generation == generation + 1
    buffer.seek(0)
    table.load_state_dict(torch.load(buffer)["jointaug_boxes"])
    assert table.get().equal(boxes) and table.lookup(2) == pytest.approx((0.3, 0.3, 0.3, 0.3))
    table.load_state_dict({"boxes": None})
    assert table.get() is None
    with pytest.raises(ValueError, match="'boxes'"):
        table.load_state_dict({"box": boxes})


# --- the rule of when, and where the feature map comes from ----------------------------------------------------


def test_due_follows_contrastivecrop_one_based_rule():
    """ContrastiveCrop's loop (epochs 1..E): update after epoch e when e >= warmup, e % interval == 0, e != E.
    Ours are 0-based: the same epochs minus one."""
    for warmup, interval, epochs in ((20, 20, 100), (1, 1, 2), (3, 2, 9), (0, 5, 5)):
        position = types.SimpleNamespace(semantic=True, warmup=warmup, interval=interval)
        theirs = [e - 1 for e in range(1, epochs + 1) if e >= warmup and e != epochs and e % interval == 0]
        assert [e for e in range(epochs) if due(e, position, epochs)] == theirs
    assert due(19, types.SimpleNamespace(semantic=True, warmup=20, interval=20), None)
    assert not due(19, types.SimpleNamespace(semantic=False, warmup=20, interval=20), None)
    assert not due(19, None, None)


def test_the_default_feature_map_of_resnets_and_vits():
    torchvision = pytest.importorskip("torchvision")
    resnet = torchvision.models.resnet18()
    assert feature_module(resnet).name == "layer4"
    lightly_style = nn.Module()
    lightly_style.backbone = nn.Sequential(*list(resnet.children())[:-1])
    site = feature_module(lightly_style)
    assert site.name == "backbone.7" and site.module is resnet.layer4
    vit = torchvision.models.VisionTransformer(
        image_size=32, patch_size=8, num_layers=2, num_heads=2, hidden_dim=16, mlp_dim=32
    )
    site = feature_module(vit)
    assert site.name == "encoder.layers.encoder_layer_1" and site.prefix_tokens == 1
    tokens = torch.randn(2, 17, 16)
    grid = feature_map(tokens, site)
    assert grid.shape == (2, 16, 4, 4) and grid[1, :, 0, 1].equal(tokens[1, 2])  # token 0 (class) dropped
    with pytest.raises(ValueError, match="layer="):
        feature_module(nn.Sequential(nn.Linear(2, 2)))
    with pytest.raises(ValueError, match=r"close names.*layer4"):
        feature_module(resnet, "layer5")


def test_the_default_feature_map_of_a_timm_vit_with_registers():
    timm = pytest.importorskip("timm")
    model = timm.create_model(
        "vit_tiny_patch16_224", pretrained=False, img_size=32, patch_size=8, depth=2, reg_tokens=4, num_classes=0
    )
    site = feature_module(model)
    assert site.name == "blocks.1" and site.prefix_tokens == 5
    captured = []
    site.module.register_forward_hook(lambda m, i, o: captured.append(feature_map(o, site)))
    model(torch.randn(1, 3, 32, 32))
    assert captured[0].shape == (1, model.embed_dim, 4, 4)


# --- the localization pass's data: plain images of the training dataset -----------------------------------------


def _views(size: int = 24, normalize: bool = True) -> JointViews:
    from torchvision import transforms as T

    steps = [JointRandomResizedCrop(size), T.RandomHorizontalFlip(), T.ToTensor()]
    steps += [T.Normalize((0.5, 0.4, 0.3), (0.2, 0.25, 0.3))] if normalize else []
    return JointViews([T.Compose(steps), T.Compose(steps)])


def test_localizing_views_resize_normalise_and_carry_the_index():
    from PIL import Image

    image = Image.fromarray(np.random.default_rng(0).integers(0, 256, (40, 56, 3), dtype=np.uint8))
    views = _views()
    with pytest.raises(ValueError, match=r"indexed\(dataset\)"):
        localizing_views(views, image)
    with sample_index(7):
        made = localizing_views(views, image)
    assert len(made) == 2 and all(isinstance(m, PlainImage) and m.index == 7 for m in made)
    plain = torch.from_numpy(np.asarray(image.resize((24, 24), Image.BILINEAR), dtype=np.float32) / 255).permute(
        2, 0, 1
    )
    expected = (plain - torch.tensor([0.5, 0.4, 0.3])[:, None, None]) / torch.tensor([0.2, 0.25, 0.3])[:, None, None]
    assert made[0].tensor.shape == (3, 24, 24)
    assert (made[0].tensor - expected).abs().mean() < 0.05  # PIL's and torchvision's bilinear resize differ a little
    items = [(made, 0), {"views": made, "target": 1}]
    images, indices = collate_plain(items)
    assert images.shape == (2, 3, 24, 24) and indices.tolist() == [7, 7]
    with pytest.raises(ValueError, match="holds no PlainImage"):
        collate_plain([(torch.zeros(3), 0)])


# Disc centres (row, column) and radii on 48x64 images.
DISCS = [((20, 30), 9), ((10, 12), 6), ((35, 50), 8), ((24, 40), 14), ((30, 8), 5)]


class DiscDataset(torch.utils.data.Dataset):
    """Bright discs of known boxes on dark 48x64 photographs-to-be, through a transform (items: views, target)."""

    def __init__(self, transform, discs) -> None:
        from PIL import Image

        made = [disc_image(48, 64, centre, radius) for centre, radius in discs]
        self.images = [Image.fromarray((img.permute(1, 2, 0).numpy() * 255).astype(np.uint8)) for img, _ in made]
        self.boxes = [box for _, box in made]
        self.transform = transform

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int):
        return self.transform(self.images[index]), index % 2


def test_the_whole_pass_finds_each_disc_and_views_then_land_in_it():
    """Item 3(c) through the path training runs: indexed(dataset) with semantic joint views, the localization loader
    (2 spawned workers: the flag and the index reach them; the views hand back plain 32x32 images), the encoder whose
    map is the image: each box is its disc's to a pixel of the 32x32 input; then each view's crop lands by
    ContrastiveCrop's rule inside it."""
    from jointaug_plugins import indexed
    from jointaug_plugins.localize import localization_loader

    views = semantic_views(scale=(0.02, 0.2))  # small crops: most are not pushed in by the image's edge
    dataset = DiscDataset(views, DISCS)
    loader = localization_loader(indexed(dataset), batch_size=2, num_workers=2, multiprocessing_context="spawn")
    boxes = update_semantic_boxes(ImageIsTheMap(), loader, progress=False)
    assert not box_table().localizing  # the flag is down once the pass is over
    assert boxes.shape == (5, 4)
    for found, expected in zip(boxes.tolist(), dataset.boxes):
        assert found == pytest.approx(expected, abs=1 / CROP)  # one pixel of the 32x32 image the pass reads
    log = CropLog()
    views.draw_sink = log
    for _ in range(20):
        for index in range(len(dataset)):
            indexed(dataset)[index]
    assert_crops_in_boxes(log.rows)
    inside = []  # per axis, the crop centres that the image edge does not push: within the box, to a pixel
    for _, _, box, crops in log.rows:
        for crop in crops:
            for start, extent, lo, hi, size in (
                (crop["top"], crop["height"], box[0], box[2], 48),
                (crop["left"], crop["width"], box[1], box[3], 64),
            ):
                if int(size * lo) - extent // 2 >= 0 and int(size * hi) - extent // 2 <= size - extent:
                    inside.append(size * lo - 1 <= start + extent / 2 <= size * hi + 1)
    assert len(inside) > 100 and all(inside)


def _localize_on_rank(rank: int, world: int, init: str, out: str) -> None:
    """One gloo rank: its share of the pass (a padded DistributedSampler), then every rank's boxes all-gathered."""
    import torch.distributed as dist

    from jointaug_plugins import indexed
    from jointaug_plugins.localize import localization_loader

    dist.init_process_group("gloo", init_method=init, rank=rank, world_size=world)
    try:
        loader = localization_loader(indexed(DiscDataset(semantic_views(), DISCS)), batch_size=2)
        shares = len(loader)
        boxes = update_semantic_boxes(ImageIsTheMap(), loader, progress=False)
        torch.save({"boxes": boxes, "table": box_table().get(), "batches": shares}, f"{out}/rank{rank}.pt")
    finally:
        dist.destroy_process_group()


def test_ranks_share_the_pass_and_all_hold_every_box_in_index_order(tmp_path):
    """Two gloo ranks: 5 images split 3 + 3 (the sampler pads with image 0), each rank's table holds all 5 boxes in
    index order, equal to one process's pass."""
    import torch.multiprocessing as mp

    from jointaug_plugins import indexed
    from jointaug_plugins.localize import localization_loader

    single = update_semantic_boxes(
        ImageIsTheMap(), localization_loader(indexed(DiscDataset(semantic_views(), DISCS)), 2), progress=False
    )
    init = f"file://{tmp_path / 'rendezvous'}"
    mp.spawn(_localize_on_rank, args=(2, init, str(tmp_path)), nprocs=2, join=True)
    for rank in (0, 1):
        saved = torch.load(tmp_path / f"rank{rank}.pt")
        assert saved["batches"] == 2  # ceil(5 / 2) = 3 images per rank, batches of 2
        assert saved["boxes"].equal(single) and saved["table"].equal(single)


# --- (d) the Lightning callback inside Lightning's own Trainer --------------------------------------------------

CROP = 32


def cifar_resnet18() -> nn.Module:
    """torchvision's ResNet-18 with the CIFAR stem (3x3 conv, no max-pool), as solo-learn and lightly build it for
    32-px images: ``layer4`` gives a 4x4 map there (the ImageNet stem's would be 1x1, a box of the whole image)."""
    import torchvision

    model = torchvision.models.resnet18()
    model.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False)
    model.maxpool = nn.Identity()
    model.fc = nn.Identity()
    return model


class ImageList(torch.utils.data.Dataset):
    """Generated photographs (no downloads) through a transform, as torchvision's datasets call it."""

    def __init__(self, n: int, transform) -> None:
        from images import make_image

        self.images = [make_image(i, (48, 64)) for i in range(n)]
        self.transform = transform

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int):
        return self.transform(self.images[index]), 0


def semantic_views(warmup: int = 1, interval: int = 1, scale: tuple[float, float] = (0.2, 1.0)) -> JointViews:
    from torchvision import transforms as T

    steps = T.Compose(
        [JointRandomResizedCrop(CROP, scale=scale), T.RandomHorizontalFlip(), T.ToTensor(),
         T.Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))]
    )  # fmt: skip
    position = dict(alpha=0.6, boxes="semantic", warmup=warmup, interval=interval)
    return JointViews([steps, steps], crop=0.0, position=position)


class CropLog:
    """A draw sink: per epoch, per drawn image, its index, the box the table held, and each view's crop."""

    def __init__(self) -> None:
        self.epoch = 0
        self.rows: list[tuple[int, int, tuple | None, list[dict]]] = []

    def __call__(self, records) -> None:
        from jointaug_plugins.indexed import current_sample_index

        index = current_sample_index()
        crops = [r.params for r in records if r.kind == "crop"]
        self.rows.append((self.epoch, index, box_table().lookup(index), crops))


def assert_crops_in_boxes(rows, height: int = 48, width: int = 64) -> None:
    """ContrastiveCrop's rule: each crop's top lies between the box's edges minus half the crop, clamped."""
    for _, _, box, crops in rows:
        h0, w0, h1, w1 = box
        for crop in crops:
            h, w = crop["height"], crop["width"]
            for start, lo, hi, size, extent in ((crop["top"], h0, h1, height, h), (crop["left"], w0, w1, width, w)):
                first = min(max(int(size * lo) - extent // 2, 0), size - extent)
                last = min(max(int(size * hi) - extent // 2, 0), size - extent)
                assert first <= start <= last

def assert_boxes_set_between_epochs(log) -> torch.Tensor:
    """Epoch 0 drew without boxes (warm-up); after the update each of the 8 images' epoch-1 crops used its own box,
    not all of them the whole image (a 4x4 feature map gives real boxes), and crops landed inside. Returns them."""
    before = [row for row in log.rows if row[0] == 0]
    after = [row for row in log.rows if row[0] == 1]
    assert len(before) == len(after) == 8
    assert all(box is None for _, _, box, _ in before)
    boxes = box_table().get()
    assert boxes is not None and boxes.shape == (8, 4)
    assert sorted(i for _, i, _, _ in after) == list(range(8))
    assert all(box == pytest.approx(tuple(boxes[i].tolist())) for _, i, box, _ in after)
    assert (boxes != torch.tensor([0.0, 0.0, 1.0, 1.0], dtype=torch.float64)).any()
    assert_crops_in_boxes(after)
    return boxes



def test_lightning_trainer_updates_the_boxes_between_epochs_and_checkpoints_them(tmp_path, capsys):
    """Two epochs of SimCLR (lightly's loss) on a CIFAR ResNet-18 by Lightning's Trainer, warmup=1, interval=1:
    epoch 0 draws without boxes; after it the callback computes them (logged); epoch 1's crops land inside each
    image's box by ContrastiveCrop's rule; the last checkpoint holds the boxes, and resuming from it restores them."""
    pl = pytest.importorskip("pytorch_lightning")
    from lightly.loss import NTXentLoss

    from jointaug_plugins import indexed
    from jointaug_plugins.adapters.semantic_lightning import JointSemanticBoxes, _SemanticLogic

    class SimCLR(pl.LightningModule):
        def __init__(self) -> None:
            super().__init__()
            self.backbone = cifar_resnet18()
            self.head = nn.Linear(512, 16)
            self.loss = NTXentLoss()

        def forward(self, x):
            return self.head(self.backbone(x))

        def training_step(self, batch, batch_idx):
            (x0, x1), _ = batch
            return self.loss(self(x0), self(x1))

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=0.01)

    class Epochs(pl.Callback):
        def on_train_epoch_start(self, trainer, pl_module):
            log.epoch = trainer.current_epoch

    views = semantic_views()
    log = CropLog()
    views.draw_sink = log
    loader = torch.utils.data.DataLoader(indexed(ImageList(8, views)), batch_size=4, num_workers=0)

    def trainer(**kwargs):
        made = pl.Trainer(
            accelerator="cpu", max_epochs=2, logger=False, enable_progress_bar=False, enable_model_summary=False,
            default_root_dir=tmp_path, **kwargs,
        )  # fmt: skip
        if not any(isinstance(c, _SemanticLogic) for c in made.callbacks):
            made.callbacks.append(JointSemanticBoxes())  # where the entry point is not installed
        return made

    checkpoints = pl.callbacks.ModelCheckpoint(dirpath=tmp_path / "ckpt", save_last=True)
    torch.manual_seed(0)
    trainer(callbacks=[checkpoints, Epochs()]).fit(SimCLR(), loader)

    boxes = assert_boxes_set_between_epochs(log)
    err = capsys.readouterr().err
    assert "[jointaug] semantic boxes updated (epoch 0, 8 boxes, mean area" in err
    assert "semantic boxes updated (epoch 1" not in err  # never after the last epoch

    saved = torch.load(tmp_path / "ckpt" / "last.ckpt", weights_only=False)["callbacks"]
    stored = [state["boxes"] for key, state in saved.items() if key.startswith("JointSemanticBoxes")]
    assert len(stored) == 1 and stored[0].equal(boxes)
    box_table().clear()
    trainer(enable_checkpointing=False).fit(
        SimCLR(), loader, ckpt_path=tmp_path / "ckpt" / "last.ckpt"
    )  # restores, nothing left to train
    assert box_table().get().equal(boxes)


# --- (e) the mmengine hook inside mmengine's own Runner ---------------------------------------------------------

MM_BLOCK = """
custom_imports = dict(imports=['jointaug_plugins.adapters.mmselfsup'], allow_failed_imports=False)
jointaug = dict(crop=0.0, position=dict(alpha=0.6, boxes='semantic', warmup=1, interval=1))
"""


def test_mmengine_runner_updates_the_boxes_between_epochs_and_checkpoints_them(tmp_path, monkeypatch):
    """mmselfsup's SimCLR config with the switch and semantic boxes, trained two epochs by mmengine's Runner on 8
    generated images (a CIFAR ResNet-18 at 32 px): epoch 0 draws without boxes, the hook computes them after it
    (logged), epoch 1's crops land inside each image's box; the checkpoint holds them under 'jointaug_boxes', and
    resuming from it restores them."""
    pytest.importorskip("mmselfsup")
    from images import write_image_folder
    from mm_runner import small_config, user_config
    from mmengine.hooks import Hook
    from mmengine.runner import Runner

    from jointaug_plugins.adapters.mm.semantic_hook import JointSemanticBoxHook

    def config(work: str, **more):
        cfg = small_config(user_config(tmp_path, "mmselfsup", "simclr", MM_BLOCK), tmp_path / work, data_root)
        # ResNet_CIFAR (3x3 stem, no max-pool): a 4x4 map at 32 px, so the boxes are not all the whole image; a
        # quarter of the width, so that the test stays fast on two cores.
        cfg.model.backbone = dict(
            type="mmcls.ResNet_CIFAR", depth=18, base_channels=16, out_indices=(3,), norm_cfg=dict(type="BN")
        )
        cfg.model.neck.in_channels = 128
        cfg.train_cfg = dict(type="EpochBasedTrainLoop", max_epochs=2)
        cfg.log_processor = dict(window_size=1, by_epoch=True)
        cfg.default_hooks.checkpoint = dict(type="CheckpointHook", interval=1)
        cfg.update(more)
        return cfg

    def runner_of(cfg):
        runner = Runner.from_cfg(cfg)
        if not any(isinstance(h, JointSemanticBoxHook) for h in runner.hooks):
            runner.register_hook(JointSemanticBoxHook())  # until the switch registers it
        return runner

    class Epochs(Hook):
        def before_train_epoch(self, runner):
            log.epoch = runner.epoch

    data_root = write_image_folder(tmp_path / "images", 8, size=(48, 64))
    runner = runner_of(config("work"))
    (multiview,) = [t for t in runner.train_dataloader.dataset.pipeline.transforms if hasattr(t, "joint_views")]
    log = CropLog()
    multiview.joint_views.draw_sink = log
    runner.register_hook(Epochs())
    runner.train()

    boxes = assert_boxes_set_between_epochs(log)
    text = "".join(p.read_text() for p in (tmp_path / "work").rglob("*.log"))
    assert "[jointaug] semantic boxes updated (epoch 0, 8 boxes, mean area" in text
    assert "(epoch 1, 8 boxes" not in text

    checkpoint = torch.load(tmp_path / "work" / "epoch_2.pth", weights_only=False)
    assert checkpoint["jointaug_boxes"]["boxes"].equal(boxes)
    box_table().clear()
    # Resuming works: the mm adapter loads mmengine's own checkpoints as mmengine did (upstream_fixes).
    resumed = runner_of(config("resumed", resume=True, load_from=str(tmp_path / "work" / "epoch_2.pth")))
    resumed.train()  # restores, nothing left to train
    assert box_table().get().equal(boxes)


# --- the switches register the updaters (every Lightning Trainer; the mm Runner switch) ----------------------


def test_every_lightning_trainer_gets_one_inert_semantic_callback(capsys):
    """Lightning's callbacks factory (this package's entry point) adds the callback to every Trainer; without semantic
    boxes in the train data it does nothing and saves nothing. One passed by the user makes the automatic one stand
    aside (distinct state keys: no 'more than one stateful callback' error)."""
    pl = pytest.importorskip("pytorch_lightning")
    from jointaug_plugins.adapters.semantic_lightning import JointSemanticBoxes, _SemanticLogic

    class Tiny(pl.LightningModule):
        def __init__(self):
            super().__init__()
            self.layer = nn.Linear(3, 2)

        def training_step(self, batch, batch_idx):
            return self.layer(batch[0].mean(dim=(-1, -2))).pow(2).mean()

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=0.01)

    def trainer(**kwargs):
        return pl.Trainer(
            accelerator="cpu", max_epochs=3, logger=False, enable_checkpointing=False, enable_progress_bar=False,
            enable_model_summary=False, **kwargs,
        )  # fmt: skip

    made = trainer()
    automatic = [c for c in made.callbacks if isinstance(c, _SemanticLogic)]
    assert len(automatic) == 1 and automatic[0].auto
    steps = _views(size=16)  # joint views without a position: the callback stays inert
    from images import make_image

    data = [(torch.stack(steps(make_image(i, (24, 24)))), 0) for i in range(4)]
    made.fit(Tiny(), torch.utils.data.DataLoader(data, batch_size=2))
    assert automatic[0].state_dict() == {} and box_table().get() is None
    assert "semantic boxes" not in capsys.readouterr().err
    mine = JointSemanticBoxes(batch_size=8)
    both = trainer(callbacks=[mine])
    assert {c.state_key for c in both.callbacks if isinstance(c, _SemanticLogic)} == {
        "JointSemanticBoxes",
        "JointSemanticBoxes[auto]",
    }


def test_the_mm_switch_registers_the_hook_only_for_semantic_boxes(tmp_path):
    """The Runner switch adds JointSemanticBoxHook to the hooks where the options ask for semantic boxes."""
    pytest.importorskip("mmselfsup")
    from images import write_image_folder
    from mm_runner import small_config, user_config
    from mmengine.runner import Runner

    from jointaug_plugins.adapters.mm.semantic_hook import JointSemanticBoxHook

    data_root = write_image_folder(tmp_path / "images", 4, size=(48, 64))
    plain = MM_BLOCK.replace("position=dict(alpha=0.6, boxes='semantic', warmup=1, interval=1)", "position=None")
    for block, expected in ((MM_BLOCK, 1), (plain, 0)):
        config = user_config(tmp_path, "mmselfsup", "simclr", block, name=f"user{expected}")
        runner = Runner.from_cfg(small_config(config, tmp_path / f"work{expected}", data_root))
        assert sum(isinstance(h, JointSemanticBoxHook) for h in runner.hooks) == expected
