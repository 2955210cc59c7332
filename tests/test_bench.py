"""`jointaug bench` runs end to end (small settings) and reports every figure."""

from __future__ import annotations

import json

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
