"""`jointaug difficulty`: SimSiam training loss (Fig. 5) and SDF (Fig. 4) per β, checkpoint loading, CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import torchvision
from images import make_image, write_image_folder
from torch import nn
from torchvision.models.resnet import BasicBlock, Bottleneck, ResNet

from jointaug_plugins.cli import main
from jointaug_plugins.tools.difficulty import interval, measure_difficulty
from jointaug_plugins.tools.difficulty_plot import plot_difficulty
from jointaug_plugins.tools.encoders import load_encoder
from jointaug_plugins.tools.simsiam import canvas_tensor, pair_similarities, train_simsiam

IMAGES = [make_image(i, (60, 80)) for i in range(4)]
TINY = dict(images=IMAGES, betas=(2.0, -2.0), seeds=2, steps=3, batch_pairs=4, size=16, sdf_pairs=400)


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


def test_interval_is_the_student_t_interval_of_the_seeds():
    entry = interval([1.0, 2.0, 3.0])
    assert entry["mean"] == 2.0 and entry["per_seed"] == [1.0, 2.0, 3.0]
    assert entry["ci95"] == pytest.approx(4.302653 * 1.0 / np.sqrt(3), rel=1e-5)  # t(0.975, 2) * sd / sqrt(n)
    assert interval([5.0])["ci95"] is None


def test_canvas_is_a_square_per_image():
    canvas = canvas_tensor([make_image(0, (30, 90)), make_image(1, (90, 30))], 24)
    assert canvas.shape == (2, 3, 24, 24) and canvas.dtype == torch.float32
    assert 0.0 <= float(canvas.min()) and float(canvas.max()) <= 1.0
    with pytest.raises(ValueError, match="canvas must be an int >= 8"):
        canvas_tensor(IMAGES, 4)


def test_training_is_seeded_and_the_crop_condition_matters():
    canvas = canvas_tensor(IMAGES, 48)
    first, losses = train_simsiam(canvas, 0.0, size=16, steps=3, batch_pairs=4, seed=1)
    second, again = train_simsiam(canvas, 0.0, size=16, steps=3, batch_pairs=4, seed=1)
    assert losses == again and all(-1.0 <= x <= 1.0 for x in losses)
    for a, b in zip(first.state_dict().values(), second.state_dict().values()):
        assert torch.equal(a, b)
    assert not first.training and isinstance(first.fc, nn.Identity)
    _, independent = train_simsiam(canvas, None, size=16, steps=3, batch_pairs=4, seed=1)
    assert independent != losses
    state = torch.get_rng_state()
    train_simsiam(canvas, 0.0, size=16, steps=1, batch_pairs=2, seed=2)
    assert torch.equal(torch.get_rng_state(), state)  # torch's global generator is left as it was
    with pytest.raises(ValueError, match="steps must be an int >= 1"):
        train_simsiam(canvas, 0.0, steps=0)


def test_pair_similarity_sees_pair_difficulty():
    canvas = canvas_tensor(IMAGES, 48)
    easy, easy_ratios = pair_similarities(Pixels(), canvas, 2.0, size=16, pairs=3000, seed=0)
    hard, hard_ratios = pair_similarities(Pixels(), canvas, -2.0, size=16, pairs=3000, seed=0)
    assert easy.shape == (3000,) and hard_ratios.shape == (3000,)
    assert hard.mean() < easy.mean()  # crops of more different areas look less alike
    assert np.mean(hard_ratios > 2) > np.mean(easy_ratios > 2) + 0.1  # 0.447 against 0.281

    class Mean(nn.Module):  # invariant to crops and flips of a constant image
        def forward(self, x):
            return x.mean(dim=(2, 3)) + 10.0

    flat = canvas_tensor([make_image(0, (40, 40)).point(lambda _: 128)], 32)
    same, _ = pair_similarities(Mean(), flat, 0.0, size=16, pairs=8)
    assert same == pytest.approx(1.0, abs=1e-6)


def test_measurement_reports_every_condition_and_reproduces(tmp_path):
    result = measure_difficulty(**TINY)
    json.dumps(result)
    conditions = ["independent", "2", "-2"]
    assert result["conditions"] == conditions
    for section in (result["loss"]["second_half"], result["sdf"]):
        assert list(section) == conditions
        for entry in section.values():
            assert len(entry["per_seed"]) == 2 and entry["ci95"] is not None and entry["ci95"] >= 0
    assert list(result["sdf_minus_independent"]) == ["2", "-2"]
    assert list(result["loss"]["second_half_minus_independent"]) == ["2", "-2"]
    curve = result["loss"]["curves"]["2"]
    assert len(curve["step"]) == len(curve["mean"]) == 3 and curve["low"][0] <= curve["mean"][0] <= curve["high"][0]
    assert set(result["ordering"]) == {
        "sdf_falls_as_beta_falls", "sdf_every_beta_below_independent",
        "loss_rises_as_beta_falls", "loss_every_beta_above_independent",
    }  # fmt: skip
    p = result["p_area_ratio_gt_2"]
    assert p["-2"] > p["2"] + 0.08 and abs(p["independent"] - 0.20) < 0.06  # the pairs differ as JC(β) says
    assert result["settings"]["images"] == 4 and result["settings"]["canvas"] == 48
    again = measure_difficulty(**TINY)
    assert again["sdf"] == result["sdf"] and again["loss"] == result["loss"]
    assert plot_difficulty(result, tmp_path / "d.png").read_bytes()[:4] == b"\x89PNG"


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


def test_bad_arguments_are_named(tmp_path):
    with pytest.raises(ValueError, match="not a file"):
        load_encoder(tmp_path / "missing.pth")
    torch.save({"weight": torch.zeros(3)}, tmp_path / "bad.pth")
    with pytest.raises(ValueError, match="conv1"):
        load_encoder(tmp_path / "bad.pth")
    with pytest.raises(ValueError, match="seeds must be an int >= 1"):
        measure_difficulty(IMAGES, seeds=0)
    with pytest.raises(ValueError, match="beta must be finite"):
        measure_difficulty(IMAGES, betas=[float("nan")])
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="torch sees no CUDA device"):
            measure_difficulty(IMAGES, device="cuda")


def test_cli_json_and_plot(tmp_path, capsys):
    folder = write_image_folder(tmp_path / "imgs", 3, size=(64, 80))
    argv = ["difficulty", "--images", str(folder), "--seeds", "2", "--steps", "2", "--batch", "4", "--size", "16"]
    argv += ["--sdf-pairs", "8", "--betas", "1", "-1", "--json", "--plot", str(tmp_path / "d.png")]
    assert main(argv) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["conditions"] == ["independent", "1", "-1"] and result["settings"]["steps"] == 2
    assert result["plot"] == str(tmp_path / "d.png") and (tmp_path / "d.png").read_bytes()[:4] == b"\x89PNG"


def test_cli_with_a_checkpoint_measures_the_sdf_only(tmp_path, capsys):
    folder = write_image_folder(tmp_path / "imgs", 3, size=(64, 80))
    cifar = torchvision.models.resnet18(weights=None)
    cifar.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False)  # a CIFAR-style stem is recognised
    torch.save(cifar.state_dict(), tmp_path / "r18.pth")
    argv = ["difficulty", "--images", str(folder), "--encoder", str(tmp_path / "r18.pth"), "--seeds", "2"]
    assert main([*argv, "--size", "16", "--sdf-pairs", "4", "--betas", "1", "-1"]) == 0
    out = capsys.readouterr().out
    assert "β=-1" in out and "ordering, as measured" in out
    assert main(["difficulty", "--encoder", str(tmp_path / "none.pth"), "--seeds", "1"]) == 2
    assert "not a file" in capsys.readouterr().err
