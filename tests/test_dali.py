"""The DALI adapter: per-batch parameters (no DALI needed), then views made by real DALI CPU pipelines.

Crop boxes are read back from the views of an image whose pixels encode their own coordinates (red =
column, green = row), so the distributions tested are those of the pixels DALI produced.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers_images import coordinate_image

from jointaug_plugins.adapters.dali import DALIView, JointDALIViews
from jointaug_plugins.boxes import crop_box
from jointaug_plugins.draw import unbatch
from jointaug_plugins.options import JointOptions, UnknownOptionError, UnsupportedOptionError
from jointaug_plugins.sampling import independent_ratio_sf, joint_ratio_sf
from jointaug_plugins.spec import JointSpec

OUT = 24
BATCH = 128
BATCHES = 24  # 3072 pairs per estimate: the standard error of P(r > 2) is below 0.009


def _shapes(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.stack([rng.integers(20, 600, n), rng.integers(20, 600, n), np.full(n, 3)], 1)


def test_batch_boxes_are_the_per_image_boxes_and_the_region_covers_every_view():
    view = DALIView(32, scale=(0.2, 1.0))
    views = JointDALIViews([view, view, DALIView(16, scale=(0.05, 0.3))], crop=-1.0, seed=0)
    shapes = _shapes(300)
    params = views.batch(shapes)
    for i, draw in enumerate(unbatch(params.draw)):
        top, left = params.region_anchor[i]
        height, width = params.region_shape[i]
        assert 0 <= top and 0 <= left and top + height <= shapes[i, 0] and left + width <= shapes[i, 1]
        for v, view_params in enumerate(params.views):
            box, _ = crop_box(draw.views[v].slices[0], int(shapes[i, 0]), int(shapes[i, 1]), views.views[v].ratio)
            assert tuple(view_params.boxes[i]) == box
            y0, x0 = view_params.roi_start[i]
            y1, x1 = view_params.roi_end[i]
            assert (y0, x0) == (box[0] - top, box[1] - left) and (y1 - y0, x1 - x0) == (box[2], box[3])
            assert 0 <= y0 and 0 <= x0 and y1 <= height and x1 <= width
    # The union of the views is smaller than the image for most images: that is the decode saved.
    assert np.mean(params.region_shape.prod(1) < shapes[:, :2].prod(1)) > 0.5
    full = JointDALIViews([view, view], decode="full", seed=0).batch(shapes)
    assert (full.region_anchor == 0).all() and (full.region_shape == shapes[:, :2]).all()


def test_seeded_draws_repeat_per_shard_and_differ_across_shards():
    view = DALIView(32)
    one, again, other = (JointDALIViews([view, view], seed=5, shard_id=s) for s in (0, 0, 1))
    shapes = _shapes(64)
    a, b, c = (v.batch(shapes).views[0].boxes for v in (one, again, other))
    assert (a == b).all() and not (a == c).all()


def test_bad_arguments_are_refused_naming_them():
    with pytest.raises(ValueError, match=r"scale must lie in \(0, 1\]"):
        DALIView(32, scale=(0.0, 1.0))
    with pytest.raises(ValueError, match="hflip must be a probability"):
        DALIView(32, hflip=1.5)
    with pytest.raises(ValueError, match="interpolation must be one of"):
        DALIView(32, interpolation="bilinear")
    with pytest.raises(ValueError, match="mean and std go together"):
        DALIView(32, mean=(0.5, 0.5, 0.5))
    with pytest.raises(TypeError, match="views must be a non-empty list of DALIView"):
        JointDALIViews([])
    with pytest.raises(ValueError, match="decode must be one of"):
        JointDALIViews([DALIView(8)] * 2, decode="roi")
    with pytest.raises(ValueError, match="blur is switched on but no view holds a blur transform"):
        JointDALIViews([DALIView(8)] * 2, blur=0.0)  # no view blurs: JointBlur would do nothing
    with pytest.raises(UnknownOptionError) as one:
        JointOptions.parse(blurr=0.0)
    with pytest.raises(UnknownOptionError) as err:
        JointDALIViews([DALIView(8)] * 2, blurr=0.0)
    assert str(err.value) == str(one.value)  # the one message of every entry point
    with pytest.raises(UnsupportedOptionError, match="DALI cannot honour reproducible=True: a DALI pipeline's"):
        JointDALIViews([DALIView(8)] * 2, reproducible=True, seed=0)
    views = JointDALIViews([DALIView(8)] * 4, seed=0, layout=[2, 2], multicrop="both")
    assert views.pairs == [(0, 1), (2, 3)] and views.options == JointOptions.parse(seed=0, multicrop="both")


# --------------------------------------------------------------------------------------------------
# Through DALI
# --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dali():
    return pytest.importorskip("nvidia.dali")


@pytest.fixture(scope="module")
def coordinate_folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("coords")
    (root / "all").mkdir()
    for i in range(8):
        coordinate_image().save(root / "all" / f"{i}.png")
    return root


def _run(views_fn, folder, batches: int = BATCHES, batch: int = BATCH, seed: int = 1):
    from nvidia.dali import fn, pipeline_def

    @pipeline_def(batch_size=batch, num_threads=2, device_id=None, seed=seed)
    def pipe():
        encoded, _ = fn.readers.file(file_root=str(folder))
        return tuple(views_fn(encoded))

    pipeline = pipe()
    pipeline.build()
    outputs = [[out.as_array() for out in pipeline.run()] for _ in range(batches)]
    return [np.concatenate([o[k] for o in outputs]) for k in range(len(outputs[0]))]


def _areas(views: np.ndarray) -> np.ndarray:
    """Box areas read off uint8 views of the coordinate image (a resized ramp stays linear)."""
    pixels = views.astype(np.float64)
    width = np.median(pixels[:, :, -1, 0] - pixels[:, :, 0, 0], axis=1) * OUT / (OUT - 1)
    height = np.median(pixels[:, -1, :, 1] - pixels[:, 0, :, 1], axis=1) * OUT / (OUT - 1)
    return np.maximum(width, 1.0) * np.maximum(height, 1.0)


@pytest.mark.parametrize("beta", [0.0, -1.0, None])
def test_views_read_back_follow_jc_beta(dali, coordinate_folder, beta):
    views = JointDALIViews([DALIView(OUT)] * 2, crop=beta, seed=2)
    first, second = _run(views, coordinate_folder)
    p = np.mean(_areas(second) / _areas(first) > 2)
    expected = independent_ratio_sf(2, 0.08, 1.0) if beta is None else joint_ratio_sf(2, 0.08, 1.0, JointSpec(beta))
    assert abs(p - expected) < 0.03, (p, expected)
    if beta is None:
        # Switched off, the views are distributed as DALI's own independent random_resized_crop pair.
        from nvidia.dali import fn

        def dali_own(encoded):
            image = fn.decoders.image(encoded)
            return [fn.random_resized_crop(image, size=OUT, random_area=(0.08, 1.0)) for _ in range(2)]

        theirs = _run(dali_own, coordinate_folder)
        assert abs(np.mean(_areas(theirs[1]) / _areas(theirs[0]) > 2) - p) < 0.03


def test_blur_and_colour_are_joint_and_applied_as_recorded(dali, coordinate_folder):
    jitter = DALIView(OUT, crop=False, color_jitter=(0.4, 0.0, 0.0, 0.0), color_prob=1.0, blur=0.5)
    views = JointDALIViews([jitter, jitter], crop=None, blur=0.0, color=-1.0, seed=4, record=True)
    first, _ = _run(views, coordinate_folder)
    records = list(views.records)[:BATCHES]  # the pipeline may have prefetched more batches than it returned
    factors = np.concatenate([np.stack([r.views[0].factors[:, 0], r.views[1].factors[:, 0]], 1) for r in records])
    sigmas = [np.concatenate([r.draw.views[v].slices[1].value.numpy() for r in records]) for v in range(2)]
    applied = np.concatenate([r.views[0].sigma > 0 for r in records])
    assert abs(np.mean(factors[:, 1] / factors[:, 0] > 1.2) - joint_ratio_sf(1.2, 0.6, 1.4, JointSpec(-1.0))) < 0.03
    assert abs(np.mean(sigmas[1] / sigmas[0] > 2) - joint_ratio_sf(2, 0.1, 2.0, JointSpec(0.0))) < 0.03
    assert abs(applied.mean() - 0.5) < 0.04
    # The pixels show the recorded brightness: the red ramp's right end is 255 * factor, clipped.
    ramp_end = first[:, OUT // 2, -1, 0].astype(np.float64)
    expected = np.clip(coordinate_image().getpixel((255, 96))[0] * factors[:, 0], 0, 255)
    unblurred = ~applied
    assert np.abs(ramp_end[unblurred] - expected[unblurred]).max() < 8


def test_reproducible_with_a_seed(dali, coordinate_folder):
    make = lambda: JointDALIViews([DALIView(OUT, hflip=0.5)] * 2, seed=9)  # noqa: E731
    a = _run(make(), coordinate_folder, batches=2)
    b = _run(make(), coordinate_folder, batches=2)
    assert all((x == y).all() for x, y in zip(a, b))


def test_normalised_views_are_float_chw(dali, coordinate_folder):
    view = DALIView(OUT, hflip=0.5, grayscale=0.5, solarize=0.5, mean=(0.5, 0.5, 0.5), std=(0.25, 0.25, 0.25))
    first, _ = _run(JointDALIViews([view, view], seed=0), coordinate_folder, batches=1, batch=16)
    assert first.shape == (16, 3, OUT, OUT) and first.dtype == np.float32
    assert -2.0 - 1e-6 <= first.min() and first.max() <= 2.0 + 1e-6


def test_jointaug_verify_reads_a_solo_dali_config_as_joint(dali, capsys):
    """`jointaug verify` on a solo YAML with data.format: dali: the views come from a DALI pipeline, made in
    this process (a DALI pipeline does not survive a fork), and read back as joint."""
    import json
    from pathlib import Path

    from jointaug_plugins.cli import main

    config = Path(__file__).resolve().parents[1] / "configs" / "solo" / "cifar" / "simclr_jointcrop.yaml"
    assert main(["verify", str(config), "data.format=dali", "--n", "500", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    crop = next(p for p in report["pairs"] if p["kind"] == "crop")
    assert crop["verdict"] == "joint" and report["workers"] == 0, report


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_gpu_views_match_the_cpu_boxes(dali, coordinate_folder):
    from nvidia.dali import fn, pipeline_def

    views = JointDALIViews([DALIView(OUT)] * 2, seed=3)

    @pipeline_def(batch_size=64, num_threads=2, device_id=0, seed=1)
    def pipe():
        encoded, _ = fn.readers.file(file_root=str(coordinate_folder))
        return tuple(views(encoded, device="mixed"))

    pipeline = pipe()
    pipeline.build()
    first, second = (out.as_cpu().as_array() for out in pipeline.run())
    p = np.mean(_areas(second) / _areas(first) > 2)
    assert 0.2 < p < 0.55
