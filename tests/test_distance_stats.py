"""`jointaug stats --distance` (the distance knob's sweep) and `jointaug preview --position`, run as a user runs them.

The knob's documented property (jointaug_plugins/placement.py): the mean distance between the two crop centres
falls monotonically as the correlation rises, and independent placement lies in between. The command measures it
with the batched path and says WARNING when it does not hold; these tests read its JSON and its pictures.
"""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
from images import write_image_folder

from jointaug_plugins.cli import main
from jointaug_plugins.tools.distance import (
    center_distances,
    check_knob,
    correlation_sweep,
    draw_pair_boxes,
)
from jointaug_plugins.tools.preview import middle_share, position_from_text

PNG = b"\x89PNG\r\n\x1a\n"


def run_json(capsys, *argv: str) -> tuple[dict, str]:
    """``jointaug ARGV --json``: the one JSON object it prints, and its stderr."""
    assert main([*argv, "--json"]) == 0
    out = capsys.readouterr()
    return json.loads(out.out), out.err  # json.loads fails on anything but one JSON document


def means_by_correlation(result: dict) -> list[tuple[float, float]]:
    return sorted((float(k), v["mean"]) for k, v in result["correlation"].items())


def assert_png(path) -> None:
    data = path.read_bytes()
    assert data[:8] == PNG and len(data) > 10_000, f"{path} is not a plotted PNG ({len(data)} bytes)"


def test_the_command_shows_the_knob_monotone_with_the_baseline_inside(capsys, tmp_path):
    plot = tmp_path / "sub" / "distance.png"
    result, err = run_json(capsys, "stats", "--distance", "--n", "2000", "--plot", str(plot))
    means = means_by_correlation(result)
    assert [r for r, _ in means] == [-1.0, -0.5, 0.0, 0.5, 1.0]
    assert all(a[1] > b[1] for a, b in itertools.pairwise(means)), means
    assert means[-1][1] < result["baseline"]["mean"] < means[0][1]
    assert result["monotone"] and result["baseline_inside"] and result["warnings"] == []
    assert "WARNING" not in err
    # Closer centres mean more close pairs: P(d < 0.1) is higher at ρ = 1 than at ρ = -1.
    close = {float(k): v["p_close"] for k, v in result["correlation"].items()}
    assert close[1.0] > close[-1.0]
    for summary in [result["baseline"], *result["correlation"].values()]:
        assert 0 <= summary["q10"] <= summary["median"] <= summary["q90"] <= 1
    assert result["n"] == 2000 and result["size"] == [375, 500] and result["crop_beta"] == 0.0
    assert result["plot"] == str(plot)
    assert_png(plot)


def test_independent_placement_is_the_knob_at_zero():
    summary, values = correlation_sweep((0.0, 1.0), n=20_000, seed=3)
    # Same uniforms (common random numbers); ρ = 0 with alpha = 1 differs from torchvision's placement only by
    # ContrastiveCrop's integer rounding of the offset, far below the spread of the distances.
    assert abs(summary["correlation"]["0"]["mean"] - summary["baseline"]["mean"]) < 0.003
    assert np.corrcoef(values["0"], values["baseline"])[0, 1] > 0.99


def test_center_suppression_widens_the_distances_and_the_options_reach_the_draws(capsys):
    plain, _ = run_json(capsys, "stats", "--distance", "--n", "2000", "--crop-beta", "none", "--size", "224", "224")
    placed, err = run_json(
        capsys, "stats", "--distance", "--n", "2000", "--crop-beta", "none", "--size", "224", "224", "--alpha", "0.3"
    )
    assert plain["crop_beta"] is None and plain["size"] == [224, 224] and placed["alpha"] == 0.3
    assert placed["monotone"] and "WARNING" not in err
    # Beta(0.3, 0.3) pushes each crop to the image's edges: at ρ = 0 (independent) the centres lie farther apart.
    assert placed["correlation"]["0"]["mean"] > plain["correlation"]["0"]["mean"] + 0.02
    # The baseline (position=None) does not depend on alpha.
    assert placed["baseline"] == plain["baseline"]
    boxed, _ = run_json(capsys, "stats", "--distance", "--n", "2000", "--box", "0.4", "0.4", "0.6", "0.6")
    # A small box in the middle holds the crops' centres near the middle: much closer than the whole image's.
    assert boxed["box"] == [0.4, 0.4, 0.6, 0.6]
    assert boxed["correlation"]["-1"]["mean"] < plain["correlation"]["-1"]["mean"] - 0.05


def test_the_table_names_each_placement_and_the_verdict(capsys):
    assert main(["stats", "--distance", "--n", "1000", "--correlations", "1", "-1", "0"]) == 0
    out = capsys.readouterr().out
    for name in ("position=None (baseline)", "correlation=-1", "correlation=0", "correlation=1", "P(d<0.1)"):
        assert name in out
    assert "fall monotonically" in out and "inside their range" in out


