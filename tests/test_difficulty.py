"""`jointaug difficulty`: SDF measurement, encoder training and checkpoint loading, CLI."""

from __future__ import annotations

import json

import pytest
import torch
import torchvision
from images import make_image, write_image_folder
from torch import nn
from torchvision.models.resnet import BasicBlock, Bottleneck, ResNet

from jointaug_plugins.cli import main
from jointaug_plugins.tools.difficulty import measure_difficulty, pair_similarities, plot_difficulty
from jointaug_plugins.tools.encoders import load_encoder, nt_xent, prepare_images, train_simclr_encoder

IMAGES = [make_image(0, (96, 128)), make_image(1, (96, 128))]


@pytest.fixture(autouse=True)
def one_thread():
    """One torch thread: on a shared 2-core machine OpenMP spin-waiting makes 2 threads 10x slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


class Pixels(nn.Module):
    """A fixed 'encoder': the view downsampled to 4 x 4 and centred per view (position-sensitive)."""

    def forward(self, x):
        z = nn.functional.adaptive_avg_pool2d(x, 4).flatten(1)
        return z - z.mean(dim=1, keepdim=True)


def test_nt_xent():
    z = nn.functional.normalize(torch.randn(8, 16), dim=1)
    aligned = nt_xent(z, z, temperature=0.1)
    shuffled = nt_xent(z, z[torch.randperm(8)], temperature=0.1)
    constant = nt_xent(torch.ones(8, 4), torch.ones(8, 4))
    assert float(constant) == pytest.approx(
        float(torch.log(torch.tensor(15.0))), rel=1e-5
    )  # all logits equal: log(2n - 1)
    assert aligned < shuffled and aligned < constant


def test_measurement_is_reproducible_and_reports_everything(tmp_path):
    kwargs = dict(images=IMAGES, encoder=Pixels(), betas=(2.0, -2.0), pairs_per_image=200, size=24, seed=5)
    result = measure_difficulty(**kwargs)
    json.dumps(result)
    assert set(result["beta"]) == {"2", "-2"}
    for value in [result["independent"], *result["beta"].values()]:
        assert -1.0 <= value <= 1.0
    assert result["stderr"]["independent"] > 0
    assert result["images"] == 2 and result["pairs_per_image"] == 200 and result["size"] == 24
    p = result["p_area_ratio_gt_2"]
    assert p["beta"]["2"] < p["beta"]["-2"]  # the drawn pairs differ the way JC(β) says
    # Pixel similarity of two crops falls as their areas differ more: a measurement that can see it.
    assert result["beta"]["-2"] < result["beta"]["2"]
    assert measure_difficulty(**kwargs)["beta"] == result["beta"]
    assert isinstance(result["ordering"]["every_beta_below_independent"], bool)
    assert plot_difficulty(result, tmp_path / "d.png").read_bytes()[:4] == b"\x89PNG"


def test_identical_views_give_similarity_one():
    class Mean(nn.Module):  # invariant to crops and flips of a constant image
        def forward(self, x):
            return x.mean(dim=(2, 3)) + 1.0

    flat = [make_image(0, (40, 40)).point(lambda _: 128)]
    sims, ratios = pair_similarities(Mean(), prepare_images(flat, 16), beta=0.0, pairs_per_image=8, size=16)
    assert sims == pytest.approx(1.0, abs=1e-6) and len(ratios) == 8


def test_training_is_seeded_and_learns():
    kwargs = dict(images=IMAGES, arch="resnet18", size=32, steps=3, batch_pairs=8)
    first, info = train_simclr_encoder(**kwargs, seed=1)
    second, _ = train_simclr_encoder(**kwargs, seed=1)
    for a, b in zip(first.state_dict().values(), second.state_dict().values()):
        assert torch.equal(a, b)
    assert not first.training and isinstance(first.fc, nn.Identity)
    assert info["steps"] == 3 and info["first_loss"] > 0
    with pytest.raises(ValueError, match="steps"):
        train_simclr_encoder(IMAGES, steps=-1)


@pytest.mark.parametrize("block", [BasicBlock, Bottleneck])
def test_checkpoint_loading(tmp_path, block):
    torch.manual_seed(0)
    model = ResNet(block, [1, 2, 1, 1]).eval()  # any depth; ResNet-18/50 differ only in counts
    path = tmp_path / "ckpt.pth"
    # A Lightning / mmengine style checkpoint with the backbone under a prefix.
    torch.save({"state_dict": {f"backbone.{k}": v for k, v in model.state_dict().items()}, "epoch": 3}, path)
    loaded, name = load_encoder(path)
    model.fc = nn.Identity()
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        assert torch.allclose(loaded(x), model(x), atol=1e-5)
    assert name.startswith(f"ResNet({block.__name__}, [1, 2, 1, 1]")


def test_checkpoint_errors(tmp_path):
    with pytest.raises(ValueError, match="not a file"):
        load_encoder(tmp_path / "missing.pth")
    torch.save({"weight": torch.zeros(3)}, tmp_path / "bad.pth")
    with pytest.raises(ValueError, match="conv1"):
        load_encoder(tmp_path / "bad.pth")
    with pytest.raises(ValueError, match="torchvision:vgg"):
        measure_difficulty(IMAGES, encoder="torchvision:vgg")


def test_cli_with_image_folder_and_checkpoint(tmp_path, capsys):
    folder = write_image_folder(tmp_path / "imgs", 3, size=(64, 80))
    cifar = torchvision.models.resnet18(weights=None)
    cifar.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False)  # a CIFAR-style stem is recognised
    torch.save(cifar.state_dict(), tmp_path / "r18.pth")
    argv = ["difficulty", "--images", str(folder), "--encoder", str(tmp_path / "r18.pth")]
    argv += ["--size", "16", "--pairs", "4", "--betas", "1", "-1", "--json"]
    assert main(argv) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result) >= {"independent", "beta", "encoder", "stderr", "ordering"}
    assert set(result["beta"]) == {"1", "-1"} and result["images"] == 3 and result["size"] == 16
    assert main(["difficulty", "--encoder", str(tmp_path / "none.pth")]) == 2
    assert "not a file" in capsys.readouterr().err
