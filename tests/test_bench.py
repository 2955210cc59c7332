"""`jointaug bench` runs end to end (small settings) and reports every figure."""

from __future__ import annotations

import importlib.util
import json

import torch

from jointaug_plugins.cli import main


def test_bench_json_has_every_key(capsys):
    assert (
        main(
            [
                "bench",
                "--json",
                "--rounds",
                "1",
                "--calls",
                "5",
                "--images",
                "4",
                "--pipeline-images",
                "8",
                "--pipeline-rounds",
                "1",
            ]
        )
        == 0
    )
    result = json.loads(capsys.readouterr().out)
    for key in ("overhead_ratio", "sampler_us_per_pair", "tensor_speedup", "gpu_batch_speedup", "pipeline_ratio"):
        assert key in result
    assert result["overhead_ratio"] > 0 and result["sampler_us_per_pair"] > 0 and result["tensor_speedup"] > 0
    assert result["machine"]["cores"] >= 1 and result["machine"]["torch"]
    # lightly's recipes, crop alone and crop + blur + colour joint, each against lightly's own.
    for case in ("lightly_simclr", "lightly_simclr_all", "lightly_byol_all"):
        assert result[f"recipe_ratio_{case}"] > 0
    if importlib.util.find_spec("nvidia") and importlib.util.find_spec("nvidia.dali"):
        for key in ("dali_joint_ratio", "dali_full_decode_ratio", "dali_vs_pil", "dali_images_per_s"):
            assert result[key] > 0, key
        assert ("dali_gpu_vs_pil" in result) and (result["dali_gpu_vs_pil"] is None) != torch.cuda.is_available()