def test_a_sweep_that_misses_the_baseline_warns(capsys):
    # ρ in {0.5, 1} only: both put the centres closer than independent placement, so the baseline is outside.
    result, err = run_json(capsys, "stats", "--distance", "--n", "2000", "--correlations", "0.5", "1")
    assert not result["baseline_inside"] and result["monotone"]
    assert result["baseline"]["mean"] > max(m for _, m in means_by_correlation(result))
    warnings = [line for line in err.splitlines() if line.startswith("WARNING:")]
    assert len(warnings) == 1 and "outside" in warnings[0]


def test_the_check_flags_means_that_do_not_fall():
    means = {"-1": {"mean": 0.3}, "0": {"mean": 0.1}, "1": {"mean": 0.15}}
    verdict = check_knob({"baseline": {"mean": 0.2}, "correlation": means})
    assert not verdict["monotone"] and verdict["baseline_inside"]
    assert [w for w in verdict["warnings"] if "from correlation 0 (0.1000) to 1 (0.1500)" in w] == verdict["warnings"]
    verdict = check_knob({"baseline": {"mean": 0.35}, "correlation": means})
    assert not verdict["baseline_inside"] and len(verdict["warnings"]) == 2


def test_draws_are_reproducible_and_stay_inside_the_image():
    a = draw_pair_boxes(90, 120, 500, position={"alpha": 0.6, "correlation": 0.5}, seed=4)
    b = draw_pair_boxes(90, 120, 500, position={"alpha": 0.6, "correlation": 0.5}, seed=4)
    assert a.shape == (500, 2, 4) and bool((a == b).all())
    top, left, h, w = a.unbind(-1)
    assert bool(((top >= 0) & (left >= 0) & (top + h <= 90) & (left + w <= 120)).all())
    d = center_distances(a, 90, 120)
    assert d.min() >= 0 and d.max() <= 1


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--aug", "blur"], "--distance is defined for --aug crop only"),
        (["--correlations", "1.5", "0"], r"correlation must be in [-1, 1]"),
        (["--correlations", "0.5"], "at least two distinct values"),
        (["--alpha", "0"], "alpha must be > 0"),
        (["--box", "0.5", "0", "0.4", "1"], "0 <= h0 < h1 <= 1"),
        (["--beta", "1"], "--beta does not apply to --distance"),
    ],
)
def test_bad_distance_arguments_are_named(argv, message, capsys):
    assert main(["stats", "--distance", "--n", "100", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_distance_flags_without_distance_are_refused(capsys):
    assert main(["stats", "--n", "100", "--alpha", "0.6", "--crop-beta", "none"]) == 2
    assert "--alpha, --crop-beta apply only with --distance" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # argparse's own error for a value that is neither a number nor 'none'
        main(["stats", "--distance", "--crop-beta", "high"])
    assert "'none'" in capsys.readouterr().err


def test_preview_with_a_position_writes_its_png(tmp_path, capsys):
    images = write_image_folder(tmp_path / "images", 2, size=(90, 120))
    for spec, name in [("alpha=0.6,box=0.1:0.1:0.9:0.9,correlation=0.5", "a.png"), ('{"alpha": 0.3}', "b.png")]:
        out = tmp_path / "out" / name
        assert main(["preview", str(images), "--position", spec, "--n", "300", "-o", str(out)]) == 0
        assert capsys.readouterr().out.strip() == str(out)
        assert_png(out)


def test_preview_refuses_a_heat_map_size_without_a_position(tmp_path, capsys):
    assert main(["preview", "--n", "100", "-o", str(tmp_path / "p.png")]) == 2
    assert "--n applies only with --position" in capsys.readouterr().err


def test_the_preview_shows_centre_suppression():
    # What the preview's titles print: fewer crop centres in the middle ninth under Beta(0.3, 0.3).
    plain = draw_pair_boxes(300, 400, 4000, seed=1)
    placed = draw_pair_boxes(300, 400, 4000, position=position_from_text("alpha=0.3"), seed=1)
    assert middle_share(placed, 300, 400) < middle_share(plain, 300, 400) - 0.05


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("alpah=0.6", "unknown --position key 'alpah' (did you mean 'alpha'?)"),
        ("alpha=0", "--position: alpha must be > 0"),
        ("box=0.5:0:0.4:1", "--position: box must satisfy 0 <= h0 < h1 <= 1"),
        ("box=0.1:0.1:0.9", "--position: box must be 4 numbers"),
        ("correlation=2", "--position: correlation must be in [-1, 1]"),
        ("alpha", "'alpha' is not key=value"),
        ("alpha=0.6,alpha=0.5", "key 'alpha' is given twice"),
        ("boxes=semantic", "boxes='semantic' are set per image"),
        ('{"alpha": 0.6', "not a JSON dict"),
    ],
)
def test_bad_position_strings_name_the_key(spec, message, tmp_path, capsys):
    assert main(["preview", "--position", spec, "-o", str(tmp_path / "p.png")]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "p.png").exists()


def test_position_text_reads_as_the_dict_it_stands_for():
    assert position_from_text("alpha=0.6,box=0.1:0.2:0.9:0.8,correlation=-0.5") == position_from_text(
        '{"alpha": 0.6, "box": [0.1, 0.2, 0.9, 0.8], "correlation": -0.5}'
    )
    position = position_from_text(" alpha = 0.6 , correlation = none ")
    assert position.alpha == 0.6 and position.correlation is None and position.box is None
